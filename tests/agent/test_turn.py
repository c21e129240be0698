"""Tests for crushd/agent/_turn.py: one turn end to end with the fake provider."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from crushd import proto
from crushd.agent._errors import (
    CANCELED_MESSAGE,
    CANCELLED_TOOL_RESULT,
    INVALID_INPUT_RESULT,
)
from crushd.agent._lanes import Lanes, Turn
from crushd.agent._turn import TurnRunner
from crushd.agent.providers import (
    Finish,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStart,
    Usage,
    text_turn,
    tool_turn,
)

from ._fakes import EchoTool, Workspace, opener, script

SID = "s1"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path)
    workspace.sessions.add(SID)
    return workspace


def new_turn(lanes: Lanes, prompt: str = "hi", run_id: str = "") -> Turn:
    turn = Turn(session_id=SID, prompt=prompt, run_id=run_id)
    lanes.submit(turn)
    return turn


def finish_of(message: proto.Message) -> dict[str, object]:
    finishes = [p.data for p in message.parts if p.type == "finish"]
    assert len(finishes) == 1, message
    return finishes[0]


def check_closed(ws: Workspace) -> None:
    """Every assistant message has a finish part; every tool call a result."""
    rows = ws.messages.of(SID)
    answered = {
        p.data["tool_call_id"]
        for m in rows
        if m.role == "tool"
        for p in m.parts
        if p.type == "tool_result"
    }
    for message in rows:
        if message.role == "assistant":
            finish_of(message)
            for part in message.parts:
                if part.type == "tool_call":
                    assert part.data["finished"] is True
                    assert part.data["id"] in answered, part


async def test_text_turn_event_order_and_outcome(ws: Workspace) -> None:
    """A text answer: user created before assistant, deltas debounced, a
    structural final update after usage; outcome carries the text."""
    lanes = Lanes()
    turn = new_turn(lanes)
    provider = script(text_turn("Hello there", chunks=3, usage=Usage(10, 5)))
    titles: list[tuple[str, str]] = []
    runner = TurnRunner(
        ws.ports(), lanes, turn, opener(provider), lambda s, p: titles.append((s, p))
    )
    outcome = await runner.run()
    assert outcome.text == "Hello there"
    assert not outcome.error
    assert not outcome.cancelled
    assert titles == [(SID, "hi")]
    assert ws.events.kinds() == [
        "message/created:user",
        "message/created:assistant",
        "session/updated",
        "message/updated:assistant",
    ]
    final = ws.messages.rows[outcome.message_id]
    assert finish_of(final)["reason"] == "end_turn"
    session = ws.sessions.sessions[SID]
    assert (session.prompt_tokens, session.completion_tokens) == (10, 5)
    assert session.cost == pytest.approx((10 * 1.0 + 5 * 2.0) / 1e6)
    sent = provider.requests[0]
    assert [m.role for m in sent.messages] == ["system", "user", "user"]
    assert sent.messages[2].content == "hi"
    assert sent.headers["x-session-id"] == SID


async def test_title_not_started_when_session_has_user_text(ws: Workspace) -> None:
    """A session with an earlier user prompt gets no new title job."""
    lanes = Lanes()
    await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(script(text_turn("a")))
    ).run()
    titles: list[str] = []
    again = Turn(session_id=SID, prompt="again")
    await TurnRunner(
        ws.ports(),
        lanes,
        again,
        opener(script(text_turn("b"))),
        lambda s, p: titles.append(p),
    ).run()
    assert titles == []


async def test_tool_turn_results_are_tool_messages_and_sent_back(ws: Workspace) -> None:
    """Tools run after the stream; each result is a tool message created
    before the step's final update; the next request ends with the results."""
    lanes = Lanes()
    tool = EchoTool()
    provider = script(
        tool_turn(("c1", "echo", {"x": 1}), ("c2", "echo", {"x": 2})),
        text_turn("done"),
    )
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(provider, [tool])
    ).run()
    assert outcome.text == "done"
    kinds = ws.events.kinds()
    assert kinds[:2] == ["message/created:user", "message/created:assistant"]
    first_tool = kinds.index("message/created:tool")
    assert kinds[first_tool : first_tool + 2] == ["message/created:tool"] * 2
    assert kinds[first_tool + 2 : first_tool + 4] == [
        "session/updated",
        "message/updated:assistant",
    ]
    second = provider.requests[1].messages
    assert [m.role for m in second[-3:]] == ["assistant", "tool", "tool"]
    assert [m.tool_call_id for m in second[-2:]] == ["c1", "c2"]
    assert second[-2].content == "echo:{'x': 1}"
    assert [t.name for t in provider.requests[0].tools] == ["echo"]
    check_closed(ws)
    first_assistant = next(m for m in ws.messages.of(SID) if m.role == "assistant")
    assert finish_of(first_assistant)["reason"] == "tool_use"


