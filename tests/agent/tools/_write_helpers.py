"""Test doubles for the tools that change files: history, read trackers, Env.

The permission gate is ``RecordingGate`` in ``_gate.py``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from crushd.agent.tools import ToolContext

from ._gate import RecordingGate
from .conftest import MakeContext


class FakeHistory:
    """A FileHistory that keeps the writes it was told about."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, Path, str, str]] = []

    async def record_write(
        self, session_id: str, path: Path, old_content: str, new_content: str
    ) -> None:
        self.writes.append((session_id, path, old_content, new_content))


class Tracker:
    """A read tracker like the workspace's: read time in seconds, and stamps.

    ``stamps=False`` gives one with upstream's seconds rule only (no
    ``read_stamp``); see ``SecondsTracker``.
    """

    def __init__(self) -> None:
        self.times: dict[tuple[str, Path], float] = {}
        self.stamps: dict[tuple[str, Path], tuple[int, int]] = {}
        self.recorded: list[tuple[str, Path]] = []

    async def record_read(self, session_id: str, path: Path) -> None:
        self.recorded.append((session_id, path))
        self.times[session_id, path] = float(int(time.time()))
        info = os.stat(path)
        self.stamps[session_id, path] = (info.st_mtime_ns, info.st_size)

    async def last_read(self, session_id: str, path: Path) -> float:
        return self.times.get((session_id, path), 0.0)

    def read_stamp(self, session_id: str, path: Path) -> tuple[int, int] | None:
        return self.stamps.get((session_id, path))


class SecondsTracker:
    """A read tracker with upstream's information only: read times in seconds."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, Path], float] = {}

    async def record_read(self, session_id: str, path: Path) -> None:
        self.times[session_id, path] = float(int(time.time()))

    async def last_read(self, session_id: str, path: Path) -> float:
        return self.times.get((session_id, path), 0.0)


def set_mtime(path: Path, unix_ns: int) -> None:
    """Set ``path``'s access and modification times (nanoseconds)."""
    os.utime(path, ns=(unix_ns, unix_ns))


class WriteEnv:
    """A tool context with a recording gate, history and tracker (session ``s1``).

    Each file-changing tool's tests subclass it with a call helper.
    """

    def __init__(self, make_ctx: MakeContext, root: Path, allow: bool = True) -> None:
        self.root = root
        self.gate = RecordingGate(allow)
        self.history = FakeHistory()
        self.reads = Tracker()
        self.ctx: ToolContext = make_ctx(
            permissions=self.gate, history=self.history, reads=self.reads
        )

    async def read(self, name: str) -> Path:
        """Record a read of ``name`` (as ``view`` would) and return its path."""
        path = self.root / name
        await self.reads.record_read("s1", path)
        return path
