// The HTTP long-poll transport (engine/longpoll, /lp/v1/ on the server's
// HTTP side): the same JSON envelopes as WebSocket, for networks where
// WebSocket cannot get through. connect carries the HELLO and opens a
// session; sends go out one POST at a time (what queues meanwhile goes in
// the next, as an array); one poll is always waiting, passing the "next"
// of the last answer as ack, so an answer lost in transit comes again (the
// session de-duplicates by seq as on WebSocket).
import type { Envelope, TransportFactory } from "./types";
import { me } from "./loader";

/** The most envelopes, and about the most characters, one send carries (the server allows 32 and 64 KiB). */
const BATCH = 32;
const CHARS = 2e4;

export const longpoll: TransportFactory = (o, h) => {
  const base = new URL("/lp/v1/", o.api || me).href;
  let sid = "";
  let next = 0;
  let done = false;
  let busy = false;
  /** Envelopes waiting to go, as JSON. */
  const q: string[] = [];
  const end = (code: number, reason: string) => {
    if (done) return;
    done = true;
    // Ending the session on the server also answers the waiting poll.
    if (sid) fetch(base + "close", { method: "POST", headers: { "X-Kefu-Session": sid }, keepalive: true }).catch(() => {});
    h.close(code, reason);
  };
  // A refused HELLO (401) is fatal like close 1008; anything else (a
  // network error, an ended session's 404, 503 while the server drains)
  // is a lost connection: reconnect.
  const fail = (x: unknown) => end(x == 401 ? 1008 : 1006, "longpoll: " + x);
  /** call fetches path, hands over the envelopes of the answer, and resolves once they are handled. */
  const call = (path: string, body?: string) =>
    fetch(base + path, { method: body && "POST", headers: { "X-Kefu-Session": sid }, body }).then(async (r) => {
      const j = await r.json().catch(() => ({}));
      sid = sid || j.session;
      next = j.next || next;
      for (const e of (j.envelopes || []) as Envelope[]) if (!done) h.message(e);
      if (!r.ok) throw r.status;
    });
  const poll = (): unknown => !done && call("poll?wait=25&ack=" + next).then(poll, fail);
  const flush = () => {
    if (busy || !sid || !q.length || done) return;
    let n = 0;
    let k = 0;
    while (k < q.length && k < BATCH && (n += q[k].length) < CHARS) k++;
    busy = true;
    call("send", "[" + q.splice(0, k || 1) + "]").then(() => {
      busy = false;
      flush();
    }, fail);
  };
  Promise.resolve().then(() => done || h.open());
  return {
    kind: "longpoll",
    send: (e) => {
      if (done) return;
      q.push(JSON.stringify(e));
      if (!sid && !busy) {
        // The first envelope is the HELLO: it opens the session.
        busy = true;
        call("connect", q.shift()).then(() => {
          busy = false;
          poll();
          flush();
        }, fail);
      } else flush();
    },
    close: () => end(1000, "client"),
  };
};
