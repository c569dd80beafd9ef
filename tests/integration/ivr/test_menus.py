"""Menu paths over a real FastAGI connection: each choice reaches its queue with the channel variables
the dialplan and the bridge read; timeouts, wrong keys and retries behave per node; every path is
recorded in ivr_sessions."""

from __future__ import annotations

import json

import pytest

from ivr.asterisk_sim import Press, SimulatedCall, Speak, encode_env
from tests.integration.ivr.conftest import CALLER, Ivr, call, played
from tests.traces import AGI_TRACES, needs_traces

MAIN = {"2": "legal-aid", "3": "mediation", "4": "notary", "5": "complaint", "0": "zonghe"}
TOPICS = {"1": "family", "2": "labour", "3": "property", "4": "traffic", "5": "contract", "6": "criminal"}


def test_every_main_menu_and_topic_choice_reaches_its_queue(ivr: Ivr) -> None:
    main_calls = {queue: call("1", key) for key, queue in MAIN.items()}
    topic_calls = {queue: call("1", "1", key) for key, queue in TOPICS.items()}
    other = call("1", "1", "7")
    ivr.run(*main_calls.values(), *topic_calls.values(), other)
    for queue, simulated in {**main_calls, **topic_calls, "consult": other}.items():
        variables = simulated.variables
        assert variables["HOTLINE_ROUTE"] == "queue" and variables["HOTLINE_QUEUE"] == queue
        assert variables["HOTLINE_LANG"] == "zh" and variables["HOTLINE_PRIORITY"] == "0"
        assert "HOTLINE_CLOSED" not in variables and "HOTLINE_BLOCKED" not in variables
        assert ivr.session(simulated).exit == f"queue:{queue}"
    assert topic_calls["labour"].variables["HOTLINE_TOPIC"] == "劳动争议"
    row = ivr.session(topic_calls["labour"])
    assert [(step["node"], step["key"]) for step in row.path] == [
        ("welcome", None),
        ("language", "1"),
        ("main", "1"),
        ("consult-topics", "2"),
        ("labour", None),
    ]
    assert all(step["seconds"] >= 0 for step in row.path)
    assert row.caller_number == CALLER and row.language == "zh" and row.ended_at >= row.started_at


def test_tibetan_callers_go_to_the_tibetan_queue(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("2"))
    assert simulated.variables["HOTLINE_LANG"] == "bo" and simulated.variables["HOTLINE_QUEUE"] == "tibetan"
    assert ivr.session(simulated).language == "bo"


def test_silence_at_the_language_menu_means_mandarin(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("", "5"))
    assert simulated.variables["HOTLINE_LANG"] == "zh" and simulated.variables["HOTLINE_QUEUE"] == "complaint"


def test_a_wrong_key_is_retried_with_the_invalid_prompt(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "7", "3"))
    assert simulated.variables["HOTLINE_QUEUE"] == "mediation"
    # The "1" comes half a second into the welcome, which it stops: it answers the language menu ahead.
    assert played(simulated)[:5] == ["welcome", "main-menu", "invalid", "main-menu", "connecting"]
    assert [step["key"] for step in ivr.session(simulated).path if step["node"] == "main"] == ["7", "3"]


def test_retries_exhausted_go_to_the_default_destination(ivr: Ivr) -> None:
    silent, wrong = ivr.run(call("1", "", "", ""), call("1", "1", "8", "8", "#"))
    assert silent.variables["HOTLINE_QUEUE"] == "zonghe"  # main menu: on_exhausted operator
    assert played(silent).count("timeout") == 2 and played(silent).count("main-menu") == 3
    assert wrong.variables["HOTLINE_QUEUE"] == "consult"  # topic menu: on_exhausted consult-other
    assert played(wrong).count("invalid") == 2
    assert [step["key"] for step in ivr.session(wrong).path if step["node"] == "consult-topics"] == ["8", "8", ""]


def test_repeat_key_replays_the_menu_without_using_a_retry(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "9", "9", "", "", "2"))
    assert simulated.variables["HOTLINE_QUEUE"] == "legal-aid"
    assert played(simulated).count("main-menu") == 5


def test_back_from_the_topic_menu(ivr: Ivr) -> None:
    [simulated] = ivr.run(call("1", "1", "0", "4"))
    assert simulated.variables["HOTLINE_QUEUE"] == "notary"


