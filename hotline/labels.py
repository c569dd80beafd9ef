"""Display names (Chinese): the one place every label a user sees is defined.

Codes stay codes in the database, the API and the feed; pages, exports and reports show these
labels. `GET /api/labels` serves them all to the pages (hotline/web/static/common.js `label()`),
and exports call `label()` here. Labels that belong to a domain enum (ticket statuses, call-back
outcomes, roles) are read from it, so they are still written once. Queue, service-line and IVR
labels come from the configuration files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hotline.reports.kpi import NO_QUEUE
from settings.files import HotlineConfig
from ticketing.domain.escalation import DeadlineKind
from ticketing.domain.follow_up import FollowUpOutcome, FollowUpStatus, Satisfaction
from ticketing.domain.lifecycle import TicketStatus
from ticketing.domain.roles import Role

#: A lawyer's state, the same words on every page (console, wallboard, exports).
AGENT_STATES = {
    "available": "空闲",
    "ringing": "振铃中",
    "talking": "通话中",
    "wrapup": "话后整理",
    "paused": "暂停",
    "unavailable": "话机未注册",
    "off_duty": "下线",
    "unknown": "状态未知（实时服务中断）",
}
#: A call in progress (live state) and a finished one.
CALL_STATES = {
    "ivr": "语音导航",
    "waiting": "排队中",
    "ringing": "振铃中",
    "talking": "通话中",
    "after": "留言/评价",
    "dialling": "回拨中",
    "ended": "通话结束",
}
CALL_OUTCOMES = {
    "answered": "已接通",
    "abandoned": "排队放弃",
    "ring_no_answer_abandoned": "振铃未接后放弃",
    "closed_hours": "非工作时间",
    "blocked": "已拦截",
    "not_queued": "未进入队列",
    "failed": "呼叫失败",
    "unknown": "结果未知",
}
CALL_DIRECTIONS = {"inbound": "呼入", "callback": "回拨", "outbound": "呼出"}
TICKET_ACTIONS = {
    "create": "受理",
    "forward": "转办",
    "accept": "接收",
    "return": "退回",
    "start": "开始办理",
    "progress": "报告进展",
    "finish": "办结",
    "resolve": "办结",
    "follow_up": "回访",
    "reopen": "重新打开",
    "archive": "归档",
    "escalate": "督办",
    "route": "智能分类",
    "alert": "危机预警",
    "triage": "人工分派",
    "callback": "回访",
    "dial": "拨打来电人",
}
FLAGS = {"green_channel": "绿色通道", "crisis": "危机", "collective": "群体性", "sensitive": "敏感"}
PRIORITIES = {"normal": "普通", "high": "优先", "urgent": "紧急"}
CHANNELS = {
    "phone": "电话",
    "voicemail": "留言",
    "callback_request": "预约回拨",
    "web": "网上",
    "walk_in": "来访",
    "letter": "来信",
}
GREEN_GROUPS = {
    "migrant_worker": "农民工",
    "elderly": "老年人",
    "disabled": "残疾人",
    "minor": "未成年人",
    "veteran": "退役军人",
}
IVR_EXITS = {
    "queue": "进入队列",
    "voicemail": "留言",
    "callback": "预约回拨",
    "overflow": "溢出转接",
    "closed": "非工作时间",
    "blocked": "黑名单",
    "hangup": "菜单中挂机",
    "error": "系统错误",
}
#: Menu nodes of config/ivr.yaml that are not queues (queues are named by their queue's label).
IVR_NODES = {
    "welcome": "欢迎语",
    "language": "语种选择",
    "main": "主菜单",
    "consult-topics": "法律咨询分类",
    "green-channel": "绿色通道",
    "main-after-green": "综合咨询",
    "operator": "人工服务",
    "tibetan": "藏语服务",
}
IVR_LANGUAGES = {"zh": "普通话", "bo": "藏语"}
#: What the view audit records a look at (hotline/web/audit.py) and what the export audit a download of.
AUDIT_VIEWS = {
    "screen_pop": "来电弹屏",
    "ticket": "查看工单",
    "recording": "收听录音",
    "transcript": "查看转写",
    "callback_dial": "回访拨号",
    "station_dial": "工作站回拨",
}
AUDIT_ACTIONS = {
    "alert_ack": "确认危机预警",
    "user_create": "创建账号",
    "user_disable": "停用账号",
    "user_enable": "启用账号",
    "password_reset": "重置密码",
    "user_unlock": "解除锁定",
    "role_change": "变更角色",
    "station_change": "变更工作站",
    "triage": "分诊分派",
}
REPORTS = {
    "kpi": "接通指标",
    "live": "实时监控",
    "ivr-dropouts": "语音导航流失点",
    "backlog": "工作站积压",
    "satisfaction": "回访满意度",
    "overdue": "督办（逾期）",
    "callback-sla": "回访时效",
    "topics": "咨询事项统计",
    "stations": "工作站统计",
    "hot-topics": "热点与典型问题",
}
HEALTH = {"ok": "正常", "degraded": "降级", "down": "中断", "stale": "数据过时", "simulated": "模拟"}

_FIXED: dict[str, Mapping[str, str]] = {
    "agent_states": AGENT_STATES,
    "call_states": CALL_STATES,
    "call_outcomes": CALL_OUTCOMES,
    "call_directions": CALL_DIRECTIONS,
    "ticket_statuses": {s.value: s.label for s in TicketStatus},
    "ticket_actions": TICKET_ACTIONS,
    "flags": FLAGS,
    "priorities": PRIORITIES,
    "channels": CHANNELS,
    "green_groups": GREEN_GROUPS,
    "ivr_exits": IVR_EXITS,
    "ivr_languages": IVR_LANGUAGES,
    "audit_views": AUDIT_VIEWS,
    "audit_actions": AUDIT_ACTIONS,
    "reports": REPORTS,
    "callback_outcomes": {o.value: o.label for o in FollowUpOutcome},
    "callback_statuses": {s.value: s.label for s in FollowUpStatus},
    "satisfaction": {s.value: s.label for s in Satisfaction},
    "deadline_kinds": {k.value: k.label for k in DeadlineKind},
    "roles": {r.value: r.label for r in Role},
    "health": HEALTH,
}


def label(group: str, code: str | None, config: HotlineConfig | None = None) -> str:
    """The display name of `code` in `group`; an unknown code is shown as it is (never hidden)."""
    if code is None or code == "":
        return "—"
    table = all_labels(config)[group] if config is not None else _FIXED.get(group, {})
    return table.get(code, code)


def flag_labels(flags: list[str] | None) -> str:
    """Flags as one cell: 危机、群体性 (green:elderly, set by the IVR, as 绿色通道·老年人)."""
    shown = []
    for flag in flags or []:
        if flag.startswith("green:"):
            shown.append(f"绿色通道·{GREEN_GROUPS.get(flag[6:], flag[6:])}")
        else:
            shown.append(FLAGS.get(flag, flag))
    return "、".join(shown)


def all_labels(config: HotlineConfig | None, ivr: Any = None) -> dict[str, dict[str, str]]:
    """Every group; queues and service lines from `config`, IVR menus and keys from `ivr` (IvrFile)."""
    groups = {name: dict(table) for name, table in _FIXED.items()}
    if config is not None:
        groups["queues"] = {q.name: q.label for q in config.service_hours.queues}
        groups["queues"][NO_QUEUE] = "未进入队列（非工作时间）"
        groups["service_lines"] = {line.code: line.name for line in config.categories.service_lines}
    nodes = dict(IVR_NODES)
    if ivr is not None:
        for name, node in ivr.nodes.items():
            queue = getattr(node, "queue", None)
            if name not in nodes:
                topic = getattr(node, "topic", None)
                nodes[name] = topic or groups.get("queues", {}).get(queue or "", "") or name
    groups["ivr_nodes"] = nodes
    if ivr is not None:
        groups["ivr_keys"] = {
            f"{name}:{key}": nodes.get(_target_name(target), _target_name(target))
            for name, node in ivr.nodes.items()
            for key, target in (getattr(node, "options", None) or {}).items()
        }
    return groups


def _target_name(target: Any) -> str:
    return target if isinstance(target, str) else str(getattr(target, "goto", target))


def ivr_step(step: Mapping[str, Any], labels: Mapping[str, Mapping[str, str]]) -> str:
    """One IVR choice as a caller would say it: 主菜单：按8 绿色通道."""
    node = str(step.get("node") or "")
    key = step.get("key")
    where = labels["ivr_nodes"].get(node, node)
    if key in (None, ""):
        return where
    chosen = labels.get("ivr_keys", {}).get(f"{node}:{key}")
    return f"{where}：按{key}{f' {chosen}' if chosen else ''}"


logger = logging.getLogger(__name__)
_BUILT: dict[tuple[Path, int], dict[str, dict[str, str]]] = {}


def _ivr_menus(config_dir: Path, config: HotlineConfig) -> Any:
    from ivr.menu_checks import load_ivr_config

    try:
        return load_ivr_config(config_dir, config)
    except Exception as exc:  # the IVR's own start-up reports it; the labels fall back to node names
        logger.warning("IVR menus not readable for their labels: %s", exc)
        return None


def labels_of(context: Any) -> dict[str, dict[str, str]]:
    """All labels for the running service (`context`: hotline.bootstrap.Context), built once per
    configuration (the files are read at start-up)."""
    key = (context.settings.config_dir, id(context.config))
    if key not in _BUILT:
        _BUILT[key] = all_labels(context.config, _ivr_menus(context.settings.config_dir, context.config))
    return _BUILT[key]
