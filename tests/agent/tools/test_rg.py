"""Running ``rg``: finding it, the output cap, time limits and killing the group."""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import trio

from crushd.agent.tools import (
    DEFAULT_GLOB_TIMEOUT_SECONDS,
    DEFAULT_GREP_TIMEOUT_SECONDS,
    GlobTool,
    GrepTool,
    ViewTool,
    _grep_search,
    _rg,
)
from crushd.agent.tools._ignore import IgnoreRules
from crushd.agent.tools._walk import Entry
from crushd.config import Config, TimeoutTool, Tools

from ._helpers import call, write
from .conftest import MakeContext

T = TypeVar("T")


def fake_rg(folder: Path, body: str) -> str:
    """Write an executable shell script standing in for ``rg``."""
    script = folder / "fake-rg"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


def gone(pid: int) -> bool:
    """Return True once ``pid`` has ended (a zombie waiting for init counts)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in {"Z", "X"}


def wait_gone(pid: int) -> bool:
    # SIGKILL is delivered asynchronously; give the kernel a moment.
    for _ in range(400):
        if gone(pid):
            return True
        threading.Event().wait(0.005)
    return False


async def started_then_jump(
    clock: trio.testing.MockClock,
    started: Callable[[], bool],
    run: Callable[[], Awaitable[T]],
) -> T:
    """Run ``run()`` with time frozen until ``started()`` (polled in a thread).

    Autojump would otherwise reach the deadline while the fake rg or the
    walk thread is still starting (a thread or process wait is idle time).
    """
    clock.autojump_threshold = math.inf
    results: list[T] = []

    async def runner() -> None:
        results.append(await run())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(runner)
        await trio.to_thread.run_sync(wait_until, started)
        clock.autojump_threshold = 0
    return results[0]


def wait_until(started: Callable[[], bool]) -> None:
    for _ in range(2000):
        if started():
            return
        threading.Event().wait(0.005)
    raise AssertionError("the search never started")


def written(path: Path) -> Callable[[], bool]:
    return lambda: path.exists() and bool(path.read_text().strip())


def test_rg_is_found_next_to_the_interpreter() -> None:
    assert _rg.find_rg() == str(Path(sys.executable).parent / "rg")


def test_rg_on_path_is_the_second_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    rg = fake_rg(bindir, "exit 0")
    os.rename(rg, bindir / "rg")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr("sysconfig.get_path", lambda name: str(tmp_path))
    monkeypatch.setenv("PATH", str(bindir))
    assert _rg.find_rg() == str(bindir / "rg")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert _rg.find_rg() is None


async def test_output_over_the_cap_stops_the_run(tmp_path: Path) -> None:
    rg = fake_rg(tmp_path, "exec yes needle")
    output = await _rg.run_rg(rg, [], cwd=tmp_path, max_bytes=100_000)
    assert output.truncated
    assert len(output.stdout) == 100_000
    assert output.returncode < 0  # killed


async def test_stderr_and_status_are_reported(tmp_path: Path) -> None:
    rg = fake_rg(tmp_path, "echo bad glob >&2; exit 2")
    output = await _rg.run_rg(rg, [], cwd=tmp_path)
    assert (output.returncode, output.stdout, output.stderr) == (2, b"", "bad glob\n")


@pytest.mark.parametrize("tool", [GrepTool, GlobTool])
async def test_timeout_kills_the_whole_process_group(
    tool: type[GrepTool] | type[GlobTool],
    workspace: Path,
    make_ctx: MakeContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A hung search ends at the time limit; rg and its children are killed."""
    pidfile = tmp_path / "child.pid"
    rg = fake_rg(tmp_path, f"sleep 600 & echo $! > {pidfile}; wait")
    monkeypatch.setattr(_rg, "find_rg", lambda: rg)
    before = trio.current_time()
    result = await started_then_jump(
        autojump_clock,
        written(pidfile),
        lambda: call(tool(timeout_s=3), make_ctx(), '{"pattern": "x"}'),
    )
    assert trio.current_time() - before == pytest.approx(3)
    assert result.is_error
    assert result.content.startswith(f"{tool(1).name} timed out after 3 s;")
    assert wait_gone(int(pidfile.read_text()))


