"""Operations on time, builds and the registry's life: advance, fail, cancel, close."""

from __future__ import annotations

import attrs
import trio

from ._harness import Harness
from ._world import KEYS, settle


@attrs.frozen
class Advance:
    """Let virtual time pass; every timer due on the way fires in order."""

    seconds: float

    async def apply(self, h: Harness) -> None:
        await trio.sleep(self.seconds)
        await settle()
        h.model.advance(self.seconds)


@attrs.frozen
class FailNextBuild:
    """The next build of this path's key raises ``InternalError``."""

    path: int

    async def apply(self, h: Harness) -> None:
        h.factory.fail_next.add(KEYS[self.path])
        h.model.fail_next.add(KEYS[self.path])


@attrs.frozen
class CancelCreate:
    """Cancel the task of an unfinished create (its client went away)."""

    index: int

    async def apply(self, h: Harness) -> None:
        pending = [cid for cid, c in h.model.creates.items() if not c.done]
        if pending:
            cid = pending[self.index % len(pending)]
            await h.compare(h.scopes[cid].cancel, lambda: h.model.cancel_create(cid))


@attrs.frozen
class RequestShutdown:
    """``POST /v1/control`` shutdown (idle-gated)."""

    async def apply(self, h: Harness) -> None:
        await h.compare(h.registry.request_shutdown, h.model.request_shutdown)


@attrs.frozen
class Close:
    """The daemon's shutdown: ``Registry.close()``."""

    async def apply(self, h: Harness) -> None:
        await h.compare(h.registry.close, h.model.close)
