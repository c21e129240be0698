"""Project initialisation: the ``<data_dir>/init`` flag and the init prompt."""

from __future__ import annotations

import json
from pathlib import Path

from crushd.errors import InternalError

#: Files that already tell an agent about the project (no init needed).
CONTEXT_FILES = (
    "AGENTS.md",
    "agents.md",
    "CRUSH.md",
    "crush.md",
    "Crush.md",
    "CLAUDE.md",
    "claude.md",
    "GEMINI.md",
    "gemini.md",
    ".cursorrules",
    ".github/copilot-instructions.md",
)

#: The flag file's name inside the data directory.
INIT_FLAG = "init"

INIT_PROMPT = """\
Please get to know this repository and write an AGENTS.md file at its root
for future coding agents (and people) working in it.

First explore: read the README and any docs, the build and dependency files
(package manifests, Makefile, CI configuration), the layout of the source and
test folders, and a few representative modules. Note any existing rule files
(.cursorrules, CLAUDE.md, .github/copilot-instructions.md) and keep what they
say.

Then write AGENTS.md, short and concrete, with:
1. How to build, lint, type-check and run the tests, including how to run a
   single test; give the exact commands.
2. The architecture in a few lines: the main packages or folders, what each
   is for, and which way the dependencies point.
3. The code style actually used here: formatting, imports, naming, types,
   error handling, logging, and how tests are written.
4. Pitfalls and conventions a newcomer would trip over.

Only state what you have verified in the code. If AGENTS.md already exists,
improve it instead of replacing it.
"""


def needs_init(path: Path, data_dir: Path) -> bool:
    """Return whether the project at ``path`` should be initialised.

    False when ``<data_dir>/init`` exists, a known context file exists in
    ``path``, or ``path`` has no visible files; true otherwise.

    Raises:
        InternalError: ``path`` cannot be listed (500).

    Source: Crush ``config.ProjectNeedsInitialization`` (docs/protocol.md 2.9).
    """
    if (data_dir / INIT_FLAG).exists():
        return False
    if any((path / name).exists() for name in CONTEXT_FILES):
        return False
    try:
        return any(not entry.name.startswith(".") for entry in path.iterdir())
    except OSError as exc:
        raise InternalError(f"failed to check project: {exc}") from None


def mark_initialized(data_dir: Path) -> None:
    """Write ``<data_dir>/init`` (``{"initialized":true}``), atomically.

    Raises:
        InternalError: the file cannot be written (500).
    """
    from crushd.config import write_atomic  # the writer loads the config model

    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise InternalError(f"failed to mark project initialized: {exc}") from None
    write_atomic(data_dir / INIT_FLAG, json.dumps({"initialized": True}) + "\n")
