// Type-checked against the committed declarations (dist/kefu.d.ts) by the Go
// test TestTypes: the way a site's TypeScript code uses the SDK.
import Kefu, { type KefuMessage, type TransportFactory } from "../../dist/kefu";

const lines: string[] = [];
const fallback: TransportFactory = (o, h) => Kefu.websocket({ ...o, endpoint: "wss://other.example/ws" }, h);

Kefu.init({
  endpoint: "wss://chat.example.com/ws",
  site: "demo",
  onMessage: (m: KefuMessage) => lines.push(m.sender + ": " + m.body),
  onEvent: (e) => lines.push(e.event + (e.seq ?? "")),
  fallback,
});
const off = Kefu.on("status", (s) => lines.push(s.status));
Kefu.on("ack", (a) => lines.push(a.clientMsgId + "@" + a.seq));
Kefu.on("error", (e) => lines.push(e.code, String(e.fatal)));
const id: string = Kefu.send("hello");
Kefu.open().then((conversation: string) => Kefu.read() && Kefu.typing() && lines.push(conversation, id));
window.Kefu.close();
off();
export const pending: number = Kefu.pending().length + Kefu.user().length + (Kefu.conversation() || "").length;