async def test_parallel_tools_run_concurrently(ws: Workspace) -> None:
    """Two parallel calls are both started before either finishes."""
    gate = trio.Event()
    tool = EchoTool(parallel=True, gate=gate)
    provider = script(tool_turn(("a", "echo", {}), ("b", "echo", {})), text_turn("ok"))
    lanes = Lanes()

    async def release() -> None:
        while len(tool.started) < 2:
            await trio.sleep(0.01)
        gate.set()

    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(release)
            await TurnRunner(
                ws.ports(), lanes, new_turn(lanes), opener(provider, [tool])
            ).run()
    assert sorted(tool.started) == ["a", "b"]
    check_closed(ws)


async def test_unknown_tool_and_broken_tool_give_error_results(ws: Workspace) -> None:
    """An unknown tool name and a tool that raises both answer with error
    results; the turn goes on to the next step."""
    broken = EchoTool(name="broken", raises=True)
    provider = script(
        tool_turn(("u", "nosuch", {}), ("b", "broken", {})), text_turn("fine")
    )
    lanes = Lanes()
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(provider, [broken])
    ).run()
    assert outcome.text == "fine"
    results = {
        p.data["tool_call_id"]: p.data
        for m in ws.messages.of(SID)
        if m.role == "tool"
        for p in m.parts
        if p.type == "tool_result"
    }
    assert results["u"]["is_error"] is True
    assert "nosuch" in str(results["u"]["content"])
    assert results["b"]["is_error"] is True
    assert "tool broke" in str(results["b"]["content"])


async def test_invalid_json_arguments_get_upstream_error(ws: Workspace) -> None:
    """Arguments that are not JSON are stored as {} and answered with an error."""
    tool = EchoTool()
    provider = script(
        [
            ToolCallStart(0, "c1", "echo"),
            ToolCallDone(0, "c1", "echo", "{bad"),
            Finish("tool_calls", None),
        ],
        text_turn("ok"),
    )
    lanes = Lanes()
    await TurnRunner(ws.ports(), lanes, new_turn(lanes), opener(provider, [tool])).run()
    assert tool.started == []
    tool_msg = next(m for m in ws.messages.of(SID) if m.role == "tool")
    assert tool_msg.parts[0].data["content"] == INVALID_INPUT_RESULT


async def test_retry_resets_half_written_message(
    ws: Workspace, autojump_clock: trio.abc.Clock
) -> None:
    """A retryable failure mid-stream resets the message; the answer holds
    only the successful attempt's text."""
    provider = script(
        [
            TextDelta("partial "),
            ProviderError("busy", status=503, retryable=True, retry_after=1),
        ],
        text_turn("whole"),
    )
    lanes = Lanes()
    start = trio.current_time()
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes, run_id="r1"), opener(provider)
    ).run()
    assert outcome.text == "whole"
    assert trio.current_time() - start == pytest.approx(1.0)
    kinds = [k for k, _, _ in ws.events.log]
    resets = [
        n
        for n, (k, i, p) in enumerate(ws.events.log)
        if k == "message" and i == "updated" and not p.parts
    ]
    assert len(resets) == 1
    # run_retry follows the reset it announces (write, then publish)
    assert kinds.count("run_retry") == 1
    assert kinds.index("run_retry") == resets[0] + 1
    notice = ws.events.log[resets[0] + 1]
    assert notice[1:] == (
        "created",
        proto.RunRetry(SID, "Provider error: busy", 1, 3, 1.0, run_id="r1"),
    )


