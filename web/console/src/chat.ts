// The chat view: one conversation's history (paged back through REST as
// the agent scrolls up), live messages, pending sends, read ticks, the
// typing line, the composer with uploads and canned replies (/shortcut),
// and the claim, transfer and close actions. All text goes through
// textContent (dom.ts).
import { enc, msgError, pick, str, num } from "./api";
import type { Conv, Desk, Out } from "./desk";
import { clock, fill, h, safeURL, size, toast, who } from "./dom";
import type { Msg } from "./types";

/** Upload types the server accepts (CS.md uploads). */
const ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain";

interface Canned {
  shortcut: string;
  title: string;
  body: string;
}

export class Chat {
  el: HTMLElement;
  private c?: Conv;
  private title = h("h2", { id: "chat-title" });
  private badge = h("span", { id: "chat-state", class: "badge" });
  private sub = h("span", { class: "sub" });
  private actions = h("div", { class: "actions" });
  private transferTo = h("select", { id: "transfer-to", "aria-label": "Transfer to" });
  private scroll = h("div", { id: "scroll", class: "scroll" });
  private olderBtn = h("button", { id: "older", type: "button", class: "link" }, "Load earlier messages");
  private list = h("ol", { id: "msgs", "aria-live": "polite" });
  private typingLine = h("div", { id: "typing", class: "typing", "aria-live": "polite" });
  private cannedBox = h("div", { id: "canned", class: "canned", hidden: true });
  private text = h("textarea", { id: "text", rows: 2, placeholder: "Write a reply — /shortcut for a canned reply", "aria-label": "Message" });
  private file = h("input", { id: "file", type: "file", accept: ACCEPT, multiple: true, hidden: true });
  private canned?: Canned;
  private cannedCache = new Map<string, Canned | null>();
  private cannedTimer?: ReturnType<typeof setTimeout>;
  private loading = false;
  /** What the header was last drawn from. */
  private drawn = "";
  /** The next redraw scrolls to the bottom (the agent just sent something). */
  private stick = false;
  /** The view shows the newest messages: an image that loads keeps it so. */
  private pinned = true;
  /** Message elements by what they show, reused across redraws (images do not reload). */
  private cache = new Map<string, HTMLElement>();

