// The console's one WebSocket (subprotocol kefu.json): HELLO with the REST
// session token and the cursors of every conversation held, requests
// matched to their answers by id, pushes handed to the desk, heartbeats,
// and reconnects with jittered exponential backoff. Everything runs on the
// page's event loop.
import type { Env } from "./types";

export const CLIENT = "kefu-console/1.0.0";

/** Connection state shown in the top bar. */
export type LiveState = "connecting" | "online" | "offline" | "closed";

/** A refused request: the server's error code and message, or a lost connection ("disconnected", "timeout"). */
export class WSError extends Error {
  code: string;
  retryable: boolean;
  constructor(code: string, message: string, retryable: boolean) {
    super(message || code);
    this.code = code;
    this.retryable = retryable;
  }
}

export interface LiveHandlers {
  /** WELCOME: connected and authenticated (cursors follow as messages and joined). */
  welcome(e: Env): void;
  /** Any envelope that answers no request of ours. */
  push(e: Env): void;
  state(s: LiveState): void;
  /** The server refused the credentials (close 1008): the session is over. */
  auth(): void;
}

export interface LiveOptions {
  url: string;
  site: string;
  user: string;
  token: string;
  /** Cursors to resume on every (re)connect. */
  cursors(): { conversation: string; seq: number }[];
  retryMin?: number;
  retryMax?: number;
  timeout?: number;
  heartbeat?: number;
}

interface Pending {
  ok: (e: Env) => void;
  fail: (e: WSError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** wsURL resolves the configured endpoint: "" = /ws on this host, ":PORT" = this host on PORT, else an absolute URL. */
export function wsURL(spec: string): string {
  const scheme = location.protocol == "https:" ? "wss://" : "ws://";
  if (!spec) return scheme + location.host + "/ws";
  if (spec[0] == ":") return scheme + location.hostname + spec + "/ws";
  return spec;
}

export class Live {
  state: LiveState = "closed";
  private o: Required<LiveOptions>;
  private h: LiveHandlers;
  private ws?: WebSocket;
  private n = 0;
  private pend = new Map<number, Pending>();
  private tries = 0;
  private retry?: ReturnType<typeof setTimeout>;
  private hb?: ReturnType<typeof setInterval>;
  private rx = 0;
  private stopped = true;
  private wake = () => {
    if (document.hidden || this.stopped) return;
    if (this.retry) this.connect();
    else if (this.state == "online") this.ping();
  };

  constructor(o: LiveOptions, h: LiveHandlers) {
    this.o = { retryMin: 500, retryMax: 30000, timeout: 10000, heartbeat: 25000, ...o };
    this.h = h;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    document.addEventListener("visibilitychange", this.wake);
    addEventListener("online", this.wake);
    this.connect();
  }

  /** stop closes the connection for good (logout). */
  stop(): void {
    this.stopped = true;
    document.removeEventListener("visibilitychange", this.wake);
    removeEventListener("online", this.wake);
    clearTimeout(this.retry);
    this.retry = undefined;
    this.drop(1000, "logout");
    this.set("closed");
  }

  /** request sends e with a fresh id and resolves with its answer (OK, ACK, JOINED, REPLAY_END, PONG). */
  request(e: Env): Promise<Env> {
    return new Promise((ok, fail) => {
      if (this.state != "online" || !this.ws) return fail(new WSError("disconnected", "not connected", true));
      const id = ++this.n;
      const timer = setTimeout(() => {
        this.pend.delete(id);
        fail(new WSError("timeout", "no answer from the server", true));
        // A request without an answer means a dead connection.
        this.drop(4000, "timeout");
      }, this.o.timeout);
      this.pend.set(id, { ok, fail, timer });
      this.out({ ...e, id });
    });
  }

  /** send sends e without waiting (events); false when offline. */
  send(e: Env): boolean {
    if (this.state != "online") return false;
    this.out(e);
    return true;
  }

  private out(e: Env): void {
    if (this.ws && this.ws.readyState == 1) this.ws.send(JSON.stringify(e));
  }

  private set(s: LiveState): void {
    if (this.state == s) return;
    this.state = s;
    this.h.state(s);
  }

  private connect(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    if (this.stopped || this.ws) return;
    this.set("connecting");
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.o.url, "kefu.json");
    } catch (e) {
      this.later();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.rx = Date.now();
      const id = ++this.n;
      const cursors = this.o.cursors();
      ws.send(
        JSON.stringify({
          type: "hello",
          id,
          hello: { site: this.o.site, role: "agent", user: this.o.user, token: this.o.token, client: CLIENT },
          cursors: cursors.length ? cursors : undefined,
        }),
      );
    };
    ws.onmessage = (m) => {
      this.rx = Date.now();
      let e: Env;
      try {
        e = JSON.parse(m.data as string);
      } catch (_) {
        return;
      }
      if (!e || typeof e.type != "string") return;
      this.receive(e);
    };
    ws.onclose = (c) => {
      if (this.ws != ws) return;
      this.ws = undefined;
      this.closed(c.code);
    };
  }

  private receive(e: Env): void {
    if (e.type == "welcome") {
      this.tries = 0;
      this.set("online");
      clearInterval(this.hb);
      this.hb = setInterval(() => this.beat(), 5000);
      this.h.welcome(e);
      return;
    }
    if (e.type == "error" && this.state != "online") {
      // HELLO refused: the close (1008) that follows ends the session.
      return;
    }
    const p = e.id ? this.pend.get(e.id) : undefined;
    if (p && e.type != "message" && e.type != "event" && e.type != "notice") {
      this.pend.delete(e.id!);
      clearTimeout(p.timer);
      if (e.type == "error") {
        const er = e.error || {};
        p.fail(new WSError(er.code || "error", er.message || "", !!er.retryable));
      } else p.ok(e);
      return;
    }
    this.h.push(e);
  }

  /** beat pings after heartbeat ms of silence, unless the page is hidden. */
  private beat(): void {
    if (this.state == "online" && !document.hidden && Date.now() - this.rx > this.o.heartbeat) this.ping();
  }

  private ping(): void {
    this.rx = Date.now();
    this.request({ type: "ping" }).catch(() => {});
  }

  private drop(code: number, reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = undefined;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close(code, reason);
    } catch (_) {
      ws.close();
    }
    this.closed(code);
  }

  private closed(code: number): void {
    clearInterval(this.hb);
    for (const [, p] of this.pend) {
      clearTimeout(p.timer);
      p.fail(new WSError("disconnected", "connection lost", true));
    }
    this.pend.clear();
    if (this.stopped) return;
    this.set("offline");
    if (code == 1008) {
      // Credentials refused: reconnecting would be refused again.
      this.stopped = true;
      this.h.auth();
      return;
    }
    this.later();
  }

  /** later reconnects after a jittered exponential backoff. */
  private later(): void {
    this.set("offline");
    const base = Math.min(this.o.retryMax, this.o.retryMin * Math.pow(2, this.tries++));
    this.retry = setTimeout(() => this.connect(), base / 2 + (Math.random() * base) / 2);
  }
}
