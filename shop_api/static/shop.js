// The demo shop: catalog grid with filters, product pages, a cart, the language switch and the shopper.
// The shopper id and a shopper token come from POST /v1/shopper-session (kept in localStorage, renewed
// before they expire); with the token the page posts the shopper's views and cart changes to
// POST /v1/events, never the API token. Everything shown is set through textContent / attributes, never
// innerHTML (names and bot text are data).
"use strict";
const Shop = (() => {
  const TEXT = {
    en: { shop: "Daogou shop", all_categories: "All categories", all_brands: "All brands", max_price: "Max price",
          chat: "Ask Daogou", send: "Send", type_here: "Type a message", cart: "Cart", add: "Add to cart",
          details: "Details", compare: "Compare", similar: "Similar", specs: "Specs", also_like: "You may also like",
          fits_with: "Fits with", offline: "Connection lost, reconnecting…", switch: "中文", remove: "Remove",
          cart_empty: "Your cart is empty.", added: "Added to your cart:" },
    zh: { shop: "导购商城", all_categories: "全部类别", all_brands: "全部品牌", max_price: "最高价格",
          chat: "问导购", send: "发送", type_here: "输入消息", cart: "购物车", add: "加入购物车",
          details: "详情", compare: "对比", similar: "相似", specs: "参数", also_like: "猜你喜欢",
          fits_with: "搭配", offline: "连接已断开，正在重连…", switch: "English", remove: "移除",
          cart_empty: "购物车是空的。", added: "已加入购物车：" },
  };
  const CATEGORIES = {
    phone: ["Phones", "手机", "#457b9d"], laptop: ["Laptops", "笔记本电脑", "#2a9d8f"], tablet: ["Tablets", "平板", "#8d99ae"],
    headphones: ["Headphones", "耳机", "#e9c46a"], smartwatch: ["Smartwatches", "智能手表", "#f4a261"],
    camera: ["Cameras", "相机", "#6d597a"], monitor: ["Monitors", "显示器", "#264653"], tv: ["TVs", "电视", "#e76f51"],
    speaker: ["Speakers", "音箱", "#b5838d"], accessory: ["Accessories", "配件", "#999999"],
  };
  const COLORS = Object.fromEntries(Object.entries(CATEGORIES).map(([k, v]) => [k, v[2]]));
  const state = {
    lang: localStorage.getItem("daogou.lang") || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en"),
    shopper: null, token: null,  // set by the shopper session (below) before any event or chat message
    cart: JSON.parse(localStorage.getItem("daogou.cart") || "[]"),
    product: null,
  };
  const SESSION = "daogou.session", RENEW_BEFORE_MS = 3600e3;

  async function shopperSession(renew = false) {
    // The kept session while it has an hour left; else a new token for the same shopper (the old token
    // proves it), or, when that is refused (older than the renewal window), a new shopper.
    const kept = JSON.parse(localStorage.getItem(SESSION) || "null");
    if (kept && !renew && Date.parse(kept.expires_at) - Date.now() > RENEW_BEFORE_MS) return kept;
    const ask = token => fetch("/v1/shopper-session", { method: "POST", headers: token ? { Authorization: "Bearer " + token } : {} });
    let response = kept ? await ask(kept.token) : await ask(null);
    if (response.status === 401 && kept) response = await ask(null);
    if (!response.ok) throw new Error(`shopper session: ${response.status}`);
    const fresh = await response.json();
    localStorage.setItem(SESSION, JSON.stringify(fresh));
    return fresh;
  }
  const started = session => { state.shopper = session.shopper_id; state.token = session.token; return session; };
  const ready = shopperSession().then(started);

  function uuid() {  // crypto.randomUUID needs a secure context; a shop on plain http:// is not one
    const b = new Uint8Array(16); crypto.getRandomValues(b); b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  async function track(type, productId) {
    // One browsing event, with its own id so a retry is stored once; the chat reads the same history.
    try {
      await ready;
      const body = JSON.stringify({ event_id: uuid(), user_id: state.shopper, type, product_id: productId });
      const post = () => fetch("/v1/events", { method: "POST", body,
        headers: { Authorization: "Bearer " + state.token, "Content-Type": "application/json" } });
      let response = await post();
      if (response.status === 401) { started(await shopperSession(true)); response = await post(); }
      if (!response.ok) console.warn(`${type} event not stored: ${response.status}`);
    } catch (error) { console.warn(`${type} event not sent`, error); }
  }
  const t = key => TEXT[state.lang][key] || key;
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "onclick") node.addEventListener("click", v); else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }
  const xml = text => String(text).replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
  function placeholder(category) {  // a generated SVG per category, labelled in the page's language: nothing fetched
    const label = (CATEGORIES[category] || [category || ""])[state.lang === "zh" ? 1 : 0] || "";
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="160" height="100"><rect width="160" height="100" fill="${COLORS[category] || "#999"}"/>` +
      `<text x="80" y="58" font-size="16" font-family="sans-serif" text-anchor="middle" fill="#fff">${xml(label)}</text></svg>`;
    return el("img", { src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg), alt: label });
  }
  const name = p => (typeof p.name === "string" ? p.name : (p.name[state.lang] || p.name.en));
  const price = p => "¥" + Number(p.price).toLocaleString("en-US");
  async function api(path) {
    const r = await fetch("/v1" + path, { headers: { "Accept-Language": state.lang } });
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    return r.json();
  }
  function card(p, buttons) {
    return el("div", { class: "card", "data-id": p.id, "data-category": p.category }, placeholder(p.category),
      el("div", { class: "name" }, name(p)), el("div", { class: "price" }, price(p)),
      el("div", { class: "rating" }, p.rating == null ? "" : "★ " + Number(p.rating).toFixed(1)),
      p.reason ? el("div", { class: "reason" }, p.reason) : "", ...buttons);
  }
  function saveCart() { localStorage.setItem("daogou.cart", JSON.stringify(state.cart)); renderCart(); }
  function addToCart(id) { state.cart.push(id); saveCart(); return track("cart", id); }
  function removeFromCart(id) {
    const at = state.cart.indexOf(id); if (at < 0) return Promise.resolve();
    state.cart.splice(at, 1); saveCart(); return track("remove_from_cart", id);
  }
  function renderCart() { document.getElementById("cart").textContent = `${t("cart")}: ${state.cart.length}`; }
  // Views load asynchronously; a number per navigation lets only the newest draw, so a slow earlier
  // answer (the first grid, say, arriving after a filter's) never paints over what the shopper chose.
  let navigation = 0;
  const stale = (mine) => mine !== navigation;
  async function showCart() {
    const mine = ++navigation;
    state.product = null;
    const products = await Promise.all(state.cart.map(id => api("/products/" + encodeURIComponent(id)).catch(() => null)));
    if (stale(mine)) return;
    const view = document.getElementById("view"); view.replaceChildren();
    const grid = el("div", { class: "grid cart" });
    for (const p of products) if (p) grid.append(card(p, [
      el("a", { href: "#/p/" + encodeURIComponent(p.id) }, t("details")),
      el("button", { type: "button", class: "remove", onclick: () => removeFromCart(p.id).then(route) }, t("remove"))]));
    view.append(el("h1", {}, t("cart")), products.some(Boolean) ? grid : el("p", {}, t("cart_empty")));
  }
  async function showGrid() {
    const mine = ++navigation;
    state.product = null;
    const params = new URLSearchParams({ limit: "24" });
    for (const [key, id] of [["category", "f-category"], ["brand", "f-brand"], ["max_price", "f-max"]]) {
      const value = document.getElementById(id).value; if (value) params.set(key, value);
    }
    const page = await api("/products?" + params);
    if (stale(mine)) return;
    const view = document.getElementById("view"); view.replaceChildren();
    const grid = el("div", { class: "grid" });
    for (const p of page.products) grid.append(card(p, [el("a", { href: "#/p/" + encodeURIComponent(p.id), class: "open" }, t("details"))]));
    view.append(grid);
    fillFilters(page.products);
  }
  function fillFilters(products) {
    for (const [id, key] of [["f-brand", "brand"]]) {
      const select = document.getElementById(id);
      const known = new Set(Array.from(select.options, o => o.value));
      for (const p of products) if (!known.has(p[key])) { known.add(p[key]); select.append(el("option", { value: p[key] }, p[key])); }
    }
  }
  async function showProduct(id) {
    const mine = ++navigation;
    const p = await api("/products/" + encodeURIComponent(id));
    if (stale(mine)) return;
    state.product = p.id;
    track("view", p.id);  // posted while the page draws (not awaited)
    const view = document.getElementById("view"); view.replaceChildren();
    const specs = el("table", { class: "specs" });
    for (const [k, v] of Object.entries(p.specs || {})) specs.append(el("tr", {}, el("td", {}, k), el("td", {}, String(v))));
    view.append(el("article", { class: "product", "data-id": p.id }, el("h1", {}, name(p)), placeholder(p.category),
      el("p", { class: "price" }, price(p)), el("button", { type: "button", class: "add", onclick: () => addToCart(p.id) }, t("add")),
      el("h2", {}, t("specs")), specs));
    for (const [title, path] of [["also_like", "similar"], ["fits_with", "accessories"]]) {
      const list = await api(`/products/${encodeURIComponent(p.id)}/${path}?lang=${state.lang}`).catch(() => []);
      if (stale(mine)) return;
      const grid = el("div", { class: "grid " + path });
      for (const q of list) grid.append(card(q, [el("a", { href: "#/p/" + encodeURIComponent(q.id) }, t("details"))]));
      view.append(el("h2", {}, t(title)), grid);
    }
  }
  function route() {
    const m = location.hash.match(/^#\/p\/(.+)$/);
    (m ? showProduct(decodeURIComponent(m[1])) : location.hash === "#/cart" ? showCart() : showGrid()).catch(e => console.error(e));
  }
  function translate() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    document.getElementById("lang").textContent = t("switch");
    const select = document.getElementById("f-category"), chosen = select.value;
    select.replaceChildren(el("option", { value: "" }, t("all_categories")),
      ...Object.entries(CATEGORIES).map(([k, v]) => el("option", { value: k }, v[state.lang === "zh" ? 1 : 0])));
    select.value = chosen;
    renderCart();
  }
  document.getElementById("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh"; localStorage.setItem("daogou.lang", state.lang); translate(); route();
  });
  document.getElementById("filters").addEventListener("change", () => {
    if (location.hash === "#/") showGrid(); else location.hash = "#/";  // a new hash routes by itself
  });
  window.addEventListener("hashchange", route);
  translate(); route();
  return { state, ready, t, el, card, addToCart, removeFromCart, placeholder, context: () => ({ shopper_id: state.shopper, locale: state.lang,
    page: { product_id: state.product, cart: state.cart.slice() } }) };
})();
