// Public types of the Kefu visitor SDK. This file holds declarations only:
// the build copies it into dist/kefu.d.ts, so it must stay valid as a
// declaration file (no values, no imports).

/** One envelope of the WebSocket JSON protocol (docs/protocol-ws.md §2). */
export interface Envelope {
  type: string;
  id?: number;
  conversation?: string;
  seq?: number;
  client_msg_id?: string;
  sender?: string;
  kind?: string;
  body?: string;
  ts?: number;
  hello?: { site: string; role: string; user: string; token?: string; client?: string };
  error?: { code?: string; message?: string; retryable?: boolean };
  more?: boolean;
  limit?: number;
  event?: string;
  /** OPEN: the visitor's tags (routing). */
  tags?: string[];
  /** JOINED: the assigned agent and its group. */
  agent?: string;
  group?: string;
  /** RATE: 1..5 (the comment goes in body). */
  rating?: number;
  status?: string;
  /** JOINED: "queued", "open" or "closed". */
  state?: string;
  /** JOINED and EVENT "queue": place in the queue, 1 = next. */
  position?: number;
}

/**
 * What a transport reports to the session. Each transport calls `open` at
 * most once, then `message` for each envelope received, then `close`
 * exactly once (also when it never opened); after `close` it is dead.
 */
export interface TransportHandlers {
  open(): void;
  message(env: Envelope): void;
  close(code: number, reason: string): void;
}

/** A live connection carrying envelopes both ways. */
export interface Transport {
  /** Names the transport in status reports ("websocket", "longpoll"). */
  readonly kind: string;
  /** Sends one envelope; only called between open and close. */
  send(env: Envelope): void;
  /** Ends the connection at once; close is reported to the handlers. */
  close(): void;
}

/** Starts a connection for the options given to init. */
export type TransportFactory = (options: KefuOptions, handlers: TransportHandlers) => Transport;

/** Connection state, as reported by the "status" event. */
export type KefuStatus = "idle" | "connecting" | "online" | "offline" | "closed";

/** A message of the conversation (MESSAGE envelope). */
export interface KefuMessage {
  conversation: string;
  seq: number;
  /** "v:<visitor>", "a:<agent>" or "s:" for the system. */
  sender: string;
  /** "text", "image", "file" or "event". */
  kind: string;
  /** Plain text: display it as text, never as HTML. */
  body: string;
  /** Server commit time, Unix milliseconds. */
  ts: number;
  clientMsgId?: string;
  /** Sent by this visitor (from another tab or an earlier page). */
  mine: boolean;
}

/** A relayed event: "typing", or "read" with the reader's last seq. */
export interface KefuEvent {
  conversation: string;
  event: string;
  seq?: number;
  body?: string;
  sender: string;
  ts: number;
  mine: boolean;
}

/** A message of this visitor committed by the server (ACK). */
export interface KefuAck {
  conversation: string;
  seq: number;
  clientMsgId: string;
  ts?: number;
}

/** A message waiting for its ACK (kept in localStorage). */
export interface KefuOutgoing {
  clientMsgId: string;
  conversation?: string;
  body: string;
}

/** A failure: a server ERROR, a refused connection, a message given up. */
export interface KefuError {
  /** A server error code (docs/protocol-ws.md §8) or "connect_failed". */
  code: string;
  message: string;
  retryable: boolean;
  /** Set when a queued message was given up (non-retryable refusal). */
  clientMsgId?: string;
  /** Set when the SDK stopped reconnecting (bad credentials). */
  fatal?: boolean;
}

/**
 * Where the current conversation stands with routing: from JOINED, the
 * "queue" events and the system messages (kind "event", JSON bodies).
 * state is "" when the server says nothing about it.
 */
export interface KefuConversationState {
  conversation: string;
  /** "queued", "open", "closed", or "". */
  state: string;
  /** Place in the queue while queued, 1 = next. */
  position?: number;
  /** The assigned agent's id and display name (the name from the "assigned" or "transferred" message). */
  agent?: string;
  name?: string;
  group?: string;
  /** Who closed it: "v:…", "a:…" or "s:system". */
  by?: string;
  /** The visitor's rating, once given. */
  rating?: number;
}

/** Payloads of the events a handler can subscribe to with Kefu.on. */
export interface KefuEventMap {
  message: KefuMessage;
  event: KefuEvent;
  ack: KefuAck;
  open: { conversation: string };
  status: { status: KefuStatus; transport?: string };
  error: KefuError;
  /** The current conversation's routing state changed. */
  state: KefuConversationState;
  /** Every envelope received, after the SDK handled it (history pages and replies included). */
  envelope: Envelope;
}

