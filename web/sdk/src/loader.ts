// The widget loader, part of kefu.js: draws the launcher bubble and loads
// the chat panel (kefu-widget.min.js, a separate bundle) the first time it
// opens. Everything lives in an open shadow root on <div id="kefu-widget">,
// styled with constructable stylesheets, so the page's CSS does not leak in
// and a page's Content-Security-Policy needs no 'unsafe-inline' for it.
import type { Emit } from "./session";
import type { KefuAPI, KefuOptions, KefuWidgetOptions } from "./types";
import { get, put } from "./store";

/** Where this script came from: the default base of the widget bundle and of the upload API. */
export const me = (document.currentScript as HTMLScriptElement | null)?.src || import.meta.url || location.href;

/** What the widget bundle gets from the loader (internal between kefu.js and kefu-widget.min.js of one build). */
export interface WidgetHost {
  kefu: KefuAPI;
  o: KefuOptions;
  w: KefuWidgetOptions;
  /** Base URL of the server's HTTP side (uploads): options.api or the origin of kefu.js. */
  api: string;
  root: ShadowRoot;
  launcher: HTMLButtonElement;
  /** The cursor of the current conversation: every seq up to it has been received. */
  seq(): number;
  css(root: ShadowRoot, text: string): void;
  icon(d: string): SVGSVGElement;
  /** Closes the panel and gives the focus back to the launcher (Esc, the close button). */
  close(): void;
}

/** The panel, as the bundle returns it. */
export interface WidgetView {
  show(focus: boolean): void;
  hide(): void;
  /** Unhooks the panel from the SDK and the page (Kefu.init again). */
  destroy(): void;
}

declare global {
  interface Window {
    /** Set by kefu-widget.min.js. */
    KefuWidget?: (h: WidgetHost) => WidgetView;
  }
}

/** The launcher as index.ts drives it. */
export interface Launcher {
  open(focus: boolean): void;
  close(): void;
  destroy(): void;
}

/** The launcher's icon (24×24). */
const CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";

const CSS =
  ".l{position:fixed;bottom:calc(20px + env(safe-area-inset-bottom,0px));right:20px;z-index:2147483000;width:56px;height:56px;" +
  "border:0;border-radius:50%;display:grid;place-items:center;background:var(--kefu-color,#2454d6);box-shadow:0 4px 14px #0004;cursor:pointer}" +
  ".l.left{right:auto;left:20px}.l svg{width:28px;fill:none;stroke:#fff;stroke-width:2}" +
  ".b{position:absolute;top:-4px;right:-4px;min-width:20px;border-radius:10px;background:#d93025;color:#fff;font:600 12px/20px sans-serif}.b:empty{display:none}";

const svgNS = "http://www.w3.org/2000/svg";

/** Trusted Types policy "kefu" for the bundle's URL, on pages that enforce them (CSP require-trusted-types-for). */
let policy: { createScriptURL(u: string): string } | undefined;

function scriptURL(u: string): string {
  const tt = (window as unknown as { trustedTypes?: { createPolicy(n: string, p: object): typeof policy } }).trustedTypes;
  if (tt && !policy) policy = tt.createPolicy("kefu", { createScriptURL: (x: string) => x });
  return policy ? policy.createScriptURL(u) : u;
}

function icon(d: string): SVGSVGElement {
  const s = document.createElementNS(svgNS, "svg");
  const p = document.createElementNS(svgNS, "path");
  s.setAttribute("viewBox", "0 0 24 24");
  s.setAttribute("aria-hidden", "true");
  p.setAttribute("d", d);
  s.appendChild(p);
  return s;
}

/** css adds a stylesheet to root: constructed where supported (no CSP 'unsafe-inline' needed), else a <style>. */
function css(root: ShadowRoot, text: string): void {
  if (root.adoptedStyleSheets && "replaceSync" in CSSStyleSheet.prototype) {
    const s = new CSSStyleSheet();
    s.replaceSync(text);
    root.adoptedStyleSheets = root.adoptedStyleSheets.concat(s);
  } else {
    const e = document.createElement("style");
    e.textContent = text;
    root.appendChild(e);
  }
}

/**
 * launcher shows the bubble for options.widget. The panel's open state is
 * kept in localStorage, so it stays open across the pages of a site.
 */
export function launcher(k: KefuAPI, o: KefuOptions, emit: Emit, seq: () => number): Launcher {
  const w: KefuWidgetOptions = typeof o.widget == "object" ? o.widget : {};
  const t = w.texts || {};
  const key = (o.storageKey || "kefu") + ":" + o.site + ":open";
  const host = document.createElement("div");
  const root = host.attachShadow({ mode: "open" });
  const b = document.createElement("button");
  const badge = document.createElement("span");
  let view: WidgetView | undefined;
  let loading = false;
  let shown = false;
  let unread = 0;
  host.id = "kefu-widget";
  if (w.color) host.style.setProperty("--kefu-color", w.color);
  css(root, CSS);
  b.type = "button";
  b.className = "l" + (w.position == "left" ? " left" : "");
  b.setAttribute("aria-haspopup", "dialog");
  b.setAttribute("aria-expanded", "false");
  badge.className = "b";
  badge.setAttribute("aria-hidden", "true");
  b.append(icon(CHAT), badge);
  root.appendChild(b);
  const label = () => {
    badge.textContent = unread ? String(unread) : "";
    b.setAttribute("aria-label", (shown ? t.close || "Close chat" : t.launcher || "Open chat") + (unread ? ", " + (t.unread || "{n} unread").replace("{n}", String(unread)) : ""));
  };
  label();
  const attach = () => document.body.appendChild(host);
  if (document.body) attach();
  else addEventListener("DOMContentLoaded", attach);

  const off = k.on("message", (m) => {
    if (!shown && !m.mine && m.kind != "event") {
      unread++;
      label();
    }
  });

  const h: WidgetHost = { kefu: k, o, w, api: o.api || new URL(me).origin, root, launcher: b, seq, css, icon, close: () => l.close() };

  /** load fetches the panel once; a failed load may be retried by opening again. */
  const load = (focus: boolean) => {
    if (view || loading) return;
    const ready = () => {
      loading = false;
      b.removeAttribute("aria-busy");
      view = window.KefuWidget!(h);
      if (shown) view.show(focus);
    };
    loading = true;
    b.setAttribute("aria-busy", "true");
    if (window.KefuWidget) return ready();
    const s = document.createElement("script");
    const u = w.src || new URL("kefu-widget.min.js", me).href;
    s.onerror = () => {
      loading = false;
      b.removeAttribute("aria-busy");
      l.close();
      emit("error", { code: "widget_failed", message: "kefu: cannot load " + u, retryable: true });
    };
    try {
      s.src = scriptURL(u);
    } catch (_) {
      // Trusted Types refused: reported like a failed load
      return s.onerror(u);
    }
    s.async = true;
    s.onload = ready;
    document.head.appendChild(s);
  };

  const l: Launcher = {
    open(focus) {
      shown = true;
      unread = 0;
      put(key, "1");
      b.setAttribute("aria-expanded", "true");
      label();
      if (view) view.show(focus);
      else load(focus);
    },
    close() {
      const was = shown;
      shown = false;
      put(key, "");
      b.setAttribute("aria-expanded", "false");
      label();
      if (view) view.hide();
      if (was) b.focus();
    },
    destroy() {
      off();
      if (view) view.destroy();
      removeEventListener("DOMContentLoaded", attach);
      host.remove();
    },
  };
  b.onclick = () => (shown ? l.close() : l.open(true));
  if (get(key) == "1") l.open(false);
  return l;
}
