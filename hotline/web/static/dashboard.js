// 监控大屏: the live wallboard (pushed over the feed), KPIs for a period, work orders and audits.
import {
  $, api, checkHealth, connStatus, el, exportLinks, Feed, fill, fmtDateTime, fmtDuration, fmtTime, initHeader, label, labelf, loadLabels, pct,
  reportError, table, text, toast, today,
} from "/static/common.js";

const TARGET = 0.9;
/** This page's own words (dashboard_page in hotline/labels.py). */
const P = (code, values) => labelf("dashboard_page", code, values);
const SL_HELP = (t) => P("sl_help", { t });

const live = { queues: new Map(), agents: new Map(), calls: new Map(), offset: 0, labels: {}, renderQueued: false };
const charts = {};

// ---------------------------------------------------------------------------------- wallboard
function serverNow() { return Date.now() / 1000 + live.offset; }

function onSnapshot(snapshot) {
  const state = snapshot.live;
  if (!state) { text($("#wall-updated"), snapshot.error || P("live_unavailable")); return; }
  live.offset = state.at - Date.now() / 1000;
  live.queues = new Map(state.queues.map((q) => [q.queue, q]));
  live.agents = new Map(state.agents.map((a) => [a.interface, a]));
  live.calls = new Map(state.calls.map((c) => [c.linkedid, {
    linkedid: c.linkedid, caller: c.caller_number, queue: c.queue, state: c.state, agent: c.agent_interface,
    since: c.answered_at || c.offered_at || c.started_at,
  }]));
  render();
}

function onEntry(entry) {
  if (entry.type === "queue") {
    live.queues.set(entry.queue, entry);
  } else if (entry.type === "agent") {
    if (entry.state === "off_duty") live.agents.delete(entry.interface);
    else {
      const previous = live.agents.get(entry.interface) || {};
      live.agents.set(entry.interface, { ...previous, ...entry,
        since: previous.state === entry.state ? previous.since : entry.at });
    }
  } else if (entry.type === "call") {
    if (entry.state === "ended") live.calls.delete(entry.linkedid);
    else {
      const previous = live.calls.get(entry.linkedid) || {};
      live.calls.set(entry.linkedid, { linkedid: entry.linkedid, caller: entry.caller, queue: entry.queue,
        state: entry.state, agent: entry.agent, since: previous.state === entry.state ? previous.since : entry.at });
    }
  } else if (entry.type === "ticket.event" && (entry.action === "alert" || entry.action === "alert_ack")) {
    loadAlerts(entry.action === "alert");
    scheduleWorkOrders();
  } else if (entry.type === "ticket.escalated") {
    loadOverdue();
  } else if (entry.type === "ticket.event") {
    scheduleWorkOrders();
  } else {
    return;
  }
  text($("#wall-updated"), P("updated", { when: fmtTime(Date.now() / 1000) }));
  if (!live.renderQueued) { live.renderQueued = true; requestAnimationFrame(render); }
}

function agentName(interface_) {
  const agent = live.agents.get(interface_);
  return agent ? `${agent.name}` : interface_;
}

function queueName(queue) { return label("queues", queue); }

