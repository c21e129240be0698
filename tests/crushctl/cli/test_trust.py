"""``crushctl trust`` and ``crushctl doctor --cwd``: a project's crushrc scripts.

Local files only: the command never talks to a daemon (a transport that fails
every request proves it). Ownership tests chown to 65534 and need root.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest

from crushctl.cli import main_async
from crushctl.cli._doctor import Finding, project_findings
from crushd.trust import load_trust_list, script_sha256, trust_scripts

NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="chowning a file to another uid needs root"
)


def no_daemon(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"crushctl trust sent {request.method} {request.url}")


@pytest.fixture
def trust_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRUSH_GLOBAL_DATA", str(tmp_path / "data"))
    return tmp_path / "data" / "trusted.json"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A worktree with a root ``.crushrc`` and a ``sub/crushrc``."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / "sub").mkdir()
    (tmp_path / "repo" / ".crushrc").write_text("echo '{}'\n")
    (tmp_path / "repo" / "sub" / "crushrc").write_text("printf '{}'\n")
    return tmp_path / "repo"


def digest(path: Path) -> str:
    return script_sha256(path.read_bytes())


def table(out: str) -> list[tuple[str, ...]]:
    """The rows of the printed table (columns are 2+ spaces apart)."""
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["STATE", "SHA256", "PATH"]
    cells = [tuple(re.split(r"\s{2,}", line)) for line in lines[1:]]
    return [row for row in cells if len(row) == 3 and row[0]]


def absent(path: Path) -> bool:
    return not os.path.lexists(path)


def write(path: Path, text: str, mode: int = 0o600) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


async def trust(*args: str) -> int:
    transport = httpx.MockTransport(no_daemon)
    return await main_async(["trust", *args], transport=transport)


async def test_trust_shows_and_trusts_every_project_script(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every script of the project is listed with its sha256 and trusted."""
    assert await trust("--cwd", str(repo / "sub")) == 0
    out = capsys.readouterr().out
    assert table(out) == [
        ("trusted (now)", digest(script), str(script))
        for script in (repo / ".crushrc", repo / "sub" / "crushrc")
    ]
    assert f"trusted 2 script(s) in {trust_file}" in out
    assert load_trust_list(trust_file) == {
        repo / ".crushrc": digest(repo / ".crushrc"),
        repo / "sub" / "crushrc": digest(repo / "sub" / "crushrc"),
    }


