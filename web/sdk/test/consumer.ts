// Type-checked against the committed declarations (dist/kefu.d.ts) by the Go
// test TestTypes: the way a site's TypeScript code uses the SDK.
import Kefu, { type Envelope, type KefuConversationState, type KefuMessage, type TransportFactory } from "../../dist/kefu";

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
// Long-poll only, on an HTTP side elsewhere; and the factory for a custom chain.
Kefu.init({ endpoint: "wss://chat.example.com/ws", site: "demo", fallback: "longpoll", api: "https://chat.example.com" });
export const lp: TransportFactory = (o, h) => Kefu.longpoll({ ...o, fallback: "ws" }, h);
// The widget, its routing state, and requests of the CS contract.
Kefu.init({ endpoint: "wss://chat.example.com/ws", site: "demo", widget: { color: "#0f766e", title: "Support", position: "left", texts: { queue: "#{n}" } } });
Kefu.on("state", (s: KefuConversationState) => lines.push(s.state, String(s.position ?? ""), s.name ?? ""));
Kefu.call({ type: "rate", conversation: Kefu.conversation(), rating: 5, body: "thanks" }).then((ok: Envelope) => lines.push(ok.type));
export const pending: number = Kefu.pending().length + Kefu.user().length + (Kefu.conversation() || "").length;