/** Strings of the widget; "{n}" and "{name}" are replaced. Defaults are English. */
export interface KefuWidgetTexts {
  /** Launcher label (closed / open) and its unread count. Defaults "Open chat", "Close chat", "{n} unread". */
  launcher: string;
  close: string;
  unread: string;
  /** Panel title. Default "Chat with us" (or widget.title). */
  title: string;
  /** Subtitle when no agent is assigned. Default "We usually reply in a few minutes". */
  subtitle: string;
  end: string;
  messages: string;
  message: string;
  placeholder: string;
  send: string;
  attach: string;
  queue: string;
  queued: string;
  joined: string;
  transferred: string;
  requeued: string;
  closed: string;
  typing: string;
  agent: string;
  connecting: string;
  reconnecting: string;
  offline: string;
  unavailable: string;
  sending: string;
  sent: string;
  read: string;
  failed: string;
  retry: string;
  uploading: string;
  uploadFailed: string;
  badType: string;
  rate: string;
  star: string;
  comment: string;
  submit: string;
  skip: string;
  rateFailed: string;
  thanks: string;
  again: string;
}

/** The chat widget: a launcher bubble, and a panel loaded when first opened. */
export interface KefuWidgetOptions {
  /** Accent color (any CSS color; also the --kefu-color custom property). Default #2454d6. */
  color?: string;
  /** Panel title. Default "Chat with us". */
  title?: string;
  /** First line shown in the panel, as from the team (not stored). Default none. */
  greeting?: string;
  /** Corner of the launcher. Default "right". */
  position?: "right" | "left";
  /** UI strings to replace. */
  texts?: Partial<KefuWidgetTexts>;
  /** URL of kefu-widget.min.js. Default: next to kefu.js. */
  src?: string;
}

export interface KefuOptions {
  /**
   * Gateway URL: "wss://chat.example.com/ws"; http(s):// is taken as
   * ws(s):// and an empty path as /ws.
   */
  endpoint: string;
  /** Site key. */
  site: string;
  /** Visitor id. Default: a random id generated once, kept in localStorage. */
  user?: string;
  /** Token from the site's backend vouching for user (verified visitor). */
  signature?: string;
  onMessage?: (m: KefuMessage) => void;
  onEvent?: (e: KefuEvent) => void;
  /**
   * The transport when WebSocket cannot connect ("fallbackAfter" failed
   * attempts in a row, an attempt failing when it gets no WELCOME within
   * "timeout"): "auto", HTTP long-poll on the server's HTTP side (see
   * api); or a transport factory. WebSocket is probed every "retryMax"
   * while on it and used again as soon as it connects. "ws" or false:
   * WebSocket only. "longpoll": long-poll only. Default "auto".
   */
  fallback?: "auto" | "ws" | "longpoll" | TransportFactory | false;
  /** Failed WebSocket attempts in a row before the fallback. Default 2. */
  fallbackAfter?: number;
  /** First reconnect delay, ms (doubled per failure, jittered). Default 500. */
  retryMin?: number;
  /** Longest reconnect delay, ms. Default 30000. */
  retryMax?: number;
  /** Idle time, ms, before an app-level ping (paused while the page is hidden); 0: none. Default 30000. */
  heartbeat?: number;
  /** Time, ms, a request may wait for its answer before the connection is deemed dead. Default 10000. */
  timeout?: number;
  /** localStorage key prefix. Default "kefu". */
  storageKey?: string;
  /**
   * Show the chat widget (true: with its defaults). Kefu.open and
   * Kefu.close then also open and close its panel. Default: no UI.
   */
  widget?: KefuWidgetOptions | boolean;
  /** Origin of the server's HTTP side, for uploads and long-poll ("https://chat.example.com"). Default: where kefu.js was loaded from. */
  api?: string;
}

export interface KefuAPI {
  readonly version: string;
  /** Starts (or restarts) the SDK; connects at once when a conversation or queued messages are stored. */
  init(options: KefuOptions): KefuAPI;
  /** Connects and opens the stored conversation, or a new one. Resolves with its id. With the widget, also opens its panel. */
  open(): Promise<string>;
  /** Disconnects and stops reconnecting; stored state and the queue stay. With the widget, closes its panel only (replies still arrive). */
  close(): void;
  /** Queues a text message and sends it as soon as possible; returns its client_msg_id. */
  send(text: string): string;
  /** Tells the agent the visitor is typing (throttled). False when offline. */
  typing(): boolean;
  /** Tells the agent what the visitor has read (default: the last seq seen). False when offline. */
  read(seq?: number): boolean;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof KefuEventMap>(event: K, fn: (payload: KefuEventMap[K]) => void): () => void;
  /** The connection state. */
  status(): KefuStatus;
  /** The visitor id in use ("" before init). */
  user(): string;
  /** The current conversation id, if any. */
  conversation(): string | undefined;
  /** Messages not yet acknowledged, oldest first. */
  pending(): KefuOutgoing[];
  /**
   * Sends a request envelope (an id is assigned) and resolves with its
   * reply (ok, ack, joined, replay_end); an ERROR rejects with an Error
   * carrying code, as does a connection that is not online ("offline") or
   * lost before the reply. Examples: {type: "close", conversation},
   * {type: "rate", conversation, rating, body}, {type: "open"} (a new
   * conversation, which becomes the current one).
   */
  call(env: Envelope): Promise<Envelope>;
  /** The current conversation's routing state, if known. */
  state(): KefuConversationState | undefined;
  /** The WebSocket transport, for use in a fallback chain or a custom setup. */
  readonly websocket: TransportFactory;
  /** The HTTP long-poll transport, likewise. */
  readonly longpoll: TransportFactory;
}
