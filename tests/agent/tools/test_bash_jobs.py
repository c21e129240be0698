"""The ``job_output`` and ``job_kill`` tools on a real job table."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.agent.tools import ToolContext
from crushd.agent.tools._job_tools import JobKillTool, JobOutputTool
from crushd.agent.tools._jobs import JobTable

from ._helpers import call
from ._procs import no_live_members
from .conftest import MakeContext


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness (real processes)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


@pytest.fixture
async def jobs(idle_clock: trio.testing.MockClock) -> AsyncIterator[JobTable]:
    table = JobTable(grace=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(table.serve)
        yield table
        nursery.cancel_scope.cancel()


@pytest.fixture
def ctx(make_ctx: MakeContext, jobs: JobTable) -> ToolContext:
    return make_ctx(jobs=jobs)


async def test_output_of_a_running_job(
    ctx: ToolContext,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    job = await jobs.start("echo partial; sleep 600", workspace, "waiter")
    while not job.stdout.text():
        await trio.sleep(0.01)
    result = await call(JobOutputTool(), ctx, json.dumps({"shell_id": job.id}))
    assert result.content == "Status: running\n\npartial\n"
    assert json.loads(result.metadata) == {
        "shell_id": job.id,
        "command": "echo partial; sleep 600",
        "description": "waiter",
        "done": False,
        "working_directory": str(workspace),
    }


async def test_wait_returns_when_the_job_ends(
    ctx: ToolContext,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    script = "while [ ! -e go ]; do sleep 0.001; done; echo out; echo err >&2; exit 2"
    job = await jobs.start(script, workspace)

    async def release() -> None:
        await trio.sleep(1)
        (workspace / "go").touch()

    start = trio.current_time()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(release)
        args = {"shell_id": job.id, "wait": True}
        result = await call(JobOutputTool(), ctx, json.dumps(args))
    assert trio.current_time() - start < 30
    assert result.content == "Status: completed\n\nout\n\nerr\n\nExit code 2"
    assert json.loads(result.metadata)["done"] is True


@pytest.mark.parametrize(("given", "waited"), [(None, 60), (5, 5), (10_000, 600)])
async def test_wait_is_bounded(
    ctx: ToolContext,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
    given: int | None,
    waited: int,
) -> None:
    job = await jobs.start("sleep 6000", workspace)
    start = trio.current_time()
    args = {"shell_id": job.id, "wait": True, "timeout_seconds": given}
    result = await call(JobOutputTool(), ctx, json.dumps(args))
    assert trio.current_time() - start == pytest.approx(waited, abs=0.5)
    assert result.content == "Status: running\n\nno output"


async def test_a_job_without_output(
    ctx: ToolContext,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    job = await jobs.start("true", workspace)
    await job.done.wait()
    result = await call(JobOutputTool(), ctx, json.dumps({"shell_id": job.id}))
    assert result.content == "Status: completed\n\nno output"


async def test_a_stopped_job_says_so(
    ctx: ToolContext,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    job = await jobs.start("sleep 600", workspace)
    jobs.cancel(job.id)
    await job.done.wait()
    result = await call(JobOutputTool(), ctx, json.dumps({"shell_id": job.id}))
    assert (
        result.content == "Status: completed\n\nCommand was aborted before completion"
    )


async def test_kill(
    ctx: ToolContext,
    jobs: JobTable,
    workspace: Path,
    idle_clock: trio.testing.MockClock,
) -> None:
    job = await jobs.start("sleep 60 & echo started; wait", workspace, "bg")
    while not job.stdout.text():
        await trio.sleep(0.01)
    result = await call(JobKillTool(), ctx, json.dumps({"shell_id": job.id}))
    assert result.content == f"Background shell {job.id} terminated successfully"
    assert json.loads(result.metadata) == {
        "shell_id": job.id,
        "command": "sleep 60 & echo started; wait",
        "description": "bg",
    }
    assert jobs.get(job.id) is None
    assert await no_live_members(job.pid)
    again = await call(JobKillTool(), ctx, json.dumps({"shell_id": job.id}))
    assert again.is_error
    assert again.content == f"background shell not found: {job.id}"


@pytest.mark.parametrize(
    "tool", [JobOutputTool(), JobKillTool()], ids=["output", "kill"]
)
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"shell_id": "0FF"}', "background shell not found: 0FF"),
        ('{"shell_id": ""}', "missing shell_id"),
        ("{}", "shell_id is required"),
        ("[1]", "expected a JSON object"),
    ],
)
async def test_bad_ids(
    ctx: ToolContext, tool: JobOutputTool | JobKillTool, text: str, message: str
) -> None:
    result = await call(tool, ctx, text)
    assert result.is_error
    assert message in result.content


async def test_no_job_table(make_ctx: MakeContext) -> None:
    result = await call(JobOutputTool(), make_ctx(), '{"shell_id": "001"}')
    assert result.content == "background shell not found: 001"
