"""panoramisk 1.4 through our adapter, against the AMI simulator on loopback."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable

import pytest

from hotline.ami.panoramisk_adapter import AmiActionError, AmiClient, AmiConnectionLost, AmiTimeout
from hotline.ami.sim_queues import SimQueues
from hotline.ami.simulator import AmiSimulator
from tests.ami_logins import failed_logins

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


#: The simulator in a process of its own, as Asterisk is: it answers Login while the client's loop
#: is still busy with the callbacks that sent it.
_SIMULATOR_PROCESS = """
import asyncio
from hotline.ami.simulator import AmiSimulator
from tests.ami_logins import failed_logins

async def main():
    host, port = await AmiSimulator().start()
    print(port, flush=True)
    await asyncio.sleep(600)

asyncio.run(main())
"""


def test_login_is_never_lost_to_a_prompt_asterisk_under_uvloop() -> None:
    """Issue 11, defect 1. Under uvloop (what uvicorn runs), with other work on the loop, Asterisk's
    Login answer can be read before the task that sent Login runs again: panoramisk's own login
    callback then resolved and cleared the future first, and the adapter reported "failed before
    Login was sent" for a login Asterisk had accepted (about 6 connects in 10 here)."""
    import uvloop

    server = subprocess.Popen([sys.executable, "-c", _SIMULATOR_PROCESS], stdout=subprocess.PIPE, text=True)

    assert server.stdout is not None
    with server, server.stdout:
        try:
            port = int(server.stdout.readline())
            assert uvloop.run(failed_logins("127.0.0.1", port, "hotline", "hotline-secret", 30)) == []
        finally:
            server.kill()


def test_a_failed_connect_leaves_nothing_retrying_behind() -> None:
    """Issue 11, defect 2: a refused connect used to leave panoramisk retrying every 2 s on its own;
    when Asterisk came back, each such leftover logged in as a session of its own."""

    async def main() -> None:
        simulator = AmiSimulator()
        host, port = await simulator.start()
        await simulator.close()  # Asterisk down: nobody listening on the port
        for _ in range(3):
            client = AmiClient(host, port, "hotline", "hotline-secret")
            with pytest.raises(OSError):
                await client.connect(timeout=2)
            client.close()
        await simulator.start(host, port)  # Asterisk back
        try:
            await asyncio.sleep(2.5)  # longer than panoramisk's own retry interval (2 s)
            logins = [m for m in simulator.received if (m.get("Action") or "").lower() == "login"]
            assert logins == [] and simulator.logged_in_clients == 0
        finally:
            await simulator.close()

    asyncio.run(main())
