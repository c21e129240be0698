"""Helpers for tests that run real processes: who is left of a process group."""

from __future__ import annotations

import os
from pathlib import Path

import trio


def group_exists(pgid: int) -> bool:
    """True while ``os.killpg(pgid, 0)`` finds a process (zombies count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def live_members(pgid: int) -> list[int]:
    """Pids of ``pgid`` that are not zombies (init reaps orphans at its pace)."""
    live = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            live.append(int(entry.name))
    return live


async def no_live_members(pgid: int) -> bool:
    """True once every process of ``pgid`` is dead.

    SIGKILL cannot be refused, but a process takes a moment to finish dying.
    """
    for _ in range(100):
        if not live_members(pgid):
            return True
        await trio.sleep(0.005)
    return False


async def wait_group_gone(pgid: int) -> bool:
    """True once ``os.killpg(pgid, 0)`` finds nothing (zombies reaped too)."""
    for _ in range(300):
        if not group_exists(pgid):
            return True
        await trio.sleep(0.01)
    return False
