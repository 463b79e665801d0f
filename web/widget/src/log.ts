// The message list (role="log"): one <li> per message, ordered by seq, the
// visitor's unacknowledged messages last. Messages are keyed by seq and, for
// the visitor's own, by client_msg_id, so a message that arrives twice
// (live, in a resumed page, in fetched history) is shown once. Every text
// of a visitor or an agent goes in with textContent.
import { button, h, safeURL, size } from "./dom";
import type { Text } from "./texts";

/** A message to show: a MESSAGE envelope, or the visitor's own before its ACK (seq 0). */
export interface Msg {
  seq: number;
  sender: string;
  kind: string;
  body: string;
  ts?: number;
  id?: string;
  mine: boolean;
}

interface Item {
  li: HTMLLIElement;
  seq: number;
  mine: boolean;
  sender: string;
  id?: string;
  tick?: HTMLElement;
  failed?: boolean;
}

/** A file message's body (CS contract: image and file messages). */
interface Attachment {
  url?: string;
  name?: string;
  size?: number;
  type?: string;
}

export class Log {
  readonly el: HTMLOListElement;
  private items: Item[] = [];
  private bySeq: Record<number, Item> = {};
  private byId: Record<string, Item> = {};
  /** The agent has read up to this seq. */
  private readTo = 0;

  constructor(
    private t: Text,
    private api: string,
    /** The display name of an agent sender ("a:<id>"). */
    private who: (sender: string) => string,
    /** Called with the client_msg_id of a failed message the visitor wants to send again. */
    private retry: (id: string) => void,
  ) {
    this.el = h("ol", "g", "", { role: "log", "aria-live": "polite", "aria-label": t("messages"), tabindex: "0" });
  }

  /** clear empties the list, keeping the greeting. */
  clear(greeting?: string): void {
    this.el.textContent = "";
    this.items = [];
    this.bySeq = {};
    this.byId = {};
    this.readTo = 0;
    if (greeting) this.el.appendChild(h("li", "m them gr", greeting));
  }

  has(seq: number): boolean {
    return !!this.bySeq[seq];
  }

