"""Commands as process groups: environment, output, and killing the whole group."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.agent.tools._procgroup import (
    AGENT_MARKERS,
    NON_INTERACTIVE_ENV,
    open_group,
    run_group,
    shell_env,
    stop_group,
)

from ._procs import group_exists, no_live_members, wait_group_gone


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness (real processes)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


class Collect:
    def __init__(self, marker: bytes = b"") -> None:
        self.data = bytearray()
        self.marker = marker
        self.seen = trio.Event()

    def __call__(self, chunk: bytes) -> None:
        self.data += chunk
        if self.marker and self.marker in self.data:
            self.seen.set()


def test_shell_env_appends_workspace_env_and_forces_settings() -> None:
    env = shell_env(
        ["FOO=bar", "PAGER=less", "NOEQUALS", "=x", "EMPTY="],
        base={"HOME": "/h", "FOO": "old", "EDITOR": "vim"},
    )
    assert env["HOME"] == "/h"
    assert env["FOO"] == "bar"
    assert env["EMPTY"] == ""
    assert "NOEQUALS" not in env
    assert env["PAGER"] == "cat"  # non-interactive settings win
    assert env["EDITOR"] == "false"
    assert AGENT_MARKERS.items() <= env.items()
    assert NON_INTERACTIVE_ENV.items() <= env.items()


def test_shell_env_starts_from_the_daemon_environment() -> None:
    assert shell_env()["PATH"] == os.environ["PATH"]


async def test_output_status_env_and_cwd(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    process = await open_group(
        'echo out; echo err >&2; echo "$CRUSH/$AI_AGENT"; pwd; read x; exit 3',
        tmp_path,
        shell_env(),
    )
    out, err = Collect(), Collect()
    assert await run_group(process, out, err) == 3
    assert out.data.decode().splitlines() == ["out", "1/crush", str(tmp_path)]
    assert err.data == b"err\n"


async def test_merged_stderr_is_one_stream(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    process = await open_group("echo a; echo b >&2", tmp_path, {}, merge_stderr=True)
    out, err = Collect(), Collect()
    assert await run_group(process, out, err) == 0
    assert out.data == b"a\nb\n"
    assert err.data == b""


async def test_missing_folder_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="No such file"):
        await open_group("true", tmp_path / "missing", {})


async def test_cancel_kills_the_whole_group(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    process = await open_group("sleep 60 & echo started; wait", tmp_path, {})
    pgid = process.pid
    out = Collect(b"started")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_group, process, out, Collect())
        await out.seen.wait()
        assert group_exists(pgid)
        nursery.cancel_scope.cancel()
    assert process.returncode is not None
    assert await no_live_members(pgid)


@pytest.mark.slow
async def test_cancel_leaves_no_process_of_the_group(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    """The same, waiting until init has reaped the orphans (about 1.5 s here)."""
    process = await open_group("sleep 60 & echo started; wait", tmp_path, {})
    out = Collect(b"started")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_group, process, out, Collect())
        await out.seen.wait()
        nursery.cancel_scope.cancel()
    assert await wait_group_gone(process.pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(process.pid, 0)


async def test_what_a_finished_shell_leaves_behind_is_killed(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    process = await open_group("sleep 60 & echo left", tmp_path, {})
    out = Collect()
    assert await run_group(process, out, Collect()) == 0
    assert out.data == b"left\n"
    assert await no_live_members(process.pid)


async def test_sigint_ends_a_plain_command_before_the_grace(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    process = await open_group("echo ready; sleep 60", tmp_path, {})
    out = Collect(b"ready")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_group, process, out, Collect(), 5.0)
        await out.seen.wait()
        start = trio.current_time()
        nursery.cancel_scope.cancel()
    assert process.returncode == -signal.SIGINT
    assert trio.current_time() - start < 5.0
    assert await no_live_members(process.pid)


async def test_sigkill_follows_after_the_grace(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    script = "trap '' INT; echo ready; while :; do sleep 0.05; done"
    process = await open_group(script, tmp_path, {})
    out = Collect(b"ready")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_group, process, out, Collect(), 0.5)
        await out.seen.wait()
        start = trio.current_time()
        nursery.cancel_scope.cancel()
    assert process.returncode == -signal.SIGKILL  # SIGINT was ignored
    assert trio.current_time() - start >= 0.5
    assert await no_live_members(process.pid)


async def test_stop_group_on_an_ended_process_returns(
    tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    process = await open_group("true", tmp_path, {})
    await process.wait()
    await stop_group(process, 0.1)
    assert process.returncode == 0
