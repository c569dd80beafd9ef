// 月度报表: one month on one printable page.
import { $, api, el, fill, fmtDateTime, initHeader, label, labelf, loadLabels, pct, reportError, table, text, today } from "/static/common.js";

/** This page's own words (report_page in hotline/labels.py). */
const P = (code, values) => labelf("report_page", code, values);

function lastDay(month) {
  const [y, m] = month.split("-").map(Number);
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0")}`;
}

async function build(month) {
  const start = `${month}-01`;
  const end = lastDay(month) < today() ? lastDay(month) : today() < start ? start : today();
  const p = `start=${start}&end=${end}`;
  text($("#report-title"), P("title", { year: month.slice(0, 4), month: month.slice(5, 7) }));
  text($("#report-sub"), P("period", { start, end, when: fmtDateTime(Date.now() / 1000) }));
  try {
    const [overall, daily, queues, ivr, topics, hot, sla, sat, backlog] = await Promise.all([
      api(`/api/kpi?${p}`), api(`/api/kpi?${p}&granularity=day`), api(`/api/kpi?${p}&by_queue=true`),
      api(`/api/dashboard/ivr-dropouts?${p}`), api(`/api/statistics/topics?${p}&granularity=month`),
      api(`/api/statistics/hot-topics?month=${month}`), api(`/api/callbacks/sla?${p}`),
      api(`/api/dashboard/satisfaction?${p}`), api("/api/dashboard/backlog"),
    ]);
    const k = overall.rows[0] || {};
    fill($("#r-kpi"), [[label("kpi_measures", "offered"), k.offered ?? 0], [label("kpi_measures", "answered"), k.answered ?? 0], [P("rate_target"), pct(k.connection_rate)],
      [P("sl", { t: overall.threshold_s }), pct(k.service_level)], [P("asa_s"), k.asa === null || k.asa === undefined ? "—" : Math.round(k.asa)],
      [label("kpi_measures", "abandon_rate"), pct(k.abandon_rate)], [P("aht_s"), k.aht === null || k.aht === undefined ? "—" : Math.round(k.aht)],
      [label("kpi_measures", "closed_hours"), k.closed_hours ?? 0]]
      .map(([l, v]) => el("div", { className: "tile" }, el("div", { className: "v", text: v }), el("div", { className: "l", text: l }))));
    if (window.echarts) {
      window.echarts.init($("#r-chart"), null, { renderer: "svg" }).setOption({
        animation: false, legend: { top: 0 }, grid: { left: 44, right: 48, top: 40, bottom: 24 },
        xAxis: { type: "category", data: daily.rows.map((r) => String(r.bucket).slice(5, 10)) },
        yAxis: [{ type: "value", name: P("calls_axis"), minInterval: 1 },
          { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } }],
        series: [{ name: label("kpi_measures", "offered"), type: "bar", data: daily.rows.map((r) => r.offered) },
          { name: label("kpi_measures", "connection_rate"), type: "line", yAxisIndex: 1, data: daily.rows.map((r) => r.connection_rate),
            markLine: { symbol: "none", data: [{ yAxis: 0.9 }], label: { formatter: P("target"), position: "insideEndTop" } } }],
      });
    }
    fill($("#r-queues"), table([label("kpi_measures", "queue"), label("kpi_measures", "offered"), label("kpi_measures", "answered"), label("kpi_measures", "connection_rate"), "SL", label("kpi_measures", "abandon_rate")], queues.rows.map((r) =>
      [label("queues", r.queue), r.offered, r.answered, pct(r.connection_rate), pct(r.service_level), pct(r.abandon_rate)])));
    fill($("#r-ivr"), table([P("ivr_node"), P("hangups"), label("columns", "share")], ivr.dropouts.map((n) => [n.label, n.count, pct(n.share)]),
      { empty: P("ivr_empty") }));
    fill($("#r-topics"), table([label("columns", "category"), label("columns", "count")], topics.categories.map((c) => [c.category || label("words", "uncategorised"), c.count]),
      { empty: P("topics_empty") }));
    fill($("#r-hot"), el("div", {},
      table([P("rank"), label("columns", "category"), label("columns", "count"), label("columns", "share"), P("last_month")], hot.top.map((t, i) => [i + 1, t.category, t.count, pct(t.share), t.previous]),
        { empty: P("hot_empty") }),
      el("h3", { text: P("typical") }),
      el("ul", {}, Object.entries(hot.typical).flatMap(([c, texts]) => texts.map((q) => el("li", { text: `【${c}】${q}` }))))));
    fill($("#r-sat"), table([P("measure"), P("value")], [[P("sla_rate"), pct(sla.rate)], [P("closed"), sla.closed],
      [P("on_time"), sla.on_time], [P("satisfaction_rate"), pct(sat.satisfaction_rate)], [P("survey_mean"), sat.survey_mean ?? "—"]]));
    fill($("#r-backlog"), table([label("columns", "station"), label("columns", "total"), label("columns", "overdue")], backlog.stations.map((s) => [s.station, s.total, s.overdue]),
      { empty: P("backlog_empty") }));
  } catch (exc) { reportError(exc, P("build_failed")); }
}

async function main() {
  await Promise.all([initHeader(), loadLabels()]);
  const params = new URLSearchParams(location.search);
  const month = /^\d{4}-\d{2}$/.test(params.get("month") || "") ? params.get("month") : today().slice(0, 7);
  $("#month").value = month;
  $("#month-form").addEventListener("submit", (e) => {
    e.preventDefault();
    history.replaceState(null, "", `?month=${$("#month").value}`);
    build($("#month").value);
  });
  $("#btn-print").addEventListener("click", () => window.print());
  build(month);
}

main().catch((exc) => reportError(exc, P("start_failed")));
