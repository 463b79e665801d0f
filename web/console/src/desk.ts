// The desk: what the console knows and keeps in sync — the queue, my
// conversations, every held conversation's messages, cursor, pending sends
// and read cursors — over one Live connection, with REST for listings and
// history. The UI reads it and is told what changed through onChange.
//
// Nothing lost, nothing doubled: messages are kept by seq (a repeat is
// dropped); each held conversation has a cursor (every seq up to it was
// received) sent in HELLO on every reconnect, so the server replays what
// was missed, and a page cut short (more) is completed with REPLAY; sends
// wait in a queue with their client_msg_id and are resent with the same id
// until ACKed (the server stores a resend once), or settled by their own
// MESSAGE coming back.
import { API, enc, list, next, normMeta, normMsg, pick, q, str, num } from "./api";
import { Live, WSError, type LiveState } from "./live";
import type { Agent, Env, Meta, Msg } from "./types";

/** A message of mine not yet acknowledged. */
export interface Out {
  cid: string;
  kind: string;
  body: string;
  at: number;
  state: "queued" | "sending" | "failed";
  error?: string;
}

/** A waiting conversation of one of my groups. */
export interface QItem {
  conversation: string;
  visitor: string;
  group: string;
  position: number;
  /** Unix ms it entered the queue. */
  since: number;
}

/** One conversation as the console holds it. */
export class Conv {
  id: string;
  meta: Meta;
  msgs = new Map<number, Msg>();
  out: Out[] = [];
  /** Every seq in (base, cursor] has been received. */
  cursor = 0;
  /** Seqs at or below base were never asked for: older history (REST). */
  base = 0;
  private above = new Set<number>();
  /** Subscribed on this connection / JOIN or resume under way. */
  joined = false;
  joining = false;
  /** Kept subscribed: mine, or open in the chat view. */
  held = false;
  /** The conversation's metadata was fetched (REST). */
  loaded = false;
  myRead = 0;
  theirRead = 0;
  typingAt = 0;
  typingWho = "";
  /** Why it cannot be shown (not_found, forbidden). */
  err = "";

  constructor(id: string) {
    this.id = id;
    this.meta = normMeta({ id });
  }

  /** add keeps m unless its seq is known; true when it was new. */
  add(m: Msg): boolean {
    if (!m.seq || this.msgs.has(m.seq)) return false;
    this.msgs.set(m.seq, m);
    if (m.seq > this.cursor) {
      this.above.add(m.seq);
      while (this.above.delete(this.cursor + 1)) this.cursor++;
    }
    if (m.seq > this.meta.last_seq) {
      this.meta.last_seq = m.seq;
      this.meta.last_ts = m.ts;
      this.meta.last_body = m.body;
      this.meta.last_sender = m.sender;
    }
    return true;
  }

  /** sorted returns the messages in seq order. */
  sorted(): Msg[] {
    return [...this.msgs.values()].sort((a, b) => a.seq - b.seq);
  }

  /** low is the lowest seq held (0 when none). */
  low(): number {
    let l = 0;
    for (const s of this.msgs.keys()) if (!l || s < l) l = s;
    return l;
  }

  /** unread counts others' messages after my read cursor. */
  unread(me: string): number {
    let n = 0;
    for (const m of this.msgs.values()) if (m.seq > this.myRead && m.sender != me && m.kind != "event") n++;
    return n;
  }

  last(): Msg | undefined {
    let l: Msg | undefined;
    for (const m of this.msgs.values()) if (m.kind != "event" && (!l || m.seq > l.seq)) l = m;
    return l;
  }
}

/** rid returns n random base-36 characters. */
export function rid(n: number): string {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  let s = "";
  for (const x of b) s += (x % 36).toString(36);
  return s;
}

/** JOIN and REPLAY page size, and the newest page fetched when a conversation is first held. */
const PAGE = 200;
const FIRST = 200;

