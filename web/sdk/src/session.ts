// The visitor session: one connection at a time, HELLO → WELCOME → OPEN →
// JOINED, the send queue, cursors and de-duplication, reconnects, heartbeats
// and the switch to a fallback transport. Everything runs on the page's
// event loop: handlers, timers and API calls never overlap.
import type {
  Envelope,
  KefuError,
  KefuEventMap,
  KefuOptions,
  KefuStatus,
  Transport,
  TransportFactory,
} from "./types";
import { get, load, put, rid, type Saved } from "./store";
import { websocket } from "./ws";
import { longpoll } from "./longpoll";

export const VERSION = "1.0.0";

export type Emit = <K extends keyof KefuEventMap>(k: K, v: KefuEventMap[K]) => void;

/** A request waiting for its answer: type, time sent, client_msg_id. */
interface Req {
  t: string;
  at: number;
  i?: string;
}

export class Session {
  st: KefuStatus = "idle";
  user: string;
  d: Saved;
  private key: string;
  private o: KefuOptions;
  private emit: Emit;
  private t?: Transport;
  /** Transport in use: 0 WebSocket, 1 the fallback. */
  private ti = 0;
  /** Attempts in a row on this transport that never reached WELCOME. */
  private fails = 0;
  /** Reconnects since the last WELCOME: the backoff exponent. */
  private tries = 0;
  /** Our identity from WELCOME ("v:<user>"); empty until then. */
  private me = "";
  private n = 0;
  private pend: Record<number, Req> = {};
  /** client_msg_ids sent on this connection and not yet answered. */
  private sent: Record<string, 1> = {};
  /** Seqs seen above each conversation's cursor (out of order or own ACKs). */
  private seen: Record<string, Record<number, 1>> = {};
  /** A conversation is wanted (open or send was called, or one is stored). */
  private want = false;
  /** OPEN in flight / conversation subscribed on this connection. */
  private opening = false;
  private joined = false;
  private dead = false;
  /** Time of connect, of the last envelope received, of the last ping, of the last typing event. */
  private at = 0;
  private rx = 0;
  private pinged = 0;
  private typed = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private probe?: ReturnType<typeof setTimeout>;
  private hb?: ReturnType<typeof setInterval>;
  private waiters: [(c: string) => void, (e: Error) => void][] = [];
  private wake: () => void;

  constructor(opts: KefuOptions, emit: Emit) {
    // Defaults for the options left out (or given as undefined or null).
    const o: KefuOptions = (this.o = { fallback: "auto", fallbackAfter: 2, retryMin: 500, retryMax: 30000, heartbeat: 30000, timeout: 10000, storageKey: "kefu" } as KefuOptions);
    for (const k in opts) {
      const v = opts[k as keyof KefuOptions];
      if (v != null) (o as unknown as Record<string, unknown>)[k] = v;
    }
    this.emit = emit;
    const p = o.storageKey + ":" + o.site + ":";
    let u = o.user;
    if (!u) {
      u = get(p + "uid") || "v-" + rid(12);
      put(p + "uid", u);
    }
    this.user = u;
    this.key = p + u;
    this.d = load(this.key);
    // Back on screen or on the network: reconnect now rather than at the
    // end of the backoff, and check a connection that may have died.
    this.wake = () => {
      if (document.hidden) return;
      if (this.timer) this.connect();
      else if (this.st == "online") this.ping();
    };
    document.addEventListener("visibilitychange", this.wake);
    addEventListener("online", this.wake);
    // A returning visitor resumes at once, after the caller's Kefu.on.
    if (this.d.c || this.d.q.length) Promise.resolve().then(() => this.st == "idle" && this.start());
  }

  open(): Promise<string> {
    return new Promise((res, rej) => {
      if (this.joined) return res(this.d.c as string);
      this.waiters.push([res, rej]);
      this.start();
    });
  }

  send(text: string): string {
    if (typeof text != "string") throw new TypeError("kefu: send(text) takes a string");
    const m = { i: "m-" + rid(8), c: this.d.c, b: text };
    this.d.q.push(m);
    this.save();
    this.start();
    this.flush();
    return m.i;
  }

  typing(): boolean {
    const now = Date.now();
    if (this.joined && now - this.typed > 2000) {
      this.typed = now;
      this.out({ type: "event", conversation: this.d.c, event: "typing" });
    }
    return this.joined;
  }

  read(seq?: number): boolean {
    const c = this.d.c as string;
    if (this.joined) this.out({ type: "event", conversation: c, event: "read", seq: seq || this.d.s[c] });
    return this.joined;
  }

  /** close disconnects and stops reconnecting; destroy also unhooks the page. */
  close(destroy?: boolean): void {
    this.want = false;
    this.set("closed");
    clearTimeout(this.timer);
    clearTimeout(this.probe);
    this.timer = undefined;
    if (this.t) this.t.close();
    this.settleWaiters(new Error("kefu: closed"));
    if (destroy) {
      document.removeEventListener("visibilitychange", this.wake);
      removeEventListener("online", this.wake);
    }
  }

