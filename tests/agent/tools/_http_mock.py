"""A mock network for the web tools' tests (``fetch``, ``download``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import httpx

from crushd.agent.tools import Tool, ToolResult
from crushd.agent.tools._http import client_opener

from ._gate import RecordingGate
from ._helpers import call
from .conftest import MakeContext

Handler = Callable[[httpx.Request], object]
"""Answers a request: an ``httpx.Response`` or an awaitable of one."""


class Mock:
    """A mock network: the handler answers, requests are recorded."""

    def __init__(self, handler: Handler) -> None:
        self.requests: list[httpx.Request] = []
        self._handler = handler

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self._handler(request)
        if not isinstance(answer, httpx.Response):
            answer = await answer  # type: ignore[misc]
        assert isinstance(answer, httpx.Response)
        return answer


async def call_over_mock(
    make_ctx: MakeContext,
    tool: Tool,
    args: Mapping[str, object],
    handler: Handler,
    gate: RecordingGate | None,
) -> tuple[ToolResult, Mock]:
    """Run ``tool`` with ``args`` over a mock network answered by ``handler``.

    ``gate`` defaults to one that allows everything. Returns the result and the
    mock (its ``requests`` are what the tool sent).
    """
    mock = Mock(handler)
    ctx = make_ctx(
        permissions=gate or RecordingGate(),
        http=client_opener(httpx.MockTransport(mock)),
    )
    return await call(tool, ctx, json.dumps(args)), mock