export class Desk {
  readonly me: string;
  readonly agent: Agent;
  readonly api: API;
  readonly live: Live;
  convs = new Map<string, Conv>();
  mine = new Set<string>();
  queue = new Map<string, QItem>();
  /** My presence: online, away or offline. */
  status = "offline";
  /** Display names by sender ("a:id" → name). */
  names: Record<string, string> = {};
  agents: Agent[] = [];
  groups: string[] = [];
  /** The conversation in the chat view. */
  view = "";
  /** Called with what changed: "queue", "mine", "status", "live", "agents", or a conversation id. */
  onChange: (what: Set<string>) => void = () => {};
  /** A problem to show briefly. */
  onNotice: (text: string) => void = () => {};
  private dirty = new Set<string>();
  private flushTimer?: ReturnType<typeof setTimeout>;
  private queueTimer?: ReturnType<typeof setTimeout>;
  private typed = 0;

  constructor(agent: Agent, site: string, api: API, wsurl: string, onAuth: () => void) {
    this.agent = agent;
    this.me = "a:" + agent.id;
    this.api = api;
    this.names[this.me] = agent.name || agent.id;
    this.live = new Live(
      { url: wsurl, site, user: agent.id, token: api.token, cursors: () => this.cursors() },
      {
        welcome: (e) => this.welcome(e),
        push: (e) => this.push(e),
        state: (s) => this.state(s),
        auth: onAuth,
      },
    );
    document.addEventListener("visibilitychange", () => this.view && this.markRead(this.conv(this.view)));
  }

  start(): void {
    this.live.start();
    this.loadAgents();
  }

  stop(): void {
    this.live.stop();
    clearTimeout(this.flushTimer);
    clearTimeout(this.queueTimer);
  }

