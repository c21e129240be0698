"""The workspace's job table: ids, limits, output buffers, kill, turn guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
import trio.testing

from crushd.agent.tools._jobs import Job, JobError, JobTable, RingBuffer

from ._procs import no_live_members


@pytest.fixture
def idle_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 20 ms of real idleness (real processes)."""
    return trio.testing.MockClock(autojump_threshold=0.02)


@pytest.fixture
async def table(idle_clock: trio.testing.MockClock) -> AsyncIterator[JobTable]:
    jobs = JobTable(["FOO=from-workspace"], max_jobs=3, buffer_bytes=64, grace=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(jobs.serve)
        yield jobs
        nursery.cancel_scope.cancel()


async def output_seen(job: Job, text: str) -> None:
    while text not in job.stdout.text():
        await trio.sleep(0.01)


def test_ring_buffer_keeps_the_newest_bytes() -> None:
    ring = RingBuffer(4)
    ring.write(b"ab")
    ring.write(b"cdef")
    assert ring.text() == "cdef"
    assert ring.dropped == 2
    ring.write(b"\xff")
    assert ring.text() == "def\ufffd"


async def test_a_job_runs_with_hex_ids_env_and_output(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    first = await table.start('echo "$FOO $CRUSH"; echo e >&2; exit 4', tmp_path, "d")
    await first.done.wait()
    assert first.id == "001"
    assert first.stdout.text() == "from-workspace 1\n"
    assert first.stderr.text() == "e\n"
    assert first.exit_code == 4
    assert not first.interrupted
    for _ in range(9):
        await (await table.start("true", tmp_path)).done.wait()
    last = await table.start("true", tmp_path)
    assert last.id == "00B"
    assert table.get("00B") is last
    assert table.remove("00B") is last
    assert table.get("00B") is None


async def test_output_is_capped_per_stream(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    job = await table.start("seq 1 100", tmp_path)
    await job.done.wait()
    assert len(job.stdout.text()) == 64
    assert job.stdout.text().endswith("99\n100\n")
    assert job.stdout.dropped > 0


async def test_the_running_limit(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    for _ in range(3):
        await table.start("sleep 60", tmp_path)
    with pytest.raises(JobError, match=r"maximum number of background jobs \(3\)"):
        await table.start("true", tmp_path)
    await table.kill("001")
    assert (await table.start("true", tmp_path)).id == "004"


async def test_a_missing_folder_raises_oserror(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    with pytest.raises(OSError, match="No such file"):
        await table.start("true", tmp_path / "missing")
    assert table.jobs() == []


async def test_start_needs_a_serving_table(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="not available"):
        await JobTable().start("true", tmp_path)


async def test_kill_stops_the_group_and_forgets_the_job(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    job = await table.start("sleep 60 & echo started; wait", tmp_path)
    await output_seen(job, "started")
    assert await table.kill(job.id) is job
    assert job.done.is_set()
    assert job.interrupted
    assert job.exit_code is None
    assert table.get(job.id) is None
    assert await no_live_members(job.pid)
    assert await table.kill(job.id) is None


async def test_cancelling_serve_stops_every_job(
    idle_clock: trio.testing.MockClock, tmp_path: Path
) -> None:
    jobs = JobTable(grace=0.5)
    async with trio.open_nursery() as nursery:
        await nursery.start(jobs.serve)
        running = [await jobs.start("sleep 60 & wait", tmp_path) for _ in range(2)]
        nursery.cancel_scope.cancel()
    for job in running:
        assert job.done.is_set()
        assert await no_live_members(job.pid)
    with pytest.raises(JobError):
        await jobs.start("true", tmp_path)


async def test_cancel_all(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    job = await table.start("sleep 60", tmp_path)
    table.cancel_all()
    with trio.fail_after(5):
        await job.done.wait()
    assert job.interrupted


async def test_a_cancelled_turn_kills_only_what_it_auto_backgrounded(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    with trio.CancelScope() as turn, table.turn_guard():
        auto = await table.start("sleep 60", tmp_path)
        table.mark_background(auto, auto=True)
        explicit = await table.start("sleep 60", tmp_path)
        table.mark_background(explicit, auto=False)
        turn.cancel()
        await trio.sleep_forever()
    with trio.fail_after(5):
        await auto.done.wait()
    assert auto.interrupted
    assert not explicit.done.is_set()


async def test_a_turn_that_ends_normally_keeps_its_jobs(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    with table.turn_guard():
        auto = await table.start("sleep 60", tmp_path)
        table.mark_background(auto, auto=True)
    with trio.CancelScope() as later, table.turn_guard():
        later.cancel()
        await trio.sleep_forever()
    await trio.sleep(1)
    assert not auto.done.is_set()
    assert auto.background


async def test_a_failed_turn_keeps_its_jobs(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    started: list[Job] = []

    async def failing_turn() -> None:
        with table.turn_guard():
            started.append(await table.start("sleep 60", tmp_path))
            table.mark_background(started[0], auto=True)
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await failing_turn()
    auto = started[0]
    await trio.sleep(1)
    assert not auto.done.is_set()


async def test_finished_jobs_beyond_twice_the_limit_are_forgotten(
    table: JobTable, tmp_path: Path, idle_clock: trio.testing.MockClock
) -> None:
    for _ in range(8):
        await (await table.start("true", tmp_path)).done.wait()
    assert [job.id for job in table.jobs()] == [
        "003",
        "004",
        "005",
        "006",
        "007",
        "008",
    ]
