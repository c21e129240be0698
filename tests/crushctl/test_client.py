"""Client: request shapes, decoding and error mapping against httpx.MockTransport."""

from __future__ import annotations

import json
import socket
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from crushctl import (
    CLIENT_ID,
    BadRequestError,
    Client,
    ConflictError,
    HTTPStatusError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    RequestError,
    ServerUnavailable,
    ShuttingDownError,
    base_url,
    client_version,
)
from crushd.proto import (
    ClientInfo,
    HistoryFile,
    Message,
    Part,
    Session,
    Todo,
    VersionInfo,
    Workspace,
    parse_host,
)

CID = "0b6f1c1e-4a0e-4a53-9d43-0c1b2f5d7a11"
UNIX = "unix:///tmp/crushctl-test.sock"

Handler = Callable[[httpx.Request], httpx.Response]

WORKSPACE = {"id": "w1", "path": "/proj", "data_dir": "/proj/.crush"}
SESSION = {"id": "s1", "title": "hello", "message_count": 2, "updated_at": 5}
CLIENT_INFO = {
    "client_id": CID,
    "streams": 1,
    "held": False,
    "released": False,
    "current_session_id": "s1",
    "attached_at": 1.5,
    "last_seen": 2.5,
    "user_agent": "crushctl/0.1.0",
}
MESSAGE = {
    "id": "m1",
    "role": "user",
    "session_id": "s1",
    "parts": [{"type": "text", "data": {"text": "hi"}}],
}
HISTORY = {
    "id": "f1",
    "session_id": "s1",
    "path": "/proj/a.py",
    "content": "x = 1\n",
    "version": 1,
    "created_at": 1,
    "updated_at": 2,
}
VERSION = {
    "version": "0.1.0",
    "commit": "0.1.0",
    "build_id": "0.1.0",
    "go_version": "python 3.11.9",
    "platform": "linux/amd64",
}