  private start(): void {
    this.want = true;
    this.dead = false;
    if (this.st == "closed") this.st = "idle";
    if (!this.t) this.connect();
    else if (this.me && !this.joined && !this.opening) this.sendOpen();
  }

  private connect(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.t || this.st == "closed") return;
    const f: TransportFactory = this.o.fallback == "longpoll" ? longpoll : (this.ti && this.alt()) || websocket;
    const t: Transport = f(this.o, {
      open: () => {
        if (this.t == t)
          this.req({
            type: "hello",
            hello: { site: this.o.site, role: "visitor", user: this.user, token: this.o.signature, client: "kefu-js/" + VERSION },
          });
      },
      message: (e) => this.t == t && this.recv(e),
      close: (code, reason) => this.t == t && this.lost(t, code, reason),
    });
    this.t = t;
    this.at = this.rx = Date.now();
    this.set("connecting");
    this.hb = setInterval(() => this.tick(), 1000);
  }

  /** tick runs every second while connected: request timeouts, heartbeat. */
  private tick(): void {
    const now = Date.now();
    const o = this.o;
    const to = o.timeout as number;
    let late = this.st == "connecting" && now - this.at > to;
    for (const k in this.pend) late = late || now - this.pend[k].at > to;
    if (late) this.drop();
    else if (o.heartbeat && !document.hidden && now - Math.max(this.rx, this.pinged) > o.heartbeat) this.ping();
  }

  private ping(): void {
    if (this.me) {
      this.pinged = Date.now();
      this.req({ type: "ping" });
    }
  }

  /** drop ends the connection; lost then schedules the reconnect. */
  private drop(): void {
    if (this.t) this.t.close();
  }

  private lost(t: Transport, code: number, reason: string): void {
    const welcomed = this.me != "";
    this.t = undefined;
    this.pend = {};
    this.sent = {};
    this.me = "";
    this.opening = this.joined = false;
    clearInterval(this.hb);
    if (this.st == "closed") return;
    if (!welcomed && !this.dead) {
      this.emit("error", {
        code: "connect_failed",
        message: t.kind + " closed before welcome: " + code + " " + reason,
        retryable: true,
      });
      // Keeps failing: try the other transport.
      if (this.alt() && ++this.fails >= (this.o.fallbackAfter as number)) {
        this.ti ^= 1;
        this.fails = 0;
      }
    }
    if (this.dead || code == 1008) {
      this.dead = true;
      this.set("closed");
      this.settleWaiters(new Error("kefu: refused: " + reason));
      return;
    }
    // 1002, 1007, 1009: the server found this client at fault; do not
    // retry in a tight loop (docs/protocol-ws.md §9).
    const max = this.o.retryMax as number;
    const wait = code == 1002 || code == 1007 || code == 1009 ? max : Math.min(max, (this.o.retryMin as number) * 2 ** this.tries++);
    this.set("offline");
    this.timer = setTimeout(() => this.connect(), wait * (0.5 + Math.random() / 2));
  }

  private recv(e: Envelope): void {
    this.rx = Date.now();
    const c = e.conversation as string;
    const p = e.id ? this.pend[e.id] : undefined;
    if (p) delete this.pend[e.id as number];
    switch (e.type) {
      case "welcome":
        this.me = e.sender || "?";
        this.tries = this.fails = 0;
        this.set("online");
        if (this.want) this.sendOpen();
        if (this.ti) this.probeLater();
        break;
      case "joined":
        if (p) this.joinedConv(c, e);
        break;
      case "replay_end":
        this.page(c, e);
        break;
      case "message":
        this.message(e);
        break;
      case "ack":
        this.ack(c, e.seq as number, e.client_msg_id as string, e.ts);
        break;
      case "event":
        this.emit("event", {
          conversation: c,
          event: e.event as string,
          seq: e.seq,
          body: e.body,
          sender: e.sender || "",
          ts: e.ts || 0,
          mine: e.sender == this.me,
        });
        break;
      case "error":
        this.failed(e, p);
        break;
      case "goaway":
        this.drop();
    }
    this.emit("envelope", e);
  }

  private sendOpen(): void {
    const c = this.d.c;
    this.opening = true;
    this.req({ type: "open", conversation: c, seq: c ? this.d.s[c] : 0 });
  }

  private joinedConv(c: string, e: Envelope): void {
    this.opening = false;
    if (c != this.d.c) {
      this.d.c = c;
      for (const m of this.d.q) m.c = m.c || c;
    }
    this.d.s[c] = this.d.s[c] || 0;
    this.page(c, e);
    this.joined = true;
    this.save();
    this.emit("open", { conversation: c });
    for (const w of this.waiters) w[0](c);
    this.waiters = [];
    this.flush();
  }

  /** page ends a JOINED or REPLAY_END page: everything up to its seq has been sent, or fetch the rest. */
  private page(c: string, e: Envelope): void {
    if (e.more) this.req({ type: "replay", conversation: c, seq: this.d.s[c] });
    else this.mark(c, e.seq || 0, true);
  }

  private message(e: Envelope): void {
    const c = e.conversation as string;
    const s = e.seq as number;
    if (!this.fresh(c, s)) return;
    this.mark(c, s);
    // Our own queued message coming back (committed, but its ACK was lost
    // with a connection) settles it like an ACK.
    if (e.sender == this.me && this.settle(c, s, e.client_msg_id, e.ts)) return;
    this.emit("message", {
      conversation: c,
      seq: s,
      sender: e.sender || "",
      kind: e.kind || "text",
      body: e.body || "",
      ts: e.ts || 0,
      clientMsgId: e.client_msg_id,
      mine: e.sender == this.me,
    });
  }

  private ack(c: string, s: number, i: string, ts?: number): void {
    delete this.sent[i];
    if (this.fresh(c, s)) this.mark(c, s);
    this.settle(c, s, i, ts);
  }

  /** settle removes an acknowledged message from the queue. */
  private settle(c: string, s: number, i?: string, ts?: number): boolean {
    const q = this.d.q;
    for (let k = 0; k < q.length; k++)
      if (q[k].i == i) {
        q.splice(k, 1);
        this.save();
        this.emit("ack", { conversation: c, seq: s, clientMsgId: i, ts });
        return true;
      }
    return false;
  }

  private failed(e: Envelope, p?: Req): void {
    const r = e.error || {};
    const x: KefuError = { code: r.code || "internal", message: r.message || "", retryable: !!r.retryable };
    const t = p && p.t;
    if (t == "hello") this.dead = x.fatal = x.code == "unauthenticated";
    if (t == "open") {
      this.opening = false;
      const c = this.d.c;
      if (x.code == "not_found" && c) {
        // The stored conversation is gone (closed, or the server's data was
        // reset): start a new one and move the queue to it.
        this.d.c = undefined;
        delete this.d.s[c];
        for (const m of this.d.q) if (m.c == c) m.c = undefined;
        this.save();
        return this.sendOpen();
      }
      if (x.retryable) this.drop();
    }
    if (t == "send") {
      const i = p!.i as string;
      delete this.sent[i];
      if (x.retryable) {
        // Busy or a storage hiccup: resend with the same id shortly.
        setTimeout(() => this.flush(), this.o.retryMin);
        return;
      }
      x.clientMsgId = i;
      this.d.q = this.d.q.filter((m) => m.i != i);
      this.save();
    }
    this.emit("error", x);
  }

  /** flush sends every queued message of the open conversation not yet sent on this connection. */
  private flush(): void {
    if (!this.joined) return;
    for (const m of this.d.q)
      if (m.c == this.d.c && !this.sent[m.i]) {
        this.sent[m.i] = 1;
        this.req({ type: "send", conversation: m.c, client_msg_id: m.i, kind: "text", body: m.b }, m.i);
      }
  }

  /** alt is the transport to fall back to from WebSocket, if any. */
  private alt(): TransportFactory | undefined {
    const f = this.o.fallback;
    return typeof f == "function" ? f : f == "auto" ? longpoll : undefined;
  }

  /** While on the fallback, probe WebSocket now and then and go back to it when it connects. */
  private probeLater(): void {
    clearTimeout(this.probe);
    this.probe = setTimeout(() => {
      let ok = false;
      const p = websocket(this.o, {
        open: () => {
          ok = true;
          p.close();
        },
        message: () => {},
        close: () => {
          if (!this.ti || this.st == "closed") return;
          if (!ok) return this.probeLater();
          this.ti = this.fails = 0;
          this.drop();
          this.connect();
        },
      });
    }, this.o.retryMax);
  }

  private fresh(c: string, s: number): boolean {
    return s > (this.d.s[c] || 0) && !(this.seen[c] && this.seen[c][s]);
  }

  /** mark records seq s of c as seen (all: and every seq before it) and moves the cursor over what is contiguous. */
  private mark(c: string, s: number, all?: boolean): void {
    const z = (this.seen[c] = this.seen[c] || {});
    let k = this.d.s[c] || 0;
    if (!all) z[s] = 1;
    else if (s > k) k = s;
    while (z[k + 1]) delete z[++k];
    for (const x in z) if (+x <= k) delete z[x];
    this.d.s[c] = k;
    this.save();
  }

  /** req sends e as a request: a fresh id, answered within the timeout or the connection is deemed dead. */
  req(e: Envelope, i?: string): void {
    e.id = ++this.n;
    this.pend[e.id] = { t: e.type, at: Date.now(), i };
    this.out(e);
  }

  private out(e: Envelope): void {
    if (this.t) this.t.send(e);
  }

  private save(): void {
    put(this.key, JSON.stringify(this.d));
  }

  private set(s: KefuStatus): void {
    if (s != this.st) {
      this.st = s;
      this.emit("status", { status: s, transport: this.t && this.t.kind });
    }
  }

  private settleWaiters(err: Error): void {
    for (const w of this.waiters) w[1](err);
    this.waiters = [];
  }
}
