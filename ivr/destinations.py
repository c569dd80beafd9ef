"""Where a call leaves the IVR: a queue (when open), the after-hours choice, a voicemail, a transfer,
a hang-up; and the callers turned away before the menus (block list, repeat nuisance).

Variables that classify the call (HOTLINE_BLOCKED, HOTLINE_CLOSED with HOTLINE_QUEUE) are set as soon
as they are known, before any notice is played, so a caller hanging up during the notice is still
counted where it belongs.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import redis

from ivr import virtual_hold_offer
from ivr.hours import HoursState, HoursStatus
from ivr.menu_config import Node
from ivr.prompts import spoken_count
from ivr.records import Voicemail, create_voicemail_ticket
from ivr.session import Exit
from ivr.waiting import estimate_wait, wait_minutes

if TYPE_CHECKING:
    from ivr.flow import IvrCall

logger = logging.getLogger(__name__)

#: Asterisk records at 8 kHz: RECORD FILE's endpos counts samples.
SAMPLE_RATE = 8000
CLOSED_PROMPTS = {HoursState.HOLIDAY: "closed-holiday", HoursState.CLOSURE: "closed-closure"}


def block_listed(call: IvrCall) -> bool:
    return call.number is not None and call.svc.guard.on_block_list(call.number)


async def is_nuisance(call: IvrCall) -> bool:
    """Count the call against the repeat-nuisance rule; green-channel callers are never refused by it.
    Runs while the welcome prompt plays."""
    number, state = call.number, call.state
    if number is None:
        return False
    try:
        over_limit = await call.svc.guard.count_call(number, state.uniqueid, call.svc.clock().timestamp())
    except (redis.RedisError, OSError) as exc:
        logger.warning("call %s: nuisance counter unavailable (%s); not applied", state.uniqueid, exc)
        return False
    if not over_limit:
        return False
    profile = await call.profile()
    if any(group in call.svc.config.green_groups for group in profile.groups):
        logger.info("call %s: over the nuisance limit but a green-channel caller; served", state.uniqueid)
        return False
    return True


async def turn_away(call: IvrCall, reason: str) -> None:
    """Play the notice and end the call; counted apart (HOTLINE_BLOCKED) even if the caller hangs up."""
    state = call.state
    state.flag(reason)
    state.exit = Exit.BLOCKED
    await call.set_vars(BLOCKED=1, ROUTE="hangup")
    logger.info("call %s: caller turned away (%s)", state.uniqueid, reason)
    call.at = "blocked"
    await call.play("blocked")
    state.record("blocked", None)


async def run_exit(call: IvrCall, name: str, node: Node) -> None:
    state = call.state
    if node.queue is not None:
        state.queue, state.topic = node.queue, node.topic
        state.service_line = node.service_line
    if node.type == "queue":
        await enter_queue(call, name, node)
    elif node.type == "voicemail":
        if node.prompt:
            await call.play(node.prompt)
        if not await leave_message(call, name):
            await finish(call, Exit.HANGUP)
    elif node.type == "callback":
        if not await virtual_hold_offer.register(call, name, ask=False):
            await finish(call, Exit.HANGUP)
    elif node.type == "overflow":
        await call.play(node.prompt or "overflow")
        state.record(name, None)
        await call.leave(Exit.OVERFLOW, "overflow", OVERFLOW=node.number)
    else:  # hangup
        state.flag("ivr-ended")
        await call.play(node.prompt or "goodbye")
        state.record(name, None)
        await call.leave(Exit.HANGUP, "hangup")


async def finish(call: IvrCall, exit: str, **values: str | int | None) -> None:
    """Say goodbye (when the caller is still there) and end the call at `exit`."""
    if not call.ch.hung_up:
        await call.play("goodbye")
        await call.leave(exit, "hangup", **values)
    call.state.exit = exit


async def enter_queue(call: IvrCall, name: str, node: Node) -> None:
    svc, state = call.svc, call.state
    assert node.queue is not None
    status = svc.hours.status(node.queue, svc.clock())
    if not status.open:
        await after_hours(call, name, node, status)
        return
    profile = await call.profile()
    if state.green is None:
        state.green = next((g for g in svc.config.green_groups if g in profile.groups), None)
        if state.green:
            state.flag(f"green:{state.green}")
    priorities = svc.config.priorities
    state.priority = node.priority + (priorities.green if state.green else 0)
    if profile.open_ticket:
        state.flag("repeat")
        state.priority += priorities.repeat
    estimate = estimate_wait(await svc.live_queue(node.queue), svc.clock().timestamp(), svc.config.waiting.max_age_s)
    offer = False
    if state.green:
        # The green-channel announcement is for green-channel callers only, not for the priority a
        # repeat caller's open ticket (or the node) adds.
        await call.play("priority")
    if estimate.no_lawyer:
        await call.play("no-lawyer")
        offer = svc.config.callback.offer_when_no_lawyer
    else:
        if svc.config.waiting.announce and not state.priority:
            await announce_wait(call, estimate.position, estimate.seconds)
        offer = estimate.seconds is not None and estimate.seconds > svc.config.callback.offer_after_wait_s
    state.record(name, None)
    if offer and await virtual_hold_offer.register(call, name, ask=True):
        return
    call.at = f"{name}:connecting"  # a hang-up now is not one at the call-back offer just declined
    await call.play("connecting")
    await call.leave(
        Exit.queue(node.queue),
        "queue",
        PRIORITY=state.priority,
        TOPIC=state.topic,
        TICKET=profile.open_ticket,
        PREFERRED=profile.lawyer_interface if profile.open_ticket else None,
    )


async def announce_wait(call: IvrCall, position: int | None, seconds: float | None) -> None:
    if position is not None and position > 1:
        await call.play("position-before", *spoken_count(position - 1), "position-after")
    if seconds is not None and seconds >= 60:
        minutes = wait_minutes(seconds)
        if minutes > 99:
            await call.play("wait-long")
        else:
            await call.play("wait-before", *spoken_count(minutes), "wait-after")


async def after_hours(call: IvrCall, name: str, node: Node, status: HoursStatus) -> None:
    """Closed: say so, then overflow, a call-back or a message, as the queue is configured."""
    svc, state = call.svc, call.state
    assert node.queue is not None
    state.flag("closed")
    state.exit = Exit.CLOSED
    await call.set_vars(CLOSED=1, QUEUE=node.queue)
    await call.play(status.prompt or CLOSED_PROMPTS.get(status.state, "closed-hours"))
    state.record(name, None)
    hours = svc.queue_hours(node.queue)
    action = node.after_hours or (hours.after_hours if hours else "voicemail")
    if action == "overflow":
        number = node.number or (hours.overflow_number if hours else None)
        if number:
            await call.play("overflow")
            await call.leave(Exit.OVERFLOW, "overflow", OVERFLOW=number, CLOSED=1)
            return
        action = "voicemail"
    if action == "callback" and await virtual_hold_offer.register(call, name, ask=True, closed=True):
        return
    if not call.ch.hung_up and not await leave_message(call, "voicemail"):
        await finish(call, Exit.CLOSED, CLOSED=1)


def _file_safe(uniqueid: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]", "_", uniqueid)


async def leave_message(call: IvrCall, name: str) -> bool:
    """Record a message and make it a ticket; False when nothing worth keeping was said."""
    svc, state = call.svc, call.state
    call.at = name
    settings = svc.config.voicemail
    base = f"{settings.dir.rstrip('/')}/{_file_safe(state.uniqueid)}"
    await call.play("voicemail-intro")
    recording = await call.ch.record_file(
        base, settings.format, "#", settings.max_seconds * 1000, settings.silence_seconds
    )
    seconds = recording.endpos / SAMPLE_RATE
    state.record(name, None)
    if seconds < settings.min_seconds:
        state.flag("voicemail-too-short")
        return False
    state.recording_path = f"{base}.{settings.format}"
    hours = svc.queue_hours(state.queue) if state.queue else None
    message = Voicemail(
        linkedid=state.uniqueid,
        caller_number=state.caller_number,
        recording_path=state.recording_path,
        seconds=seconds,
        queue=state.queue,
        topic=state.topic,
        service_line=state.service_line,
        green=state.green,
        queue_label=hours.label if hours else None,
    )
    for attempt in range(3):
        try:
            now = svc.clock()
            state.ticket_code = await svc.run_db(create_voicemail_ticket, svc.sessions, svc.policy, message, now)
            break
        except Exception:
            logger.exception("call %s: voicemail ticket not created (attempt %d)", state.uniqueid, attempt + 1)
            await asyncio.sleep(0.5 * (attempt + 1))
    else:
        state.flag("ticket-failed")
        logger.error("call %s: voicemail kept at %s without a ticket", state.uniqueid, state.recording_path)
    state.flag("voicemail")
    state.exit = Exit.VOICEMAIL
    if not call.ch.hung_up:
        await call.play("voicemail-thanks")
        await call.leave(Exit.VOICEMAIL, "hangup")
    return True
