// Wire and REST shapes the console uses (notes: docs/protocol-ws.md and the
// customer-service contract). Everything the server sends is read
// defensively: a missing field is its zero value.

/** One envelope of the WebSocket JSON protocol. */
export interface Env {
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
  cursors?: { conversation: string; seq: number }[];
  error?: { code?: string; message?: string; retryable?: boolean };
  more?: boolean;
  limit?: number;
  event?: string;
  tags?: string[];
  agent?: string;
  group?: string;
  rating?: number;
  status?: string;
  state?: string;
  position?: number;
}

/** A participant's read cursor (Conversation.reads). */
export interface Read {
  who: string;
  seq: number;
  ts: number;
}

/** Conversation metadata (proto.Conversation as JSON). */
export interface Meta {
  id: string;
  visitor: string;
  state: string;
  agent: string;
  group: string;
  tags: string[];
  created: number;
  queued_at: number;
  assigned_at: number;
  closed_at: number;
  closed_by: string;
  rating: number;
  comment: string;
  last_seq: number;
  last_ts: number;
  last_body: string;
  last_sender: string;
  reads: Read[];
}

/** A stored message. */
export interface Msg {
  seq: number;
  sender: string;
  kind: string;
  body: string;
  ts: number;
  cid?: string;
}

/** The logged-in agent (REST login and /me). */
export interface Agent {
  id: string;
  email: string;
  name: string;
  role: string;
  groups: string[];
  capacity: number;
  weight: number;
}

/** A session kept in sessionStorage (never in a URL). */
export interface Sess {
  token: string;
  site: string;
  expires: number;
  agent: Agent;
}

/** An uploaded file: the JSON body of an image or file message. */
export interface Upload {
  url: string;
  name: string;
  size: number;
  type: string;
}
