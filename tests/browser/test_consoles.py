"""Issue 7's end-to-end run in a real browser against the running app and the simulated PBX.

A lawyer signs in and goes on duty; a scripted simulated call waits (the supervisor's wallboard
shows it), rings the lawyer (screen-pop: full number, green channel, IVR choices), is answered (the
wallboard shows the talk) and ends; the pre-filled ticket form forwards the ticket; the station
accepts and closes it; the call-back task appears, is dialled and its outcome recorded; a report
downloads. Citizens' text with markup in it is shown as text and never runs.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from hotline.live.feed import FEED_STREAM
from hotline.web.pages import NODE_MODULES
from storage.tables import Call, Caller, DataExport, FollowUpTask, PersonalDataView, Ticket
from tests.browser.conftest import LiveApp, screenshot, sign_in

NUMBER = "13912345678"
TRANSCRIPT = "我父亲七十岁了，子女不给赡养费"
HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
WAIT = 10_000  # ms for anything that follows a simulated event


def _call_row_written(app: LiveApp, linkedid: str) -> bool:
    with app.context.sessions() as session:
        return session.scalar(select(Call.id).where(Call.linkedid == linkedid)) is not None


def _until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _seed_caller(app: LiveApp) -> None:
    with app.context.sessions.begin() as session:
        session.add(Caller(number=NUMBER, name="王老伯", groups=["elderly"], call_count=2))


def test_a_call_from_ringing_to_follow_up(browser: Any, live_app: LiveApp) -> None:
    url = live_app.url
    _seed_caller(live_app)

    lawyer_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    lawyer_ctx.grant_permissions(["microphone"], origin=url)
    lawyer = lawyer_ctx.new_page()
    errors: list[str] = []
    lawyer.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(lawyer, url, "lawyer1")
    lawyer.wait_for_url(f"{url}/console")
    lawyer.locator("#sim-badge").wait_for(state="visible", timeout=WAIT)  # demo mode says so

    # An earlier ticket of the same caller, so the screen-pop has history to show.
    earlier = lawyer.request.post(
        f"{url}/api/tickets",
        data={"description": "上次咨询赡养费", "caller_number": NUMBER, "category": "婚姻家庭"},
        headers={"Origin": url},  # as the page's own fetch sends it (cookie sessions need this site's Origin)
    )
    assert earlier.status == 201, earlier.text()

    # On duty: the roster seated the lawyer; going off duty and back is QueuePause through the bridge.
    duty = lawyer.locator("#duty-state")
    duty.and_(lawyer.locator("[data-state=available]")).wait_for(timeout=WAIT)
    lawyer.click("#btn-off-duty")
    lawyer.locator("#duty-state[data-state=off_duty]").wait_for(timeout=WAIT)
    lawyer.click("#btn-on-duty")
    lawyer.locator("#duty-state[data-state=available]").wait_for(timeout=WAIT)

    # Softphone: microphone granted (fake device), registration fails (no Asterisk here).
    if (NODE_MODULES / "sip.js").is_dir():
        lawyer.locator("#phone-state[data-state=need_password]").wait_for(timeout=WAIT)
        lawyer.fill("#sip-password", "secret-1001")
        lawyer.click("#btn-register")
        lawyer.locator("#phone-state[data-state=register_failed]").wait_for(timeout=WAIT)
        assert "注册失败" in lawyer.inner_text("#phone-state")
        assert lawyer.is_enabled("#btn-register") and not lawyer.is_enabled("#btn-answer")

    supervisor_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    board = supervisor_ctx.new_page()
    sign_in(board, url, "supervisor")
    board.wait_for_url(f"{url}/dashboard")
    board.get_by_text("● 实时").wait_for(timeout=WAIT)

    placed = board.request.post(
        f"{url}/api/demo/calls",
        data={
            "caller_number": NUMBER,
            "queue": "family",
            "wait_s": 4,
            "talk_s": 6,
            "interface": "PJSIP/1001",
            "ivr_path": [{"node": "main", "key": "2"}, {"node": "topics", "key": "1"}],
            "flags": ["green:elderly"],
        },
        headers={"Origin": url},
    )
    assert placed.status == 202, placed.text()
    assert placed.json()["answered_by"] == "PJSIP/1001" and placed.json()["simulated"] is True

    # The wallboard shows the caller waiting (masked number), then the answered call.
    masked = "139****5678"
    board.locator("#wall-calls tr", has_text=masked).filter(has_text="排队中").wait_for(timeout=WAIT)
    assert board.inner_text("#t-waiting") == "1"
    screenshot(board, "dashboard-waiting")
    board.locator("#wall-calls tr", has_text=masked).filter(has_text="通话中").filter(has_text="张律师").wait_for(
        timeout=WAIT
    )

    # Screen-pop on the lawyer's console: full number, green channel, IVR choices, history.
    lawyer.locator("#call-view").wait_for(state="visible", timeout=WAIT)
    lawyer.locator("#pop-number", has_text=NUMBER).wait_for(timeout=WAIT)
    assert "老年人" in lawyer.inner_text("#pop-green")
    assert "main 按2" in lawyer.inner_text("#pop-ivr")
    lawyer.locator("#pop-tickets", has_text="婚姻家庭").wait_for(timeout=WAIT)
    # The form is pre-filled from the call.
    assert lawyer.input_value("#f-number") == NUMBER
    assert lawyer.input_value("#f-name") == "王老伯"
    assert lawyer.input_value("#f-category") == "婚姻家庭"  # the caller's menu choice
    assert lawyer.input_value("#f-priority") == "high"
    assert lawyer.is_checked("#f-flags input[value=green_channel]")
    lawyer.fill("#f-description", f"老人咨询子女不支付赡养费，想起诉。{HOSTILE}")
    lawyer.locator("#call-state[data-state=ended]").wait_for(timeout=WAIT)  # wrap-up
    # The ASR job's result reaches the open form: text on the call row, a notice on the feed.
    linkedid = placed.json()["linkedid"]
    _until(lambda: _call_row_written(live_app, linkedid))
    with live_app.context.sessions.begin() as session:
        session.execute(update(Call).where(Call.linkedid == linkedid).values(transcript=TRANSCRIPT))
    notice = {"type": "transcript", "linkedid": linkedid, "status": "done", "ticket_code": None}
    live_app.context.redis.client.xadd(FEED_STREAM, {"data": json.dumps(notice)})
    lawyer.locator("#f-transcript", has_text=TRANSCRIPT).wait_for(timeout=WAIT)
    # The router's suggestion (POST /api/route) on description and transcript, deciding words shown.
    lawyer.locator("#suggestion", has_text="婚姻家庭 / 赡养").wait_for(timeout=WAIT)
    assert "赡养费" in lawyer.inner_text("#suggestion .chips")
    assert lawyer.input_value("#f-subcategory") == "赡养" and lawyer.input_value("#f-service-line") == "consultation"
    screenshot(lawyer, "console-wrapup")
    station_value = lawyer.locator("#f-station option", has_text="乐至县公共法律服务中心").first.get_attribute("value")
    lawyer.select_option("#f-station", station_value)
    lawyer.click("#btn-forward")
    lawyer.locator("#call-view").wait_for(state="hidden", timeout=WAIT)

    with live_app.context.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.status == "forwarded")).one()
        code = ticket.code
        assert ticket.flags == ["green_channel"] and ticket.priority == "high"
        assert (ticket.category, ticket.subcategory) == ("婚姻家庭", "赡养")
        assert [c.linkedid for c in ticket.calls] == [placed.json()["linkedid"]]
        assert session.scalar(select(PersonalDataView).where(PersonalDataView.kind == "screen_pop")) is not None

    # The station accepts, works on and closes it; the citizen's text stays text.
    station_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    station = station_ctx.new_page()
    station.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(station, url, "county")
    station.wait_for_url(f"{url}/station")
    station.get_by_role("link", name=code).click()
    station.locator("#d-description", has_text="<script>window.__xss=2</script>").wait_for(timeout=WAIT)
    assert station.evaluate("window.__xss") is None
    assert station.locator("#d-description img").count() == 0
    assert station.inner_text("#d-caller").endswith("139****5678")  # station staff see masked numbers
    screenshot(station, "station")
    station.click("#d-actions button[data-action=received]")
    station.locator("#d-actions button[data-action=in_progress]").click()
    station.locator("#d-status", has_text="办理中").wait_for(timeout=WAIT)
    station.fill("#d-note", "已联系当事人子女调解，达成按月支付赡养费协议。")
    station.click("#d-actions button[data-action=closed]")
    station.locator("#detail-empty").wait_for(state="visible", timeout=WAIT)

    # The call-back task appears on the lawyer's console; dial it and record the outcome.
    lawyer.click(".tabs button[data-tab=callbacks]")
    row = lawyer.locator("#callbacks tr", has_text=code)
    row.wait_for(timeout=WAIT)
    row.get_by_role("button", name="拨打").click()
    row.get_by_text("回访电话已接通").wait_for(timeout=WAIT)
    row.get_by_label("回访结果").select_option("reached")
    row.get_by_label("满意度").select_option("satisfied")
    row.get_by_role("button", name="记录结果").click()
    row.wait_for(state="detached", timeout=WAIT)
    with live_app.context.sessions() as session:
        task = session.scalars(select(FollowUpTask)).one()
        assert (task.status, task.satisfaction) == ("reached", "satisfied")
        assert task.attempts[0].linkedid  # the call-back call the simulator played
        assert session.scalar(select(Ticket.status).where(Ticket.code == code)) == "followed_up"

    # An export downloads, and is audited.
    board.reload()
    board.locator("#kpi-export a", has_text="导出 CSV").wait_for(timeout=WAIT)
    with board.expect_download() as download_info:
        board.click("#kpi-export a:has-text('导出 CSV')")
    download = download_info.value
    assert re.match(r"kpi.*\.csv$", download.suggested_filename)
    assert "接通率" in Path(download.path()).read_text(encoding="utf-8-sig")
    with live_app.context.sessions() as session:
        assert session.scalar(select(DataExport.report).where(DataExport.format == "csv")) == "kpi"
    screenshot(board, "dashboard")
    board.goto(f"{url}/report/monthly")
    board.locator("#r-kpi .tile").first.wait_for(timeout=WAIT)
    screenshot(board, "report-monthly")
    lawyer.goto(f"{url}/console")
    lawyer.locator("#shift-info", has_text="综合咨询").wait_for(timeout=WAIT)  # queues by their labels
    screenshot(lawyer, "console")
    login = browser.new_page(viewport={"width": 1366, "height": 768})
    login.goto(f"{url}/login")
    screenshot(login, "login")
    assert errors == []
    for ctx in (lawyer_ctx, supervisor_ctx, station_ctx, login.context):
        ctx.close()
