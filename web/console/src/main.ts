// Entry point of the agent console: the session (sessionStorage, never a
// URL), the login screen, the shell (top bar: connection, presence, agent,
// logout) and hash routes:
//
//	#/            inbox: queue, my conversations
//	#/c/<id>      inbox with conversation <id> open
//	#/admin/<p>   admin page p (agents, groups, canned, site, webhooks); admins only
import { API, call, msgError, normAgent, num, pick, str } from "./api";
import { Desk } from "./desk";
import { byId, fill, h, toast } from "./dom";
import { wsURL } from "./live";
import type { Sess } from "./types";
import { Inbox } from "./inbox";
import { adminPage, ADMIN_PAGES } from "./admin";

const KEY = "kefu-console";
const SITE_KEY = "kefu-console:site";

function loadSess(): Sess | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (s && s.token && s.agent && s.agent.id && (!s.expires || s.expires > Date.now())) return s;
  } catch (_) {
    // damaged: log in again
  }
  return null;
}

function saveSess(s: Sess | null): void {
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch (_) {
    // storage refused: the session lasts as long as the page
  }
}

/** endpoint is the WebSocket endpoint the server configured in the page. */
function endpoint(): string {
  const m = document.querySelector('meta[name="kefu-ws"]');
  return wsURL((m && m.getAttribute("content")) || "");
}

const root = byId<HTMLDivElement>("app");

/** login shows the login form; msg explains why (an ended session). */
function login(msg = ""): void {
  document.title = "Kefu console — log in";
  let site = "";
  try {
    site = localStorage.getItem(SITE_KEY) || "";
  } catch (_) {
    // no storage
  }
  const err = h("p", { id: "login-error", class: "error", role: "alert" }, msg);
  const btn = h("button", { type: "submit" }, "Log in");
  const form = h(
    "form",
    { id: "login", class: "card login", autocomplete: "on" },
    h("h1", null, "Kefu console"),
    h("label", null, "Site", h("input", { id: "site", name: "site", required: true, value: site, autocomplete: "organization", spellcheck: "false" })),
    h("label", null, "Email", h("input", { id: "email", name: "email", type: "email", required: true, autocomplete: "username" })),
    h("label", null, "Password", h("input", { id: "password", name: "password", type: "password", required: true, autocomplete: "current-password" })),
    btn,
    err,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = (id: string) => (form.querySelector("#" + id) as HTMLInputElement).value.trim();
    const site = v("site");
    btn.disabled = true;
    err.textContent = "";
    try {
      const r = await call("", "POST", "/login", { site, email: v("email"), password: (form.querySelector("#password") as HTMLInputElement).value });
      const token = str(r.token);
      if (!token) throw new Error("the server sent no session");
      const s: Sess = { token, site, expires: expiry(pick(r, "expires_at", "expiresAt")), agent: normAgent(r.agent) };
      try {
        localStorage.setItem(SITE_KEY, site);
      } catch (_) {
        // no storage
      }
      saveSess(s);
      app(s);
    } catch (e) {
      err.textContent = msgError(e);
      btn.disabled = false;
    }
  });
  fill(root, form);
  (form.querySelector(site ? "#email" : "#site") as HTMLInputElement).focus();
}

let current: Desk | null = null;

/** logout ends the session (on the server too, unless it already ended). */
function logout(desk: Desk, msg: string, tellServer: boolean): void {
  if (current != desk) return;
  current = null;
  desk.stop();
  if (tellServer) desk.api.post("/logout").catch(() => {});
  saveSess(null);
  removeEventListener("hashchange", route);
  location.hash = "";
  login(msg);
}

let inbox: Inbox | null = null;

function app(s: Sess): void {
  const ended = () => logout(desk, "Your session has ended. Please log in again.", false);
  const api = new API(s.token, ended);
  const desk = new Desk(s.agent, s.site, api, endpoint(), ended);
  current = desk;
  const conn = h("span", { id: "conn", class: "conn", role: "status" });
  const presence = h(
    "select",
    { id: "presence", title: "Your status", "aria-label": "Status" },
    h("option", { value: "online" }, "Online"),
    h("option", { value: "away" }, "Away"),
  );
  presence.addEventListener("change", () => desk.setStatus(presence.value).catch((e) => toast(msgError(e))));
  const isAdmin = s.agent.role == "admin";
  const top = h(
    "header",
    { id: "top" },
    h("strong", { class: "brand" }, "Kefu"),
    h("nav", null, h("a", { id: "nav-inbox", href: "#/" }, "Inbox"), isAdmin && h("a", { id: "nav-admin", href: "#/admin/agents" }, "Admin")),
    h("span", { class: "grow" }),
    conn,
    presence,
    h("span", { id: "me", class: "me" }, s.agent.name || s.agent.email || s.agent.id, " · ", s.site),
    h("button", { id: "logout", type: "button", onclick: () => logout(desk, "", true) }, "Log out"),
  );
  const main = h("main", { id: "main" });
  fill(root, top, main, h("div", { id: "toast", role: "alert" }));
  inbox = new Inbox(desk, main);
  desk.onNotice = toast;
  desk.onChange = (d) => {
    if (d.has("live") || d.has("status")) {
      const st = desk.live.state;
      conn.textContent = st == "online" ? "● connected" : st == "connecting" ? "● connecting…" : st == "offline" ? "● offline, reconnecting" : "● closed";
      conn.className = "conn " + st;
      presence.value = desk.status == "away" ? "away" : "online";
      presence.dataset.status = desk.status; // as the server last said
      presence.disabled = st != "online";
    }
    if (inbox && inbox.shown) inbox.update(d);
  };
  addEventListener("hashchange", route);
  desk.start();
  route();
}

function route(): void {
  const desk = current;
  if (!desk || !inbox) return;
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const main = byId<HTMLElement>("main");
  for (const a of document.querySelectorAll("#top nav a")) a.classList.remove("on");
  if (parts[0] == "admin") {
    if (desk.agent.role != "admin") {
      location.hash = "#/";
      return;
    }
    byId("nav-admin").classList.add("on");
    inbox.hide();
    const page = ADMIN_PAGES.some((p) => p[0] == parts[1]) ? parts[1] : "agents";
    adminPage(desk, main, page);
    return;
  }
  byId("nav-inbox").classList.add("on");
  inbox.show(parts[0] == "c" && parts[1] ? parts[1] : "");
}

/** expiry reads expires_at: an RFC 3339 time, Unix seconds or Unix ms (0: none). */
function expiry(v: unknown): number {
  if (typeof v == "string" && isNaN(Number(v))) return Date.parse(v) || 0;
  const n = num(v);
  return n < 1e12 ? n * 1000 : n;
}

const s = loadSess();
if (s) app(s);
else login();
