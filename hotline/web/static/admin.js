// 账号管理: list, create, disable/enable, reset password, unlock, change role and station; every act audited.
import {
  $, api, el, fill, fmtDateTime, initHeader, label, labelf, labelsOf, loadLabels, reportError, table, text, toast,
} from "/static/common.js";

const state = { stations: [] };
/** This page's own words (admin_page in hotline/labels.py). */
const P = (code, values) => labelf("admin_page", code, values);

function stationOptions(selected) {
  return [el("option", { value: "", text: P("no_station") }),
    ...state.stations.map(([code, name]) => el("option", { value: code, text: name, selected: code === selected }))];
}

async function change(username, body, done) {
  try {
    await api(`/api/admin/users/${encodeURIComponent(username)}`, { method: "PATCH", body });
    toast(P("changed", { username, what: done }));
  } catch (exc) { reportError(exc, P("change_failed", { username })); }
  load();
}

async function load() {
  let users;
  let audit;
  try {
    [users, audit] = await Promise.all([api("/api/admin/users"), api("/api/admin/audit?limit=50")]);
  } catch (exc) { reportError(exc, P("load_failed")); return; }
  fill($("#users"), table([P("username"), P("name"), label("columns", "role"), label("columns", "station"), P("phone"), label("columns", "status"), label("columns", "actions")], users.map((u) => {
    const role = el("select", { "aria-label": label("columns", "role"), onchange: () => change(u.username, { role: role.value }, P("role_changed", { role: label("roles", role.value) })) },
      Object.entries(labelsOf("roles")).map(([v, l]) => el("option", { value: v, text: l, selected: v === u.role })));
    const station = el("select", { "aria-label": label("columns", "station"), onchange: () => change(u.username, { station_code: station.value }, P("station_changed")) },
      stationOptions(u.station_code || ""));
    const actions = el("span", { className: "row" },
      el("button", { type: "button", className: "secondary", text: label("buttons", u.is_active ? "user_disable" : "user_enable"), dataset: { action: "active" },
        onclick: () => change(u.username, { is_active: !u.is_active }, P(u.is_active ? "disabled" : "enabled")) }),
      el("button", { type: "button", className: "secondary", text: label("buttons", "password_reset"), dataset: { action: "reset" }, onclick: async () => {
        try {
          const done = await api(`/api/admin/users/${encodeURIComponent(u.username)}/password`, { method: "POST", body: {} });
          const line = $("#new-password");
          line.classList.remove("hidden");
          text(line, P("new_password", { username: u.username, password: done.password }));
          line.dataset.username = u.username;
          line.dataset.password = done.password;
        } catch (exc) { reportError(exc, P("reset_failed")); }
        load();
      } }),
      el("button", { type: "button", className: "secondary", text: label("buttons", "user_unlock"), dataset: { action: "unlock" }, disabled: u.locked === false, onclick: async () => {
        try {
          const done = await api(`/api/admin/users/${encodeURIComponent(u.username)}/unlock`, { method: "POST" });
          toast(P("unlocked", { username: u.username, n: done.locks_cleared }));
        } catch (exc) { reportError(exc, P("unlock_failed")); }
        load();
      } }));
    const status = [label("account_states", u.is_active ? "active" : "disabled"), u.locked ? label("account_states", "locked") : null].filter(Boolean).join("，");
    return [u.username, u.display_name, role, station, u.interface, status, actions];
  }), { rowClass: (i) => (users[i].locked ? "due-soon" : users[i].is_active ? null : "muted") }));
  for (const [i, row] of [...document.querySelectorAll("#users tbody tr")].entries()) row.dataset.username = users[i].username;
  fill($("#account-audit"), audit.length ? table([label("columns", "time"), P("actor"), P("account"), label("columns", "actions")], audit.map((a) =>
    [fmtDateTime(a.at), a.actor, a.user, label("audit_actions", a.action)])) : el("p", { className: "muted", text: P("no_audit") }));
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
    toast(P("created", { username: body.username }));
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

main().catch((exc) => reportError(exc, P("start_failed")));
