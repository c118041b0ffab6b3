// The live page: one websocket to /live/ws that shows the session's values
// as the server pushes them, and a button that asks the server to change one.
"use strict";
(() => {
  const status = document.getElementById("live-status");
  const bump = document.getElementById("live-bump");
  const note = document.getElementById("live-note");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + "/live/ws");

  const setStatus = (text, cls) => { status.textContent = text; status.className = cls; };

  ws.addEventListener("open", () => { setStatus("connected", "open"); bump.disabled = false; });
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.error) {
      setStatus(msg.error, "closed");
      bump.disabled = true;
      return;
    }
    if (msg.note) note.textContent = msg.note;
    for (const [key, value] of Object.entries(msg.values || {})) {
      const el = document.querySelector('#live-values [data-key="' + key + '"]');
      if (!el || el.textContent === String(value)) continue;
      el.textContent = value;
      el.classList.remove("flash-live");
      void el.offsetWidth; // restart the highlight animation
      el.classList.add("flash-live");
    }
  });
  ws.addEventListener("close", () => {
    bump.disabled = true;
    if (status.className !== "closed") setStatus("disconnected: reload the page", "closed");
  });
  bump.addEventListener("click", () => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ op: "bump" }));
  });
})();
