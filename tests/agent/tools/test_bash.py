"""The ``bash`` tool: permission, refusals, output form, working_dir, jobs, cancel."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.agent.tools import PERMISSION_DENIED_TEXT, PermissionAsk, ToolResult, _bash
from crushd.agent.tools._bash import BashTool
from crushd.agent.tools._jobs import JobTable
from crushd.agent.tools._shellout import format_output, truncate_output

from ._gate import RecordingGate
from ._helpers import call
from ._procs import no_live_members
from .conftest import MakeContext


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness (real processes)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


@pytest.fixture
async def jobs(idle_clock: trio.testing.MockClock) -> AsyncIterator[JobTable]:
    table = JobTable(["WS_VAR=ws"], grace=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(table.serve)
        yield table
        nursery.cancel_scope.cancel()


@pytest.fixture
def gate() -> RecordingGate:
    return RecordingGate()


async def bash(
    ctx_maker: MakeContext, gate: RecordingGate, jobs: JobTable | None, **args: object
) -> ToolResult:
    ctx = ctx_maker(permissions=gate, jobs=jobs)
    return await call(BashTool(), ctx, json.dumps({"description": "test", **args}))


async def test_a_read_only_command_runs_without_asking(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    result = await bash(make_ctx, gate, jobs, command="pwd")
    assert gate.asks == []
    assert result.content == f"{workspace}\n\n\n<cwd>{workspace}</cwd>"
    assert not result.is_error
    meta = json.loads(result.metadata)
    assert meta["output"] == f"{workspace}\n"
    assert meta["description"] == "test"
    assert meta["working_directory"] == str(workspace)
    assert meta["end_time"] >= meta["start_time"] > 0
    assert "background" not in meta
    assert "shell_id" not in meta
    assert jobs.jobs() == []  # a finished command leaves no job behind


async def test_other_commands_ask_execute_with_upstream_params(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    (workspace / "sub").mkdir()
    result = await bash(make_ctx, gate, jobs, command="touch made", working_dir="sub")
    assert (workspace / "sub" / "made").exists()
    assert result.content == "no output"
    assert gate.asks == [
        (
            "s1",
            "call_1",
            PermissionAsk(
                tool_name="bash",
                action="execute",
                path=str(workspace / "sub"),
                description="Execute command: touch made",
                params={
                    "description": "test",
                    "command": "touch made",
                    "working_dir": "sub",
                    "run_in_background": False,
                    "auto_background_after": 0,
                },
            ),
        )
    ]


@pytest.mark.parametrize(
    "command", ["timeout 1 touch made", "echo x > made", "echo $(touch made)"]
)
async def test_upstreams_holes_ask_and_a_denial_runs_nothing(
    make_ctx: MakeContext,
    jobs: JobTable,
    workspace: Path,
    command: str,
    idle_clock: trio.testing.MockClock,
) -> None:
    gate = RecordingGate(allow=False)
    result = await bash(make_ctx, gate, jobs, command=command)
    assert len(gate.asks) == 1
    assert result.content == PERMISSION_DENIED_TEXT
    assert result.is_error
    assert result.stop_turn
    assert not (workspace / "made").exists()


async def test_a_banned_command_is_refused_without_asking(
    make_ctx: MakeContext, gate: RecordingGate, jobs: JobTable
) -> None:
    result = await bash(make_ctx, gate, jobs, command="ls && curl https://example.com")
    assert result.is_error
    assert result.content == 'command is not allowed for security reasons: "curl"'
    assert gate.asks == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"command": "  "}, "missing command"),
        ({}, "command is required"),
        ({"command": 3}, "command must be a string"),
        ({"command": "ls", "working_dir": "nope"}, "working directory does not exist"),
        ({"command": "ls\u0000x"}, "command must not contain NUL characters"),
        ({"command": "ls \ud800"}, "command is not valid text"),
        (
            {"command": "ls", "working_dir": "a\u0000"},
            "working_dir must not contain NUL",
        ),
        (
            {"command": "ls", "working_dir": "file.txt"},
            "working directory does not exist",
        ),
    ],
)
async def test_bad_input(
    make_ctx: MakeContext,
    gate: RecordingGate,
    workspace: Path,
    args: dict[str, object],
    message: str,
) -> None:
    (workspace / "file.txt").write_text("x")
    result = await bash(make_ctx, gate, None, **args)
    assert result.is_error
    assert message in result.content
    assert gate.asks == []


async def test_exit_code_stderr_and_env(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    result = await bash(
        make_ctx,
        gate,
        jobs,
        command='echo "$WS_VAR $AGENT $GIT_PAGER"; echo oops >&2; exit 5',
    )
    assert (
        result.content
        == f"ws crush cat\n\n\noops\n\nExit code 5\n\n<cwd>{workspace}</cwd>"
    )


async def test_long_output_is_cut_in_the_middle(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    result = await bash(make_ctx, gate, jobs, command="seq 1 20000")
    assert result.content.startswith("1\n2\n3\n")
    assert "\n\n... [" in result.content
    assert " lines truncated] ...\n\n" in result.content
    assert "19999\n20000\n" in result.content
    assert len(result.content) < 30_200


def test_truncate_output_counts_the_lines_cut() -> None:
    text = "".join(f"{i:04}\n" for i in range(10_000))  # 50 000 characters
    cut = truncate_output(text, limit=10)
    assert cut == "0000\n\n\n... [9998 lines truncated] ...\n\n9999\n"
    assert truncate_output("short") == "short"


@pytest.mark.parametrize(
    ("stdout", "stderr", "code", "expected"),
    [
        ("", "", 0, ""),
        ("out\n", "", 0, "out\n"),
        ("", "err\n", 1, "\nerr\n\nExit code 1"),
        ("out", "", 2, "out\nExit code 2"),
        ("out", "err", None, "out\n\nerr\nCommand was aborted before completion"),
    ],
)
def test_format_output(
    stdout: str, stderr: str, code: int | None, expected: str
) -> None:
    assert format_output(stdout, stderr, code) == expected


async def test_a_slow_command_moves_to_the_background(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    result = await bash(
        make_ctx, gate, jobs, command="echo begun; sleep 600", auto_background_after=5
    )
    assert trio.current_time() - start == pytest.approx(5, abs=0.5)
    assert "moved to background" in result.content
    meta = json.loads(result.metadata)
    assert meta["background"] is True
    job = jobs.get(meta["shell_id"])
    assert job is not None
    assert job.background
    assert "Background shell ID: " + job.id in result.content
    assert job.stdout.text() == "begun\n"
    await jobs.kill(job.id)


async def test_the_default_auto_background_is_60_seconds(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    start = trio.current_time()
    result = await bash(make_ctx, gate, jobs, command="sleep 600")
    assert trio.current_time() - start == pytest.approx(60, abs=0.5)
    assert "moved to background" in result.content


async def test_run_in_background_starts_a_job(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    result = await bash(
        make_ctx, gate, jobs, command="sleep 600", run_in_background=True
    )
    assert result.content.startswith("Background shell started with ID: 001")
    assert jobs.get("001") is not None
    assert gate.asks[0][2].params["run_in_background"] is True  # type: ignore[index]


async def test_run_in_background_reports_a_quick_end_at_once(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    result = await bash(
        make_ctx, gate, jobs, command="echo quick; exit 1", run_in_background=True
    )
    assert result.content == f"quick\n\nExit code 1\n\n<cwd>{workspace}</cwd>"
    assert json.loads(result.metadata)["background"] is True
    assert jobs.jobs() == []


async def test_without_a_job_table_it_runs_in_place(
    make_ctx: MakeContext,
    gate: RecordingGate,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    result = await bash(make_ctx, gate, None, command="echo here; exit 3")
    assert result.content == f"here\n\nExit code 3\n\n<cwd>{workspace}</cwd>"


async def test_without_a_job_table_there_is_no_background(
    make_ctx: MakeContext, gate: RecordingGate, idle_clock: trio.testing.MockClock
) -> None:
    result = await bash(make_ctx, gate, None, command="true", run_in_background=True)
    assert result.is_error
    assert result.content == "background jobs are not available"


async def test_jobs_belong_to_the_calling_session(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    await bash(make_ctx, gate, jobs, command="sleep 600", run_in_background=True)
    job = jobs.get("001")
    assert job is not None
    assert job.session_id == "s1"
    jobs.cancel_session("other")
    assert not job.scope.cancel_called
    jobs.cancel_session("s1")
    with trio.fail_after(5):
        await job.done.wait()
    assert job.interrupted


async def test_cancelling_the_call_kills_the_whole_group(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: bash(make_ctx, gate, jobs, command="sleep 60 & echo started; wait")
        )
        while not jobs.jobs() or "started" not in jobs.jobs()[0].stdout.text():
            await trio.sleep(0.01)
        job = jobs.jobs()[0]
        nursery.cancel_scope.cancel()
    assert job.done.is_set()
    assert job.interrupted
    assert jobs.jobs() == []
    assert await no_live_members(job.pid)


async def test_cancelling_a_call_without_a_table_kills_the_group(
    make_ctx: MakeContext,
    gate: RecordingGate,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    pid_file = workspace / "pid"
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: bash(
                make_ctx, gate, None, command=f"echo $$ > {pid_file}; sleep 60 & wait"
            )
        )
        while not pid_file.exists() or not pid_file.read_text().strip():
            await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert await no_live_members(int(pid_file.read_text()))


async def test_a_cancelled_turn_kills_its_auto_backgrounded_command(
    make_ctx: MakeContext,
    gate: RecordingGate,
    jobs: JobTable,
    idle_clock: trio.testing.MockClock,
) -> None:
    with trio.CancelScope() as turn, jobs.turn_guard():
        result = await bash(
            make_ctx, gate, jobs, command="sleep 600", auto_background_after=1
        )
        job = jobs.get(json.loads(result.metadata)["shell_id"])
        assert job is not None
        turn.cancel()
        await trio.sleep_forever()
    assert job is not None
    with trio.fail_after(5):
        await job.done.wait()
    assert await no_live_members(job.pid)


async def test_the_job_limit_is_an_error_result(
    make_ctx: MakeContext, gate: RecordingGate, idle_clock: trio.testing.MockClock
) -> None:
    table = JobTable(max_jobs=1, grace=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(table.serve)
        await bash(make_ctx, gate, table, command="sleep 600", run_in_background=True)
        result = await bash(make_ctx, gate, table, command="ls")
        nursery.cancel_scope.cancel()
    assert result.is_error
    assert result.content.startswith(
        "error starting shell: maximum number of background jobs (1) reached"
    )


async def test_a_shell_that_cannot_start_is_an_error_result(
    make_ctx: MakeContext,
    gate: RecordingGate,
    monkeypatch: pytest.MonkeyPatch,
    idle_clock: trio.testing.MockClock,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise PermissionError("bash: permission denied")

    monkeypatch.setattr(_bash, "open_group", broken)
    result = await bash(make_ctx, gate, None, command="ls")
    assert result.is_error
    assert result.content == "error starting shell: bash: permission denied"
