// Persistence in localStorage, with memory as the fallback where storage is
// unavailable (blocked cookies, sandboxed frames, a full quota): the SDK
// then works for the life of the page.

/** What is kept per site and visitor. */
export interface Saved {
  /** The current conversation. */
  c?: string;
  /** Cursor per conversation: every seq up to it has been seen. */
  s: Record<string, number>;
  /** Messages waiting for their ACK: client_msg_id, conversation, body. */
  q: { i: string; c?: string; b: string }[];
}

export function get(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch (_) {
    return null;
  }
}

export function put(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch (_) {
    // quota or access refused: the value lives in memory only
  }
}

export function load(key: string): Saved {
  try {
    const v = JSON.parse(get(key) || "");
    if (v && typeof v.s == "object" && Array.isArray(v.q)) return v;
  } catch (_) {
    // absent or damaged: start afresh
  }
  return { s: {}, q: [] };
}

/** rid returns n random bytes in hex, for visitor and message ids. */
export function rid(n: number): string {
  const b = crypto.getRandomValues(new Uint8Array(n));
  let s = "";
  for (const x of b) s += (x + 256).toString(16).slice(1);
  return s;
}