function render() {
  live.renderQueued = false;
  const now = serverNow();
  const queues = [...live.queues.values()].sort((a, b) => b.waiting - a.waiting || a.queue.localeCompare(b.queue));
  const waiting = queues.reduce((n, q) => n + (q.waiting || 0), 0);
  const oldest = Math.min(...queues.map((q) => q.oldest_joined_at ?? Infinity));
  const agents = [...live.agents.values()];
  text($("#t-waiting"), waiting);
  $("#tile-waiting").classList.toggle("alert", waiting > 0);
  text($("#t-longest"), Number.isFinite(oldest) ? fmtDuration(now - oldest) : "—");
  $("#tile-longest").classList.toggle("alert", Number.isFinite(oldest) && now - oldest > 60);
  text($("#t-available"), agents.filter((a) => a.state === "available").length);
  text($("#t-talking"), agents.filter((a) => a.state === "talking").length);
  fill($("#wall-queues"), table([label("kpi_measures", "queue"), P("waiting"), label("kpi_measures", "longest_wait"), P("on_duty"), label("agent_states", "available"), label("agent_states", "paused")],
    queues.filter((q) => q.waiting || q.members_on_duty).map((q) => [queueName(q.queue), q.waiting,
      q.oldest_joined_at ? fmtDuration(now - q.oldest_joined_at) : "—", q.members_on_duty, q.members_available, q.members_paused]),
    { rowClass: (i) => (queues[i].waiting ? "due-soon" : null) }));
  fill($("#wall-agents"), table([label("columns", "lawyer"), P("extension"), label("columns", "status"), P("lasting")],
    agents.sort((a, b) => a.name.localeCompare(b.name)).map((a) => [a.name, a.interface,
      `${label("agent_states", a.state)}${a.reason ? `（${a.reason}）` : ""}`, a.since ? fmtDuration(now - a.since) : "—"])));
  const calls = [...live.calls.values()].sort((a, b) => (a.since || 0) - (b.since || 0));
  fill($("#wall-calls"), table([P("caller"), label("kpi_measures", "queue"), label("columns", "status"), label("columns", "lawyer"), P("duration")],
    calls.map((c) => [c.caller, queueName(c.queue), label("call_states", c.state), c.agent ? agentName(c.agent) : "—",
      c.since ? fmtDuration(now - c.since) : "—"]),
    { rowClass: (i) => (calls[i].state === "waiting" ? "due-soon" : null) }));
}

// ---------------------------------------------------------------------------------------- KPIs
function period() { return { start: $("#p-start").value, end: $("#p-end").value }; }

