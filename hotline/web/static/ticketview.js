// The parts of a ticket's view that every page shows alike: its recordings (a player only for those
// who may hear them; the server decides and audits) and its call-backs with every attempt.
import { el, fill, fmtDateTime, fmtDuration, label, labelf } from "/static/common.js";

/** Players for the recordings this user may hear, and a note for those withheld. */
export function showRecordings(node, ticket) {
  const players = (ticket.recordings || []).map((r) => el("div", { className: "recording", dataset: { call: r.call_id } },
    el("div", { className: "muted", text: labelf("ticket_view", "recording_of", {
      when: fmtDateTime(r.started_at), direction: label("call_directions", r.direction),
      lawyer: r.lawyer_name || label("ticket_view", "nobody"), talk: fmtDuration(r.talk_seconds) }) }),
    el("audio", { controls: true, preload: "none", src: r.url })));
  const withheld = ticket.recordings_withheld
    ? el("p", { className: "muted withheld", text: labelf("ticket_view", "recordings_withheld", { n: ticket.recordings_withheld }) })
    : null;
  fill(node, players.length || withheld ? [...players, withheld] : el("span", { className: "muted", text: label("ticket_view", "recordings_none") }));
}

/** Each call-back task: when it was scheduled and is due, who has it, its state, and every attempt. */
export function showCallbacks(node, ticket) {
  const tasks = ticket.callbacks || [];
  fill(node, tasks.length ? tasks.map((task) => el("div", { className: `callback${task.overdue ? " overdue" : ""}`, dataset: { task: task.id } },
    el("div", { className: "callback-head", text: labelf("ticket_view", "callback_task", {
      due: task.due_date, status: task.status_label, lawyer: task.assigned_lawyer_name || label("ticket_view", "nobody"),
      n: task.attempts.length }) }),
    el("div", { className: "muted", text: labelf("ticket_view", "callback_scheduled", { when: fmtDateTime(task.created_at) }) }),
    task.attempts.length
      ? el("ol", { className: "attempts" }, task.attempts.map((a, i) => el("li", { dataset: { outcome: a.outcome } },
        labelf("ticket_view", "attempt", { i: i + 1, when: fmtDateTime(a.at), outcome: a.outcome_label,
          lawyer: a.lawyer_name || label("ticket_view", "nobody") }),
        a.note ? el("span", { className: "note", text: `：${a.note}` }) : null)))
      : el("div", { className: "muted", text: label("ticket_view", "attempts_none") }),
    task.satisfaction_label ? el("div", { text: labelf("ticket_view", "callback_satisfaction", { satisfaction: task.satisfaction_label }) }) : null,
    task.comment ? el("div", { text: labelf("ticket_view", "callback_comment", { comment: task.comment }) }) : null))
    : el("span", { className: "muted", text: label("ticket_view", "callbacks_none") }));
}
