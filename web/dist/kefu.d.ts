/*! kefu.js 1.0.0 - Kefu visitor SDK */

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

/** Payloads of the events a handler can subscribe to with Kefu.on. */
export interface KefuEventMap {
  message: KefuMessage;
  event: KefuEvent;
  ack: KefuAck;
  open: { conversation: string };
  status: { status: KefuStatus; transport?: string };
  error: KefuError;
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
   * The transport to use when WebSocket cannot connect ("fallbackAfter"
   * failed attempts in a row); WebSocket is probed again while on it and
   * used as soon as it connects. false: WebSocket only. Default: none.
   */
  fallback?: TransportFactory | false;
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
}

export interface KefuAPI {
  readonly version: string;
  /** Starts (or restarts) the SDK; connects at once when a conversation or queued messages are stored. */
  init(options: KefuOptions): KefuAPI;
  /** Connects and opens the stored conversation, or a new one. Resolves with its id. */
  open(): Promise<string>;
  /** Disconnects and stops reconnecting; stored state and the queue stay. */
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
  /** The WebSocket transport, for use in a fallback chain or a custom setup. */
  readonly websocket: TransportFactory;
}

/** The SDK: window.Kefu in the script builds, the default export of kefu.esm.js. */
export declare const Kefu: KefuAPI;
export default Kefu;

declare global {
  interface Window {
    Kefu: KefuAPI;
  }
}
