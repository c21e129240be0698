"""crushctl commands through main_async against an httpx.MockTransport daemon."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from crushctl import CLIENT_ID
from crushctl.cli import main_async
from crushctl.cli._output import format_time

HOST = "unix:///tmp/crushctl-test.sock"
OTHER = "6f1a2b3c-0000-4000-8000-000000000001"

Handler = Callable[[httpx.Request], httpx.Response]

VERSION = {
    "version": "0.1.0",
    "commit": "abc",
    "build_id": "def",
    "go_version": "python 3.11.9",
    "platform": "linux/amd64",
}
DAEMON = {
    "pid": 4242,
    "started_at": 1767225000.0,
    "uptime_seconds": 90061.5,
    "log_file": "/cache/server-x/crushd.log",
    "data_dirs": {"config": "/cfg", "data": "/data"},
}
WORKSPACE = {"id": "w1", "path": "/proj", "data_dir": "/proj/.crush", "yolo": True}
SESSION = {
    "id": "s1",
    "title": "fix the bug",
    "message_count": 3,
    "is_busy": True,
    "attached_clients": 2,
    "updated_at": 1767225700,
}


def client_row(client_id: str, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "client_id": client_id,
        "streams": 1,
        "held": False,
        "released": False,
        "current_session_id": "s1",
        "attached_at": 1767225600.0,
        "last_seen": 1767225601.0,
        "user_agent": "crush/1.0",
    }
    row.update(overrides)
    return row


def answer(status: int = 200, body: object = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    return handle


class Fake:
    """A route table standing in for crushd; records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/v1/health"): answer(),
            ("GET", "/v1/version"): answer(body=VERSION),
            ("GET", "/v1/workspaces"): answer(body=[WORKSPACE]),
            ("POST", "/v1/workspaces"): answer(body=WORKSPACE),
            ("DELETE", "/v1/workspaces/w1"): answer(),
            ("GET", "/v1/workspaces/w1/clients"): answer(
                body=[client_row(OTHER), client_row(CLIENT_ID, streams=0, held=True)]
            ),
            ("GET", "/v1/workspaces/w1/sessions"): answer(body=[SESSION]),
            ("POST", "/v1/workspaces/w1/sessions"): answer(body=SESSION),
            ("POST", "/v1/control"): answer(),
            ("GET", "/v1/config"): answer(body={"crushd": DAEMON}),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(404, text="404 page not found\n")
        return handler(request)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]


def resolved(path: Path) -> str:
    return str(path.resolve())


async def run(fake: Fake, *argv: str) -> int:
    return await main_async(
        ["--host", HOST, *argv], transport=httpx.MockTransport(fake)
    )


async def test_status_human(capsys: pytest.CaptureFixture[str]) -> None:
    """status prints host, health, version, the daemon's pid, uptime, socket,
    log file and folders, and each workspace's client table."""
    fake = Fake()
    assert await run(fake, "status") == 0
    when = format_time(1767225601.0)
    assert capsys.readouterr().out.splitlines() == [
        f"host:        {HOST}",
        "status:      healthy",
        "version:     0.1.0 (python 3.11.9, linux/amd64)",
        "pid:         4242",
        "uptime:      1d 1h 1m 1s",
        "socket:      /tmp/crushctl-test.sock",
        "log file:    /cache/server-x/crushd.log",
        "config dir:  /cfg",
        "data dir:    /data",
        "workspaces:  1",
        "",
        "workspace w1  /proj",
        "  data dir: /proj/.crush",
        f"  CLIENT{' ' * 34}STREAMS  STATE      SESSION  LAST SEEN{' ' * 12}USER AGENT",
        f"  {OTHER}    1        streaming  s1       {when}  crush/1.0",
        f"  {CLIENT_ID} *  0        held       s1       {when}  crush/1.0",
        "  * this crushctl",
    ]


async def test_status_json(capsys: pytest.CaptureFixture[str]) -> None:
    """status --json prints one document with version and per-workspace clients."""
    fake = Fake()
    assert await run(fake, "--json", "status") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["host"] == HOST
    assert doc["healthy"] is True
    assert doc["version"] == VERSION
    [workspace] = doc["workspaces"]
    assert (workspace["id"], workspace["path"]) == ("w1", "/proj")
    assert [c["client_id"] for c in workspace["clients"]] == [OTHER, CLIENT_ID]
    assert doc["daemon"] == {
        "pid": 4242,
        "uptime_seconds": 90061.5,
        "socket": "/tmp/crushctl-test.sock",
        "log_file": "/cache/server-x/crushd.log",
        "data_dirs": {"config": "/cfg", "data": "/data"},
    }


