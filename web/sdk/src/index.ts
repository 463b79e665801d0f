// The public API: one visitor session per page, behind window.Kefu (the
// script builds) or the default export (the ES module build).
import type { Envelope, KefuAPI, KefuEventMap, KefuOptions } from "./types";
import { Session, VERSION } from "./session";
import { websocket } from "./ws";
import { longpoll } from "./longpoll";
import { launcher, type Launcher } from "./loader";
import { Tracker } from "./state";

export type * from "./types";

type Fn = (v: unknown) => void;

const listeners: Record<string, Fn[]> = {};
let s: Session | undefined;

/** emit calls every listener of k; a listener that throws does not stop the others nor the session. */
function emit<K extends keyof KefuEventMap>(k: K, v: KefuEventMap[K]): void {
  for (const f of (listeners[k] || []).slice())
    try {
      f(v);
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
}

function on<K extends keyof KefuEventMap>(k: K, fn: (v: KefuEventMap[K]) => void): () => void {
  const l = (listeners[k] = listeners[k] || []);
  l.push(fn as Fn);
  return () => {
    const i = l.indexOf(fn as Fn);
    if (i >= 0) l.splice(i, 1);
  };
}

function need(): Session {
  if (!s) throw new Error("kefu: call Kefu.init first");
  return s;
}

let unhook: (() => void)[] = [];
let wid: Launcher | undefined;
const track = new Tracker();

/** Requests of Kefu.call waiting for their reply, by id. */
let calls: Record<number, [(e: Envelope) => void, (e: Error) => void]> = {};

function fail(code: string, message: string): Error {
  return Object.assign(new Error("kefu: " + code + (message ? ": " + message : "")), { code });
}

// Internal listeners, ahead of the page's: replies to Kefu.call, the
// routing state. Calls die with their connection.
on("envelope", (e) => {
  const w = e.id ? calls[e.id] : undefined;
  if (w && e.type != "message") {
    delete calls[e.id as number];
    if (e.type == "error") w[1](fail((e.error && e.error.code) || "internal", (e.error && e.error.message) || ""));
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

export const Kefu: KefuAPI = {
  version: VERSION,
  init(o: KefuOptions) {
    if (!o || !o.endpoint || !o.site) throw new Error("kefu: init needs endpoint and site");
    if (s) s.close(true);
    for (const u of unhook) u();
    unhook = [];
    if (o.onMessage) unhook.push(on("message", o.onMessage));
    if (o.onEvent) unhook.push(on("event", o.onEvent));
    if (wid) wid.destroy();
    track.reset();
    s = new Session(o, emit);
    wid = o.widget ? launcher(Kefu, o, emit, () => (s && s.d.s[s.d.c as string]) || 0) : undefined;
    return Kefu;
  },
  open() {
    const p = need().open();
    if (wid) wid.open(true);
    return p;
  },
  close: () => (wid ? wid.close() : s && s.close()),
  send: (text) => need().send(text),
  typing: () => need().typing(),
  read: (seq) => need().read(seq),
  on,
  status: () => (s ? s.st : "idle"),
  user: () => (s ? s.user : ""),
  conversation: () => s && s.d.c,
  pending: () => (s ? s.d.q.map((m) => ({ clientMsgId: m.i, conversation: m.c, body: m.b })) : []),
  call(e) {
    const x = need();
    return new Promise((res, rej) => {
      if (x.st != "online") return rej(fail("offline", ""));
      x.req(e);
      calls[e.id as number] = [res, rej];
    });
  },
  state: () => (s && track.cur && track.cur.conversation == s.d.c ? track.cur : undefined),
  websocket,
  longpoll,
};

export default Kefu;
