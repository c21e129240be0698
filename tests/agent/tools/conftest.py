"""Fixtures for the tool tests: a workspace folder, a context, rg on or off."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crushd.agent.tools import ToolContext, _rg

from ._helpers import FakeReads, FakeTodos


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder (canonical)."""
    root = tmp_path / "ws"
    root.mkdir()
    return root.resolve()


@pytest.fixture
def reads() -> FakeReads:
    return FakeReads()


@pytest.fixture
def todos() -> FakeTodos:
    return FakeTodos()


MakeContext = Callable[..., ToolContext]


@pytest.fixture
def make_ctx(workspace: Path, reads: FakeReads, todos: FakeTodos) -> MakeContext:
    """Build a ToolContext on ``workspace``; keyword arguments override fields."""

    def make(**overrides: object) -> ToolContext:
        fields: dict[str, object] = {
            "session_id": "s1",
            "message_id": "m1",
            "tool_call_id": "call_1",
            "root": workspace,
            "reads": reads,
            "todos": todos,
        }
        fields.update(overrides)
        return ToolContext(**fields)  # type: ignore[arg-type]

    return make


@pytest.fixture(params=["rg", "python"])
def search_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a search test once with ``rg`` and once with the Python fallback."""
    mode = str(request.param)
    if mode == "rg":
        assert _rg.find_rg() is not None, "the ripgrep wheel is a dependency"
    else:
        monkeypatch.setattr(_rg, "find_rg", lambda: None)
    return mode
