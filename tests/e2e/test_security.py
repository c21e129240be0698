"""A real daemon lets no one else in (docs/protocol.md C.6); passed sockets (C.8).

TCP daemons get a free port picked first (the CLI needs a fixed one) and an
isolated ``$XDG_STATE_HOME`` for the token file. The other-uid test runs a
client under uid 65534 with ``setpriv`` and is skipped unless the suite runs
as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio

from crushctl import Client
from crushd.proto import parse_host

from .conftest import READY_SECONDS, Daemon, DaemonFactory, wait_ready

NOBODY = 65534
CLIENT_ID = "0b6f1c1e-4a0e-4a53-9d43-0c1b2f5d7a11"
# Runs as another uid, so stdlib only: connect, send one request, report.
PEER_CLIENT = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect(sys.argv[1])
except OSError as exc:
    sys.exit(print("connect-error", exc.errno))
request = b"GET /v1/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
data = b""
try:
    sock.sendall(request)
    while chunk := sock.recv(65536):
        data += chunk
except OSError:
    pass  # closed by the daemon: a reset or a broken pipe, depending on timing
print("reply", len(data))
"""
# A fake daemon squatting socket paths as another uid (stdlib only): it keeps
# every byte any client sends in the record file and answers 500.
SQUATTER = """
import os, socket, sys, threading
record = sys.argv[1]
def serve(path):
    os.makedirs(os.path.dirname(path), mode=0o777, exist_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    sock.listen()
    while True:
        conn, _ = sock.accept()
        data = conn.recv(65536)
        with open(record, "ab") as file:
            file.write(data)
        if data:
            conn.sendall(b"HTTP/1.1 500 x\\r\\nContent-Length: 0\\r\\n\\r\\n")
        conn.close()
for path in sys.argv[2:]:
    threading.Thread(target=serve, args=(path,), daemon=True).start()
threading.Event().wait()
"""
# Puts the passed socket on fd 3 and execs crushd with LISTEN_PID = its pid.
ACTIVATE = """
import os, sys
fd = int(sys.argv[1])
if fd != 3:
    os.dup2(fd, 3)
    os.close(fd)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.executable, [sys.executable, "-m", "crushd", "serve", *sys.argv[2:]])
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def state_env(daemons: DaemonFactory) -> dict[str, str]:
    """The factory's isolated environment plus a private XDG_STATE_HOME."""
    return {**daemons.env(traced=True), "XDG_STATE_HOME": str(daemons.root / "state")}


def token_file(daemons: DaemonFactory) -> Path:
    return daemons.root / "state" / "crushd" / "token"


async def launch(
    daemons: DaemonFactory, command: list[str], pass_fds: tuple[int, ...] = ()
) -> trio.Process:
    """Start ``command`` (a crushd) with the isolated env; killed at teardown."""
    stderr_path = daemons.root / f"stderr-{len(daemons.started)}.log"
    with stderr_path.open("wb") as stderr:
        process = await trio.lowlevel.open_process(
            command,
            env=state_env(daemons),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            pass_fds=pass_fds,
        )
    host = parse_host("unix:///unused")
    daemons.started.append(Daemon(host, process, daemons.root / "cache", stderr_path))
    return process


async def serve_tcp(daemons: DaemonFactory, *args: str) -> tuple[trio.Process, str]:
    """Start ``crushd serve --host tcp://127.0.0.1:<free port> <args>``; wait ready."""
    base = f"http://127.0.0.1:{free_port()}"
    url = "tcp://" + base.removeprefix("http://")
    command = [sys.executable, "-m", "crushd", "serve", "--host", url, *args]
    process = await launch(daemons, command)
    await wait_http(process, base)
    return process, base


async def wait_http(process: trio.Process, base: str) -> None:
    """Poll until the daemon answers anything over TCP (startup, not timing)."""
    async with httpx.AsyncClient() as http:
        with trio.fail_after(READY_SECONDS):
            while process.returncode is None:
                try:
                    await http.get(f"{base}/v1/health")
                    return
                except httpx.TransportError:
                    await trio.sleep(0.05)
    raise RuntimeError(f"daemon exited with {process.returncode}")