  constructor(private desk: Desk) {
    this.olderBtn.addEventListener("click", () => this.loadOlder());
    this.scroll.addEventListener("scroll", () => {
      const sc = this.scroll;
      this.pinned = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 40;
      if (sc.scrollTop < 40 && this.c && this.c.base > 0) this.loadOlder();
    });
    const form = h(
      "form",
      { id: "composer", class: "composer" },
      h("button", { id: "attach", type: "button", title: "Send an image or a file", onclick: () => this.file.click() }, "Attach"),
      this.file,
      this.text,
      h("button", { id: "send", type: "submit" }, "Send"),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.text.addEventListener("keydown", (e) => {
      if ((e.key == "Enter" && !e.shiftKey && !e.isComposing) || (e.key == "Tab" && this.canned)) {
        e.preventDefault();
        if (this.canned) this.useCanned();
        else if (e.key == "Enter") this.submit();
      } else if (e.key == "Escape") this.showCanned(undefined, "");
    });
    this.text.addEventListener("input", () => this.input());
    this.text.addEventListener("paste", (e) => {
      const files = e.clipboardData ? [...e.clipboardData.files] : [];
      if (files.length) {
        e.preventDefault();
        this.upload(files);
      }
    });
    this.file.addEventListener("change", () => {
      this.upload([...(this.file.files || [])]);
      this.file.value = "";
    });
    this.scroll.append(this.olderBtn, this.list);
    this.el = h(
      "section",
      { id: "chat", class: "chat" },
      h("header", { class: "chat-head" }, h("a", { class: "back", href: "#/", title: "Back to the lists" }, "‹"), h("div", { class: "who" }, this.title, this.badge, this.sub), this.actions),
      this.scroll,
      this.typingLine,
      this.cannedBox,
      form,
    );
  }

  /** open shows c (undefined: nothing selected). */
  open(c?: Conv): void {
    this.c = c;
    this.cache.clear();
    this.text.value = "";
    this.showCanned(undefined, "");
    this.el.classList.toggle("empty", !c);
    this.update(true);
    if (c) {
      this.scroll.scrollTop = this.scroll.scrollHeight;
      this.desk.markRead(c);
      this.text.focus();
      if (c.msgs.size < 20 && c.base > 0) this.loadOlder();
    }
  }

  /** update redraws the view; the scroll position stays at the bottom, or where it was relative to the bottom. */
  update(head = true): void {
    const c = this.c;
    if (head) this.head();
    if (!c) {
      fill(this.list, h("li", { class: "hint" }, "Pick a conversation in the queue or in your list."));
      this.olderBtn.hidden = true;
      fill(this.typingLine);
      return;
    }
    const sc = this.scroll;
    const atBottom = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 40;
    const fromBottom = sc.scrollHeight - sc.scrollTop;
    const items: HTMLElement[] = [];
    if (c.err) items.push(h("li", { class: "hint error" }, "This conversation cannot be shown: ", c.err));
    const cache = new Map<string, HTMLElement>();
    for (const m of c.sorted()) {
      const key = m.seq + (m.sender == this.desk.me ? (m.seq <= c.theirRead ? "r" : "s") : "");
      const el = this.cache.get(key) || this.msg(c, m);
      cache.set(key, el);
      items.push(el);
    }
    this.cache = cache;
    for (const o of c.out) items.push(this.pending(c, o));
    if (!items.length) items.push(h("li", { class: "hint" }, c.joined ? "No messages yet." : "Loading…"));
    fill(this.list, items);
    this.el.classList.toggle("closed", c.meta.state == "closed");
    this.olderBtn.hidden = c.base <= 0;
    this.olderBtn.disabled = this.loading;
    this.pinned = atBottom || this.stick;
    sc.scrollTop = this.pinned ? sc.scrollHeight : sc.scrollHeight - fromBottom;
    this.stick = false;
    this.typing();
  }

  /** typing refreshes the typing line (also called by the inbox's clock). */
  typing(): void {
    const c = this.c;
    const on = c && c.typingAt && Date.now() - c.typingAt < 5000;
    fill(this.typingLine, on ? who(c!.typingWho, this.desk.names) + " is typing…" : "");
  }

  private head(): void {
    const c = this.c;
    const d = this.desk;
    if (!c) {
      this.drawn = "";
      fill(this.title, "No conversation selected");
      fill(this.badge);
      fill(this.sub);
      fill(this.actions);
      return;
    }
    const m = c.meta;
    const mine = d.mine.has(c.id);
    const closed = m.state == "closed";
    const key = JSON.stringify([c.id, m.visitor, m.state, m.group, m.agent, mine, d.agents.length, d.groups.length]);
    if (key == this.drawn) return;
    this.drawn = key;
    fill(this.title, m.visitor ? "Visitor " + m.visitor : "Conversation " + c.id);
    fill(this.badge, m.state || "…");
    this.badge.className = "badge " + (m.state || "");
    fill(this.sub, [m.group && "group " + m.group, m.agent && "agent " + who("a:" + m.agent, d.names)].filter((x) => x).join(" · "));
    const opts: HTMLElement[] = [h("option", { value: "" }, "Transfer to…")];
    const agents = d.agents.filter((a) => a.id != d.agent.id);
    if (agents.length) opts.push(h("optgroup", { label: "Agents" }, agents.map((a) => h("option", { value: "a:" + a.id }, a.name || a.id))));
    if (d.groups.length) opts.push(h("optgroup", { label: "Groups" }, d.groups.map((g) => h("option", { value: "g:" + g }, g))));
    const keep = this.transferTo.value;
    fill(this.transferTo, opts);
    this.transferTo.value = keep;
    fill(
      this.actions,
      !mine && !closed && h("button", { id: "claim-this", type: "button", onclick: () => this.claim() }, "Claim"),
      !closed && [this.transferTo, h("button", { id: "transfer", type: "button", onclick: () => this.transfer() }, "Transfer")],
      !closed && confirmButton("close-conv", "Close", "Close it?", () => this.close()),
    );
  }

  private msg(c: Conv, m: Msg): HTMLElement {
    const d = this.desk;
    if (m.kind == "event") return h("li", { class: "sys", "data-seq": m.seq }, system(m, d.names), " · ", clock(m.ts));
    const mine = m.sender == d.me;
    const cls = mine ? "msg mine" : m.sender.startsWith("a:") ? "msg agent" : "msg them";
    const el = h(
      "li",
      { class: cls, "data-seq": m.seq },
      h("div", { class: "meta" }, mine ? "You" : who(m.sender, d.names), " ", h("time", null, clock(m.ts))),
      body(m.kind, m.body),
      mine && (m.seq <= c.theirRead ? h("span", { class: "tick read", title: "Read by the visitor" }, "✓✓") : h("span", { class: "tick", title: "Delivered" }, "✓")),
    );
    for (const img of el.querySelectorAll("img"))
      img.addEventListener("load", () => {
        if (this.pinned) this.scroll.scrollTop = this.scroll.scrollHeight;
      });
    return el;
  }

  private pending(c: Conv, o: Out): HTMLElement {
    const live = this.desk.live.state == "online";
    return h(
      "li",
      { class: "msg mine pending " + o.state, "data-cid": o.cid },
      h("div", { class: "meta" }, "You"),
      body(o.kind, o.body),
      o.state == "failed"
        ? h(
            "div",
            { class: "state error" },
            "Not sent: ",
            o.error || "refused",
            " ",
            h("button", { type: "button", class: "link", onclick: () => this.desk.retry(c, o.cid) }, "Retry"),
            h("button", { type: "button", class: "link", onclick: () => this.desk.discard(c, o.cid) }, "Discard"),
          )
        : h("div", { class: "state" }, o.state == "sending" ? "Sending…" : live ? "Waiting…" : "Waiting for the connection…"),
    );
  }

  private async loadOlder(): Promise<void> {
    const c = this.c;
    if (!c || this.loading || c.base <= 0) return;
    this.loading = true;
    this.olderBtn.disabled = true;
    try {
      await this.desk.older(c);
    } catch (e) {
      toast("Could not load earlier messages: " + msgError(e));
    } finally {
      this.loading = false;
      if (this.c == c) this.update(false);
    }
  }

  private submit(): void {
    const c = this.c;
    const t = this.text.value.trim();
    if (!c || !t) return;
    this.stick = true;
    this.desk.send(c, "text", t);
    this.text.value = "";
    this.showCanned(undefined, "");
  }

  private input(): void {
    const c = this.c;
    const v = this.text.value;
    if (c && v && v[0] != "/") this.desk.typing(c);
    const m = /^\/([^\s/]{1,64})$/.exec(v);
    clearTimeout(this.cannedTimer);
    if (!m) return this.showCanned(undefined, "");
    const sc = m[1];
    if (this.cannedCache.has(sc)) return this.showCanned(this.cannedCache.get(sc) || undefined, sc);
    this.cannedTimer = setTimeout(async () => {
      let found: Canned | null = null;
      try {
        const r = await this.desk.api.get("/canned/by-shortcut/" + enc(sc));
        const o = pick(r, "canned") || r;
        const b = str(pick(o, "body"));
        if (b) found = { shortcut: str(pick(o, "shortcut")) || sc, title: str(pick(o, "title")), body: b };
      } catch (_) {
        found = null; // not_found: no such shortcut
      }
      this.cannedCache.set(sc, found);
      if (this.text.value == "/" + sc) this.showCanned(found || undefined, sc);
    }, 150);
  }

  private showCanned(cn: Canned | undefined, sc: string): void {
    this.canned = cn;
    this.cannedBox.hidden = !sc;
    if (!sc) return;
    fill(
      this.cannedBox,
      cn ? [h("kbd", null, "Tab"), " /", cn.shortcut, cn.title ? " — " + cn.title : "", ": ", h("span", { class: "preview" }, cn.body)] : ["No canned reply /", sc],
    );
  }

  private useCanned(): void {
    if (!this.canned) return;
    this.text.value = this.canned.body;
    this.showCanned(undefined, "");
    this.text.focus();
  }

  private async upload(files: File[]): Promise<void> {
    const c = this.c;
    if (!c) return;
    for (const f of files) {
      if (!ACCEPT.split(",").includes(f.type)) {
        toast(f.name + ": this kind of file cannot be sent (" + (f.type || "unknown type") + ")");
        continue;
      }
      toast("Uploading " + f.name + "…");
      try {
        const u = await this.desk.api.upload(f);
        // The server names the file by its hash: the agent's name for it reads better.
        const meta = { url: u.url, name: f.name || u.name, size: u.size || f.size, type: u.type || f.type };
        if (this.c == c) this.stick = true;
        this.desk.send(c, meta.type.startsWith("image/") ? "image" : "file", JSON.stringify(meta));
        toast(f.name + " sent");
      } catch (e) {
        toast(f.name + ": " + msgError(e));
      }
    }
  }

  private async claim(): Promise<void> {
    const c = this.c;
    if (!c) return;
    try {
      await this.desk.claim(c.id);
    } catch (e) {
      toast("Claim failed: " + msgError(e));
    }
  }

  private async transfer(): Promise<void> {
    const c = this.c;
    const v = this.transferTo.value;
    if (!c || !v) return;
    try {
      await this.desk.transfer(c, v.startsWith("a:") ? { agent: v.slice(2) } : { group: v.slice(2) });
      toast("Transferred");
      this.transferTo.value = "";
    } catch (e) {
      toast("Transfer failed: " + msgError(e));
    }
  }

  private async close(): Promise<void> {
    const c = this.c;
    if (!c) return;
    try {
      await this.desk.close(c);
    } catch (e) {
      toast("Close failed: " + msgError(e));
    }
  }
}

/** body renders a message body: text, or the JSON of an image or a file. */
export function body(kind: string, text: string): HTMLElement {
  if (kind == "image" || kind == "file") {
    let f: Record<string, unknown> = {};
    try {
      f = JSON.parse(text) || {};
    } catch (_) {
      f = {};
    }
    const url = safeURL(str(f.url));
    const name = str(f.name) || "file";
    if (url && kind == "image")
      return h("div", { class: "body image" }, h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, h("img", { src: url, alt: name, loading: "lazy" })), h("div", { class: "file" }, name, " · ", size(num(f.size))));
    if (url) return h("div", { class: "body" }, h("a", { class: "file", href: url, download: name, target: "_blank", rel: "noopener noreferrer" }, "📄 ", name), " · ", size(num(f.size)));
  }
  return h("div", { class: "body" }, text);
}

