// Admin pages (role admin; the server checks it too): agents (create with a
// one-time password shown once, edit, new password, delete), groups and
// their tags, canned replies, the site (key, secret rotation, allowed
// origins, settings) and webhooks (endpoints, dead letters, retry).
import { API, enc, list, msgError, next, normAgent, num, pick, q, str } from "./api";
import { confirmButton } from "./chat";
import type { Desk } from "./desk";
import { clock, fill, h, toast } from "./dom";
import type { Agent } from "./types";

export const ADMIN_PAGES: [string, string][] = [
  ["agents", "Agents"],
  ["groups", "Groups"],
  ["canned", "Canned replies"],
  ["site", "Site"],
  ["webhooks", "Webhooks"],
];

const EVENTS = ["conversation.created", "conversation.assigned", "conversation.closed", "message.created", "conversation.rated"];

export function adminPage(desk: Desk, main: HTMLElement, page: string): void {
  const body = h("div", { id: "admin-body", class: "admin-body" });
  fill(
    main,
    h(
      "div",
      { id: "admin", class: "admin" },
      h("nav", { class: "tabs" }, ADMIN_PAGES.map(([id, label]) => h("a", { id: "tab-" + id, href: "#/admin/" + id, class: id == page ? "on" : "" }, label))),
      body,
    ),
  );
  const pages: Record<string, (api: API, el: HTMLElement, desk: Desk) => void> = { agents, groups, canned, site, webhooks };
  pages[page](desk.api, body, desk);
}

/** csv splits a comma-separated field. */
const csv = (s: string) =>
  s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x);

function input(name: string, value: string | number = "", attrs: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h("input", { name, value, "aria-label": name, ...attrs });
}

function field(label: string, el: HTMLElement): HTMLElement {
  return h("label", null, label, el);
}

/** form builds a form whose submit runs save, showing its error. */
function form(id: string, fields: HTMLElement[], label: string, save: (f: HTMLFormElement) => Promise<void>, extra: HTMLElement[] = []): HTMLFormElement {
  const err = h("p", { class: "error", role: "alert" });
  const btn = h("button", { type: "submit" }, label);
  const f = h("form", { id, class: "form" }, fields, h("div", { class: "buttons" }, btn, extra), err);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    btn.disabled = true;
    err.textContent = "";
    try {
      await save(f);
    } catch (x) {
      err.textContent = msgError(x);
    } finally {
      btn.disabled = false;
    }
  });
  return f;
}

function val(f: HTMLFormElement, name: string): string {
  const el = f.elements.namedItem(name) as HTMLInputElement | null;
  return el ? el.value.trim() : "";
}

function table(id: string, head: string[], rows: HTMLElement[]): HTMLElement {
  return h("table", { id, class: "grid" }, h("thead", null, h("tr", null, head.map((x) => h("th", null, x)))), h("tbody", null, rows.length ? rows : h("tr", null, h("td", { colspan: head.length, class: "muted" }, "None yet."))));
}

/** secretBox shows a value that is displayed once. */
function secretBox(el: HTMLElement, title: string, value: string, note: string): void {
  el.hidden = false;
  fill(
    el,
    h("strong", null, title),
    h("code", { id: "otp-value" }, value),
    h("button", { type: "button", onclick: () => navigator.clipboard && navigator.clipboard.writeText(value).then(() => toast("Copied")) }, "Copy"),
    h("button", { type: "button", onclick: () => ((el.hidden = true), fill(el)) }, "Done"),
    h("p", null, note),
  );
}

// ---- agents ---------------------------------------------------------------

function agentFields(a?: Agent): HTMLElement[] {
  const role = h("select", { name: "role", "aria-label": "role" }, h("option", { value: "agent" }, "agent"), h("option", { value: "admin" }, "admin"));
  role.value = a ? a.role : "agent";
  return [
    field("Email", input("email", a?.email, { type: "email", required: true })),
    field("Name", input("name", a?.name, { required: true })),
    field("Role", role),
    field("Groups (comma-separated)", input("groups", a ? a.groups.join(", ") : "")),
    field("Capacity", input("capacity", a?.capacity || 5, { type: "number", min: 1, max: 1000 })),
    field("Weight", input("weight", a?.weight || 1, { type: "number", min: 1, max: 100 })),
  ];
}

function agentSpec(f: HTMLFormElement): Record<string, unknown> {
  return { email: val(f, "email"), name: val(f, "name"), role: val(f, "role"), groups: csv(val(f, "groups")), capacity: num(val(f, "capacity")), weight: num(val(f, "weight")) };
}

