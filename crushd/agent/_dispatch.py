"""Running a step's tool calls: after the stream, in order, some in parallel.

Calls are dispatched in the order the model made them. A tool marked
``parallel`` runs concurrently with the others (at most five at a time); the
rest run one at a time. Every call gets a result: an unknown tool, arguments
that were not JSON, and a tool that raised all become error results, and the
turn goes on (docs/agent.md 1.6).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence

import trio

from ._errors import INVALID_INPUT_RESULT
from ._stats import AGENT_STATS
from .tools import Tool, ToolCall, ToolContext, ToolResult

log = logging.getLogger(__name__)

#: Parallel tool calls running at once, per step.
MAX_PARALLEL_TOOLS = 5

#: Called with each call and its result, in completion order.
ResultHandler = Callable[[ToolCall, ToolResult], Awaitable[None]]
#: Builds the context of one call.
ContextFactory = Callable[[ToolCall], ToolContext]


def unknown_tool(name: str) -> ToolResult:
    """The error result for a call to a tool that does not exist."""
    return ToolResult(f"Error: there is no tool named {name!r}.", is_error=True)


async def invoke(tool: Tool | None, call: ToolCall, ctx: ToolContext) -> ToolResult:
    """Run one call; never raises except ``Cancelled``.

    An exception from the tool becomes an error result carrying its text
    (upstream makes it fatal for the step; crushd keeps the turn going).
    """
    if tool is None:
        return unknown_tool(call.name)
    try:
        return await tool.run(call, ctx)
    except Exception as exc:  # a broken tool must not end the turn
        log.exception("tool %s failed", call.name)
        return ToolResult(f"Error: the {call.name} tool failed: {exc}", is_error=True)


async def run_calls(
    calls: Sequence[ToolCall],
    tools: Mapping[str, Tool],
    context: ContextFactory,
    on_result: ResultHandler,
    invalid_inputs: Collection[str] = (),
) -> None:
    """Run ``calls`` and hand each result to ``on_result`` as it completes.

    Args:
        calls: the step's finished tool calls, in call order.
        tools: the tools offered, by name.
        context: builds each call's ``ToolContext``.
        on_result: awaited once per call (persists the ``tool`` message).
        invalid_inputs: ids of calls whose arguments were not JSON; they get
            upstream's error result without running.

    Cancellation:
        Cancelling stops running tools; calls whose ``on_result`` did not
        complete have no result, and the turn's exit path writes one.
    """
    limiter = trio.CapacityLimiter(MAX_PARALLEL_TOOLS)

    async def one(call: ToolCall) -> None:
        if call.id in invalid_inputs:
            result = ToolResult(INVALID_INPUT_RESULT, is_error=True)
        else:
            async with limiter:
                result = await invoke(tools.get(call.name), call, context(call))
        name = call.name if call.name in tools else "unknown"
        AGENT_STATS.tool_call(name, result.is_error)
        await on_result(call, result)

    async with trio.open_nursery() as nursery:
        for call in calls:
            tool = tools.get(call.name)
            if tool is not None and tool.parallel:
                nursery.start_soon(one, call)
            else:
                await one(call)
