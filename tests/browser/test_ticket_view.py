"""The ticket view in a real browser: recordings play for those who may hear them (and only for
them), every call-back attempt is listed with who made it and how it went, and screens show
labels, not codes.

The call rows are written as the bridge writes them at hang-up (with Asterisk's μ-law MixMonitor
file in the recordings folder): the simulator plays no audio, and the bridge's own path from AMI
events to these rows is tested on the recorded Asterisk 22 traces (tests/integration/test_bridge*.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import soundfile
from sqlalchemy import select

from storage.tables import Call, User
from tests.browser.conftest import LiveApp, screenshot, sign_in

WAIT = 15_000
NUMBER = "13700008888"
#: A code shown where a label belongs: snake_case words or the English IVR node names.
CODE = re.compile(r"\b(?:[a-z]+_[a-z_]+|walk_in|no_answer|forwarded|closed|main|consult-topics)\b")


def _context(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")


def _recorded_call(live_app: LiveApp, lawyer: str, name: str) -> str:
    """A call put through to `lawyer`, recorded by Asterisk as μ-law WAV; returns its Linkedid."""
    folder = live_app.context.settings.recordings_dir
    t = np.arange(8000 * 2) / 8000
    path = folder / f"{name}.wav"
    soundfile.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), 8000, format="WAV", subtype="ULAW")
    with live_app.context.sessions.begin() as session:
        user = session.scalars(select(User).where(User.username == lawyer)).one()
        started = datetime.now(UTC) - timedelta(minutes=20)
        session.add(
            Call(linkedid=f"1797000000.{name}", caller_number=NUMBER, queue="labour", outcome="answered",
                 lawyer_id=user.id, agent_interface=user.interface, started_at=started, offered_at=started,
                 answered_at=started + timedelta(seconds=9), ended_at=started + timedelta(minutes=3),
                 wait_seconds=9.0, talk_seconds=171.0, recording_paths=[str(path)],
                 ivr_path=[{"node": "main", "key": "1"}, {"node": "consult-topics", "key": "2"}])
        )  # fmt: skip
    return f"1797000000.{name}"


def _open_ticket(page: Any, code: str) -> None:
    page.click(".tabs button[data-tab=tickets]")
    page.fill("#ticket-q", code)
    page.click("#ticket-search button[type=submit]")
    page.get_by_role("link", name=code).click()
    page.locator("#tv-code", has_text=code).wait_for(timeout=WAIT)


def test_recordings_call_backs_and_labels_in_the_ticket_view(browser: Any, live_app: LiveApp) -> None:
    url = live_app.url
    errors: list[str] = []
    first = _recorded_call(live_app, "lawyer1", "first")
    second = _recorded_call(live_app, "lawyer2", "second")

    # lawyer2 writes the ticket about both calls (the citizen called twice) and settles it at once.
    two_ctx = _context(browser)
    two = two_ctx.new_page()
    two.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(two, url, "lawyer2")
    two.wait_for_url(f"{url}/console")
    made = two.request.post(f"{url}/api/tickets", headers={"Origin": url}, data={
        "description": "两次来电咨询被拖欠的工资", "caller_number": NUMBER, "channel": "phone",
        "category": "劳动争议", "call_linkedids": [first, second]})  # fmt: skip
    assert made.status == 201, made.text()
    code = made.json()["code"]
    closed = two.request.post(f"{url}/api/tickets/{code}/transitions", headers={"Origin": url},
                              data={"to": "closed", "result": "已解答：可向劳动监察大队投诉"})  # fmt: skip
    assert closed.status == 200, closed.text()

    # The call-back: two attempts recorded from the console's 回访任务 list, as a lawyer does.
    two.click(".tabs button[data-tab=callbacks]")
    for outcome, note in (("no_answer", "响铃无人接"), ("busy", None)):
        row = two.locator("#callbacks tr", has_text=code)
        row.wait_for(timeout=WAIT)
        row.get_by_label("回访结果").select_option(outcome)
        if note:
            row.get_by_label("回访备注").fill(note)
        row.get_by_role("button", name="记录结果").click()
        two.locator("#callbacks tr", has_text=code).locator("td", has_text="1 次" if note else "2 次").wait_for(
            timeout=WAIT
        )

    # lawyer2 hears their own call, not lawyer1's: one player, and a note for the other recording.
    _open_ticket(two, code)
    players = two.locator("#tv-recordings audio")
    players.first.wait_for(timeout=WAIT)
    assert players.count() == 1
    assert "李律师" in two.inner_text("#tv-recordings") and "张律师" not in two.inner_text("#tv-recordings")
    assert "另有 1 段录音，您的角色无权收听" in two.inner_text("#tv-recordings")
    src = players.first.get_attribute("src")
    assert src and re.fullmatch(r"/api/calls/\d+/recordings/0", src)
    assert str(live_app.context.settings.recordings_dir) not in two.content()  # never the file's path
    # The browser can play it: the μ-law file arrives as PCM WAV and Chromium reads its length.
    duration = two.evaluate(
        """() => new Promise((resolve, reject) => {
             const audio = document.querySelector('#tv-recordings audio');
             audio.addEventListener('loadedmetadata', () => resolve(audio.duration), { once: true });
             const failed = () => reject(new Error('audio error ' + (audio.error && audio.error.code)));
             audio.addEventListener('error', failed, { once: true });
             audio.load();
           })"""
    )  # fmt: skip
    assert abs(duration - 2.0) < 0.1
    heard = two.request.get(f"{url}{src}")
    assert heard.status == 200 and heard.headers["content-type"] == "audio/wav" and heard.body()[:4] == b"RIFF"
    others = two.request.get(f"{url}/api/calls/{_call_id(live_app, first)}/recordings/0")
    assert others.status == 403  # lawyer1's call

    # Every attempt: when, outcome, who, notes, and how many.
    callbacks = two.inner_text("#tv-callbacks")
    assert "已尝试 2 次" in callbacks and "待回访" in callbacks
    assert re.search(r"第 1 次 · .+ · 无人接听 · 李律师", callbacks) and "响铃无人接" in callbacks
    assert re.search(r"第 2 次 · .+ · 占线 · 李律师", callbacks)
    assert "应回访日" in callbacks and "生成于" in callbacks
    # Labels, not codes, on the ticket view.
    view = two.inner_text("#ticket-view")
    assert "电话" in two.inner_text("#tv-channel") and not CODE.search(view), CODE.findall(view)
    screenshot(two, "console-ticket-recording-callbacks")

    # Station staff hear no recording: no player, and the endpoint refuses.
    station_ctx = _context(browser)
    county = station_ctx.new_page()
    county.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(county, url, "county")
    county.wait_for_url(f"{url}/station")
    refused = county.request.get(f"{url}{src}")
    assert refused.status == 403 and refused.headers["content-type"].startswith("application/json")

    # The supervisor's wallboard and the console's screens read labels: the IVR path by its menus.
    board_ctx = _context(browser)
    board = board_ctx.new_page()
    board.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(board, url, "supervisor")
    board.wait_for_url(f"{url}/dashboard")
    board.locator("#kpi-tiles .tile").first.wait_for(timeout=WAIT)
    tiles = board.inner_text("#kpi-tiles")
    assert "呼入" in tiles and "接通率" in tiles and "offered" not in tiles
    both = board.request.get(f"{url}/api/tickets/{code}")  # a supervisor may hear both calls
    assert both.status == 200 and {r["linkedid"] for r in both.json()["recordings"]} == {first, second}
    assert board.inner_text("#conn") in ("● 实时", "○ 重连中…", "○ 已断开", "○ 连接中…")
    # Every label with blanks had them filled: no {name} and no label code shown in its place.
    county.locator("#inbox").wait_for(timeout=WAIT)
    for page in (two, county, board):
        shown = page.inner_text("body")
        assert not re.search(r"\{\w+\}", shown), (page.url, re.findall(r"\{\w+\}", shown))
        assert not re.search(r"\b(console_page|dashboard_page|station_page|ticket_view)\b", shown), page.url
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown), (page.url, re.findall(r"\b[a-z]+_[a-z_]+\b", shown))
    assert errors == []
    for ctx in (two_ctx, station_ctx, board_ctx):
        ctx.close()


def _call_id(live_app: LiveApp, linkedid: str) -> int:
    with live_app.context.sessions() as session:
        found = session.scalar(select(Call.id).where(Call.linkedid == linkedid))
        assert found is not None
        return found
