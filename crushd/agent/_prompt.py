"""The system prompt, the todo reminder and the per-call headers.

The prose is crushd's own (``templates/``); the structure follows upstream:
the coder template filled with the working directory, platform, date, git
facts and the project's context files (AGENTS.md, CLAUDE.md, ...), then a
reminder of the session's todo list sent as a user message on every turn
(docs/agent.md 1.14, items 1 and 3).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import stat
import string
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import trio

from crushd import proto

from .providers import ChatMessage

#: Context files looked for in the project when the config names none more
#: (upstream's defaults).
DEFAULT_CONTEXT_PATHS = (
    ".github/copilot-instructions.md",
    ".cursorrules",
    ".cursor/rules/",
    "CLAUDE.md",
    "CLAUDE.local.md",
    "GEMINI.md",
    "gemini.md",
    "crush.md",
    "crush.local.md",
    "Crush.md",
    "Crush.local.md",
    "CRUSH.md",
    "CRUSH.local.md",
    "AGENTS.md",
    "agents.md",
    "Agents.md",
)
#: A context file is cut after this many bytes.
MAX_CONTEXT_FILE_BYTES = 64 * 1024
#: Files read from one context folder at most.
MAX_CONTEXT_DIR_FILES = 32


def template(name: str) -> str:
    """Return the text of ``templates/<name>``."""
    return (
        resources.files("crushd.agent").joinpath("templates", name).read_text("utf-8")
    )


def _read_regular(path: Path) -> str | None:
    # O_NONBLOCK: a FIFO named like a context file must not wedge the thread
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return handle.read(MAX_CONTEXT_FILE_BYTES).decode("utf-8", "replace")


def _context_files(root: Path, paths: Iterable[str]) -> list[tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for name in paths:
        full = root / os.path.expanduser(name)
        candidates = (
            sorted(p for p in full.rglob("*") if p.is_file())[:MAX_CONTEXT_DIR_FILES]
            if full.is_dir()
            else [full]
        )
        for path in candidates:
            text = _read_regular(path)
            if text is not None:
                found.setdefault(str(path).lower(), (str(path), text))
    return list(found.values())


def _git_facts(root: Path) -> str:
    # Only files are read: running git in an unknown repository could run
    # its configured hooks (core.fsmonitor), so no subprocess here.
    head = root / ".git" / "HEAD"
    if not (root / ".git").exists():
        return "no"
    text = _read_regular(head) or ""
    branch = text.strip().removeprefix("ref: refs/heads/")
    return f"yes (branch {branch})" if branch and "/" not in branch else "yes"


def build_system_prompt(
    root: Path,
    context_paths: Sequence[str] = (),
    *,
    today: datetime.date | None = None,
    platform: str = sys.platform,
) -> str:
    """Fill the coder template for ``root``; blocking file reads (run in a thread).

    Args:
        root: the workspace folder.
        context_paths: the config's ``options.context_paths``, looked at
            after the defaults (relative to ``root``, ``~`` expanded).
        today: the date shown (default: today, local time).
        platform: the platform name shown.

    Returns:
        The system prompt text.
    """
    files = _context_files(root, [*DEFAULT_CONTEXT_PATHS, *context_paths])
    context = "".join(
        f"\n<context_file path='{path}'>\n{text}\n</context_file>\n"
        for path, text in files
    )
    if context:
        context = (
            "\n# Project instructions\n\nFollow these files from the project:\n"
            + context
        )
    day = today or datetime.datetime.now().astimezone().date()
    return string.Template(template("coder.md")).safe_substitute(
        working_dir=root.as_posix(),
        platform=platform,
        date=f"{day.month}/{day.day}/{day.year}",
        git=_git_facts(root),
        context=context,
    )


async def load_system_prompt(root: Path, context_paths: Sequence[str] = ()) -> str:
    """``build_system_prompt`` in a worker thread, so the loop keeps running.

    Cancellation:
        Cancelling abandons nothing: the thread finishes its reads (bounded
        by the file caps) and the result is dropped.
    """
    return await trio.to_thread.run_sync(
        build_system_prompt, root, tuple(context_paths)
    )


def todo_reminder(todos: Sequence[proto.Todo]) -> ChatMessage:
    """The todo reminder sent as a user message before the history.

    Upstream always says the list is empty; crushd sends the real list.
    """
    if not todos:
        body = (
            "The todo list is empty. If the task has several steps, use the "
            "todos tool to plan them; otherwise ignore this. Do not mention "
            "this reminder to the user."
        )
    else:
        items = "\n".join(f"- [{t.status}] {t.content}" for t in todos)
        body = (
            "The current todo list (keep it up to date with the todos tool; "
            f"do not mention this reminder to the user):\n{items}"
        )
    return ChatMessage("user", f"<system_reminder>{body}</system_reminder>")


def session_headers(session_id: str) -> dict[str, str]:
    """Per-call headers: the session id and an opaque cache-affinity hash."""
    digest = hashlib.blake2b(session_id.encode(), digest_size=8).hexdigest()
    return {"x-session-id": session_id, "x-session-affinity": digest}
