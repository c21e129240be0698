"""A permission gate for tool tests: answers as told and records every ask."""

from __future__ import annotations

import attrs

from crushd.agent.tools import PermissionAsk


@attrs.define
class RecordingGate:
    """A PermissionGate that answers ``allow`` and remembers what was asked.

    Attributes:
        allow: the answer to every request.
        asks: ``(session_id, tool_call_id, ask)`` per request, in order.
    """

    allow: bool = True
    asks: list[tuple[str, str, PermissionAsk]] = attrs.field(factory=list)

    async def request(
        self, session_id: str, tool_call_id: str, ask: PermissionAsk
    ) -> bool:
        """Record the request and answer ``allow``."""
        self.asks.append((session_id, tool_call_id, ask))
        return self.allow

    @property
    def only_ask(self) -> PermissionAsk:
        """The single request made (fails the test when there were others)."""
        assert len(self.asks) == 1, self.asks
        return self.asks[0][2]
