// The live page: one websocket to /live/ws that shows the session's values
// as the server pushes them, and a button that asks the server to change one.
"use strict";
(() => {
  const status = document.getElementById("live-status");
  const bump = document.getElementById("live-bump");
  const note = document.getElementById("live-note");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let ws = null;
  let retried = false; // one new socket after the server says the session moved

  const setStatus = (text, cls) => { status.textContent = text; status.className = cls; };

  const show = (values) => {
    for (const [key, value] of Object.entries(values || {})) {
      const el = document.querySelector('#live-values [data-key="' + key + '"]');
      if (!el || el.textContent === String(value)) continue;
      el.textContent = value;
      el.classList.remove("flash-live");
      void el.offsetWidth; // restart the highlight animation
      el.classList.add("flash-live");
    }
  };

  const connect = () => {
    let ended = "";     // why the server ended the socket, if it said
    let retry = false;
    ws = new WebSocket(scheme + "//" + location.host + "/live/ws");
    ws.addEventListener("open", () => { setStatus("connected", "open"); bump.disabled = false; });
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.error) {
        ended = msg.error;
        retry = !!msg.retry;
        return;
      }
      retried = false;
      if (msg.note) note.textContent = msg.note;
      show(msg.values);
    });
    ws.addEventListener("close", () => {
      bump.disabled = true;
      if (retry && !retried) {
        // The session may go on under a new id: a new handshake finds out.
        retried = true;
        setStatus("reconnecting…", "closed");
        setTimeout(connect, 300);
        return;
      }
      setStatus((ended || "disconnected") + " Reload the page.", "closed");
    });
  };

  bump.addEventListener("click", () => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ op: "bump" }));
  });
  connect();
})();
