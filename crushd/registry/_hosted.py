"""A live workspace as the registry sees it: the workspace plus its claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Generic, Protocol

import attrs
import trio

from crushd.proto import WorkspaceSpec

from ._claims import Claim


class EventLogLike(Protocol):
    """What the registry needs of a workspace's event log."""

    def close(self) -> None:
        """End every reader once it has drained (teardown)."""

    def wake(self) -> None:
        """Wake every reader so it re-checks its claim (retire)."""

    def publish(self, type: str, event_type: str, payload: object) -> int:  # noqa: A002 - wire field name
        """Append one event (the shutdown marker, docs/protocol.md C.11); its id."""


class HostedWorkspace(Protocol):
    """What the registry needs of a workspace: an id, its log, its tasks, cleanup."""

    @property
    def id(self) -> str:
        """The workspace id."""

    @property
    def spec(self) -> WorkspaceSpec:
        """The flags it was built with."""

    @property
    def log(self) -> EventLogLike:
        """The workspace's event log."""

    async def serve(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Run the workspace's own tasks (flusher, agent) until cancelled."""

    async def aclose(self) -> None:
        """Release everything the workspace holds (flush, DB, data-dir lock)."""


if TYPE_CHECKING:  # a TypeVar default needs Python 3.13 at run time
    from typing_extensions import TypeVar

    W = TypeVar("W", bound=HostedWorkspace, default=HostedWorkspace, covariant=True)
else:
    from typing import TypeVar

    W = TypeVar("W", bound=HostedWorkspace, covariant=True)
"""The workspace type a registry hosts: what its factory builds.

``Registry[Workspace]`` hands out ``Hosted[Workspace]``, so its users get
their own type back without a downcast; a bare ``Registry`` means any
``HostedWorkspace``.
"""

#: Builds a workspace from a spec; raises a ``CrushdError`` on failure.
WorkspaceFactory = Callable[[WorkspaceSpec], Awaitable[W]]


@attrs.define(eq=False)
class Hosted(Generic[W]):
    """A workspace in the registry with its claims and lifetime markers.

    Attributes:
        workspace: the workspace itself.
        key: its canonical path (the path-index key).
        claims: client_id -> claim; the refcount is ``len(claims)``.
        nursery: the workspace nursery (timers, background work); set once
            the workspace task started.
        torn_down: set, in the same synchronous step that removes it from the
            indexes, once the last claim went.
        teardown_requested: wakes the workspace task to clean up.
        cleaned: set when cleanup finished (a create for the same path waits).
    """

    workspace: W
    key: str
    claims: dict[str, Claim] = attrs.field(factory=dict)
    nursery: trio.Nursery | None = None
    torn_down: bool = False
    teardown_requested: trio.Event = attrs.field(factory=trio.Event)
    cleaned: trio.Event = attrs.field(factory=trio.Event)

    @property
    def id(self) -> str:
        """The workspace id."""
        return self.workspace.id

    def claim_is_live(self, claim: Claim) -> bool:
        """True while ``claim`` is still this client's claim on a live workspace."""
        return not self.torn_down and self.claims.get(claim.client_id) is claim

    def view(self) -> HostedView[W]:
        """Return a read-only view of this entry (what ``Registry.get`` hands out)."""
        return HostedView(workspace=self.workspace, key=self.key)


@attrs.frozen
class HostedView(Generic[W]):
    """A live workspace as the registry shows it to its users: read-only.

    Frozen, and without the claims and lifetime markers of ``Hosted``, so no
    caller can change the registry's state through it; the registry alone
    mutates its records. Two views of one entry compare equal.

    Attributes:
        workspace: the workspace itself.
        key: its canonical path (the path-index key).
    """

    workspace: W
    key: str

    @property
    def id(self) -> str:
        """The workspace id."""
        return self.workspace.id


@attrs.define(eq=False)
class Build(Generic[W]):
    """One in-flight workspace build that concurrent creates of a path share.

    ``error`` is set when the factory failed with a ``CrushdError``; every
    waiter answers with it. When the builder was cancelled, or its own
    admission failed (retired meanwhile), both ``hosted`` and ``error`` stay
    ``None`` and a waiter re-checks and builds again.
    """

    done: trio.Event = attrs.field(factory=trio.Event)
    hosted: Hosted[W] | None = None
    error: BaseException | None = None
