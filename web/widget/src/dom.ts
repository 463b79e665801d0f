// DOM helpers. Text always goes in with textContent; attribute values come
// from constants or from URLs checked by safeURL.

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string, attrs?: Record<string, string>): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

/** A button with an accessible name; icon-only buttons show the name as a tooltip too. */
export function button(cls: string, label: string, child?: Node | string): HTMLButtonElement {
  const b = h("button", cls, typeof child == "string" ? child : "", { type: "button" });
  if (child && typeof child != "string") {
    b.appendChild(child);
    b.setAttribute("aria-label", label);
    b.title = label;
  }
  return b;
}

/**
 * safeURL returns the absolute URL of a file on the Kefu server (api
 * origin, under /files/), or "" for anything else: images and links in
 * messages never point elsewhere, nor at javascript: or data: URLs.
 */
export function safeURL(u: unknown, api: string): string {
  if (typeof u != "string") return "";
  try {
    const x = new URL(u, api);
    return x.origin == new URL(api).origin && x.pathname.indexOf("/files/") == 0 ? x.href : "";
  } catch (_) {
    return "";
  }
}

/** size formats a byte count. */
export function size(n: number): string {
  return n < 1024 ? n + " B" : n < 1048576 ? Math.round(n / 1024) + " KB" : (n / 1048576).toFixed(1) + " MB";
}

/** focusables lists what Tab can reach inside el, in order. */
export function focusables(el: HTMLElement): HTMLElement[] {
  return Array.prototype.filter.call(
    el.querySelectorAll("button,a[href],input,textarea,select,[tabindex]"),
    (x: HTMLElement) => x.tabIndex >= 0 && !(x as HTMLButtonElement).disabled && x.getClientRects().length > 0,
  ) as HTMLElement[];
}