async def test_cancelling_the_call_kills_rg(
    workspace: Path,
    make_ctx: MakeContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
) -> None:
    pidfile = tmp_path / "rg.pid"
    rg = fake_rg(tmp_path, f"echo $$ > {pidfile}; exec sleep 600")
    monkeypatch.setattr(_rg, "find_rg", lambda: rg)

    async def cancelled_call() -> None:
        with trio.move_on_after(1):
            await call(GrepTool(), make_ctx(), '{"pattern": "x"}')

    await started_then_jump(autojump_clock, written(pidfile), cancelled_call)
    assert wait_gone(int(pidfile.read_text()))


async def test_fallback_timeout_stops_the_walk(
    workspace: Path,
    make_ctx: MakeContext,
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Without rg the walk runs in a thread; the time limit stops it too."""
    started, stopped = threading.Event(), threading.Event()

    def endless_walk(
        start: Path, rules: IgnoreRules, *, should_stop: Callable[[], bool]
    ) -> Iterator[Entry]:
        started.set()
        while not should_stop():
            threading.Event().wait(0.001)
        stopped.set()
        yield from ()

    write(workspace, {"a.txt": "x\n"})
    monkeypatch.setattr(_rg, "find_rg", lambda: None)
    monkeypatch.setattr(_grep_search, "walk", endless_walk)
    result = await started_then_jump(
        autojump_clock,
        started.is_set,
        lambda: call(GrepTool(timeout_s=2), make_ctx(), '{"pattern": "x"}'),
    )
    assert result.content.startswith("grep timed out after 2 s")
    assert await trio.to_thread.run_sync(stopped.wait, 5)


def test_timeouts_come_from_config_in_nanoseconds() -> None:
    assert GrepTool.from_config(None).timeout_s == DEFAULT_GREP_TIMEOUT_SECONDS == 5
    assert GlobTool.from_config(None).timeout_s == DEFAULT_GLOB_TIMEOUT_SECONDS == 30
    config = Config(
        tools=Tools(
            grep=TimeoutTool(timeout=2_500_000_000), glob=TimeoutTool(timeout=10**10)
        )
    )
    assert GrepTool.from_config(config).timeout_s == 2.5
    assert GlobTool.from_config(config).timeout_s == 10


@pytest.mark.parametrize("tool", [GrepTool, GlobTool])
async def test_rg_that_cannot_start_falls_back_to_python(
    tool: type[GrepTool] | type[GlobTool],
    workspace: Path,
    make_ctx: MakeContext,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = tmp_path / "rg-broken"
    broken.write_bytes(b"\x7fELF not really")
    broken.chmod(0o755)
    monkeypatch.setattr(_rg, "find_rg", lambda: str(broken))
    write(workspace, {"x.txt": "x\n"})
    pattern = "x" if tool is GrepTool else "*.txt"
    result = await call(tool(), make_ctx(), f'{{"pattern": "{pattern}"}}')
    assert not result.is_error
    assert f"{workspace}/x.txt" in result.content


async def test_fifos_are_not_opened(
    workspace: Path, make_ctx: MakeContext, search_mode: str
) -> None:
    """A named pipe would block a reader forever; searches and view skip it."""
    os.mkfifo(workspace / "pipe.txt")
    write(workspace, {"ok.txt": "x\n"})
    grep = await call(GrepTool(), make_ctx(), '{"pattern": "x"}')
    assert (
        grep.content == f"Found 1 matches\n{workspace}/ok.txt:\n  Line 1, Char 1: x\n"
    )
    glob = await call(GlobTool(), make_ctx(), '{"pattern": "*.txt"}')
    assert "pipe" not in glob.content
    view = await call(ViewTool(), make_ctx(), '{"file_path": "pipe.txt"}')
    assert view.is_error
    assert view.content.startswith("Path is not a regular file")
