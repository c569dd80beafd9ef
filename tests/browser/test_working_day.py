"""A whole working day in the consoles, in a real browser against the running app and the simulated PBX.

The admin lifts a lawyer's sign-in lock and resets the password; two lawyers take calls at the same
time; a second call rings while the first call's ticket is still being written and does not wipe
it (the draft is kept on the server across a reload); a walk-in ticket flagged 危机 raises an alert
that a named supervisor acknowledges; a ticket the router cannot place is decided in the triage
list; a station returns a ticket, the lawyer forwards it again; the station calls the citizen
through the bridge without seeing the number. Each step asserts what the screen shows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from storage.tables import AccountAudit, Ticket, TicketEvent
from tests.browser.conftest import PASSWORDS, LiveApp, screenshot, sign_in

WAIT = 15_000
FIRST, SECOND, THIRD = "13700001111", "13700002222", "13700003333"


def _context(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")


def _call(page: Any, url: str, number: str, interface: str, talk_s: float, queue: str = "consult") -> str:
    placed = page.request.post(
        f"{url}/api/demo/calls",
        headers={"Origin": url},  # as the page's own fetch sends it
        data={"caller_number": number, "queue": queue, "wait_s": 2, "talk_s": talk_s, "interface": interface,
              "ivr_path": [{"node": "main", "key": "1"}, {"node": "consult-topics", "key": "2"}]},
    )  # fmt: skip
    assert placed.status == 202, placed.text()
    assert placed.json()["answered_by"] == interface
    return str(placed.json()["linkedid"])


def test_a_working_day(browser: Any, live_app: LiveApp) -> None:
    url = live_app.url
    errors: list[str] = []

    def watch(page: Any) -> Any:
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    # --- Morning: lawyer2 mistyped the password too often; the admin unlocks and resets it.
    admin_ctx = _context(browser)
    admin = watch(admin_ctx.new_page())
    for _ in range(11):
        admin.request.post(
            f"{url}/api/auth/login", data={"username": "lawyer2", "password": "wrong-guess"}, headers={"Origin": url}
        )
    sign_in(admin, url, "admin")
    admin.wait_for_url(f"{url}/dashboard")
    admin.locator("#nav-admin").click()
    admin.wait_for_url(f"{url}/admin")
    row = admin.locator("#users tr[data-username=lawyer2]")
    row.filter(has_text="登录已锁定").wait_for(timeout=WAIT)
    assert "值班律师" in row.locator("select[aria-label=角色] option:checked").inner_text()
    screenshot(admin, "admin-locked")
    row.locator("button[data-action=unlock]").click()
    admin.locator("#account-audit", has_text="解除锁定").wait_for(timeout=WAIT)
    assert "登录已锁定" not in admin.locator("#users tr[data-username=lawyer2]").inner_text()
    admin.locator("#users tr[data-username=lawyer2] button[data-action=reset]").click()
    shown = admin.locator("#new-password")
    shown.wait_for(state="visible", timeout=WAIT)
    new_password = shown.get_attribute("data-password")
    assert new_password and new_password in shown.inner_text()
    admin.locator("#account-audit", has_text="重置密码").wait_for(timeout=WAIT)
    screenshot(admin, "admin")
    with live_app.context.sessions() as session:
        actions = session.scalars(select(AccountAudit.action).order_by(AccountAudit.id)).all()
        assert actions == ["user_unlock", "password_reset"]

    # --- Both lawyers sign in (lawyer2 with the new password) and are on duty.
    one_ctx, two_ctx = _context(browser), _context(browser)
    one = watch(one_ctx.new_page())
    sign_in(one, url, "lawyer1")
    one.wait_for_url(f"{url}/console")
    two = watch(two_ctx.new_page())
    two.goto(f"{url}/login")
    two.fill("#username", "lawyer2")
    two.fill("#password", new_password)
    two.click("#login-submit")
    two.wait_for_url(f"{url}/console")
    for page in (one, two):
        page.locator("#duty-state[data-state=available]").wait_for(timeout=WAIT)
        assert page.inner_text("#duty-state") == "空闲"

    board_ctx = _context(browser)
    board = watch(board_ctx.new_page())
    sign_in(board, url, "supervisor")
    board.wait_for_url(f"{url}/dashboard")

    # --- Two lawyers, two calls at once.
    first = _call(board, url, FIRST, "PJSIP/1001", talk_s=4)
    third = _call(board, url, THIRD, "PJSIP/1002", talk_s=4)
    one.locator("#pop-number", has_text=FIRST).wait_for(timeout=WAIT)
    two.locator("#pop-number", has_text=THIRD).wait_for(timeout=WAIT)
    assert "主菜单：按1" in one.inner_text("#pop-ivr") and "按" in one.inner_text("#pop-ivr")
    draft_text = "老板拖欠三个月工资，二十多个工人一起来问怎么办"
    one.fill("#f-description", draft_text)
    two.fill("#f-description", "咨询离婚财产分割")
    two.fill("#f-result", "已当场解答：协议离婚可自行约定财产分割")
    one.locator("#call-state[data-state=ended]").wait_for(timeout=WAIT)
    assert one.inner_text("#call-state").startswith("通话结束")

    # --- A second call rings lawyer1 during wrap-up: the unsaved ticket stays on screen.
    second = _call(board, url, SECOND, "PJSIP/1001", talk_s=60)
    one.locator(f"#drafts button[data-key='{second}']").wait_for(timeout=WAIT)
    assert one.input_value("#f-description") == draft_text
    assert one.input_value("#f-number") == FIRST
    assert one.locator("#drafts button").count() == 2
    screenshot(one, "console-two-drafts")
    one.locator(f"#drafts button[data-key='{second}']").click()
    one.locator("#pop-number", has_text=SECOND).wait_for(timeout=WAIT)
    assert one.input_value("#f-description") == "" and one.input_value("#f-number") == SECOND
    one.fill("#f-description", "第二位来电人咨询劳动合同")
    one.locator(f"#drafts button[data-key='{first}']").click()
    one.locator("#pop-number", has_text=FIRST).wait_for(timeout=WAIT)
    assert one.input_value("#f-description") == draft_text
    # The drafts are on the server: a reload (or another browser) keeps both.
    one.locator("#draft-state", has_text="草稿已保存").wait_for(timeout=WAIT)
    one.reload()
    one.locator(f"#drafts button[data-key='{first}']").wait_for(timeout=WAIT)
    one.locator(f"#drafts button[data-key='{first}']").click()
    one.locator("#pop-number", has_text=FIRST).wait_for(timeout=WAIT)
    assert one.input_value("#f-description") == draft_text
    station = one.locator("#f-station option", has_text="乐至县公共法律服务中心").first.get_attribute("value")
    one.select_option("#f-station", station)
    one.click("#btn-forward")
    one.locator(f"#drafts button[data-key='{first}']").wait_for(state="detached", timeout=WAIT)
    one.locator("#pop-number", has_text=SECOND).wait_for(timeout=WAIT)  # the other call's form is next
    assert one.input_value("#f-description") == "第二位来电人咨询劳动合同"

    two.locator("#call-state[data-state=ended]").wait_for(timeout=WAIT)
    two.click("#btn-resolve")
    two.locator("#call-view").wait_for(state="hidden", timeout=WAIT)

    with live_app.context.sessions() as session:
        forwarded = session.scalars(select(Ticket).where(Ticket.caller_number == FIRST)).one()
        assert forwarded.status == "forwarded" and forwarded.description == draft_text
        assert session.scalar(select(Ticket.status).where(Ticket.caller_number == THIRD)) == "closed"
        code = forwarded.code
    assert third and first

    # --- A walk-in (来访) ticket marked 危机: the supervisor's dashboard alerts; acknowledged by name.
    two.click("#btn-new-ticket")
    assert two.is_visible("#f-channel") and two.input_value("#f-channel") == "walk_in"
    two.fill("#f-description", "来访群众情绪激动，称要轻生")
    two.check("#f-flags input[value=crisis]")
    two.fill("#f-result", "已安抚并联系家属，告知心理援助热线")
    two.click("#btn-resolve")
    two.locator("#call-view").wait_for(state="hidden", timeout=WAIT)
    banner = board.locator("#alerts .alert-row")
    banner.wait_for(timeout=25_000)  # the feed announces it through the job worker; the page also polls
    assert "危机预警" in banner.inner_text()
    screenshot(board, "dashboard-crisis-alert")
    crisis = banner.get_attribute("data-code")
    banner.locator("input").fill("已联系家属")
    banner.locator("button.ack").click()
    board.locator("#alerts").wait_for(state="hidden", timeout=WAIT)
    with live_app.context.sessions() as session:
        ack = session.scalars(
            select(TicketEvent).join(Ticket).where(Ticket.code == crisis, TicketEvent.action == "alert_ack")
        ).one()
        assert ack.actor is not None and ack.actor.display_name == "王班长" and ack.note == "已联系家属"
        assert session.scalar(select(Ticket.channel).where(Ticket.code == crisis)) == "walk_in"

    # --- Triage: a letter the router cannot place gets a category and a station in two clicks.
    letter = one.request.post(
        f"{url}/api/tickets", data={"description": "来信反映一件事情", "channel": "letter"}, headers={"Origin": url}
    )
    assert letter.status == 201, letter.text()
    letter_code = letter.json()["code"]
    board.click("#btn-refresh-triage")
    triage_row = board.locator("#triage tr", has_text=letter_code)
    triage_row.wait_for(timeout=WAIT)
    assert "未分类" in triage_row.inner_text()
    triage_row.locator("select[aria-label=类别]").select_option("劳动争议")
    triage_row.locator("select[aria-label=工作站]").select_option(label="　　乐至县公共法律服务中心")
    screenshot(board, "dashboard-triage")
    triage_row.locator(f"button[data-code='{letter_code}']").click()
    triage_row.wait_for(state="detached", timeout=WAIT)
    with live_app.context.sessions() as session:
        decided = session.scalars(select(Ticket).where(Ticket.code == letter_code)).one()
        assert (decided.category, decided.status) == ("劳动争议", "forwarded")

    # --- The station returns the first ticket; the lawyer forwards it again from 我的工单.
    station_ctx = _context(browser)
    county = watch(station_ctx.new_page())
    sign_in(county, url, "county")
    county.wait_for_url(f"{url}/station")
    county.locator("#sim-badge").wait_for(state="visible", timeout=WAIT)
    county.get_by_role("link", name=code).click()
    county.locator("#d-code", has_text=code).wait_for(timeout=WAIT)
    county.fill("#d-note", "当事人住在成都，不属本中心辖区")
    county.click("#d-actions button[data-action=returned]")
    county.locator("#detail-empty").wait_for(state="visible", timeout=WAIT)

    one.click(".tabs button[data-tab=tickets]")
    one.fill("#ticket-q", FIRST)
    one.click("#ticket-search button[type=submit]")
    one.get_by_role("link", name=code).click()
    one.locator("#tv-status", has_text="已退回").wait_for(timeout=WAIT)
    assert "当事人住在成都" in one.inner_text("#tv-actions")
    offered = one.locator("#tv-actions button[data-action]").evaluate_all("bs => bs.map(b => b.dataset.action)")
    assert set(offered) == {"forwarded", "closed"}  # not the station's 已接收
    assert "退回" in one.inner_text("#tv-history") and "乐至县中心 陈主任" in one.inner_text("#tv-history")
    screenshot(one, "console-ticket-returned")
    one.locator("#tv-actions select").select_option(label="　　乐至县公共法律服务中心")
    one.locator("#tv-actions button[data-action=forwarded]").click()
    one.locator("#tv-status", has_text="已转办").wait_for(timeout=WAIT)

    # --- The station calls the citizen through the bridge; the number is never on its screen.
    county.reload()
    county.get_by_role("link", name=code).click()
    county.locator("#d-code", has_text=code).wait_for(timeout=WAIT)
    assert FIRST not in county.inner_text("#detail-body") and "137****1111" in county.inner_text("#d-caller")
    county.click("#btn-dial")
    county.locator("#dial-state", has_text="正在呼叫").wait_for(timeout=WAIT)
    county.locator("#d-history", has_text="拨打来电人").wait_for(timeout=WAIT)
    assert "陈主任" in county.locator("#d-history li", has_text="拨打来电人").inner_text()
    assert FIRST not in county.content()
    screenshot(county, "station-dial")
    county.select_option("#list-kind", "done")
    county.locator("#inbox", has_text="暂无已办结工单").wait_for(timeout=WAIT)

    # --- An outage is shown as one, with what is stale and since when (from /api/health).
    down = {"status": "degraded", "database": {"ok": True}, "redis": {"ok": False, "error": "connection refused"},
            "bridge": {"running": True, "connected": False}}  # fmt: skip
    board.route("**/api/health", lambda route: route.fulfill(status=503, json=down))
    board.evaluate("window.hotlineCheckHealth()")
    assert board.locator("#outage").is_hidden()  # one look is not yet an outage
    board.evaluate("window.hotlineCheckHealth()")
    outage = board.locator("#outage")
    outage.wait_for(state="visible", timeout=WAIT)
    assert "实时状态服务（Redis）中断" in outage.inner_text() and "首次发现于" in outage.inner_text()
    assert "断开" in outage.inner_text()
    screenshot(board, "dashboard-outage")
    board.unroute("**/api/health")
    board.evaluate("window.hotlineCheckHealth()")
    outage.wait_for(state="hidden", timeout=WAIT)

    assert errors == []
    for ctx in (admin_ctx, one_ctx, two_ctx, board_ctx, station_ctx):
        ctx.close()
    assert PASSWORDS["lawyer2"] != new_password
