"""The registry model: the shared claim model plus builds, cleanups and creates.

``stress.model.ClaimModel`` holds the claim rules. This model adds what only
the registry has (docs/architecture.md section 3): a create that joins a live workspace,
waits for a cleanup of its path, shares an in-flight build or starts one; a
build that fails or whose builder was retired or cancelled meanwhile; the
cleanup after a teardown (cut off at ``CLEANUP_SECONDS``); the closing latch,
``request_shutdown`` and the idle callback. The factory's call log (the
``oracle``) says which waiting create became the builder.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from hypothesis import currently_in_test_context, event

from crushd.errors import (
    ClientNotAttached,
    ClientRetired,
    CrushdError,
    InternalError,
    ServerBusy,
    ShuttingDown,
    WorkspaceNotFound,
)
from crushd.registry import CLEANUP_SECONDS

from ..model import ClaimModel, Refusal, Timer
from ._state import (
    BUG_WAITERS_GET_BUILDER_REFUSAL,
    CHANNELS_ERROR,
    Expected,
    MBuild,
    MCreate,
    MTicket,
    MWorkspace,
)
from ._world import (
    BUILD_FAILURE,
    CANCELLED,
    CREATE_GRACE,
    IDLE_TIMEOUT,
    FactoryCall,
    Params,
)

#: The registry's error for each refusal of a claim operation.
ERRORS: dict[Refusal, type[CrushdError]] = {
    Refusal.NO_WORKSPACE: WorkspaceNotFound,
    Refusal.RETIRED: ClientRetired,
    Refusal.NOT_STREAMING: ClientNotAttached,
}


class Model(ClaimModel[MWorkspace]):
    """Pure model of the registry (no trio); ``now`` moves only in ``advance``."""

    def __init__(self, params: Params, oracle: Callable[[str, int], FactoryCall]):
        super().__init__(CREATE_GRACE, params.detach_grace, IDLE_TIMEOUT)
        self.p = params
        self.oracle = oracle
        self.built: dict[str, MWorkspace] = {}  # real workspace id -> model
        self.build_count: dict[str, int] = {}
        self.builds: dict[str, MBuild] = {}
        self.cleanups: dict[str, MWorkspace] = {}
        self.cleanup_waiters: dict[str, list[int]] = {}
        self.creates: dict[int, MCreate] = {}
        self.fail_next: set[str] = set()
        self.pending = 0
        self.closing = False
        self.on_idle = 0
        self.maybe_arm_idle()

    # ---------------------------------------------------- ClaimModel hooks

    def note(self, transition: str) -> None:
        if currently_in_test_context():
            event(transition)

    def refuse(self, refusal: Refusal) -> CrushdError:
        return ERRORS[refusal]()

    def may_linger(self) -> bool:
        return not self.closing and self.is_idle()

    def idle_expired(self) -> None:
        self.idle_deadline = None
        if self.is_idle() and not self.closing:
            self.note("idle linger fired")
            self.closing = True
            self.on_idle += 1

    def torn_down(self, ws: MWorkspace) -> None:
        self.cleanups[ws.key] = ws

    def timers(self) -> list[Timer]:
        builds = self.builds.items()
        return [
            *((b.done_at, functools.partial(self._finish_build, k)) for k, b in builds),
            *(
                (self.cleanup_done_at(w), functools.partial(self._finish_cleanup, k))
                for k, w in self.cleanups.items()
            ),
            *super().timers(),
        ]

    # ------------------------------------------------------------- queries

    def is_idle(self) -> bool:
        return not self.live and self.pending == 0

    def target(self, key: str, stale: bool) -> MWorkspace | None:
        """The live workspace at ``key``, or (stale) the newest dead one."""
        if not stale:
            return self.live.get(key)
        dead = [w for w in self.built.values() if w.key == key and not w.live]
        return dead[-1] if dead else None

    # ------------------------------------------------------------ creates

    def create(self, cid: int, client: str, key: str, channels: bool) -> None:
        create = self.creates[cid] = MCreate(client, key, channels)
        refusal = self._refusal(client)
        if refusal is not None:
            create.done, create.result = True, Expected(refusal)
            return
        self.pending += 1
        self.idle_deadline = None
        self._run_creates(key, [cid])

    def _refusal(self, client: str) -> type[CrushdError] | None:
        if self.closing:
            return ShuttingDown
        return ClientRetired if self.is_retired(client) else None

    def _run_creates(self, key: str, cids: list[int]) -> None:
        """One pass of ``_create_or_join`` for creates that all run at ``now``."""
        admitted = [cid for cid in cids if not self._refused(cid)]
        if not admitted:
            return
        if key in self.live:
            for cid in admitted:
                self._join(self.live[key], cid)
        elif key in self.cleanups:
            self.note("create waits for a cleanup")
            self.cleanup_waiters.setdefault(key, []).extend(admitted)
        elif key in self.builds:
            self.note("create shares a build")
            self.builds[key].waiters.extend(admitted)
        else:
            self._start_build(key, admitted)

    def _refused(self, cid: int) -> bool:
        refusal = self._refusal(self.creates[cid].client)
        if refusal is not None:
            self._finish(cid, Expected(refusal))
        return refusal is not None

    def _join(self, ws: MWorkspace, cid: int) -> None:
        create = self.creates[cid]
        if create.channels != ws.channels:
            self._finish(cid, CHANNELS_ERROR)
            return
        self.claim_for_create(ws, create.client)
        self._finish(cid, ws)

    def _start_build(self, key: str, candidates: list[int]) -> None:
        index = self.build_count.get(key, 0)
        self.build_count[key] = index + 1
        call = self.oracle(key, index)
        assert call.start == self.now, f"build of {key} started at {call.start}"
        assert call.create_id in candidates, f"builder {call.create_id} not waiting"
        if len(candidates) > 1:
            self.note("several creates raced to build after a cleanup")
        fail = key in self.fail_next
        self.fail_next.discard(key)
        waiters = [c for c in candidates if c != call.create_id]
        done_at = self.now + self.p.build_delay
        self.builds[key] = MBuild(index, call, call.create_id, done_at, fail, waiters)

    def _finish_build(self, key: str) -> None:
        build = self.builds.pop(key)
        if build.fail:
            for cid in (build.builder, *build.waiters):
                self._finish(cid, Expected(InternalError, BUILD_FAILURE))
            return
        builder = self.creates[build.builder]
        ws = MWorkspace(key, build.index, call=build.call, channels=builder.channels)
        self.built[ws.real_id] = ws
        refusal = self._refusal(builder.client)
        if refusal is not None:
            self._refuse_build(ws, build, refusal)
            return
        ws.live = True
        self.live[key] = ws
        self.claim_for_create(ws, builder.client)
        self._finish(build.builder, ws)
        self._run_creates(key, build.waiters)

    def _refuse_build(
        self, ws: MWorkspace, build: MBuild, refusal: type[CrushdError]
    ) -> None:
        self.note(f"builder refused after its build: {refusal.__name__}")
        if build.waiters:
            self.note(f"builder refused with others waiting: {refusal.__name__}")
        self.teardown(ws)
        self._finish(build.builder, Expected(refusal))
        if BUG_WAITERS_GET_BUILDER_REFUSAL:
            for cid in build.waiters:
                self._finish(cid, Expected(refusal))
        else:
            self._run_creates(ws.key, build.waiters)

    def cancel_create(self, cid: int) -> None:
        """The create's task was cancelled while it waited or built."""
        key = self.creates[cid].key
        waiting = self.cleanup_waiters.get(key, [])
        build = self.builds.get(key)
        if cid in waiting:
            waiting.remove(cid)
        elif build is not None and cid in build.waiters:
            build.waiters.remove(cid)
        else:
            assert build is not None, f"create {cid} is not in flight"
            assert build.builder == cid, f"create {cid} is not the builder"
            self.note("a builder was cancelled")
            del self.builds[key]
            self._finish(cid, CANCELLED)
            self._run_creates(key, build.waiters)
            return
        self._finish(cid, CANCELLED)

    def _finish(self, cid: int, result: MWorkspace | Expected | str) -> None:
        create = self.creates[cid]
        create.done, create.result = True, result
        self.pending -= 1
        self.maybe_arm_idle()

    # ------------------------------------------------------------- streams

    def attach(self, ws: MWorkspace | None, client: str) -> MTicket:
        live = self.require_live(ws)
        return MTicket(live, client, self.attach_claim(live, client))

    def detach(self, ticket: MTicket) -> None:
        if ticket.alive:
            self.detach_claim(ticket.ws, ticket.client)

    def retire(self, client: str) -> None:
        if self.retired.keys() - self.retired_now():
            self.note("a retired client was forgotten")
        for ws in self.live.values():
            if client in ws.claims:
                ws.wakes += 1
        super().retire(client)

    # --------------------------------------------------- cleanup, close

    def cleanup_done_at(self, ws: MWorkspace) -> float:
        assert ws.torn_at is not None
        return ws.torn_at + min(self.p.aclose_delay, CLEANUP_SECONDS)

    def _finish_cleanup(self, key: str) -> None:
        ws = self.cleanups.pop(key)
        ws.cleaned = True
        if self.p.aclose_delay > CLEANUP_SECONDS:
            self.note("cleanup cut off at CLEANUP_SECONDS")
        self._run_creates(key, self.cleanup_waiters.pop(key, []))

    def close(self) -> None:
        self.closing = True
        self.idle_deadline = None
        self.teardown_all()

    def request_shutdown(self) -> None:
        if not self.is_idle():
            raise ServerBusy
        self.closing = True
        self.idle_deadline = None
        self.on_idle += 1
