// DOM construction without HTML parsing. Every string becomes a Text node or
// an attribute value: nothing a visitor or an agent wrote is ever parsed as
// markup (the page's CSP also requires Trusted Types, so an innerHTML
// assignment would throw).

export type Child = Node | string | number | null | undefined | false | Child[];
type Attr = string | number | boolean | null | undefined | ((e: Event) => void);

/** h creates a <tag> with attributes (on* keys take listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, Attr> | null, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs![k];
    if (v == null || v === false) continue;
    if (typeof v == "function") {
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    } else if (k.startsWith("on")) {
      throw new Error("BUG: string handler " + k);
    } else if (k == "value") {
      // The default value too, so that form.reset() comes back to it.
      if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) el.defaultValue = String(v);
      (el as HTMLInputElement).value = String(v);
    } else if (k == "checked" || k == "disabled" || k == "selected") {
      (el as unknown as Record<string, boolean>)[k] = !!v;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  add(el, kids);
  return el;
}

function add(el: Node, kids: Child[]): void {
  for (const c of kids) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else el.appendChild(typeof c == "object" ? c : document.createTextNode(String(c)));
  }
}

/** fill replaces the children of el. */
export function fill(el: Node, ...kids: Child[]): void {
  el.textContent = "";
  add(el, kids);
}

/** byId returns the element with id, which the page must have. */
export function byId<T extends HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

/**
 * safeURL returns url when it is a same-origin path or an http(s) URL, and
 * "" otherwise (javascript:, data: and the like never reach an href).
 */
export function safeURL(url: string): string {
  try {
    const u = new URL(url, location.href);
    if (u.protocol == "http:" || u.protocol == "https:") return u.href;
  } catch (_) {
    // not a URL
  }
  return "";
}

/** ago formats a duration in ms as "45s", "3m 05s", "2h 10m", "3d". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return s + "s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + "m " + String(s % 60).padStart(2, "0") + "s";
  const hr = Math.floor(m / 60);
  if (hr < 48) return hr + "h " + String(m % 60).padStart(2, "0") + "m";
  return Math.floor(hr / 24) + "d";
}

/** clock formats a Unix ms time: the time today, else the date and time. */
export function clock(ts: number): string {
  if (!ts) return "";
  const d = new Date(ts);
  const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return d.toDateString() == new Date().toDateString() ? t : d.toLocaleDateString() + " " + t;
}

/** size formats a byte count. */
export function size(n: number): string {
  if (n < 1024) return n + " B";
  if (n < 1 << 20) return (n / 1024).toFixed(1) + " KiB";
  return (n / (1 << 20)).toFixed(1) + " MiB";
}

/** who turns a sender ("v:x", "a:y", "s:system") into a display name. */
export function who(sender: string, names: Record<string, string>): string {
  if (names[sender]) return names[sender];
  if (sender.startsWith("v:")) return "Visitor " + sender.slice(2);
  if (sender.startsWith("a:")) return sender.slice(2);
  return "System";
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;

/** toast shows text in the page's #toast for a few seconds. */
export function toast(text: string): void {
  const t = document.getElementById("toast");
  if (!t) return;
  t.textContent = text;
  t.className = "on";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.className = ""), 5000);
}
