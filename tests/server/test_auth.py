"""Tests for ``listen._auth``: TCP token, Host and Origin checks; token file.

Requests go through the real app's test client. ``scope_base`` sets what
hypercorn puts in the scope: ``server`` is ``(host, port)`` on TCP and absent
(``None``) on a unix socket.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import trio
from quart.testing.connections import WebsocketResponseError
from quart_trio import QuartTrio

from crushd.server import (
    AccessControl,
    ServerContext,
    TokenFileError,
    create_app,
    load_token,
    parse_allowed_host,
)
from crushd.server.listen._auth import AUTHENTICATED_HOOK

from .conftest import Harness

TOKEN = "s3cret-token"
PORT = 7777
TCP = {"server": ("127.0.0.1", PORT), "client": ("127.0.0.1", 40000)}
GOOD = {"Host": f"127.0.0.1:{PORT}", "Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(harness: Harness) -> QuartTrio:
    """The app with a token and one extra tcp host name."""
    ctx = ServerContext(harness.registry, heartbeat_seconds=15)
    return create_app(ctx, token=TOKEN, host_names=("Crushd.LAN",))


async def get(
    app: QuartTrio, headers: dict[str, str], scope: dict[str, Any] | None = None
) -> tuple[int, Any, Any]:
    """GET /v1/health; return status, JSON body (or None) and headers."""
    response = await app.test_client().get(
        "/v1/health", headers=headers, scope_base=TCP if scope is None else scope
    )
    data = await response.get_data()
    return response.status_code, json.loads(data) if data else None, response.headers


async def test_access_tcp_with_right_token_is_served(app: QuartTrio) -> None:
    """A TCP request with the right bearer token and Host reaches the route."""
    status, _, _ = await get(app, GOOD)
    assert status == 200


async def test_access_tcp_without_token_is_401(app: QuartTrio) -> None:
    """A TCP request without Authorization gets 401 JSON and WWW-Authenticate."""
    status, body, headers = await get(app, {"Host": f"localhost:{PORT}"})
    assert (status, body) == (401, {"message": "unauthorized"})
    assert headers["WWW-Authenticate"] == "Bearer"
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TOKEN}x",
        "Bearer ",
        f"Basic {TOKEN}",
        TOKEN,
        f"Bearer {TOKEN[:-1]}",
    ],
)
async def test_access_tcp_with_wrong_token_is_401(
    app: QuartTrio, authorization: str
) -> None:
    """A wrong token, an empty one or another scheme gets 401."""
    headers = {**GOOD, "Authorization": authorization}
    status, body, _ = await get(app, headers)
    assert (status, body) == (401, {"message": "unauthorized"})


async def test_access_bearer_scheme_is_case_insensitive(app: QuartTrio) -> None:
    """``bearer`` in lower case is accepted (RFC 7235: schemes ignore case)."""
    status, _, _ = await get(app, {**GOOD, "Authorization": f"bearer {TOKEN}"})
    assert status == 200


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", f"http://127.0.0.1:{PORT}"]
)
async def test_access_tcp_with_origin_is_403(app: QuartTrio, origin: str) -> None:
    """Any Origin header on TCP is refused with 403, even with the right token."""
    status, body, _ = await get(app, {**GOOD, "Origin": origin})
    assert (status, body) == (403, {"message": "forbidden"})


@pytest.mark.parametrize(
    "host",
    [
        f"localhost:{PORT}",
        f"LOCALHOST:{PORT}",
        f"127.0.0.1:{PORT}",
        f"[::1]:{PORT}",
        f"crushd.lan:{PORT}",
    ],
)
async def test_access_tcp_accepts_own_host_names(app: QuartTrio, host: str) -> None:
    """Loopback names and the bound tcp host names, with the port, are accepted."""
    status, _, _ = await get(app, {**GOOD, "Host": host})
    assert status == 200


@pytest.mark.parametrize(
    "host",
    [
        f"evil.example:{PORT}",
        "localhost:7778",
        "localhost",
        f"localhost:{PORT}x",
        f"::1:{PORT}",
        "[::1]",
        f"[::1]x{PORT}",
        "",
        f"api.crush.localhost:{PORT}",
    ],
)
async def test_access_tcp_refuses_foreign_host(app: QuartTrio, host: str) -> None:
    """A Host that is not the daemon's own name and port is refused with 403."""
    status, body, _ = await get(app, {**GOOD, "Host": host})
    assert (status, body) == (403, {"message": "forbidden"})


async def test_access_tcp_accepts_connection_address(app: QuartTrio) -> None:
    """The address the connection arrived on is accepted as Host."""
    scope = {"server": ("10.1.2.3", PORT), "client": ("10.9.9.9", 5000)}
    status, _, _ = await get(app, {**GOOD, "Host": f"10.1.2.3:{PORT}"}, scope)
    assert status == 200
    status, _, _ = await get(app, {**GOOD, "Host": f"10.1.2.4:{PORT}"}, scope)
    assert status == 403


