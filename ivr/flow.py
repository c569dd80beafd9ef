"""One caller's way through the menus, from the welcome prompt to the exit (script `ivr`).

The session ends in one of three ways, and is recorded in each: the flow reaches an exit node and
sets the channel variables the dialplan and the bridge read; the caller hangs up (at any command);
or something fails, and the dialplan's defaults (HOTLINE_ROUTE=queue, HOTLINE_QUEUE=zonghe) still
put the caller through to a lawyer.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ivr import destinations
from ivr.channel import AgiChannel, CallerHungUp, Digits
from ivr.menu_config import Node, Target, as_target
from ivr.phone import caller_key
from ivr.services import IvrServices
from ivr.session import CallerProfile, Exit, IvrSessionState

logger = logging.getLogger(__name__)

#: Menus visited before the IVR stops and lets the dialplan's default route take the caller on.
MAX_STEPS = 60
#: Times a menu is replayed on its repeat key before that key counts as a wrong one.
MAX_REPEATS = 5
#: Keys that stop a `play` node's prompt (the welcome): callers who know the menu key ahead.
KEYS = "0123456789*#"


class IvrCall:
    def __init__(self, services: IvrServices, channel: AgiChannel) -> None:
        self.svc = services
        self.ch = channel
        env = channel.env
        self.number = caller_key(env.get("agi_callerid"))
        self.state = IvrSessionState(
            uniqueid=channel.uniqueid,
            caller_number=self.number,
            channel=env.get("agi_channel"),
            started_at=services.clock(),
            language=services.config.default_language,
        )
        self._profile: asyncio.Task[CallerProfile] | None = None
        #: The node the caller is at, for the path entry of a hang-up.
        self.at = "start"
        #: A key pressed during a `play` node's prompt: the answer to the next menu, whose prompt is skipped.
        self.typed_ahead: str | None = None

    # Helpers the destinations use ---------------------------------------------------------------

    def sound(self, prompt: str) -> str:
        return self.svc.sound(prompt, self.state.language)

    async def play(self, *prompts: str) -> None:
        for prompt in prompts:
            await self.ch.stream_file(self.sound(prompt))

    async def ask(self, node: str, prompt: str, timeout_s: float, max_digits: int = 1) -> Digits:
        """Play `prompt`, read up to `max_digits` keys, and record the step on the path."""
        self.at = node
        if self.typed_ahead is not None:
            key, self.typed_ahead = self.typed_ahead, None
            if max_digits == 1:
                self.state.record(node, key)
                return Digits(key, timed_out=False)
        answer = await self.ch.get_data(self.sound(prompt), int(timeout_s * 1000), max_digits)
        self.state.record(node, answer.digits if max_digits == 1 else f"digits:{len(answer.digits)}")
        return answer

    async def set_vars(self, **values: str | int | None) -> None:
        for name, value in values.items():
            if value is not None:
                await self.ch.set_variable(f"HOTLINE_{name}", str(value))

    async def leave(self, exit: str, route: str, **values: str | int | None) -> None:
        """Set what the dialplan and the bridge read, then end the session at `exit`."""
        state = self.state
        await self.set_vars(LANG=state.language, GREEN=state.green, QUEUE=state.queue, **values, ROUTE=route)
        state.exit = exit

    async def profile(self) -> CallerProfile:
        if self._profile is None:
            return CallerProfile()
        try:
            return await self._profile
        except Exception:  # the caller still gets served, without green channel or repeat routing
            logger.exception("call %s: caller lookup failed; serving without the caller record", self.state.uniqueid)
            return CallerProfile()

    # The session --------------------------------------------------------------------------------

    async def run(self) -> IvrSessionState:
        state = self.state
        started = time.monotonic()
        if self.number:
            self._profile = asyncio.create_task(self.svc.callers.profile(self.number))
        nuisance: asyncio.Task[bool] | None = None
        try:
            await self.ch.answer()
            state.start_step()
            if destinations.block_listed(self):
                await destinations.turn_away(self, "blocked")
            else:
                nuisance = asyncio.create_task(destinations.is_nuisance(self))
                await self.walk(self.svc.config.start, nuisance)
        except CallerHungUp as exc:
            logger.info("call %s: caller hung up (%s) at %s", state.uniqueid, exc, self.at)
            state.flag("caller-hung-up")
            state.record(self.at, "hangup")
        except Exception:
            logger.exception("call %s: IVR failed at %s; the dialplan default route applies", state.uniqueid, self.at)
            state.exit = Exit.ERROR
        finally:
            for task in (self._profile, nuisance):
                if task is not None and not task.done():
                    task.cancel()
            state.ended_at = self.svc.clock()
            self.svc.recorder.add(state)
        elapsed = time.monotonic() - started
        logger.info("call %s: IVR %s after %.1f s, %d steps", state.uniqueid, state.exit, elapsed, len(state.path))
        return state

    async def walk(self, name: str, nuisance: asyncio.Task[bool] | None = None) -> None:
        """Follow the menus from node `name` until an exit node has run. The repeat-nuisance check
        runs during the opening prompts and is settled before the first menu."""
        config = self.svc.config
        for _ in range(MAX_STEPS):
            node = config.nodes[name]
            self.at = name
            if nuisance is not None and node.type != "play":
                if await nuisance:
                    await destinations.turn_away(self, "nuisance")
                    return
                nuisance = None
            if node.type == "play":
                assert node.prompt is not None and node.next is not None
                self.typed_ahead = await self.ch.stream_file(self.sound(node.prompt), KEYS)
                self.state.record(name, None)
                target = as_target(node.next)
            elif node.type == "menu":
                target = await self.menu(name, node)
            else:
                await destinations.run_exit(self, name, node)
                return
            self._apply(target)
            name = target.goto
        # Keys pressed round and round: stop here; the dialplan's default route takes the caller on.
        logger.warning("call %s: %d menu steps; leaving it to the dialplan default", self.state.uniqueid, MAX_STEPS)
        self.state.flag("too-many-steps")
        self.state.exit = Exit.ERROR

    def _apply(self, target: Target) -> None:
        if target.language is not None:
            self.state.language = target.language
        if target.green is not None:
            self.state.green = target.green
            self.state.flag(f"green:{target.green}")

    async def menu(self, name: str, node: Node) -> Target:
        assert node.prompt is not None and node.on_exhausted is not None
        failures = repeats = 0
        while True:
            answer = await self.ask(name, node.prompt, node.timeout_s)
            key = answer.digits
            if key and key == node.repeat_key and repeats < MAX_REPEATS:
                repeats += 1
                continue
            if key in node.options:
                return as_target(node.options[key])
            failures += 1
            if failures > node.retries:
                return as_target(node.on_exhausted)
            await self.play((node.invalid_prompt or "invalid") if key else (node.timeout_prompt or "timeout"))
