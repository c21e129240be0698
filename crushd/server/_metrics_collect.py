"""``GET /v1/metrics``'s families, computed at scrape time from live state.

Imported on the first scrape only (prometheus-client is not loaded at daemon
start). Each server gets its own ``CollectorRegistry`` (never the global
one) holding the process collector and a ``ServerCollector``, which reads
the registry of workspaces, their event logs and services, the request
counters (``_metrics_requests``) and the agent's counters
(``crushd.agent.AGENT_STATS``, read only once the agent package was loaded
by some workspace: before that, no run happened). Nothing here runs on a
request's or a publish's path.

Events published and resyncs are summed over the event logs (each log's
head, its ``resyncs``); the totals of a workspace that went away are kept
from its log (held weakly) or, once it was collected, from the last scrape.

Source: issue 15 section 1; docs/protocol.md 3 (event log, resync).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from math import inf
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import trio
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.process_collector import ProcessCollector

from crushd._durations import Durations

from ._metrics_requests import RequestStats
from .http import ServerContext

if TYPE_CHECKING:
    from crushd.agent import AgentStats
    from crushd.workspace import Workspace

__all__ = ["CONTENT_TYPE_LATEST", "ServerCollector", "render"]


@runtime_checkable
class _Lanes(Protocol):
    def busy_sessions(self) -> list[str]: ...


@runtime_checkable
class _Agent(Protocol):
    lanes: _Lanes

    def queued(self, session_id: str) -> list[str]: ...


def _histogram(
    family: HistogramMetricFamily, labels: list[str], durations: Durations
) -> None:
    buckets = [("+Inf" if b == inf else repr(b), n) for b, n in durations.cumulative()]
    family.add_metric(labels, buckets, durations.total)


def _agent_stats() -> AgentStats | None:
    """The agent's counters, if any workspace loaded the agent package."""
    if "crushd.agent" not in sys.modules:
        return None
    from crushd.agent import AGENT_STATS

    return AGENT_STATS


