"""Supervisor dashboard tables that the API had no endpoint for, each also as CSV or XLSX:
IVR drop-out points, open work per station, satisfaction, and downloads of the live wallboard, KPI,
overdue and call-back SLA tables. Downloads are audited like the statistics reports (hotline.api.routes.statistics).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any, Literal

import redis
from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hotline.api.deps import ContextDep, QueueName, SessionDep, Supervising
from hotline.api.downloads import Format, deliver
from hotline.api.errors import ServiceUnavailable
from hotline.api.periods import Day, local_period
from hotline.api.presenters import follow_up_sla, kpi_report, work_page
from hotline.labels import IVR_EXITS, KPI_MEASURES, labels_of
from hotline.reports.live import live_state
from hotline.reports.tables import Table
from storage.dialect import last_array_item_field
from storage.tables import Call, FollowUpTask, IvrSession, Station, Ticket
from ticketing.domain.follow_up import Satisfaction
from ticketing.domain.lifecycle import STATION_BACKLOG, TicketStatus

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


@router.get("/ivr-dropouts", summary="Where callers leave the IVR: sessions by exit, and hang-ups by menu node")
def ivr_dropouts(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    format: Format = "json",
) -> Response:
    begin, finish = local_period(start, end, context.policy.tz)
    period = (IvrSession.started_at >= begin, IvrSession.started_at < finish)
    exits: Counter[str] = Counter()
    for exit_, count in session.execute(select(IvrSession.exit, func.count()).where(*period).group_by(IvrSession.exit)):
        exits[exit_.partition(":")[0]] += count
    total = sum(exits.values())
    node = _node_expression(session)
    hangups = sorted(
        session.execute(
            select(node.label("node"), func.count()).where(*period, IvrSession.exit == "hangup").group_by(node)
        ).all(),
        key=lambda row: (-row[1], row[0] or ""),
    )
    dropped = sum(n for _, n in hangups)
    by_exit = [
        {"exit": name, "label": IVR_EXITS.get(name, name), "count": n, "share": round(n / total, 4)}
        for name, n in exits.most_common()
    ]
    node_name = labels_of(context)["ivr_nodes"]
    nodes = [
        {"node": name, "label": node_name.get(name, name) if name else "进入菜单前", "count": n,
         "share": round(n / dropped, 4) if dropped else None}
        for name, n in hangups
    ]  # fmt: skip
    params = {"start": begin.date().isoformat(), "end": finish.date().isoformat()}
    body = {**params, "sessions": total, "dropped": dropped, "by_exit": by_exit, "dropouts": nodes}
    tables = [
        Table("IVR 去向 exits", ["去向 exit", "说明 label", "次数 count", "占比 share"],
              [[e["exit"], e["label"], e["count"], e["share"]] for e in by_exit]),
        Table("菜单中挂机 drop-outs", ["菜单节点 node", "次数 count", "占比 share"],
              [[n["label"], n["count"], n["share"]] for n in nodes]),
    ]  # fmt: skip
    return deliver(session, actor, "ivr-dropouts", format, params, body, tables)


def _node_expression(session: Session) -> ColumnElement[Any]:
    return last_array_item_field(session, IvrSession.path, "node")


@router.get("/backlog", summary="Open forwarded work per station: by status, and how much is past a deadline")
def backlog(actor: Supervising, session: SessionDep, format: Format = "json") -> Response:
    now = datetime.now(UTC)
    statuses = [s.value for s in STATION_BACKLOG]
    lapsed = ((Ticket.status == TicketStatus.FORWARDED.value) & (Ticket.accept_due_at < now)) | (
        (Ticket.status != TicketStatus.FORWARDED.value) & (Ticket.finish_due_at < now)
    )
    rows = session.execute(
        select(Ticket.station_id, Ticket.status, func.count(), func.count().filter(lapsed))
        .where(Ticket.status.in_(statuses))
        .group_by(Ticket.station_id, Ticket.status)
    ).all()
    names = dict(
        session.execute(select(Station.id, Station.name).where(Station.id.in_({r[0] for r in rows if r[0]}))).all()
    )
    per: dict[int | None, dict[str, Any]] = {}
    for station_id, status, count, overdue in rows:
        item = per.setdefault(
            station_id,
            {"station_id": station_id, "station": names.get(station_id, "未转办 / 待分派"), "total": 0, "overdue": 0,
             **{s: 0 for s in statuses}},
        )  # fmt: skip
        item[status] += count
        item["total"] += count
        item["overdue"] += overdue
    items = sorted(per.values(), key=lambda i: (-i["overdue"], -i["total"], i["station"]))
    body = {"at": now.isoformat(), "stations": items, "total": sum(i["total"] for i in items)}
    labels = [TicketStatus(s).label for s in statuses]
    table = Table(
        "工单积压 backlog",
        ["工作站 station", *labels, "合计 total", "逾期 overdue"],
        [[i["station"], *(i[s] for s in statuses), i["total"], i["overdue"]] for i in items],
    )
    return deliver(session, actor, "backlog", format, {}, body, [table])


@router.get("/satisfaction", summary="Call-back satisfaction (回访满意度) and post-call survey scores (一事一评)")
def satisfaction(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    format: Format = "json",
) -> Response:
    begin, finish = local_period(start, end, context.policy.tz)
    rated = dict(
        session.execute(
            select(FollowUpTask.satisfaction, func.count())
            .where(FollowUpTask.completed_at >= begin, FollowUpTask.completed_at < finish)
            .where(FollowUpTask.satisfaction.is_not(None))
            .group_by(FollowUpTask.satisfaction)
        ).all()
    )
    answered = sum(rated.values())
    callbacks = [
        {"satisfaction": s.value, "label": s.label, "count": rated.get(s.value, 0),
         "share": round(rated.get(s.value, 0) / answered, 4) if answered else None}
        for s in Satisfaction
    ]  # fmt: skip
    scores = dict(
        session.execute(
            select(Call.survey_score, func.count())
            .where(Call.offered_at >= begin, Call.offered_at < finish, Call.survey_score.is_not(None))
            .group_by(Call.survey_score)
        ).all()
    )
    surveyed = sum(scores.values())
    survey = [{"score": s, "count": scores.get(s, 0)} for s in range(1, 6)]
    mean = round(sum(s * n for s, n in scores.items()) / surveyed, 2) if surveyed else None
    params = {"start": begin.date().isoformat(), "end": finish.date().isoformat()}
    satisfied = rated.get(Satisfaction.SATISFIED.value, 0) + rated.get(Satisfaction.FAIRLY_SATISFIED.value, 0)
    body = {
        **params,
        "callbacks": callbacks,
        "callbacks_rated": answered,
        "satisfaction_rate": round(satisfied / answered, 4) if answered else None,
        "survey": survey,
        "surveyed": surveyed,
        "survey_mean": mean,
    }
    tables = [
        Table("回访满意度 call-backs", ["评价 rating", "件数 count", "占比 share"],
              [[c["label"], c["count"], c["share"]] for c in callbacks]),
        Table("通话评价 survey", ["分数 score", "次数 count"], [[s["score"], s["count"]] for s in survey]),
    ]  # fmt: skip
    return deliver(session, actor, "satisfaction", format, params, body, tables)


#: The export's columns: the measure's label (hotline.labels) and, for other tools, its code or unit.
KPI_COLUMNS = [
    (key, f"{KPI_MEASURES[key]}{suffix}")
    for key, suffix in [
        ("bucket", " period"), ("queue", " queue"), ("offered", " offered"), ("answered", " answered"),
        ("connection_rate", ""), ("service_level", ""), ("service_level_2", ""), ("asa", " ASA s"),
        ("abandoned", " abandoned"), ("abandon_rate", ""), ("aht", " AHT s"), ("longest_wait", " s"),
        ("closed_hours", " closed hours"),
    ]
]  # fmt: skip


@router.get("/kpi", summary="The KPI table of /api/kpi, also as CSV or XLSX")
def kpi_table(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    queue: QueueName = None,
    granularity: Literal["hour", "day", "month", "all"] = "day",
    by_queue: bool = False,
    format: Format = "json",
) -> Response:
    body = kpi_report(session, context.settings, start, end, queue, granularity, by_queue, None)
    params = {"start": start.isoformat() if start else None, "end": end.isoformat() if end else None,
              "queue": queue, "granularity": granularity, "by_queue": by_queue}  # fmt: skip
    queue_name = labels_of(context)["queues"]
    rows = [{**row, "queue": queue_name.get(row.get("queue") or "", row.get("queue"))} for row in body["rows"]]
    table = Table("接通指标 KPI", [label for _, label in KPI_COLUMNS],
                  [[row.get(key) for key, _ in KPI_COLUMNS] for row in rows])  # fmt: skip
    return deliver(session, actor, "kpi", format, params, body, [table])


@router.get("/overdue", summary="The 督办 list (GET /api/supervision/overdue) as CSV or XLSX")
def overdue_table(actor: Supervising, session: SessionDep, format: Format = "csv") -> Response:
    body = work_page(actor, session, True, 1, 200)
    rows = [
        [i["code"], i["status_label"], i["category"], i["station_name"],
         "；".join(f"{o['label']} {o['deadline']:%Y-%m-%d %H:%M} 逾期{o['overdue_hours']}小时" for o in i["overdue"]),
         "；".join(e["escalated_to"] for e in i["escalations"])]
        for i in body["items"]
    ]  # fmt: skip
    table = Table("督办 overdue", ["工单 code", "状态 status", "类别 category", "工作站 station", "逾期 lapses",
                                  "督办至 escalated to"], rows)  # fmt: skip
    return deliver(session, actor, "overdue", format, {}, body, [table])


@router.get("/callback-sla", summary="The call-back SLA (GET /api/callbacks/sla) as CSV or XLSX")
def callback_sla_table(
    actor: Supervising,
    session: SessionDep,
    context: ContextDep,
    start: Day | None = None,
    end: Day | None = None,
    format: Format = "csv",
) -> Response:
    body = follow_up_sla(session, context.policy, start, end, None)
    columns = ["closed", "on_time", "late", "open_in_time", "open_overdue", "rate"]
    rows = [["全部 all", *(body[c] for c in columns)]]
    rows += [
        [f"律师 {r['lawyer_id']}" if r["lawyer_id"] else "未分配", *(r[c] for c in columns)] for r in body["by_lawyer"]
    ]
    headers = ["范围 scope", "办结 closed", "按时 on time", "超时 late", "未完成未超时", "未完成已超时", "达标率 rate"]
    table = Table("回访时效 call-back SLA", headers, rows)
    params = {"start": body["start"][:10], "end": body["end"][:10]}
    return deliver(session, actor, "callback-sla", format, params, body, [table])


@router.get("/live", summary="The live wallboard (queues, lawyers, calls in progress) as CSV or XLSX, at this moment")
def live_tables(actor: Supervising, session: SessionDep, context: ContextDep, format: Format = "csv") -> Response:
    try:
        state = live_state(context, actor)
    except redis.RedisError as exc:
        raise ServiceUnavailable("实时状态不可用 / live state unavailable (Redis)", error=str(exc)) from None
    names = labels_of(context)
    queue_name = names["queues"]
    at = datetime.fromtimestamp(state["at"], UTC).isoformat()
    queues = Table(
        "队列 queues",
        ["队列 queue", "排队 waiting", "最长等待(秒) longest wait s", "在岗 on duty", "空闲 available",
         "暂停 paused", "通话 talking"],
        [[queue_name.get(q["queue"], q["queue"]), q.get("waiting"), q.get("longest_wait_s"), q.get("members_on_duty"),
          q.get("members_available"), q.get("members_paused"), q.get("talking")] for q in state["queues"]],
    )  # fmt: skip
    agents = Table(
        "律师 lawyers",
        ["话机 interface", "姓名 name", "状态 state", "原因 reason", "队列 queues"],
        [[a["interface"], a.get("name"), names["agent_states"].get(a.get("state", ""), a.get("state")), a.get("reason"),
          "、".join(sorted(queue_name.get(q, q) for q in a.get("queues", {})))] for a in state["agents"]],
    )  # fmt: skip
    calls = Table(
        "通话 calls",
        ["通话 linkedid", "来电 caller", "状态 state", "队列 queue", "律师 lawyer", "开始 started"],
        [[c["linkedid"], c.get("caller_number"), names["call_states"].get(c.get("state", ""), c.get("state")),
          queue_name.get(c.get("queue") or "", c.get("queue")),
          c.get("agent_interface"),
          datetime.fromtimestamp(c["started_at"], UTC).isoformat() if c.get("started_at") else None]
         for c in state["calls"]],
    )  # fmt: skip
    body = {"at": at, "simulated": state["simulated"], "queues": state["queues"], "agents": state["agents"],
            "calls": state["calls"]}  # fmt: skip
    return deliver(session, actor, "live", format, {}, body, [queues, agents, calls])
