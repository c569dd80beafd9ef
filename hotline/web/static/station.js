// 工作站待办: forwarded tickets of this station and those below it; accept, return, report, finish.
import {
  $, api, checkHealth, connStatus, el, Feed, fill, flagText, fmtDateTime, fmtDeadline, initHeader, label, labelf, loadLabels, reportError,
  table, text, toast,
} from "/static/common.js";
import { showCallbacks, showRecordings } from "/static/ticketview.js";

const state = { items: [], selected: null };
/** This page's own words (station_page in hotline/labels.py). */
const P = (code, values) => labelf("station_page", code, values);

function deadlineOf(t) { return t.status === "forwarded" ? t.accept_due_at : t.finish_due_at; }

function urgency(t) {
  const due = deadlineOf(t);
  if (!due) return null;
  const left = new Date(due).getTime() - Date.now();
  return left < 0 ? "overdue" : left < 24 * 3600 * 1000 ? "due-soon" : null;
}

function remaining(t) {
  const due = deadlineOf(t);
  if (!due) return "—";
  const hours = (new Date(due).getTime() - Date.now()) / 3600000;
  if (hours < 0) return P("overdue_hours", { n: Math.ceil(-hours) });
  return hours < 48 ? P("hours_left", { n: Math.floor(hours) }) : P("days_left", { n: Math.floor(hours / 24) });
}

async function loadInbox() {
  let page;
  const done = $("#list-kind").value === "done";
  const q = $("#station-q").value.trim();
  const url = done || q
    ? `/api/tickets?${new URLSearchParams([...(done ? [["status", "closed"], ["status", "followed_up"], ["status", "archived"]] : []),
      ...(q ? [["q", q]] : []), ["page_size", "100"]])}`
    : "/api/forwarding/inbox?page_size=200";
  try { page = await api(url); } catch (exc) { reportError(exc, P("load_failed")); return; }
  state.items = page.items;
  fill($("#inbox"), page.items.length ? table([label("columns", "ticket"), label("columns", "status"), label("columns", "category"), P("priority"), label("columns", "station"), P("deadline"), P("remaining")],
    page.items.map((t) => [
      el("a", { href: "#", text: t.code, dataset: { code: t.code }, onclick: (e) => { e.preventDefault(); select(t.code); } }),
      t.status_label, t.category, label("priorities", t.priority), t.station_name, fmtDeadline(deadlineOf(t)), remaining(t),
    ]), { rowClass: (i) => [urgency(page.items[i]), page.items[i].code === state.selected ? "selected" : null].filter(Boolean).join(" ") || null })
    : el("p", { className: "muted", text: q ? P("no_match", { q }) : P(done ? "no_done" : "no_open") }));
}