function qs(params) { return new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")).toString(); }

function chart(id) {
  if (!window.echarts) { fill($(`#${id}`), el("p", { className: "muted", text: P("no_charts") })); return null; }
  if (!charts[id]) { fill($(`#${id}`)); charts[id] = window.echarts.init($(`#${id}`)); }
  return charts[id];
}

/** A bucket as people read it: 04:00 for an hour of one day, 12-04 for a day, 2026-12 for a month. */
function bucketLabel(bucket, granularity) {
  const d = new Date(bucket);
  if (Number.isNaN(d.getTime())) return String(bucket);
  const local = d.toLocaleString("sv-SE", { timeZone: "Asia/Shanghai", hour12: false });
  if (granularity === "hour") return `${local.slice(11, 13)}:00`;
  if (granularity === "month") return local.slice(0, 7);
  return local.slice(5, 10);
}

function periodTitle(p) { return p.start === p.end ? p.start : P("period", { start: p.start, end: p.end }); }

/** An empty chart says what is empty and why, instead of blank axes. */
function emptyChart(id, message) {
  if (charts[id]) { charts[id].dispose(); delete charts[id]; }
  fill($(`#${id}`), el("p", { className: "muted empty", text: message }));
}

function tile(labelText, value, { alert = false, help = null } = {}) {
  return el("div", { className: `tile${alert ? " alert" : ""}`, title: help },
    el("div", { className: "v", text: value }), el("div", { className: "l", text: labelText }));
}

async function loadKpis() {
  const p = period();
  const granularity = p.start === p.end ? "hour" : "day";
  text($("#kpi-chart-title"), P("chart_title", { period: periodTitle(p), by: P(granularity === "hour" ? "by_hour" : "by_day") }));
  try {
    const [overall, hourly, byQueue] = await Promise.all([
      api(`/api/kpi?${qs({ ...p, granularity: "all" })}`),
      api(`/api/kpi?${qs({ ...p, granularity })}`),
      api(`/api/kpi?${qs({ ...p, granularity: "all", by_queue: true })}`),
    ]);
    const k = overall.rows[0] || {};
    const t = overall.threshold_s;
    fill($("#kpi-tiles"), [
      tile(label("kpi_measures", "offered"), k.offered ?? 0, { help: P("offered_help") }),
      tile(label("kpi_measures", "answered"), k.answered ?? 0, { help: P("answered_help") }),
      tile(label("kpi_measures", "connection_rate"), pct(k.connection_rate), { alert: k.connection_rate !== null && k.connection_rate !== undefined && k.connection_rate < TARGET, help: P("rate_help") }),
      tile(P("sl", { t }), pct(k.service_level), { help: SL_HELP(t) }),
      tile(label("kpi_measures", "asa"), k.asa === null || k.asa === undefined ? "—" : P("seconds", { n: Math.round(k.asa) }), { help: P("asa_help") }),
      tile(label("kpi_measures", "abandon_rate"), pct(k.abandon_rate), { help: P("abandon_help") }),
      tile(label("kpi_measures", "aht"), k.aht === null || k.aht === undefined ? "—" : fmtDuration(k.aht), { help: P("aht_help") }),
      tile(label("kpi_measures", "closed_hours"), k.closed_hours ?? 0, { help: P("closed_hours_help") }),
    ]);
    fill($("#kpi-queues"), byQueue.rows.length ? table([label("kpi_measures", "queue"), label("kpi_measures", "offered"), label("kpi_measures", "answered"), label("kpi_measures", "connection_rate"), "SL", label("kpi_measures", "asa"), label("kpi_measures", "abandon_rate")],
      byQueue.rows.map((r) => [queueName(r.queue), r.offered, r.answered, pct(r.connection_rate), pct(r.service_level),
        r.asa === null ? "—" : P("seconds", { n: Math.round(r.asa) }), pct(r.abandon_rate)]))
      : el("p", { className: "muted empty", text: P("kpi_empty", { period: periodTitle(p) }) }));
    fill($("#kpi-export"), exportLinks(`/api/dashboard/kpi?${qs({ ...p, granularity: "all", by_queue: true })}`));
    if (!hourly.rows.some((r) => r.offered || r.closed_hours)) {
      emptyChart("chart-hourly", P("chart_empty", { period: periodTitle(p) }));
      return;
    }
    const c = chart("chart-hourly");
    if (c) {
      c.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: [label("kpi_measures", "offered"), label("kpi_measures", "answered"), label("kpi_measures", "connection_rate")], top: 0, left: "center" },
        grid: { left: 44, right: 48, top: 44, bottom: 28 },
        xAxis: { type: "category", data: hourly.rows.map((r) => bucketLabel(r.bucket, granularity)) },
        yAxis: [{ type: "value", name: P("calls_axis"), minInterval: 1, nameTextStyle: { align: "left" } },
          { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } }],
        series: [
          { name: label("kpi_measures", "offered"), type: "bar", data: hourly.rows.map((r) => r.offered) },
          { name: label("kpi_measures", "answered"), type: "bar", data: hourly.rows.map((r) => r.answered) },
          { name: label("kpi_measures", "connection_rate"), type: "line", yAxisIndex: 1, data: hourly.rows.map((r) => r.connection_rate),
            markLine: { symbol: "none", data: [{ yAxis: TARGET, name: P("target") }], lineStyle: { color: "#c62828" },
              label: { formatter: P("target"), position: "insideEndTop" } } },
        ],
      }, true);
    }
  } catch (exc) { reportError(exc, P("kpi_failed")); }
}

