"""crushctl's error hierarchy and the one httpx -> crushctl translation."""

from __future__ import annotations

import httpx
import pytest

from crushctl import (
    BadRequestError,
    ConfigLockedError,
    ConflictError,
    CrushctlError,
    HTTPStatusError,
    NotFoundError,
    NotSupportedError,
    PayloadTooLargeError,
    RequestError,
    ServerUnavailable,
    ShuttingDownError,
    error_for_status,
)
from crushctl._exceptions import raise_for_status, request_context
from crushd.errors import ConfigLocked, ShuttingDown
from crushd.proto import default_host, parse_host


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, PayloadTooLargeError),
        (501, NotSupportedError),
        (503, ShuttingDownError),
    ],
)
def test_error_for_status_picks_subclass(
    status: int, cls: type[HTTPStatusError]
) -> None:
    """Each mapped status builds its own subclass carrying status, message and route."""
    error = error_for_status(status, "boom", method="GET", route="/v1/x")
    assert type(error) is cls
    assert (error.status, error.message, error.method, error.route) == (
        status,
        "boom",
        "GET",
        "/v1/x",
    )
    assert str(error) == "boom"


def test_503_config_lock_is_not_a_shutdown() -> None:
    """crushd's config-lock 503 is a ConfigLockedError; its shutdown 503 is not."""
    locked = ConfigLocked("timed out locking /p/.crush/crush.json.lock")
    error = error_for_status(locked.status, locked.message)
    assert type(error) is ConfigLockedError
    assert not isinstance(error, ShuttingDownError)
    leaving = ShuttingDown()
    assert type(error_for_status(leaving.status, leaving.message)) is ShuttingDownError


def test_error_for_status_unmapped_is_base() -> None:
    """A status without its own class (500) builds a plain HTTPStatusError."""
    error = error_for_status(500, "internal server error")
    assert type(error) is HTTPStatusError
    assert isinstance(error, CrushctlError)


def test_server_unavailable_message_default_host() -> None:
    """For the default host the hint is plain ``crushd serve``."""
    url = default_host().url
    error = ServerUnavailable(url)
    assert (
        error.message == f"crushd is not running at {url}; start it with: crushd serve"
    )
    assert error.host == url


def test_server_unavailable_message_other_host() -> None:
    """For another host the hint names it with ``--host``."""
    error = ServerUnavailable("tcp://127.0.0.1:7777")
    assert error.message.endswith(
        "start it with: crushd serve --host tcp://127.0.0.1:7777"
    )


def test_request_context_connect_error_is_server_unavailable() -> None:
    """httpx.ConnectError becomes ServerUnavailable with method and route attached."""
    host = parse_host("unix:///tmp/nowhere.sock")
    with (
        pytest.raises(ServerUnavailable) as info,
        request_context(host, "GET", "/v1/health"),
    ):
        raise httpx.ConnectError("[Errno 2] No such file or directory")
    assert (info.value.method, info.value.route) == ("GET", "/v1/health")
    assert "unix:///tmp/nowhere.sock" in info.value.message
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_request_context_other_httpx_errors_are_request_errors() -> None:
    """Timeouts and other transport errors become RequestError naming the request."""
    host = parse_host("unix:///tmp/nowhere.sock")
    with (
        pytest.raises(RequestError) as info,
        request_context(host, "POST", "/v1/workspaces"),
    ):
        raise httpx.ReadTimeout("")
    assert info.value.message == "POST /v1/workspaces failed: ReadTimeout"
    assert info.value.route == "/v1/workspaces"


def test_request_context_leaves_other_exceptions_alone() -> None:
    """Non-httpx exceptions pass through untranslated."""
    host = parse_host("unix:///tmp/nowhere.sock")
    with pytest.raises(KeyError), request_context(host, "GET", "/v1/x"):
        raise KeyError("x")


def _response(status: int, content: bytes) -> httpx.Response:
    request = httpx.Request("DELETE", "http://api.crush.localhost/v1/workspaces/w1")
    return httpx.Response(status, content=content, request=request)


def test_raise_for_status_uses_json_message() -> None:
    """The ``message`` of a JSON error body becomes the error message."""
    with pytest.raises(ConflictError) as info:
        raise_for_status(_response(409, b'{"message":"client has been retired"}\n'))
    assert info.value.message == "client has been retired"
    assert (info.value.method, info.value.route) == ("DELETE", "/v1/workspaces/w1")


def test_raise_for_status_falls_back_to_text_then_reason() -> None:
    """A non-JSON body is used as text; an empty body gives the reason phrase."""
    with pytest.raises(NotFoundError, match=r"^404 page not found$"):
        raise_for_status(_response(404, b"404 page not found\n"))
    with pytest.raises(HTTPStatusError, match=r"^502 Bad Gateway$"):
        raise_for_status(_response(502, b""))


def test_raise_for_status_accepts_2xx() -> None:
    """200 and 202 raise nothing."""
    raise_for_status(_response(200, b""))
    raise_for_status(_response(202, b""))