async def test_status_of_an_older_daemon_shows_dashes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A daemon whose config has no process facts (or fails) still gets a status."""
    fake = Fake()
    fake.routes["GET", "/v1/config"] = answer(500, {"message": "broken config"})
    assert await run(fake, "status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3:8] == [
        "pid:         -",
        "uptime:      -",
        "socket:      /tmp/crushctl-test.sock",
        "log file:    -",
        "data dirs:   -",
    ]


async def test_status_skips_workspace_torn_down_meanwhile(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A workspace that 404s on its roster is left out of status."""
    fake = Fake()
    fake.routes["GET", "/v1/workspaces/w1/clients"] = answer(
        404, {"message": "workspace not found"}
    )
    assert await run(fake, "status", "--json") == 0
    assert json.loads(capsys.readouterr().out)["workspaces"] == []


async def test_version_human_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    """version prints the daemon's fields and crushctl's own version."""
    fake = Fake()
    assert await run(fake, "version") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:5] == [
        "crushd    0.1.0",
        "commit    abc",
        "build     def",
        "runtime   python 3.11.9",
        "platform  linux/amd64",
    ]
    assert lines[5].startswith("crushctl  ")
    assert await run(fake, "version", "--json") == 0
    assert json.loads(capsys.readouterr().out)["crushd"] == VERSION


async def test_workspaces_table_and_empty(capsys: pytest.CaptureFixture[str]) -> None:
    """workspaces prints a table, or ``no workspaces`` when there are none."""
    fake = Fake()
    assert await run(fake, "workspaces") == 0
    assert capsys.readouterr().out.splitlines() == [
        "ID  PATH   DATA DIR      FLAGS",
        "w1  /proj  /proj/.crush  yolo",
    ]
    fake.routes["GET", "/v1/workspaces"] = answer(body=[])
    assert await run(fake, "workspaces") == 0
    assert capsys.readouterr().out == "no workspaces\n"


async def test_workspaces_json(capsys: pytest.CaptureFixture[str]) -> None:
    """workspaces --json prints the list of workspace objects."""
    assert await run(Fake(), "--json", "workspaces") == 0
    assert json.loads(capsys.readouterr().out) == [WORKSPACE]


async def test_sessions_joins_cwd_and_releases(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sessions creates/joins the workspace for the resolved --cwd, then releases it."""
    (tmp_path / "proj").mkdir()
    monkeypatch.chdir(tmp_path)
    fake = Fake()
    assert await run(fake, "sessions", "--cwd", "proj") == 0
    [create] = fake.sent("POST", "/v1/workspaces")
    body = json.loads(create.content)
    assert body["path"] == resolved(tmp_path / "proj")
    assert body["client_id"] == CLIENT_ID
    [release] = fake.sent("DELETE", "/v1/workspaces/w1")
    assert dict(release.url.params) == {"client_id": CLIENT_ID}
    assert capsys.readouterr().out.splitlines() == [
        "ID  TITLE        MESSAGES  BUSY  CLIENTS  UPDATED",
        f"s1  fix the bug  3         yes   2        {format_time(1767225700)}",
    ]


async def test_sessions_default_cwd_and_json(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without --cwd the current directory is used; --json prints the sessions."""
    monkeypatch.chdir(tmp_path)
    fake = Fake()
    assert await run(fake, "sessions", "--json") == 0
    [create] = fake.sent("POST", "/v1/workspaces")
    assert json.loads(create.content)["path"] == resolved(tmp_path)
    assert json.loads(capsys.readouterr().out)[0]["id"] == "s1"


async def test_sessions_released_even_when_listing_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A failing command still releases its hold and exits 1 with the message."""
    fake = Fake()
    fake.routes["GET", "/v1/workspaces/w1/sessions"] = answer(
        500, {"message": "db gone"}
    )
    assert await run(fake, "sessions", "--cwd", "/") == 1
    assert fake.sent("DELETE", "/v1/workspaces/w1")
    assert capsys.readouterr().err == "crushctl: db gone\n"


async def test_sessions_new(capsys: pytest.CaptureFixture[str]) -> None:
    """sessions new TITLE posts the title and prints the new session."""
    fake = Fake()
    assert await run(fake, "sessions", "new", "--cwd", "/", "fix the bug") == 0
    [post] = fake.sent("POST", "/v1/workspaces/w1/sessions")
    assert json.loads(post.content) == {"title": "fix the bug", "parent_session_id": ""}
    assert json.loads(fake.sent("POST", "/v1/workspaces")[0].content)["path"] == "/"
    assert fake.sent("DELETE", "/v1/workspaces/w1")
    assert capsys.readouterr().out == "created session s1: fix the bug\n"


async def test_sessions_new_cwd_before_subcommand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--cwd given before ``new`` is kept; --json prints the session."""
    fake = Fake()
    assert await run(fake, "sessions", "--cwd", "/", "new", "t", "--json") == 0
    assert json.loads(fake.sent("POST", "/v1/workspaces")[0].content)["path"] == "/"
    assert json.loads(capsys.readouterr().out)["id"] == "s1"


async def test_clients_human_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    """clients prints the roster (own row starred) or the JSON list."""
    fake = Fake()
    assert await run(fake, "clients", "--cwd", "/") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "CLIENT", "STREAMS", "STATE", "SESSION", "LAST", "SEEN", "USER", "AGENT"
    ]  # fmt: skip
    assert lines[2].startswith(f"{CLIENT_ID} *  0        held")
    assert lines[-1] == "* this crushctl"
    assert await run(fake, "clients", "--cwd", "/", "--json") == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["shutdown"], "shutdown"), (["shutdown", "--if-idle"], "shutdown_if_idle")],
)
async def test_shutdown_commands(
    capsys: pytest.CaptureFixture[str], argv: list[str], command: str
) -> None:
    """shutdown sends the matching control command and confirms."""
    fake = Fake()
    assert await run(fake, *argv) == 0
    [post] = fake.sent("POST", "/v1/control")
    assert json.loads(post.content) == {"command": command}
    assert capsys.readouterr().out == "crushd is shutting down\n"


