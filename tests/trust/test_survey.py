"""The survey of skipped entries (``crushd.trust.skipped_entries``).

Folders here sit under pytest's temp dir, whose ancestor ``/tmp`` (sticky,
world-writable) already ends every walk. A group-writable mode stands in for
"another user controls it" where no root is needed; the other-uid cases chown
to 65534 and run only as root.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from crushd.trust import Skipped, skipped_entries

NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="chowning a file to another uid needs root"
)
LOOSE = "writable by group or others"


def _repo(tmp_path: Path) -> Path:
    """A trusted repo at tmp_path/repo with the workspace tmp_path/repo/sub."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    workspace = tmp_path / "repo" / "sub"
    workspace.mkdir()
    return workspace


def _loosen(path: Path) -> None:
    path.chmod(path.stat().st_mode | 0o020)


def test_survey_of_a_clean_project_is_empty(tmp_path: Path) -> None:
    """Nothing is reported when every file the project uses is trusted."""
    workspace = _repo(tmp_path)
    (workspace / "crush.json").write_text("{}")
    (workspace / ".crush" / "skills").mkdir(parents=True)
    assert skipped_entries(workspace) == []


def test_survey_reports_untrusted_config_files_and_data_dir(tmp_path: Path) -> None:
    """Loose config layer files and ``.crush`` in the project folders are listed."""
    workspace = _repo(tmp_path)
    for path in (tmp_path / "repo" / ".crushrc", workspace / "crush.json"):
        path.write_text("{}")
        _loosen(path)
    (workspace / ".crush").mkdir()
    _loosen(workspace / ".crush")
    assert skipped_entries(workspace) == [
        Skipped(tmp_path / "repo" / ".crushrc", LOOSE),
        Skipped(workspace / "crush.json", LOOSE),
        Skipped(workspace / ".crush", LOOSE),
    ]


def test_survey_reports_untrusted_skills_folders_once(tmp_path: Path) -> None:
    """A loose skills folder, or a loose folder holding one, is listed once."""
    workspace = _repo(tmp_path)
    (workspace / ".agents").mkdir()
    _loosen(workspace / ".agents")
    (tmp_path / "repo" / ".claude" / "skills").mkdir(parents=True)
    _loosen(tmp_path / "repo" / ".claude" / "skills")
    assert skipped_entries(workspace) == [
        Skipped(tmp_path / "repo" / ".claude" / "skills", LOOSE),
        Skipped(workspace / ".agents", LOOSE),
    ]


def test_survey_reports_an_untrusted_git_and_walks_on(tmp_path: Path) -> None:
    """A loose ``.git`` is listed and the walk finds the trusted one above."""
    workspace = _repo(tmp_path)
    (workspace / ".git").mkdir()
    _loosen(workspace / ".git")
    (tmp_path / "repo" / "crush.json").write_text("{}")
    _loosen(tmp_path / "repo" / "crush.json")
    assert skipped_entries(workspace) == [
        Skipped(workspace / ".git", LOOSE),
        Skipped(tmp_path / "repo" / "crush.json", LOOSE),
    ]


def test_survey_reports_the_folder_that_stopped_the_walk(tmp_path: Path) -> None:
    """A loose folder holding ``.git`` above the workspace is listed, once."""
    shared = tmp_path / "shared"
    (shared / ".git").mkdir(parents=True)
    (shared / ".crushrc").write_text("echo {}")
    (shared / "myproj").mkdir()
    _loosen(shared)
    assert skipped_entries(shared / "myproj") == [
        Skipped(shared, f"{LOOSE}, so the project walk stops there")
    ]


def test_survey_ignores_a_stopping_folder_holding_nothing(tmp_path: Path) -> None:
    """A loose folder with no project files above the workspace is not news."""
    shared = tmp_path / "shared"
    (shared / "myproj").mkdir(parents=True)
    _loosen(shared)
    assert skipped_entries(shared / "myproj") == []


def test_survey_does_not_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The survey is silent: crushctl prints it, the daemon logs its own lines."""
    workspace = _repo(tmp_path)
    (workspace / ".git").mkdir()
    _loosen(workspace / ".git")
    with caplog.at_level(logging.DEBUG):
        assert skipped_entries(workspace)
    assert caplog.records == []


@needs_root
def test_survey_names_the_other_uid_of_a_planted_parent_git(tmp_path: Path) -> None:
    """The /tmp/.git above /tmp/myproj case: another uid's folder ends the walk."""
    parent = tmp_path / "parent"
    (parent / ".git").mkdir(parents=True)
    (parent / "myproj").mkdir()
    os.chown(parent, NOBODY, NOBODY)
    assert skipped_entries(parent / "myproj") == [
        Skipped(parent, f"owned by uid {NOBODY}, so the project walk stops there")
    ]


@needs_root
def test_survey_names_the_other_uid_of_a_planted_config_file(tmp_path: Path) -> None:
    """A config file another uid owns, in a trusted project folder, is listed."""
    workspace = _repo(tmp_path)
    (workspace / ".crushrc").write_text("echo {}")
    os.chown(workspace / ".crushrc", NOBODY, NOBODY)
    assert skipped_entries(workspace) == [
        Skipped(workspace / ".crushrc", f"owned by uid {NOBODY}")
    ]
