"""Virtual hold: offer a call-back, confirm the number to call, and register the request.

The number is the caller ID when it is a valid Chinese number and the caller confirms it; otherwise
the caller keys one in (with the area code for a landline), hears it read back and confirms it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ivr.phone import callable_number
from ivr.prompts import spoken_digits
from ivr.session import Exit
from ivr.virtual_hold import request_callback

if TYPE_CHECKING:
    from ivr.flow import IvrCall

logger = logging.getLogger(__name__)

CONFIRM_TIMEOUT_S = 5.0
ENTRY_TIMEOUT_S = 10.0
#: Longest number a caller may key in: 0 + 3-digit area code + 8 digits.
MAX_DIGITS = 12


async def register(call: IvrCall, node: str, *, ask: bool, closed: bool = False) -> bool:
    """Offer (when `ask`) and register a call-back; True when the call ends with one registered."""
    state, svc = call.state, call.svc
    assert state.queue is not None
    if ask:
        prompt = "callback-offer-closed" if closed else "callback-offer"
        answer = await call.ask(f"{node}:callback-offer", prompt, CONFIRM_TIMEOUT_S)
        if answer.digits != "1":
            return False
    number = await confirm_number(call, node)
    if number is None:
        state.flag("callback-no-number")
        return False
    request, created = await svc.run_db(_request, call, number)
    state.flag("callback" if created else "callback-duplicate")
    logger.info(
        "call %s: call-back %s for %s (request %d)",
        state.uniqueid,
        "registered" if created else "already registered",
        state.queue,
        request,
    )
    state.exit = Exit.CALLBACK
    await call.set_vars(CALLBACK=request)
    await call.play("callback-done" if created else "callback-duplicate")
    await call.leave(Exit.CALLBACK, "hangup", CLOSED=1 if closed else None)
    return True


def _request(call: IvrCall, number: str) -> tuple[int, bool]:
    state = call.state
    assert state.queue is not None
    with call.svc.sessions.begin() as session:
        request, created = request_callback(
            session,
            number=number,
            queue=state.queue,
            arrived_at=state.started_at,
            now=call.svc.clock(),
            caller_number=state.caller_number,
            linkedid=state.uniqueid,
            language=state.language,
            priority=state.priority,
        )
        session.flush()
        return request.id, created


async def confirm_number(call: IvrCall, node: str) -> str | None:
    """The number to call back, confirmed by the caller, or None after too many tries."""
    attempts = call.svc.config.callback.number_attempts
    number = callable_number(call.state.caller_number)
    failures = 0
    while failures < attempts:
        if number is None:
            entered = await call.ask(f"{node}:callback-number", "callback-enter", ENTRY_TIMEOUT_S, MAX_DIGITS)
            number = callable_number(entered.digits)
            if number is None:
                failures += 1
                await call.play("callback-invalid" if entered.digits else "timeout")
                continue
        await call.play("callback-confirm-before", *spoken_digits(number))
        answer = await call.ask(f"{node}:callback-confirm", "callback-confirm-after", CONFIRM_TIMEOUT_S)
        if answer.digits == "1":
            return number
        failures += 1
        if answer.digits == "2":
            number = None
    return None