async def test_final_provider_error_finishes_with_error(ws: Workspace) -> None:
    """A non-retryable error: finish error with title and details; outcome error."""
    provider = script(ProviderError("bad key", status=401, title="unauthorized"))
    lanes = Lanes()
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(provider)
    ).run()
    assert outcome.error == "unauthorized: bad key"
    finish = finish_of(ws.messages.rows[outcome.message_id])
    assert finish["reason"] == "error"
    assert finish["message"] == "Unauthorized"
    assert finish["details"] == "bad key"


@pytest.mark.parametrize(
    ("reason", "stored"),
    [("length", "max_tokens"), ("content_filter", "content_filter")],
)
async def test_finish_reasons(ws: Workspace, reason: str, stored: str) -> None:
    """Provider finish reasons are stored mapped."""
    lanes = Lanes()
    outcome = await TurnRunner(
        ws.ports(),
        lanes,
        new_turn(lanes),
        opener(script(text_turn("x", reason=reason))),
    ).run()
    assert finish_of(ws.messages.rows[outcome.message_id])["reason"] == stored


async def test_stop_turn_result_ends_turn(ws: Workspace) -> None:
    """A result asking to stop ends the turn: finish end_turn, no next call."""
    provider = script(tool_turn(("c", "echo", {})), text_turn("never"))
    lanes = Lanes()
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(provider, [EchoTool(stop_turn=True)])
    ).run()
    assert len(provider.requests) == 1
    assert finish_of(ws.messages.rows[outcome.message_id])["reason"] == "end_turn"


async def test_step_cap_stops_visibly(ws: Workspace) -> None:
    """At the step cap the turn stops with finish end_turn "Stopped" and details."""
    provider = script(*(tool_turn((f"c{i}", "echo", {"i": i})) for i in range(5)))
    lanes = Lanes()
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(provider, [EchoTool()], max_steps=2)
    ).run()
    assert len(provider.requests) == 2
    finish = finish_of(ws.messages.rows[outcome.message_id])
    assert (finish["reason"], finish["message"]) == ("end_turn", "Stopped")
    assert "step limit" in str(finish["details"])
    check_closed(ws)


async def test_error_loop_stops(ws: Workspace) -> None:
    """Three error results in a row from one tool stop the turn."""
    provider = script(*(tool_turn((f"c{i}", "echo", {"i": i})) for i in range(5)))
    lanes = Lanes()
    outcome = await TurnRunner(
        ws.ports(), lanes, new_turn(lanes), opener(provider, [EchoTool(error=True)])
    ).run()
    assert len(provider.requests) == 3
    assert "failed 3 times" in str(
        finish_of(ws.messages.rows[outcome.message_id])["details"]
    )


async def test_queued_prompt_without_run_id_folds_at_step_boundary(
    ws: Workspace,
) -> None:
    """A prompt queued while the turn runs becomes a user message before the
    next assistant message and is sent in the next request."""
    lanes = Lanes()
    turn = new_turn(lanes)
    gate = trio.Event()
    provider = script(tool_turn(("c", "echo", {})), text_turn("ok"))
    tool = EchoTool(gate=gate)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            TurnRunner(ws.ports(), lanes, turn, opener(provider, [tool])).run
        )
        while not tool.started:
            await trio.sleep(0.01)
        folded = Turn(session_id=SID, prompt="also this")
        kept = Turn(session_id=SID, prompt="later", run_id="r")
        lanes.submit(folded)
        lanes.submit(kept)
        gate.set()
    users = [m for m in ws.messages.of(SID) if m.role == "user"]
    assert [m.parts[0].data["text"] for m in users] == ["hi", "also this"]
    assert provider.requests[1].messages[-1].content == "also this"
    assert lanes.queued(SID) == ["later"]


async def test_session_not_found_writes_nothing(ws: Workspace) -> None:
    """A turn for an unknown session fails before writing anything."""
    lanes = Lanes()
    turn = Turn(session_id="nope", prompt="hi")
    lanes.submit(turn)
    outcome = await TurnRunner(ws.ports(), lanes, turn, opener(script())).run()
    assert outcome.error == "session not found"
    assert ws.events.log == []