async function select(code) {
  state.selected = code;
  let t;
  try { t = await api(`/api/tickets/${encodeURIComponent(code)}`); } catch (exc) { reportError(exc, P("ticket_failed")); return; }
  $("#detail-empty").classList.add("hidden");
  $("#detail-body").classList.remove("hidden");
  text($("#d-code"), t.code);
  text($("#d-status"), t.status_label);
  text($("#d-caller"), [t.caller_name, t.caller_number].filter(Boolean).join(" "));
  text($("#d-category"), [t.category, t.subcategory].filter(Boolean).join(" / "));
  text($("#d-priority"), label("priorities", t.priority));
  fill($("#d-flags"), (t.flags || []).length
    ? t.flags.map((f) => el("span", { className: `badge ${f === "crisis" ? "bad" : f === "green_channel" || f.startsWith("green:") ? "green" : "warn"}`, text: flagText([f]) }))
    : "—");
  text($("#d-station"), t.station_name);
  text($("#d-accept-due"), fmtDeadline(t.accept_due_at));
  text($("#d-finish-due"), fmtDeadline(t.finish_due_at));
  $("#d-description").textContent = t.description;
  showRecordings($("#d-recordings"), t);
  showCallbacks($("#d-callbacks"), t);
  $("#d-note").value = "";
  if ($("#detail-body").dataset.code !== t.code) text($("#dial-state"), " ");
  $("#detail-body").dataset.code = t.code;
  text($("#d-error"), " ");
  const buttons = [];
  const allowed = new Set(t.allowed_next);
  if (allowed.has("received")) buttons.push(["received", "ok"]);
  if (allowed.has("in_progress")) buttons.push(["in_progress", ""]);
  if (["received", "in_progress"].includes(t.status)) buttons.push(["progress", "secondary"]);
  if (allowed.has("closed")) buttons.push(["closed", "ok"]);
  if (allowed.has("returned")) buttons.push(["returned", "danger"]);
  fill($("#d-actions"), buttons.length ? buttons.map(([target, cls]) => el("button", { type: "button", className: cls,
    text: label("ticket_transitions", target), dataset: { action: target }, onclick: () => act(t.code, target) }))
    : el("span", { className: "muted", text: P("nothing_to_do") }));
  fill($("#d-history"), t.events.map((e) => el("li", {},
    el("span", { className: "muted", text: `${fmtDateTime(e.at)} ` }), label("ticket_actions", e.action),
    e.to_status && e.to_status !== e.from_status ? ` → ${label("ticket_statuses", e.to_status)}` : "",
    e.actor_name ? el("span", { className: "who", text: `（${e.actor_name}）` }) : "", e.note ? `：${e.note}` : "")));
  loadInbox();
}

async function dialCitizen() {
  const code = state.selected;
  if (!code) return;
  $("#btn-dial").disabled = true;
  try {
    await api(`/api/tickets/${encodeURIComponent(code)}/dial`, { method: "POST" });
    text($("#dial-state"), P("dialling"));
    select(code);
  } catch (exc) { text($("#dial-state"), exc.message); }
  $("#btn-dial").disabled = false;
}

async function act(code, target) {
  const note = $("#d-note").value.trim();
  const error = $("#d-error");
  error.textContent = "";
  if (target === "returned" && !note) { error.textContent = P("need_reason"); $("#d-note").focus(); return; }
  if (target === "closed" && !note) { error.textContent = P("need_result"); $("#d-note").focus(); return; }
  if (target === "progress" && !note) { error.textContent = P("need_progress"); $("#d-note").focus(); return; }
  try {
    if (target === "progress") {
      await api(`/api/tickets/${code}/progress`, { method: "POST", body: { note } });
    } else {
      const body = { to: target };
      if (target === "returned") body.reason = note;
      if (target === "closed") body.result = note;
      await api(`/api/tickets/${code}/transitions`, { method: "POST", body });
    }
    toast(P("done", { code, action: label("ticket_transitions", target) }));
  } catch (exc) { error.textContent = exc.message; return; }
  if (target === "closed" || target === "returned") {
    state.selected = null;
    $("#detail-body").classList.add("hidden");
    $("#detail-empty").classList.remove("hidden");
    loadInbox();
  } else {
    select(code);
  }
}

let refreshTimer = null;
function onEntry(entry) {
  if (!entry.type || !entry.type.startsWith("ticket.")) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadInbox, 1000);
}

async function main() {
  await Promise.all([initHeader(), loadLabels()]);
  $("#btn-refresh").addEventListener("click", loadInbox);
  $("#station-search").addEventListener("submit", (e) => { e.preventDefault(); loadInbox(); });
  $("#list-kind").addEventListener("change", loadInbox);
  $("#btn-dial").addEventListener("click", dialCitizen);
  await loadInbox();
  new Feed({ onSnapshot: () => {}, onEntry, onStatus: connStatus($("#conn")) }).start();
  setInterval(loadInbox, 120000);  // deadlines move on even when nothing is announced
  checkHealth();
  setInterval(checkHealth, 15000);
}

main().catch((exc) => reportError(exc, P("start_failed")));
