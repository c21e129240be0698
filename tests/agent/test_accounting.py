"""Tests for crushd/agent/_accounting.py: cost, usage estimate, stop rules."""

from __future__ import annotations

import attrs
import pytest

from crushd.agent._accounting import (
    StepRecord,
    StopRules,
    approx_tokens,
    context_tokens,
    estimate_usage,
    step_cost,
)
from crushd.agent.providers import ChatMessage, ToolCallRequest, Usage
from crushd.agent.tools import ToolCall, ToolResult


@attrs.frozen
class Prices:
    cost_per_1m_in: float = 5.0
    cost_per_1m_out: float = 30.0
    cost_per_1m_in_cached: float = 6.25
    cost_per_1m_out_cached: float = 0.5


def test_step_cost_uses_catwalk_cache_prices() -> None:
    """in_cached prices cache writes, out_cached cache reads (per million)."""
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_read_tokens=1_000_000,
        cache_write_tokens=1_000_000,
    )
    assert step_cost(usage, Prices()) == pytest.approx(5 + 30 + 6.25 + 0.5)


def test_step_cost_provider_figure_wins_and_unknown_prices_cost_nothing() -> None:
    """A provider-reported cost replaces the sum; no prices means 0."""
    assert step_cost(Usage(input_tokens=10, cost=0.25), Prices()) == 0.25
    assert step_cost(Usage(input_tokens=10), None) == 0.0


def test_context_tokens_are_input_plus_cache_read() -> None:
    """prompt_tokens counts cache reads; completion_tokens the output."""
    usage = Usage(input_tokens=10, output_tokens=3, cache_read_tokens=5)
    assert context_tokens(usage) == (15, 3)


def test_estimate_usage_is_bytes_over_four_rounded_up() -> None:
    """Without reported usage, one token per four UTF-8 bytes (upstream twin)."""
    assert approx_tokens("") == 0
    assert approx_tokens("abcde") == 2
    msgs = [
        ChatMessage("user", "abcd"),
        ChatMessage("assistant", "", (ToolCallRequest("id", "view", "{}"),)),
    ]
    usage = estimate_usage(msgs, ["abcdefgh"])
    # "user"=1 + "abcd"=1; "assistant"=3 + "view"=1 + "{}"=1
    assert (usage.input_tokens, usage.output_tokens, usage.cost) == (7, 2, None)


def step(
    name: str = "view", inp: str = "{}", out: str = "x", err: bool = False
) -> StepRecord:
    return StepRecord([(ToolCall("id", name, inp), ToolResult(out, is_error=err))])


def test_loop_detected_after_more_than_five_repeats_in_ten_steps() -> None:
    """The same call and result more than 5 times in the last 10 steps stops
    (upstream twin of loop_detection_test)."""
    rules = StopRules()
    verdicts = [rules.record(step()) for _ in range(10)]
    assert verdicts[:9] == [""] * 9
    assert verdicts[9].startswith("loop detected")


def test_no_loop_when_results_differ() -> None:
    """Same call with different results is not a loop."""
    rules = StopRules()
    assert all(rules.record(step(out=str(i))) == "" for i in range(20))


def test_steps_without_tools_never_count_as_a_loop() -> None:
    """Text-only steps have no signature."""
    rules = StopRules()
    assert all(rules.record(StepRecord([])) == "" for _ in range(20))


def test_error_loop_three_errors_in_a_row_from_one_tool() -> None:
    """Three consecutive error results of one tool stop the turn; a success
    in between resets the count."""
    rules = StopRules()
    assert rules.record(step(inp="1", err=True)) == ""
    assert rules.record(step(inp="2", err=True)) == ""
    assert rules.record(step(inp="3")) == ""
    assert rules.record(step(inp="4", err=True)) == ""
    assert rules.record(step(inp="5", err=True)) == ""
    assert "failed 3 times" in rules.record(step(inp="6", err=True))


def test_step_cap() -> None:
    """The cap fires on the step that reaches it."""
    rules = StopRules(max_steps=3)
    assert [rules.record(step(out=str(i))) for i in range(3)][-1].startswith(
        "step limit reached"
    )