async def test_cancel_before_first_step_persists_canceled_turn(ws: Workspace) -> None:
    """Cancel right after accept: user message and a canceled assistant are
    written, without calling the model (cancel-on-entry twin)."""
    lanes = Lanes()
    turn = new_turn(lanes)
    lanes.cancel(SID)
    provider = script(text_turn("never"))
    outcome = await TurnRunner(ws.ports(), lanes, turn, opener(provider)).run()
    assert outcome.cancelled
    assert not outcome.error
    assert provider.requests == []
    assert ws.events.kinds() == [
        "message/created:user",
        "message/created:assistant",
        "message/updated:assistant",
    ]
    finish = finish_of(ws.messages.rows[outcome.message_id])
    assert (finish["reason"], finish["message"]) == ("canceled", CANCELED_MESSAGE)


def cancel_script() -> list[object]:
    return [
        [
            ReasoningDelta("think"),
            TextDelta("\n\n"),
            ToolCallStart(0, "c1", "echo"),
            ToolCallDelta(0, "{}"),
            ToolCallStart(1, "c2", "par"),
            ToolCallDelta(1, "{}"),
            ToolCallDone(0, "c1", "echo", "{}"),
            ToolCallDone(1, "c2", "par", "{}"),
            Finish("tool_calls", Usage(1, 1)),
        ],
        text_turn("the end", chunks=2),
    ]


async def test_cancel_at_every_await_leaves_a_closed_history(tmp_path: Path) -> None:
    """Cancelling at each await of a turn (message writes, session calls,
    tools, setup) leaves every assistant with a finish and every tool call
    with a result, and the outcome says cancelled."""
    n = 1
    while True:
        ws = Workspace(tmp_path)
        ws.sessions.add(SID)
        lanes = Lanes()
        turn = new_turn(lanes)
        ws.trip.at, ws.trip.scope = n, turn.scope
        tools = [
            EchoTool(trip=ws.trip),
            EchoTool(name="par", parallel=True, trip=ws.trip),
        ]
        provider = script(*cancel_script())  # type: ignore[arg-type]
        with trio.fail_after(10):
            outcome = await TurnRunner(
                ws.ports(), lanes, turn, opener(provider, tools, trip=ws.trip)
            ).run()
        if not ws.trip.fired:
            assert not outcome.cancelled
            break
        assert outcome.cancelled, n
        check_closed(ws)
        canceled = ws.messages.rows[outcome.message_id]
        assert finish_of(canceled)["reason"] == "canceled"
        n += 1
    assert n > 10  # the walk covered the whole turn


async def test_cancel_mid_tools_answers_unfinished_calls(ws: Workspace) -> None:
    """A cancel while a tool runs gives its call the cancelled result."""
    lanes = Lanes()
    turn = new_turn(lanes)
    gate = trio.Event()
    tool = EchoTool(gate=gate)
    provider = script(tool_turn(("c", "echo", {})))
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            TurnRunner(ws.ports(), lanes, turn, opener(provider, [tool])).run
        )
        while not tool.started:
            await trio.sleep(0.01)
        lanes.cancel(SID)
    tool_msg = next(m for m in ws.messages.of(SID) if m.role == "tool")
    assert tool_msg.parts[0].data["content"] == CANCELLED_TOOL_RESULT
    check_closed(ws)


async def test_outer_cancel_persists_then_propagates(ws: Workspace) -> None:
    """A cancel from outside (teardown) writes the cancelled state and propagates."""
    lanes = Lanes()
    turn = new_turn(lanes)
    gate = trio.Event()
    provider = script([TextDelta("a"), gate, Finish("stop", None)])
    with trio.CancelScope() as outer:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                TurnRunner(ws.ports(), lanes, turn, opener(provider)).run
            )
            while not ws.messages.pending and len(ws.messages.rows) < 2:
                await trio.sleep(0.01)
            await trio.sleep(0.01)
            outer.cancel()
    assert outer.cancelled_caught
    check_closed(ws)
    assistant = next(m for m in ws.messages.of(SID) if m.role == "assistant")
    assert finish_of(assistant)["reason"] == "canceled"
