// Browser driver for the Go browser tests (browser_test.go): launches
// Debian's Chromium through playwright-core, then reads one JSON command per
// line on stdin and writes one JSON answer per line on stdout:
//
//   {"id":1,"op":"page","page":"visitor","url":"http://..."}  new context (fresh storage), open url
//                                                   (optional "width","height": viewport, default 420x640)
//   {"id":2,"op":"goto","page":"visitor","url":"http://..."}  navigate (same storage)
//   {"id":3,"op":"eval","page":"visitor","expr":"..."}        value of a JS expression (awaited)
//   {"id":4,"op":"wait","page":"visitor","expr":"...","ms":N}  wait until the expression is truthy
//   {"id":5,"op":"shot","page":"visitor","path":"/tmp/x.png"}  screenshot (of the whole page; "viewport":true: what is on screen)
//   {"id":6,"op":"logs","page":"visitor"}                      console and WebSocket errors so far
//   {"id":7,"op":"press","page":"visitor","key":"Shift+Tab"}   a key press (trusted keyboard input)
//   {"id":8,"op":"type","page":"visitor","text":"hello"}       types into the focused element
//   {"id":9,"op":"click","page":"visitor","selector":"css"}    a real click (CSS pierces open shadow roots)
//   → {"id":N,"ok":true,"value":...} or {"id":N,"ok":false,"error":"..."}
//
// The first line written is {"ready":true,"browser":"<version>"}. End of
// stdin closes the browser and exits.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const out = (v) => process.stdout.write(JSON.stringify(v) + "\n");

const browser = await chromium.launch({
  executablePath: process.env.KEFU_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
});
const pages = new Map();

async function newPage(name, width, height) {
  const context = await browser.newContext({ viewport: { width: width || 420, height: height || 640 } });
  const page = await context.newPage();
  const logs = [];
  page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
  page.on("websocket", (ws) => {
    ws.on("socketerror", (e) => logs.push(`websocket ${ws.url()}: ${e}`));
  });
  const p = { context, page, logs };
  pages.set(name, p);
  return p;
}

function get(name) {
  const p = pages.get(name);
  if (!p) throw new Error(`no page ${name}`);
  return p;
}

async function run(c) {
  switch (c.op) {
    case "page": {
      if (pages.has(c.page)) await pages.get(c.page).context.close();
      const p = await newPage(c.page, c.width, c.height);
      await p.page.goto(c.url);
      return null;
    }
    case "goto":
      await get(c.page).page.goto(c.url);
      return null;
    case "eval":
      return await get(c.page).page.evaluate(c.expr);
    case "wait": {
      // Polls with evaluate: waitForFunction would eval() in the page,
      // which the test page's CSP forbids (as it should).
      const { page } = get(c.page);
      const end = Date.now() + (c.ms || 10000);
      for (;;) {
        const v = await page.evaluate(c.expr);
        if (v) return v;
        if (Date.now() > end) throw new Error(`timeout waiting for ${c.expr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    case "shot":
      await get(c.page).page.screenshot({ path: c.path, fullPage: !c.viewport });
      return null;
    case "logs":
      return get(c.page).logs;
    case "press":
      await get(c.page).page.keyboard.press(c.key);
      return null;
    case "type":
      await get(c.page).page.keyboard.type(c.text);
      return null;
    case "click":
      await get(c.page).page.locator(c.selector).click();
      return null;
    default:
      throw new Error(`unknown op ${c.op}`);
  }
}

out({ ready: true, browser: browser.version() });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let c;
  try {
    c = JSON.parse(line);
    out({ id: c.id, ok: true, value: (await run(c)) ?? null });
  } catch (e) {
    out({ id: c && c.id, ok: false, error: String((e && e.message) || e) });
  }
}
await browser.close();
