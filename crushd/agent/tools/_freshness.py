"""Read-before-edit: a file may be changed only as the agent last saw it.

Upstream's rules (Unix seconds): ``edit`` and ``multiedit`` on an existing
file need a recorded read ("you must read the file before editing it") and
a modification time, truncated to seconds, not later than that read
("modified since it was last read"); ``write`` applies the second rule only
(never read counts as time 0, so it too needs a read in practice).

A change made in the same second as the read slips through those rules. When
the read tracker also remembers the file's ``(mtime_ns, size)`` as of the
session's last read (``ReadStamps``, the workspace's file tracker does), a
file whose stamp differs counts as modified too: stricter, same stored
schema.

Source: Crush ``internal/agent/tools/edit.go`` ``loadExistingFile``,
``write.go``, ``internal/filetracker/service.go``; docs/agent.md 2.3.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from ._types import ToolContext

NEVER_READ_TEXT = "you must read the file before editing it. Use the View tool first"

#: Go's zero time, as upstream prints a read that never happened.
_ZERO_TIME = "0001-01-01T00:00:00Z"


@runtime_checkable
class ReadStamps(Protocol):
    """A read tracker that also remembers what each read saw."""

    def read_stamp(self, session_id: str, path: Path) -> tuple[int, int] | None:
        """Return ``(mtime_ns, size)`` of ``path`` at the last read, or None.

        The last read (or write) is ``session_id``'s; None when unknown.
        """


def file_stamp(info: os.stat_result) -> tuple[int, int]:
    """Return the ``(mtime_ns, size)`` stamp of a stat result."""
    return info.st_mtime_ns, info.st_size


def rfc3339(unix_seconds: float) -> str:
    """Format Unix seconds as RFC 3339 in UTC; 0 or less is Go's zero time."""
    if unix_seconds <= 0:
        return _ZERO_TIME
    moment = datetime.fromtimestamp(int(unix_seconds), UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def edit_refusal(
    ctx: ToolContext, path: Path, info: os.stat_result
) -> str | None:
    """Return why ``edit``/``multiedit`` may not change ``path``, or None.

    Args:
        ctx: the call's context (session and read tracker).
        path: the existing file, as the read tracker names it.
        info: ``path``'s stat result, taken now.
    """
    last_read = await ctx.reads.last_read(ctx.session_id, path)
    if last_read <= 0:
        return NEVER_READ_TEXT
    if not _modified(ctx, path, info, last_read):
        return None
    return (
        f"file {path} has been modified since it was last read "
        f"(mod time: {rfc3339(info.st_mtime)}, last read: {rfc3339(last_read)})"
    )


async def write_refusal(
    ctx: ToolContext, path: Path, info: os.stat_result
) -> str | None:
    """Return why ``write`` may not overwrite ``path``, or None.

    Args:
        ctx: the call's context (session and read tracker).
        path: the existing file, as the read tracker names it.
        info: ``path``'s stat result, taken now.
    """
    last_read = await ctx.reads.last_read(ctx.session_id, path)
    if not _modified(ctx, path, info, last_read):
        return None
    return (
        f"File {path} has been modified since it was last read.\n"
        f"Last modification: {rfc3339(info.st_mtime)}\n"
        f"Last read: {rfc3339(last_read)}\n\n"
        "Please read the file again before modifying it."
    )


def _modified(
    ctx: ToolContext, path: Path, info: os.stat_result, last_read: float
) -> bool:
    """Upstream's seconds rule, or a known stamp that no longer matches."""
    if info.st_mtime_ns // 1_000_000_000 > last_read:
        return True
    if isinstance(ctx.reads, ReadStamps):
        stamp = ctx.reads.read_stamp(ctx.session_id, path)
        return stamp is not None and stamp != file_stamp(info)
    return False
