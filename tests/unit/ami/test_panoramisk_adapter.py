"""panoramisk 1.4 through our adapter, against the AMI simulator on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from hotline.ami.panoramisk_adapter import AmiActionError, AmiClient, AmiConnectionLost, AmiTimeout
from hotline.ami.sim_queues import SimQueues
from hotline.ami.simulator import AmiSimulator

CANNED = {
    # As recorded in trace 05: QueueAdd's answer reads like the start of a list to panoramisk.
    "queueadd": [("Message", "Added interface to queue")],
    "originate": [("Message", "Originate successfully queued")],
}


def run(scenario: Callable[[AmiSimulator, AmiClient], Awaitable[None]], secret: str = "hotline-secret") -> None:
    async def main() -> None:
        simulator = AmiSimulator(canned=CANNED, handlers=[SimQueues(["legal-consult"])])
        host, port = await simulator.start()
        client = AmiClient(host, port, "hotline", secret)
        try:
            await asyncio.wait_for(scenario(simulator, client), timeout=20)
        finally:
            client.close()
            await simulator.close()
            await asyncio.sleep(0.05)  # let the transports finish closing

    asyncio.run(main())


def test_chinese_text_split_across_reads_survives() -> None:
    async def scenario(sim: AmiSimulator, client: AmiClient) -> None:
        received: list[str] = []
        client.on_event(lambda message: received.append(message.get("CallerIDName")))
        await client.connect()
        raw = "Event: Newchannel\r\nCallerIDName: 张三讨薪\r\nLinkedid: 1.1\r\n\r\n".encode()
        cut = raw.index("三".encode()) + 1  # inside the three bytes of 三
        await sim.send_event(raw[:cut])
        await asyncio.sleep(0.05)
        await sim.send_event(raw[cut:])
        for _ in range(100):
            if "张三讨薪" in received:
                break
            await asyncio.sleep(0.01)
        assert "张三讨薪" in received

    run(scenario)


def test_queue_add_resolves_instead_of_hanging() -> None:
    async def scenario(sim: AmiSimulator, client: AmiClient) -> None:
        await client.connect()
        response = await client.action("QueueAdd", Queue="legal-consult", Interface="PJSIP/1002", timeout=2)
        assert response.message == "Added interface to queue"

    run(scenario)


def test_originate_without_async_does_not_drop_the_connection() -> None:
    async def scenario(sim: AmiSimulator, client: AmiClient) -> None:
        await client.connect()
        response = await client.action("Originate", Channel="PJSIP/1002", Exten="13808081234", timeout=2)
        assert response.message == "Originate successfully queued"
        assert (await client.action("Ping", timeout=2)).ping == "Pong"  # still connected

    run(scenario)


def test_refusal_and_silence_become_clear_errors() -> None:
    async def scenario(sim: AmiSimulator, client: AmiClient) -> None:
        await client.connect()
        with pytest.raises(AmiActionError, match="Invalid/unknown command: NoSuchAction"):
            await client.action("NoSuchAction", timeout=2)
        sim.silent.add("slowaction")
        with pytest.raises(AmiTimeout, match=r"no answer within 0\.2 s"):
            await client.action("SlowAction", timeout=0.2)
        assert (await client.action("Ping", timeout=2)).ping == "Pong"  # a timeout does not end the session
        await sim.drop_connections()
        await asyncio.wait_for(client.lost.wait(), 2)
        with pytest.raises(AmiConnectionLost, match="not connected"):
            await client.action("Ping", timeout=2)

    run(scenario)


def test_wrong_secret_is_reported() -> None:
    async def scenario(sim: AmiSimulator, client: AmiClient) -> None:
        with pytest.raises(AmiActionError, match="Authentication failed"):
            await client.connect()

    run(scenario, secret="wrong-secret")
