// The public API: one visitor session per page, behind window.Kefu (the
// script builds) or the default export (the ES module build).
import type { KefuAPI, KefuEventMap, KefuOptions } from "./types";
import { Session, VERSION } from "./session";
import { websocket } from "./ws";

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

export const Kefu: KefuAPI = {
  version: VERSION,
  init(o: KefuOptions) {
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
  status: () => (s ? s.st : "idle"),
  user: () => (s ? s.user : ""),
  conversation: () => s && s.d.c,
  pending: () => (s ? s.d.q.map((m) => ({ clientMsgId: m.i, conversation: m.c, body: m.b })) : []),
  websocket,
};

export default Kefu;