/** system renders a stored system message (CS.md §4). */
export function system(m: Msg, names: Record<string, string>): string {
  let b: Record<string, unknown>;
  try {
    b = JSON.parse(m.body) || {};
  } catch (_) {
    return m.body;
  }
  const agent = (k: string) => str(b.name) || who("a:" + str(b[k]), names);
  switch (b.type) {
    case "assigned":
      return "Assigned to " + agent("agent");
    case "transferred":
      return "Transferred from " + who("a:" + str(b.from), names) + " to " + agent("agent");
    case "queued":
      return "Back in the queue" + (b.group ? " of group " + str(b.group) : "");
    case "closed":
      return "Closed by " + (str(b.by) == "s:system" ? "the system" : who(str(b.by), names));
    case "rated":
      return "Rated " + "★".repeat(Math.max(0, Math.min(5, num(b.rating)))) + " (" + num(b.rating) + "/5)";
  }
  return m.body;
}

/** confirmButton asks once more before act: the first click arms it for 4 s. */
export function confirmButton(id: string, label: string, again: string, act: () => void): HTMLButtonElement {
  let armed: ReturnType<typeof setTimeout> | undefined;
  const b = h("button", { id, type: "button", class: "danger" }, label);
  b.addEventListener("click", () => {
    if (armed) {
      clearTimeout(armed);
      armed = undefined;
      b.textContent = label;
      act();
      return;
    }
    b.textContent = again;
    armed = setTimeout(() => {
      armed = undefined;
      b.textContent = label;
    }, 4000);
  });
  return b;
}
