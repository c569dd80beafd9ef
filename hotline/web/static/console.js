// 值班律师工作台: duty state, softphone, screen-pop, ticket form with the router's suggestion, call-backs.
import {
  $, api, checkHealth, connStatus, el, Feed, fill, flagText, fmtDateTime, fmtDeadline, fmtDuration, fmtTime, initHeader, ivrStep, label,
  labelf, labelsOf, loadLabels, reportError, table, text, toast, transcriptionOn,
} from "/static/common.js";
import { Softphone } from "/static/softphone.js";
import { showCallbacks, showRecordings } from "/static/ticketview.js";

/** This page's own words (console_page in hotline/labels.py). */
const P = (code, values) => labelf("console_page", code, values);


const state = {
  me: null, options: null, categories: null, call: null, calls: new Map(), touched: new Set(), routeTimer: null,
  routeSeq: 0, transcriptTimer: null, dialling: new Map(),
  // Call-backs dialled from the 回访 tab: task id -> {linkedid, text}, kept across reloads of the list
  // (the attempt is recorded with its call); their linkedids, which never open a new ticket form.
  callbackCalls: new Map(), ownCallbacks: new Set(),
};

// ---------------------------------------------------------------------------------------- duty
function showDuty(duty, agent) {
  const node = $("#duty-state");
  node.dataset.state = duty;
  node.className = `state-big state-${duty}`;
  text(node, label("agent_states", duty));
  const reason = agent && agent.reason && duty === "paused" ? P("pause_reason", { reason: agent.reason }) : "";
  text($("#duty-reason"), reason || " ");
  $("#btn-on-duty").disabled = duty !== "off_duty" && duty !== "paused";
  $("#btn-off-duty").disabled = duty === "off_duty";
  $("#btn-pause").disabled = duty === "off_duty" || duty === "paused";
}

function dutyFromAgent(agent) {
  if (!agent) return "off_duty";
  if (agent.state === "paused") return agent.reason === label("agent_states", "off_duty") ? "off_duty" : "paused";
  if (agent.state === "off_duty") return "off_duty";
  return agent.state || "available";
}

async function changeDuty(target, reason) {
  for (const id of ["#btn-on-duty", "#btn-off-duty", "#btn-pause"]) $(id).disabled = true;
  try {
    const answer = await api("/api/console/state", { method: "POST", body: { state: target, reason } });
    showDuty(answer.duty, answer.agent);
    toast(P(`now_${target}`, { reason }));
  } catch (exc) {
    reportError(exc, P("duty_failed"));
    showDuty($("#duty-state").dataset.state || "off_duty");
  }
}

function shiftText(shift) {
  if (!shift || !shift.shifts || !shift.shifts.length) return P("no_shift");
  const parts = shift.shifts.map((s) => `${s.start || s.starts_at || ""}–${s.end || s.ends_at || ""} ${(s.queues || []).map((q) => label("queues", q)).join("、")}`);
  return P("shift", { shifts: parts.join("；"), now: shift.on_duty ? P("on_shift") : "" });
}

// ----------------------------------------------------------------------------------- softphone
function initSoftphone(config) {
  const buttons = {
    answer: $("#btn-answer"), hangup: $("#btn-hangup"), mute: $("#btn-mute"), hold: $("#btn-hold"),
    transfer: $("#btn-transfer"),
  };
  const phone = new Softphone(config, {
    audio: $("#remote-audio"),
    onState(name, label, actions) {
      const node = $("#phone-state");
      node.dataset.state = name;
      node.textContent = label;
      for (const [action, button] of Object.entries(buttons)) button.disabled = !actions.has(action);
      for (const key of document.querySelectorAll("#keypad button")) key.disabled = !actions.has("dtmf");
      $("#phone-login").classList.toggle("hidden", !actions.has("register"));
    },
    onMuted(muted) { buttons.mute.textContent = label("buttons", muted ? "unmute" : "mute"); },
    onHeld(held) { buttons.hold.textContent = label("buttons", held ? "resume" : "hold"); },
  });
  for (const key of "123456789*0#") {
    $("#keypad").append(el("button", { type: "button", className: "secondary", text: key, disabled: true,
      onclick: () => phone.dtmf(key) }));
  }
  buttons.answer.addEventListener("click", () => phone.answer());
  buttons.hangup.addEventListener("click", () => phone.hangup());
  buttons.mute.addEventListener("click", () => phone.mute());
  buttons.hold.addEventListener("click", () => phone.hold().catch((exc) => reportError(exc, P("hold_failed"))));
  buttons.transfer.addEventListener("click", () => transfer(phone));
  $("#btn-register").addEventListener("click", () => phone.register($("#sip-password").value));
  $("#sip-password").addEventListener("keydown", (e) => { if (e.key === "Enter") phone.register(e.target.value); });
  phone.start();
  window.hotlineSoftphone = phone;  // for the browser tests and the support desk's console
  return phone;
}

