// 账号管理: list, create, disable/enable, reset password, unlock, change role and station; every act audited.
import {
  $, api, el, fill, fmtDateTime, initHeader, label, labelsOf, loadLabels, reportError, table, text, toast,
} from "/static/common.js";

const state = { stations: [] };

function stationOptions(selected) {
  return [el("option", { value: "", text: "— 无工作站 —" }),
    ...state.stations.map(([code, name]) => el("option", { value: code, text: name, selected: code === selected }))];
}

async function change(username, body, done) {
  try {
    await api(`/api/admin/users/${encodeURIComponent(username)}`, { method: "PATCH", body });
    toast(`${username}：${done}`);
  } catch (exc) { reportError(exc, `${username} 修改失败`); }
  load();
}

async function load() {
  let users;
  let audit;
  try {
    [users, audit] = await Promise.all([api("/api/admin/users"), api("/api/admin/audit?limit=50")]);
  } catch (exc) { reportError(exc, "读取账号失败"); return; }
  fill($("#users"), table(["用户名", "姓名", label("columns", "role"), label("columns", "station"), "话机", label("columns", "status"), label("columns", "actions")], users.map((u) => {
    const role = el("select", { "aria-label": label("columns", "role"), onchange: () => change(u.username, { role: role.value }, `角色改为${label("roles", role.value)}`) },
      Object.entries(labelsOf("roles")).map(([v, l]) => el("option", { value: v, text: l, selected: v === u.role })));
    const station = el("select", { "aria-label": label("columns", "station"), onchange: () => change(u.username, { station_code: station.value }, "工作站已变更") },
      stationOptions(u.station_code || ""));
    const actions = el("span", { className: "row" },
      el("button", { type: "button", className: "secondary", text: label("buttons", u.is_active ? "user_disable" : "user_enable"), dataset: { action: "active" },
        onclick: () => change(u.username, { is_active: !u.is_active }, u.is_active ? "已停用" : "已启用") }),
      el("button", { type: "button", className: "secondary", text: label("buttons", "password_reset"), dataset: { action: "reset" }, onclick: async () => {
        try {
          const done = await api(`/api/admin/users/${encodeURIComponent(u.username)}/password`, { method: "POST", body: {} });
          const line = $("#new-password");
          line.classList.remove("hidden");
          text(line, `${u.username} 的新密码（只显示这一次，请当面转告）：${done.password}`);
          line.dataset.username = u.username;
          line.dataset.password = done.password;
        } catch (exc) { reportError(exc, "重置密码失败"); }
        load();
      } }),
      el("button", { type: "button", className: "secondary", text: label("buttons", "user_unlock"), dataset: { action: "unlock" }, disabled: u.locked === false, onclick: async () => {
        try {
          const done = await api(`/api/admin/users/${encodeURIComponent(u.username)}/unlock`, { method: "POST" });
          toast(`${u.username} 已解锁（${done.locks_cleared} 处锁定）`);
        } catch (exc) { reportError(exc, "解锁失败"); }
        load();
      } }));
    const status = [label("account_states", u.is_active ? "active" : "disabled"), u.locked ? label("account_states", "locked") : null].filter(Boolean).join("，");
    return [u.username, u.display_name, role, station, u.interface, status, actions];
  }), { rowClass: (i) => (users[i].locked ? "due-soon" : users[i].is_active ? null : "muted") }));
  for (const [i, row] of [...document.querySelectorAll("#users tbody tr")].entries()) row.dataset.username = users[i].username;
  fill($("#account-audit"), audit.length ? table([label("columns", "time"), "操作人", "账号", label("columns", "actions")], audit.map((a) =>
    [fmtDateTime(a.at), a.actor, a.user, label("audit_actions", a.action)])) : el("p", { className: "muted", text: "暂无记录" }));
}

async function create(event) {
  event.preventDefault();
  const body = { username: $("#c-username").value.trim(), password: $("#c-password").value, role: $("#c-role").value };
  if ($("#c-name").value.trim()) body.display_name = $("#c-name").value.trim();
  if ($("#c-station").value) body.station_code = $("#c-station").value;
  if ($("#c-interface").value.trim()) body.interface = $("#c-interface").value.trim();
  text($("#create-error"), " ");
  try {
    await api("/api/admin/users", { method: "POST", body });
    toast(`已创建 ${body.username}`);
    $("#create-form").reset();
  } catch (exc) {
    const problems = (exc.details.problems || []).map((p) => p.field.replace("body.", "")).join("、");
    text($("#create-error"), problems ? `${exc.message}：${problems}` : exc.message);
  }
  load();
}

async function main() {
  await Promise.all([initHeader(), loadLabels()]);
  const tree = await api("/api/stations");
  const flat = (nodes, depth) => nodes.flatMap((n) => [[n.division_code, `${"　".repeat(depth)}${n.name}`], ...flat(n.children || [], depth + 1)]);
  state.stations = flat(tree, 0);
  fill($("#c-role"), Object.entries(labelsOf("roles")).map(([v, l]) => el("option", { value: v, text: l })));
  fill($("#c-station"), stationOptions(""));
  $("#create-form").addEventListener("submit", create);
  load();
}

main().catch((exc) => reportError(exc, "账号管理加载失败"));