  /** add shows m unless it is there already; true when it is new. */
  add(m: Msg): boolean {
    if (m.seq && this.bySeq[m.seq]) return false;
    const old = m.id ? this.byId[m.id] : undefined;
    if (old) {
      // Our own message, committed: it moves to its place.
      if (m.seq) this.acked(m.id as string, m.seq);
      return false;
    }
    const it: Item = { li: h("li"), seq: m.seq, mine: m.mine, sender: m.sender, id: m.id };
    if (m.kind == "event") {
      const s = this.system(m.body);
      if (!s) return false;
      it.li.className = "sys";
      it.li.textContent = s;
    } else {
      it.li.className = "m " + (m.mine ? "me" : "them");
      const prev = this.before(m.seq);
      if (!m.mine && (!prev || prev.sender != m.sender)) it.li.appendChild(h("span", "who", this.who(m.sender)));
      it.li.appendChild(this.content(m));
      const meta = h("span", "meta");
      if (m.ts) {
        const d = new Date(m.ts);
        meta.appendChild(h("time", "", d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }), { datetime: d.toISOString() }));
      }
      if (m.mine) {
        it.tick = h("span", "tk", "", { role: "img" });
        meta.appendChild(it.tick);
      }
      it.li.appendChild(meta);
    }
    if (m.id) this.byId[m.id] = it;
    if (m.seq) this.bySeq[m.seq] = it;
    this.place(it);
    this.mark(it);
    return true;
  }

  /** acked gives the visitor's message id its seq. */
  acked(id: string, seq: number): void {
    const it = this.byId[id];
    if (!it || it.seq == seq) return;
    it.seq = seq;
    it.failed = false;
    this.bySeq[seq] = it;
    this.items.splice(this.items.indexOf(it), 1);
    this.place(it);
    this.mark(it);
  }

  /** failed marks the visitor's message id as given up, with a retry button. */
  failed(id: string): void {
    const it = this.byId[id];
    if (!it || it.seq) return;
    it.failed = true;
    this.mark(it);
  }

  /** read marks the visitor's messages up to seq as read by the agent. */
  read(seq: number): void {
    if (seq <= this.readTo) return;
    this.readTo = seq;
    for (const it of this.items) if (it.mine && it.seq && it.seq <= seq) this.mark(it);
  }

  /** text returns the text of the visitor's message id (for a retry). */
  text(id: string): string {
    const it = this.byId[id];
    const b = it && it.li.querySelector(".tx");
    return (b && b.textContent) || "";
  }

  /** drop removes the visitor's message id (sent again under another id). */
  drop(id: string): void {
    const it = this.byId[id];
    if (!it) return;
    delete this.byId[id];
    this.items.splice(this.items.indexOf(it), 1);
    it.li.remove();
  }

  /** scroll shows the newest message. */
  scroll(): void {
    this.el.scrollTop = this.el.scrollHeight;
  }

  /** before returns the item shown before seq (seq 0: the end). */
  private before(seq: number): Item | undefined {
    const k = this.index(seq);
    return this.items[k - 1];
  }

  /** index is where an item of seq goes: after every lower seq; unacknowledged (0) at the end. */
  private index(seq: number): number {
    let k = this.items.length;
    if (seq) while (k > 0 && (!this.items[k - 1].seq || this.items[k - 1].seq > seq)) k--;
    return k;
  }

  private place(it: Item): void {
    const k = this.index(it.seq);
    const next = this.items[k];
    this.items.splice(k, 0, it);
    this.el.insertBefore(it.li, next ? next.li : null);
  }

  /** mark sets the delivery tick of the visitor's message: sending, sent, read, or failed. */
  private mark(it: Item): void {
    const tk = it.tick;
    if (!tk) return;
    const st = it.failed ? "failed" : !it.seq ? "sending" : it.seq <= this.readTo ? "read" : "sent";
    tk.className = "tk " + st;
    tk.setAttribute("aria-label", this.t(st));
    tk.title = this.t(st);
    tk.textContent = st == "read" ? "✓✓" : st == "sent" ? "✓" : st == "sending" ? "…" : "!";
    const r = it.li.querySelector(".rt");
    if (it.failed && !r) {
      const b = button("rt", this.t("retry"), this.t("retry"));
      b.onclick = () => this.retry(it.id as string);
      it.li.appendChild(b);
    } else if (!it.failed && r) r.remove();
  }

  /** content renders a message body: text, an image of the server, or a link to a file of the server. */
  private content(m: Msg): HTMLElement {
    if (m.kind == "image" || m.kind == "file") {
      let a: Attachment = {};
      try {
        a = JSON.parse(m.body) || {};
      } catch (_) {
        // not an attachment body: shown as text below
      }
      const url = safeURL(a.url, this.api);
      const name = typeof a.name == "string" && a.name ? a.name : m.kind;
      if (url) {
        const link = h("a", "att", "", { href: url, target: "_blank", rel: "noopener noreferrer" });
        if (m.kind == "image") link.appendChild(h("img", "", "", { src: url, alt: name, loading: "lazy" }));
        else {
          link.setAttribute("download", "");
          link.textContent = name + (typeof a.size == "number" ? " · " + size(a.size) : "");
        }
        return link;
      }
      return h("span", "tx", name);
    }
    return h("span", "tx", m.body);
  }

  /** system returns the line shown for a system message, "" for one not shown. */
  private system(body: string): string {
    let b: { type?: string; agent?: string; name?: string; rating?: number };
    try {
      b = JSON.parse(body) || {};
    } catch (_) {
      return "";
    }
    const name = b.name || this.who("a:" + (b.agent || ""));
    switch (b.type) {
      case "assigned":
        return this.t("joined", { name });
      case "transferred":
        return this.t("transferred", { name });
      case "queued":
        return this.t("requeued");
      case "closed":
        return this.t("closed");
    }
    return "";
  }
}
