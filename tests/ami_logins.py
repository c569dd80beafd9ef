"""Logins one after another, for the login-race tests (issue 11, defect 1) on the simulator and Asterisk."""

from __future__ import annotations

import asyncio

from hotline.ami.panoramisk_adapter import AmiActionError, AmiClient


async def failed_logins(host: str, port: int, username: str, secret: str, count: int) -> list[str]:
    """Connect and log in `count` times, with other work keeping the loop busy (as the API and the
    IVR do in the bridge's process); the reasons of the logins reported as failed."""

    async def other_work() -> None:
        while True:
            await asyncio.sleep(0)

    chores = asyncio.create_task(other_work())
    failures = []
    try:
        for _ in range(count):
            client = AmiClient(host, port, username, secret)
            try:
                await client.connect(timeout=5)
            except AmiActionError as exc:
                failures.append(exc.message)
            finally:
                client.close()
    finally:
        chores.cancel()
    return failures
