"""The issue's skills demo over a real daemon: `crushctl skills` and `watch`."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import trio

from tests.skills._support import write_skill

from .conftest import Daemon, DaemonFactory
from .test_cli import read_until, start_watch
from .test_multiclient import PROMPT


async def crushctl(daemon: Daemon, env: dict[str, str], *argv: str) -> str:
    """Run one crushctl command against ``daemon``; return its stdout."""
    command = [sys.executable, "-m", "crushctl", "--host", daemon.host.url, *argv]
    with trio.fail_after(PROMPT):
        result = await trio.run_process(command, env=env, capture_stdout=True)
    return result.stdout.decode()


async def skills_json(daemon: Daemon, env: dict[str, str], project: Path) -> Any:
    return json.loads(
        await crushctl(daemon, env, "--json", "skills", "--cwd", str(project))
    )


async def test_project_skill_is_listed_only_in_its_project(
    daemons: DaemonFactory, short_tmp: Path
) -> None:
    """my-skill in project A lists in A's `crushctl skills`, never in B's."""
    daemon = await daemons.start()
    env = daemons.env()
    project_a, project_b = short_tmp / "a", short_tmp / "b"
    project_b.mkdir()
    path = write_skill(project_a / ".agents" / "skills", "my-skill")
    write_skill(short_tmp / "global-skills", "shared-skill")

    listed_a = await skills_json(daemon, env, project_a)
    listed_b = await skills_json(daemon, env, project_b)
    assert [(s["name"], s["source"]) for s in listed_a["skills"]] == [
        ("my-skill", "project"),
        ("shared-skill", "user"),
    ]
    assert listed_a["skills"][0]["id"] == str(path)
    assert [s["name"] for s in listed_b["skills"]] == ["shared-skill"]
    assert listed_a["workspace_id"] != listed_b["workspace_id"]

    table = await crushctl(daemon, env, "skills", "--cwd", str(project_a))
    assert table.splitlines()[1].split()[:3] == ["my-skill", "project", "ok"]


async def test_watch_sees_its_own_skills_event_only(
    daemons: DaemonFactory, short_tmp: Path
) -> None:
    """A skill added to A reaches A's watcher as skills_event; B's watcher never."""
    daemon = await daemons.start()
    env = daemons.env()
    project_a, project_b = short_tmp / "a", short_tmp / "b"
    project_a.mkdir()
    project_b.mkdir()
    watch_a = await start_watch(daemon, project_a, env)
    watch_b = await start_watch(daemon, project_b, env)
    try:
        for watcher in (watch_a, watch_b):
            await read_until(watcher, "connected")
        write_skill(project_a / ".crush" / "skills", "late-skill")
        await crushctl(daemon, env, "skills", "--cwd", str(project_a))
        lines = await read_until(watch_a, "skills_event")
        (event,) = [line for line in lines if line["type"] == "skills_event"]
        assert event["event_type"] == "updated"
        assert isinstance(event["payload"], dict)
        assert [s["name"] for s in event["payload"]["states"]] == ["late-skill"]
        # B's stream is ordered: its session event arrives after anything
        # published before it, so a leaked skills_event would show first.
        await crushctl(daemon, env, "skills", "--cwd", str(project_b))
        await crushctl(daemon, env, "sessions", "new", "--cwd", str(project_b), "x")
        lines = await read_until(watch_b, "session")
        assert [line["type"] for line in lines] == ["session"]
    finally:
        for watcher in (watch_a, watch_b):
            watcher.send_signal(signal.SIGINT)
            with trio.fail_after(PROMPT):
                await watcher.wait()