async function loadIvr() {
  const p = period();
  text($("#ivr-title"), P("ivr_title", { period: periodTitle(p) }));
  try {
    const d = await api(`/api/dashboard/ivr-dropouts?${qs(p)}`);
    fill($("#ivr-table"), d.by_exit.length ? table([P("exit"), P("times"), label("columns", "share")], d.by_exit.map((e) => [e.label, e.count, pct(e.share)]))
      : el("p", { className: "muted empty", text: P("ivr_empty", { period: periodTitle(p) }) }));
    fill($("#ivr-export"), exportLinks(`/api/dashboard/ivr-dropouts?${qs(p)}`));
    if (!d.dropouts.length) {
      emptyChart("chart-ivr", P(d.sessions ? "ivr_no_hangups" : "ivr_no_sessions", { period: periodTitle(p) }));
      return;
    }
    const c = chart("chart-ivr");
    const rows = [...d.dropouts].reverse();  // the largest at the top
    if (c) c.setOption({ tooltip: {}, grid: { left: 110, right: 24, top: 10, bottom: 24 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: rows.map((n) => n.label || label("ivr_nodes", n.node)) },
      series: [{ name: P("menu_hangups"), type: "bar", data: rows.map((n) => n.count) }] }, true);
  } catch (exc) { reportError(exc, P("ivr_failed")); }
}

async function loadTopics() {
  const p = period();
  try {
    text($("#topics-title"), P("topics_title", { period: periodTitle(p) }));
    const d = await api(`/api/statistics/topics?${qs({ ...p, granularity: "day" })}`);
    if (!d.categories.length) {
      emptyChart("chart-topics", P("topics_empty", { period: periodTitle(p) }));
      fill($("#topics-export"), exportLinks(`/api/statistics/topics?${qs({ ...p, granularity: "day" })}`));
      return;
    }
    fill($("#topics-export"), exportLinks(`/api/statistics/topics?${qs({ ...p, granularity: "day" })}`));
    const c = chart("chart-topics");
    if (c) c.setOption({ tooltip: { trigger: "item" }, series: [{ type: "pie", radius: ["35%", "65%"],
      data: d.categories.slice(0, 10).map((x) => ({ name: x.category || label("words", "uncategorised"), value: x.count })) }] }, true);
  } catch (exc) { reportError(exc, P("topics_failed")); }
}

async function loadSatisfaction() {
  const p = period();
  try {
    const [sla, sat] = await Promise.all([api(`/api/callbacks/sla?${qs(p)}`), api(`/api/dashboard/satisfaction?${qs(p)}`)]);
    fill($("#sat-tiles"), [
      [P("sla_met"), pct(sla.rate)], [label("ticket_statuses", "closed"), sla.closed], [P("satisfaction_rate"), pct(sat.satisfaction_rate)],
      [P("survey"), sat.survey_mean ?? "—"],
    ].map(([l, v]) => el("div", { className: "tile" }, el("div", { className: "v", text: v }), el("div", { className: "l", text: l }))));
    fill($("#sat-export"), el("span", { className: "row" }, P("sla"), exportLinks(`/api/dashboard/callback-sla?${qs(p)}`),
      label("columns", "satisfaction"), exportLinks(`/api/dashboard/satisfaction?${qs(p)}`)));
    const c = chart("chart-sat");
    if (!sat.callbacks.some((x) => x.count)) { emptyChart("chart-sat", P("sat_empty", { period: periodTitle(p) })); return; }
    if (c) c.setOption({ tooltip: {}, grid: { left: 70, right: 16, top: 10, bottom: 20 }, xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: sat.callbacks.map((x) => x.label) },
      series: [{ type: "bar", data: sat.callbacks.map((x) => x.count) }] }, true);
  } catch (exc) { reportError(exc, P("sat_failed")); }
}

let workOrdersTimer = null;
function scheduleWorkOrders() {
  clearTimeout(workOrdersTimer);
  workOrdersTimer = setTimeout(() => { loadBacklog(); loadOverdue(); loadTriage(); }, 2000);  // bursts of ticket events load once
}

async function loadBacklog() {
  try {
    const d = await api("/api/dashboard/backlog");
    fill($("#backlog"), table([label("columns", "station"), label("ticket_statuses", "forwarded"), label("ticket_statuses", "received"), label("ticket_statuses", "in_progress"), label("ticket_statuses", "returned"), label("columns", "total"), label("columns", "overdue")],
      d.stations.map((s) => [s.station, s.forwarded, s.received, s.in_progress, s.returned, s.total, s.overdue]),
      { rowClass: (i) => (d.stations[i].overdue ? "overdue" : null) }));
    fill($("#backlog-export"), exportLinks("/api/dashboard/backlog"));
  } catch (exc) { reportError(exc, P("backlog_failed")); }
}

