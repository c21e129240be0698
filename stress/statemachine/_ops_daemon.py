"""Operations on time and the daemon's life: advance, SIGTERM, shutdown_if_idle."""

from __future__ import annotations

import attrs
import trio.testing

from crushctl import CrushctlError

from . import _model
from ._checks import check
from ._harness import Harness
from ._model import TICK
from ._targets import Slot
from ._world import settle


@attrs.frozen
class Advance:
    """Let ``ticks`` ticks of virtual time pass, one tick at a time."""

    ticks: int

    async def apply(self, h: Harness) -> None:
        for _ in range(self.ticks):
            due = h.model.next_deadline()
            h.model.advance(TICK)
            await h.world.tick()
            now = h.model.now
            if not h.model.up and h.world.up:
                await h.world.wait_stopped()
            assert h.world.up == h.model.up, (
                f"t={now}: daemon {'runs' if h.world.up else 'exited'}, "
                f"model says it {'runs' if h.model.up else 'exited'}"
            )
            # Around every timer (the tick before it is due and the tick it
            # fired) the whole state is compared, so off-by-one timers show.
            after = h.model.next_deadline()
            if (due is not None and due <= now) or (after and after <= now + TICK):
                await check(h)


@attrs.frozen
class Restart:
    """SIGTERM the daemon, wait for its exit; the next operation starts it again."""

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        h.world.terminate()
        assert await h.world.wait_stopped(), "daemon did not stop on SIGTERM"
        h.model.stop()


@attrs.frozen
class RestartMidCreate:
    """SIGTERM while a create is in flight (its build is waiting for a thread).

    The create may succeed, be refused (503) or lose its connection; whatever
    it built must be torn down and cleaned up exactly once, like the rest.
    """

    who: Slot

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        before = set(h.lifecycle.created)
        path, key = h.world.path(self.who.spelling), h.world.key(self.who.spelling)
        client = h.client(h.client_id(self.who.client))
        answers: list[object] = []

        async def create() -> None:
            try:
                answers.append(await client.create_workspace(path))
            except CrushctlError as exc:
                answers.append(exc)

        h.world.nursery.start_soon(create)
        await trio.testing.wait_all_tasks_blocked()
        h.world.terminate()
        assert await h.world.wait_stopped(), "daemon did not stop on SIGTERM"
        await settle()
        assert answers, "the create never returned"
        h.note(f"   (create answered {answers[0]!r})")
        status = getattr(answers[0], "status", None)
        assert status in {None, 409, 503}, f"create during shutdown: {answers[0]!r}"
        h.model.stop()
        known = {ws.real_id for ws in h.model.built}
        for wid in sorted(set(h.lifecycle.created) - before - known):
            ws = _model.MWorkspace(
                key, len(h.model.built), path=path, real_id=wid, torn_at=h.model.now
            )
            h.model.built.append(ws)


@attrs.frozen
class ShutdownIfIdle:
    """``POST /v1/control`` ``shutdown_if_idle``: 409 unless idle, else exit."""

    async def apply(self, h: Harness) -> None:
        await h.ensure_up()
        client = h.client(h.client_id(0))
        await h.call(
            lambda: client.shutdown(if_idle=True),
            lambda _: h.model.request_shutdown(),
            "shutdown_if_idle",
        )
        if not h.model.up:
            assert await h.world.wait_stopped(), "daemon did not stop when idle"