async def test_trust_list_only_shows_the_state(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--list`` shows trusted, untrusted and edited scripts; it writes nothing."""
    assert await trust("--cwd", str(repo)) == 0
    (repo / ".crushrc").write_text("echo '{}' # edited\n")
    (repo / "crushrc").write_text("echo '{}'\n")
    capsys.readouterr()
    assert await trust("--list", "--cwd", str(repo)) == 0
    assert table(capsys.readouterr().out) == [
        ("untrusted", digest(repo / "crushrc"), str(repo / "crushrc")),
        ("edited", digest(repo / ".crushrc"), str(repo / ".crushrc")),
    ]
    assert repo / "crushrc" not in load_trust_list(trust_file)


async def test_trust_again_after_an_edit_replaces_the_hash(
    trust_file: Path, repo: Path
) -> None:
    """Re-trusting an edited script records its new hash only."""
    assert await trust("--cwd", str(repo)) == 0
    (repo / ".crushrc").write_text("echo '{}' # edited\n")
    assert await trust("--cwd", str(repo)) == 0
    assert load_trust_list(trust_file) == {repo / ".crushrc": digest(repo / ".crushrc")}


async def test_trust_revoke_removes_the_project_entries(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--revoke`` removes every entry of the project, deleted scripts too."""
    assert await trust("--cwd", str(repo / "sub")) == 0
    (repo / "sub" / "crushrc").unlink()
    capsys.readouterr()
    assert await trust("--revoke", "--cwd", str(repo / "sub")) == 0
    assert table(capsys.readouterr().out) == [
        ("revoked", digest(repo / ".crushrc"), str(repo / ".crushrc")),
        ("revoked", "-", str(repo / "sub" / "crushrc")),
    ]
    assert load_trust_list(trust_file) == {}


async def test_trust_json(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--json`` prints the project, the list file and one object per script."""
    assert await trust("--json", "--cwd", str(repo)) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "path": str(repo),
        "trust_file": str(trust_file),
        "scripts": [
            {
                "path": str(repo / ".crushrc"),
                "sha256": digest(repo / ".crushrc"),
                "state": "trusted",
                "changed": True,
                "problem": None,
            }
        ],
    }


async def test_trust_without_scripts_says_so(
    trust_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project without scripts is reported; no list file is written."""
    assert await trust("--cwd", str(tmp_path)) == 0
    assert "no project scripts (crushrc, .crushrc)" in capsys.readouterr().out
    assert absent(trust_file)


async def test_trust_refuses_a_folder_others_may_write(
    trust_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project folder others may write is not a project crushd reads."""
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    (loose / ".crushrc").write_text("echo '{}'\n")
    assert await trust("--cwd", str(loose)) == 1
    assert "writable by group or others" in capsys.readouterr().err
    assert absent(trust_file)


async def test_trust_refuses_an_untrusted_trust_list(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trust list others may write is neither believed nor rewritten."""
    write(trust_file, '{"scripts": {}}', 0o666)
    assert await trust("--cwd", str(repo)) == 1
    assert "is not trusted: writable by group or others" in capsys.readouterr().err
    assert digest(trust_file) == script_sha256(b'{"scripts": {}}')


@needs_root
async def test_trust_never_trusts_a_script_another_uid_owns(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another uid's script is shown as refused, not trusted; the exit is 1."""
    os.chown(repo / "sub" / "crushrc", NOBODY, NOBODY)
    assert await trust("--cwd", str(repo / "sub")) == 1
    captured = capsys.readouterr()
    assert table(captured.out)[1] == ("refused", "-", str(repo / "sub" / "crushrc"))
    assert f"owned by uid {NOBODY}: another user could change it" in captured.out
    assert "1 script(s) cannot be trusted" in captured.err
    assert load_trust_list(trust_file) == {repo / ".crushrc": digest(repo / ".crushrc")}


# -- crushctl doctor --cwd ----------------------------------------------------------


def test_doctor_cwd_warns_of_each_untrusted_project_script(
    trust_file: Path, repo: Path
) -> None:
    """Each script not trusted is a warning with its hash and the trust command."""
    findings = project_findings(repo / "sub", trust_file)
    hint = f"review it, then run `crushctl trust --cwd {repo / 'sub'}`"
    assert findings == [
        Finding(
            "project script",
            "warn",
            f"{script} is skipped (not in your trust list; sha256 {digest(script)}):"
            f" {hint}",
        )
        for script in (repo / ".crushrc", repo / "sub" / "crushrc")
    ]


def test_doctor_cwd_says_when_a_script_was_edited(trust_file: Path, repo: Path) -> None:
    """A trusted script edited since is skipped again, and doctor says why."""
    trust_scripts(trust_file, {repo / ".crushrc": "0" * 64})
    (repo / "sub" / "crushrc").unlink()
    [finding] = project_findings(repo / "sub", trust_file)
    assert "is skipped (edited since it was trusted;" in finding.detail


def test_doctor_cwd_trusted_scripts_are_ok(trust_file: Path, repo: Path) -> None:
    """Trusted scripts are ok findings; nothing warns."""
    scripts = (repo / ".crushrc", repo / "sub" / "crushrc")
    trust_scripts(trust_file, {script: digest(script) for script in scripts})
    assert [f.level for f in project_findings(repo / "sub", trust_file)] == ["ok"] * 2


def test_doctor_cwd_with_nothing_skipped_is_one_ok(
    trust_file: Path, repo: Path
) -> None:
    """A project without scripts or foreign files gets a single ok."""
    (repo / ".crushrc").unlink()
    (repo / "sub" / "crushrc").unlink()
    assert project_findings(repo / "sub", trust_file) == [
        Finding("project", "ok", f"nothing skipped for {repo / 'sub'}")
    ]


def test_doctor_cwd_warns_of_an_untrusted_trust_list(
    trust_file: Path, repo: Path
) -> None:
    """A list others may write is not believed: doctor says no script runs."""
    write(trust_file, '{"scripts": {}}', 0o666)
    [finding] = project_findings(repo, trust_file)
    assert finding.check == "trust list"
    assert finding.detail.endswith(
        "writable by group or others: no project script runs"
    )


@needs_root
def test_doctor_cwd_reports_another_uids_script_as_skipped(
    trust_file: Path, repo: Path
) -> None:
    """Another uid's script is reported once, as skipped with the owner."""
    script = repo / "sub" / "crushrc"
    os.chown(script, NOBODY, NOBODY)
    findings = project_findings(repo / "sub", trust_file)
    assert Finding(
        "skipped", "warn", f"{script} is not used: owned by uid {NOBODY}"
    ) in (findings)
    assert [
        f for f in findings if str(script) in f.detail and f.check != "skipped"
    ] == []


async def test_doctor_cwd_adds_the_project_findings(
    trust_file: Path, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``crushctl doctor --cwd DIR --json`` includes the project findings."""
    host = f"unix://{repo}/none.sock"
    argv = ["--host", host, "--json", "doctor", "--cwd", str(repo)]
    assert await main_async(argv) == 0
    findings = json.loads(capsys.readouterr().out)
    checks = [(f["check"], f["level"]) for f in findings]
    assert ("project script", "warn") in checks
    assert absent(repo / "none.sock")
