"""The ownership rule and the project walk (``crushd.trust`` ownership/project).

A group-writable mode stands in for "another user controls it" where no root
is needed; the other-uid cases chown to 65534 and run only as root.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from crushd.trust import (
    check_trusted,
    find_worktree_root,
    first_untrusted_ancestor,
    project_dirs,
    trusted_ancestors,
    untrusted_below,
)

NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="chowning a file to another uid needs root"
)


def _loosen(path: Path) -> None:
    path.chmod(path.stat().st_mode | 0o002)


def test_tmp_itself_is_never_trusted() -> None:
    """The sticky, world-writable /tmp is not a folder anyone may trust."""
    assert check_trusted(Path("/tmp")) == "writable by group or others"


def test_walk_stops_below_tmp(tmp_path: Path) -> None:
    """The walk ends below /tmp; ``first_untrusted_ancestor`` names it."""
    assert Path("/tmp") not in list(trusted_ancestors(tmp_path))
    assert first_untrusted_ancestor(tmp_path) == (
        Path("/tmp"),
        "writable by group or others",
    )


def test_untrusted_below_checks_every_step(tmp_path: Path) -> None:
    """A loose middle folder is reported even when the leaf is fine."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert untrusted_below(tmp_path, "a/b") is None
    _loosen(tmp_path / "a")
    assert untrusted_below(tmp_path, "a/b") == (
        tmp_path / "a",
        "writable by group or others",
    )
    assert untrusted_below(tmp_path, "missing/b") is None


def test_parent_git_in_loose_folder_is_not_the_root(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A ``.git`` in a world-writable folder above the project is skipped, logged."""
    shared = tmp_path / "shared"
    (shared / ".git").mkdir(parents=True)
    (shared / "myproj").mkdir()
    _loosen(shared)
    with caplog.at_level(logging.WARNING, logger="crushd.trust"):
        assert find_worktree_root(shared / "myproj") is None
    assert project_dirs(shared / "myproj") == [shared / "myproj"]
    assert (
        f"skipping untrusted {shared / '.git'}: its folder is writable by group"
        " or others" in caplog.text
    )


@needs_root
def test_parent_git_of_another_uid_is_not_the_root(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The /tmp/.git above /tmp/myproj case with a real other uid."""
    parent = tmp_path / "parent"
    (parent / ".git").mkdir(parents=True)
    (parent / "myproj").mkdir()
    os.chown(parent, NOBODY, NOBODY)
    with caplog.at_level(logging.WARNING, logger="crushd.trust"):
        assert find_worktree_root(parent / "myproj") is None
    assert f"its folder is owned by uid {NOBODY}" in caplog.text


@needs_root
def test_untrusted_git_is_skipped_for_the_one_above(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another uid's ``.git`` inside the repo is skipped with a warning."""
    (tmp_path / "repo" / "sub" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    os.chown(tmp_path / "repo" / "sub" / ".git", NOBODY, NOBODY)
    with caplog.at_level(logging.WARNING, logger="crushd.trust"):
        assert find_worktree_root(tmp_path / "repo" / "sub") == tmp_path / "repo"
    assert f"owned by uid {NOBODY}" in caplog.text
