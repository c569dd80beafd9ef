// Shared helpers of the consoles. Everything shown goes through textContent (el / text), never as
// markup: tickets hold citizens' own words, which must stay text.

export class ApiError extends Error {
  constructor(status, error) {
    super((error && error.message) || `HTTP ${status}`);
    this.status = status;
    this.id = error && error.id;
    this.details = (error && error.details) || {};
  }
}

export function toLogin(expired) {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}${expired ? "&expired=1" : ""}`);
}

export async function api(path, { method = "GET", body, raw = false } = {}) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (exc) {
    // no-label: the server cannot be reached, so neither can its labels
    throw new ApiError(0, { message: "网络中断，请检查连接 / network error" });
  }
  if (response.status === 401 && !path.startsWith("/api/auth/login")) {
    toLogin(true);
    // no-label: without a session the labels cannot be read either
    throw new ApiError(401, { message: "登录已过期 / session expired" });
  }
  if (!response.ok) {
    let error = null;
    try { error = (await response.json()).error; } catch (exc) { error = { message: response.statusText }; }
    throw new ApiError(response.status, error);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

/** Build an element: attrs may hold className, id, text, title, type, value, dataset, on{Event}. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key === "className" ? "class" : key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function $(selector, root = document) { return root.querySelector(selector); }

export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
  return node;
}

export function text(node, value) {
  node.textContent = value === null || value === undefined || value === "" ? "—" : String(value);
  return node;
}

const TZ = "Asia/Shanghai";
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  return typeof value === "number" ? new Date(value * 1000) : new Date(value);
}
export function fmtTime(value) {
  const d = toDate(value);
  return d ? d.toLocaleTimeString("zh-CN", { timeZone: TZ, hour12: false }) : "—";
}
export function fmtDateTime(value) {
  const d = toDate(value);
  return d ? d.toLocaleString("zh-CN", { timeZone: TZ, hour12: false, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit" }) : "—";
}
/** A deadline that ends at local midnight is the end of the day before: 2026/12/07 24:00, not 12/08 00:00. */
export function fmtDeadline(value) {
  const d = toDate(value);
  if (!d) return "—";
  const local = d.toLocaleString("sv-SE", { timeZone: TZ, hour12: false });
  if (local.slice(11, 16) !== "00:00") return fmtDateTime(value);
  const before = new Date(d.getTime() - 1).toLocaleDateString("sv-SE", { timeZone: TZ });
  return `${before.replaceAll("-", "/")} 24:00`;
}
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
    : `${m}:${String(s % 60).padStart(2, "0")}`;
}
export function pct(value) {
  return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`;
}
export function today() {
  return new Date().toLocaleDateString("sv-SE", { timeZone: TZ });
}

let toastTimer = null;
export function toast(message, bad = false) {
  let node = $("#toast");
  if (!node) { node = el("div", { id: "toast", role: "status" }); document.body.append(node); }
  node.className = bad ? "toast bad" : "toast";
  node.textContent = message;
  node.classList.remove("hidden");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => node.classList.add("hidden"), bad ? 8000 : 4000);
}

export function reportError(exc, where) {
  const message = exc instanceof ApiError ? exc.message : String(exc);
  toast(where ? `${where}：${message}` : message, true);
}

/** Sign-out button, user name and role; returns /api/auth/me. */
export async function initHeader() {
  const me = await api("/api/auth/me");
  text($("#user-name"), me.display_name);
  $("#logout").addEventListener("click", async () => {
    try { await api("/api/auth/logout", { method: "POST" }); } catch (exc) { /* signed out anyway */ }
    location.assign("/login");
  });
  return me;
}

// ---------------------------------------------------------------------------------- labels
// Every display name comes from the server (GET /api/labels, written once in hotline/labels.py).
const labelState = { labels: {}, simulated: false, transcription: { available: false } };

/** Load the labels once per page; also says whether the PBX is simulated and ASR is on. */
export async function loadLabels() {
  const answer = await api("/api/labels");
  Object.assign(labelState, answer);
  markSimulated(answer.simulated);
  for (const node of document.querySelectorAll("[data-label]")) {
    const [group, code] = node.dataset.label.split(":");
    node.textContent = label(group, code);
  }
  for (const node of document.querySelectorAll("[data-label-aria]")) {
    const [group, code] = node.dataset.labelAria.split(":");
    node.setAttribute("aria-label", label(group, code));
  }
  return answer;
}

/** The Chinese name of `code` in `group` (agent_states, ticket_statuses, flags, queues, …). */
export function label(group, code) {
  if (code === null || code === undefined || code === "") return "—";
  const table = labelState.labels[group] || {};
  return table[code] ?? code;
}

export function labelsOf(group) { return labelState.labels[group] || {}; }

/** A label with blanks: labelf("ticket_view", "attempt", { i: 2, … }) fills {i} and the others. */
export function labelf(group, code, values = {}) {
  return label(group, code).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name] ?? "—") : whole));
}

/** Flags as one line: 危机、群体性 (green:elderly as 绿色通道·老年人). */
export function flagText(flags) {
  return (flags || []).map((f) => (f.startsWith("green:") ? labelf("common", "green_group", { group: label("green_groups", f.slice(6)) }) : label("flags", f))).join("、");
}

