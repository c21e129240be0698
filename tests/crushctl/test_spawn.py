"""ensure_server's decisions (stale socket, version hand-over, 503 retry) with fakes.

The socket file is real (a listening or a dead unix socket in a short temp
dir); the daemon behind it is an ``httpx.MockTransport``; spawning is recorded
instead of done, except where a test says it runs a stand-in process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio
import trio.testing

import crushctl._launch as launch
import crushctl._spawn as spawn
import crushctl.cli._main as cli_main
from crushctl import (
    CREATE_ATTEMPTS,
    READY_TIMEOUT_ENV,
    SOCKET_GONE_SECONDS,
    Client,
    CrushctlError,
    ServerStartError,
    ShuttingDownError,
    client_version,
    create_workspace_respawning,
    ensure_server,
)
from crushctl.cli import build_parser
from crushd.proto import Host, parse_host, server_dir

WORKSPACE: dict[str, object] = {"id": "w1", "path": "/proj", "data_dir": "/proj/.crush"}


@pytest.fixture
def short_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short temp dir that is also the cache (so server folders land in it)."""
    path = Path(tempfile.mkdtemp(prefix="crushctl-spawn-", dir="/tmp"))
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(path / "cache"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def host(short_dir: Path) -> Host:
    return parse_host(f"unix://{short_dir}/d.sock")


@pytest.fixture
def listening(host: Host) -> Iterator[Path]:
    """A live socket at the host's path (connects succeed; nobody answers HTTP)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(host.address)
    sock.listen(16)
    yield Path(host.address)
    sock.close()


def make_stale(path: Path) -> None:
    """Leave a socket file that nobody listens on (bound, then closed)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.fspath(path))
    sock.close()


class Spawns:
    """Records ``_spawn_server`` calls instead of starting anything."""

    def __init__(self) -> None:
        self.hosts: list[Host] = []

    async def __call__(self, client: Client) -> None:
        self.hosts.append(client.host)


@pytest.fixture
def spawns(monkeypatch: pytest.MonkeyPatch) -> Spawns:
    recorder = Spawns()
    monkeypatch.setattr(spawn, "_spawn_server", recorder)
    return recorder


class FakeDaemon:
    """A crushd stand-in for the version hand-over; records every request.

    ``control`` maps a command to the status it answers (400 for the unknown
    ones, as an old server). A 200 makes the daemon "leave": its socket file
    is removed unless ``linger`` is set.
    """

    def __init__(self, socket_path: Path, version: str | None = None) -> None:
        self.socket_path = socket_path
        self.version = version or client_version()
        self.control: dict[str, int] = {}
        self.workspaces: list[dict[str, object]] = []
        self.healthy = True
        self.linger = False
        self.requests: list[tuple[str, str, object]] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def sent(self) -> list[tuple[str, str, object]]:
        return self.requests

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.method, request.url.path, body))
        route = (request.method, request.url.path)
        if route == ("GET", "/v1/health"):
            if not self.healthy:
                raise httpx.ConnectError("[Errno 111] Connection refused")
            return httpx.Response(200)
        if route == ("GET", "/v1/version"):
            return httpx.Response(200, json=self.version_info())
        if route == ("GET", "/v1/workspaces"):
            return httpx.Response(200, json=self.workspaces)
        assert route == ("POST", "/v1/control"), route
        assert isinstance(body, dict)
        return self.answer_control(str(body["command"]))

    def version_info(self) -> dict[str, str]:
        return {
            "version": self.version,
            "commit": self.version,
            "build_id": self.version,
            "go_version": "python 3.11.9",
            "platform": "linux/amd64",
        }

    def answer_control(self, command: str) -> httpx.Response:
        status = self.control.get(command, 400)
        if status != 200:
            message = {409: "server is hosting live workspaces"}.get(status, "nope")
            return httpx.Response(status, json={"message": message})
        if not self.linger:
            self.socket_path.unlink()
        return httpx.Response(200)


def controls(fake: FakeDaemon) -> list[object]:
    return [body for method, _, body in fake.sent() if method == "POST"]


# -- the socket file ---------------------------------------------------------------