async def test_access_tcp_host_without_port_means_80(app: QuartTrio) -> None:
    """A Host without a port matches a listener on port 80 only."""
    scope = {"server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000)}
    headers = {**GOOD, "Host": "localhost"}
    status, _, _ = await get(app, headers, scope)
    assert status == 200


@pytest.mark.parametrize(
    "scope", [{}, {"server": None}, {"server": ("/run/crush.sock", None)}]
)
async def test_access_unix_needs_no_token_and_any_host(
    app: QuartTrio, scope: dict[str, Any]
) -> None:
    """A unix-socket request passes without token, whatever its Host or Origin."""
    headers = {"Host": "api.crush.localhost", "Origin": "http://x"}
    status, _, _ = await get(app, headers, scope)
    assert status == 200


async def test_access_without_token_refuses_all_tcp(harness: Harness) -> None:
    """An app built without a token answers every TCP request 401."""
    status, body, _ = await get(harness.app, {**GOOD, "Authorization": "Bearer "})
    assert (status, body) == (401, {"message": "unauthorized"})


async def test_access_websocket_without_token_is_denied_before_accept(
    app: QuartTrio,
) -> None:
    """A TCP WebSocket handshake without the token gets a 401 JSON response."""
    client = app.test_client()
    headers = {"Host": f"127.0.0.1:{PORT}"}
    async with client.websocket("/v1/anything", headers=headers, scope_base=TCP) as ws:
        with pytest.raises(WebsocketResponseError) as caught:
            await ws.receive()
    response = caught.value.response
    assert response.status_code == 401
    assert json.loads(await response.get_data()) == {"message": "unauthorized"}


async def test_access_websocket_with_origin_is_forbidden(app: QuartTrio) -> None:
    """A cross-site WebSocket (Origin set) is refused with 403."""
    client = app.test_client()
    headers = {**GOOD, "Origin": "http://evil.example"}
    async with client.websocket("/v1/anything", headers=headers, scope_base=TCP) as ws:
        with pytest.raises(WebsocketResponseError) as caught:
            await ws.receive()
    assert caught.value.response.status_code == 403


async def test_access_websocket_without_response_extension_is_closed() -> None:
    """Without the websocket.http.response extension a refusal is a close."""
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the guarded app must not run")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    guard = AccessControl(app, token=TOKEN)
    scope = {"type": "websocket", "headers": [], "extensions": {}, **TCP}
    await guard(scope, None, send)
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_access_passes_lifespan_through() -> None:
    """Non-HTTP scopes (lifespan) reach the app untouched."""
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    await AccessControl(app, token=None)({"type": "lifespan"}, None, None)
    assert seen == ["lifespan"]


async def test_access_logs_refusals(
    app: QuartTrio, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused request is logged with its path, peer and reason."""
    await get(app, {"Host": f"127.0.0.1:{PORT}"})
    assert "refused http /v1/health from ('127.0.0.1', 40000): unauthorized" in (
        caplog.text
    )


def test_load_token_creates_private_file_in_private_folder(tmp_path: Path) -> None:
    """The first start writes 43 url-safe characters, file 0600, folder 0700."""
    path = tmp_path / "state" / "crushd" / "token"
    token = load_token(path)
    assert len(token) == 43
    assert set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["token"]


def test_load_token_reuses_existing_token(tmp_path: Path) -> None:
    """A second start reads the same token; a hand-written one is used as is."""
    path = tmp_path / "token"
    assert load_token(path) == load_token(path)
    path.write_text("  mine-is-long-enough\n")
    assert load_token(path) == "mine-is-long-enough"


def test_load_token_differs_between_files(tmp_path: Path) -> None:
    """Fresh tokens are random: two new files hold different tokens."""
    assert load_token(tmp_path / "a") != load_token(tmp_path / "b")


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_load_token_refuses_file_open_to_others(tmp_path: Path, mode: int) -> None:
    """A token file with group or other bits is refused, saying how to fix it."""
    path = tmp_path / "token"
    path.write_text("mine\n")
    path.chmod(mode)
    with pytest.raises(TokenFileError, match=f"mode {mode:o}; chmod 600"):
        load_token(path)


def test_load_token_refuses_loose_folder(tmp_path: Path) -> None:
    """A token folder that others may write to is refused (chmod 700)."""
    folder = tmp_path / "crushd"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(TokenFileError, match="chmod 700"):
        load_token(folder / "token")


def test_generated_token_has_32_random_bytes(tmp_path: Path) -> None:
    """Issue 11 F: a generated token carries 32 random bytes (base64url)."""
    token = load_token(tmp_path / "token")
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o710, 0o701])
def test_token_folder_with_any_group_or_other_bit_is_refused(
    tmp_path: Path, mode: int
) -> None:
    """Issue 11 F: only group/other *write* bits were refused on the folder; a
    readable or searchable one (0750, 0705) was used."""
    folder = tmp_path / "crushd"
    load_token(folder / "token")
    folder.chmod(mode)
    with pytest.raises(TokenFileError, match=f"mode {mode:o}; chmod 700"):
        load_token(folder / "token")


@pytest.mark.parametrize("token", ["x", "fifteen-chars-x"])
def test_short_token_file_is_refused(tmp_path: Path, token: str) -> None:
    """Issue 11 F: a hand-written token under 16 characters was accepted."""
    path = tmp_path / "token"
    path.write_text(token + "\n")
    path.chmod(0o600)
    with pytest.raises(TokenFileError, match="shorter than 16 characters"):
        load_token(path)
    path.write_text("sixteen-chars-xy\n")
    assert load_token(path) == "sixteen-chars-xy"


def test_load_token_refuses_empty_file(tmp_path: Path) -> None:
    """An empty token file is refused rather than accepting an empty token."""
    path = tmp_path / "token"
    path.write_text("\n")
    path.chmod(0o600)
    with pytest.raises(TokenFileError, match="empty"):
        load_token(path)


def test_load_token_refuses_symlink(tmp_path: Path) -> None:
    """A symlink at the token path is not followed."""
    target = tmp_path / "elsewhere"
    target.write_text("mine\n")
    target.chmod(0o600)
    (tmp_path / "token").symlink_to(target)
    with pytest.raises(TokenFileError, match="cannot use token file"):
        load_token(tmp_path / "token")


def test_load_token_refuses_file_of_another_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token file owned by another uid is refused."""
    path = tmp_path / "token"
    load_token(path)
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 1)
    with pytest.raises(TokenFileError, match=f"owned by uid {real}"):
        load_token(path)


def test_load_token_unwritable_folder_is_a_token_file_error(tmp_path: Path) -> None:
    """A folder that cannot be created is reported as a TokenFileError."""
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    with pytest.raises(TokenFileError, match="cannot use token file"):
        load_token(blocker / "crushd" / "token")


@pytest.fixture
def forwarded_app(harness: Harness) -> QuartTrio:
    """The app with ``--allow-host`` values: a bare name and a name:port pair."""
    ctx = ServerContext(harness.registry, heartbeat_seconds=15)
    return create_app(ctx, token=TOKEN, allowed_hosts=("Dev.Box", "tunnel:9000"))


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("dev.box:9123", 200),
        ("DEV.BOX", 200),
        (f"dev.box:{PORT}", 200),
        ("tunnel:9000", 200),
        ("tunnel:9001", 403),
        (f"tunnel:{PORT}", 403),
        ("dev.box:x", 403),
        ("other.box:9123", 403),
    ],
)
async def test_access_tcp_allowed_hosts_match_name_or_name_port(
    forwarded_app: QuartTrio, host: str, status: int
) -> None:
    """An --allow-host NAME accepts any port; NAME:PORT only that exact pair."""
    got, _, _ = await get(forwarded_app, {**GOOD, "Host": host})
    assert got == status