async def test_shutdown_refused_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A 409 from a busy daemon prints one error line and exits 1."""
    fake = Fake()
    fake.routes["POST", "/v1/control"] = answer(
        409, {"message": "server is hosting live workspaces"}
    )
    assert await run(fake, "shutdown") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "crushctl: server is hosting live workspaces\n"


async def test_shutdown_force_sends_shutdown_force(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """shutdown --force sends crushd's shutdown_force, which a busy daemon accepts."""
    fake = Fake()
    assert await run(fake, "shutdown", "--force") == 0
    [post] = fake.sent("POST", "/v1/control")
    assert json.loads(post.content) == {"command": "shutdown_force"}
    assert capsys.readouterr().out == "crushd is shutting down\n"


async def test_sessions_show_rename_rm(capsys: pytest.CaptureFixture[str]) -> None:
    """show GETs, rename PUTs only the title, rm DELETEs; each releases its hold."""
    fake = Fake()
    renamed = {**SESSION, "title": "new title"}
    fake.routes["GET", "/v1/workspaces/w1/sessions/s1"] = answer(body=SESSION)
    fake.routes["PUT", "/v1/workspaces/w1/sessions/s1"] = answer(body=renamed)
    fake.routes["DELETE", "/v1/workspaces/w1/sessions/s1"] = answer()
    assert await run(fake, "sessions", "show", "s1", "--cwd", "/") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == ["id        s1", "title     fix the bug", "parent    -"]
    assert await run(fake, "sessions", "rename", "s1", "new title", "--cwd", "/") == 0
    [put] = fake.sent("PUT", "/v1/workspaces/w1/sessions/s1")
    assert json.loads(put.content) == {"title": "new title"}
    assert capsys.readouterr().out == "renamed session s1: new title\n"
    assert await run(fake, "--json", "sessions", "rm", "s1", "--cwd", "/") == 0
    assert fake.sent("DELETE", "/v1/workspaces/w1/sessions/s1")
    assert json.loads(capsys.readouterr().out) == {"deleted": "s1"}
    assert len(fake.sent("DELETE", "/v1/workspaces/w1")) == 3


async def test_sessions_show_unknown_id_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unknown session id is the daemon's one-line 404 message, exit 1."""
    fake = Fake()
    fake.routes["GET", "/v1/workspaces/w1/sessions/nope"] = answer(
        404, {"message": "session not found"}
    )
    assert await run(fake, "sessions", "show", "nope", "--cwd", "/") == 1
    assert capsys.readouterr().err == "crushctl: session not found\n"


async def test_shutdown_force_on_an_older_daemon_explains(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A crushd without shutdown_force (400 unknown command): one clear line."""
    fake = Fake()
    fake.routes["POST", "/v1/control"] = answer(400, {"message": "unknown command"})
    assert await run(fake, "shutdown", "--force") == 1
    assert capsys.readouterr().err == (
        "crushctl: this crushd does not know shutdown --force (unknown command); "
        "stop it with SIGTERM, or with crushctl shutdown once it is idle\n"
    )