function agents(api: API, el: HTMLElement, desk: Desk): void {
  const otp = h("div", { id: "otp", class: "otp", hidden: true, role: "status" });
  const list_ = h("div");
  const once = "Shown once: hand it over now. It cannot be displayed again (set a new one if it is lost).";
  let cursor = "";
  let rows: HTMLElement[] = [];
  const load = async (more = false) => {
    if (!more) (cursor = ""), (rows = []);
    try {
      const r = await api.get("/agents" + q({ cursor, limit: 100 }));
      cursor = next(r);
      for (const a of list(r, "agents").map(normAgent)) rows.push(row(a));
      fill(list_, table("agents", ["Name", "Email", "Role", "Groups", "Capacity", "Weight", ""], rows), cursor && h("button", { type: "button", onclick: () => load(true) }, "More"));
    } catch (e) {
      fill(list_, h("p", { class: "error" }, msgError(e)));
    }
  };
  const row = (a: Agent): HTMLElement => {
    const tr = h(
      "tr",
      { "data-agent": a.id },
      h("td", null, a.name),
      h("td", null, a.email),
      h("td", null, a.role),
      h("td", null, a.groups.join(", ")),
      h("td", null, a.capacity),
      h("td", null, a.weight),
      h(
        "td",
        { class: "row-actions" },
        h("button", { type: "button", class: "edit", onclick: () => edit() }, "Edit"),
        a.id != desk.agent.id &&
        h(
          "button",
          {
            type: "button",
            class: "password",
            onclick: async () => {
              try {
                const r = await api.post("/agents/" + enc(a.id) + "/password");
                secretBox(otp, "New password for " + a.email + ": ", str(pick(r, "password")), once);
              } catch (e) {
                toast(msgError(e));
              }
            },
          },
          "New password",
        ),
        a.id != desk.agent.id &&
          confirmButton("delete-" + a.id, "Delete", "Delete " + a.email + "?", () =>
            api
              .del("/agents/" + enc(a.id))
              .then(() => load())
              .catch((e) => toast(msgError(e))),
          ),
      ),
    );
    const edit = () => {
      const f = form(
        "edit-agent",
        agentFields(a),
        "Save",
        async (f) => {
          await api.patch("/agents/" + enc(a.id), agentSpec(f));
          toast("Saved");
          load();
        },
        [h("button", { type: "button", onclick: () => load() }, "Cancel")],
      );
      fill(tr, h("td", { colspan: 7 }, f));
    };
    return tr;
  };
  const create = form("new-agent", agentFields(), "Create agent", async (f) => {
    const r = await api.post("/agents", agentSpec(f));
    const a = normAgent(pick(r, "agent") || {});
    secretBox(otp, "Password for " + (a.email || val(f, "email")) + ": ", str(pick(r, "password")), once);
    f.reset();
    load();
  });
  fill(el, h("h2", null, "Agents"), otp, list_, h("h3", null, "New agent"), create);
  load();
}

// ---- groups ---------------------------------------------------------------

function groups(api: API, el: HTMLElement): void {
  const list_ = h("div");
  const save = (id: string, tags: string) => api.put("/groups/" + enc(id), { tags: csv(tags) });
  const load = async () => {
    try {
      const r = await api.get("/groups");
      const rows = list(r, "groups").map((g) => {
        const id = typeof g == "string" ? g : str(pick(g, "id", "name"));
        const tags = pick(g, "tags");
        const t = input("tags", Array.isArray(tags) ? tags.map(str).join(", ") : "");
        return h(
          "tr",
          { "data-group": id },
          h("td", null, id),
          h("td", null, t),
          h("td", null, str(pick(g, "members"))),
          h("td", null, str(pick(g, "online"))),
          h("td", null, str(pick(g, "waiting"))),
          h(
            "td",
            { class: "row-actions" },
            h("button", { type: "button", onclick: () => save(id, t.value).then(() => toast("Saved"), (e) => toast(msgError(e))) }, "Save tags"),
            confirmButton("delete-group-" + id, "Delete", "Delete " + id + "?", () =>
              api
                .del("/groups/" + enc(id))
                .then(load)
                .catch((e) => toast(msgError(e))),
            ),
          ),
        );
      });
      fill(list_, table("groups", ["Group", "Tags (visitor tags routed here)", "Agents", "Online", "Waiting", ""], rows));
    } catch (e) {
      fill(list_, h("p", { class: "error" }, msgError(e)));
    }
  };
  const create = form("new-group", [field("Group id", input("id", "", { required: true, pattern: "[A-Za-z0-9._-]+" })), field("Tags (comma-separated)", input("tags"))], "Save group", async (f) => {
    await save(val(f, "id"), val(f, "tags"));
    f.reset();
    load();
  });
  fill(el, h("h2", null, "Groups"), list_, h("h3", null, "New group"), create);
  load();
}

