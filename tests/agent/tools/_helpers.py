"""Test doubles and helpers for the tool tests."""

from __future__ import annotations

from pathlib import Path

from crushd.agent.tools import Tool, ToolCall, ToolContext, ToolResult
from crushd.proto import Todo


class FakeReads:
    """A ReadTracker that remembers what was recorded."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, Path]] = []

    async def record_read(self, session_id: str, path: Path) -> None:
        self.recorded.append((session_id, path))

    async def last_read(self, session_id: str, path: Path) -> float:
        return 0.0


class FakeTodos:
    """A TodoSink that keeps the lists it was given."""

    def __init__(self) -> None:
        self.saved: dict[str, list[Todo]] = {}

    async def set_todos(self, session_id: str, todos: list[Todo]) -> None:
        self.saved[session_id] = todos


class FakeTodoSource(FakeTodos):
    """A TodoSink that can also tell the current list (a TodoSource)."""

    async def get_todos(self, session_id: str) -> list[Todo]:
        return self.saved.get(session_id, [])


async def call(tool: Tool, ctx: ToolContext, text: str) -> ToolResult:
    """Run ``tool`` on the JSON ``text``."""
    return await tool.run(ToolCall(id="call_1", name=tool.name, input=text), ctx)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    """Create ``files`` (relative path -> content) under ``root``."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