async def test_ensure_server_tcp_host_is_left_alone(spawns: Spawns) -> None:
    """A tcp host is never probed, version-checked or spawned."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"unexpected request {request.url}")

    await ensure_server(
        parse_host("tcp://127.0.0.1:9"), transport=httpx.MockTransport(refuse)
    )
    assert spawns.hosts == []


async def test_ensure_server_missing_socket_spawns(host: Host, spawns: Spawns) -> None:
    """No socket file: spawn, without asking anything first."""
    fake = FakeDaemon(Path(host.address))
    await ensure_server(host, transport=fake.transport())
    assert spawns.hosts == [host]
    assert fake.sent() == []


async def test_ensure_server_stale_socket_spawns_without_version_check(
    host: Host, spawns: Spawns
) -> None:
    """A refused socket file is stale: straight to spawning."""
    make_stale(Path(host.address))
    fake = FakeDaemon(Path(host.address))
    await ensure_server(host, transport=fake.transport())
    assert spawns.hosts == [host]
    assert fake.sent() == []


async def test_ensure_server_refuses_a_file_that_is_not_a_socket(
    host: Host, spawns: Spawns
) -> None:
    """A regular file at the socket path is reported, never removed."""
    await trio.Path(host.address).write_text("precious")
    with pytest.raises(CrushctlError, match="exists and is not a socket"):
        await ensure_server(host)
    assert await trio.Path(host.address).read_text() == "precious"
    assert spawns.hosts == []


async def test_ensure_server_dial_timeout_is_not_stale(
    host: Host,
    spawns: Spawns,
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A dial that times out (200 ms) never gets the file removed."""
    make_stale(Path(host.address))

    async def hang(path: str) -> trio.SocketStream:
        await trio.sleep_forever()
        raise AssertionError("not reached")

    monkeypatch.setattr(trio, "open_unix_socket", hang)
    fake = FakeDaemon(Path(host.address))
    fake.version = "0.0.1"
    fake.control = {"shutdown_if_idle": 409}
    start = trio.current_time()
    await ensure_server(host, transport=fake.transport())
    assert trio.current_time() - start == pytest.approx(0.2)
    assert await trio.Path(host.address).exists()
    assert spawns.hosts == []  # it went on to the version check: busy, reused