async def status(base: str, headers: dict[str, str]) -> tuple[int, bytes]:
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{base}/v1/health", headers=headers)
    return response.status_code, response.content


async def websocket_status(base: str, headers: dict[str, str]) -> bytes:
    """Send a WebSocket handshake; return the response's status line."""
    host, port = base.removeprefix("http://").rsplit(":", 1)
    lines = [
        f"GET /v1/workspaces/w/ws?client_id={CLIENT_ID} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        with trio.fail_after(5):
            while b"\r\n" not in data:
                data += await stream.receive_some()
    return data.split(b"\r\n", 1)[0].strip()


async def stop(process: trio.Process) -> int:
    process.send_signal(signal.SIGTERM)
    with trio.fail_after(10):
        return await process.wait()


async def test_tcp_needs_the_bearer_token(
    daemons: DaemonFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over TCP: no token 401, wrong token 401, right token 200; crushctl finds it."""
    _, base = await serve_tcp(daemons)
    token = token_file(daemons).read_text().strip()
    unauthorized = (401, b'{"message":"unauthorized"}\n')
    assert await status(base, {}) == unauthorized
    assert await status(base, {"Authorization": f"Bearer {token}x"}) == unauthorized
    assert (await status(base, {"Authorization": f"Bearer {token}"}))[0] == 200
    monkeypatch.setenv("XDG_STATE_HOME", str(daemons.root / "state"))
    async with Client(parse_host(base.replace("http", "tcp", 1))) as client:
        await client.health()
    cli = [sys.executable, "-m", "crushctl", "--host", base.replace("http", "tcp", 1)]
    result = await trio.run_process(
        [*cli, "--json", "status"], env=state_env(daemons), capture_stdout=True
    )
    assert b'"version"' in result.stdout


async def test_tcp_refuses_origin_and_foreign_host(daemons: DaemonFactory) -> None:
    """Over TCP an Origin header or a foreign Host gets 403, even with the token."""
    _, base = await serve_tcp(daemons)
    good = {"Authorization": f"Bearer {token_file(daemons).read_text().strip()}"}
    forbidden = (403, b'{"message":"forbidden"}\n')
    assert await status(base, {**good, "Origin": "http://evil.example"}) == forbidden
    port = base.rsplit(":", 1)[1]
    assert await status(base, {**good, "Host": f"evil.example:{port}"}) == forbidden
    assert (await status(base, {**good, "Host": f"localhost:{port}"}))[0] == 200
    assert await websocket_status(base, {}) == b"HTTP/1.1 401"
    origin = {**good, "Origin": "http://evil.example"}
    assert await websocket_status(base, origin) == b"HTTP/1.1 403"


async def test_token_file_is_private_and_kept_across_restarts(
    daemons: DaemonFactory,
) -> None:
    """The token file is 0600 in a 0700 folder and a restarted daemon reuses it."""
    process, base = await serve_tcp(daemons)
    path = token_file(daemons)
    token = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert await stop(process) == 0
    _, base = await serve_tcp(daemons)
    assert path.read_text().strip() == token
    assert (await status(base, {"Authorization": f"Bearer {token}"}))[0] == 200


async def test_non_loopback_bind_needs_allow_remote(daemons: DaemonFactory) -> None:
    """tcp://0.0.0.0 exits 1 naming --allow-remote; with it, it serves (token-gated)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "crushd",
        "serve",
        "--host",
        f"tcp://0.0.0.0:{port}",
    ]
    process = await launch(daemons, command)
    with trio.fail_after(READY_SECONDS):
        assert await process.wait() == 1
    assert b"--allow-remote" in daemons.started[-1].stderr_path.read_bytes()
    assert not token_file(daemons).exists()
    process = await launch(daemons, [*command, "--allow-remote"])
    base = f"http://127.0.0.1:{port}"
    await wait_http(process, base)
    assert (await status(base, {}))[0] == 401
    token = token_file(daemons).read_text().strip()
    assert (await status(base, {"Authorization": f"Bearer {token}"}))[0] == 200


async def test_systemd_listen_fds_socket_is_adopted(daemons: DaemonFactory) -> None:
    """With LISTEN_FDS/LISTEN_PID and no --host, crushd serves the passed fd 3."""
    path = daemons.root / "activated.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(os.fspath(path))
        listener.listen()
        command = [sys.executable, "-c", ACTIVATE, str(listener.fileno())]
        process = await launch(daemons, command, pass_fds=(listener.fileno(),))
    # The socket listened before crushd started: the request waits in its backlog.
    async with Client(parse_host(f"unix://{path}")) as client:
        with trio.fail_after(READY_SECONDS):
            info = await client.version()
    assert info.version
    assert await stop(process) == 0
    assert path.exists()  # an adopted socket's file belongs to whoever passed it
    assert "server-fd___3" in str(list((daemons.root / "cache").iterdir()))


async def test_fd_host_tcp_socket_is_token_gated(daemons: DaemonFactory) -> None:
    """--host fd://N with a passed TCP socket serves it, and TCP needs the token."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        base = f"http://127.0.0.1:{listener.getsockname()[1]}"
        fd = listener.fileno()
        command = [sys.executable, "-m", "crushd", "serve", "--host", f"fd://{fd}"]
        process = await launch(daemons, command, pass_fds=(fd,))
    await wait_http(process, base)
    assert (await status(base, {}))[0] == 401
    token = token_file(daemons).read_text().strip()
    assert (await status(base, {"Authorization": f"Bearer {token}"}))[0] == 200


async def serve_in(daemons: DaemonFactory, folder: Path) -> tuple[int, bytes]:
    """Run ``crushd serve`` on a socket in ``folder``; return its status and stderr."""
    url = f"unix://{folder / 'd.sock'}"
    process = await launch(
        daemons, [sys.executable, "-m", "crushd", "serve", "--host", url]
    )
    with trio.fail_after(READY_SECONDS):
        status = await process.wait()
    return status, daemons.started[-1].stderr_path.read_bytes()


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
async def test_loose_socket_folder_is_refused_with_the_reason(
    daemons: DaemonFactory, mode: int
) -> None:
    """A socket folder group/other may write to stops the daemon, saying why."""
    folder = daemons.root / "loose"
    folder.mkdir()
    folder.chmod(mode)
    status, stderr = await serve_in(daemons, folder)
    assert status == 1
    assert b"refusing socket directory" in stderr
    assert b"writable by group or others" in stderr
    assert f"mode {mode:o}".encode() in stderr
    assert not (folder / "d.sock").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown to uid 65534")
async def test_socket_folder_of_another_user_is_refused(
    daemons: DaemonFactory,
) -> None:
    """A socket folder owned by another uid stops the daemon, naming the owner."""
    folder = daemons.root / "theirs"
    folder.mkdir(mode=0o700)
    os.chown(folder, NOBODY, NOBODY)
    status, stderr = await serve_in(daemons, folder)
    assert status == 1
    assert f"owned by uid {NOBODY}".encode() in stderr
    assert not (folder / "d.sock").exists()


async def nobody_python() -> str | None:
    """An interpreter uid 65534 can run (the venv's may sit under /root)."""
    for candidate in (sys.executable, "/usr/bin/python3"):
        probe = await trio.run_process(
            [*as_nobody(), candidate, "-c", "pass"], check=False, capture_stderr=True
        )
        if probe.returncode == 0:
            return candidate
    return None


def as_nobody() -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


async def peer_attempt(python: str, path: Path) -> str:
    result = await trio.run_process(
        [*as_nobody(), python, "-c", PEER_CLIENT, os.fspath(path)],
        capture_stdout=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    return result.stdout.decode().strip()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as uid 65534")
@pytest.mark.skipif(
    shutil.which("setpriv") is None, reason="needs setpriv (util-linux)"
)
async def test_other_uid_is_refused(daemons: DaemonFactory) -> None:
    """Another uid cannot connect (0600); with the mode opened, SO_PEERCRED cuts it."""
    python = await nobody_python()
    if python is None:
        pytest.skip("no Python interpreter that uid 65534 may run")
    daemon = await daemons.start()
    daemons.root.chmod(0o711)  # let uid 65534 reach the socket file itself
    assert await peer_attempt(python, daemon.socket_path) == "connect-error 13"
    daemon.socket_path.chmod(0o666)  # only to test the second lock
    assert await peer_attempt(python, daemon.socket_path) == "reply 0"
    assert f"refused a unix connection from uid {NOBODY}" in daemon.log_text()
    async with daemon.client() as client:
        await client.health()  # the daemon itself is unharmed


async def squat(
    daemons: DaemonFactory, python: str, record: Path, *paths: Path
) -> trio.Process:
    """Run ``SQUATTER`` as uid 65534 on ``paths``; wait until they exist."""
    command = [*as_nobody(), python, "-c", SQUATTER, os.fspath(record)]
    process = await trio.lowlevel.open_process(
        [*command, *map(os.fspath, paths)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        stdin=subprocess.DEVNULL,
    )
    with trio.fail_after(READY_SECONDS):
        while not all(path.exists() for path in paths):
            await trio.sleep(0.05)
    return process


def shared_tmp(daemons: DaemonFactory) -> Path:
    """A root-owned sticky world-writable folder, as ``/tmp`` is."""
    daemons.root.chmod(0o711)  # let uid 65534 through to it
    shared = daemons.root / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    return shared


async def crushctl(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run crushctl; return its status and stderr."""
    result = await trio.run_process(
        [sys.executable, "-m", "crushctl", *args],
        env=env,
        check=False,
        capture_stdout=True,
        capture_stderr=True,
    )
    return result.returncode, result.stderr.decode()


needs_other_uid = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv (util-linux) to run as uid 65534",
)


@pytest.mark.parametrize("no_spawn", [False, True])
@needs_other_uid
async def test_fake_daemon_of_another_uid_never_receives_the_api_key(
    daemons: DaemonFactory, project: Path, no_spawn: bool
) -> None:
    """Found: a fake daemon squatting the default path (``/tmp/crush-<uid>.sock``)
    received an API key from ``crushctl config set``. Now the default path is in
    a private folder the squatter cannot own, and crushctl checks the folder, the
    file and the server's uid (SO_PEERCRED) before sending a byte."""
    python = await nobody_python()
    if python is None:
        pytest.skip("no Python interpreter that uid 65534 may run")
    shared = shared_tmp(daemons)
    uid = os.getuid()
    old_default = shared / f"crush-{uid}.sock"
    new_default = shared / f"crush-{uid}" / f"crush-{uid}.sock"
    explicit = shared / "explicit.sock"  # checked by SO_PEERCRED alone
    record = shared / "received"
    squatter = await squat(daemons, python, record, old_default, new_default, explicit)
    env = {**state_env(daemons), "TMPDIR": os.fspath(shared)}
    env.pop("XDG_RUNTIME_DIR")
    flags = ["--no-spawn"] if no_spawn else []
    key = ["config", "set", "--cwd", os.fspath(project), "providers.x.api_key"]
    try:
        default = await crushctl(env, *flags, *key, "sk-never-sent-1")
        hosted = ["--host", f"unix://{explicit}", *flags]
        other = await crushctl(env, *hosted, *key, "sk-never-sent-2")
    finally:
        squatter.kill()
        await squatter.wait()
    assert not record.exists() or record.read_bytes() == b""
    assert default[0] == 1
    assert f"belongs to uid {NOBODY}" in default[1]
    assert other[0] == 1
    assert f"belongs to uid {NOBODY}" in other[1]
    assert "sk-never-sent" not in default[1] + other[1]


@needs_other_uid
async def test_daemon_refuses_a_squatted_private_socket_folder(
    daemons: DaemonFactory,
) -> None:
    """``/tmp/crush-<uid>/`` created first by another uid stops the daemon, naming
    the owner; nothing of the squatter's is removed."""
    python = await nobody_python()
    if python is None:
        pytest.skip("no Python interpreter that uid 65534 may run")
    shared = shared_tmp(daemons)
    uid = os.getuid()
    squatted = shared / f"crush-{uid}" / f"crush-{uid}.sock"
    squatter = await squat(daemons, python, shared / "received", squatted)
    env = {**state_env(daemons), "TMPDIR": os.fspath(shared)}
    env.pop("XDG_RUNTIME_DIR")
    try:
        result = await trio.run_process(
            [sys.executable, "-m", "crushd", "serve"],
            env=env,
            check=False,
            capture_stderr=True,
        )
    finally:
        squatter.kill()
        await squatter.wait()
    assert result.returncode == 1
    assert f"owned by uid {NOBODY}".encode() in result.stderr
    assert b"Traceback" not in result.stderr
    assert squatted.exists()


async def test_default_socket_lives_in_a_private_temp_folder(
    daemons: DaemonFactory,
) -> None:
    """Without XDG_RUNTIME_DIR the daemon binds ``<tmp>/crush-<uid>/`` (0700),
    never the shared temp folder itself, and removes the socket at exit."""
    shared = shared_tmp(daemons)
    env = {**state_env(daemons), "TMPDIR": os.fspath(shared)}
    env.pop("XDG_RUNTIME_DIR")
    folder = shared / f"crush-{os.getuid()}"
    path = folder / f"crush-{os.getuid()}.sock"
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "crushd", "serve"], env=env, stdin=subprocess.DEVNULL
    )
    try:
        await wait_ready(Daemon(parse_host(f"unix://{path}"), process, shared, path))
        assert stat.S_IMODE(folder.lstat().st_mode) == 0o700
        assert sorted(p.name for p in shared.iterdir()) == [folder.name]
        path.chmod(0o600)  # a chmod changes the ctime: it used to strand the file
        assert await stop(process) == 0
    finally:
        if process.returncode is None:
            process.kill()
    assert not path.exists()


@pytest.mark.parametrize(
    ("token", "folder_mode", "says"),
    [
        ("short-token", 0o700, b"shorter than 16 characters"),
        ("a-long-enough-token-value", 0o750, b"mode 750; chmod 700"),
    ],
)
async def test_weak_token_file_stops_the_daemon_with_a_clear_message(
    daemons: DaemonFactory, token: str, folder_mode: int, says: bytes
) -> None:
    """Issue 11 F: a short token or a token folder others may read stops a tcp
    daemon at start: exit 1, one line saying why, no traceback."""
    path = token_file(daemons)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text(token + "\n")
    path.chmod(0o600)
    path.parent.chmod(folder_mode)
    url = f"tcp://127.0.0.1:{free_port()}"
    process = await launch(
        daemons, [sys.executable, "-m", "crushd", "serve", "--host", url]
    )
    with trio.fail_after(READY_SECONDS):
        assert await process.wait() == 1
    stderr = daemons.started[-1].stderr_path.read_bytes()
    assert says in stderr
    assert b"Traceback" not in stderr


async def test_daemon_speaks_http1_only_and_caps_tokenless_connections(
    daemons: DaemonFactory,
) -> None:
    """Issue 11 F on a real daemon: an HTTP/2 preface gets GOAWAY and EOF; with
    ``--max-unauthenticated 2`` a third token-less connection closes the oldest,
    and a client with the token is still served."""
    _, base = await serve_tcp(daemons, "--max-unauthenticated", "2")
    host, port = base.removeprefix("http://").rsplit(":", 1)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(preface)
        with trio.fail_after(5):
            reply = b""
            while chunk := await stream.receive_some():
                reply += chunk
    goaway = bytes.fromhex("000008070000000000000000000000000d")
    assert reply.endswith(goaway)  # HTTP_1_1_REQUIRED
    idle = [await trio.open_tcp_stream(host, int(port)) for _ in range(3)]
    try:
        with trio.fail_after(5):
            assert await idle[0].receive_some() == b""  # the oldest was closed
        token = token_file(daemons).read_text().strip()
        assert (await status(base, {"Authorization": f"Bearer {token}"}))[0] == 200
    finally:
        for sock in idle:
            await sock.aclose()
