"""Step accounting: usage and cost, and the rules that stop a runaway turn.

Usage describes the context now (set, not added); cost accumulates. A turn
stops early when the model repeats itself (upstream's loop detection), when
one tool keeps failing (three error results in a row), or at the step cap;
an early stop is made visible as ``finish{end_turn, "Stopped", details}``
(docs/agent.md 1.7).
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from typing import Protocol

import attrs

from .providers import ChatMessage, Usage
from .tools import ToolCall, ToolResult

#: Steps looked at by loop detection, and how often one may repeat there.
LOOP_WINDOW_STEPS = 10
LOOP_MAX_REPEATS = 5
#: Consecutive error results from one tool that stop the turn.
ERROR_LOOP_RESULTS = 3
#: Default cap on model calls per turn.
MAX_STEPS = 100
#: The finish message of an early stop.
STOPPED = "Stopped"


class Prices(Protocol):
    """A model's prices in US dollars per million tokens (catwalk's fields).

    ``cost_per_1m_in_cached`` is the cache *write* price and
    ``cost_per_1m_out_cached`` the cache *read* price, as catwalk uses them.
    """

    @property
    def cost_per_1m_in(self) -> float:
        """Input price."""

    @property
    def cost_per_1m_out(self) -> float:
        """Output price."""

    @property
    def cost_per_1m_in_cached(self) -> float:
        """Cache-write price."""

    @property
    def cost_per_1m_out_cached(self) -> float:
        """Cache-read price."""


def step_cost(usage: Usage, prices: Prices | None) -> float:
    """Return one call's cost in US dollars.

    The provider's own figure (OpenRouter) wins; otherwise the four token
    counts times their prices. No prices known: 0.

    Source: Crush ``agent.go`` ``updateSessionUsage``.
    """
    if usage.cost is not None:
        return usage.cost
    if prices is None:
        return 0.0
    total = (
        prices.cost_per_1m_in_cached * usage.cache_write_tokens
        + prices.cost_per_1m_out_cached * usage.cache_read_tokens
        + prices.cost_per_1m_in * usage.input_tokens
        + prices.cost_per_1m_out * usage.output_tokens
    )
    return total / 1e6


def context_tokens(usage: Usage) -> tuple[int, int]:
    """Return the session's ``(prompt_tokens, completion_tokens)`` after a step.

    ``prompt_tokens`` = input + cache-read tokens; ``completion_tokens`` =
    output tokens: together the context size auto-summarize compares.
    """
    return usage.input_tokens + usage.cache_read_tokens, usage.output_tokens


def approx_tokens(text: str) -> int:
    """Estimate tokens as one per four UTF-8 bytes, rounded up (upstream)."""
    return (len(text.encode("utf-8", "surrogatepass")) + 3) // 4


def estimate_usage(messages: Iterable[ChatMessage], output: Iterable[str]) -> Usage:
    """Estimate a call's usage when the provider reported none (cost 0).

    Args:
        messages: what was sent (roles, texts, tool calls).
        output: the texts the model produced (answer, reasoning, call names
            and inputs).

    Source: Crush ``internal/agent/usage_fallback.go``.
    """
    sent = sum(_message_tokens(m) for m in messages)
    return Usage(input_tokens=sent, output_tokens=sum(map(approx_tokens, output)))


def _message_tokens(message: ChatMessage) -> int:
    texts = [message.role, message.content, message.tool_call_id]
    for call in message.tool_calls:
        texts += [call.name, call.arguments]
    return sum(map(approx_tokens, texts))


@attrs.frozen
class StepRecord:
    """What one step's tools did: each call with its result."""

    calls: Sequence[tuple[ToolCall, ToolResult]]

    def signature(self) -> str:
        """A hash of the calls (name, input) paired with their result texts."""
        if not self.calls:
            return ""
        digest = hashlib.sha256()
        for call, result in self.calls:
            for text in (call.name, call.input, result.content):
                digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
        return digest.hexdigest()


class StopRules:
    """The early-stop rules of one turn; feed it each finished step.

    Args:
        max_steps: model calls allowed in the turn (default 100).
    """

    def __init__(self, max_steps: int = MAX_STEPS) -> None:
        self.max_steps = max_steps
        self.steps = 0
        self._signatures: deque[str] = deque(maxlen=LOOP_WINDOW_STEPS)
        self._errors: Counter[str] = Counter()

    def record(self, step: StepRecord) -> str:
        """Record a finished step; return why the turn must stop, or ``""``.

        The returned text is the ``details`` of the visible ``Stopped``
        finish: which rule fired and what repeated.
        """
        self.steps += 1
        self._signatures.append(step.signature())
        return self._loop() or self._error_loop(step) or self._cap()

    def _loop(self) -> str:
        if len(self._signatures) < LOOP_WINDOW_STEPS:
            return ""
        counts = Counter(s for s in self._signatures if s)
        if any(n > LOOP_MAX_REPEATS for n in counts.values()):
            return (
                "loop detected: the same tool calls with the same results "
                f"more than {LOOP_MAX_REPEATS} times in {LOOP_WINDOW_STEPS} steps"
            )
        return ""

    def _error_loop(self, step: StepRecord) -> str:
        for call, result in step.calls:
            self._errors[call.name] = (
                self._errors[call.name] + 1 if result.is_error else 0
            )
            if self._errors[call.name] >= ERROR_LOOP_RESULTS:
                return f"tool {call.name!r} failed {ERROR_LOOP_RESULTS} times in a row"
        return ""

    def _cap(self) -> str:
        if self.steps >= self.max_steps:
            return f"step limit reached: {self.max_steps} model calls in one turn"
        return ""
