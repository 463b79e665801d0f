// The inbox: the queue of my groups (waiting times, Claim), my
// conversations (unread counts, last message), the chat view and the
// visitor panel.
import { enc, msgError } from "./api";
import { Chat } from "./chat";
import type { Desk } from "./desk";
import { ago, clock, fill, h, toast } from "./dom";
import { Panel } from "./panel";

export class Inbox {
  shown = false;
  private el: HTMLElement;
  private queueList = h("ul", { id: "queue-list", class: "list" });
  private mineList = h("ul", { id: "mine-list", class: "list" });
  private queueCount = h("span", { class: "count" });
  private mineCount = h("span", { class: "count" });
  private chat: Chat;
  private panel: Panel;
  private tick?: ReturnType<typeof setInterval>;
  /** The chat view shows desk.view (false after the admin pages). */
  private chatShown = false;

  constructor(
    private desk: Desk,
    private main: HTMLElement,
  ) {
    this.chat = new Chat(desk);
    this.panel = new Panel(desk);
    const claimNext = h("button", { id: "claim-next", type: "button", onclick: () => this.claim() }, "Claim next");
    this.el = h(
      "div",
      { id: "inbox", class: "inbox" },
      h(
        "aside",
        { id: "lists", class: "lists" },
        h("section", { id: "queue" }, h("h2", null, "Queue ", this.queueCount, claimNext), this.queueList),
        h("section", { id: "mine" }, h("h2", null, "My conversations ", this.mineCount), this.mineList),
      ),
      this.chat.el,
      this.panel.el,
    );
  }

  /** show puts the inbox on screen with conversation id open ("" for none). */
  show(id: string): void {
    const d = this.desk;
    if (!this.shown) {
      this.shown = true;
      fill(this.main, this.el);
      this.tick = setInterval(() => this.clock(), 1000);
    }
    if (id == d.view && this.chatShown) return this.update(new Set(["queue", "mine"]));
    const old = d.view;
    d.view = id;
    if (old) d.release(old);
    this.chatShown = true;
    this.el.classList.toggle("has-chat", !!id);
    const c = id ? d.conv(id) : undefined;
    if (c) d.hold(id);
    this.chat.open(c);
    this.panel.open(c);
    this.renderQueue();
    this.renderMine();
  }

  hide(): void {
    if (!this.shown) return;
    this.shown = this.chatShown = false;
    clearInterval(this.tick);
    const old = this.desk.view;
    this.desk.view = "";
    if (old) this.desk.release(old);
  }

  update(d: Set<string>): void {
    if (d.has("queue")) this.renderQueue();
    if (d.has("mine")) this.renderMine();
    const v = this.desk.view;
    if (v && d.has(v)) {
      this.chat.update();
      this.panel.update();
    } else if (d.has("agents") || d.has("live")) this.chat.update();
    this.title();
  }

  private renderQueue(): void {
    const d = this.desk;
    const items = [...d.queue.values()].sort((a, b) => a.position - b.position || a.since - b.since);
    fill(this.queueCount, items.length ? "(" + items.length + ")" : "");
    fill(
      this.queueList,
      items.length
        ? items.map((q) =>
            h(
              "li",
              { class: "qitem" + (q.conversation == d.view ? " on" : ""), "data-conv": q.conversation },
              h(
                "a",
                { href: "#/c/" + enc(q.conversation) },
                h("strong", null, q.visitor ? "Visitor " + q.visitor : q.conversation),
                h("span", { class: "wait", "data-since": q.since, title: "Waiting time" }, ago(Date.now() - q.since)),
                h("span", { class: "sub" }, [q.group && "group " + q.group, "#" + q.position + " in line"].filter((x) => x).join(" · ")),
              ),
              h("button", { type: "button", class: "claim", onclick: () => this.claim(q.conversation) }, "Claim"),
            ),
          )
        : h("li", { class: "hint" }, "Nobody is waiting."),
    );
  }

  private renderMine(): void {
    const d = this.desk;
    const convs = [...d.mine].map((id) => d.conv(id));
    convs.sort((a, b) => (b.last()?.ts || b.meta.last_ts) - (a.last()?.ts || a.meta.last_ts));
    fill(this.mineCount, convs.length ? "(" + convs.length + ")" : "");
    fill(
      this.mineList,
      convs.length
        ? convs.map((c) => {
            const last = c.last();
            const n = c.unread(d.me);
            const typing = c.typingAt && Date.now() - c.typingAt < 5000;
            const preview = typing ? "typing…" : last ? (last.sender == d.me ? "You: " : "") + short(last.kind, last.body) : c.meta.last_body;
            return h(
              "li",
              { class: "conv" + (c.id == d.view ? " on" : "") + (n ? " unread" : ""), "data-conv": c.id },
              h(
                "a",
                { href: "#/c/" + enc(c.id) },
                h("strong", null, c.meta.visitor ? "Visitor " + c.meta.visitor : c.id),
                h("span", { class: "unread", title: "Unread messages" }, n || ""),
                h("time", null, clock(last ? last.ts : c.meta.last_ts)),
                h("span", { class: "preview" + (typing ? " typing" : "") }, preview || ""),
              ),
            );
          })
        : h("li", { class: "hint" }, "No open conversations."),
    );
  }

  /** clock ticks waiting times and typing lines. */
  private clock(): void {
    const now = Date.now();
    for (const el of this.queueList.querySelectorAll<HTMLElement>(".wait")) el.textContent = ago(now - Number(el.dataset.since));
    this.chat.typing();
  }

  private title(): void {
    const d = this.desk;
    let n = 0;
    for (const id of d.mine) n += d.conv(id).unread(d.me);
    const total = n + d.queue.size;
    document.title = (total ? "(" + total + ") " : "") + "Kefu console";
  }

  private async claim(id?: string): Promise<void> {
    try {
      const conv = await this.desk.claim(id);
      if (conv) location.hash = "#/c/" + enc(conv);
      else toast("Nobody is waiting");
    } catch (e) {
      toast("Claim failed: " + msgError(e));
    }
  }
}

/** short is a one-line preview of a message. */
function short(kind: string, body: string): string {
  if (kind == "image") return "[image]";
  if (kind == "file") {
    try {
      return "[file] " + (JSON.parse(body).name || "");
    } catch (_) {
      return "[file]";
    }
  }
  return body.length > 90 ? body.slice(0, 90) + "…" : body;
}
