// Test page of the browser tests: renders what the SDK reports, always with
// textContent, and records it in window.T for the Go test to read. The
// query string configures init: endpoint (required), site, retryMax,
// heartbeat, timeout, mode and api (long-poll), and fallback=URL to plug in
// a second WebSocket route as the fallback transport.
(function () {
  var q = new URLSearchParams(location.search);
  var log = document.getElementById("log");
  var status = document.getElementById("status");
  var T = (window.T = { status: [], transports: [], msgs: [], acks: [], events: [], errors: [], opens: [] });

  function line(cls, who, text, id) {
    var li = document.createElement("li");
    li.className = cls;
    if (id) li.id = id;
    var w = document.createElement("span");
    w.className = "who";
    w.textContent = who;
    li.appendChild(w);
    li.appendChild(document.createTextNode(text));
    log.appendChild(li);
    return li;
  }

  var opts = {
    endpoint: q.get("endpoint"),
    site: q.get("site") || "demo",
    retryMin: 100,
    retryMax: +(q.get("retryMax") || 1000),
    heartbeat: +(q.get("heartbeat") || 30000),
    timeout: +(q.get("timeout") || 10000),
    onMessage: function (m) {
      T.msgs.push(m);
      line(m.mine ? "me" : "them", m.sender + " #" + m.seq, m.body);
    },
    onEvent: function (e) {
      T.events.push(e);
      document.getElementById("foot").textContent = e.sender + " " + e.event + (e.seq ? " " + e.seq : "");
    },
  };
  // mode: the fallback option as a string ("auto", "ws", "longpoll"); api:
  // the server's HTTP side (long-poll).
  if (q.get("mode")) opts.fallback = q.get("mode");
  if (q.get("api")) opts.api = q.get("api");
  var fb = q.get("fallback");
  if (fb) {
    opts.fallback = function (o, h) {
      var t = Kefu.websocket(Object.assign({}, o, { endpoint: fb }), h);
      return { kind: "test-fallback", send: t.send, close: t.close };
    };
  }
  Kefu.init(opts);
  Kefu.on("status", function (s) {
    T.status.push(s.status);
    T.transports.push(s.transport || "");
    status.textContent = s.status + (s.transport ? " (" + s.transport + ")" : "");
  });
  Kefu.on("ack", function (a) {
    T.acks.push(a);
    var li = document.getElementById(a.clientMsgId);
    if (li) li.className = "me";
  });
  Kefu.on("error", function (e) {
    T.errors.push(e);
  });
  Kefu.on("open", function (o) {
    T.opens.push(o.conversation);
  });
  Kefu.pending().forEach(function (m) {
    line("me sending", "me (queued)", m.body, m.clientMsgId);
  });

  // send shows the message at once, greyed until its ACK.
  T.send = function (text) {
    var id = Kefu.send(text);
    line("me sending", "me", text, id);
    return id;
  };
})();