async function loadOverdue() {
  try {
    const d = await api("/api/supervision/overdue?page_size=50");
    fill($("#overdue"), d.items.length ? table([label("columns", "ticket"), label("columns", "station"), label("columns", "overdue")],
      d.items.map((t) => [t.code, t.station_name, t.overdue.map((o) => P("overdue_by", { kind: o.label, hours: o.overdue_hours })).join("；")]),
      { rowClass: () => "overdue" }) : el("p", { className: "muted", text: P("no_overdue") }));
    fill($("#overdue-export"), exportLinks("/api/dashboard/overdue"));
  } catch (exc) { reportError(exc, P("overdue_failed")); }
}

async function loadAudit() {
  try {
    const [views, exports] = await Promise.all([api("/api/audit/views?limit=20"), api("/api/statistics/exports?limit=20")]);
    fill($("#audit-views"), table([label("columns", "time"), label("columns", "user"), P("viewed"), P("subject")], views.map((v) => [fmtDateTime(v.at), v.username, label("audit_views", v.kind), v.subject])));
    fill($("#audit-exports"), table([label("columns", "time"), label("columns", "user"), P("export"), P("format"), P("rows")],
      exports.map((e) => [fmtDateTime(e.at), e.username, label("reports", e.report), String(e.format).toUpperCase(), e.rows])));
  } catch (exc) { reportError(exc, P("audit_failed")); }
}

// ------------------------------------------------------------------------------- crisis alerts
let beepContext = null;
function beep() {
  try {
    beepContext = beepContext || new AudioContext();
    const osc = beepContext.createOscillator();
    const gain = beepContext.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.2;
    osc.connect(gain).connect(beepContext.destination);
    osc.start(); osc.stop(beepContext.currentTime + 0.6);
  } catch (exc) { /* no audio device: the banner still shows */ }
}

const shownAlerts = new Set();
async function loadAlerts(sound = false) {
  let d;
  try { d = await api("/api/alerts"); } catch (exc) { reportError(exc, P("alerts_failed")); return; }
  const node = $("#alerts");
  node.classList.toggle("hidden", d.items.length === 0);
  const fresh = d.items.some((a) => !shownAlerts.has(a.event_id));
  d.items.forEach((a) => shownAlerts.add(a.event_id));
  if (fresh && sound) beep();
  fill(node, d.items.map((a) => {
    const note = el("input", { placeholder: P("ack_note"), maxlength: 2000, size: 18, "aria-label": P("ack_note_label") });
    const ack = el("button", { type: "button", className: "ack", text: label("buttons", "alert_ack"), dataset: { code: a.code }, onclick: async () => {
      ack.disabled = true;
      try {
        await api(`/api/alerts/${a.code}/ack`, { method: "POST", body: note.value.trim() ? { note: note.value.trim() } : {} });
        toast(P("acked", { code: a.code, who: $("#user-name").textContent }));
      } catch (exc) { reportError(exc, P("ack_failed")); ack.disabled = false; }
      loadAlerts();
    } });
    return el("div", { className: "alert-row", dataset: { code: a.code } },
      el("strong", { text: P("alert") }), P("alert_line", { when: fmtDateTime(a.at), code: a.code, category: a.category || label("words", "uncategorised"), priority: label("priorities", a.priority) }),
      a.note ? ` · ${a.note}` : "", note, ack);
  }));
}

