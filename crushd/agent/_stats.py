"""Process-wide counters of the agent: runs, tool calls, provider errors, asks.

Plain dict and int updates, written where the agent already is (the end of
a run, a tool result, a failed model call, a permission ask) and read by
``GET /v1/metrics`` at scrape time; the agent never imports the server.
``AGENT_STATS`` is one object per process, so it outlives workspaces.

Source: issue 15 section 1 (agent runs, tool calls, provider errors,
permission wait time).
"""

from __future__ import annotations

import trio

from crushd._durations import Durations

from ._lanes import RunOutcome
from .providers import ProviderError
from .tools import PermissionAsk, PermissionGate

__all__ = ["AGENT_STATS", "AgentStats", "TimedPermissions", "run_outcome"]

#: Upper bounds (seconds) for run durations.
RUN_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
#: Upper bounds (seconds) for permission waits.
WAIT_BUCKETS = (0.1, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


def run_outcome(outcome: RunOutcome) -> str:
    """``cancelled``, ``error`` or ``completed``: a run's outcome label."""
    if outcome.cancelled:
        return "cancelled"
    return "error" if outcome.error else "completed"


def provider_error_type(error: ProviderError) -> str:
    """A bounded label for a failed model call (status class or transport)."""
    status = error.status
    if status is None:
        return {"Request Timeout": "timeout", "Connection Error": "connection"}.get(
            error.title, "stream"
        )
    if status in (401, 403):
        return "unauthorized"
    if status == 429:
        return "rate_limited"
    return "server_error" if status >= 500 else "client_error"


class AgentStats:
    """The agent's counters; every method is a dict lookup and an int add.

    Attributes:
        runs: outcome label -> duration histogram (its ``count`` is the runs).
        tool_calls: ``(tool, "ok" | "error")`` -> calls.
        provider_errors: ``provider_error_type`` label -> failed model calls
            (every attempt, retried or not).
        permission_wait: seconds from a tool's permission ask to its answer;
            asks answered by a rule (yolo, ``allowed_tools``, an earlier
            ``allow_session``) observe about 0.
        asking: tool call id -> ``trio.current_time()`` of its open ask.
    """

    def __init__(self) -> None:
        self.runs: dict[str, Durations] = {}
        self.tool_calls: dict[tuple[str, str], int] = {}
        self.provider_errors: dict[str, int] = {}
        self.permission_wait = Durations(WAIT_BUCKETS)
        self.asking: dict[str, float] = {}

    def run_ended(self, outcome: RunOutcome, seconds: float) -> None:
        """Count a finished run (``seconds`` from its start to its end)."""
        label = run_outcome(outcome)
        durations = self.runs.get(label)
        if durations is None:
            durations = self.runs[label] = Durations(RUN_BUCKETS)
        durations.observe(seconds)

    def tool_call(self, tool: str, is_error: bool) -> None:
        """Count one tool result (``tool`` must be an offered tool's name)."""
        key = (tool, "error" if is_error else "ok")
        self.tool_calls[key] = self.tool_calls.get(key, 0) + 1

    def provider_error(self, error: ProviderError) -> None:
        """Count one failed model call."""
        label = provider_error_type(error)
        self.provider_errors[label] = self.provider_errors.get(label, 0) + 1


#: The process's agent counters.
AGENT_STATS = AgentStats()


class TimedPermissions:
    """A ``PermissionGate`` that times each ask into ``AGENT_STATS``.

    Args:
        gate: the workspace's permission service.
        stats: where to count (``AGENT_STATS`` unless a test says otherwise).
    """

    def __init__(self, gate: PermissionGate, stats: AgentStats = AGENT_STATS) -> None:
        self.gate = gate
        self.stats = stats

    async def request(
        self, session_id: str, tool_call_id: str, ask: PermissionAsk
    ) -> bool:
        """``gate.request``, with the ask's start kept in ``stats.asking``."""
        start = self.stats.asking[tool_call_id] = trio.current_time()
        try:
            return await self.gate.request(session_id, tool_call_id, ask)
        finally:
            self.stats.asking.pop(tool_call_id, None)
            self.stats.permission_wait.observe(trio.current_time() - start)
