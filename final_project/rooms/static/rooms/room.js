// The room page's client: history, live messages, presence, typing, and reconnection without loss.
// Every text from the server goes into the page with textContent, never innerHTML.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("chat-config").textContent);
  const list = document.getElementById("messages");
  const onlineList = document.getElementById("online");
  const typingLine = document.getElementById("typing");
  const statusLine = document.getElementById("status");
  const problemLine = document.getElementById("problem");
  const composer = document.getElementById("composer");
  const input = document.getElementById("text");

  const REFUSED = { 4401: "Log in to chat.", 4403: "This room is private.", 4404: "This room does not exist." };
  const SYNC_BATCH = 500;           // the server replays at most this many per sync
  const TYPING_EVERY_MS = 2000;     // send "typing" at most this often
  const TYPING_SHOWN_MS = 3000;     // "X is typing..." disappears by itself after this
  const RESEND_AFTER_MS = 5000;     // an unacknowledged message is sent again (same client_id)
  const REFUSED_CODES = new Set(["invalid", "too_long"]);  // sending these again cannot help

  const shown = new Map();          // message id -> <li>: each message is shown once
  // client_id -> {text, li, sentAt}: written, not yet acknowledged. sentAt 0: not sent on this socket yet.
  const pending = new Map();
  const typists = new Map();        // username -> timer
  // A message's id is its number in the room: 1, 2, 3 ... with no hole, and a number is only seen once
  // every number below it is stored. So a gap on screen means a message is on its way (broadcasts from
  // two processes can arrive out of order) or was lost (a full channel drops broadcasts): after
  // GAP_WAIT_MS the page asks for it with a sync.
  const GAP_WAIT_MS = 2000;
  let lastId = 0;                   // the highest message id seen
  let gaplessThrough = 0;           // every message up to this id is on screen
  let gapTimer = null;
  let syncing = false;
  let oldestId = null;              // the lowest, for loading older pages
  let hasMore = true;
  let socket = null;
  let attempt = 0;
  let online = null;
  let syncedInBatch = 0;
  let lastTypingSent = 0;

  window.chat = { get socket() { return socket; }, shown, pending };  // for tests and curious readers

  // The server takes at most `limit` messages in any `window` seconds per socket; the page keeps under
  // that by itself (with a margin for the network), so a reconnect with many pending messages is not refused.
  const pacer = {
    limit: config.rateLimit[0],
    windowMs: config.rateLimit[1] * 1000 * 1.1,
    times: [],
    pausedUntil: 0,
    allow(now) {
      this.times = this.times.filter((t) => now - t < this.windowMs);
      if (now < this.pausedUntil || this.times.length >= this.limit) return false;
      this.times.push(now);
      return true;
    },
  };

  // --- rendering ---------------------------------------------------------------------------------

  function messageItem(message) {
    const li = document.createElement("li");
    li.className = "message" + (message.user === config.user ? " mine" : "");
    li.dataset.id = message.id;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = message.user;
    const when = document.createElement("time");
    when.dateTime = message.ts;
    when.textContent = new Date(message.ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const text = document.createElement("p");
    text.className = "text";
    text.textContent = message.text;
    li.append(who, when, text);
    return li;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function show(message) {
    const ack = pending.get(message.client_id);
    if (ack && message.user === config.user) {
      ack.li.remove();
      pending.delete(message.client_id);
    }
    if (shown.has(message.id)) return;  // a replay of something already on screen
    const stick = nearBottom();
    const li = messageItem(message);
    // Insert in id order: across processes, broadcasts may arrive slightly out of order.
    let next = null;
    for (const [id, item] of shown) if (id > message.id && (!next || id < Number(next.dataset.id))) next = item;
    list.insertBefore(li, next || firstPendingOrNull());
    shown.set(message.id, li);
    lastId = Math.max(lastId, message.id);
    oldestId = oldestId === null ? message.id : Math.min(oldestId, message.id);
    stopTyping(message.user);
    if (stick || message.user === config.user) list.scrollTop = list.scrollHeight;
    closeGaps();
  }

  function closeGaps() {
    while (shown.has(gaplessThrough + 1)) gaplessThrough += 1;
    if (lastId <= gaplessThrough || gapTimer !== null) return;
    gapTimer = setTimeout(() => {
      gapTimer = null;
      if (lastId > gaplessThrough && !syncing) startSync();
    }, GAP_WAIT_MS);
  }

  function startSync() {
    syncedInBatch = 0;
    syncing = true;
    send({ type: "sync", after: gaplessThrough });
  }

  function firstPendingOrNull() {
    return list.querySelector("li.pending");
  }

  function notice(text) {
    const li = document.createElement("li");
    li.className = "notice";
    li.textContent = text;
    const stick = nearBottom();
    list.insertBefore(li, firstPendingOrNull());
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function setOnline(usernames) {
    if (online !== null) {
      for (const name of usernames) if (!online.includes(name)) notice(`${name} joined`);
      for (const name of online) if (!usernames.includes(name)) notice(`${name} left`);
    }
    online = usernames;
    onlineList.replaceChildren(...usernames.map((name) => {
      const li = document.createElement("li");
      li.textContent = name + (name === config.user ? " (you)" : "");
      return li;
    }));
  }

  function renderTyping() {
    const names = [...typists.keys()];
    typingLine.textContent = names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
  }

  function startTyping(user) {
    clearTimeout(typists.get(user));
    typists.set(user, setTimeout(() => stopTyping(user), TYPING_SHOWN_MS));
    renderTyping();
  }

  function stopTyping(user) {
    if (!typists.has(user)) return;
    clearTimeout(typists.get(user));
    typists.delete(user);
    renderTyping();
  }

  function setStatus(text, kind) {
    statusLine.textContent = text;
    statusLine.className = "status " + kind;
  }

  // --- the socket ----------------------------------------------------------------------------------

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/rooms/${config.room}/`);
    socket.onmessage = (event) => handle(JSON.parse(event.data));
    socket.onclose = (event) => {
      socket = null;
      if (REFUSED[event.code]) {
        setStatus("closed", "offline");
        problemLine.textContent = REFUSED[event.code];
        return;
      }
      // Back off: 0.5 s, 1 s, 2 s ... up to 10 s, with jitter so a restarted server is not stampeded.
      const delay = Math.min(10000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      setStatus(`reconnecting in ${Math.ceil(delay / 1000)} s…`, "offline");
      setTimeout(connect, delay);
    };
  }

  function handle(frame) {
    switch (frame.type) {
      case "welcome":
        attempt = 0;
        for (const item of pending.values()) item.sentAt = 0;  // a new socket: nothing is in flight on it
        setStatus("online", "online");
        problemLine.textContent = "";
        setOnline(frame.online);
        startSync();  // everything after the last gapless point: what was missed while away
        break;
      case "message":
        if (syncing) syncedInBatch += 1;  // live frames may be counted too: at worst one more sync
        show(frame);
        break;
      case "synced":
        gaplessThrough = Math.max(gaplessThrough, frame.last_id);
        if (syncedInBatch >= SYNC_BATCH) {  // more to replay
          syncedInBatch = 0;
          send({ type: "sync", after: frame.last_id });
        } else {
          syncing = false;
          closeGaps();  // a live message may have come during the sync, beyond a gap
          sendPending();  // what this page wrote but never saw acknowledged
        }
        break;
      case "presence":
        setOnline(frame.online);
        break;
      case "typing":
        if (frame.user !== config.user) startTyping(frame.user);
        break;
      case "error":
        refused(frame);
        break;
    }
  }

  function refused(frame) {
    const retryMs = (frame.retry_after || 1) * 1000;
    const item = frame.client_id !== undefined ? pending.get(frame.client_id) : undefined;
    if (frame.for === "sync" && frame.code === "rate_limited") {
      setTimeout(() => send({ type: "sync", after: gaplessThrough }), retryMs);
      return;
    }
    if (item && REFUSED_CODES.has(frame.code)) {  // this message will never be taken: say so, stop sending it
      pending.delete(frame.client_id);
      item.li.classList.replace("pending", "refused");
      const why = document.createElement("p");
      why.className = "why";
      why.textContent = `Not sent: ${frame.detail}`;
      item.li.append(why);
      list.scrollTop = list.scrollHeight;  // the writer's own message: keep its verdict in view
      return;
    }
    if (item) {  // rate_limited or not_stored: send it again later, same client_id
      item.sentAt = 0;
      pacer.pausedUntil = Date.now() + retryMs;
      return;
    }
    problemLine.textContent = frame.detail;
  }

  // --- sending ---------------------------------------------------------------------------------------

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  // Send what is pending, oldest first, as fast as the pacer allows: the unsent, and the sent but still
  // unacknowledged after RESEND_AFTER_MS. Resending is safe: the server answers a known client_id with
  // the original message.
  function sendPending() {
    const now = Date.now();
    if (syncing || !socket || socket.readyState !== WebSocket.OPEN) return;
    for (const [clientId, item] of pending) {
      if (item.sentAt && now - item.sentAt < RESEND_AFTER_MS) continue;
      if (!pacer.allow(now)) return;
      send({ type: "message", text: item.text, client_id: clientId });
      item.sentAt = now;
    }
  }
  setInterval(sendPending, 250);

  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const clientId = newClientId();
    const li = messageItem({ id: "", user: config.user, text, ts: new Date().toISOString() });
    li.classList.add("pending");
    list.append(li);
    list.scrollTop = list.scrollHeight;
    pending.set(clientId, { text, li, sentAt: 0 });
    sendPending();  // now if the socket is open and the pace allows, else as soon as they do
    input.value = "";
    problemLine.textContent = "";
  });

  input.addEventListener("input", () => {
    const now = Date.now();
    if (input.value && now - lastTypingSent > TYPING_EVERY_MS && send({ type: "typing" })) lastTypingSent = now;
  });

  // --- older messages, on scroll -------------------------------------------------------------------

  let loadingOlder = false;
  list.addEventListener("scroll", async () => {
    if (list.scrollTop > 40 || loadingOlder || !hasMore || oldestId === null) return;
    loadingOlder = true;
    try {
      const response = await fetch(`/rooms/${config.room}/messages?before=${oldestId}&limit=${config.pageSize}`,
                                   { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = await response.json();
      const heightBefore = list.scrollHeight;
      for (const message of page.messages.slice().reverse()) {
        if (shown.has(message.id)) continue;
        const li = messageItem(message);
        list.insertBefore(li, list.firstChild);
        shown.set(message.id, li);
        oldestId = Math.min(oldestId, message.id);
      }
      hasMore = page.has_more;
      list.scrollTop += list.scrollHeight - heightBefore;  // keep the reader where they were
    } catch (error) {
      problemLine.textContent = `Could not load older messages (${error.message}).`;
    } finally {
      loadingOlder = false;
    }
  });

  for (const message of config.history) show(message);
  gaplessThrough = lastId;  // the server rendered the newest page: nothing missing up to its last id
  hasMore = config.history.length === config.pageSize;
  list.scrollTop = list.scrollHeight;
  connect();
})();
