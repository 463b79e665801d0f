// The WebSocket transport: subprotocol kefu.json, one JSON envelope per text
// message (docs/protocol-ws.md §1-2). The browser answers the server's
// WebSocket pings by itself.
import type { Envelope, TransportFactory } from "./types";

/** wsURL turns the endpoint option into the WebSocket URL. */
export function wsURL(endpoint: string): string {
  const u = new URL(endpoint, location.href);
  u.protocol = u.protocol.replace("http", "ws");
  if (u.pathname == "/") u.pathname = "/ws";
  return u.href;
}

/** decode parses one text message; undefined when it is no envelope. */
export function decode(data: unknown): Envelope | undefined {
  try {
    const e = JSON.parse(data as string);
    if (e && typeof e.type == "string") return e;
  } catch (_) {
    // not JSON: dropped like any message without a type
  }
  return undefined;
}

export const websocket: TransportFactory = (o, h) => {
  let done = false;
  let ws: WebSocket | undefined;
  const end = (code: number, reason: string) => {
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
    // A bad URL or a blocked port throws here rather than closing:
    // report it the same way, after the caller has the transport.
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
    close: () => end(1000, "client"),
  };
};
