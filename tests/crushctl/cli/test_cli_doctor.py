"""``crushctl doctor``: findings for real sockets, folders and locks; never spawns."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crushctl import Client
from crushctl.cli import main
from crushctl.cli._doctor import Finding, diagnose
from crushd.proto import parse_host


@pytest.fixture
def folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private temp folder, also used as the crush cache folder."""
    path = Path(tempfile.mkdtemp(prefix="doctor-", dir="/tmp"))
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(path / "cache"))
    monkeypatch.delenv("CRUSH_SERVER_READY_TIMEOUT", raising=False)
    monkeypatch.delenv("CRUSH_TOKEN", raising=False)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def findings_for(url: str) -> dict[str, Finding]:
    """Run ``diagnose`` for ``url``; index the findings by check name."""
    async with Client(parse_host(url)) as client:
        return {finding.check: finding for finding in await diagnose(client)}


async def test_doctor_missing_socket_is_ok_and_daemon_unreachable(folder: Path) -> None:
    """No socket file: the socket check is ok (next command starts one)."""
    found = await findings_for(f"unix://{folder}/d.sock")
    assert found["socket"].level == "ok"
    assert "absent" in found["socket"].detail
    assert found["daemon"].level == "warn"
    assert not (folder / "d.sock").exists()


async def test_doctor_stale_socket_is_reported_not_removed(folder: Path) -> None:
    """A socket file nobody listens on is a warning and stays in place."""
    path = folder / "d.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(os.fspath(path))  # bound, never listening: connect is refused
    found = await findings_for(f"unix://{path}")
    assert found["socket"].level == "warn"
    assert "stale" in found["socket"].detail
    assert path.exists()


async def test_doctor_socket_path_that_is_a_file_fails(folder: Path) -> None:
    """A regular file at the socket path is a failure naming the path."""
    path = folder / "d.sock"
    path.write_text("not a socket")
    found = await findings_for(f"unix://{path}")
    assert found["socket"].level == "fail"
    assert str(path) in found["socket"].detail


async def test_doctor_loose_socket_folder_fails(folder: Path) -> None:
    """A group/other-writable, non-sticky socket folder is a failure."""
    loose = folder / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    found = await findings_for(f"unix://{loose}/d.sock")
    assert found["socket folder"].level == "fail"
    assert "chmod go-w" in found["socket folder"].detail


async def test_doctor_held_spawn_lock_is_a_warning(folder: Path) -> None:
    """A start.lock held by someone else means a client is starting crushd."""
    url = f"unix://{folder}/d.sock"
    lock = folder / "cache" / f"server-{parse_host(url).safe_name}" / "start.lock"
    lock.parent.mkdir(parents=True)
    with lock.open("w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        found = await findings_for(url)
    assert found["spawn lock"].level == "warn"
    assert (await findings_for(url))["spawn lock"].level == "ok"


async def test_doctor_bad_ready_timeout_is_a_warning(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unparsable CRUSH_SERVER_READY_TIMEOUT is reported with the fallback."""
    monkeypatch.setenv("CRUSH_SERVER_READY_TIMEOUT", "soon")
    found = await findings_for(f"unix://{folder}/d.sock")
    assert found["ready timeout"].level == "warn"
    assert "'soon'" in found["ready timeout"].detail
    monkeypatch.setenv("CRUSH_SERVER_READY_TIMEOUT", "500ms")
    found = await findings_for(f"unix://{folder}/d.sock")
    assert found["ready timeout"] == Finding(
        "ready timeout", "ok", "0.5 s ($CRUSH_SERVER_READY_TIMEOUT)"
    )


async def test_doctor_tcp_without_token_fails(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tcp host with neither $CRUSH_TOKEN nor a token file fails the token check."""
    monkeypatch.setenv("XDG_STATE_HOME", str(folder / "state"))
    found = await findings_for("tcp://127.0.0.1:9")
    assert found["token"].level == "fail"
    monkeypatch.setenv("CRUSH_TOKEN", "t0ken")
    assert (await findings_for("tcp://127.0.0.1:9"))["token"].level == "ok"


def test_doctor_command_exits_1_on_failure_and_prints_json(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``crushctl doctor --json`` lists findings; a failed check makes it exit 1."""
    path = folder / "d.sock"
    path.write_text("not a socket")
    assert main(["--host", f"unix://{path}", "--json", "doctor"]) == 1
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert {"check": "host", "level": "ok", "detail": f"unix://{path}"} in rows
    assert captured.err == "crushctl: 1 check(s) failed\n"
    assert path.read_text() == "not a socket"