def answer(status: int = 200, body: object = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    return handle


class Recorder:
    """Answers from a (method, path) table and remembers every request."""

    def __init__(self, routes: dict[tuple[str, str], Handler] | None = None) -> None:
        self.routes = routes or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(200)
        return handler(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def make_client(recorder: Recorder, host: str = UNIX, **kwargs: str) -> Client:
    transport = httpx.MockTransport(recorder)
    return Client(parse_host(host), client_id=CID, transport=transport, **kwargs)


def body(request: httpx.Request) -> object:
    return json.loads(request.content)


# -- construction ------------------------------------------------------------


def test_base_url_unix_and_tcp() -> None:
    """Unix hosts use the api.crush.localhost name; tcp hosts their host:port."""
    assert base_url(parse_host(UNIX)) == "http://api.crush.localhost/v1"
    assert base_url(parse_host("tcp://127.0.0.1:7777")) == "http://127.0.0.1:7777/v1"
    assert base_url(parse_host("tcp://[::1]:7777")) == "http://[::1]:7777/v1"


def test_client_rejects_fd_host() -> None:
    """An fd:// host cannot be connected to."""
    with pytest.raises(ValueError, match="fd://3"):
        Client(parse_host("fd://3"))


def test_client_default_client_id_is_per_process_uuid4() -> None:
    """Without client_id every Client shares the module's uuid4 CLIENT_ID."""
    assert uuid.UUID(CLIENT_ID).version == 4
    assert Client(parse_host(UNIX)).client_id == CLIENT_ID
    assert Client(parse_host(UNIX), client_id=CID).client_id == CID


async def test_client_unix_request_url() -> None:
    """A unix host sends to http://api.crush.localhost/v1/<route>."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.health()
    assert str(recorder.last.url) == "http://api.crush.localhost/v1/health"
    assert recorder.last.method == "GET"


async def test_client_tcp_request_url_and_token() -> None:
    """A tcp host sends to http://host:port/v1 with the bearer token when given."""
    recorder = Recorder({("GET", "/v1/version"): answer(body=VERSION)})
    client = make_client(recorder, "tcp://127.0.0.1:7777", token="s3cret")
    async with client:
        info = await client.version()
    assert info == VersionInfo(**VERSION)
    assert str(recorder.last.url) == "http://127.0.0.1:7777/v1/version"
    assert recorder.last.headers["Authorization"] == "Bearer s3cret"


async def test_client_headers_and_default_timeouts() -> None:
    """Requests carry the crushctl User-Agent, no token, and httpx's 5 s timeouts."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.health()
    assert recorder.last.headers["User-Agent"] == f"crushctl/{client_version()}"
    assert "Authorization" not in recorder.last.headers
    assert recorder.last.extensions["timeout"] == dict.fromkeys(
        ("connect", "read", "write", "pool"), 5.0
    )


async def test_client_aclose_is_idempotent() -> None:
    """aclose() twice is fine."""
    client = make_client(Recorder())
    await client.aclose()
    await client.aclose()


# -- request shapes ----------------------------------------------------------


async def test_create_workspace_body_minimal() -> None:
    """create_workspace sends path, client_id and version, omitting unset flags.

    (``id`` is part of the wire model and ignored by the daemon on input.)
    """
    recorder = Recorder({("POST", "/v1/workspaces"): answer(body=WORKSPACE)})
    async with make_client(recorder) as client:
        workspace = await client.create_workspace(Path("/proj"))
    assert workspace == Workspace(id="w1", path="/proj", data_dir="/proj/.crush")
    assert body(recorder.last) == {
        "id": "",
        "path": "/proj",
        "client_id": CID,
        "version": client_version(),
    }
    assert recorder.last.headers["Content-Type"] == "application/json"


async def test_create_workspace_body_with_flags() -> None:
    """create_workspace sends data_dir, yolo, debug and env when given."""
    recorder = Recorder({("POST", "/v1/workspaces"): answer(body=WORKSPACE)})
    async with make_client(recorder) as client:
        await client.create_workspace(
            "/proj", data_dir="/d", yolo=True, debug=True, env=["A=1"]
        )
    assert body(recorder.last) == {
        "id": "",
        "path": "/proj",
        "client_id": CID,
        "version": client_version(),
        "data_dir": "/d",
        "yolo": True,
        "debug": True,
        "env": ["A=1"],
    }


async def test_workspace_routes() -> None:
    """workspaces/workspace GET their routes and decode Workspace models."""
    recorder = Recorder(
        {
            ("GET", "/v1/workspaces"): answer(body=[WORKSPACE]),
            ("GET", "/v1/workspaces/w1"): answer(body=WORKSPACE),
        }
    )
    async with make_client(recorder) as client:
        listed = await client.workspaces()
        one = await client.workspace("w1")
    assert listed == [one]
    assert one.id == "w1"


async def test_delete_workspace_sends_client_id_query() -> None:
    """delete_workspace is DELETE /v1/workspaces/{id}?client_id=<id>."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.delete_workspace("w1")
    assert recorder.last.method == "DELETE"
    assert recorder.last.url.path == "/v1/workspaces/w1"
    assert dict(recorder.last.url.params) == {"client_id": CID}


async def test_retire_deletes_client_route() -> None:
    """retire is DELETE /v1/clients/{client_id}."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.retire()
    assert (recorder.last.method, recorder.last.url.path) == (
        "DELETE",
        f"/v1/clients/{CID}",
    )


async def test_set_current_session_shape() -> None:
    """set_current_session POSTs {"session_id"} with ?client_id=."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.set_current_session("w1", "s1")
    assert recorder.last.url.path == "/v1/workspaces/w1/current-session"
    assert dict(recorder.last.url.params) == {"client_id": CID}
    assert body(recorder.last) == {"session_id": "s1"}


async def test_clients_decodes_roster() -> None:
    """clients GETs the roster and decodes ClientInfo rows."""
    recorder = Recorder(
        {("GET", "/v1/workspaces/w1/clients"): answer(body=[CLIENT_INFO])}
    )
    async with make_client(recorder) as client:
        roster = await client.clients("w1")
    assert roster == [ClientInfo(**CLIENT_INFO)]  # type: ignore[arg-type]


async def test_list_routes_accept_null() -> None:
    """A JSON null list (Go's nil slice) decodes as an empty list."""
    null: Handler = lambda request: httpx.Response(200, content=b"null\n")  # noqa: E731
    recorder = Recorder({("GET", "/v1/workspaces/w1/sessions"): null})
    async with make_client(recorder) as client:
        assert await client.sessions("w1") == []


async def test_session_routes() -> None:
    """Session CRUD uses the documented paths and bodies."""
    recorder = Recorder(
        {
            ("GET", "/v1/workspaces/w1/sessions"): answer(body=[SESSION]),
            ("POST", "/v1/workspaces/w1/sessions"): answer(body=SESSION),
            ("GET", "/v1/workspaces/w1/sessions/s1"): answer(body=SESSION),
            ("PUT", "/v1/workspaces/w1/sessions/s1"): answer(body=SESSION),
        }
    )
    async with make_client(recorder) as client:
        assert await client.sessions("w1") == [Session(**SESSION)]  # type: ignore[arg-type]
        await client.create_session("w1", "hello", parent_session_id="p1")
        assert body(recorder.last) == {"title": "hello", "parent_session_id": "p1"}
        assert (await client.session("w1", "s1")).title == "hello"
        await client.delete_session("w1", "s1")
        assert (recorder.last.method, recorder.last.url.path) == (
            "DELETE",
            "/v1/workspaces/w1/sessions/s1",
        )


async def test_update_session_sends_only_given_fields() -> None:
    """update_session PUTs only the fields that were passed."""
    recorder = Recorder(
        {("PUT", "/v1/workspaces/w1/sessions/s1"): answer(body=SESSION)}
    )
    async with make_client(recorder) as client:
        await client.update_session(
            "w1", "s1", title="new", todos=[Todo(content="c", status="pending")]
        )
    assert body(recorder.last) == {
        "title": "new",
        "todos": [{"content": "c", "status": "pending", "active_form": ""}],
    }


async def test_message_and_history_routes() -> None:
    """messages, user_messages (both scopes) and history hit their routes."""
    recorder = Recorder(
        {
            ("GET", "/v1/workspaces/w1/sessions/s1/messages"): answer(body=[MESSAGE]),
            ("GET", "/v1/workspaces/w1/sessions/s1/messages/user"): answer(body=[]),
            ("GET", "/v1/workspaces/w1/messages/user"): answer(body=[MESSAGE]),
            ("GET", "/v1/workspaces/w1/sessions/s1/history"): answer(body=[HISTORY]),
        }
    )
    async with make_client(recorder) as client:
        messages = await client.messages("w1", "s1")
        assert await client.user_messages("w1", "s1") == []
        assert await client.user_messages("w1") == messages
        history = await client.history("w1", "s1")
    assert messages[0].parts == [Part(type="text", data={"text": "hi"})]
    assert isinstance(messages[0], Message)
    assert history == [HistoryFile(**HISTORY)]  # type: ignore[arg-type]


async def test_ids_are_quoted_in_paths() -> None:
    """Ids with reserved characters cannot escape their path segment."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.delete_session("w/1", "s?1")
    assert recorder.last.url.raw_path == b"/v1/workspaces/w%2F1/sessions/s%3F1"


@pytest.mark.parametrize(
    ("if_idle", "command"), [(False, "shutdown"), (True, "shutdown_if_idle")]
)
async def test_shutdown_sends_control_command(if_idle: bool, command: str) -> None:
    """shutdown POSTs {"command": ...} to /v1/control."""
    recorder = Recorder()
    async with make_client(recorder) as client:
        await client.shutdown(if_idle=if_idle)
    assert recorder.last.url.path == "/v1/control"
    assert body(recorder.last) == {"command": command}


# -- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (500, HTTPStatusError),
        (501, NotSupportedError),
        (503, ShuttingDownError),
    ],
)
async def test_error_status_mapping(status: int, cls: type[HTTPStatusError]) -> None:
    """Each error status raises its class with the body's message and the route."""
    recorder = Recorder(
        {("GET", "/v1/workspaces/w1"): answer(status, {"message": "nope"})}
    )
    async with make_client(recorder) as client:
        with pytest.raises(cls) as info:
            await client.workspace("w1")
    assert type(info.value) is cls
    assert (info.value.status, info.value.message) == (status, "nope")
    assert (info.value.method, info.value.route) == ("GET", "/v1/workspaces/w1")


async def test_invalid_response_body_is_request_error() -> None:
    """A 200 whose body is not the promised model raises RequestError."""
    recorder = Recorder({("GET", "/v1/version"): answer(body={"version": 1})})
    async with make_client(recorder) as client:
        with pytest.raises(
            RequestError, match="invalid response from crushd to GET /v1/version"
        ):
            await client.version()


async def test_transport_error_is_request_error() -> None:
    """A transport failure (read timeout) raises RequestError with the route."""

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with make_client(Recorder({("GET", "/v1/health"): timeout})) as client:
        with pytest.raises(RequestError) as info:
            await client.health()
    assert info.value.route == "/v1/health"


async def test_missing_socket_is_server_unavailable() -> None:
    """A unix socket path with nothing there raises ServerUnavailable naming it."""
    folder = tempfile.mkdtemp(dir="/tmp")
    host = parse_host(f"unix://{folder}/missing.sock")
    async with Client(host, client_id=CID) as client:
        with pytest.raises(ServerUnavailable) as info:
            await client.health()
    assert info.value.message == (
        f"crushd is not running at {host.url}; "
        f"start it with: crushd serve --host {host.url}"
    )
    assert (info.value.method, info.value.route) == ("GET", "/v1/health")


async def test_refused_socket_is_server_unavailable() -> None:
    """A stale socket file (bound, not listening) raises ServerUnavailable."""
    folder = tempfile.mkdtemp(dir="/tmp")
    path = f"{folder}/stale.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    try:
        async with Client(parse_host(f"unix://{path}"), client_id=CID) as client:
            with pytest.raises(ServerUnavailable):
                await client.version()
    finally:
        stale.close()


# -- bearer token (docs/protocol.md C.6) -------------------------------------------


def test_read_token_prefers_env_then_file_tcp_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$CRUSH_TOKEN wins over $XDG_STATE_HOME/crushd/token; unix hosts get none."""
    from crushctl._client import read_token

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("CRUSH_TOKEN", raising=False)
    tcp = parse_host("tcp://127.0.0.1:7777")
    assert read_token(tcp) is None
    (tmp_path / "crushd").mkdir()
    (tmp_path / "crushd" / "token").write_text("from-file\n")
    assert read_token(tcp) == "from-file"
    assert read_token(tcp, {"CRUSH_TOKEN": " from-env "}) == "from-env"
    assert read_token(tcp, {"CRUSH_TOKEN": ""}) == "from-file"
    assert read_token(parse_host(UNIX), {"CRUSH_TOKEN": "x"}) is None


async def test_client_tcp_without_token_reads_crush_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tcp Client built without a token sends $CRUSH_TOKEN; token="" sends none."""
    monkeypatch.setenv("CRUSH_TOKEN", "env-token")
    recorder = Recorder()
    async with make_client(recorder, "tcp://127.0.0.1:7777") as client:
        await client.health()
    assert recorder.last.headers["Authorization"] == "Bearer env-token"
    async with make_client(recorder, "tcp://127.0.0.1:7777", token="") as client:
        await client.health()
    assert "Authorization" not in recorder.last.headers