async def test_access_tcp_allowed_host_still_needs_the_token(
    forwarded_app: QuartTrio,
) -> None:
    """An allowed Host is not a credential: the bearer token is still required."""
    status, _, _ = await get(forwarded_app, {"Host": "dev.box:9123"})
    assert status == 401


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("Box", ("box", None)),
        ("box:80", ("box", 80)),
        ("[::1]", ("::1", None)),
        ("[FE80::1]:8443", ("fe80::1", 8443)),
        ("::1", ("::1", None)),
    ],
)
def test_parse_allowed_host_accepts_names_and_pairs(
    value: str, parsed: tuple[str, int | None]
) -> None:
    """--allow-host values parse into a lower-case name and an optional port."""
    assert parse_allowed_host(value) == parsed


@pytest.mark.parametrize("value", ["", ":80", "box:", "box:0", "box:70000", "[::1]:x"])
def test_parse_allowed_host_rejects_bad_values(value: str) -> None:
    """Empty names and ports outside 1-65535 are refused with ValueError."""
    with pytest.raises(ValueError, match="not a host name"):
        parse_allowed_host(value)


async def test_refused_requests_are_logged_once_per_second_per_reason(
    app: QuartTrio, caplog: pytest.LogCaptureFixture, autojump_clock: Any
) -> None:
    """Issue 11 F: each refused request was a warning line (a client without
    the token wrote 1.6 MB/s of log). Now one line per second per reason."""
    caplog.set_level(logging.WARNING, logger="crushd.server")
    for _ in range(50):
        await get(app, {"Host": f"127.0.0.1:{PORT}"})
        await get(app, {**GOOD, "Origin": "http://evil.example"})
    await trio.sleep(1)
    status, _, headers = await get(app, {"Host": f"127.0.0.1:{PORT}"})
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 3
    assert refused[0].endswith(": unauthorized")
    assert refused[1].endswith(": forbidden")
    assert refused[2].endswith(
        "(+49 more refused for this reason since the last report)"
    )
    assert (status, headers["Connection"]) == (401, "close")


async def test_authenticated_hook_runs_for_a_passing_tcp_request_only(
    app: QuartTrio,
) -> None:
    """The connection limits learn when a connection has shown the token."""
    calls: list[str] = []
    scope = {**TCP, AUTHENTICATED_HOOK: lambda: calls.append("ok")}
    await get(app, {"Host": f"127.0.0.1:{PORT}"}, scope)
    assert calls == []
    await get(app, GOOD, scope)
    assert calls == ["ok"]
