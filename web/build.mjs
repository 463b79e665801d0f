// Builds the visitor SDK into dist/ (or --outdir DIR): kefu.js and
// kefu.min.js (scripts that set window.Kefu), kefu.esm.js (ES module),
// kefu.d.ts (TypeScript declarations) and kefu-widget.min.js (the chat
// widget's panel). The output is committed; the Go test
// TestBuildMatchesSources rebuilds into a temporary directory and compares.
import { build, transform } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConsole } from "./console/build.mjs";

const root = dirname(fileURLToPath(import.meta.url));
const i = process.argv.indexOf("--outdir");
const out = resolve(i > 0 ? process.argv[i + 1] : join(root, "dist"));
const src = join(root, "sdk", "src");
const version = /VERSION = "([^"]+)"/.exec(readFileSync(join(src, "session.ts"), "utf8"))[1];
const banner = `/*! kefu.js ${version} - Kefu visitor SDK */`;

mkdirSync(out, { recursive: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  target: "es2017",
  platform: "browser",
  charset: "utf8",
  legalComments: "none",
  banner: { js: banner },
  logLevel: "warning",
  // The loader finds its own URL with import.meta.url in the ES module
  // (document.currentScript in the scripts, where import.meta is empty).
  supported: { "import-meta": true },
  logOverride: { "empty-import-meta": "silent" },
};
// Imported .css files become their minified text (the widget's stylesheet).
const cssText = {
  name: "css-text",
  setup(b) {
    b.onLoad({ filter: /\.css$/ }, async (a) => ({
      contents: (await transform(readFileSync(a.path, "utf8"), { loader: "css", minify: true })).code.trim(),
      loader: "text",
    }));
  },
};
await Promise.all([
  build({ ...common, entryPoints: ["sdk/src/global.ts"], format: "iife", outfile: join(out, "kefu.js") }),
  build({ ...common, entryPoints: ["sdk/src/global.ts"], format: "iife", minify: true, outfile: join(out, "kefu.min.js") }),
  build({ ...common, entryPoints: ["sdk/src/index.ts"], format: "esm", outfile: join(out, "kefu.esm.js") }),
  // The chat panel, loaded by kefu.js when the widget first opens.
  build({
    ...common,
    entryPoints: ["widget/src/index.ts"],
    format: "iife",
    minify: true,
    plugins: [cssText],
    banner: { js: `/*! kefu-widget.js ${version} - Kefu chat widget */` },
    outfile: join(out, "kefu-widget.min.js"),
  }),
]);

// types.ts holds declarations only, so it is a valid declaration file as it
// is; the API value and window.Kefu are declared after it.
const types = readFileSync(join(src, "types.ts"), "utf8").replace(/^\/\/.*\n/gm, "");
writeFileSync(
  join(out, "kefu.d.ts"),
  `${banner}\n${types}
/** The SDK: window.Kefu in the script builds, the default export of kefu.esm.js. */
export declare const Kefu: KefuAPI;
export default Kefu;

declare global {
  interface Window {
    Kefu: KefuAPI;
  }
}
`,
);

// The agent console (console/): dist/console/{index.html,console.js,console.css}.
await buildConsole(join(out, "console"));
