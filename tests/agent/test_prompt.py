"""Tests for crushd/agent/_prompt.py: the system prompt and the reminder."""

from __future__ import annotations

import datetime
import os
from pathlib import Path

import trio

from crushd import proto
from crushd.agent._prompt import (
    MAX_CONTEXT_FILE_BYTES,
    build_system_prompt,
    load_system_prompt,
    session_headers,
    template,
    todo_reminder,
)


def test_system_prompt_fills_environment(tmp_path: Path) -> None:
    """The coder template gets the folder, platform, date and git facts."""
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    text = build_system_prompt(
        tmp_path, today=datetime.date(2026, 1, 2), platform="linux"
    )
    assert f"Working directory: {tmp_path.as_posix()}" in text
    assert "Platform: linux" in text
    assert "Today's date: 1/2/2026" in text
    assert "Git repository: yes (branch main)" in text
    assert "$" not in text.split("# Environment")[1]


def test_system_prompt_includes_context_files(tmp_path: Path) -> None:
    """AGENTS.md and configured context paths are included; big files are cut."""
    (tmp_path / "AGENTS.md").write_text("use tabs")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.md").write_text("x" * (MAX_CONTEXT_FILE_BYTES + 10))
    text = build_system_prompt(tmp_path, ["notes"])
    assert "use tabs" in text
    assert "x" * MAX_CONTEXT_FILE_BYTES in text
    assert "x" * (MAX_CONTEXT_FILE_BYTES + 1) not in text
    assert "Git repository: no" in text


def test_system_prompt_skips_fifo_context_file(tmp_path: Path) -> None:
    """A FIFO named AGENTS.md is skipped, not waited on."""
    os.mkfifo(tmp_path / "AGENTS.md")
    assert "Project instructions" not in build_system_prompt(tmp_path)


async def test_load_system_prompt_runs_in_thread(tmp_path: Path) -> None:
    """The async loader returns the same prompt."""
    assert "Working directory" in await load_system_prompt(tmp_path)
    await trio.lowlevel.checkpoint()


def test_todo_reminder_sends_the_real_list() -> None:
    """crushd sends the current list (upstream always says it is empty)."""
    empty = todo_reminder([])
    assert empty.role == "user"
    assert "empty" in empty.content
    full = todo_reminder([proto.Todo("write tests", "in_progress")])
    assert "- [in_progress] write tests" in full.content
    assert full.content.startswith("<system_reminder>")


def test_session_headers_are_stable_and_opaque() -> None:
    """x-session-id is the id; the affinity hash is stable and not the id."""
    one, two = session_headers("abc"), session_headers("abc")
    assert one == two
    assert one["x-session-id"] == "abc"
    assert one["x-session-affinity"] != "abc"


def test_title_template_is_ours() -> None:
    """The title template exists and asks for a short title."""
    assert "50 characters" in template("title.md")
