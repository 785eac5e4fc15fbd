// The chat widget: Rasa's socket.io channel (daogou_server/channels.py) through the vendored socket.io-client.
// session_request carries the shop's shopper id (Shop.ready: the page's shopper session), so a reload
// continues the conversation and the chat sees the page's browsing; every message carries the page context
// as metadata. Bot text, cards and tables are built with textContent only.
"use strict";
(() => {
  const { state, t, el, card, addToCart } = Shop;
  // Where Rasa listens: ?rasa=http://host:port (the launcher's URL for a non-default port), else this host's :5005.
  const asked = new URLSearchParams(location.search).get("rasa");
  const rasa = asked && /^https?:\/\/[\w.\-\[\]:]+\/?$/.test(asked) ? asked : `${location.protocol}//${location.hostname}:5005`;
  const log = document.getElementById("chat-log");
  const typing = document.getElementById("chat-typing");
  const status = document.getElementById("chat-status");
  const input = document.getElementById("chat-input");
  const HISTORY = "daogou.chat";
  const history = JSON.parse(sessionStorage.getItem(HISTORY) || "[]");

  // Connected once the shopper is known (autoConnect off): the chat's session is the page's shopper.
  const socket = io(rasa, { path: "/socket.io", transports: ["websocket", "polling"], reconnection: true, autoConnect: false });
  Shop.ready.then(() => socket.connect(), () => { status.textContent = t("offline"); });
  socket.on("connect", () => { status.textContent = ""; socket.emit("session_request", { session_id: state.shopper }); });
  socket.on("disconnect", () => { status.textContent = t("offline"); });
  socket.on("connect_error", () => { status.textContent = t("offline"); });
  socket.on("bot_uttered", message => { typing.hidden = true; remember({ from: "bot", message }); draw("bot", message); });

  function remember(entry) { history.push(entry); sessionStorage.setItem(HISTORY, JSON.stringify(history.slice(-100))); }
  function send(text, shown = text) {
    if (!text.trim() || !state.shopper) return;
    remember({ from: "user", message: { text: shown } });
    draw("user", { text: shown });
    typing.hidden = false;
    socket.emit("user_uttered", { message: text, session_id: state.shopper, metadata: Shop.context() });
  }
  function draw(from, message) {
    const item = el("li", { class: from });
    if (message.text) item.append(el("div", { class: "text" }, message.text));
    if (Array.isArray(message.quick_replies || message.buttons)) {
      const quick = el("div", { class: "quick" });
      for (const b of message.quick_replies || message.buttons) quick.append(el("button", { type: "button", onclick: () => send(b.payload, b.title) }, b.title));
      item.append(quick);
    }
    const custom = message.custom;
    if (custom && custom.type === "products") item.append(cards(custom.products));
    if (custom && custom.type === "comparison") item.append(table(custom));
    log.append(item);
    log.scrollTop = log.scrollHeight;
  }
  function cards(products) {
    const row = el("div", { class: "cards" });
    for (const p of products) {
      const label = p.name;
      row.append(card(p, [
        el("button", { type: "button", class: "details", onclick: () => { location.hash = "#/p/" + encodeURIComponent(p.id); } }, t("details")),
        el("button", { type: "button", class: "compare", onclick: () => pick(p) }, t("compare")),
        el("button", { type: "button", class: "similar", onclick: () => send(state.lang === "zh" ? `和${label}相似的` : `anything similar to the ${label}`) }, t("similar")),
        // The page's cart and a cart event through the shop API (the chat's history reads it), no chat turn.
        el("button", { type: "button", class: "add", onclick: () => { addToCart(p.id); note(`${t("added")} ${label}`); } }, t("add")),
      ]));
    }
    return row;
  }
  function note(text) { remember({ from: "note", message: { text } }); draw("note", { text }); }
  let picked = null;
  function pick(p) {  // two clicks on "compare" ask for the two products side by side
    if (!picked || picked.id === p.id) { picked = p; return; }
    send(state.lang === "zh" ? `比较${picked.name}和${p.name}` : `compare the ${picked.name} and the ${p.name}`);
    picked = null;
  }
  function table(comparison) {
    const head = el("tr", {}, el("th", {}, ""), ...comparison.products.map(p => el("th", {}, p.name)));
    const rows = [el("tr", {}, el("td", {}, "¥"), ...comparison.products.map(p => el("td", {}, Number(p.price).toLocaleString("en-US"))))];
    for (const row of comparison.rows) rows.push(el("tr", {}, el("td", {}, row.label), ...row.values.map(v => el("td", {}, v == null ? "–" : v))));
    return el("table", { class: "comparison" }, head, ...rows);
  }
  document.getElementById("chat-form").addEventListener("submit", event => { event.preventDefault(); send(input.value); input.value = ""; });
  document.getElementById("chat-toggle").addEventListener("click", () => { document.getElementById("chat").classList.toggle("closed"); input.focus(); });
  for (const entry of history) draw(entry.from, entry.message);
})();
