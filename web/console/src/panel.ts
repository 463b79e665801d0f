// The visitor panel beside the chat: who the visitor is (REST
// /visitors/{id}: tags, first and last seen, device or client string,
// conversation count), this conversation's details, and the visitor's
// previous conversations.
import { enc, list, msgError, normMeta, num, pick, str } from "./api";
import type { Conv, Desk } from "./desk";
import { clock, fill, h } from "./dom";

export class Panel {
  el = h("aside", { id: "panel", class: "panel" });
  private c?: Conv;
  private visitor = "";
  private info = h("div", { id: "visitor-info" });
  private convInfo = h("div", { id: "conv-info" });
  private history = h("div", { id: "visitor-history" });
  private drawn = "";

  constructor(private desk: Desk) {
    fill(this.el, this.info, this.convInfo, this.history);
  }

  open(c?: Conv): void {
    this.c = c;
    this.visitor = "";
    this.drawn = "";
    fill(this.info);
    fill(this.history);
    this.update();
  }

  /** update redraws the conversation part and loads the visitor once known. */
  update(): void {
    const c = this.c;
    if (!c) {
      fill(this.convInfo);
      return;
    }
    const m = c.meta;
    const key = JSON.stringify([c.id, m.state, m.group, m.agent, m.tags, m.rating, m.created, m.closed_by]);
    if (key != this.drawn) {
      this.drawn = key;
      fill(
        this.convInfo,
        h("h3", null, "Conversation"),
        dl([
          ["Id", c.id],
          ["State", m.state],
          ["Group", m.group],
          ["Agent", m.agent && (this.desk.names["a:" + m.agent] || m.agent)],
          ["Started", clock(m.created)],
          ["Tags", m.tags.join(", ")],
          ["Rating", m.rating ? m.rating + "/5" + (m.comment ? " — " + m.comment : "") : ""],
        ]),
      );
    }
    if (m.visitor && m.visitor != this.visitor) {
      this.visitor = m.visitor;
      this.load(c, m.visitor);
    }
  }

  private async load(c: Conv, id: string): Promise<void> {
    fill(this.info, h("h3", null, "Visitor"), dl([["Id", id]]));
    const api = this.desk.api;
    const [v, hist] = await Promise.allSettled([api.get("/visitors/" + enc(id)), api.get("/visitors/" + enc(id) + "/conversations")]);
    if (this.c != c) return;
    if (v.status == "fulfilled") {
      const o = pick(v.value, "visitor") || v.value;
      const tags = pick(o, "tags");
      const ts = (k: string, k2: string) => {
        const t = pick(o, k, k2);
        return typeof t == "string" && isNaN(Number(t)) ? clock(Date.parse(t)) : clock(num(t));
      };
      fill(
        this.info,
        h("h3", null, "Visitor"),
        dl([
          ["Id", id],
          ["Name", str(pick(o, "name"))],
          ["Verified", pick(o, "verified") === true ? "yes" : pick(o, "verified") === false ? "no" : ""],
          ["Tags", Array.isArray(tags) ? tags.map(str).join(", ") : ""],
          ["First seen", ts("first_seen", "firstSeen")],
          ["Last seen", ts("last_seen", "lastSeen")],
          ["Device", str(pick(o, "client", "device", "user_agent", "userAgent"))],
          ["Conversations", str(pick(o, "conversations", "conversation_count", "conversationCount"))],
        ]),
      );
    } else fill(this.info, h("h3", null, "Visitor"), dl([["Id", id]]), h("p", { class: "muted" }, "Details unavailable: ", msgError(v.reason)));
    if (hist.status == "fulfilled") {
      const items = list(hist.value, "conversations")
        .map(normMeta)
        .filter((m) => m.id);
      fill(
        this.history,
        h("h3", null, "Conversations"),
        items.length
          ? h(
              "ul",
              { class: "history" },
              items.map((m) =>
                h(
                  "li",
                  { class: m.id == c.id ? "on" : "" },
                  h("a", { href: "#/c/" + enc(m.id) }, clock(m.created) || m.id),
                  " ",
                  h("span", { class: "badge " + m.state }, m.state),
                  m.last_body && h("div", { class: "preview" }, m.last_body),
                ),
              ),
            )
          : h("p", { class: "muted" }, "None"),
      );
    } else fill(this.history);
  }
}

/** dl renders label/value pairs, leaving out the empty ones. */
function dl(rows: [string, string][]): HTMLElement {
  return h(
    "dl",
    null,
    rows.filter((r) => r[1]).map((r) => [h("dt", null, r[0]), h("dd", null, r[1])]),
  );
}
