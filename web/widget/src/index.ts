// The chat panel (kefu-widget.min.js), loaded by kefu.js the first time the
// launcher opens; it sets window.KefuWidget, which the loader calls with the
// SDK and the shadow root. It draws from the SDK's events only:
//
//	envelope  messages (live, resumed and fetched history), typing, read
//	ack/error the visitor's own messages: sent, or not
//	state     queued (position), open (agent name), closed (rating prompt)
//	status    connecting, reconnecting, unavailable
//
// A dialog (role="dialog", aria-modal): Tab stays inside it, Esc closes it
// and gives the focus back to the launcher, Enter sends, Shift+Enter is a
// new line.
import type { WidgetHost, WidgetView } from "../../sdk/src/loader";
import type { Envelope } from "../../sdk/src/types";
import css from "./widget.css";
import { button, focusables, h } from "./dom";
import { Log } from "./log";
import { texts } from "./texts";
import { TYPES, upload, visitorAuth } from "./upload";

const ATTACH = "M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9";
const SEND = "M22 2L11 13M22 2l-7 20-4-9-9-4z";
const CLOSE = "M6 6l12 12M18 6L6 18";

/** How many earlier messages a page shows when the widget opens on an existing conversation. */
const HISTORY = 50;

function mount(x: WidgetHost): WidgetView {
  const k = x.kefu;
  const t = texts(x.w.texts, x.w.title);
  const greeting = x.w.greeting;
  const me = () => "v:" + k.user();
  /** Agent display names by id, from the assigned/transferred messages. */
  const names: Record<string, string> = {};
  const who = (sender: string) => {
    const id = sender.slice(2);
    const st = k.state();
    return names[id] || (st && st.agent == id && st.name) || t("agent");
  };
  x.css(x.root, css);

  // The DOM: header, notices, the log, typing, and at the bottom the
  // composer, or (closed) the rating prompt, or (rated) a new conversation.
  const panel = h("div", "p" + (x.w.position == "left" ? " left" : ""), "", { id: "kp", role: "dialog", "aria-modal": "true", "aria-labelledby": "kt" });
  const head = h("div", "hd");
  const titles = h("div", "ht");
  const sub = h("p", "hs", "", { id: "ks" });
  const end = button("end", t("end"), t("end"));
  const close = button("x", t("close"), x.icon(CLOSE));
  titles.append(h("h2", "", t("title"), { id: "kt" }), sub);
  head.append(titles, end, close);
  panel.setAttribute("aria-describedby", "ks");
  const notice = h("p", "n", "", { role: "status" });
  const log = new Log(t, x.api, who, (id) => {
    const text = log.text(id);
    log.drop(id);
    if (text) sendText(text);
  });
  const typing = h("p", "ty", "", { "aria-live": "polite" });

  const form = h("form", "f");
  const file = h("input", "", "", { type: "file", accept: TYPES.join(","), multiple: "", tabindex: "-1", "aria-hidden": "true", hidden: "" });
  const attach = button("at", t("attach"), x.icon(ATTACH));
  const ta = h("textarea", "", "", { rows: "1", "aria-label": t("message"), placeholder: t("placeholder"), enterkeyhint: "send" });
  const send = button("snd", t("send"), x.icon(SEND));
  send.type = "submit";
  form.append(file, attach, ta, send);

  const rateBox = h("form", "rs");
  const fs = h("fieldset");
  const stars = h("div", "st");
  const labels: HTMLLabelElement[] = [];
  const comment = h("textarea", "", "", { rows: "2", "aria-label": t("comment"), placeholder: t("comment") });
  const rateErr = h("p", "re", "", { role: "alert" });
  const skip = button("sb", t("skip"), t("skip"));
  const submit = button("pb", t("submit"), t("submit"));
  submit.type = "submit";
  fs.append(h("legend", "", t("rate")), stars);
  for (let n = 1; n <= 5; n++) {
    const l = h("label", "", "");
    const r = h("input", "", "", { type: "radio", name: "kr", value: String(n), "aria-label": t("star", { n }) });
    r.onchange = () => labels.forEach((y, i) => y.classList.toggle("on", i < n));
    l.append(r, h("span", "", "★", { "aria-hidden": "true" }));
    labels.push(l);
    stars.appendChild(l);
  }
  rateErr.hidden = true;
  rateBox.append(fs, comment, submit, skip, rateErr);

  const done = h("div", "dn");
  const thanks = h("p", "", t("thanks"));
  const again = button("pb", t("again"), t("again"));
  done.append(thanks, again);

  panel.append(head, notice, log.el, typing, form, rateBox, done);
  panel.hidden = true;
  x.root.appendChild(panel);
  x.launcher.setAttribute("aria-controls", "kp");

  // State of the panel.
  let shown = false;
  let conv = k.conversation();
  let hist = "";
  let lost = false;
  let rated = 0;
  let skipped = false;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  let overflow: string | undefined;

  const note = (text: string) => {
    log.el.appendChild(h("li", "sys", text));
    log.scroll();
  };

  /** history shows the messages of c before the page opened (up to HISTORY before seq). */
  const history = (c: string, seq: number) => {
    if (hist == c || !seq) return;
    hist = c;
    k.call({ type: "replay", conversation: c, seq: Math.max(0, seq - HISTORY), limit: 2 * HISTORY }).then(
      () => log.scroll(),
      () => (hist = ""),
    );
  };

  /** switchTo shows conversation c: a new one starts with an empty log. */
  const switchTo = (c: string) => {
    if (c == conv) return;
    if (conv) {
      log.clear(greeting);
      rated = 0;
      skipped = false;
      typing.textContent = "";
    }
    conv = c;
    update();
  };

  const read = () => {
    if (shown && !document.hidden && k.status() == "online") k.read();
  };

  const show = (e: Envelope) => {
    const mine = e.sender == me();
    if (e.kind == "event") {
      try {
        const b = JSON.parse(e.body || "");
        if (b.agent && b.name) names[b.agent] = b.name;
      } catch (_) {
        // not JSON: Log ignores it too
      }
    }
    const fresh = log.add({ seq: e.seq || 0, sender: e.sender || "", kind: e.kind || "text", body: e.body || "", ts: e.ts, id: mine ? e.client_msg_id : undefined, mine });
    if (!fresh) return;
    if (!mine && e.kind != "event") {
      typing.textContent = "";
      read();
    }
    log.scroll();
  };

  const sendText = (text: string) => {
    const id = k.send(text);
    log.add({ seq: 0, sender: me(), kind: "text", body: text, id, mine: true });
    log.scroll();
  };

  const rid = () => {
    let s = "m-";
    for (const b of crypto.getRandomValues(new Uint8Array(8))) s += (b + 256).toString(16).slice(1);
    return s;
  };

  /** sendFile uploads f, then sends it as an image or file message. */
  const sendFile = async (f: File) => {
    if (TYPES.indexOf(f.type) < 0) return note(t("badType", { name: f.name }));
    const id = rid();
    log.add({ seq: 0, sender: me(), kind: "text", body: t("uploading", { name: f.name }), id, mine: true });
    log.scroll();
    try {
      const c = await k.open();
      const up = await upload(x.api, visitorAuth(x.o.site, k.user(), x.o.signature), f);
      const kind = f.type.indexOf("image/") == 0 ? "image" : "file";
      const body = JSON.stringify(up);
      const a = await k.call({ type: "send", conversation: c, client_msg_id: id, kind, body });
      log.drop(id);
      if (a.conversation == conv) log.add({ seq: a.seq || 0, sender: me(), kind, body, ts: a.ts, id, mine: true });
    } catch (_) {
      log.drop(id);
      note(t("uploadFailed", { name: f.name }));
    }
  };

  /** update shows what fits the connection and the conversation's state. */
  const update = () => {
    const a = x.root.activeElement as HTMLElement | null;
    const st = k.state();
    const s = k.status();
    const closed = !!st && st.state == "closed";
    rated = rated || (st && st.rating) || 0;
    sub.textContent = st && st.state == "open" && st.agent ? who("a:" + st.agent) : t("subtitle");
    const n = !navigator.onLine
      ? t("offline")
      : s == "closed"
        ? t("unavailable")
        : lost
          ? t("reconnecting")
          : st && st.state == "queued"
            ? st.position
              ? t("queue", { n: st.position })
              : t("queued")
            : "";
    if (notice.textContent != n) notice.textContent = n;
    notice.hidden = !n;
    end.hidden = !st || (st.state != "open" && st.state != "queued");
    form.hidden = closed;
    rateBox.hidden = !closed || !!rated || skipped;
    done.hidden = !closed || !(rated || skipped);
    thanks.hidden = !rated;
    again.disabled = s != "online";
    // Focus on something that was just hidden: go to what replaced it.
    if (shown && a && panel.contains(a) && !a.getClientRects().length) primary().focus();
  };

  /** primary is the control the focus goes to when the panel opens. */
  const primary = (): HTMLElement => (!form.hidden ? ta : !rateBox.hidden ? (labels[0].firstChild as HTMLElement) : again);

  // SDK events.
  const offs = [
    k.on("envelope", (e) => {
      const c = k.conversation();
      if (c && e.type == "joined" && e.conversation == c) {
        switchTo(c);
        history(c, e.seq || 0);
      }
      if (!conv || e.conversation != conv) return;
      if (e.type == "message") show(e);
      else if (e.type == "event" && e.sender && e.sender != me() && e.sender.indexOf("a:") == 0) {
        if (e.event == "typing") {
          typing.textContent = t("typing", { name: who(e.sender) });
          clearTimeout(typingTimer);
          typingTimer = setTimeout(() => (typing.textContent = ""), 6000);
        } else if (e.event == "read") log.read(e.seq || 0);
      }
    }),
    k.on("open", (o) => switchTo(o.conversation)),
    k.on("ack", (a) => log.acked(a.clientMsgId, a.seq)),
    k.on("error", (e) => e.clientMsgId && log.failed(e.clientMsgId)),
    k.on("state", update),
    k.on("status", (s) => {
      if (s.status == "offline") lost = true;
      if (s.status == "online") lost = false;
      update();
    }),
  ];
  addEventListener("online", update);
  addEventListener("offline", update);
  document.addEventListener("visibilitychange", read);

  // Visitor input.
  const submitText = () => {
    const v = ta.value.trim();
    ta.value = "";
    ta.style.height = "";
    if (v) sendText(v);
  };
  form.onsubmit = (e) => {
    e.preventDefault();
    submitText();
    ta.focus();
  };
  ta.onkeydown = (e) => {
    if (e.key == "Enter" && !e.shiftKey && !e.isComposing && e.keyCode != 229) {
      e.preventDefault();
      submitText();
    }
  };
  ta.oninput = () => {
    ta.style.height = "";
    ta.style.height = Math.min(ta.scrollHeight + 2, 120) + "px";
    if (ta.value) k.typing();
  };
  ta.onpaste = (e) => {
    const fl = e.clipboardData && e.clipboardData.files;
    if (fl && fl.length) {
      e.preventDefault();
      for (const f of Array.from(fl)) sendFile(f);
    }
  };
  attach.onclick = () => file.click();
  file.onchange = () => {
    for (const f of Array.from(file.files || [])) sendFile(f);
    file.value = "";
  };
  close.onclick = () => x.close();
  end.onclick = () => {
    if (conv) k.call({ type: "close", conversation: conv }).catch(() => note(t("unavailable")));
  };
  rateBox.onsubmit = (e) => {
    e.preventDefault();
    const r = rateBox.querySelector("input:checked") as HTMLInputElement | null;
    if (!r) return (labels[0].firstChild as HTMLElement).focus();
    rateErr.hidden = true;
    k.call({ type: "rate", conversation: conv, rating: +r.value, body: comment.value.trim() }).then(
      () => {
        rated = +r.value;
        update();
        again.focus();
      },
      () => {
        rateErr.textContent = t("rateFailed");
        rateErr.hidden = false;
      },
    );
  };
  skip.onclick = () => {
    skipped = true;
    update();
    again.focus();
  };
  again.onclick = () => {
    again.disabled = true;
    k.call({ type: "open" }).then(
      () => ta.focus(),
      () => update(),
    );
  };

  // Keyboard: Esc closes, Tab cycles inside the open panel.
  x.root.addEventListener("keydown", (ev) => {
    const e = ev as KeyboardEvent;
    if (panel.hidden) return;
    if (e.key == "Escape") {
      e.preventDefault();
      x.close();
    } else if (e.key == "Tab") {
      const f = focusables(panel);
      const i = f.indexOf(x.root.activeElement as HTMLElement);
      if (f.length && (e.shiftKey ? i <= 0 : i < 0 || i == f.length - 1)) {
        e.preventDefault();
        f[e.shiftKey ? f.length - 1 : 0].focus();
      }
    }
  });

  // What was there before the panel loaded.
  log.clear(greeting);
  for (const m of k.pending()) if (!m.conversation || m.conversation == conv) log.add({ seq: 0, sender: me(), kind: "text", body: m.body, id: m.clientMsgId, mine: true });
  if (conv && k.status() == "online") history(conv, x.seq());
  update();

  return {
    show(focus) {
      const first = !shown;
      shown = true;
      panel.hidden = false;
      // Full screen on a phone: the page behind must not scroll.
      if (first && matchMedia("(max-width: 479.98px)").matches) {
        overflow = document.documentElement.style.overflow;
        document.documentElement.style.overflow = "hidden";
      }
      update();
      log.scroll();
      if (focus) primary().focus();
      read();
    },
    hide() {
      shown = false;
      panel.hidden = true;
      if (overflow != null) document.documentElement.style.overflow = overflow;
      overflow = undefined;
    },
    destroy() {
      this.hide();
      for (const f of offs) f();
      removeEventListener("online", update);
      removeEventListener("offline", update);
      document.removeEventListener("visibilitychange", read);
      clearTimeout(typingTimer);
    },
  };
}

window.KefuWidget = mount;
