/*! kefu.js 1.0.0 - Kefu visitor SDK */
"use strict";
(() => {
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

  // sdk/src/loader.ts
  var import_meta = {};
  var _a;
  var me = ((_a = document.currentScript) == null ? void 0 : _a.src) || import_meta.url || location.href;
  var CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var CSS = ".l{position:fixed;bottom:calc(20px + env(safe-area-inset-bottom,0px));right:20px;z-index:2147483000;width:56px;height:56px;border:0;border-radius:50%;display:grid;place-items:center;background:var(--kefu-color,#2454d6);box-shadow:0 4px 14px #0004;cursor:pointer}.l.left{right:auto;left:20px}.l svg{width:28px;fill:none;stroke:#fff;stroke-width:2}.b{position:absolute;top:-4px;right:-4px;min-width:20px;border-radius:10px;background:#d93025;color:#fff;font:600 12px/20px sans-serif}.b:empty{display:none}";
  var svgNS = "http://www.w3.org/2000/svg";
  var policy;
  function scriptURL(u) {
    const tt = window.trustedTypes;
    if (tt && !policy) policy = tt.createPolicy("kefu", { createScriptURL: (x) => x });
    return policy ? policy.createScriptURL(u) : u;
  }
  function icon(d) {
    const s2 = document.createElementNS(svgNS, "svg");
    const p = document.createElementNS(svgNS, "path");
    s2.setAttribute("viewBox", "0 0 24 24");
    s2.setAttribute("aria-hidden", "true");
    p.setAttribute("d", d);
    s2.appendChild(p);
    return s2;
  }
  function css(root, text) {
    if (root.adoptedStyleSheets && "replaceSync" in CSSStyleSheet.prototype) {
      const s2 = new CSSStyleSheet();
      s2.replaceSync(text);
      root.adoptedStyleSheets = root.adoptedStyleSheets.concat(s2);
    } else {
      const e = document.createElement("style");
      e.textContent = text;
      root.appendChild(e);
    }
  }
  function launcher(k, o, emit2, seq) {
    const w = typeof o.widget == "object" ? o.widget : {};
    const t = w.texts || {};
    const key = (o.storageKey || "kefu") + ":" + o.site + ":open";
    const host = document.createElement("div");
    const root = host.attachShadow({ mode: "open" });
    const b = document.createElement("button");
    const badge = document.createElement("span");
    let view;
    let loading = false;
    let shown = false;
    let unread = 0;
    host.id = "kefu-widget";
    if (w.color) host.style.setProperty("--kefu-color", w.color);
    css(root, CSS);
    b.type = "button";
    b.className = "l" + (w.position == "left" ? " left" : "");
    b.setAttribute("aria-haspopup", "dialog");
    b.setAttribute("aria-expanded", "false");
    badge.className = "b";
    badge.setAttribute("aria-hidden", "true");
    b.append(icon(CHAT), badge);
    root.appendChild(b);
    const label = () => {
      badge.textContent = unread ? String(unread) : "";
      b.setAttribute("aria-label", (shown ? t.close || "Close chat" : t.launcher || "Open chat") + (unread ? ", " + (t.unread || "{n} unread").replace("{n}", String(unread)) : ""));
    };
    label();
    const attach = () => document.body.appendChild(host);
    if (document.body) attach();
    else addEventListener("DOMContentLoaded", attach);
    const off = k.on("message", (m) => {
      if (!shown && !m.mine && m.kind != "event") {
        unread++;
        label();
      }
    });
    const h = { kefu: k, o, w, api: o.api || new URL(me).origin, root, launcher: b, seq, css, icon, close: () => l.close() };
    const load2 = (focus) => {
      if (view || loading) return;
      const ready = () => {
        loading = false;
        b.removeAttribute("aria-busy");
        view = window.KefuWidget(h);
        if (shown) view.show(focus);
      };
      loading = true;
      b.setAttribute("aria-busy", "true");
      if (window.KefuWidget) return ready();
      const s2 = document.createElement("script");
      const u = w.src || new URL("kefu-widget.min.js", me).href;
      s2.onerror = () => {
        loading = false;
        b.removeAttribute("aria-busy");
        l.close();
        emit2("error", { code: "widget_failed", message: "kefu: cannot load " + u, retryable: true });
      };
      try {
        s2.src = scriptURL(u);
      } catch (_) {
        return s2.onerror(u);
      }
      s2.async = true;
      s2.onload = ready;
      document.head.appendChild(s2);
    };
    const l = {
      open(focus) {
        shown = true;
        unread = 0;
        put(key, "1");
        b.setAttribute("aria-expanded", "true");
        label();
        if (view) view.show(focus);
        else load2(focus);
      },
      close() {
        const was = shown;
        shown = false;
        put(key, "");
        b.setAttribute("aria-expanded", "false");
        label();
        if (view) view.hide();
        if (was) b.focus();
      },
      destroy() {
        off();
        if (view) view.destroy();
        removeEventListener("DOMContentLoaded", attach);
        host.remove();
      }
    };
    b.onclick = () => shown ? l.close() : l.open(true);
    if (get(key) == "1") l.open(false);
    return l;
  }

  // sdk/src/longpoll.ts
  var BATCH = 32;
  var CHARS = 2e4;
  var longpoll = (o, h) => {
    const base = new URL("/lp/v1/", o.api || me).href;
    let sid = "";
    let next = 0;
    let done = false;
    let busy = false;
    const q = [];
    const end = (code, reason) => {
      if (done) return;
      done = true;
      if (sid) fetch(base + "close", { method: "POST", headers: { "X-Kefu-Session": sid }, keepalive: true }).catch(() => {
      });
      h.close(code, reason);
    };
    const fail2 = (x) => end(x == 401 ? 1008 : 1006, "longpoll: " + x);
    const call = (path, body) => fetch(base + path, { method: body && "POST", headers: { "X-Kefu-Session": sid }, body }).then(async (r) => {
      const j = await r.json().catch(() => ({}));
      sid = sid || j.session;
      next = j.next || next;
      for (const e of j.envelopes || []) if (!done) h.message(e);
      if (!r.ok) throw r.status;
    });
    const poll = () => !done && call("poll?wait=25&ack=" + next).then(poll, fail2);
    const flush = () => {
      if (busy || !sid || !q.length || done) return;
      let n = 0;
      let k = 0;
      while (k < q.length && k < BATCH && (n += q[k].length) < CHARS) k++;
      busy = true;
      call("send", "[" + q.splice(0, k || 1) + "]").then(() => {
        busy = false;
        flush();
      }, fail2);
    };
    Promise.resolve().then(() => done || h.open());
    return {
      kind: "longpoll",
      send: (e) => {
        if (done) return;
        q.push(JSON.stringify(e));
        if (!sid && !busy) {
          busy = true;
          call("connect", q.shift()).then(() => {
            busy = false;
            poll();
            flush();
          }, fail2);
        } else flush();
      },
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
      const o = this.o = { fallback: "auto", fallbackAfter: 2, retryMin: 500, retryMax: 3e4, heartbeat: 3e4, timeout: 1e4, storageKey: "kefu" };
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
      const f = this.o.fallback == "longpoll" ? longpoll : this.ti && this.alt() || websocket;
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
        if (this.alt() && ++this.fails >= this.o.fallbackAfter) {
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
      this.emit("envelope", e);
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
    /** alt is the transport to fall back to from WebSocket, if any. */
    alt() {
      const f = this.o.fallback;
      return typeof f == "function" ? f : f == "auto" ? longpoll : void 0;
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
    /** req sends e as a request: a fresh id, answered within the timeout or the connection is deemed dead. */
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

  // sdk/src/state.ts
  var Tracker = class {
    constructor() {
      /** The seq the current state is as of. */
      this.at = 0;
    }
    /** see applies e if it concerns conversation c; it returns the new state when something changed. */
    see(e, c) {
      if (!c || e.conversation != c) return;
      if (!this.cur || this.cur.conversation != c) this.reset();
      const x = this.cur || { conversation: c, state: "" };
      const seq = e.seq || 0;
      let p;
      if (e.type == "joined") {
        this.at = Math.max(this.at, seq);
        p = { state: e.state || x.state, agent: e.agent, group: e.group, position: e.position, name: e.agent == x.agent ? x.name : void 0 };
      } else if (e.event == "queue") p = { state: "queued", position: e.position };
      else if (e.type == "message" && e.kind == "event") {
        let b;
        try {
          b = JSON.parse(e.body || "");
        } catch (_) {
          return;
        }
        const t = b.type;
        const who = t == "assigned" || t == "transferred";
        if (t == "rated") p = { rating: b.rating };
        else if (seq <= this.at) p = who && b.agent == x.agent ? { name: b.name } : void 0;
        else {
          this.at = seq;
          p = who ? { state: "open", agent: b.agent, name: b.name, position: void 0 } : t == "queued" ? { state: "queued", group: b.group, agent: void 0, name: void 0 } : t == "closed" ? { state: "closed", by: b.by, position: void 0 } : void 0;
        }
      }
      if (!p) return;
      const y = Object.assign({}, x, p);
      if (JSON.stringify(y) != JSON.stringify(this.cur)) return this.cur = y;
    }
    /** reset forgets the state (a new conversation starts from zero). */
    reset() {
      this.cur = void 0;
      this.at = 0;
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
  var wid;
  var track = new Tracker();
  var calls = {};
  function fail(code, message) {
    return Object.assign(new Error("kefu: " + code + (message ? ": " + message : "")), { code });
  }
  on("envelope", (e) => {
    const w = e.id ? calls[e.id] : void 0;
    if (w && e.type != "message") {
      delete calls[e.id];
      if (e.type == "error") w[1](fail(e.error && e.error.code || "internal", e.error && e.error.message || ""));
      else w[0](e);
    }
    const st = s && track.see(e, s.d.c);
    if (st) emit("state", st);
  });
  on("status", (x) => {
    if (x.status == "online") return;
    const c = calls;
    calls = {};
    for (const k in c) c[k][1](fail("offline", ""));
  });
  var Kefu = {
    version: VERSION,
    init(o) {
      if (!o || !o.endpoint || !o.site) throw new Error("kefu: init needs endpoint and site");
      if (s) s.close(true);
      for (const u of unhook) u();
      unhook = [];
      if (o.onMessage) unhook.push(on("message", o.onMessage));
      if (o.onEvent) unhook.push(on("event", o.onEvent));
      if (wid) wid.destroy();
      track.reset();
      s = new Session(o, emit);
      wid = o.widget ? launcher(Kefu, o, emit, () => s && s.d.s[s.d.c] || 0) : void 0;
      return Kefu;
    },
    open() {
      const p = need().open();
      if (wid) wid.open(true);
      return p;
    },
    close: () => wid ? wid.close() : s && s.close(),
    send: (text) => need().send(text),
    typing: () => need().typing(),
    read: (seq) => need().read(seq),
    on,
    status: () => s ? s.st : "idle",
    user: () => s ? s.user : "",
    conversation: () => s && s.d.c,
    pending: () => s ? s.d.q.map((m) => ({ clientMsgId: m.i, conversation: m.c, body: m.b })) : [],
    call(e) {
      const x = need();
      return new Promise((res, rej) => {
        if (x.st != "online") return rej(fail("offline", ""));
        x.req(e);
        calls[e.id] = [res, rej];
      });
    },
    state: () => s && track.cur && track.cur.conversation == s.d.c ? track.cur : void 0,
    websocket,
    longpoll
  };

  // sdk/src/global.ts
  window.Kefu = Kefu;
})();
