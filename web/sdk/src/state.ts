// The conversation's routing state as the visitor sees it, derived from the
// envelopes of the current conversation (the CS contract's visitor stream):
// JOINED (state, agent, group, position), EVENT "queue" (position) and the
// stored system messages (kind "event", body JSON: assigned, transferred,
// queued, closed, rated). JOINED is authoritative as of its seq; system
// messages at or below that seq (history fetched later) only supply the
// display name of the agent already known, and the rating.
import type { Envelope, KefuConversationState } from "./types";

export class Tracker {
  cur?: KefuConversationState;
  /** The seq the current state is as of. */
  private at = 0;

  /** see applies e if it concerns conversation c; it returns the new state when something changed. */
  see(e: Envelope, c?: string): KefuConversationState | undefined {
    if (!c || e.conversation != c) return;
    if (!this.cur || this.cur.conversation != c) this.reset();
    const x: KefuConversationState = this.cur || { conversation: c, state: "" };
    const seq = e.seq || 0;
    let p: Partial<KefuConversationState> | undefined;
    if (e.type == "joined") {
      this.at = Math.max(this.at, seq);
      p = { state: e.state || x.state, agent: e.agent, group: e.group, position: e.position, name: e.agent == x.agent ? x.name : undefined };
    } else if (e.event == "queue") p = { state: "queued", position: e.position };
    else if (e.type == "message" && e.kind == "event") {
      let b: { type?: string; agent?: string; name?: string; group?: string; by?: string; rating?: number };
      try {
        b = JSON.parse(e.body || "");
      } catch (_) {
        return;
      }
      const t = b.type;
      const who = t == "assigned" || t == "transferred";
      if (t == "rated") p = { rating: b.rating };
      else if (seq <= this.at) p = who && b.agent == x.agent ? { name: b.name } : undefined;
      else {
        this.at = seq;
        p = who
          ? { state: "open", agent: b.agent, name: b.name, position: undefined }
          : t == "queued"
            ? { state: "queued", group: b.group, agent: undefined, name: undefined }
            : t == "closed"
              ? { state: "closed", by: b.by, position: undefined }
              : undefined;
      }
    }
    if (!p) return;
    const y: KefuConversationState = Object.assign({}, x, p);
    // Fields set to undefined are left out by JSON.stringify: the same state compares equal.
    if (JSON.stringify(y) != JSON.stringify(this.cur)) return (this.cur = y);
  }

  /** reset forgets the state (a new conversation starts from zero). */
  reset(): void {
    this.cur = undefined;
    this.at = 0;
  }
}
