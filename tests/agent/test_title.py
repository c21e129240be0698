"""Tests for crushd/agent/_title.py: the title job and its fallbacks."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest
import trio

from crushd.agent._title import DEFAULT_TITLE, clean_title, generate_title
from crushd.agent.providers import (
    FakeProvider,
    Finish,
    Provider,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    Usage,
    text_turn,
)

from ._fakes import FakeFacts, FakeModel, Workspace

SMALL = FakeModel(model=FakeFacts(id="small", cost_per_1m_in=1e6, cost_per_1m_out=0.0))
LARGE = FakeModel(model=FakeFacts(id="large", cost_per_1m_in=2e6, cost_per_1m_out=0.0))


def length_turn() -> list[object]:
    return [ReasoningDelta("hmm"), Finish("length", Usage(3, 40))]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path)
    workspace.sessions.add("s")
    return workspace


def opener(scripts: dict[str, FakeProvider]):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def open_provider(model: FakeModel) -> AsyncIterator[Provider]:
        await trio.lowlevel.checkpoint()
        yield scripts[model.model.id]

    return open_provider


def test_clean_title_removes_think_and_newlines() -> None:
    """Newlines become spaces; think blocks and stray tags are removed."""
    assert clean_title("<think>x\ny</think>Fix\nthe bug</think>", "p") == "Fix the bug"


def test_clean_title_empty_answer_uses_prompt_cut_to_50() -> None:
    """An empty answer falls back to the prompt, one line, 50 chars with an ellipsis."""
    prompt = "word " * 20
    title = clean_title("  ", prompt)
    assert len(title) == 50
    assert title.endswith("…")
    assert clean_title("", "short\nprompt") == "short prompt"
    assert clean_title("", "  ") == DEFAULT_TITLE


async def test_small_model_title_and_cost_only(ws: Workspace) -> None:
    """The small model's answer is the title; its cost is added to cost only."""
    small = FakeProvider([text_turn("Nice title", usage=Usage(2, 1))])
    title = await generate_title(
        ws.sessions, "s", "do x", [SMALL, LARGE], opener({"small": small})
    )
    assert title == "Nice title"
    session = ws.sessions.sessions["s"]
    assert session.title == "Nice title"
    assert session.cost == pytest.approx(2.0)
    assert (session.prompt_tokens, session.completion_tokens) == (0, 0)
    request = small.requests[0]
    assert request.max_tokens == 40
    assert request.tools == ()
    assert [m.role for m in request.messages] == ["system", "user"]
    assert "do x" in request.messages[1].content


async def test_small_length_falls_back_to_large(ws: Workspace) -> None:
    """A small model stopping on length makes the large model try."""
    small = FakeProvider([length_turn()])  # type: ignore[list-item]
    large = FakeProvider([text_turn("From large", usage=Usage(1, 1))])
    title = await generate_title(
        ws.sessions, "s", "p", [SMALL, LARGE], opener({"small": small, "large": large})
    )
    assert title == "From large"
    assert ws.sessions.sessions["s"].cost == pytest.approx(2.0)


async def test_every_attempt_failing_names_untitled(ws: Workspace) -> None:
    """Small errors, large stops on length: the session is "Untitled Session"
    (the recordings' outcome)."""
    small = FakeProvider([ProviderError("gone", status=500)])
    large = FakeProvider([length_turn()])  # type: ignore[list-item]
    title = await generate_title(
        ws.sessions, "s", "p", [SMALL, LARGE], opener({"small": small, "large": large})
    )
    assert title == DEFAULT_TITLE
    assert ws.sessions.sessions["s"].title == DEFAULT_TITLE


async def test_empty_answer_falls_back_to_prompt(ws: Workspace) -> None:
    """A model that answers nothing gets the prompt as the title."""
    small = FakeProvider([[TextDelta("<think></think>"), Finish("stop", None)]])
    title = await generate_title(
        ws.sessions, "s", "list the files", [SMALL], opener({"small": small})
    )
    assert title == "list the files"


async def test_cancelled_title_job_still_names_session(
    ws: Workspace, autojump_clock: trio.abc.Clock
) -> None:
    """A cancelled job leaves "Untitled Session" (upstream's deferred fallback)."""
    gate = trio.Event()
    small = FakeProvider([[gate, TextDelta("never"), Finish("stop", None)]])
    with trio.move_on_after(1):
        await generate_title(ws.sessions, "s", "p", [SMALL], opener({"small": small}))
    assert ws.sessions.sessions["s"].title == DEFAULT_TITLE


async def test_reasoning_model_gets_its_default_max_tokens(ws: Workspace) -> None:
    """A model that reasons is given its default max tokens instead of 40."""

    @attrs.frozen
    class Reasoning(FakeFacts):
        can_reason: bool = True
        default_max_tokens: int = 999

    model = FakeModel(model=Reasoning(id="small"))
    small = FakeProvider([text_turn("T")])
    await generate_title(ws.sessions, "s", "p", [model], opener({"small": small}))
    assert small.requests[0].max_tokens == 999
