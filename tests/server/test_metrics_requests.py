"""The request layer of ``/v1/metrics``: route templates, failed requests
logged, and the agent's counters as they reach the scrape (issue 15).
"""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from crushd.agent import AGENT_STATS, RunOutcome
from crushd.agent._dispatch import run_calls
from crushd.agent._retry import RetryNotice, RetryPolicy, call_with_retries
from crushd.agent.providers import ProviderError
from crushd.agent.tools import ToolCall, ToolContext, ToolResult
from crushd.server._metrics_requests import (
    UNMATCHED,
    ObserveRequests,
    RequestStats,
    RouteIndex,
    log_failure,
)
from crushd.server.routes import ROUTES

from .conftest import Harness

GRANT = "/v1/workspaces/<workspace_id>/permissions/grant"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


WS = "/v1/workspaces/<workspace_id>"
SESSION = f"{WS}/sessions/<session_id>"


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/v1/health", "/v1/health"),
        ("/v1/health/", "/v1/health"),
        ("/v1/workspaces/abc/permissions/grant", GRANT),
        ("/v1/workspaces/abc/messages/user", f"{WS}/messages/user"),
        ("/v1/workspaces/abc/sessions/s1", SESSION),
        ("/v1/workspaces/abc/sessions/s1/messages/user", f"{SESSION}/messages/user"),
        ("/v1/workspaces//events", UNMATCHED),
        ("/v1/nope", UNMATCHED),
        ("/", UNMATCHED),
    ],
)
def test_route_index_finds_the_template(path: str, template: str) -> None:
    """Fixed segments win over ``<name>``; a trailing slash is ignored."""
    assert RouteIndex(ROUTES).template(path) == template


async def test_failed_request_logs_route_template_status_and_duration(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A 404 logs one INFO line with the template, never the raw path."""
    caplog.set_level(logging.INFO, logger="crushd.server.requests")
    response = await harness.client.post("/v1/workspaces/w-123/permissions/grant")
    assert response.status_code == 404
    (record,) = [r for r in caplog.records if r.name == "crushd.server.requests"]
    assert record.levelno == logging.INFO
    assert record.exc_info is None
    assert record.getMessage().startswith(f"POST {GRANT} -> 404 in ")
    assert "w-123" not in record.getMessage()
    assert (record.__dict__["route"], record.__dict__["status"]) == (GRANT, 404)
    assert record.__dict__["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("status", "level"),
    [
        (400, logging.INFO),
        (401, logging.WARNING),
        (409, logging.INFO),
        (500, logging.ERROR),
        (501, logging.WARNING),
        (502, logging.ERROR),
        (503, logging.WARNING),
    ],
)
def test_failure_levels_keep_error_for_daemon_faults(
    status: int, level: int, caplog: pytest.LogCaptureFixture
) -> None:
    """503 (busy, shutting down) and 501 are answers, not faults: no ERROR line."""
    caplog.set_level(logging.INFO, logger="crushd.server.requests")
    log_failure("POST", "/v1/workspaces", status, 0.001)
    (record,) = [r for r in caplog.records if r.name == "crushd.server.requests"]
    assert record.levelno == level


async def test_successful_request_logs_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Only failures are logged."""
    caplog.set_level(logging.DEBUG, logger="crushd.server.requests")
    assert (await harness.client.get("/v1/health")).status_code == 200
    assert not [r for r in caplog.records if r.name == "crushd.server.requests"]


async def test_escaped_error_is_a_500_logged_at_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An exception out of the app counts as 500 and logs ERROR, no traceback."""

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    stats = RequestStats()
    observe = ObserveRequests(broken, stats, ROUTES)
    scope = {"type": "http", "method": "GET", "path": "/v1/workspaces/w/config"}
    with pytest.raises(RuntimeError):
        await observe(scope, None, None)
    template = "/v1/workspaces/<workspace_id>/config"
    assert stats.statuses == {("GET", template, 500): 1}
    (record,) = [r for r in caplog.records if r.name == "crushd.server.requests"]
    assert (record.levelno, record.exc_info) == (logging.ERROR, None)


async def test_agent_counters_reach_the_scrape(harness: Harness) -> None:
    """A tool call, a failed model call and a run show with their labels."""

    async def record(call: ToolCall, result: ToolResult) -> None:
        pass

    def no_context(call: ToolCall) -> ToolContext:
        return cast("ToolContext", None)  # an unknown tool never reads it

    async def fail() -> None:
        raise ProviderError("slow down", status=429, retryable=False)

    async def never(notice: RetryNotice) -> None:
        raise AssertionError("not retried")

    await run_calls([ToolCall("c1", "no_such_tool", "{}")], {}, no_context, record)
    with pytest.raises(ProviderError):
        await call_with_retries(fail, never, RetryPolicy())
    AGENT_STATS.run_ended(RunOutcome(error="failed"), 2.0)
    await trio.lowlevel.checkpoint()
    text = await (await harness.client.get("/v1/metrics")).get_data(as_text=True)
    found = samples(text)
    tool = ("crushd_tool_calls_total", (("outcome", "error"), ("tool", "unknown")))
    assert found[tool] == AGENT_STATS.tool_calls["unknown", "error"] >= 1
    error = ("crushd_provider_errors_total", (("type", "rate_limited"),))
    assert found[error] == AGENT_STATS.provider_errors["rate_limited"] >= 1
    runs = ("crushd_agent_runs_total", (("outcome", "error"),))
    assert found[runs] == AGENT_STATS.runs["error"].count >= 1
    bucket = (
        "crushd_agent_run_duration_seconds_bucket",
        (("le", "5.0"), ("outcome", "error")),
    )
    assert found[bucket] >= 1
