"""The repository stands alone: nothing tracked points outside it.

The team's reference texts live beside the repository, not in it; a clone
must be readable without them. Every section the code cites is in
``docs/protocol.md``, ``docs/architecture.md`` or ``CONTRIBUTING.md``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Written with a character class so this file does not match itself.
FORBIDDEN = re.compile(r"\.\./share[d]|(PROTOCOL|DESIGN|STYLE|AGENT)\.m[d]")


def _tracked_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listing.decode().split("\0") if name]


def test_no_tracked_file_points_outside_the_repository() -> None:
    """No file names the shared folder or the team's four reference texts."""
    hits: list[str] = []
    for path in _tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        hits.extend(
            f"{path.relative_to(ROOT)}:{number}"
            for number, line in enumerate(text.splitlines(), 1)
            if FORBIDDEN.search(line)
        )
    assert hits == []


def test_the_cited_documents_exist() -> None:
    """The three documents the code cites are in the repository."""
    for name in ("docs/protocol.md", "docs/architecture.md", "CONTRIBUTING.md"):
        assert (ROOT / name).is_file(), name