async def test_ensure_server_unusable_path_fails_when_it_cannot_be_removed(
    short_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket path that cannot even be stat'ed is treated as stale; removal fails."""
    (short_dir / "file").write_text("")
    host = parse_host(f"unix://{short_dir}/file/d.sock")  # a path through a file
    fake = FakeDaemon(Path(host.address))
    fake.healthy = False
    with pytest.raises(CrushctlError, match="failed to remove stale socket"):
        await ensure_server(host, transport=fake.transport())


async def test_ensure_server_other_dial_errors_are_not_stale(
    host: Host, spawns: Spawns, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dial failing with anything but refused/missing keeps the file."""
    make_stale(Path(host.address))

    async def forbidden(path: str) -> trio.SocketStream:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(trio, "open_unix_socket", forbidden)
    fake = FakeDaemon(Path(host.address))
    await ensure_server(host, transport=fake.transport())
    assert fake.sent() == [("GET", "/v1/version", None)]  # went on to the check
    assert await trio.Path(host.address).exists()
    assert spawns.hosts == []


async def test_ensure_server_unwritable_cache_fails(
    short_dir: Path, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server folder that cannot be created is reported, naming it."""
    (short_dir / "blocker").write_text("")
    monkeypatch.setenv("CRUSH_CACHE_DIR", str(short_dir / "blocker"))
    with pytest.raises(CrushctlError, match="failed to create server folder"):
        await ensure_server(host)


# -- the version hand-over ---------------------------------------------------------


async def test_ensure_server_same_version_reuses(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """Same version and build: nothing but GET /v1/version is sent."""
    fake = FakeDaemon(listening)
    await ensure_server(host, transport=fake.transport())
    assert fake.sent() == [("GET", "/v1/version", None)]
    assert spawns.hosts == []


async def test_ensure_server_other_build_id_counts_as_another_version(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """Equal ``version`` but another ``build_id`` is still a mismatch."""
    fake = FakeDaemon(listening)
    fake.control = {"shutdown_if_idle": 200}
    info = fake.version_info()
    info["build_id"] = "other"
    fake.version_info = lambda: info  # type: ignore[method-assign]
    await ensure_server(host, transport=fake.transport())
    assert controls(fake) == [{"command": "shutdown_if_idle"}]
    assert spawns.hosts == [host]


async def test_ensure_server_idle_other_version_is_replaced(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """Another version, idle: shutdown_if_idle 200, socket gone, then spawn."""
    fake = FakeDaemon(listening, version="0.0.1")
    fake.control = {"shutdown_if_idle": 200}
    await ensure_server(host, transport=fake.transport())
    assert controls(fake) == [{"command": "shutdown_if_idle"}]
    assert spawns.hosts == [host]


async def test_ensure_server_leaving_daemon_socket_removed_after_grace(
    host: Host,
    listening: Path,
    spawns: Spawns,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A socket that outlives its daemon's 200 by 2 s is removed, then spawn."""
    fake = FakeDaemon(listening, version="0.0.1")
    fake.control = {"shutdown_if_idle": 200}
    fake.linger = True
    start = trio.current_time()
    await ensure_server(host, transport=fake.transport())
    assert trio.current_time() - start == pytest.approx(SOCKET_GONE_SECONDS)
    assert not await trio.Path(listening).exists()
    assert spawns.hosts == [host]


async def test_ensure_server_leaving_daemon_replaced_file_is_kept(
    host: Host,
    spawns: Spawns,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A socket file that another daemon put at the path meanwhile is not removed."""
    path = Path(host.address)
    first = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    first.bind(host.address)
    first.listen(4)
    fake = FakeDaemon(path, version="0.0.1")
    fake.control = {"shutdown_if_idle": 200}
    fake.linger = True
    newer = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)

    def hand_over(command: str) -> httpx.Response:
        path.unlink()
        newer.bind(host.address)  # a newer daemon, quicker than our poll
        return httpx.Response(200)

    fake.answer_control = hand_over  # type: ignore[method-assign]
    try:
        await ensure_server(host, transport=fake.transport())
        assert await trio.Path(path).exists()
    finally:
        first.close()
        newer.close()
    assert spawns.hosts == [host]


async def test_ensure_server_busy_other_version_is_reused_and_logged(
    host: Host,
    listening: Path,
    spawns: Spawns,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another version hosting workspaces (409) is reused, with a warning."""
    fake = FakeDaemon(listening, version="0.0.1")
    fake.control = {"shutdown_if_idle": 409}
    await ensure_server(host, transport=fake.transport())
    assert spawns.hosts == []
    assert await trio.Path(listening).exists()
    (record,) = [r for r in caplog.records if r.name == "crushctl.spawn"]
    assert record.levelname == "WARNING"
    assert "using crushd 0.0.1" in record.getMessage()
    assert "hosts live workspaces" in record.getMessage()


async def test_ensure_server_old_server_without_workspaces_is_shut_down(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """400 to shutdown_if_idle (an old server) and no workspaces: shutdown, spawn."""
    fake = FakeDaemon(listening, version="0.0.1")
    fake.control = {"shutdown": 200}
    await ensure_server(host, transport=fake.transport())
    assert [(m, p) for m, p, _ in fake.sent()] == [
        ("GET", "/v1/version"),
        ("POST", "/v1/control"),
        ("GET", "/v1/workspaces"),
        ("POST", "/v1/control"),
    ]
    assert controls(fake) == [{"command": "shutdown_if_idle"}, {"command": "shutdown"}]
    assert spawns.hosts == [host]


async def test_ensure_server_old_server_with_workspaces_is_reused(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """400 and live workspaces: no shutdown is sent, the old server is used."""
    fake = FakeDaemon(listening, version="0.0.1")
    fake.workspaces = [WORKSPACE]
    await ensure_server(host, transport=fake.transport())
    assert controls(fake) == [{"command": "shutdown_if_idle"}]
    assert spawns.hosts == []


async def test_ensure_server_old_server_refusing_shutdown_is_reused(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """An old server that refuses ``shutdown`` too (409) is used as is."""
    fake = FakeDaemon(listening, version="0.0.1")
    fake.control = {"shutdown": 409}
    await ensure_server(host, transport=fake.transport())
    assert controls(fake) == [{"command": "shutdown_if_idle"}, {"command": "shutdown"}]
    assert spawns.hosts == []


async def test_ensure_server_version_check_failure_spawns(
    host: Host, listening: Path, spawns: Spawns
) -> None:
    """A daemon whose /v1/version fails goes to the spawn path (which re-probes)."""

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"message": "internal server error"})

    await ensure_server(host, transport=httpx.MockTransport(broken))
    assert spawns.hosts == [host]


# -- spawning (lock, re-probe, start, readiness) -----------------------------------


class FakeProcess:
    """What ``start_server`` returns, minus the process."""

    returncode: int | None = None


async def test_spawn_healthy_after_lock_starts_nothing(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon started meanwhile (health answers under the lock): no spawn."""

    def fail(*args: object) -> None:
        raise AssertionError("must not start a daemon")

    monkeypatch.setattr(spawn, "start_server", fail)
    fake = FakeDaemon(Path(host.address))
    await ensure_server(host, transport=fake.transport())
    assert [p for _, p, _ in fake.sent()] == ["/v1/health"]
    folder = server_dir(host)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "start.lock").exists()


async def test_spawn_removes_stale_socket_then_starts_and_waits_ready(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the lock a stale file is removed, the daemon started, health polled."""
    path = Path(host.address)
    make_stale(path)
    fake = FakeDaemon(path)
    fake.healthy = False
    started: list[tuple[Host, Path]] = []

    def start(started_host: Host, log_dir: Path) -> FakeProcess:
        assert not path.exists(), "the stale file goes before the daemon starts"
        started.append((started_host, log_dir))
        fake.healthy = True
        return FakeProcess()

    monkeypatch.setattr(spawn, "start_server", start)
    await ensure_server(host, transport=fake.transport())
    assert started == [(host, server_dir(host))]
    assert [p for _, p, _ in fake.sent()] == ["/v1/health", "/v1/health"]


async def test_spawn_waits_for_a_listening_daemon_instead_of_starting_one(
    host: Host, listening: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A socket that accepts but is not ready yet under the lock: wait, no spawn."""

    def fail(*args: object) -> None:
        raise AssertionError("a second crushd serve would only be refused")

    monkeypatch.setattr(spawn, "start_server", fail)
    answers = iter([False, False, True])

    def health(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/version":
            raise httpx.ReadTimeout("busy starting")
        if not next(answers):
            raise httpx.ReadTimeout("busy starting")
        return httpx.Response(200)

    await ensure_server(host, transport=httpx.MockTransport(health))
    assert next(answers, None) is None  # all three health attempts were made


async def test_ensure_server_child_exit_fails_naming_the_log(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon that exits at once: its last stderr line, not "No such file"."""
    script = "import sys; sys.stderr.write('Traceback\\nImportError: no way\\n\\n')"
    script += "; sys.exit(3)"
    monkeypatch.setattr(
        launch, "server_command", lambda h: [sys.executable, "-c", script]
    )
    with trio.fail_after(10), pytest.raises(ServerStartError) as caught:
        await ensure_server(host)
    log_dir = server_dir(host)
    message = str(caught.value)
    assert message.startswith(
        "failed to initialize crush server: crushd serve exited with status 3: "
        "ImportError: no way ("
    )
    assert "No such file" not in message
    assert str(log_dir / "stderr.log") in message


async def test_ensure_server_ready_timeout_fails_with_last_error(
    host: Host,
    monkeypatch: pytest.MonkeyPatch,
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A daemon that never answers: the error comes after CRUSH_SERVER_READY_TIMEOUT."""
    monkeypatch.setenv(READY_TIMEOUT_ENV, "500ms")
    script = "import time; time.sleep(60)"
    monkeypatch.setattr(
        launch, "server_command", lambda h: [sys.executable, "-c", script]
    )
    children: list[subprocess.Popen[bytes]] = []

    def start(started_host: Host, log_dir: Path) -> subprocess.Popen[bytes]:
        children.append(launch.start_server(started_host, log_dir))
        return children[-1]

    monkeypatch.setattr(spawn, "start_server", start)
    start_time = trio.current_time()
    try:
        with pytest.raises(ServerStartError) as caught:
            await ensure_server(host)
    finally:
        for child in children:
            child.kill()
    elapsed = trio.current_time() - start_time
    assert 0.5 <= elapsed < 0.8
    assert str(caught.value).startswith(
        f"failed to initialize crush server: cannot connect to {host.address}"
    )
    assert str(server_dir(host) / "crushd.log") in str(caught.value)


# -- create with a leaving daemon (503) ------------------------------------------------


class Creates:
    """A daemon answering POST /v1/workspaces with 503 ``failures`` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", "/v1/workspaces")
        self.posts += 1
        if self.posts <= self.failures:
            return httpx.Response(503, json={"message": "server is shutting down"})
        return httpx.Response(200, json=WORKSPACE)


@pytest.fixture
def ensures(monkeypatch: pytest.MonkeyPatch) -> list[Host]:
    calls: list[Host] = []

    async def record(host: Host | None = None, **kwargs: object) -> None:
        assert host is not None
        calls.append(host)

    monkeypatch.setattr(spawn, "ensure_server", record)
    return calls


async def test_create_respawning_retries_after_503(
    host: Host, ensures: list[Host]
) -> None:
    """A 503 makes it ensure a server and create again."""
    daemon = Creates(failures=2)
    async with Client(host, transport=httpx.MockTransport(daemon)) as client:
        workspace = await create_workspace_respawning(client, "/proj")
    assert workspace.id == "w1"
    assert daemon.posts == 3
    assert ensures == [host, host]


async def test_create_respawning_gives_up_after_three_attempts(
    host: Host, ensures: list[Host]
) -> None:
    """Three 503s in a row: the last one is raised."""
    daemon = Creates(failures=CREATE_ATTEMPTS)
    async with Client(host, transport=httpx.MockTransport(daemon)) as client:
        with pytest.raises(ShuttingDownError):
            await create_workspace_respawning(client, "/proj")
    assert daemon.posts == CREATE_ATTEMPTS == 3
    assert len(ensures) == CREATE_ATTEMPTS - 1


@pytest.mark.parametrize(
    ("url", "allowed"), [("unix:///tmp/x.sock", False), ("tcp://127.0.0.1:9", True)]
)
async def test_create_respawning_without_spawn_fails_at_once(
    ensures: list[Host], url: str, allowed: bool
) -> None:
    """--no-spawn, or a tcp host: the first 503 is raised, nothing is ensured."""
    daemon = Creates(failures=1)
    transport = httpx.MockTransport(daemon)
    async with Client(parse_host(url), transport=transport) as client:
        with pytest.raises(ShuttingDownError):
            await create_workspace_respawning(client, "/proj", spawn=allowed)
    assert daemon.posts == 1
    assert ensures == []


async def test_create_respawning_waits_for_the_leaving_socket(
    host: Host,
    listening: Path,
    ensures: list[Host],
    autojump_clock: trio.testing.MockClock,
) -> None:
    """After a 503 the old socket gets 2 s to go, then is removed, then respawn."""
    daemon = Creates(failures=1)
    start = trio.current_time()
    async with Client(host, transport=httpx.MockTransport(daemon)) as client:
        await create_workspace_respawning(client, "/proj")
    assert trio.current_time() - start == pytest.approx(SOCKET_GONE_SECONDS)
    assert not await trio.Path(listening).exists()
    assert ensures == [host]


# -- the CLI ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "spawns_expected"),
    [
        (["status"], True),
        (["workspaces"], True),
        (["sessions", "--cwd", "/"], True),
        (["logs"], False),
        (["watch"], True),
        (["shutdown"], False),
        (["shutdown", "--if-idle"], False),
        (["--no-spawn", "status"], False),
        (["status", "--no-spawn"], False),
    ],
)
async def test_cli_ensures_a_server_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch,
    host: Host,
    argv: list[str],
    spawns_expected: bool,
) -> None:
    """Every command but shutdown calls ensure_server first; --no-spawn opts out."""
    calls: list[Host] = []

    async def record(ensured: Host) -> None:
        calls.append(ensured)

    monkeypatch.setattr(cli_main, "ensure_server", record)
    # Nothing listens at the host, so the command itself then fails (exit 1).
    assert await cli_main.main_async(["--host", host.url, *argv]) == 1
    assert calls == ([host] if spawns_expected else [])


def test_cli_no_spawn_parses_before_and_after_the_command() -> None:
    """--no-spawn is a global flag accepted on either side of the command."""
    parser = build_parser()
    assert parser.parse_args(["--no-spawn", "workspaces"]).no_spawn
    assert parser.parse_args(["workspaces", "--no-spawn"]).no_spawn
    assert not parser.parse_args(["workspaces"]).no_spawn
    assert parser.parse_args(["shutdown"]).spawns is False
    assert parser.parse_args(["clients"]).spawns is True
