// Chanx chat demo client: plain JavaScript, no build step.
// Every piece of text that comes from a user or the server is inserted with textContent,
// never as HTML.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    joinForm: $("join-form"),
    name: $("name"),
    room: $("room"),
    connect: $("connect"),
    disconnect: $("disconnect"),
    log: $("log"),
    chatForm: $("chat-form"),
    chatText: $("chat-text"),
    send: $("send"),
    ping: $("ping"),
    notifyForm: $("notify-form"),
    notifyUser: $("notify-user"),
    notifyText: $("notify-text"),
    rawForm: $("raw-form"),
    rawText: $("raw-text"),
    rawSend: $("raw-send"),
  };

  let socket = null;
  let me = null;
  let nextRef = 1;
  const pings = new Map(); // ref -> performance.now() when the ping left

  // -- rendering ---------------------------------------------------------------------------

  function span(className, text) {
    const el = document.createElement("span");
    el.className = className;
    el.textContent = text;
    return el;
  }

  function addLine(kind, parts) {
    const item = document.createElement("li");
    item.className = kind;
    item.append(span("time", new Date().toLocaleTimeString()));
    for (const part of parts) {
      item.append(typeof part === "string" ? document.createTextNode(part) : part);
    }
    const atBottom = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 40;
    ui.log.append(item);
    if (atBottom) ui.log.scrollTop = ui.log.scrollHeight;
  }

  const system = (text) => addLine("system", [text]);

  function setStatus(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  }

  function setConnected(connected) {
    ui.connect.disabled = connected;
    ui.disconnect.disabled = !connected;
    ui.name.disabled = connected;
    ui.room.disabled = connected;
    for (const el of [ui.chatText, ui.send, ui.ping, ui.rawSend]) el.disabled = !connected;
  }

  // -- frames from the server --------------------------------------------------------------

  const handlers = {
    chat_message({ payload }) {
      const mine = payload.username === me;
      addLine(mine ? "chat me" : "chat", [span("who", payload.username + ":"), payload.text]);
    },
    presence({ payload }) {
      const verb = payload.status === "joined" ? "joined" : "left";
      addLine("presence", [`${payload.username} ${verb} room ${payload.room}`]);
    },
    notification({ payload }) {
      const from = payload.sender ? `from ${payload.sender}` : "from the server";
      addLine("notification", [span("who", `Notification ${from}:`), payload.text]);
    },
    pong(frame) {
      const started = pings.get(frame.ref);
      pings.delete(frame.ref);
      const rtt = started === undefined ? "?" : (performance.now() - started).toFixed(1);
      system(`pong (round trip ${rtt} ms)`);
    },
    error(frame) {
      const { code, detail, errors } = frame.payload || {};
      const parts = [span("who", `error ${code}:`), detail || ""];
      if (frame.ref !== undefined) parts.push(` (ref ${frame.ref})`);
      for (const err of errors || []) {
        parts.push(span("details", `${(err.loc || []).join(".") || "(frame)"}: ${err.msg}`));
      }
      addLine("error", parts);
    },
  };

  function onFrame(event) {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      addLine("error", ["server sent a frame that is not JSON: ", String(event.data)]);
      return;
    }
    const handle = handlers[frame && frame.action];
    if (handle) handle(frame);
    else addLine("system", ["unhandled frame: ", JSON.stringify(frame)]);
  }

  // -- the connection ----------------------------------------------------------------------

  function connect(name, room) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws/chat/${encodeURIComponent(room)}` +
      `?token=${encodeURIComponent(name)}`;
    me = name;
    setStatus("connecting", "Connecting…");
    const ws = new WebSocket(url);
    socket = ws;
    ws.addEventListener("open", () => {
      setConnected(true);
      setStatus("open", `Connected as ${name} in room ${room}`);
      ui.chatText.focus();
    });
    ws.addEventListener("message", onFrame);
    ws.addEventListener("close", (event) => {
      if (socket === ws) socket = null;
      setConnected(false);
      setStatus("closed", "Not connected");
      const reason = event.reason ? `: ${event.reason}` : "";
      system(`connection closed (code ${event.code}${reason})`);
    });
    ws.addEventListener("error", () => system("WebSocket error (is the server running?)"));
  }

  function sendFrame(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      system("not connected");
      return false;
    }
    socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
    return true;
  }

  // -- user actions ------------------------------------------------------------------------

  ui.joinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (socket) return;
    connect(ui.name.value.trim(), ui.room.value.trim());
  });

  ui.disconnect.addEventListener("click", () => {
    if (socket) socket.close(1000, "bye");
  });

  ui.chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.chatText.value;
    if (!text.trim()) return;
    if (sendFrame({ action: "chat", payload: { text }, ref: nextRef++ })) ui.chatText.value = "";
  });

  ui.ping.addEventListener("click", () => {
    const ref = `ping-${nextRef++}`;
    pings.set(ref, performance.now());
    if (!sendFrame({ action: "ping", ref })) pings.delete(ref);
  });

  ui.rawForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sendFrame(ui.rawText.value)) system("raw frame sent");
  });

  ui.notifyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = ui.notifyUser.value.trim();
    const body = { text: ui.notifyText.value };
    if (me) body.sender = me;
    try {
      const response = await fetch(`/api/notify/${encodeURIComponent(user)}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      if (response.ok) {
        system(`notification sent to ${user} (HTTP ${response.status})`);
        ui.notifyText.value = "";
      } else {
        const detail = await response.text();
        addLine("error", [`notify failed (HTTP ${response.status}): `, detail]);
      }
    } catch (err) {
      addLine("error", ["notify failed: ", String(err)]);
    }
  });

  setConnected(false);
})();
