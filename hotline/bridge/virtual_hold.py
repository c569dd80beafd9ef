"""Virtual hold: call back the citizens who left the queue asking to be called, when a lawyer is free.

The IVR stores each request with the caller's original arrival time (ivr.virtual_hold). While the
bridge is connected, every few seconds and for every queue with a free lawyer, the oldest request
is claimed, unless a caller still on the line arrived earlier (they are served first, by the queue
itself). The free lawyer's phone rings, then the dialplan dials the citizen (as click-to-call does).
How the call went is read from the call itself when it ends: bridged with the citizen is `answered`;
anything else puts the request back in line, up to ivr.virtual_hold.MAX_ATTEMPTS attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.ami.panoramisk_adapter import AmiActionError, AmiClient
from hotline.domain.call_tracker import CALLBACK_NUMBER_VARIABLE, CallRecord, Outcome
from hotline.live.model import AgentState, LiveModel
from ivr.virtual_hold import claim_next_callback, finish_callback

logger = logging.getLogger(__name__)

PASS_S = 5.0


class VirtualHold:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        model: LiveModel,
        *,
        callback_context: str = "hotline-callback",
        interval_s: float = PASS_S,
        action_timeout_s: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions = sessions
        self.model = model
        self.callback_context = callback_context
        self.interval_s = interval_s
        self.action_timeout_s = action_timeout_s
        self.clock = clock
        #: ActionID of an Originate in flight -> request id; then Linkedid -> request id.
        self.by_action: dict[str, int] = {}
        self.by_call: dict[str, int] = {}
        #: Lawyers dialling a call-back right now (their phone is not yet seen busy).
        self._dialling: dict[str, str] = {}

    async def run(self, client: AmiClient) -> None:
        while True:
            try:
                await self.pass_once(client)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("virtual hold pass failed; retrying")
            await asyncio.sleep(self.interval_s)

    def free_lawyers(self, queue: str) -> list[str]:
        busy = set(self._dialling.values())
        return sorted(
            agent.interface
            for agent in self.model.agents.values()
            if queue in agent.queues
            and not agent.queues[queue].paused
            and agent.state is AgentState.AVAILABLE
            and agent.interface not in busy
        )

    async def pass_once(self, client: AmiClient) -> int:
        """Start at most one call-back per queue that has a free lawyer; returns how many started."""
        started = 0
        for queue in sorted(self.model.queue_names):
            free = self.free_lawyers(queue)
            if not free:
                continue
            joined = [c.offered_at for c in self.model.calls.values() if c.queue == queue and c.waiting]
            claimed = await asyncio.to_thread(self._claim, queue, [t for t in joined if t is not None])
            if claimed is None:
                continue
            request_id, number, attempt = claimed
            action_id = f"vhold-{request_id}-{attempt}"
            try:
                await client.action(
                    "Originate",
                    timeout=self.action_timeout_s,
                    ActionID=action_id,
                    Channel=free[0],
                    Context=self.callback_context,
                    Exten=number,
                    Priority="1",
                    CallerID=f'"12348 预约回拨" <{number}>',
                    Timeout="30000",
                    Variable=[
                        f"HOTLINE_VHOLD={request_id}",
                        f"HOTLINE_QUEUE={queue}",
                        f"{CALLBACK_NUMBER_VARIABLE}={number}",
                    ],
                )
            except AmiActionError as exc:
                logger.warning("call-back request %d: Originate refused: %s", request_id, exc.message)
                await asyncio.to_thread(self._finish, request_id, "failed")
                continue
            self.by_action[action_id] = request_id
            self._dialling[action_id] = free[0]
            started += 1
            logger.info("call-back request %d: %s rings first (attempt %d)", request_id, free[0], attempt)
        return started

    # -- what the bridge's events tell about the calls it started -------------------------------------
    def originated(self, result: dict[str, Any]) -> None:
        """An OriginateResponse (hotline.bridge.core.originate_result) for one of ours, or not."""
        action_id = str(result.get("action_id") or "")
        request_id = self.by_action.pop(action_id, None)
        if request_id is None:
            return
        self._dialling.pop(action_id, None)
        if result.get("ok") and result.get("linkedid"):
            self.by_call[str(result["linkedid"])] = request_id
        else:
            self._later(request_id, str(result.get("outcome") or "failed"))

    def call_ended(self, call: CallRecord) -> None:
        request_id = self.by_call.pop(call.linkedid, None)
        if request_id is not None:
            self._later(request_id, "answered" if call.outcome is Outcome.ANSWERED else "no_answer")

    def _later(self, request_id: int, outcome: str) -> None:
        asyncio.get_running_loop().run_in_executor(None, self._finish, request_id, outcome)

    # -- the database side (worker threads) ----------------------------------------------------------
    def _claim(self, queue: str, joined: list[float]) -> tuple[int, str, int] | None:
        with self.sessions.begin() as session:
            request = claim_next_callback(session, queue, joined, self.clock())
            return None if request is None else (request.id, request.number, request.attempts)

    def _finish(self, request_id: int, outcome: str) -> None:
        try:
            with self.sessions.begin() as session:
                finish_callback(session, request_id, outcome, self.clock())
        except LookupError:
            logger.warning("call-back request %d vanished before its outcome (%s) was stored", request_id, outcome)
