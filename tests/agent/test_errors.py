"""Tests for crushd/agent/_errors.py: finish reasons and failure texts."""

from __future__ import annotations

import pytest

from crushd.agent._errors import CANCELLED, describe_failure, step_finish_reason
from crushd.agent.providers import ProviderError


@pytest.mark.parametrize(
    ("provider", "stored"),
    [
        ("length", "max_tokens"),
        ("stop", "end_turn"),
        ("tool_calls", "tool_use"),
        ("content_filter", "content_filter"),
        ("weird", "unknown"),
    ],
)
def test_step_finish_reason_map(provider: str, stored: str) -> None:
    """Provider finish reasons map as upstream's OnStepFinish does."""
    assert step_finish_reason(provider) == stored


def test_stop_turn_makes_tool_use_end_turn() -> None:
    """A result that stops the turn turns tool_use into end_turn."""
    assert step_finish_reason("tool_calls", stop_turn=True) == "end_turn"
    assert step_finish_reason("length", stop_turn=True) == "max_tokens"


def test_provider_error_title_capitalised_message_as_details() -> None:
    """A provider error's title is title-cased; the event text is title: message."""
    failure = describe_failure(
        ProviderError("slow down", status=429, title="rate limited")
    )
    assert (failure.reason, failure.title, failure.details) == (
        "error",
        "Rate Limited",
        "slow down",
    )
    assert failure.error == "rate limited: slow down"
    assert not failure.cancelled


def test_other_exception_is_provider_error_with_its_text() -> None:
    """Anything else is a Provider Error carrying the exception text."""
    failure = describe_failure(RuntimeError("disk on fire"))
    assert (failure.title, failure.details, failure.error) == (
        "Provider Error",
        "disk on fire",
        "disk on fire",
    )


def test_cancelled_record() -> None:
    """A cancel finishes canceled with upstream's message and no error text."""
    assert (CANCELLED.reason, CANCELLED.title, CANCELLED.error) == (
        "canceled",
        "User canceled request",
        "",
    )
    assert CANCELLED.cancelled