def test_green_channel_by_menu_choice(ivr: Ivr) -> None:
    migrant, elderly = ivr.run(call("1", "8", "1"), call("1", "8", "2", "3"))
    assert migrant.variables["HOTLINE_QUEUE"] == "labour" and migrant.variables["HOTLINE_GREEN"] == "migrant_worker"
    assert migrant.variables["HOTLINE_PRIORITY"] == "10" and "priority" in played(migrant)
    assert elderly.variables["HOTLINE_QUEUE"] == "mediation" and elderly.variables["HOTLINE_GREEN"] == "elderly"
    assert "green:elderly" in ivr.session(elderly).flags


@pytest.mark.parametrize("callerid", ["", "anonymous", "unknown"])
def test_withheld_numbers_are_served(ivr: Ivr, callerid: str) -> None:
    [simulated] = ivr.run(call("1", "2", callerid=callerid))
    assert simulated.variables["HOTLINE_QUEUE"] == "legal-aid"
    assert ivr.session(simulated).caller_number is None


def test_exit_nodes_of_every_kind(ivr: Ivr) -> None:
    nodes = ivr.config().model_dump()["nodes"]
    nodes["main"]["options"].update({"6": "ask-callback", "7": "message", "*": "transfer"})
    nodes["green-channel"]["options"]["9"] = "bye"
    nodes.update(
        {
            "ask-callback": {"type": "callback", "queue": "consult"},
            "message": {"type": "voicemail", "queue": "family", "topic": "婚姻家庭", "prompt": "welcome"},
            "transfer": {"type": "overflow", "number": "02812348"},
            "bye": {"type": "hangup"},
        }
    )
    config = ivr.config(nodes=nodes)
    callback, message, transfer, bye = ivr.run(
        call("1", "6", "1"),
        call("1", "7", Speak(3.0), callerid="13900004444"),
        call("1", "*", callerid="13900005555"),
        call("1", "8", "9", callerid="13900006666"),
        config=config,
    )
    assert ivr.session(callback).exit == "callback" and "callback-done" in played(callback)
    assert ivr.session(message).exit == "voicemail" and ivr.session(message).ticket_code
    assert transfer.variables["HOTLINE_ROUTE"] == "overflow" and transfer.variables["HOTLINE_OVERFLOW"] == "02812348"
    assert "HOTLINE_CLOSED" not in transfer.variables
    assert bye.variables["HOTLINE_ROUTE"] == "hangup" and played(bye)[-1] == "goodbye"
    assert ivr.session(bye).exit == "hangup" and "ivr-ended" in ivr.session(bye).flags


@needs_traces
def test_recorded_agi_blocks_are_served(ivr: Ivr) -> None:
    """The exact agi_* blocks Asterisk 22 sent in the recordings (caller ID 5550100, no area code)."""
    assert AGI_TRACES is not None
    calls = []
    for index in sorted(AGI_TRACES.glob("*.agi.jsonl")):
        entry = json.loads(index.read_text().splitlines()[0])
        env = entry["env"]
        assert (
            encode_env(list(env.items()))
            == (index.parent / index.name.replace(".jsonl", "")).read_bytes()[: entry["length"]]
        )
        calls.append(SimulatedCall(list(env.items()), actions=["1", "2"]))
    ivr.run(*calls, between=lambda: None)
    for simulated in calls:
        assert simulated.variables["HOTLINE_QUEUE"] == "legal-aid"
        assert ivr.session(simulated).caller_number == "5550100"


def test_a_key_pressed_during_the_welcome_answers_the_next_menu_without_its_prompt(ivr: Ivr) -> None:
    [simulated] = ivr.run(call(Press("2", after_s=1.0)))
    assert simulated.commands[1].startswith("STREAM FILE ") and simulated.commands[1].endswith(" 0123456789*#")
    assert played(simulated)[:2] == ["welcome", "connecting"]
    assert simulated.variables["HOTLINE_LANG"] == "bo" and simulated.variables["HOTLINE_QUEUE"] == "tibetan"
    assert [(step["node"], step["key"]) for step in ivr.session(simulated).path][:2] == [
        ("welcome", None),
        ("language", "2"),
    ]
