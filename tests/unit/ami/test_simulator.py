"""The AMI simulator answers like the recorded Asterisk 22 and replays traces byte for byte."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from hotline.ami.frames import AmiMessage, Banner, FrameDecoder
from hotline.ami.simulator import BANNER, AmiSimulator, encode, load_trace
from tests.traces import AMI, needs_traces

TRACES = AMI


def run(scenario: Callable[[AmiSimulator, str, int], Awaitable[None]], **kwargs: object) -> None:
    async def main() -> None:
        simulator = AmiSimulator(**kwargs)  # type: ignore[arg-type]
        host, port = await simulator.start()
        try:
            await asyncio.wait_for(scenario(simulator, host, port), timeout=20)
        finally:
            for client in Client.opened:
                client.writer.close()
                with contextlib.suppress(ConnectionError):
                    await client.writer.wait_closed()
            Client.opened.clear()
            await simulator.close()

    asyncio.run(main())


class Client:
    opened: list[Client] = []

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        Client.opened.append(self)
        self.decoder = FrameDecoder()
        self.frames: list[object] = []

    @classmethod
    async def connect(cls, host: str, port: int) -> Client:
        return cls(*await asyncio.open_connection(host, port))

    async def send(self, *headers: tuple[str, str]) -> None:
        self.writer.write(encode(list(headers)))
        await self.writer.drain()

    async def next_message(self) -> AmiMessage:
        while True:
            for i, frame in enumerate(self.frames):
                if isinstance(frame, AmiMessage):
                    del self.frames[: i + 1]
                    return frame
            data = await self.reader.read(65536)
            if not data:
                raise ConnectionError("closed")
            self.frames.extend(self.decoder.feed(data))

    async def read_raw(self, size: int) -> bytes:
        return await self.reader.readexactly(size)

    async def login(self, secret: str = "hotline-secret", events: str = "on") -> AmiMessage:
        await self.send(
            ("Action", "Login"),
            ("ActionID", "login-1"),
            ("Username", "hotline"),
            ("Secret", secret),
            ("Events", events),
        )
        return await self.next_message()


def test_banner_and_login_like_asterisk() -> None:
    async def scenario(sim: AmiSimulator, host: str, port: int) -> None:
        client = await Client.connect(host, port)
        response = await client.login()
        assert isinstance(client.decoder, FrameDecoder)
        assert (response.name, response.get("ActionID"), response.get("Message")) == (
            "Success",
            "login-1",
            "Authentication accepted",
        )
        assert (await client.next_message()).name == "FullyBooted"
        await client.send(("Action", "Ping"), ("ActionID", "ping-2"))
        pong = await client.next_message()
        assert pong.get("Ping") == "Pong" and pong.get("ActionID") == "ping-2"
        await client.send(("Action", "NoSuchAction"), ("ActionID", "x-3"))
        unknown = await client.next_message()
        assert unknown.name == "Error" and unknown.get("Message", "").startswith(
            "Invalid/unknown command: NoSuchAction."
        )
        await client.send(("Action", "Logoff"), ("ActionID", "logoff-4"))
        assert (await client.next_message()).name == "Goodbye"
        assert await client.reader.read() == b""  # Asterisk closes the socket after Goodbye

    run(scenario)


def test_failed_login_is_refused_and_closed() -> None:
    async def scenario(sim: AmiSimulator, host: str, port: int) -> None:
        client = await Client.connect(host, port)
        response = await client.login(secret="wrong-secret")
        assert (response.name, response.get("Message")) == ("Error", "Authentication failed")
        assert await client.reader.read() == b""

    run(scenario)


def test_action_before_login_is_denied_and_the_connection_stays() -> None:
    async def scenario(sim: AmiSimulator, host: str, port: int) -> None:
        client = await Client.connect(host, port)
        await client.send(("Action", "Ping"), ("ActionID", "early"))
        denied = await client.next_message()
        assert (denied.name, denied.get("Message"), denied.get("ActionID")) == ("Error", "Permission denied", "early")
        assert (await client.login()).name == "Success"

    run(scenario)


def test_garbage_from_a_client_is_skipped() -> None:
    async def scenario(sim: AmiSimulator, host: str, port: int) -> None:
        client = await Client.connect(host, port)
        client.writer.write(b"\x00\xff garbage\r\n\r\nnot: an action\r\n\r\n")
        assert (await client.login()).name == "Success"

    run(scenario)


@needs_traces
def test_replay_is_byte_for_byte_the_recorded_events() -> None:
    trace = load_trace(TRACES / "02-call-answered.ami")
    expected = b"".join(m.raw for m in trace if m.kind == "event")

    async def scenario(sim: AmiSimulator, host: str, port: int) -> None:
        client = await Client.connect(host, port)
        assert await client.read_raw(len(BANNER)) == BANNER
        await client.send(("Action", "Login"), ("Username", "hotline"), ("Secret", "hotline-secret"))
        login = b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
        booted = b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n"
        assert await client.read_raw(len(login) + len(booted)) == login + booted
        quiet = await Client.connect(host, port)
        await quiet.login(events="off")
        sent = await sim.play(trace, speed=0)
        assert sent == sum(1 for m in trace if m.kind == "event")
        assert await client.read_raw(len(expected)) == expected
        await sim.drop_connections()
        assert await client.reader.read() == b""
        assert quiet.frames == [] and await quiet.reader.read() == b""  # Events: off received nothing

    run(scenario)


def test_client_frames_are_parsed_with_banner_first() -> None:
    frames = list(FrameDecoder().feed(BANNER + b"Response: Success\r\n\r\n"))
    assert isinstance(frames[0], Banner) and isinstance(frames[1], AmiMessage)