class ServerCollector:
    """A prometheus-client collector over one server's live state.

    Args:
        ctx: the server's context (its workspace registry).
        requests: the server's request counters.
    """

    def __init__(self, ctx: ServerContext, requests: RequestStats) -> None:
        self.ctx = ctx
        self.requests = requests
        self._first_seen: dict[str, float] = {}

    def collect(self) -> Iterator[Metric]:
        """Yield every crushd family (the process collector adds its own)."""
        workspaces = [h.workspace for h in self.ctx.registry.workspaces()]
        yield from self._hosting(workspaces)
        yield from self._events(workspaces)
        yield from self._requests()
        yield from self._prompts(workspaces)
        yield from self._agent(_agent_stats())

    def _hosting(self, workspaces: list[Workspace]) -> Iterator[Metric]:
        hosted = self.ctx.registry.workspaces()
        clients = {client for h in hosted for client in h.claims}
        yield GaugeMetricFamily(
            "crushd_workspaces", "Workspaces hosted.", value=len(workspaces)
        )
        yield GaugeMetricFamily(
            "crushd_clients",
            "Distinct clients holding a workspace.",
            value=len(clients),
        )
        streams = GaugeMetricFamily(
            "crushd_streams", "Event streams open, by kind.", labels=["kind"]
        )
        for kind, count in sorted(self.requests.streams.items()):
            streams.add_metric([kind], count)
        yield streams

    def _events(self, workspaces: list[Workspace]) -> Iterator[Metric]:
        # The daemon's totals, past workspaces included (``EventTraffic``).
        traffic = self.ctx.traffic
        yield CounterMetricFamily(
            "crushd_events_published",
            "Events published to the logs.",
            value=traffic.published,
        )
        yield CounterMetricFamily(
            "crushd_events_delivered",
            "Events written to streams (one event to one SSE or WebSocket stream).",
            value=traffic.delivered,
        )
        yield CounterMetricFamily(
            "crushd_resyncs",
            "Stream reads that led with a resync (cursor outside the ring).",
            value=traffic.resyncs,
        )
        yield CounterMetricFamily(
            "crushd_flush_window_stretches",
            "Debounces a message flush window was kept open past its own while "
            "the daemon's event traffic was heavy.",
            value=traffic.stretches,
        )
        lag = GaugeMetricFamily(
            "crushd_replay_log_lag_events",
            "Per workspace, the most events a reader can trail the head by and "
            "still resume without a resync (head - oldest held + 1).",
            labels=["workspace_id"],
        )
        for workspace in workspaces:
            log = workspace.log
            lag.add_metric([workspace.id], log.head - log.oldest + 1)
        yield lag

    def _requests(self) -> Iterator[Metric]:
        total = CounterMetricFamily(
            "crushd_http_requests",
            "Requests answered, by method, route template and status.",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in sorted(self.requests.statuses.items()):
            total.add_metric([method, route, str(status)], count)
        yield total
        latency = HistogramMetricFamily(
            "crushd_http_request_duration_seconds",
            "Seconds from a request's arrival to its response head.",
            labels=["method", "route"],
        )
        for (method, route), durations in sorted(self.requests.latency.items()):
            _histogram(latency, [method, route], durations)
        yield latency

    def _prompts(self, workspaces: list[Workspace]) -> Iterator[Metric]:
        queued = sum(_queued(w.agent) for w in workspaces)
        yield GaugeMetricFamily(
            "crushd_queued_prompts",
            "Prompts queued behind a running turn.",
            value=queued,
        )
        pending = [r for w in workspaces for r in w.permissions.pending()]
        yield GaugeMetricFamily(
            "crushd_permission_requests_pending",
            "Permission requests waiting for a decision.",
            value=len(pending),
        )
        yield GaugeMetricFamily(
            "crushd_permission_oldest_pending_age_seconds",
            "Age of the oldest pending permission request, from the tool's ask "
            "(0 when none).",
            value=self._oldest_age([(r.id, r.tool_call_id) for r in pending]),
        )

    def _oldest_age(self, pending: list[tuple[str, str]]) -> float:
        """Seconds since the oldest pending ask.

        A request asked outside the agent counts from the first scrape that
        saw it.
        """
        now = trio.current_time()
        stats = _agent_stats()
        asking = stats.asking if stats is not None else {}
        seen = {rid: self._first_seen.get(rid, now) for rid, _ in pending}
        self._first_seen = seen
        starts = [asking.get(tcid, seen[rid]) for rid, tcid in pending]
        return max(0.0, now - min(starts)) if starts else 0.0

    def _agent(self, stats: AgentStats | None) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "crushd_agent_runs", "Agent runs ended, by outcome.", labels=["outcome"]
        )
        seconds = HistogramMetricFamily(
            "crushd_agent_run_duration_seconds",
            "Seconds from a run's start to its end, by outcome.",
            labels=["outcome"],
        )
        waits = HistogramMetricFamily(
            "crushd_permission_wait_seconds",
            "Seconds from a tool's permission ask to its answer (asks answered "
            "by a rule observe about 0).",
        )
        tools = CounterMetricFamily(
            "crushd_tool_calls",
            "Tool calls, by tool and outcome.",
            labels=["tool", "outcome"],
        )
        errors = CounterMetricFamily(
            "crushd_provider_errors", "Failed model calls, by type.", labels=["type"]
        )
        if stats is not None:
            _fill_agent(stats, runs, seconds, waits, tools, errors)
        yield from (runs, seconds, waits, tools, errors)


def _fill_agent(
    stats: AgentStats,
    runs: CounterMetricFamily,
    seconds: HistogramMetricFamily,
    waits: HistogramMetricFamily,
    tools: CounterMetricFamily,
    errors: CounterMetricFamily,
) -> None:
    for outcome, durations in sorted(stats.runs.items()):
        runs.add_metric([outcome], durations.count)
        _histogram(seconds, [outcome], durations)
    _histogram(waits, [], stats.permission_wait)
    for (tool, outcome), count in sorted(stats.tool_calls.items()):
        tools.add_metric([tool, outcome], count)
    for kind, count in sorted(stats.provider_errors.items()):
        errors.add_metric([kind], count)


def _queued(agent: object) -> int:
    if not isinstance(agent, _Agent):
        return 0
    return sum(len(agent.queued(sid)) for sid in agent.lanes.busy_sessions())


def render(ctx: ServerContext, requests: RequestStats) -> bytes:
    """The Prometheus text exposition of one server, its registry made once.

    The registry is kept in ``requests.scrape_state``; it holds this
    server's ``ServerCollector`` and a ``ProcessCollector``.
    """
    registry = requests.scrape_state
    if not isinstance(registry, CollectorRegistry):
        registry = requests.scrape_state = CollectorRegistry()
        ProcessCollector(registry=registry)
        registry.register(ServerCollector(ctx, requests))
    return generate_latest(registry)
