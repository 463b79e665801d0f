// The REST client (/api/v1/, same origin). The session token goes in the
// Authorization header only; a 401 ends the session. Answers are read
// defensively (norm*): a field the server leaves out is its zero value, and
// both snake_case and camelCase names are accepted.
import type { Agent, Meta, Msg, Read, Upload } from "./types";

export const BASE = "/api/v1";

/** An error answer: HTTP status, the API's code and message. */
export class APIError extends Error {
  status: number;
  code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

type Obj = Record<string, unknown>;

/** call does one request; the body is JSON unless it is a Blob. */
export async function call(token: string, method: string, path: string, body?: unknown, onAuth?: () => void): Promise<Obj> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  let data: BodyInit | undefined;
  if (body instanceof Blob) {
    headers["Content-Type"] = body.type || "application/octet-stream";
    data = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    data = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(BASE + path, { method, headers, body: data, cache: "no-store", credentials: "omit", redirect: "error" });
  } catch (e) {
    throw new APIError(0, "network", "the server cannot be reached");
  }
  let json: Obj = {};
  const text = await res.text();
  try {
    if (text) json = JSON.parse(text);
  } catch (_) {
    json = {};
  }
  if (!res.ok) {
    const err = (json.error || {}) as Obj;
    if (res.status == 401 && onAuth) onAuth();
    throw new APIError(res.status, str(err.code) || "http_" + res.status, str(err.message) || res.statusText || "request failed");
  }
  return json && typeof json == "object" ? json : {};
}

/** API binds a token and the handler of an ended session. */
export class API {
  constructor(
    readonly token: string,
    private onAuth: () => void,
  ) {}
  get(path: string): Promise<Obj> {
    return call(this.token, "GET", path, undefined, this.onAuth);
  }
  post(path: string, body?: unknown): Promise<Obj> {
    return call(this.token, "POST", path, body === undefined ? {} : body, this.onAuth);
  }
  put(path: string, body: unknown): Promise<Obj> {
    return call(this.token, "PUT", path, body, this.onAuth);
  }
  patch(path: string, body: unknown): Promise<Obj> {
    return call(this.token, "PATCH", path, body, this.onAuth);
  }
  del(path: string): Promise<Obj> {
    return call(this.token, "DELETE", path, undefined, this.onAuth);
  }
  /** upload posts a file's bytes with its Content-Type (CS.md uploads). */
  async upload(file: Blob): Promise<Upload> {
    const r = await call(this.token, "POST", "/uploads", file, this.onAuth);
    return { url: str(r.url), name: str(r.name), size: num(r.size), type: str(r.type) };
  }
}

/** enc escapes one path segment. */
export const enc = encodeURIComponent;

/** q builds a query string from the non-empty values. */
export function q(params: Record<string, string | number | undefined>): string {
  const parts: string[] = [];
  for (const k in params) {
    const v = params[k];
    if (v !== undefined && v !== "") parts.push(k + "=" + enc(String(v)));
  }
  return parts.length ? "?" + parts.join("&") : "";
}

export function str(v: unknown): string {
  return typeof v == "string" ? v : typeof v == "number" ? String(v) : "";
}

/** num reads a number, also from a string (protojson writes 64-bit integers as strings). */
export function num(v: unknown): number {
  const n = typeof v == "number" ? v : typeof v == "string" ? Number(v) : 0;
  return isFinite(n) ? n : 0;
}

function strs(v: unknown): string[] {
  return Array.isArray(v) ? v.map(str).filter((s) => s) : [];
}

/** pick returns the first of o's keys that is set. */
export function pick(o: unknown, ...keys: string[]): unknown {
  if (!o || typeof o != "object") return undefined;
  for (const k of keys) {
    const v = (o as Obj)[k];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** camel turns "queued_at" into "queuedAt". */
function camel(k: string): string {
  return k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function field(o: unknown, k: string): unknown {
  return pick(o, k, camel(k));
}

/** list finds the array in a list answer: the answer itself, or under one of keys or "items". */
export function list(r: unknown, ...keys: string[]): Obj[] {
  if (Array.isArray(r)) return r as Obj[];
  const v = pick(r, ...keys, "items", "data");
  return Array.isArray(v) ? (v as Obj[]) : [];
}

/** next is a list answer's cursor of the following page ("" at the end). */
export function next(r: unknown): string {
  return str(pick(r, "next", "next_cursor", "nextCursor", "cursor"));
}

export function normAgent(o: unknown): Agent {
  return {
    id: str(pick(o, "id", "agent", "agent_id")),
    email: str(field(o, "email")),
    name: str(field(o, "name")),
    role: str(field(o, "role")) || "agent",
    groups: strs(field(o, "groups")),
    capacity: num(field(o, "capacity")),
    weight: num(field(o, "weight")),
  };
}

export function normRead(o: unknown): Read {
  return { who: str(field(o, "who")), seq: num(field(o, "seq")), ts: num(field(o, "ts")) };
}

export function normMeta(o: unknown): Meta {
  const reads = field(o, "reads");
  const m = {} as Meta;
  m.id = str(pick(o, "id", "conversation"));
  for (const k of ["visitor", "state", "agent", "group", "closed_by", "comment", "last_body", "last_sender"] as const) m[k] = str(field(o, k));
  for (const k of ["created", "queued_at", "assigned_at", "closed_at", "rating", "last_seq", "last_ts"] as const) m[k] = num(field(o, k));
  m.tags = strs(field(o, "tags"));
  m.reads = Array.isArray(reads) ? reads.map(normRead) : [];
  return m;
}

export function normMsg(o: unknown): Msg {
  return {
    seq: num(field(o, "seq")),
    sender: str(field(o, "sender")),
    kind: str(field(o, "kind")) || "text",
    body: str(field(o, "body")),
    ts: num(field(o, "ts")),
    cid: str(field(o, "client_msg_id")) || undefined,
  };
}

/** msgError is a readable text of a failed request. */
export function msgError(e: unknown): string {
  if (e instanceof APIError) return e.message + (e.code && e.code != e.message ? " (" + e.code + ")" : "");
  return e instanceof Error ? e.message : String(e);
}
