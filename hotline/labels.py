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

from hotline.page_words import (
    ADMIN_PAGE,
    COMMON,
    CONSOLE_PAGE,
    DASHBOARD_PAGE,
    PHONE_MESSAGES,
    REPORT_PAGE,
    STATION_PAGE,
    TICKET_VIEW,
)
from hotline.reports.kpi import NO_QUEUE
from hotline.shell_words import SHELL
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
#: A ticket's next status as the button that moves it there reads (console, station inbox).
TICKET_TRANSITIONS = {
    "received": "接收",
    "in_progress": "开始办理",
    "progress": "报告进展",
    "closed": "办结",
    "forwarded": "转办",
    "returned": "退回",
    "followed_up": "回访完成",
    "accepted": "重新打开",
    "archived": "归档",
}
#: Buttons the pages build in their scripts (the ones in the HTML shells are written there once).
BUTTONS = {
    "apply_suggestion": "全部采用建议",
    "dial": "拨打",
    "record_attempt": "记录结果",
    "mute": "静音",
    "unmute": "取消静音",
    "hold": "保持",
    "resume": "恢复",
    "alert_ack": "确认已处置",
    "triage_decide": "分派",
    "user_disable": "停用",
    "user_enable": "启用",
    "password_reset": "重置密码",
    "user_unlock": "解锁",
    "export_csv": "导出 CSV",
    "export_xlsx": "导出 XLSX",
}
#: Column and field names that several pages show (tables, forms, the ticket view).
COLUMNS = {
    "ticket": "工单",
    "station": "工作站",
    "category": "类别",
    "status": "状态",
    "time": "时间",
    "overdue": "逾期",
    "satisfaction": "满意度",
    "actions": "操作",
    "share": "占比",
    "description": "问题描述",
    "role": "角色",
    "user": "用户",
    "lawyer": "律师",
    "total": "合计",
    "count": "件数",
}
#: Words that stand for a missing value.
WORDS = {"none": "无", "uncategorised": "未分类"}
#: A staff account's state on the administrator's page.
ACCOUNT_STATES = {"active": "正常", "disabled": "已停用", "locked": "登录已锁定"}
#: Queue measures (DESIGN.md §5) as the wallboard, the monthly report and the exports name them.
KPI_MEASURES = {
    "bucket": "时段",
    "queue": "队列",
    "offered": "呼入",
    "answered": "接通",
    "connection_rate": "接通率",
    "service_level": "服务水平 SL",
    "service_level_2": "服务水平 SL2",
    "asa": "平均应答",
    "abandoned": "放弃",
    "abandon_rate": "放弃率",
    "aht": "平均处理",
    "longest_wait": "最长等待",
    "closed_hours": "非工作时间来电",
}
#: The browser softphone's states (hotline/web/static/softphone.js), as the lawyer reads them.
PHONE_STATES = {
    "not_configured": (
        "软电话未配置：演示模式下模拟来电由系统自动接听；正式环境请设置 HOTLINE_SIP_WS_URL 与 HOTLINE_SIP_DOMAIN"
    ),
    "library_missing": "软电话组件未安装（运行 scripts/run 或 npm ci）",
    "checking_mic": "正在检查麦克风…",
    "mic_denied": "麦克风被拒绝：请在浏览器地址栏允许本站使用麦克风，然后刷新页面",
    "mic_missing": "未找到麦克风：请连接耳麦后刷新页面",
    "need_password": "请输入 SIP 密码并注册",
    "registering": "正在注册到电话系统…",
    "registered": "已注册，待机",
    "register_failed": "注册失败",
    "ringing": "来电振铃",
    "in_call": "通话中",
    "on_hold": "通话保持中",
}
#: The live feed's connection, as every page's header shows it.
FEED_STATES = {"open": "● 实时", "retry": "○ 重连中…", "closed": "○ 已断开"}
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
    # Steps the IVR records that are not menu nodes (ivr/destinations.py).
    "blocked": "黑名单拦截",
    "voicemail": "留言",
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
    "ticket_transitions": TICKET_TRANSITIONS,
    "buttons": BUTTONS,
    "phone_states": PHONE_STATES,
    "kpi_measures": KPI_MEASURES,
    "account_states": ACCOUNT_STATES,
    "columns": COLUMNS,
    "words": WORDS,
    "console_page": CONSOLE_PAGE,
    "dashboard_page": DASHBOARD_PAGE,
    "report_page": REPORT_PAGE,
    "station_page": STATION_PAGE,
    "admin_page": ADMIN_PAGE,
    "phone_messages": PHONE_MESSAGES,
    "feed_states": FEED_STATES,
    "ticket_view": TICKET_VIEW,
    "common": COMMON,
    "shell": SHELL,
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
