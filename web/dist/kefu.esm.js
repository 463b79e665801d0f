/*! kefu.js 1.0.0 - Kefu visitor SDK */

// sdk/src/store.ts
function get(key) {
  try {
    return localStorage.getItem(key);
  } catch (_) {
    return null;
  }
}
function put(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch (_) {
  }
}
function load(key) {
  try {
    const v = JSON.parse(get(key) || "");
    if (v && typeof v.s == "object" && Array.isArray(v.q)) return v;
  } catch (_) {
  }
  return { s: {}, q: [] };
}
function rid(n) {
  const b = crypto.getRandomValues(new Uint8Array(n));
  let s2 = "";
  for (const x of b) s2 += (x + 256).toString(16).slice(1);
  return s2;
}

// sdk/src/ws.ts
function wsURL(endpoint) {
  const u = new URL(endpoint, location.href);
  u.protocol = u.protocol.replace("http", "ws");
  if (u.pathname == "/") u.pathname = "/ws";
  return u.href;
}
function decode(data) {
  try {
    const e = JSON.parse(data);
    if (e && typeof e.type == "string") return e;
  } catch (_) {
  }
  return void 0;
}
var websocket = (o, h) => {
  let done = false;
  let ws;
  const end = (code, reason) => {
    if (done) return;
    done = true;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close();
    }
    h.close(code, reason);
  };
  try {
    ws = new WebSocket(wsURL(o.endpoint), "kefu.json");
  } catch (e) {
    setTimeout(() => end(1006, String(e)));
  }
  if (ws) {
    ws.onopen = () => h.open();
    ws.onmessage = (m) => {
      const e = decode(m.data);
      if (e) h.message(e);
    };
    ws.onclose = (c) => end(c.code, c.reason);
  }
  return {
    kind: "websocket",
    send: (e) => ws && ws.readyState == 1 && ws.send(JSON.stringify(e)),
    close: () => end(1e3, "client")
  };
};

