"""The AGI wire format: every response Asterisk 22 gave in the recordings reads correctly, commands are
quoted the way Asterisk parses them, and the channel notices hang-ups however they arrive."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.asterisk_sim import HangUp, Press, SimulatedCall, make_env, split_args
from ivr.channel import AgiChannel, AgiCommandError, CallerHungUp
from ivr.protocol import AgiProtocolError, format_command, parse_env_line, parse_response, quote
from ivr.server import read_env
from tests.traces import AGI_TRACES, needs_traces


def test_recorded_responses_parse() -> None:
    assert parse_response("200 result=0") == parse_response("200 result=0")
    interrupted = parse_response("200 result=49 endpos=13120")
    assert interrupted.result_int == 49 and interrupted.extra == {"endpos": "13120"}
    timeout = parse_response("200 result= (timeout)")
    assert timeout.result == "" and timeout.data == "timeout"
    full = parse_response("200 result=1 (5550100 PJSIP/sipp-in-00000079)")
    assert full.data == "5550100 PJSIP/sipp-in-00000079"
    hung = parse_response("200 result=-1 endpos=16000")
    assert hung.result == "-1" and hung.extra["endpos"] == "16000"
    record = parse_response("200 result=-1 (hangup) endpos=40000")
    assert record.data == "hangup" and record.extra == {"endpos": "40000"}
    assert parse_response("511 Command Not Permitted on a dead channel or intercept routine").code == 511
    usage = parse_response("520-Invalid command syntax.  Proper usage follows:\nUsage\n520 End of proper usage.")
    assert usage.code == 520 and not usage.ok
    with pytest.raises(AgiProtocolError):
        parse_response("garbage")
    with pytest.raises(AgiProtocolError):
        parse_response("200 nonsense")


@needs_traces
def test_every_recorded_line_reads() -> None:
    assert AGI_TRACES is not None
    seen = 0
    for index_file in sorted(AGI_TRACES.glob("*.agi.jsonl")):
        for line in index_file.read_text().splitlines():
            entry = json.loads(line)
            if entry["dir"] == "in" and entry["kind"] == "response":
                parse_response(entry["text"])
                seen += 1
            elif entry["kind"] == "env":
                keys = [parse_env_line(text)[0] for text in entry["text"].splitlines() if text]
                assert keys == list(entry["env"])
    assert seen == 17 + 11 + 4 + 4 + 3  # sessions 10, 11, 11b, 12b, 02


def test_env_lines() -> None:
    assert parse_env_line("agi_accountcode: ") == ("agi_accountcode", "")
    assert parse_env_line("agi_callerid: 5550100") == ("agi_callerid", "5550100")
    for bad in ("HELLO", "agi x: y", "callerid: 1"):
        with pytest.raises(AgiProtocolError):
            parse_env_line(bad)


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",))), max_size=4))
def test_quoted_arguments_come_back_as_sent(arguments: list[str]) -> None:
    assert split_args(format_command("VERB", *arguments)[len("VERB") :]) == arguments


def test_line_breaks_cannot_be_sent() -> None:
    with pytest.raises(ValueError, match="line break"):
        quote("two\nlines")


def drive(call: SimulatedCall, script) -> list[object]:  # type: ignore[no-untyped-def]
    """Run `script(channel)` as a server against the simulated Asterisk; returns what it collected."""
    results: list[object] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = AgiChannel(reader, writer, await read_env(reader))
        try:
            await script(channel, results)
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        async with server:
            await call.run("127.0.0.1", server.sockets[0].getsockname()[1], timeout=10)

    asyncio.run(main())
    return results


def a_call(**kwargs: object) -> SimulatedCall:
    return SimulatedCall(make_env(uniqueid="1795449077.121", callerid="13808081234"), **kwargs)  # type: ignore[arg-type]


def test_channel_reads_keys_timeouts_and_variables() -> None:
    async def script(channel: AgiChannel, out: list[object]) -> None:
        await channel.answer()
        out.append(await channel.stream_file("demo-congrats", "0123456789*#"))
        out.append(await channel.get_data("beep", 6000, 3))
        out.append(await channel.get_data("beep", 2000, 3))
        await channel.set_variable("HOTLINE_LANG", "zh")
        out.append(await channel.get_variable("HOTLINE_LANG"))
        out.append(await channel.get_variable("NO_SUCH_VARIABLE"))

    out = drive(a_call(actions=[Press("1"), Press("234")]), script)
    assert out[0] == "1"
    assert (out[1].digits, out[1].timed_out) == ("234", False)  # type: ignore[attr-defined]
    assert (out[2].digits, out[2].timed_out) == ("", True)  # type: ignore[attr-defined]
    assert out[3:] == ["zh", None]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"actions": [HangUp()]},  # during the prompt: result=-1, then HANGUP
        {"hangup_after_response": 0},  # between commands: HANGUP, then 511
        {"hangup_after_response": -1},  # right after the agi_* block
    ],
)
def test_channel_notices_every_kind_of_hangup(kwargs: dict[str, object]) -> None:
    async def script(channel: AgiChannel, out: list[object]) -> None:
        try:
            await channel.answer()
            await channel.stream_file("welcome")
            await channel.get_data("menu", 5000, 1)
        except CallerHungUp:
            out.append("hung up")
        # Variables still work on a dead channel, as recorded in trace 11.
        await channel.set_variable("HOTLINE_STEP", "after")
        out.append(await channel.get_variable("HOTLINE_STEP"))

    assert drive(a_call(**kwargs), script) == ["hung up", "after"]


def test_refused_commands_are_errors_not_hangups() -> None:
    async def script(channel: AgiChannel, out: list[object]) -> None:
        for words in (("NO SUCH COMMAND",), ("GET DATA",)):
            try:
                await channel.command(*words)
            except AgiCommandError as exc:
                out.append(exc.response.code)
        out.append(channel.hung_up)

    assert drive(a_call(), script) == [510, 520, False]
