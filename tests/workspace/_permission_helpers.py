"""Shared doubles for the permission service tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from crushd.agent.tools import PermissionAsk
from crushd.config import Config, Permissions
from crushd.proto import PermissionNotification, PermissionRequest
from crushd.workspace._permissions import PermissionService

ROOT = Path("/ws")


class Sink:
    """An event sink that keeps what was published (type, payload)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def publish(self, type: str, event_type: str, payload: object) -> object:  # noqa: A002
        assert event_type == "created"
        self.events.append((type, payload))
        return len(self.events)

    def requests(self) -> list[PermissionRequest]:
        return [p for t, p in self.events if isinstance(p, PermissionRequest)]

    def notifications(self) -> list[PermissionNotification]:
        return [p for t, p in self.events if isinstance(p, PermissionNotification)]

    def resolutions(self) -> list[PermissionNotification]:
        return [n for n in self.notifications() if n.granted or n.denied]


@attrs.define
class Harness:
    sink: Sink
    service: PermissionService
    allowed: list[str]


def make_harness() -> Harness:
    sink = Sink()
    allowed: list[str] = []

    def config() -> Config:
        return Config(permissions=Permissions(allowed_tools=list(allowed)))

    return Harness(sink, PermissionService(sink, ROOT, config), allowed)


def ask(tool: str = "tool", action: str = "act", path: str = "/tmp/x") -> PermissionAsk:
    return PermissionAsk(tool, action, path, f"{tool} {action}", {"k": "v"})


Outcomes = dict[str, Any]


def requester(
    service: PermissionService, outcomes: Outcomes
) -> Callable[[str, str, PermissionAsk], Awaitable[None]]:
    """Return a task body storing ``request``'s result (or "cancelled") by call id."""

    async def run(session_id: str, call_id: str, what: PermissionAsk) -> None:
        outcomes[call_id] = "cancelled"
        outcomes[call_id] = await service.request(session_id, call_id, what)

    return run


@contextlib.asynccontextmanager
async def bounded() -> AsyncIterator[trio.Nursery]:
    """Open a nursery that fails the test instead of hanging (virtual time)."""
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:
            yield nursery
