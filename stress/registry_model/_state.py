"""The registry model's own state: workspaces with builds and cleanups, creates.

Claims and their rules are ``stress.model``'s. The two ``BUG_*`` flags make
the model predict a registry behaviour that deviated from docs/architecture.md /
docs/protocol.md (both fixed); setting one to True predicts the old behaviour.
"""

from __future__ import annotations

import attrs

from crushd.errors import Conflict, CrushdError, InternalError
from crushd.registry import CHANNELS_MISMATCH

from ..model import Claim, ClaimedWorkspace
from ._world import FactoryCall

#: BUG 1 (``Registry._join``, fixed in 1b021e8): a channels mismatch on a
#: duplicate create was a 500 ``InternalError``; docs/protocol.md decision B.5 says
#: 409. False expects a ``Conflict`` (409) with the ``CHANNELS_MISMATCH`` text.
BUG_CHANNELS_MISMATCH_IS_500 = False

#: BUG 2 (``Registry._build``, fixed in 7c5416e): when the builder's own client
#: was retired while the build ran, ``_install`` refused it and the
#: ``ClientRetired`` was shared with every create waiting on that build. False
#: expects those waiters to retry: wait for the refused workspace's cleanup,
#: then build again.
BUG_WAITERS_GET_BUILDER_REFUSAL = False


@attrs.frozen
class Expected:
    """A create's predicted error: its class and, when it matters, its message."""

    cls: type[CrushdError]
    message: str | None = None


CHANNELS_ERROR = Expected(
    InternalError if BUG_CHANNELS_MISMATCH_IS_500 else Conflict, CHANNELS_MISMATCH
)


@attrs.define(eq=False)
class MWorkspace(ClaimedWorkspace):
    """Model workspace: the ``index``-th build of ``key`` (``call`` is its build).

    Attributes:
        call: the factory call that built it (its fake workspace).
        channels: whether its create asked for channels (joins must match).
        cleaned: its cleanup finished (or was cut off).
        wakes: retires that removed a claim here (its streams re-check).
    """

    call: FactoryCall = attrs.field(kw_only=True)
    channels: bool = attrs.field(kw_only=True)
    cleaned: bool = False
    wakes: int = 0

    @property
    def real_id(self) -> str:
        assert self.call.workspace is not None
        return self.call.workspace.id


@attrs.define(eq=False)
class MBuild:
    """Model in-flight build; ``waiters`` are the creates sharing it."""

    index: int
    call: FactoryCall
    builder: int
    done_at: float
    fail: bool
    waiters: list[int]


@attrs.define(eq=False)
class MCreate:
    """Model create: ``done`` with a workspace or an ``Expected`` error."""

    client: str
    key: str
    channels: bool
    done: bool = False
    result: MWorkspace | Expected | str | None = None


@attrs.frozen
class MTicket:
    """Model stream ticket: alive while ``claim`` is still the client's claim."""

    ws: MWorkspace
    client: str
    claim: Claim

    def named(self) -> tuple[MWorkspace, str]:
        return self.ws, self.client

    @property
    def alive(self) -> bool:
        return self.ws.live and self.ws.claims.get(self.client) is self.claim
