// Chanx Django chat demo: one socket per room; the session cookie authenticates it.
"use strict";

const $ = (id) => document.getElementById(id);
let socket = null;

function addLine(kind, text) {
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text; // never innerHTML: names and texts come from other users
  $("log").append(item);
  item.scrollIntoView({ block: "nearest" });
}

function setConnected(open) {
  $("status").dataset.state = open ? "open" : "closed";
  $("status").textContent = open ? "Connected" : "Not connected";
  for (const id of ["chat-text", "send", "ping", "disconnect"]) $(id).disabled = !open;
  $("connect").disabled = open;
}

function show(frame) {
  const p = frame.payload || {};
  switch (frame.action) {
    case "authenticated": return addLine("system", `authenticated as ${p.username}`);
    case "chat_message": return addLine("chat", `${p.username}: ${p.text}`);
    case "presence": return addLine("system", `${p.username} ${p.status} #${p.room}`);
    case "notification": return addLine("notification", `notification from ${p.sender}: ${p.text}`);
    case "pong": return addLine("system", "pong");
    case "error": return addLine("error", `error ${p.code}: ${p.detail}`);
    default: return addLine("system", JSON.stringify(frame));
  }
}

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const room = encodeURIComponent($("room").value.trim());
  socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${room}/`);
  socket.addEventListener("open", () => setConnected(true));
  socket.addEventListener("message", (event) => show(JSON.parse(event.data)));
  socket.addEventListener("close", (event) => {
    setConnected(false);
    addLine("system", `closed (${event.code}${event.reason ? ": " + event.reason : ""})`);
  });
});

$("disconnect").addEventListener("click", () => socket && socket.close());
$("ping").addEventListener("click", () => socket.send(JSON.stringify({ action: "ping" })));

$("chat-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("chat-text").value;
  if (!text) return;
  socket.send(JSON.stringify({ action: "chat", payload: { text } }));
  $("chat-text").value = "";
});

$("notify-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.querySelector("#notify-form [name=csrfmiddlewaretoken]").value;
  const user = encodeURIComponent($("notify-user").value.trim());
  const response = await fetch(`/api/notify/${user}/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token },
    body: JSON.stringify({ text: $("notify-text").value }),
  });
  addLine(response.ok ? "system" : "error", `notify: HTTP ${response.status}`);
});