  changed(what: string): void {
    this.dirty.add(what);
    // My conversations' list shows each one's last message and unread count.
    if (this.mine.has(what)) this.dirty.add("mine");
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      const d = this.dirty;
      this.dirty = new Set();
      this.onChange(d);
    });
  }

  conv(id: string): Conv {
    let c = this.convs.get(id);
    if (!c) {
      c = new Conv(id);
      this.convs.set(id, c);
    }
    return c;
  }

  private cursors(): { conversation: string; seq: number }[] {
    const out: { conversation: string; seq: number }[] = [];
    for (const c of this.convs.values()) {
      if (!c.held || c.err) continue;
      out.push({ conversation: c.id, seq: c.cursor });
      // HELLO resumes it: the JOINED without id completes it.
      c.joining = true;
    }
    return out;
  }

  // ---- connection -------------------------------------------------------

  private welcome(e: Env): void {
    this.status = e.status || "online";
    this.changed("status");
    // Held conversations that missed the HELLO's cursors join now.
    for (const c of this.convs.values()) this.join(c);
    this.loadMine();
    this.loadQueue();
  }

  private state(s: LiveState): void {
    if (s != "online") {
      for (const c of this.convs.values()) {
        c.joined = c.joining = false;
        c.typingAt = 0;
        for (const o of c.out) if (o.state == "sending") o.state = "queued";
        this.changed(c.id);
      }
      if (s != "connecting") this.status = "offline";
    }
    this.changed("live");
    this.changed("status");
  }

  private push(e: Env): void {
    const id = e.conversation || "";
    switch (e.type) {
      case "message":
        if (id) this.message(this.conv(id), e);
        return;
      case "joined":
        if (id) this.joined(this.conv(id), e);
        return;
      case "event":
        if (id) this.event(this.conv(id), e);
        return;
      case "notice":
        this.notice(e);
        return;
      case "status":
        this.status = e.status || this.status;
        this.changed("status");
        return;
      case "error": {
        const c = id ? this.convs.get(id) : undefined;
        if (c && c.joining && (e.error?.code == "not_found" || e.error?.code == "forbidden")) {
          // A HELLO resume refused: the conversation is gone or not ours to see.
          c.err = e.error?.message || e.error.code;
          c.held = c.joining = false;
          this.changed(c.id);
          return;
        }
        if (e.error?.message) this.onNotice(e.error.message);
        return;
      }
    }
  }

  // ---- conversations ------------------------------------------------------

  /** hold keeps id subscribed: fetch its metadata, choose where history starts, JOIN. */
  async hold(id: string): Promise<Conv> {
    const c = this.conv(id);
    if (c.held && !c.err) return c;
    c.held = true;
    c.err = "";
    if (!c.loaded) await this.loadMeta(c);
    if (!c.msgs.size && !c.cursor) await this.newest(c);
    this.join(c);
    return c;
  }

  /**
   * newest loads the newest page of a conversation seen for the first
   * time (REST), so that the JOIN asks only for what follows it and older
   * pages are fetched as the agent scrolls up. Without the REST history
   * the JOIN starts at the beginning.
   */
  private async newest(c: Conv): Promise<void> {
    let msgs: Msg[];
    let more: boolean;
    try {
      const r = await this.api.get("/conversations/" + enc(c.id) + "/messages" + q({ limit: FIRST }));
      msgs = list(r, "messages").map(normMsg).filter((m) => m.seq > 0);
      more = !!next(r);
    } catch (_) {
      return;
    }
    if (c.msgs.size || c.cursor || !msgs.length) return; // the stream came first
    const min = Math.min(...msgs.map((m) => m.seq));
    c.cursor = c.base = min - 1;
    for (const m of msgs) {
      c.add(m);
      // Without the REST metadata, the page's system messages tell the state.
      if (m.kind == "event") this.system(c, m, !c.loaded);
      if (!c.meta.visitor && m.sender.startsWith("v:")) c.meta.visitor = m.sender.slice(2);
    }
    if (!more) c.base = 0;
    this.changed(c.id);
  }

  /** release stops following id unless it is mine or in view. */
  release(id: string): void {
    const c = this.convs.get(id);
    if (!c || this.mine.has(id) || this.view == id || !c.held) return;
    c.held = false;
    if (c.joined) this.live.send({ type: "leave", conversation: id });
    c.joined = c.joining = false;
  }

  async loadMeta(c: Conv): Promise<void> {
    try {
      const r = await this.api.get("/conversations/" + enc(c.id));
      this.setMeta(c, pick(r, "conversation") && typeof r.conversation == "object" ? r.conversation : r);
    } catch (e) {
      // Without the REST metadata the conversation still works over the stream.
    }
  }

  setMeta(c: Conv, raw: unknown): void {
    const m = normMeta(raw);
    if (!m.id) return;
    // What the stream already told us is newer than a listing.
    if (c.meta.last_seq > m.last_seq) {
      m.last_seq = c.meta.last_seq;
      m.last_ts = c.meta.last_ts;
      m.last_body = c.meta.last_body;
      m.last_sender = c.meta.last_sender;
    }
    c.meta = m;
    c.loaded = true;
    for (const r of m.reads) {
      if (r.who == this.me) c.myRead = Math.max(c.myRead, r.seq);
      else if (r.who.startsWith("v:")) c.theirRead = Math.max(c.theirRead, r.seq);
    }
    this.changed(c.id);
  }

  private join(c: Conv): void {
    if (this.live.state != "online" || c.joined || c.joining || !c.held) return;
    c.joining = true;
    this.live
      .request({ type: "join", conversation: c.id, seq: c.cursor, limit: PAGE })
      .then((e) => this.joined(c, e))
      .catch((e: WSError) => {
        c.joining = false;
        if (!e.retryable) {
          c.err = e.message;
          c.held = false;
          this.changed(c.id);
        }
      });
  }

  private joined(c: Conv, e: Env): void {
    c.joining = false;
    c.joined = true;
    if (e.state) c.meta.state = e.state;
    if (e.more || (e.seq || 0) > c.cursor) this.catchUp(c);
    this.flush(c);
    this.markRead(c);
    this.changed(c.id);
  }

  /** catchUp pages with REPLAY until the cursor reaches the end. */
  private async catchUp(c: Conv): Promise<void> {
    for (let i = 0; i < 1000 && c.joined; i++) {
      let end: Env;
      try {
        end = await this.live.request({ type: "replay", conversation: c.id, seq: c.cursor, limit: PAGE });
      } catch (_) {
        return; // the reconnect resumes from the cursor
      }
      if (!end.more) return;
    }
  }

  private message(c: Conv, e: Env): void {
    const m: Msg = { seq: e.seq || 0, sender: e.sender || "", kind: e.kind || "text", body: e.body || "", ts: e.ts || 0, cid: e.client_msg_id };
    const news = m.seq > c.cursor; // not a page of older history (REPLAY)
    if (!c.add(m)) return;
    if (!c.meta.visitor && m.sender.startsWith("v:")) c.meta.visitor = m.sender.slice(2);
    if (m.sender == this.me && m.cid) this.settle(c, m.cid);
    if (m.kind == "event") this.system(c, m, news);
    if (m.sender != this.me && m.sender == c.typingWho) c.typingAt = 0;
    this.markRead(c);
    this.changed(c.id);
  }

  /**
   * system learns from a stored system message (CS.md visitor stream §4):
   * the agent's display name, and, when the message is news (live or
   * resumed, not history paged in), the conversation's new state.
   */
  private system(c: Conv, m: Msg, news = true): void {
    let b: Record<string, unknown>;
    try {
      b = JSON.parse(m.body);
    } catch (_) {
      return;
    }
    const agent = str(b.agent);
    if (agent && b.name) this.names["a:" + agent] = str(b.name);
    if (!news) return;
    switch (b.type) {
      case "assigned":
      case "transferred":
        c.meta.state = "open";
        c.meta.agent = agent;
        break;
      case "queued":
        c.meta.state = "queued";
        c.meta.agent = "";
        c.meta.group = str(b.group) || c.meta.group;
        break;
      case "closed":
        c.meta.state = "closed";
        c.meta.closed_by = str(b.by);
        c.meta.closed_at = m.ts;
        break;
      case "rated":
        c.meta.rating = num(b.rating);
        break;
    }
  }

  private event(c: Conv, e: Env): void {
    const from = e.sender || "";
    if (e.event == "typing" && from != this.me) {
      c.typingAt = Date.now();
      c.typingWho = from;
      setTimeout(() => this.changed(c.id), 5100);
    } else if (e.event == "read") {
      if (from == this.me) c.myRead = Math.max(c.myRead, e.seq || 0);
      else if (from.startsWith("v:")) c.theirRead = Math.max(c.theirRead, e.seq || 0);
    } else return;
    this.changed(c.id);
  }

  /** markRead reports the cursor as read when the conversation is on screen. */
  markRead(c: Conv): void {
    if (c.id != this.view || document.hidden || !c.joined || c.cursor <= c.myRead) return;
    if (this.live.send({ type: "event", conversation: c.id, event: "read", seq: c.cursor })) {
      c.myRead = c.cursor;
      this.changed(c.id);
      this.changed("mine");
    }
  }

  /** typing tells the others I am typing, at most every 2 s. */
  typing(c: Conv): void {
    const now = Date.now();
    if (!c.joined || now - this.typed < 2000) return;
    this.typed = now;
    this.live.send({ type: "event", conversation: c.id, event: "typing" });
  }

  // ---- sending ------------------------------------------------------------

  send(c: Conv, kind: string, body: string): void {
    c.out.push({ cid: "c-" + rid(16), kind, body, at: Date.now(), state: "queued" });
    this.changed(c.id);
    this.flush(c);
  }

  /** flush sends what waits, in order, when the conversation is joined. */
  flush(c: Conv): void {
    if (!c.joined || this.live.state != "online") return;
    for (const o of c.out) {
      if (o.state != "queued") continue;
      o.state = "sending";
      this.live
        .request({ type: "send", conversation: c.id, client_msg_id: o.cid, kind: o.kind, body: o.body })
        .then((a) => {
          c.add({ seq: a.seq || 0, sender: this.me, kind: o.kind, body: o.body, ts: a.ts || Date.now(), cid: o.cid });
          this.settle(c, o.cid);
          this.changed(c.id);
          this.changed("mine");
        })
        .catch((e: WSError) => {
          if (!c.out.includes(o)) return;
          if (e.retryable) {
            o.state = "queued";
            setTimeout(() => this.flush(c), 1000);
          } else {
            o.state = "failed";
            o.error = e.message;
          }
          this.changed(c.id);
        });
    }
    this.changed(c.id);
  }

  private settle(c: Conv, cid: string): void {
    c.out = c.out.filter((o) => o.cid != cid);
  }

  retry(c: Conv, cid: string): void {
    for (const o of c.out) if (o.cid == cid && o.state == "failed") o.state = "queued";
    this.flush(c);
  }

  discard(c: Conv, cid: string): void {
    this.settle(c, cid);
    this.changed(c.id);
  }

  /** older loads the page before the oldest message held (REST, or REPLAY when REST has no history). */
  async older(c: Conv, limit = 50): Promise<void> {
    const low = c.low() || c.base + 1;
    if (low <= 1) {
      c.base = 0;
      return;
    }
    let msgs: Msg[];
    let more = true;
    try {
      const r = await this.api.get("/conversations/" + enc(c.id) + "/messages" + q({ before: low, limit }));
      msgs = list(r, "messages").map(normMsg);
      more = !!next(r);
    } catch (e) {
      if (this.live.state != "online") throw e;
      // The stream holds the same log: REPLAY the page before low.
      const from = Math.max(0, low - 1 - limit);
      const got: Msg[] = [];
      await this.live.request({ type: "replay", conversation: c.id, seq: from, limit: low - 1 - from });
      for (let s = from + 1; s < low; s++) {
        const m = c.msgs.get(s);
        if (m) got.push(m);
      }
      msgs = got;
    }
    let min = low;
    for (const m of msgs) {
      if (m.seq && m.seq < low) {
        c.msgs.has(m.seq) || c.msgs.set(m.seq, m);
        if (m.kind == "event") this.system(c, m, false);
        min = Math.min(min, m.seq);
      }
    }
    c.base = msgs.length && more ? min - 1 : 0;
    this.changed(c.id);
  }

  // ---- routing --------------------------------------------------------------

  private notice(e: Env): void {
    const id = e.conversation || "";
    if (!id) return;
    switch (e.event) {
      case "assigned":
        this.queue.delete(id);
        this.assigned(id, e);
        break;
      case "unassigned":
        this.mine.delete(id);
        this.release(id);
        break;
      case "queue":
        if ((e.position || 0) > 0) {
          const old = this.queue.get(id);
          this.queue.set(id, {
            conversation: id,
            visitor: (e.sender || "").replace(/^v:/, "") || old?.visitor || "",
            group: e.group || old?.group || "",
            position: e.position || 0,
            since: old ? old.since : Date.now(),
          });
        } else this.queue.delete(id);
        this.refreshQueue();
        break;
      case "closed":
        this.conv(id).meta.state = "closed";
        this.mine.delete(id);
        this.release(id);
        this.changed(id);
        break;
    }
    this.changed("queue");
    this.changed("mine");
  }

  private assigned(id: string, e: Env): void {
    const c = this.conv(id);
    if (e.sender && !c.meta.visitor) c.meta.visitor = e.sender.replace(/^v:/, "");
    if (e.group) c.meta.group = e.group;
    c.meta.state = "open";
    c.meta.agent = this.agent.id;
    this.mine.add(id);
    this.hold(id);
    this.changed("mine");
  }

  async claim(id?: string): Promise<string> {
    const ok = await this.live.request({ type: "claim", conversation: id || undefined });
    const conv = ok.conversation || id || "";
    if (conv) {
      this.queue.delete(conv);
      this.assigned(conv, ok);
    }
    this.changed("queue");
    return conv;
  }

  async transfer(c: Conv, to: { agent?: string; group?: string }): Promise<void> {
    await this.live.request({ type: "transfer", conversation: c.id, ...to });
    if (to.agent != this.agent.id) {
      this.mine.delete(c.id);
      this.changed("mine");
    }
  }

  async close(c: Conv): Promise<void> {
    await this.live.request({ type: "close", conversation: c.id });
    c.meta.state = "closed";
    this.mine.delete(c.id);
    this.changed(c.id);
    this.changed("mine");
  }

  async setStatus(s: string): Promise<void> {
    await this.live.request({ type: "status", status: s });
    this.status = s;
    this.changed("status");
  }

  // ---- listings (REST) -----------------------------------------------------

  /** loadMine lists my open conversations (a listing page may be short: follow next, within reason). */
  async loadMine(): Promise<void> {
    let cursor = "";
    for (let pages = 0; pages < 50; pages++) {
      let r;
      try {
        r = await this.api.get("/conversations" + q({ state: "open", agent: this.agent.id, limit: 200, cursor }));
      } catch (_) {
        return; // assigned notices still fill the list
      }
      for (const raw of list(r, "conversations")) {
        const m = normMeta(raw);
        if (!m.id || (m.agent && m.agent != this.agent.id)) continue;
        const c = this.conv(m.id);
        this.setMeta(c, raw);
        this.mine.add(m.id);
        this.hold(m.id);
      }
      this.changed("mine");
      cursor = next(r);
      if (!cursor) return;
    }
  }

  /** refreshQueue reloads the queue soon (notices come in bursts). */
  refreshQueue(): void {
    clearTimeout(this.queueTimer);
    this.queueTimer = setTimeout(() => this.loadQueue(), 300);
  }

  async loadQueue(): Promise<void> {
    let r;
    try {
      r = await this.api.get("/queue");
    } catch (_) {
      return; // queue notices still fill it
    }
    const now = Date.now();
    const next = new Map<string, QItem>();
    for (const raw of list(r, "queue", "conversations", "waiting")) {
      const inner = pick(raw, "conversation");
      const m = normMeta(inner && typeof inner == "object" ? inner : raw);
      const id = m.id || str(inner);
      if (!id) continue;
      const wait = num(pick(raw, "waiting_ms", "wait_ms", "waitingMs", "waiting"));
      next.set(id, {
        conversation: id,
        visitor: m.visitor || str(pick(raw, "visitor")),
        group: m.group || str(pick(raw, "group")),
        position: num(pick(raw, "position")) || next.size + 1,
        since: wait ? now - wait : m.queued_at || this.queue.get(id)?.since || now,
      });
    }
    this.queue = next;
    this.changed("queue");
  }

  async loadAgents(): Promise<void> {
    try {
      const [a, g] = await Promise.all([this.api.get("/agents" + q({ limit: 500 })), this.api.get("/groups")]);
      this.agents = list(a, "agents").map((x) => {
        const ag = { id: str(pick(x, "id")), name: str(pick(x, "name")) } as Agent;
        this.names["a:" + ag.id] = ag.name || ag.id;
        return ag;
      });
      this.groups = list(g, "groups")
        .map((x) => (typeof x == "string" ? x : str(pick(x, "id", "name"))))
        .filter((x) => x);
    } catch (_) {
      // transfer then offers the groups of the agent only
      this.groups = this.agent.groups.slice();
    }
    this.changed("agents");
  }
}