// ---- canned replies ---------------------------------------------------------

function canned(api: API, el: HTMLElement): void {
  const list_ = h("div");
  let editing = "";
  const fields = () => [field("Shortcut", input("shortcut", "", { required: true, pattern: "[^\\s/]+" })), field("Title", input("title")), field("Text", h("textarea", { name: "body", rows: 3, required: true, "aria-label": "text" }))];
  const f = form("canned-form", fields(), "Save reply", async (f) => {
    const spec = { shortcut: val(f, "shortcut").replace(/^\//, ""), title: val(f, "title"), body: val(f, "body") };
    if (editing) await api.put("/canned/" + enc(editing), spec);
    else await api.post("/canned", spec);
    editing = "";
    f.reset();
    load();
  });
  const load = async () => {
    try {
      const rows: HTMLElement[] = [];
      let cursor = "";
      do {
        const r = await api.get("/canned" + q({ cursor, limit: 200 }));
        cursor = next(r);
        for (const c of list(r, "canned", "replies")) {
          const id = str(pick(c, "id"));
          const v = { shortcut: str(pick(c, "shortcut")), title: str(pick(c, "title")), body: str(pick(c, "body")) };
          rows.push(
            h(
              "tr",
              { "data-canned": id },
              h("td", null, "/" + v.shortcut),
              h("td", null, v.title),
              h("td", { class: "preview" }, v.body),
              h(
                "td",
                { class: "row-actions" },
                h(
                  "button",
                  {
                    type: "button",
                    onclick: () => {
                      editing = id;
                      for (const k of ["shortcut", "title", "body"] as const) (f.elements.namedItem(k) as HTMLInputElement).value = v[k];
                      f.scrollIntoView();
                    },
                  },
                  "Edit",
                ),
                confirmButton("delete-canned-" + id, "Delete", "Delete /" + v.shortcut + "?", () =>
                  api
                    .del("/canned/" + enc(id))
                    .then(load)
                    .catch((e) => toast(msgError(e))),
                ),
              ),
            ),
          );
        }
      } while (cursor && rows.length < 5000);
      fill(list_, table("canned", ["Shortcut", "Title", "Text", ""], rows));
    } catch (e) {
      fill(list_, h("p", { class: "error" }, msgError(e)));
    }
  };
  fill(el, h("h2", null, "Canned replies"), h("p", { class: "muted" }, "Agents type /shortcut in a reply and press Tab."), list_, h("h3", null, "New or edited reply"), f);
  load();
}

// ---- site -------------------------------------------------------------------

function site(api: API, el: HTMLElement): void {
  const box = h("div", { id: "otp", class: "otp", hidden: true, role: "status" });
  const load = async () => {
    let r;
    try {
      r = await api.get("/site");
    } catch (e) {
      fill(el, h("h2", null, "Site"), h("p", { class: "error" }, msgError(e)));
      return;
    }
    const s = pick(r, "site") || r;
    const set = (pick(s, "settings") || {}) as Record<string, unknown>;
    const origins = pick(s, "origins");
    const secret = str(pick(s, "secret"));
    const shown = h("code", { id: "secret" }, secret ? "••••••••" : "(hidden)");
    const f = form(
      "site-form",
      [
        field("Allowed origins (one per line; empty allows any)", h("textarea", { name: "origins", rows: 4, value: Array.isArray(origins) ? origins.map(str).join("\n") : "", "aria-label": "origins" })),
        field("Offline message", input("offline_message", str(pick(set, "offline_message", "offlineMessage")))),
        field("Queue message", input("queue_message", str(pick(set, "queue_message", "queueMessage")))),
        field("Longest queue (0: no limit)", input("max_queue", num(pick(set, "max_queue", "maxQueue")), { type: "number", min: 0 })),
      ],
      "Save",
      async (f) => {
        const o = (f.elements.namedItem("origins") as HTMLTextAreaElement).value
          .split("\n")
          .map((x) => x.trim())
          .filter((x) => x);
        await api.patch("/site", { origins: o, settings: { offline_message: val(f, "offline_message"), queue_message: val(f, "queue_message"), max_queue: num(val(f, "max_queue")) } });
        toast("Saved");
      },
    );
    fill(
      el,
      h("h2", null, "Site"),
      h(
        "dl",
        { class: "site" },
        h("dt", null, "Site key"),
        h("dd", null, h("code", { id: "site-key" }, str(pick(s, "id", "key")))),
        h("dt", null, "Secret (signs verified visitors)"),
        h(
          "dd",
          null,
          shown,
          secret && h("button", { type: "button", class: "link", onclick: () => (shown.textContent = shown.textContent == secret ? "••••••••" : secret) }, "Show / hide"),
          confirmButton("rotate", "Rotate secret", "Rotate? Old tokens stop after the grace period", async () => {
            try {
              const r = await api.post("/site/secret");
              const n = str(pick(pick(r, "site") || r, "secret"));
              secretBox(box, "New secret: ", n, "Give it to your backend now; the previous secret keeps verifying for the grace period.");
              load();
            } catch (e) {
              toast(msgError(e));
            }
          }),
        ),
      ),
      box,
      f,
    );
  };
  load();
}

// ---- webhooks -----------------------------------------------------------------

function webhooks(api: API, el: HTMLElement): void {
  const box = h("div", { id: "otp", class: "otp", hidden: true, role: "status" });
  const eps = h("div");
  const dead = h("div");
  const load = async () => {
    try {
      const r = await api.get("/webhooks");
      const rows = list(r, "webhooks", "endpoints").map((w) => {
        const id = str(pick(w, "id", "ID"));
        const ev = pick(w, "events", "Events");
        return h(
          "tr",
          { "data-webhook": id },
          h("td", null, id),
          h("td", null, str(pick(w, "url", "URL"))),
          h("td", null, Array.isArray(ev) ? ev.map(str).join(", ") : ""),
          h("td", { class: "row-actions" }, confirmButton("delete-webhook-" + id, "Delete", "Delete?", () => api.del("/webhooks/" + enc(id)).then(load, (e) => toast(msgError(e))))),
        );
      });
      fill(eps, table("webhooks", ["Id", "URL", "Events", ""], rows));
    } catch (e) {
      fill(eps, h("p", { class: "error" }, msgError(e)));
    }
    try {
      const r = await api.get("/webhooks/dead" + q({ limit: 200 }));
      const rows = list(r, "dead", "dead_letters", "deadLetters").map((d) => {
        const id = str(pick(d, "event_id", "eventId", "EventID", "id"));
        const t = pick(d, "last_attempt", "lastAttempt", "LastAttempt");
        return h(
          "tr",
          { "data-dead": id },
          h("td", null, id),
          h("td", null, str(pick(d, "endpoint", "Endpoint"))),
          h("td", null, str(pick(d, "type", "Type"))),
          h("td", null, str(pick(d, "attempts", "Attempts"))),
          h("td", null, [str(pick(d, "last_status", "lastStatus", "LastStatus")), str(pick(d, "last_error", "lastError", "LastError"))].filter((x) => x && x != "0").join(" · ")),
          h("td", null, typeof t == "string" && isNaN(Number(t)) ? clock(Date.parse(t)) : clock(num(t))),
          h(
            "td",
            { class: "row-actions" },
            h(
              "button",
              {
                type: "button",
                onclick: () =>
                  api.post("/webhooks/dead/" + enc(id) + "/retry").then(
                    () => (toast("Queued for delivery"), load()),
                    (e) => toast(msgError(e)),
                  ),
              },
              "Retry",
            ),
          ),
        );
      });
      fill(dead, table("dead-letters", ["Event", "Endpoint", "Type", "Attempts", "Last failure", "Last attempt", ""], rows));
    } catch (e) {
      fill(dead, h("p", { class: "error" }, msgError(e)));
    }
  };
  const f = form(
    "new-webhook",
    [
      field("URL (http or https)", input("url", "", { type: "url", required: true })),
      field("Signing secret", input("secret", rid32(), { required: true, minlength: 16 })),
      h("fieldset", null, h("legend", null, "Events"), EVENTS.map((e) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "events", value: e, checked: true }), e))),
    ],
    "Add endpoint",
    async (f) => {
      const events = [...f.querySelectorAll<HTMLInputElement>('input[name="events"]:checked')].map((x) => x.value);
      const r = await api.post("/webhooks", { url: val(f, "url"), secret: val(f, "secret"), events });
      secretBox(box, "Signing secret of " + (str(pick(r, "id")) || val(f, "url")) + ": ", str(pick(r, "secret")) || val(f, "secret"), "Shown once: configure it in the receiver now to verify Kefu-Signature.");
      f.reset();
      (f.elements.namedItem("secret") as HTMLInputElement).value = rid32();
      load();
    },
  );
  fill(el, h("h2", null, "Webhooks"), box, eps, h("h3", null, "New endpoint"), f, h("h3", null, "Dead letters"), h("p", { class: "muted" }, "Deliveries that failed every attempt. Retry sends one again."), dead);
  load();
}

/** rid32 is a random 32-byte secret, hex. */
function rid32(): string {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}
