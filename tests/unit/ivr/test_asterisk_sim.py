"""The simulated Asterisk answers exactly as the recorded Asterisk 22 did: each recorded FastAGI
session's commands, replayed against it, get the recorded bytes back (agi_* block, responses,
HANGUP lines); only the wording inside a 520 usage block is the simulator's own."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ivr.asterisk_sim import HangUp, Press, SimulatedCall, encode_env, make_env, split_args
from ivr.protocol import format_command
from tests.traces import AGI_TRACES

pytestmark = pytest.mark.skipif(AGI_TRACES is None, reason="recorded traces (shared/fixtures/asterisk-22) not found")


def recorded(name: str) -> tuple[bytes, list[str], dict[str, str]]:
    assert AGI_TRACES is not None
    base = AGI_TRACES / name
    index = [json.loads(line) for line in Path(f"{base}.agi.jsonl").read_text().splitlines()]
    env = next(entry["env"] for entry in index if entry["kind"] == "env")
    commands = Path(f"{base}.agi-sent").read_bytes().decode().splitlines()
    return Path(f"{base}.agi").read_bytes(), commands, env


def env_like(env: dict[str, str]) -> list[tuple[str, str]]:
    return make_env(
        uniqueid=env["agi_uniqueid"],
        callerid=env["agi_callerid"],
        channel=env["agi_channel"],
        threadid=env["agi_threadid"],
    )


async def replay(call: SimulatedCall, commands: list[str]) -> None:
    """Play the recorded server: send each recorded command once the previous answer is in."""

    async def server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()).strip():
            pass
        for command in commands:
            writer.write(command.encode() + b"\n")
            await writer.drain()
            line = await reader.readline()
            while line in (b"HANGUP\n",) or line.startswith(b"520-") or (line and not line[:3].isdigit()):
                line = await reader.readline()
        writer.write_eof()
        while await reader.read(1024):
            pass
        writer.close()

    listening = await asyncio.start_server(server, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        await call.run("127.0.0.1", port, timeout=10)


def strip_usage(data: bytes) -> bytes:
    """Drop the usage text between `520-` and `520 ` (Asterisk's wording, not protocol)."""
    lines = data.split(b"\n")
    out, inside = [], False
    for line in lines:
        if line.startswith(b"520-"):
            inside = True
            out.append(line)
        elif inside and line.startswith(b"520 "):
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    return b"\n".join(out)


SCENARIOS = {
    # answered: ANSWER, STREAM FILE beep, SET VARIABLE; the trailing HANGUP only.
    "02-call-answered": {},
    # no commands at all.
    "03-call-abandoned-no-commands": {},
    # '1' 1.64 s into demo-congrats, then 2-3-4 for GET DATA, then silence; 510 and 520 along the way.
    "10-agi-ivr-full": {"actions": [Press("1", 1.64), Press("234"), Press("")]},
    # the caller hangs up 2 s into STREAM FILE: result=-1, HANGUP, then 511 for media commands only.
    "11-agi-hangup-mid-command": {"actions": [HangUp(2.0)]},
    # the caller hangs up after ANSWER while the server sends nothing.
    "11b-agi-hangup-while-idle": {"hangup_after_response": 0},
    # the caller is gone just after the agi_* block.
    "12b-agi-hangup-immediate": {"hangup_after_response": -1},
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_simulator_answers_the_recorded_commands_byte_for_byte(name: str) -> None:
    data, commands, env = recorded(name)
    call = SimulatedCall(env_like(env), **SCENARIOS[name])  # type: ignore[arg-type]
    asyncio.run(replay(call, commands))
    assert strip_usage(bytes(call.sent)) == strip_usage(data)
    assert call.commands == commands


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_agi_block_is_the_recorded_one(name: str) -> None:
    data, _, env = recorded(name)
    block = encode_env(env_like(env))
    assert data.startswith(block)
    assert block.count(b"\n") == 23  # 22 variables and the empty line


def test_arguments_are_split_as_asterisk_does() -> None:
    assert split_args(' demo-congrats "0123456789*#"') == ["demo-congrats", "0123456789*#"]
    assert split_args(' beep ""') == ["beep", ""]
    assert split_args(' "${CALLERID(num)} ${CHANNEL}"') == ["${CALLERID(num)} ${CHANNEL}"]
    assert split_args(format_command("X", 'say "hi" \\ there', "")[1:]) == ['say "hi" \\ there', ""]