// -------------------------------------------------------------------------------------- triage
let triageStations = [];
async function loadTriage() {
  let d;
  try { d = await api("/api/triage?page_size=50"); } catch (exc) { reportError(exc, P("triage_failed")); return; }
  if (!d.items.length) { fill($("#triage"), el("p", { className: "muted", text: P("triage_empty") })); return; }
  const categories = (await categoriesOnce()).categories;
  fill($("#triage"), table([label("columns", "ticket"), P("reason"), label("columns", "description"), P("suggestion"), label("columns", "category"), label("columns", "station"), ""], d.items.map((t) => {
    const category = el("select", { "aria-label": label("columns", "category") }, el("option", { value: "", text: P("pick_category") }),
      categories.map((c) => el("option", { value: c.name, text: c.name, selected: c.name === t.category })));
    const station = el("select", { "aria-label": label("columns", "station") }, el("option", { value: "", text: P("no_forward") }),
      triageStations.map(([id, name]) => el("option", { value: id, text: name })));
    const decide = el("button", { type: "button", text: label("buttons", "triage_decide"), dataset: { code: t.code }, onclick: async () => {
      if (!category.value) { toast(P("need_category"), true); return; }
      decide.disabled = true;
      try {
        const done = await api(`/api/triage/${t.code}/decision`, { method: "POST",
          body: { category: category.value, ...(station.value ? { station_id: Number(station.value) } : {}) } });
        toast(P("decided", { code: done.code, category: done.category, station: done.station_name ? ` → ${done.station_name}` : "" }));
        loadTriage();
      } catch (exc) { reportError(exc, P("triage_failed_one")); decide.disabled = false; }
    } });
    const why = [t.triage_reason_label, t.triage_note].filter(Boolean).join("：");
    const routing = t.routing || {};
    return [t.code, why, t.description.length > 50 ? `${t.description.slice(0, 50)}…` : t.description,
      t.confidence !== undefined && t.confidence !== null ? P("confidence", { pct: Math.round(t.confidence * 100) }) : (routing.category || "—"),
      category, station, decide];
  }), { rowClass: (i) => (d.items[i].priority === "urgent" ? "overdue" : null) }));
}

let categoriesCache = null;
async function categoriesOnce() {
  if (!categoriesCache) {
    const [categories, stations] = await Promise.all([api("/api/categories"), api("/api/stations")]);
    const flat = (nodes, depth) => nodes.flatMap((n) => [[n.id, `${"　".repeat(depth)}${n.name}`], ...flat(n.children || [], depth + 1)]);
    triageStations = flat(stations, 0);
    categoriesCache = categories;
  }
  return categoriesCache;
}

function loadPeriod() { loadKpis(); loadIvr(); loadTopics(); loadSatisfaction(); }

async function main() {
  const me = await initHeader();
  await loadLabels();
  $("#nav-admin").classList.toggle("hidden", me.role !== "admin");
  fill($("#wall-export"), exportLinks("/api/dashboard/live"));
  const day = today();
  $("#p-start").value = day; $("#p-end").value = day;
  $("#period").addEventListener("submit", (e) => { e.preventDefault(); loadPeriod(); });
  $("#p-today").addEventListener("click", () => { $("#p-start").value = today(); $("#p-end").value = today(); loadPeriod(); });
  $("#p-month").addEventListener("click", () => { const t = today(); $("#p-start").value = `${t.slice(0, 8)}01`; $("#p-end").value = t; loadPeriod(); });
  new Feed({ onSnapshot, onEntry, onStatus: connStatus($("#conn")) }).start();
  setInterval(render, 1000);  // waits and durations tick without any request
  setInterval(() => { loadKpis(); loadAudit(); }, 60000);
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  $("#btn-refresh-triage").addEventListener("click", loadTriage);
  setInterval(checkHealth, 15000);
  setInterval(() => loadAlerts(true), 10000);  // the feed announces alerts at once; this covers a feed or worker that is away
  loadPeriod(); loadBacklog(); loadOverdue(); loadAudit(); loadAlerts(true); loadTriage(); checkHealth();
}

main().catch((exc) => reportError(exc, P("start_failed")));
