"""Read-before-edit rules: never read, modified since read, same-second changes.

Upstream's rules compare seconds; the workspace's file tracker also keeps the
``(mtime_ns, size)`` each read saw, which catches a change made within the
second of the read.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crushd.agent.tools import ToolContext
from crushd.agent.tools._freshness import (
    NEVER_READ_TEXT,
    ReadStamps,
    edit_refusal,
    rfc3339,
    write_refusal,
)
from crushd.store import DATABASE_FILE_NAME, Database, ReadFileStore, SessionStore
from crushd.workspace._filetracker import FileTracker

from ._write_helpers import SecondsTracker, Tracker, set_mtime
from .conftest import MakeContext

#: A fixed second in the past (2023-11-14T22:13:20Z), in nanoseconds.
SECOND = 1_700_000_000
SECOND_NS = SECOND * 1_000_000_000


@pytest.fixture
def file(workspace: Path) -> Path:
    path = workspace / "f.txt"
    path.write_text("first\n")
    set_mtime(path, SECOND_NS + 100)
    return path


async def _read_at(tracker: Tracker | SecondsTracker, path: Path, second: int) -> None:
    """Record a read, then pretend it happened at ``second``."""
    await tracker.record_read("s1", path)
    tracker.times["s1", path] = float(second)


def _remove(path: Path) -> None:
    path.unlink()


def _change_within_the_second(path: Path) -> None:
    path.write_text("second, longer\n")
    set_mtime(path, SECOND_NS + 900)


async def test_never_read_refuses_edit(make_ctx: MakeContext, file: Path) -> None:
    ctx = make_ctx(reads=Tracker())
    assert await edit_refusal(ctx, file, os.stat(file)) == NEVER_READ_TEXT


async def test_read_and_unchanged_is_fine(make_ctx: MakeContext, file: Path) -> None:
    tracker = Tracker()
    await _read_at(tracker, file, SECOND)
    ctx = make_ctx(reads=tracker)
    assert await edit_refusal(ctx, file, os.stat(file)) is None
    assert await write_refusal(ctx, file, os.stat(file)) is None


async def test_modified_in_a_later_second_is_refused(
    make_ctx: MakeContext, file: Path
) -> None:
    tracker = SecondsTracker()
    await _read_at(tracker, file, SECOND)
    set_mtime(file, SECOND_NS + 1_000_000_000)
    ctx = make_ctx(reads=tracker)
    refusal = await edit_refusal(ctx, file, os.stat(file))
    assert refusal == (
        f"file {file} has been modified since it was last read "
        "(mod time: 2023-11-14T22:13:21Z, last read: 2023-11-14T22:13:20Z)"
    )
    assert "Last modification: 2023-11-14T22:13:21Z" in str(
        await write_refusal(ctx, file, os.stat(file))
    )


async def test_same_second_change_is_missed_by_seconds_but_caught_by_stamps(
    make_ctx: MakeContext, file: Path
) -> None:
    upstream, crushd = SecondsTracker(), Tracker()
    await _read_at(upstream, file, SECOND)
    await _read_at(crushd, file, SECOND)
    _change_within_the_second(file)
    info = os.stat(file)
    assert await edit_refusal(make_ctx(reads=upstream), file, info) is None
    caught = await edit_refusal(make_ctx(reads=crushd), file, info)
    assert caught is not None
    assert "has been modified since it was last read" in caught
    assert await write_refusal(make_ctx(reads=crushd), file, info) is not None


async def test_unknown_stamp_falls_back_to_seconds(
    make_ctx: MakeContext, file: Path
) -> None:
    """A read recorded before the workspace opened has no stamp: seconds only."""
    tracker = Tracker()
    tracker.times["s1", file] = float(SECOND)
    _change_within_the_second(file)
    assert await edit_refusal(make_ctx(reads=tracker), file, os.stat(file)) is None


async def test_write_to_an_unread_file_is_refused(
    make_ctx: MakeContext, file: Path
) -> None:
    refusal = await write_refusal(make_ctx(reads=SecondsTracker()), file, os.stat(file))
    assert refusal is not None
    assert "Last read: 0001-01-01T00:00:00Z" in refusal


def test_rfc3339() -> None:
    assert rfc3339(0) == "0001-01-01T00:00:00Z"
    assert rfc3339(SECOND + 0.9) == "2023-11-14T22:13:20Z"


@pytest.fixture
async def tracker(workspace: Path) -> AsyncIterator[tuple[FileTracker, str]]:
    db = await Database.open(workspace.parent / DATABASE_FILE_NAME)
    session = await SessionStore(db).create("s")
    yield FileTracker(ReadFileStore(db), workspace), session.id
    await db.aclose()


async def test_the_workspace_file_tracker_keeps_stamps(
    tracker: tuple[FileTracker, str], file: Path, make_ctx: MakeContext
) -> None:
    files, sid = tracker
    assert isinstance(files, ReadStamps)
    assert files.read_stamp(sid, file) is None
    await files.record_read(sid, file)
    info = os.stat(file)
    assert files.read_stamp(sid, file) == (info.st_mtime_ns, info.st_size)
    assert files.read_stamp(sid, "f.txt") == (info.st_mtime_ns, info.st_size)
    ctx: ToolContext = make_ctx(reads=files, session_id=sid)
    assert await edit_refusal(ctx, file, info) is None
    _change_within_the_second(file)
    assert await edit_refusal(ctx, file, os.stat(file)) is not None
    _remove(file)
    await files.record_read(sid, file)  # an unreadable file forgets its stamp
    assert files.read_stamp(sid, file) is None
