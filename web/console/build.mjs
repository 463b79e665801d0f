// Builds the agent console into an output directory (build.mjs calls it
// with dist/console): index.html (copied), console.js (one minified IIFE
// bundle of src/main.ts) and console.css (minified). Output is
// deterministic, so TestBuildMatchesSources can compare it with the
// committed files.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export async function buildConsole(dir) {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const common = { absWorkingDir: here, bundle: true, minify: true, charset: "utf8", legalComments: "none", logLevel: "warning" };
  await Promise.all([
    build({ ...common, entryPoints: ["src/main.ts"], format: "iife", target: "es2020", platform: "browser", outfile: join(out, "console.js"), banner: { js: "/*! Kefu agent console */" } }),
    build({ ...common, entryPoints: ["console.css"], outfile: join(out, "console.css") }),
  ]);
  copyFileSync(join(here, "index.html"), join(out, "index.html"));
}