async function transfer(phone) {
  const target = $("#transfer-target").value.trim();
  if (!/^[0-9*#+]{1,20}$/.test(target)) { toast(P("transfer_digits"), true); return; }
  if (phone.session && phone.transfer(target)) { toast(P("transferring", { target })); return; }
  if (!state.call) return;
  try {
    await api(`/api/console/calls/${encodeURIComponent(state.call.linkedid)}/transfer`, { method: "POST", body: { exten: target } });
    toast(P("transferred", { target }));
  } catch (exc) { reportError(exc, P("transfer_failed")); }
}

// ---------------------------------------------------------------------------------- screen-pop
// Every call (and every ticket begun without a call) has its own form, kept as a draft on the server
// (PUT /api/console/drafts/{key}) while it is filled in. A call that rings while another form holds
// unsaved work never replaces it: it waits as a tab in the drafts bar until the lawyer switches.
function newEntry(key, fields) {
  return { key, linkedid: null, state: null, ticket: null, transcript: null, pop: null, routed: null,
    data: null, touched: new Set(), prefilled: false, label: "", channel: "phone", ...fields };
}

async function openCall(linkedid, callState) {
  if (state.ownCallbacks.has(linkedid)) return;  // a call-back dialled from the list: recorded there
  const known = state.calls.get(linkedid);
  if (known) {
    known.state = callState;
    if (known === state.call) setCallState(callState);
    renderDrafts();
    return;
  }
  const entry = newEntry(linkedid, { linkedid, state: callState, label: P("call_at", { time: fmtTime(Date.now() / 1000) }) });
  state.calls.set(linkedid, entry);
  if (state.call && formDirty()) {
    // Unsaved work stays on screen; the new call waits in the drafts bar and is saved as a draft.
    saveDraft(entry);
    renderDrafts();
    toast(P("call_waits"));
    loadPop(entry);
    return;
  }
  await activate(entry);
}

function formDirty() {
  if (!state.call) return false;
  return Boolean($("#f-description").value.trim() || $("#f-result").value.trim()
    || [...state.touched].some((t) => t !== "#f-number" && t !== "#f-name"));
}

/** Show `entry` in the call view: the form as it was left, its screen-pop, its state. */
async function activate(entry) {
  if (state.call && state.call !== entry) {
    state.call.data = snapshotForm();
    state.call.touched = state.touched;
    saveDraft(state.call);
  }
  state.call = entry;
  state.touched = entry.touched;
  resetForm();
  if (entry.data) restoreForm(entry.data);
  $("#no-call").classList.add("hidden");
  $("#call-view").classList.remove("hidden");
  text($("#call-title"), entry.linkedid ? entry.label : P("new_ticket_of", { channel: label("channels", entry.channel) }));
  $("#f-channel-field").classList.toggle("hidden", Boolean(entry.linkedid));
  $("#screen-pop").classList.toggle("hidden", !entry.linkedid);
  $("#f-channel").value = entry.channel;
  if (entry.state) setCallState(entry.state); else fill($("#call-state"), "");
  renderDrafts();
  selectTab("call");
  if (!entry.linkedid) { showTranscript(null); return; }
  if (entry.pop) showPop(entry); else await loadPop(entry);
}

function setCallState(callState) {
  if (!state.call) return;
  state.call.state = callState;
  const node = $("#call-state");
  node.dataset.state = callState;
  node.className = `badge ${callState === "ended" ? "warn" : "bad"}`;
  text(node, callState === "ended" ? P("finish_ticket", { state: label("call_states", "ended") }) : label("call_states", callState));
}

async function loadPop(entry = state.call) {
  if (!entry || !entry.linkedid) return;
  let pop;
  try {
    pop = await api(`/api/console/calls/${encodeURIComponent(entry.linkedid)}`);
  } catch (exc) { reportError(exc, P("pop_failed")); return; }
  entry.pop = pop;
  if (!entry.label.includes("·")) entry.label = `${entry.label} · ${pop.caller_number || P("unknown_number")}`;
  renderDrafts();
  if (state.call === entry) showPop(entry);
}

function showPop(entry) {
  const pop = entry.pop;
  text($("#call-title"), entry.label);
  text($("#pop-number"), pop.caller_number);
  text($("#pop-name"), pop.caller_name);
  fill($("#pop-green"), pop.green_channel.length
    ? pop.green_channel.map((g) => el("span", { className: "badge green", text: g.label })) : "—");
  text($("#pop-count"), pop.caller ? P("calls_count", { n: pop.caller.call_count, first: fmtDateTime(pop.caller.first_seen_at) }) : P("first_call"));
  text($("#pop-queue"), queueLabel(pop.queue));
  fill($("#pop-ivr"), pop.ivr_path.length
    ? pop.ivr_path.map((s) => el("span", { className: "chip", text: ivrStep(s) })) : "—");
  text($("#pop-waited"), pop.waited_s === null ? null : P("waited", { duration: fmtDuration(pop.waited_s), seconds: Math.round(pop.waited_s) }));
  text($("#pop-open"), pop.open_tickets.length ? pop.open_tickets.join("、") : label("words", "none"));
  fill($("#pop-tickets"), pop.previous_tickets.length ? table([label("columns", "ticket"), P("date"), label("columns", "category"), label("columns", "status"), label("columns", "station")],
    pop.previous_tickets.map((t) => [t.code, fmtDateTime(t.created_at), t.category, t.status_label, t.station_name]))
    : el("span", { className: "muted", text: label("words", "none") }));
  fill($("#pop-calls"), pop.previous_calls.length ? table([label("columns", "time"), label("kpi_measures", "queue"), P("outcome"), P("talk")],
    pop.previous_calls.map((c) => [fmtDateTime(c.started_at), queueLabel(c.queue), label("call_outcomes", c.outcome), fmtDuration(c.talk_seconds)]))
    : el("span", { className: "muted", text: label("words", "none") }));
  if (!entry.prefilled) { entry.prefilled = true; prefill(pop); }
  showTranscript(pop.transcript ?? entry.transcript);
}

// -------------------------------------------------------------------------------------- drafts
const FORM_FIELDS = ["#f-number", "#f-name", "#f-description", "#f-result", "#f-category", "#f-subcategory",
  "#f-service-line", "#f-priority", "#f-station"];

function snapshotForm() {
  const data = {};
  for (const id of FORM_FIELDS) data[id.slice(3)] = $(id).value;
  data.flags = [...document.querySelectorAll("#f-flags input:checked")].map((b) => b.value);
  data.channel = $("#f-channel").value;
  return data;
}

function restoreForm(data) {
  for (const id of FORM_FIELDS) {
    if (data[id.slice(3)] === undefined) continue;
    $(id).value = data[id.slice(3)];
    if (id === "#f-category") fillSubcategories();
  }
  for (const box of document.querySelectorAll("#f-flags input")) box.checked = (data.flags || []).includes(box.value);
}

/** Keep the entry's form on the server (debounced while typing). */
function saveDraft(entry, delay = 0) {
  clearTimeout(entry.saveTimer);
  entry.saveTimer = setTimeout(async () => {
    const data = entry === state.call ? snapshotForm() : (entry.data || {});
    entry.data = data;
    const meta = { linkedid: entry.linkedid, label: entry.label, channel: entry.channel, ticket: entry.ticket,
      touched: [...(entry === state.call ? state.touched : entry.touched)] };
    try {
      await api(`/api/console/drafts/${encodeURIComponent(entry.key)}`, { method: "PUT", body: { data: { ...data, meta } } });
      entry.saved = true;
      if (entry === state.call) text($("#draft-state"), P("draft_saved", { time: fmtTime(Date.now() / 1000) }));
    } catch (exc) {
      if (entry === state.call) text($("#draft-state"), P("draft_unsaved", { error: exc.message }));
    }
  }, delay);
}

async function dropDraft(entry) {
  clearTimeout(entry.saveTimer);
  state.calls.delete(entry.key);
  try { await api(`/api/console/drafts/${encodeURIComponent(entry.key)}`, { method: "DELETE" }); } catch (exc) { /* kept; shown again on reload */ }
}

function renderDrafts() {
  const entries = [...state.calls.values()];
  $("#drafts-bar").classList.toggle("hidden", entries.length === 0);
  fill($("#drafts"), entries.map((e) => el("button", {
    type: "button",
    className: `draft${e === state.call ? " active" : ""}${e.state === "ringing" || e.state === "talking" ? " live" : ""}`,
    dataset: { key: e.key },
    text: `${e.linkedid ? e.label : P("new_ticket_of", { channel: label("channels", e.channel) })}${e.state && e.state !== "ended" ? ` · ${label("call_states", e.state)}` : ""}`,
    onclick: () => activate(e),
  })));
}

async function loadDrafts() {
  let found;
  try { found = await api("/api/console/drafts"); } catch (exc) { reportError(exc, P("drafts_failed")); return; }
  for (const d of found.reverse()) {
    if (state.calls.has(d.key)) continue;
    const meta = d.data.meta || {};
    state.calls.set(d.key, newEntry(d.key, { linkedid: meta.linkedid || null, label: meta.label || d.key,
      channel: meta.channel || "phone", ticket: meta.ticket || null, data: d.data, prefilled: true,
      touched: new Set(meta.touched || []), state: meta.linkedid ? "ended" : null }));
  }
  renderDrafts();
}

function newTicket() {
  const key = `new-${Date.now().toString(36)}`;
  const entry = newEntry(key, { channel: "walk_in", label: P("new_ticket"), prefilled: true });
  state.calls.set(key, entry);
  activate(entry);
  $("#f-description").focus();
}

function queueLabel(queue) { return queue ? label("queues", queue) : null; }

// --------------------------------------------------------------------------------- ticket form
function resetForm() {
  for (const id of ["#f-number", "#f-name", "#f-description", "#f-result"]) $(id).value = "";
  for (const box of document.querySelectorAll("#f-flags input")) box.checked = false;
  $("#f-category").value = ""; fillSubcategories(); $("#f-service-line").value = "";
  $("#f-priority").value = "normal"; $("#f-station").value = "";
  text($("#form-error"), " ");
  fill($("#suggestion"), P("suggestion_waiting"));
  showTranscript(null);
  for (const id of ["#btn-resolve", "#btn-forward"]) $(id).disabled = false;
}

function setField(id, value) {
  if (state.touched.has(id) || value === null || value === undefined || value === "") return;
  const node = $(id);
  if (node.tagName === "SELECT" && ![...node.options].some((o) => o.value === String(value))) return;
  node.value = String(value);
  if (id === "#f-category") fillSubcategories();
}

function setFlag(flag, on) {
  const box = document.querySelector(`#f-flags input[value="${flag}"]`);
  if (box && !state.touched.has(`flag:${flag}`) && on) box.checked = true;
}

function prefill(pop) {
  setField("#f-number", pop.caller_number);
  setField("#f-name", pop.caller_name);
  if (pop.green_channel.length) { setFlag("green_channel", true); setField("#f-priority", "high"); }
  // The menu the caller chose is a first guess at the category until the router says more.
  const menu = pop.queue ? label("queues", pop.queue) : null;
  if (menu && state.categories.categories.some((c) => c.name === menu)) setField("#f-category", menu);
}

function showTranscript(transcript) {
  const node = $("#f-transcript");
  if (transcript === null || transcript === undefined) {
    node.textContent = "";
    if (!transcriptionOn()) text($("#transcript-state"), P("asr_off"));
    else text($("#transcript-state"), P(state.call && state.call.state === "ended" ? "asr_waiting" : "asr_after_call"));
    return;
  }
  const changed = !state.call || state.call.transcript !== transcript;
  node.textContent = transcript || P("asr_silent");
  $("#transcript-state").textContent = P("asr_done");
  if (state.call) state.call.transcript = transcript;
  if (changed) scheduleRoute(0);
}

function routeText() {
  return [$("#f-description").value.trim(), (state.call && state.call.transcript) || ""].filter(Boolean).join("\n");
}

function scheduleRoute(delay = 700) {
  clearTimeout(state.routeTimer);
  state.routeTimer = setTimeout(route, delay);
}

async function route() {
  const textToRoute = routeText();
  if (!textToRoute) return;
  const seq = ++state.routeSeq;
  const number = $("#f-number").value.trim();
  let decision;
  try {
    decision = await api("/api/route", { method: "POST",
      body: { text: textToRoute.slice(0, 10000), ...(/^\+?\d{3,20}$/.test(number) ? { caller_number: number } : {}) } });
  } catch (exc) {
    if (seq === state.routeSeq) fill($("#suggestion"), exc.status === 404 ? P("router_missing") : P("router_down", { error: exc.message }));
    return;
  }
  if (seq !== state.routeSeq || !state.call) return;
  state.call.routed = decision;
  showSuggestion(decision);
  applySuggestion(decision, false);
}

function serviceLineName(code) {
  const line = state.categories.service_lines.find((l) => l.code === code);
  return line ? line.name : code;
}

function showSuggestion(d) {
  const words = (d.keywords || []).map((k) => el("span", { className: "chip key", text: k.word }));
  const station = d.station || {};
  fill($("#suggestion"),
    el("div", {}, el("strong", { text: P("suggestion") }),
      `${d.category || d.suggested_category || P("triage_needed")}${d.subcategory ? ` / ${d.subcategory}` : ""}`,
      P("line_confidence", { line: serviceLineName(d.service_line), pct: Math.round((d.confidence || 0) * 100) }),
      d.needs_triage ? el("span", { className: "badge warn", text: P("low_confidence") }) : null),
    el("div", { className: "chips" }, P("keywords"), words.length ? words : "—"),
    el("div", {}, P("suggested_station", { station: station.name || "—" }), station.rule ? el("span", { className: "muted", text: `（${station.explanation || station.rule}）` }) : null),
    (d.flags || []).length ? el("div", {}, P("flags", { flags: flagText(d.flags) })) : null,
    el("button", { type: "button", className: "secondary", text: label("buttons", "apply_suggestion"), onclick: () => applySuggestion(d, true) }));
}

function applySuggestion(d, force) {
  if (force) state.touched = new Set([...state.touched].filter((t) => !t.startsWith("#f-") || ["#f-number", "#f-name", "#f-description", "#f-result"].includes(t)));
  if (!d.needs_triage) setField("#f-category", d.category);
  setField("#f-subcategory", d.subcategory);
  setField("#f-service-line", d.service_line);
  if (d.priority && d.priority !== "normal") setField("#f-priority", d.priority);
  for (const flag of d.flags || []) setFlag(flag, true);
  if (d.station && d.station.id) setField("#f-station", d.station.id);
}

function fillSubcategories() {
  const category = state.categories && state.categories.categories.find((c) => c.name === $("#f-category").value);
  fill($("#f-subcategory"), el("option", { value: "", text: "—" }),
    (category ? category.subcategories : []).map((s) => el("option", { value: s, text: s })));
}

function formBody() {
  const number = $("#f-number").value.trim();
  const flags = [...document.querySelectorAll("#f-flags input:checked")].map((b) => b.value);
  const body = {
    channel: state.call && state.call.linkedid ? "phone" : $("#f-channel").value,
    description: $("#f-description").value.trim(),
    caller_name: $("#f-name").value.trim() || null,
    category: $("#f-category").value || null,
    subcategory: $("#f-subcategory").value || null,
    service_line: $("#f-service-line").value || null,
    priority: $("#f-priority").value,
    flags,
    call_linkedids: state.call && state.call.linkedid ? [state.call.linkedid] : [],
  };
  if (number) body.caller_number = number;
  return body;
}

async function submit(disposition) {
  const error = $("#form-error");
  error.textContent = "";
  const body = formBody();
  if (!body.description) { error.textContent = P("need_description"); $("#f-description").focus(); return; }
  const result = $("#f-result").value.trim();
  const station = $("#f-station").value;
  if (disposition === "closed" && !result) { error.textContent = P("need_result_now"); $("#f-result").focus(); return; }
  if (disposition === "forwarded" && !station) { error.textContent = P("need_station"); $("#f-station").focus(); return; }
  for (const id of ["#btn-resolve", "#btn-forward"]) $(id).disabled = true;
  try {
    if (!state.call || !state.call.ticket) {
      const ticket = await api("/api/tickets", { method: "POST", body });
      state.call.ticket = ticket.code;
      saveDraft(state.call);
    }
    const code = state.call.ticket;
    const step = disposition === "closed" ? { to: "closed", result } : { to: "forwarded", station_id: Number(station) };
    const done = await api(`/api/tickets/${code}/transitions`, { method: "POST", body: step });
    toast(P("ticket_done", { code: done.code, status: done.status_label, station: done.station_name ? `：${done.station_name}` : "" }));
    finishCall();
    loadTickets();
  } catch (exc) {
    error.textContent = state.call && state.call.ticket
      ? P("accepted_but", { code: state.call.ticket, action: label("ticket_transitions", disposition), error: exc.message })
      : exc.message;
    for (const id of ["#btn-resolve", "#btn-forward"]) $(id).disabled = false;
  }
}

function finishCall() {
  clearInterval(state.transcriptTimer);
  const done = state.call;
  state.call = null;
  if (done) dropDraft(done);
  const next = [...state.calls.values()].pop();
  if (next) { activate(next); return; }
  renderDrafts();
  $("#call-view").classList.add("hidden");
  $("#no-call").classList.remove("hidden");
}

// ----------------------------------------------------------------------------------- call-backs
async function loadCallbacks() {
  let page;
  try { page = await api("/api/callbacks?state=open&page_size=100"); } catch (exc) { reportError(exc, P("callbacks_failed")); return; }
  text($("#callback-count"), page.total);
  if (!page.items.length) { fill($("#callbacks"), el("p", { className: "muted", text: P("no_callbacks") })); return; }
  const rows = page.items.map((t) => [
    t.ticket_code, t.caller_name, t.caller_number, t.category, t.result, t.due_date,
    P("times", { n: t.attempts.length }), callbackActions(t),
  ]);
  fill($("#callbacks"), table([label("columns", "ticket"), P("caller"), P("number"), label("columns", "category"), P("result"), P("callback_due"), P("tried"), label("columns", "actions")], rows,
    { rowClass: (i) => (page.items[i].overdue ? "overdue" : null) }));
}

function callbackActions(task) {
  const status = el("span", { className: "muted", dataset: { task: task.id } });
  const placed = state.callbackCalls.get(task.id);
  if (placed) {
    status.textContent = placed.text;
    if (placed.linkedid) status.dataset.linkedid = placed.linkedid;
  }
  // No outcome is chosen for the lawyer: a default would record calls that never happened as reached.
  const outcome = el("select", { "aria-label": P("callback_outcome"), required: true },
    el("option", { value: "", text: P("pick_outcome") }),
    Object.entries(labelsOf("callback_outcomes")).map(([v, l]) => el("option", { value: v, text: l })));
  const satisfaction = el("select", { "aria-label": label("columns", "satisfaction") },
    el("option", { value: "", text: label("columns", "satisfaction") }), Object.entries(labelsOf("satisfaction")).map(([v, l]) => el("option", { value: v, text: l })));
  const comment = el("input", { placeholder: P("note"), maxlength: 2000, size: 8, "aria-label": P("callback_note") });
  const dial = el("button", { type: "button", className: "secondary", text: label("buttons", "dial"), onclick: async () => {
    dial.disabled = true;
    try {
      const answer = await api(`/api/callbacks/${task.id}/dial`, { method: "POST" });
      state.dialling.set(answer.call_id, { task: task.id, status });
      state.callbackCalls.delete(task.id);
      status.textContent = P("dialling");
    } catch (exc) { reportError(exc, P("dial_failed")); }
    dial.disabled = false;
  } });
  const save = el("button", { type: "button", text: label("buttons", "record_attempt"), onclick: async () => {
    if (!outcome.value) { toast(P("need_outcome"), true); outcome.focus(); return; }
    const body = { outcome: outcome.value };
    if (outcome.value === "reached") {
      if (!satisfaction.value) { toast(P("need_satisfaction"), true); return; }
      body.satisfaction = satisfaction.value;
    }
    if (comment.value.trim()) body.comment = comment.value.trim();
    const linkedid = status.dataset.linkedid;
    if (linkedid) body.linkedid = linkedid;
    save.disabled = true;
    try {
      const done = await api(`/api/callbacks/${task.id}/attempts`, { method: "POST", body });
      toast(P("attempt_saved", { code: task.ticket_code, status: done.status_label }));
      loadCallbacks();
    } catch (exc) { reportError(exc, P("attempt_failed")); save.disabled = false; }
  } });
  return el("div", { className: "row" }, dial, outcome, satisfaction, comment, save, status);
}

function originated(entry) {
  const pending = state.dialling.get(entry.action_id);
  if (!pending) return;
  state.dialling.delete(entry.action_id);
  const text = entry.ok ? P("callback_connected") : P("callback_missed", { outcome: label("callback_outcomes", entry.outcome) });
  state.callbackCalls.set(pending.task, { linkedid: entry.linkedid || null, text });
  if (entry.linkedid) state.ownCallbacks.add(entry.linkedid);
  // The list may have been drawn again meanwhile: update the row shown now.
  const shown = document.querySelector(`#callbacks span[data-task="${pending.task}"]`) || pending.status;
  shown.textContent = text;
  if (entry.linkedid) shown.dataset.linkedid = entry.linkedid;
}

// -------------------------------------------------------------------------------------- tickets
async function loadTickets() {
  const params = new URLSearchParams({ page_size: "50" });
  const q = $("#ticket-q").value.trim();
  if (q) params.set("q", q);
  if ($("#ticket-status").value) params.set("status", $("#ticket-status").value);
  let page;
  try { page = await api(`/api/tickets?${params}`); } catch (exc) { reportError(exc, P("tickets_failed")); return; }
  fill($("#tickets"), page.items.length ? table([label("columns", "ticket"), P("accepted_at"), label("columns", "category"), label("columns", "status"), label("columns", "station"), label("columns", "description")],
    page.items.map((t) => [
      el("a", { href: "#", text: t.code, dataset: { code: t.code }, onclick: (e) => { e.preventDefault(); showTicket(t.code); } }),
      fmtDateTime(t.created_at), t.category, t.status_label, t.station_name,
      t.description.length > 40 ? `${t.description.slice(0, 40)}…` : t.description]),
    { rowClass: (i) => (page.items[i].status === "returned" ? "due-soon" : null) })
    : el("p", { className: "muted", text: q ? P("no_match", { q }) : P("no_tickets") }));
}

/** One ticket: what it is, its history with who did each step, and what this user may do next. */
async function showTicket(code) {
  let t;
  try { t = await api(`/api/tickets/${encodeURIComponent(code)}`); } catch (exc) { reportError(exc, P("tickets_failed")); return; }
  $("#ticket-view").classList.remove("hidden");
  $("#ticket-view").dataset.code = t.code;
  text($("#tv-code"), t.code);
  text($("#tv-status"), t.status_label);
  text($("#tv-channel"), label("channels", t.channel));
  text($("#tv-caller"), [t.caller_name, t.caller_number].filter(Boolean).join(" "));
  text($("#tv-category"), [t.category, t.subcategory].filter(Boolean).join(" / ") || label("words", "uncategorised"));
  fill($("#tv-flags"), (t.flags || []).length ? t.flags.map((f) => el("span", { className: "badge", text: flagText([f]) })) : "—");
  text($("#tv-station"), t.station_name);
  text($("#tv-due"), t.finish_due_at ? P("finish_by", { deadline: fmtDeadline(t.finish_due_at) }) : null);
  text($("#tv-callback"), t.callback_due ? P("callback_due_on", { date: t.callback_due }) : null);
  $("#tv-description").textContent = t.description;
  text($("#tv-transcript"), t.transcript || P(transcriptionOn() ? "no_transcript" : "asr_off_short"));
  showRecordings($("#tv-recordings"), t);
  showCallbacks($("#tv-callbacks"), t);
  fill($("#tv-history"), t.events.map((e) => el("li", {},
    el("span", { className: "muted", text: `${fmtDateTime(e.at)} ` }), label("ticket_actions", e.action),
    e.to_status && e.to_status !== e.from_status ? ` → ${label("ticket_statuses", e.to_status)}` : "",
    el("span", { className: "who", text: P("by", { who: e.actor_name || P("system") }) }), e.note ? `：${e.note}` : "")));
  const returned = t.events.filter((e) => e.action === "return").pop();
  const note = el("textarea", { rows: 2, maxlength: 10000, placeholder: P("action_note"), "aria-label": P("action_note_label") });
  const station = el("select", { "aria-label": P("forward_to") }, [...$("#f-station").options].map((o) => el("option", { value: o.value, text: o.textContent })));
  const error = el("span", { className: "error", role: "alert" });
  const buttons = t.allowed_next.map((target) => el("button", { type: "button", text: label("ticket_transitions", target),
    dataset: { action: target }, onclick: () => ticketAction(t.code, target, note, station, error) }));
  fill($("#tv-actions"), buttons.length ? [
    returned && t.status === "returned" ? el("p", { className: "warn-text", text: P("returned_because", { reason: returned.note || "—" }) }) : null,
    t.allowed_next.includes("forwarded") ? station : null, note, el("div", { className: "row mt6" }, buttons, error),
  ] : el("span", { className: "muted", text: P("nothing_to_do") }));
}

async function ticketAction(code, target, note, station, error) {
  error.textContent = "";
  const body = { to: target };
  const words = note.value.trim();
  if (target === "forwarded") {
    if (!station.value) { error.textContent = P("need_station"); return; }
    body.station_id = Number(station.value);
    if (words) body.note = words;
  } else if (target === "closed") {
    if (!words) { error.textContent = P("need_answer"); return; }
    body.result = words;
  } else if (target === "accepted") {
    if (!words) { error.textContent = P("need_reason"); return; }
    body.reason = words;
  }
  try {
    const done = await api(`/api/tickets/${code}/transitions`, { method: "POST", body });
    toast(P("ticket_done", { code: done.code, status: done.status_label, station: done.station_name && target === "forwarded" ? `：${done.station_name}` : "" }));
  } catch (exc) { error.textContent = exc.message; return; }
  showTicket(code);
  loadTickets();
}

function selectTab(name) {
  for (const button of document.querySelectorAll(".tabs button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const tab of ["call", "callbacks", "tickets"]) $(`#tab-${tab}`).classList.toggle("hidden", tab !== name);
  if (name === "callbacks") loadCallbacks();
  if (name === "tickets") loadTickets();
}

// ----------------------------------------------------------------------------------------- feed
function onSnapshot(snapshot) {
  const live = snapshot.live;
  if (!live) return;
  const mine = state.me.interface;
  const agent = live.agents.find((a) => a.interface === mine);
  showDuty(dutyFromAgent(agent), agent);
  const call = live.calls.find((c) => c.agent_interface === mine && ["ringing", "talking"].includes(c.state));
  if (call) openCall(call.linkedid, call.state);
}

function onEntry(entry) {
  const mine = state.me.interface;
  if (entry.type === "agent" && entry.interface === mine) {
    showDuty(dutyFromAgent(entry.state === "off_duty" ? null : entry), entry);
  } else if (entry.type === "call") {
    if (entry.agent === mine && ["ringing", "talking"].includes(entry.state)) openCall(entry.linkedid, entry.state);
    else if (entry.state === "ended" && state.calls.has(entry.linkedid)) {
      const ended = state.calls.get(entry.linkedid);
      if (ended === state.call) callEnded(); else { ended.state = "ended"; renderDrafts(); }
    }
  } else if (entry.type === "transcript" && state.calls.has(entry.linkedid)) {
    loadPop(state.calls.get(entry.linkedid));
  } else if (entry.type === "originate") {
    originated(entry);
  } else if (entry.type === "ticket.event" && entry.to === "closed") {
    loadCallbacks();
  }
}

function callEnded() {
  setCallState("ended");
  showTranscript(state.call.transcript);
  loadPop();
  // The transcript arrives on the feed; a modest poll covers a feed that was away meanwhile.
  let polls = 0;
  clearInterval(state.transcriptTimer);
  state.transcriptTimer = setInterval(() => {
    if (!state.call || state.call.transcript !== null || ++polls > 20) { clearInterval(state.transcriptTimer); return; }
    loadPop();
  }, 15000);
}

// ----------------------------------------------------------------------------------------- start
async function main() {
  await initHeader();
  const [me, options, categories, stations] = await Promise.all([
    api("/api/console/me"), api("/api/console/options"), api("/api/categories"), api("/api/stations"), loadLabels(),
  ]);
  state.me = me; state.options = options; state.categories = categories;
  text($("#shift-info"), shiftText(me.shift));
  showDuty(me.duty, me.agent);
  fill($("#f-priority"), Object.entries(labelsOf("priorities")).map(([v, l]) => el("option", { value: v, text: l })));
  fill($("#f-channel"), Object.entries(labelsOf("channels")).filter(([v]) => v !== "callback_request")
    .map(([v, l]) => el("option", { value: v, text: l })));
  fill($("#pause-reason"), me.pause_reasons.map((r) => el("option", { value: r, text: r })));
  fill($("#transfer-targets"), me.transfer_targets.map((t) => el("option", { value: t.exten, text: t.label })));
  fill($("#f-category"), el("option", { value: "", text: `— ${label("words", "uncategorised")} —` }),
    categories.categories.map((c) => el("option", { value: c.name, text: c.name })));
  fill($("#f-service-line"), el("option", { value: "", text: "—" }),
    categories.service_lines.map((l) => el("option", { value: l.code, text: l.name })));
  fill($("#f-station"), el("option", { value: "", text: P("pick_station") }), stationOptions(stations, 0));
  fillSubcategories();
  $("#btn-on-duty").addEventListener("click", () => changeDuty("on_duty"));
  $("#btn-off-duty").addEventListener("click", () => changeDuty("off_duty"));
  $("#btn-pause").addEventListener("click", () => changeDuty("paused", $("#pause-reason").value));
  $("#btn-resolve").addEventListener("click", () => submit("closed"));
  $("#btn-forward").addEventListener("click", () => submit("forwarded"));
  $("#btn-refresh-callbacks").addEventListener("click", loadCallbacks);
  $("#btn-refresh-tickets").addEventListener("click", loadTickets);
  $("#ticket-search").addEventListener("submit", (e) => { e.preventDefault(); loadTickets(); });
  fill($("#ticket-status"), el("option", { value: "", text: P("all_statuses") }),
    Object.entries(labelsOf("ticket_statuses")).map(([v, l]) => el("option", { value: v, text: l })));
  for (const button of document.querySelectorAll(".tabs button")) button.addEventListener("click", () => selectTab(button.dataset.tab));
  $("#ticket-form").addEventListener("input", (e) => {
    const id = e.target.closest("#f-flags") ? `flag:${e.target.value}` : `#${e.target.id}`;
    state.touched.add(id);
    if (e.target.id === "f-category") fillSubcategories();
    if (e.target.id === "f-description") scheduleRoute();
    if (state.call) saveDraft(state.call, 800);
  });
  $("#ticket-form").addEventListener("change", () => { if (state.call) saveDraft(state.call, 300); });
  $("#btn-new-ticket").addEventListener("click", newTicket);
  $("#f-channel").addEventListener("change", () => { if (state.call) { state.call.channel = $("#f-channel").value; renderDrafts(); } });
  initSoftphone(me.softphone);
  await loadDrafts();
  const latest = [...state.calls.values()].pop();
  if (latest) activate(latest);
  new Feed({ onSnapshot, onEntry, onStatus: connStatus($("#conn")) }).start();
  loadCallbacks();
  checkHealth();
  setInterval(checkHealth, 15000);
}

function stationOptions(nodes, depth) {
  return nodes.flatMap((n) => [el("option", { value: n.id, text: `${"　".repeat(depth)}${n.name}` }),
    ...stationOptions(n.children || [], depth + 1)]);
}

main().catch((exc) => reportError(exc, P("start_failed")));