// sdk/src/session.ts
var VERSION = "1.0.0";
var Session = class {
  constructor(opts, emit2) {
    this.st = "idle";
    /** Transport in use: 0 WebSocket, 1 the fallback. */
    this.ti = 0;
    /** Attempts in a row on this transport that never reached WELCOME. */
    this.fails = 0;
    /** Reconnects since the last WELCOME: the backoff exponent. */
    this.tries = 0;
    /** Our identity from WELCOME ("v:<user>"); empty until then. */
    this.me = "";
    this.n = 0;
    this.pend = {};
    /** client_msg_ids sent on this connection and not yet answered. */
    this.sent = {};
    /** Seqs seen above each conversation's cursor (out of order or own ACKs). */
    this.seen = {};
    /** A conversation is wanted (open or send was called, or one is stored). */
    this.want = false;
    /** OPEN in flight / conversation subscribed on this connection. */
    this.opening = false;
    this.joined = false;
    this.dead = false;
    /** Time of connect, of the last envelope received, of the last ping, of the last typing event. */
    this.at = 0;
    this.rx = 0;
    this.pinged = 0;
    this.typed = 0;
    this.waiters = [];
    const o = this.o = { fallbackAfter: 2, retryMin: 500, retryMax: 3e4, heartbeat: 3e4, timeout: 1e4, storageKey: "kefu" };
    for (const k in opts) {
      const v = opts[k];
      if (v != null) o[k] = v;
    }
    this.emit = emit2;
    const p = o.storageKey + ":" + o.site + ":";
    let u = o.user;
    if (!u) {
      u = get(p + "uid") || "v-" + rid(12);
      put(p + "uid", u);
    }
    this.user = u;
    this.key = p + u;
    this.d = load(this.key);
    this.wake = () => {
      if (document.hidden) return;
      if (this.timer) this.connect();
      else if (this.st == "online") this.ping();
    };
    document.addEventListener("visibilitychange", this.wake);
    addEventListener("online", this.wake);
    if (this.d.c || this.d.q.length) Promise.resolve().then(() => this.st == "idle" && this.start());
  }
  open() {
    return new Promise((res, rej) => {
      if (this.joined) return res(this.d.c);
      this.waiters.push([res, rej]);
      this.start();
    });
  }
  send(text) {
    if (typeof text != "string") throw new TypeError("kefu: send(text) takes a string");
    const m = { i: "m-" + rid(8), c: this.d.c, b: text };
    this.d.q.push(m);
    this.save();
    this.start();
    this.flush();
    return m.i;
  }
  typing() {
    const now = Date.now();
    if (this.joined && now - this.typed > 2e3) {
      this.typed = now;
      this.out({ type: "event", conversation: this.d.c, event: "typing" });
    }
    return this.joined;
  }
  read(seq) {
    const c = this.d.c;
    if (this.joined) this.out({ type: "event", conversation: c, event: "read", seq: seq || this.d.s[c] });
    return this.joined;
  }
  /** close disconnects and stops reconnecting; destroy also unhooks the page. */
  close(destroy) {
    this.want = false;
    this.set("closed");
    clearTimeout(this.timer);
    clearTimeout(this.probe);
    this.timer = void 0;
    if (this.t) this.t.close();
    this.settleWaiters(new Error("kefu: closed"));
    if (destroy) {
      document.removeEventListener("visibilitychange", this.wake);
      removeEventListener("online", this.wake);
    }
  }
  start() {
    this.want = true;
    this.dead = false;
    if (this.st == "closed") this.st = "idle";
    if (!this.t) this.connect();
    else if (this.me && !this.joined && !this.opening) this.sendOpen();
  }
  connect() {
    clearTimeout(this.timer);
    this.timer = void 0;
    if (this.t || this.st == "closed") return;
    const f = this.ti && this.o.fallback || websocket;
    const t = f(this.o, {
      open: () => {
        if (this.t == t)
          this.req({
            type: "hello",
            hello: { site: this.o.site, role: "visitor", user: this.user, token: this.o.signature, client: "kefu-js/" + VERSION }
          });
      },
      message: (e) => this.t == t && this.recv(e),
      close: (code, reason) => this.t == t && this.lost(t, code, reason)
    });
    this.t = t;
    this.at = this.rx = Date.now();
    this.set("connecting");
    this.hb = setInterval(() => this.tick(), 1e3);
  }
  /** tick runs every second while connected: request timeouts, heartbeat. */
  tick() {
    const now = Date.now();
    const o = this.o;
    const to = o.timeout;
    let late = this.st == "connecting" && now - this.at > to;
    for (const k in this.pend) late = late || now - this.pend[k].at > to;
    if (late) this.drop();
    else if (o.heartbeat && !document.hidden && now - Math.max(this.rx, this.pinged) > o.heartbeat) this.ping();
  }
  ping() {
    if (this.me) {
      this.pinged = Date.now();
      this.req({ type: "ping" });
    }
  }
  /** drop ends the connection; lost then schedules the reconnect. */
  drop() {
    if (this.t) this.t.close();
  }
  lost(t, code, reason) {
    const welcomed = this.me != "";
    this.t = void 0;
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
        retryable: true
      });
      if (this.o.fallback && ++this.fails >= this.o.fallbackAfter) {
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
    const max = this.o.retryMax;
    const wait = code == 1002 || code == 1007 || code == 1009 ? max : Math.min(max, this.o.retryMin * 2 ** this.tries++);
    this.set("offline");
    this.timer = setTimeout(() => this.connect(), wait * (0.5 + Math.random() / 2));
  }
  recv(e) {
    this.rx = Date.now();
    const c = e.conversation;
    const p = e.id ? this.pend[e.id] : void 0;
    if (p) delete this.pend[e.id];
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
        this.ack(c, e.seq, e.client_msg_id, e.ts);
        break;
      case "event":
        this.emit("event", {
          conversation: c,
          event: e.event,
          seq: e.seq,
          body: e.body,
          sender: e.sender || "",
          ts: e.ts || 0,
          mine: e.sender == this.me
        });
        break;
      case "error":
        this.failed(e, p);
        break;
      case "goaway":
        this.drop();
    }
  }
  sendOpen() {
    const c = this.d.c;
    this.opening = true;
    this.req({ type: "open", conversation: c, seq: c ? this.d.s[c] : 0 });
  }
  joinedConv(c, e) {
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
  page(c, e) {
    if (e.more) this.req({ type: "replay", conversation: c, seq: this.d.s[c] });
    else this.mark(c, e.seq || 0, true);
  }
  message(e) {
    const c = e.conversation;
    const s2 = e.seq;
    if (!this.fresh(c, s2)) return;
    this.mark(c, s2);
    if (e.sender == this.me && this.settle(c, s2, e.client_msg_id, e.ts)) return;
    this.emit("message", {
      conversation: c,
      seq: s2,
      sender: e.sender || "",
      kind: e.kind || "text",
      body: e.body || "",
      ts: e.ts || 0,
      clientMsgId: e.client_msg_id,
      mine: e.sender == this.me
    });
  }
  ack(c, s2, i, ts) {
    delete this.sent[i];
    if (this.fresh(c, s2)) this.mark(c, s2);
    this.settle(c, s2, i, ts);
  }
  /** settle removes an acknowledged message from the queue. */
  settle(c, s2, i, ts) {
    const q = this.d.q;
    for (let k = 0; k < q.length; k++)
      if (q[k].i == i) {
        q.splice(k, 1);
        this.save();
        this.emit("ack", { conversation: c, seq: s2, clientMsgId: i, ts });
        return true;
      }
    return false;
  }
  failed(e, p) {
    const r = e.error || {};
    const x = { code: r.code || "internal", message: r.message || "", retryable: !!r.retryable };
    const t = p && p.t;
    if (t == "hello") this.dead = x.fatal = x.code == "unauthenticated";
    if (t == "open") {
      this.opening = false;
      const c = this.d.c;
      if (x.code == "not_found" && c) {
        this.d.c = void 0;
        delete this.d.s[c];
        for (const m of this.d.q) if (m.c == c) m.c = void 0;
        this.save();
        return this.sendOpen();
      }
      if (x.retryable) this.drop();
    }
    if (t == "send") {
      const i = p.i;
      delete this.sent[i];
      if (x.retryable) {
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
  flush() {
    if (!this.joined) return;
    for (const m of this.d.q)
      if (m.c == this.d.c && !this.sent[m.i]) {
        this.sent[m.i] = 1;
        this.req({ type: "send", conversation: m.c, client_msg_id: m.i, kind: "text", body: m.b }, m.i);
      }
  }
  /** While on the fallback, probe WebSocket now and then and go back to it when it connects. */
  probeLater() {
    clearTimeout(this.probe);
    this.probe = setTimeout(() => {
      let ok = false;
      const p = websocket(this.o, {
        open: () => {
          ok = true;
          p.close();
        },
        message: () => {
        },
        close: () => {
          if (!this.ti || this.st == "closed") return;
          if (!ok) return this.probeLater();
          this.ti = this.fails = 0;
          this.drop();
          this.connect();
        }
      });
    }, this.o.retryMax);
  }
  fresh(c, s2) {
    return s2 > (this.d.s[c] || 0) && !(this.seen[c] && this.seen[c][s2]);
  }
  /** mark records seq s of c as seen (all: and every seq before it) and moves the cursor over what is contiguous. */
  mark(c, s2, all) {
    const z = this.seen[c] = this.seen[c] || {};
    let k = this.d.s[c] || 0;
    if (!all) z[s2] = 1;
    else if (s2 > k) k = s2;
    while (z[k + 1]) delete z[++k];
    for (const x in z) if (+x <= k) delete z[x];
    this.d.s[c] = k;
    this.save();
  }
  req(e, i) {
    e.id = ++this.n;
    this.pend[e.id] = { t: e.type, at: Date.now(), i };
    this.out(e);
  }
  out(e) {
    if (this.t) this.t.send(e);
  }
  save() {
    put(this.key, JSON.stringify(this.d));
  }
  set(s2) {
    if (s2 != this.st) {
      this.st = s2;
      this.emit("status", { status: s2, transport: this.t && this.t.kind });
    }
  }
  settleWaiters(err) {
    for (const w of this.waiters) w[1](err);
    this.waiters = [];
  }
};

// sdk/src/index.ts
var listeners = {};
var s;
function emit(k, v) {
  for (const f of (listeners[k] || []).slice())
    try {
      f(v);
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
}
function on(k, fn) {
  const l = listeners[k] = listeners[k] || [];
  l.push(fn);
  return () => {
    const i = l.indexOf(fn);
    if (i >= 0) l.splice(i, 1);
  };
}
function need() {
  if (!s) throw new Error("kefu: call Kefu.init first");
  return s;
}
var unhook = [];
var Kefu = {
  version: VERSION,
  init(o) {
    if (!o || !o.endpoint || !o.site) throw new Error("kefu: init needs endpoint and site");
    if (s) s.close(true);
    for (const u of unhook) u();
    unhook = [];
    if (o.onMessage) unhook.push(on("message", o.onMessage));
    if (o.onEvent) unhook.push(on("event", o.onEvent));
    s = new Session(o, emit);
    return Kefu;
  },
  open: () => need().open(),
  close: () => s && s.close(),
  send: (text) => need().send(text),
  typing: () => need().typing(),
  read: (seq) => need().read(seq),
  on,
  status: () => s ? s.st : "idle",
  user: () => s ? s.user : "",
  conversation: () => s && s.d.c,
  pending: () => s ? s.d.q.map((m) => ({ clientMsgId: m.i, conversation: m.c, body: m.b })) : [],
  websocket
};
var index_default = Kefu;
export {
  Kefu,
  index_default as default
};
