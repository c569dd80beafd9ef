"""Inbound calls through the project's IVR on a real Asterisk: keys by RFC 2833 and SIP INFO, keys
pressed during the welcome prompt, every main-menu branch.

Prompt lengths are those of the espeak-ng placeholders (welcome ≈ 10 s, main menu ≈ 26 s): callers
key ahead, so no test waits for a long prompt to end."""

from __future__ import annotations

from tests.pbx.harness import HotlinePbx
from tests.pbx.sipp import WELCOME_KEY_MS, Caller, Key, Phone, SippRun

#: Long enough after the last key for "connecting" and the wait announcement to play out.
AFTER_EXIT_MS = 14_000


def ringing_member(pbx: HotlinePbx, *queues: str) -> None:
    """PJSIP/2004 on duty in `queues`, a phone that rings and is never answered (so the IVR sees a
    lawyer on duty and callers stay in the queue until they hang up)."""
    for queue in queues:
        pbx.asterisk.cli(f"queue add member PJSIP/2004 to {queue}")
    pbx.phone("2004", Phone(answer_after_ms=None, calls=50))


def hang_up_all(pbx: HotlinePbx, runs: list[SippRun]) -> None:
    """The callers' IVR sessions are over (they wait in their queues): hang them up from Asterisk's
    side rather than letting each wait out a fixed time."""
    pbx.asterisk.cli("channel request hangup all")
    for run in runs:
        run.check(30)


def path_of(session: object) -> list[tuple[str, str | None]]:
    return [(step["node"], step["key"]) for step in session.path]  # type: ignore[attr-defined]


def test_a_key_pressed_during_the_welcome_is_not_lost(pbx: HotlinePbx) -> None:
    """Defect 8: the welcome prompt was played with no escape digits, so keys pressed during it were
    lost and callers who knew the menu had to wait for it and for the language menu. One caller keys
    by RFC 2833, the other by SIP INFO."""
    ringing_member(pbx, "tibetan")
    numbers = {"rfc2833": "13900000008", "info": "13900000018"}
    runs = [
        pbx.call(Caller(keys=[Key("2", at_ms=WELCOME_KEY_MS, method=method)], hangup_after_ms=None, number=number))
        for method, number in numbers.items()
    ]
    sessions = [pbx.ivr_session(60, caller_number=number) for number in numbers.values()]
    hang_up_all(pbx, runs)
    for session in sessions:
        assert session.exit == "queue:tibetan"
        assert session.language == "bo"
        assert path_of(session)[:2] == [("welcome", None), ("language", "2")]
    # The welcome (10 s) was cut short by the key: the language menu was never played.
    assert "language-menu" not in pbx.asterisk.log_since_reset()


MAIN_MENU = [
    # keys after the language key "1", the queue, and the topic the IVR sets
    (["1", "1"], "family"),
    (["1", "2"], "labour"),
    (["1", "3"], "property"),
    (["1", "4"], "traffic"),
    (["1", "5"], "contract"),
    (["1", "6"], "criminal"),
    (["1", "7"], "consult"),
    (["2"], "legal-aid"),
    (["3"], "mediation"),
    (["4"], "notary"),
    (["5"], "complaint"),
    (["8", "1"], "labour"),
    (["0"], "zonghe"),
]


def test_every_main_menu_branch_reaches_its_queue(pbx: HotlinePbx) -> None:
    ringing_member(pbx, *{queue for _, queue in MAIN_MENU})
    batch = len(pbx.asterisk.ports.callers)
    for start in range(0, len(MAIN_MENU), batch):
        runs = []
        for index, (keys, _) in enumerate(MAIN_MENU[start : start + batch], start):
            # Language key during the welcome; the others interrupt their menus. Alternate the methods.
            method = "info" if index % 2 else "rfc2833"
            script = [Key("1", at_ms=WELCOME_KEY_MS, method=method)] + [Key(k, at_ms=1500, method=method) for k in keys]
            runs.append(pbx.call(Caller(keys=script, hangup_after_ms=None, number=f"1390000{index:04d}")))
        for index in range(start, start + len(runs)):
            pbx.ivr_session(60, caller_number=f"1390000{index:04d}")
        hang_up_all(pbx, runs)
    for index, (keys, queue) in enumerate(MAIN_MENU):
        session = pbx.ivr_session(caller_number=f"1390000{index:04d}")
        assert session.exit == f"queue:{queue}", (keys, session.path)
        assert [key for _, key in path_of(session)[1 : len(keys) + 2]] == ["1", *keys]
        if keys[0] == "8":
            assert "green:migrant_worker" in session.flags
            assert session.priority == 10
