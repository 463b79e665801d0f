// Uploads (CS contract, engine/api): POST <api>/api/v1/uploads with the
// file as the raw body, its type as Content-Type, its name in
// Content-Disposition (RFC 6266 filename*) and the visitor's HELLO as
// credentials (Authorization: Visitor base64url(JSON hello)), answered with
// {url, name, size, type}; the widget then sends a message of kind image
// or file whose body is that JSON.

/** Types the server accepts. */
export const TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"];

export interface Uploaded {
  url: string;
  name: string;
  size: number;
  type: string;
}

/** b64url encodes text (UTF-8) as base64url without padding. */
function b64url(text: string): string {
  let s = "";
  for (const x of new TextEncoder().encode(text)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** visitorAuth is the Authorization header value of a visitor. */
export function visitorAuth(site: string, user: string, token?: string): string {
  return "Visitor " + b64url(JSON.stringify({ site, role: "visitor", user, token }));
}

/** upload sends f and resolves with what to put in the message body. */
export async function upload(api: string, auth: string, f: File): Promise<Uploaded> {
  const name = "attachment; filename*=UTF-8''" + encodeURIComponent(f.name).replace(/['()*]/g, (c) => "%" + c.charCodeAt(0).toString(16));
  const r = await fetch(new URL("/api/v1/uploads", api).href, {
    method: "POST",
    body: f,
    headers: { "Content-Type": f.type, "Content-Disposition": name, Authorization: auth },
    credentials: "omit",
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok || typeof j.url != "string") throw new Error("upload: " + r.status + " " + ((j.error && j.error.code) || ""));
  return { url: j.url, name: j.name || f.name, size: j.size || f.size, type: j.type || f.type };
}
