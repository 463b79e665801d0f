// The demo shop page: embeds the Kefu widget. The gateway's WebSocket
// endpoint comes from <meta name="kefu-ws"> (filled in by the server: ""
// for /ws on this host, ":PORT" for this host on the gateway's port, or a
// ws(s):// URL); ?endpoint=URL and ?site=ID override it for experiments.
(function () {
  var q = new URLSearchParams(location.search);
  var ws = document.querySelector('meta[name="kefu-ws"]').content;
  var scheme = location.protocol == "https:" ? "wss://" : "ws://";
  var endpoint = q.get("endpoint") || (ws.charAt(0) == ":" ? scheme + location.hostname + ws + "/ws" : ws || scheme + location.host + "/ws");

  Kefu.init({
    endpoint: endpoint,
    site: q.get("site") || "demo",
    widget: {
      color: "#0f766e",
      title: "Aurora support",
      greeting: "Hi! Questions about the Aurora kettle, delivery or returns? Write to us here.",
      position: "right",
    },
  });

  document.getElementById("ask").addEventListener("click", function () {
    Kefu.open().catch(function () {});
  });
  document.getElementById("cart").addEventListener("click", function () {
    document.getElementById("added").textContent = "Added to your cart.";
  });
})();
