// 月度报表: one month on one printable page.
import { $, api, el, fill, fmtDateTime, initHeader, label, loadLabels, pct, reportError, table, text, today } from "/static/common.js";

function lastDay(month) {
  const [y, m] = month.split("-").map(Number);
  return `${month}-${String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0")}`;
}

async function build(month) {
  const start = `${month}-01`;
  const end = lastDay(month) < today() ? lastDay(month) : today() < start ? start : today();
  const p = `start=${start}&end=${end}`;
  text($("#report-title"), `公共法律服务热线月度报表（${month.replace("-", " 年 ")} 月）`);
  text($("#report-sub"), `统计区间 ${start} 至 ${end} · 生成于 ${fmtDateTime(Date.now() / 1000)}`);
  try {
    const [overall, daily, queues, ivr, topics, hot, sla, sat, backlog] = await Promise.all([
      api(`/api/kpi?${p}`), api(`/api/kpi?${p}&granularity=day`), api(`/api/kpi?${p}&by_queue=true`),
      api(`/api/dashboard/ivr-dropouts?${p}`), api(`/api/statistics/topics?${p}&granularity=month`),
      api(`/api/statistics/hot-topics?month=${month}`), api(`/api/callbacks/sla?${p}`),
      api(`/api/dashboard/satisfaction?${p}`), api("/api/dashboard/backlog"),
    ]);
    const k = overall.rows[0] || {};
    fill($("#r-kpi"), [[label("kpi_measures", "offered"), k.offered ?? 0], [label("kpi_measures", "answered"), k.answered ?? 0], ["接通率（目标 90%）", pct(k.connection_rate)],
      [`服务水平 SL（${overall.threshold_s} 秒）`, pct(k.service_level)], ["平均应答（秒）", k.asa === null || k.asa === undefined ? "—" : Math.round(k.asa)],
      [label("kpi_measures", "abandon_rate"), pct(k.abandon_rate)], ["平均处理（秒）", k.aht === null || k.aht === undefined ? "—" : Math.round(k.aht)],
      [label("kpi_measures", "closed_hours"), k.closed_hours ?? 0]]
      .map(([l, v]) => el("div", { className: "tile" }, el("div", { className: "v", text: v }), el("div", { className: "l", text: l }))));
    if (window.echarts) {
      window.echarts.init($("#r-chart"), null, { renderer: "svg" }).setOption({
        animation: false, legend: { top: 0 }, grid: { left: 44, right: 48, top: 40, bottom: 24 },
        xAxis: { type: "category", data: daily.rows.map((r) => String(r.bucket).slice(5, 10)) },
        yAxis: [{ type: "value", name: "来电（通）", minInterval: 1 },
          { type: "value", min: 0, max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } }],
        series: [{ name: label("kpi_measures", "offered"), type: "bar", data: daily.rows.map((r) => r.offered) },
          { name: label("kpi_measures", "connection_rate"), type: "line", yAxisIndex: 1, data: daily.rows.map((r) => r.connection_rate),
            markLine: { symbol: "none", data: [{ yAxis: 0.9 }], label: { formatter: "目标 90%", position: "insideEndTop" } } }],
      });
    }
    fill($("#r-queues"), table([label("kpi_measures", "queue"), label("kpi_measures", "offered"), label("kpi_measures", "answered"), label("kpi_measures", "connection_rate"), "SL", label("kpi_measures", "abandon_rate")], queues.rows.map((r) =>
      [label("queues", r.queue), r.offered, r.answered, pct(r.connection_rate), pct(r.service_level), pct(r.abandon_rate)])));
    fill($("#r-ivr"), table(["菜单节点", "挂机次数", label("columns", "share")], ivr.dropouts.map((n) => [n.label, n.count, pct(n.share)]),
      { empty: "本月没有在语音导航中挂机的来电（或尚无来电）" }));
    fill($("#r-topics"), table([label("columns", "category"), label("columns", "count")], topics.categories.map((c) => [c.category || label("words", "uncategorised"), c.count]),
      { empty: "本月尚无工单，没有咨询事项可统计" }));
    fill($("#r-hot"), el("div", {},
      table(["排名", label("columns", "category"), label("columns", "count"), label("columns", "share"), "上月"], hot.top.map((t, i) => [i + 1, t.category, t.count, pct(t.share), t.previous]),
        { empty: "本月尚无工单，没有热点问题" }),
      el("h3", { text: "典型问题" }),
      el("ul", {}, Object.entries(hot.typical).flatMap(([c, texts]) => texts.map((q) => el("li", { text: `【${c}】${q}` }))))));
    fill($("#r-sat"), table(["指标", "数值"], [["回访时效达标率", pct(sla.rate)], ["已办结工单", sla.closed],
      ["按时完成回访", sla.on_time], ["满意率（满意+基本满意）", pct(sat.satisfaction_rate)], ["通话评分均值", sat.survey_mean ?? "—"]]));
    fill($("#r-backlog"), table([label("columns", "station"), label("columns", "total"), label("columns", "overdue")], backlog.stations.map((s) => [s.station, s.total, s.overdue]),
      { empty: "各工作站当前没有待办的转办工单" }));
  } catch (exc) { reportError(exc, "生成报表失败"); }
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

main().catch((exc) => reportError(exc, "报表加载失败"));
