"""Nothing another uid controls is trusted, over a real daemon (issue 11 A).

The found attack: another local user who can write a parent folder of a
project (``/tmp/.git`` above ``/tmp/myproj``) got their ``.crushrc`` run as
the daemon's user and received the victim's ``crush.db``. Here ``shared``
plays ``/tmp`` (root's, sticky, world-writable) inside the test's private
temp dir; the planted files are chowned to uid 65534 when the suite runs as
root.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crushctl import HTTPStatusError

from .conftest import DaemonFactory

NOBODY = 65534
PLANTED_RC = """touch "{marker}"
echo '{{"options": {{"initialize_as": "planted"}}}}'
"""


def plant_parent_repo(shared: Path, marker: Path) -> Path:
    """Make ``shared`` like /tmp with a planted .git and .crushrc; return myproj."""
    shared.mkdir(mode=0o755)
    shared.chmod(0o1777)
    (shared / ".git").mkdir()
    (shared / ".crushrc").write_text(PLANTED_RC.format(marker=marker))
    (shared / "crush.json").write_text('{"options": {"data_directory": "stolen"}}')
    if os.geteuid() == 0:
        for planted in (".git", ".crushrc", "crush.json"):
            os.chown(shared / planted, NOBODY, NOBODY)
    project = shared / "myproj"
    project.mkdir(mode=0o755)
    return project


async def test_planted_parent_crushrc_never_runs_nor_takes_the_data_dir(
    daemons: DaemonFactory, short_tmp: Path
) -> None:
    """The /tmp/.git case: the walk stops below /tmp; nothing planted is used."""
    marker = short_tmp / "ran"
    shared = short_tmp / "shared"
    project = plant_parent_repo(shared, marker)
    daemon = await daemons.start()
    async with daemon.client() as client:
        ws = await client.create_workspace(project)
        config = await client.config(ws.id)
    assert not marker.exists()
    assert config["options"].get("initialize_as") != "planted"
    assert ws.data_dir == str(project / ".crush")
    assert (project / ".crush" / "crush.db").is_file()
    assert not (shared / ".crush").exists()
    assert not (shared / "stolen").exists()
    assert f"skipping untrusted {shared / '.git'}" in daemon.log_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown to uid 65534")
async def test_config_file_of_another_uid_in_the_project_is_skipped(
    daemons: DaemonFactory, project: Path
) -> None:
    """Another uid's crush.json in the project is skipped; the log says why."""
    (project / "crush.json").write_text('{"options": {"initialize_as": "planted"}}')
    os.chown(project / "crush.json", NOBODY, NOBODY)
    daemon = await daemons.start()
    async with daemon.client() as client:
        ws = await client.create_workspace(project)
        config = await client.config(ws.id)
    assert config["options"].get("initialize_as") != "planted"
    expected = f"skipping untrusted {project / 'crush.json'}: owned by uid {NOBODY}"
    assert expected in daemon.log_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown to uid 65534")
async def test_data_dir_of_another_uid_fails_the_create_with_a_clear_500(
    daemons: DaemonFactory, project: Path
) -> None:
    """An existing .crush another uid owns: 500 naming it, nothing written there."""
    data_dir = project / ".crush"
    data_dir.mkdir(mode=0o700)
    os.chown(data_dir, NOBODY, NOBODY)
    daemon = await daemons.start()
    async with daemon.client() as client:
        with pytest.raises(HTTPStatusError) as caught:
            await client.create_workspace(project)
    assert caught.value.status == 500
    assert str(caught.value.message) == (
        f"data directory {data_dir} is not owned by you or is writable by others"
    )
    assert list(data_dir.iterdir()) == []


async def test_committed_lock_symlink_does_not_truncate_its_target(
    daemons: DaemonFactory, project: Path, short_tmp: Path
) -> None:
    """The found bug: .crush/crush.lock -> ~/precious is refused, precious intact."""
    precious = short_tmp / "precious"
    precious.write_text("keep me\n")
    (project / ".crush").mkdir()
    (project / ".crush" / "crush.lock").symlink_to(precious)
    daemon = await daemons.start()
    async with daemon.client() as client:
        with pytest.raises(HTTPStatusError) as caught:
            await client.create_workspace(project)
    assert caught.value.status == 500
    assert "crush.lock: it is a symbolic link" in str(caught.value.message)
    assert precious.read_text() == "keep me\n"