/** One IVR choice as the caller made it: 主菜单：按8 绿色通道. */
export function ivrStep(step) {
  const where = label("ivr_nodes", step.node);
  if (step.key === null || step.key === undefined || step.key === "") return where;
  const chosen = (labelState.labels.ivr_keys || {})[`${step.node}:${step.key}`];
  return labelf("common", "ivr_step", { where, key: step.key, chosen: chosen ? ` ${chosen}` : "" });
}

export function transcriptionOn() { return Boolean(labelState.transcription && labelState.transcription.available); }

export function markSimulated(simulated) {
  for (const node of document.querySelectorAll(".sim-only")) node.classList.toggle("hidden", !simulated);
}

/** The live feed: a snapshot, then entries, over server-sent events (EventSource reconnects itself
 * with Last-Event-ID). onStatus gets "open", "retry" or "closed". */
export class Feed {
  constructor({ onSnapshot, onEntry, onStatus }) {
    this.onSnapshot = onSnapshot; this.onEntry = onEntry; this.onStatus = onStatus || (() => {});
  }
  start() {
    const source = new EventSource("/api/feed");
    this.source = source;
    source.addEventListener("open", () => this.onStatus("open"));
    source.addEventListener("snapshot", (e) => this.onSnapshot(JSON.parse(e.data)));
    source.addEventListener("message", (e) => this.onEntry(JSON.parse(e.data)));
    source.addEventListener("failure", () => this.onStatus("retry"));
    source.addEventListener("error", async () => {
      if (source.readyState !== EventSource.CLOSED) { this.onStatus("retry"); return; }
      this.onStatus("closed");
      try { await api("/api/auth/me"); } catch (exc) { return; }  // 401 goes to the login page
      setTimeout(() => this.start(), 3000);
    });
  }
}

export function connStatus(node) {
  return (status) => {
    node.textContent = label("feed_states", status);
  };
}

/** A data table; with `empty`, no rows give that sentence (what is empty and why) instead of bare headers. */
export function table(headers, rows, { rowClass, empty } = {}) {
  if (!rows.length && empty) return el("p", { className: "muted empty", text: empty });
  const head = el("thead", {}, el("tr", {}, headers.map((h) => el("th", { text: h }))));
  const body = el("tbody", {}, rows.map((row, i) => el("tr", { className: rowClass ? rowClass(i) : null },
    row.map((cell) => (cell instanceof Node ? el("td", {}, cell) : el("td", { text: cell ?? "—" }))))));
  return el("table", { className: "data" }, head, body);
}

/** A download link for a server-side export (audited by the server). */
export function exportLinks(url) {
  const sep = url.includes("?") ? "&" : "?";
  return el("span", { className: "row no-print" },
    el("a", { href: `${url}${sep}format=csv`, download: "", className: "export", text: label("buttons", "export_csv") }),
    el("a", { href: `${url}${sep}format=xlsx`, download: "", className: "export", text: label("buttons", "export_xlsx") }));
}

// ----------------------------------------------------------------------------------- outages
/** What /api/health says is down or stale, shown instead of a quiet-looking wallboard. */
const healthState = { last: "" };
const C = (code, values) => labelf("common", code, values);
export async function checkHealth() {
  let h;
  try {
    const response = await fetch("/api/health", { headers: { Accept: "application/json" } });
    h = await response.json();
  } catch (exc) { h = null; }
  const problems = [];
  if (!h) problems.push(C("no_answer"));
  else {
    if (h.database && h.database.ok === false) problems.push(C("database_down", { error: h.database.error ? `（${h.database.error}）` : "" }));
    if (h.redis && h.redis.ok === false) problems.push(C("redis_down"));
    if (h.bridge && h.bridge.running === false) problems.push(C("bridge_stopped"));
    else if (h.bridge && h.bridge.connected === false) problems.push(C("bridge_disconnected"));
    for (const [name, c] of Object.entries(h.components || {})) {
      if (c && (c.ok === false || c.status === "down" || c.status === "stale")) {
        problems.push(C("component", { state: label("health", c.status || "down"), name: c.label || name, since: c.since ? C("since", { when: fmtDateTime(c.since) }) : "" }));
      }
    }
  }
  let node = $("#outage");
  if (!node) { node = el("div", { id: "outage", className: "outage hidden", role: "status" }); document.querySelector(".topbar").after(node); }
  // A problem is shown once two checks in a row see it: a heartbeat written a moment before the
  // bridge connected is not an outage.
  const seen = problems.join("；");
  const confirmed = seen && seen === healthState.last;
  healthState.last = seen;
  if (!confirmed) problems.length = 0;
  if (problems.length) {
    if (!node.dataset.since) node.dataset.since = String(Date.now() / 1000);
    fill(node, el("strong", { text: C("outage") }), C("outage_detail", { problems: problems.join("；"), when: fmtDateTime(Number(node.dataset.since)) }));
  } else {
    delete node.dataset.since;
  }
  node.classList.toggle("hidden", problems.length === 0);
}
window.hotlineCheckHealth = checkHealth;  // the support desk and the browser tests run a check at once
