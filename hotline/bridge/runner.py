"""Starts the bridge for a process: against the configured Asterisk, or in demo mode on the simulator.

`hotline bridge` runs this alone (one per Asterisk node); `hotline serve` runs it inside the API
process for a one-machine install. It also serves the IVR over FastAGI (HOTLINE_AGI_HOST/PORT).
While connected, the duty roster drives queue membership (a pass every minute, and one on request
after an import) and virtual-hold call-backs are started as lawyers become free. In demo mode (no
HOTLINE_AMI_HOST) the PBX is the built-in simulator with simulated callers, and every console says
so: the live state carries `source = simulator`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hotline.ami.panoramisk_adapter import AmiClient
from hotline.ami.sim_queues import SimQueues
from hotline.ami.sim_traffic import DemoTraffic, TrafficProfile
from hotline.ami.simulator import AmiSimulator
from hotline.bootstrap import Context
from hotline.bridge.actions import Invalid
from hotline.bridge.service import Bridge, BridgeOptions, WhileConnected
from hotline.bridge.virtual_hold import VirtualHold
from hotline.redis_conn import aclose_client, async_redis_client
from hotline.rosters.reconciler import NodeScope, reconcile_forever, reconcile_once
from hotline.supervise import IVR_ALIVE_KEY, announce_alive, ivr_alive_payload
from ivr.app import start_ivr_server
from settings.errors import ConfigError

RosterAction = Callable[[AmiClient, dict[str, Any]], Awaitable[dict[str, Any]]]

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
        node=settings.node,
    )


def roster_work(context: Context, node: NodeScope | None = None) -> tuple[WhileConnected, RosterAction]:
    """The roster loop (every minute while connected) and the on-demand pass (after an import).

    Each bridge seats only its own node's lawyers (users.node; none: the first of HOTLINE_NODES):
    `node` defaults to this process's HOTLINE_NODE."""
    settings = context.settings
    tz = ZoneInfo(settings.timezone)
    queues = context.config.service_hours.queues
    node = node or NodeScope(settings.node, settings.home_node)
    if node.name not in settings.node_list:
        logger.warning(
            "node %s is not in HOTLINE_NODES (%s): it seats only lawyers whose node is %s",
            node.name,
            settings.nodes,
            node.name,
        )

    async def loop(client: AmiClient) -> None:
        await reconcile_forever(client.action, context.sessions, queues, tz, node=node)

    async def now(client: AmiClient, _params: dict[str, Any]) -> dict[str, Any]:
        report = await reconcile_once(client.action, context.sessions, queues, datetime.now(tz), tz, node=node)
        return {
            "node": node.name,
            "applied": len(report.applied),
            "already_so": len(report.converged),
            "refused": [f"{action.describe()}: {reason}" for action, reason in report.failed],
            "on_duty": len(report.on_duty),
            "missing_queues": report.missing_queues,
        }

    return loop, now


def _scripted_calls(traffic: DemoTraffic) -> RosterAction:
    """Demo mode only: place one SIMULATED call as asked (POST /api/demo/calls; browser tests)."""

    async def place(_client: AmiClient, params: dict[str, Any]) -> dict[str, Any]:
        try:
            return traffic.scripted_call(
                str(params["caller_number"]),
                str(params["queue"]),
                wait_s=float(params["wait_s"]),
                talk_s=float(params["talk_s"]),
                interface=params.get("interface"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"模拟来电参数无效 / invalid scripted call: {exc}") from None

    return place


async def run_bridge(context: Context, with_ivr: bool = True) -> None:
    """Run until cancelled; `with_ivr=False` leaves the IVR to its own process (`hotline ivr`)."""
    redis_client = async_redis_client(context.redis.url)
    traffic_task: asyncio.Task[None] | None = None
    simulator: AmiSimulator | None = None
    try:
        if context.settings.demo_mode:
            secret = secrets.token_hex(16)
            queues = SimQueues([q.name for q in context.config.service_hours.queues])
            simulator = AmiSimulator(username="hotline-demo", secret=secret, handlers=[queues])
            host, port = await simulator.start("127.0.0.1", 0)
            traffic = DemoTraffic(simulator, queues, TrafficProfile(context.settings.demo_calls_per_minute))
            traffic_task = asyncio.create_task(traffic.run(), name="demo-traffic")
            options = BridgeOptions(
                host,
                port,
                "hotline-demo",
                secret,
                source="simulator",
                wrapup_s=context.settings.wrapup_seconds,
                sl_threshold_s=context.settings.sl_threshold_seconds,
                node=context.settings.node,
            )
            logger.warning(
                "DEMO MODE: no Asterisk configured (HOTLINE_AMI_HOST); the PBX and its callers are SIMULATED"
            )
        else:
            options = bridge_options(context)
        loop, now = roster_work(context)
        bridge = Bridge(options, context.sessions, redis_client, while_connected=[loop])
        bridge.actions.register("reconcile_roster", now)
        if traffic_task is not None:
            bridge.actions.register("demo_call", _scripted_calls(traffic))
        hold = VirtualHold(context.sessions, bridge.model, callback_context=options.callback_context)
        bridge.core.on_originate.append(hold.originated)
        bridge.core.on_call_end.append(hold.call_ended)
        bridge.while_connected.append(hold.run)
        host, port = context.settings.agi_host, context.settings.agi_port
        ivr = None
        try:
            if with_ivr:
                ivr = await start_ivr_server(context, host, port)
                logger.info("IVR (FastAGI) listening on %s:%d", host, port)
        except OSError as exc:
            # Calls still reach the queues through the dialplan's defaults; say so loudly.
            ivr = None
            logger.error("IVR not started: cannot listen on %s:%d (%s); is `hotline ivr` already running?",
                         host, port, exc)  # fmt: skip
        alive = None
        if ivr is not None:
            payload = ivr_alive_payload(context.settings.node, host, port)
            key = IVR_ALIVE_KEY.format(node=context.settings.node)
            alive = asyncio.create_task(announce_alive(redis_client, key, payload), name="ivr-alive")
        try:
            await bridge.run()
        finally:
            if alive is not None:
                alive.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await alive
            if ivr is not None:
                ivr.close()
                await ivr.wait_closed(grace_s=5)
    finally:
        if traffic_task is not None:
            traffic_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await traffic_task
        if simulator is not None:
            await simulator.close()
        await aclose_client(redis_client)
