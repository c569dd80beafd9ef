"""Starts the bridge for a process: against the configured Asterisk, or in demo mode on the simulator.

`hotline bridge` runs this alone (one per Asterisk node); `hotline serve` runs it inside the API
process for a one-machine install. In demo mode (no HOTLINE_AMI_HOST) the PBX is the built-in
simulator with simulated callers, and every console says so: the live state carries
`source = simulator`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

import redis.asyncio as aioredis
from sqlalchemy import select

from hotline.ami.sim_calls import Member
from hotline.ami.sim_traffic import DemoTraffic
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge.service import Bridge, BridgeOptions
from hotline.errors import ConfigError
from ticketing.domain.roles import Role
from ticketing.orm import User

logger = logging.getLogger(__name__)


def bridge_options(context: Context) -> BridgeOptions:
    settings = context.settings
    if settings.ami_host is None:
        raise ConfigError([("environment", "HOTLINE_AMI_HOST", "not set: use demo mode or name the Asterisk host")])
    missing = [name for name in ("ami_username", "ami_secret") if not getattr(settings, name)]
    if missing:
        raise ConfigError(
            [("environment", f"HOTLINE_{name.upper()}", "needed with HOTLINE_AMI_HOST") for name in missing]
        )
    return BridgeOptions(
        settings.ami_host,
        settings.ami_port,
        settings.ami_username or "",
        settings.ami_secret or "",
        source="asterisk",
        wrapup_s=settings.wrapup_seconds,
        sl_threshold_s=settings.sl_threshold_seconds,
    )


def demo_members(context: Context) -> dict[str, list[Member]]:
    """Put the lawyers that have a phone into the configured queues: all in the general line and
    法律咨询, the rest of the queues shared out in turn."""
    with context.sessions() as session:
        lawyers = session.execute(
            select(User.interface, User.display_name)
            .where(User.role == Role.LAWYER.value, User.interface.is_not(None), User.is_active.is_(True))
            .order_by(User.id)
        ).all()
    members = [Member(interface, name) for interface, name in lawyers if interface]
    if not members:
        members = [Member("PJSIP/1001", "值班律师 1001"), Member("PJSIP/1002", "值班律师 1002")]
    queues = [q.name for q in context.config.service_hours.queues]
    plan: dict[str, list[Member]] = {}
    for i, queue in enumerate(queues):
        shared = queue in ("general", "consult") or len(members) == 1
        plan[queue] = list(members) if shared else [members[i % len(members)]]
    return plan


async def run_bridge(context: Context) -> None:
    """Run until cancelled."""
    redis_client = aioredis.Redis.from_url(context.redis.url)
    traffic_task: asyncio.Task[None] | None = None
    simulator: AmiSimulator | None = None
    try:
        if context.settings.demo_mode:
            secret = secrets.token_hex(16)
            simulator = AmiSimulator(username="hotline-demo", secret=secret)
            host, port = await simulator.start("127.0.0.1", 0)
            traffic = DemoTraffic(simulator, demo_members(context))
            traffic_task = asyncio.create_task(traffic.run(), name="demo-traffic")
            options = BridgeOptions(
                host,
                port,
                "hotline-demo",
                secret,
                source="simulator",
                wrapup_s=context.settings.wrapup_seconds,
                sl_threshold_s=context.settings.sl_threshold_seconds,
            )
            logger.warning(
                "DEMO MODE: no Asterisk configured (HOTLINE_AMI_HOST); the PBX and its callers are SIMULATED"
            )
        else:
            options = bridge_options(context)
        await Bridge(options, context.sessions, redis_client).run()
    finally:
        if traffic_task is not None:
            traffic_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await traffic_task
        if simulator is not None:
            await simulator.close()
        await redis_client.aclose()
