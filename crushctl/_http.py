"""The HTTP layer under ``Client``: transports, base URLs, and the one error boundary.

Every request goes through ``HTTPSession.send`` or ``HTTPSession.open_stream``,
which translate httpx exceptions (``request_context``) and error statuses
(``raise_for_status``) into crushctl errors; ``decode``/``decode_list`` turn
bodies into wire models, reporting a bad body as ``RequestError``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import json
from collections.abc import AsyncIterator, Mapping
from typing import TypeVar

import httpx
import trio

from crushd.proto import Host, from_json, to_json

from ._exceptions import RequestError, raise_for_status, request_context
from ._peer import unix_transport

T = TypeVar("T")

#: The ``Host`` header for unix sockets, as the Go client sends it.
UNIX_API_HOST = "api.crush.localhost"

#: Every phase of an ordinary call (connect, read, write, pool) gets this long;
#: httpx's default.
TIMEOUT_SECONDS = 5.0

#: Awaiting cleanup (closing a response or the connection pool) gets this long.
CLEANUP_SECONDS = 2.0

_JSON_HEADERS = {"Content-Type": "application/json"}


@functools.cache
def client_version() -> str:
    """Return the installed crushd package version, or ``"devel"`` if unknown."""
    try:
        return importlib.metadata.version("crushd")
    except importlib.metadata.PackageNotFoundError:
        return "devel"


def base_url(host: Host) -> str:
    """Return the ``/v1`` base URL for ``host``.

    Args:
        host: a ``unix`` or ``tcp`` host.

    Returns:
        ``http://api.crush.localhost/v1`` for unix sockets, ``http://host:port/v1``
        for tcp.

    Raises:
        ValueError: an ``fd://`` host (only a daemon can adopt a descriptor).
    """
    if host.scheme == "unix":
        return f"http://{UNIX_API_HOST}/v1"
    if host.scheme == "tcp":
        return f"http://{host.address}/v1"
    raise ValueError(f"cannot connect to {host.url}: use a unix:// or tcp:// host")


def _transport_for(host: Host) -> httpx.AsyncBaseTransport:
    if host.scheme == "unix":
        return unix_transport(host)  # checks the server's uid before sending
    return httpx.AsyncHTTPTransport()


class HTTPSession:
    """An ``httpx.AsyncClient`` on a host's transport, speaking crushctl errors."""

    def __init__(
        self,
        host: Host,
        *,
        transport: httpx.AsyncBaseTransport | None,
        token: str | None,
    ) -> None:
        self.host = host
        headers = {"User-Agent": f"crushctl/{client_version()}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=base_url(host),
            transport=transport or _transport_for(host),
            headers=headers,
            timeout=TIMEOUT_SECONDS,
            trust_env=False,  # a local daemon: proxies from the environment never apply
        )

    async def aclose(self) -> None:
        """Close the pool; idempotent, and closes even if cancelled (bounded)."""
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            await self._http.aclose()

    def route(self, path: str) -> str:
        """Return the URL path for ``path`` (relative to ``/v1``): ``/v1/health``."""
        return self._http.base_url.path.rstrip("/") + path

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        read_timeout: bool = True,
    ) -> httpx.Response:
        """Send one request (``body`` as JSON); raise crushctl errors on failure.

        ``read_timeout=False`` waits for the answer as long as it takes (the
        other phases keep ``TIMEOUT_SECONDS``).
        """
        content = None if body is None else to_json(body)
        headers = None if content is None else _JSON_HEADERS
        timeout = (
            httpx.USE_CLIENT_DEFAULT
            if read_timeout
            else httpx.Timeout(TIMEOUT_SECONDS, read=None)
        )
        with request_context(self.host, method, self.route(path)):
            response = await self._http.request(
                method,
                path,
                params=params,
                content=content,
                headers=headers,
                timeout=timeout,
            )
        raise_for_status(response)
        return response

    @contextlib.asynccontextmanager
    async def open_stream(
        self,
        path: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        read_timeout_seconds: float | None,
    ) -> AsyncIterator[httpx.Response]:
        """Open a streaming GET; yield the 2xx response, close it on exit."""
        route = self.route(path)
        timeout = httpx.Timeout(TIMEOUT_SECONDS, read=read_timeout_seconds)
        with request_context(self.host, "GET", route):
            request = self._http.build_request(
                "GET", path, params=params, headers=headers, timeout=timeout
            )
            response = await self._http.send(request, stream=True)
        try:
            with request_context(self.host, "GET", route):
                await _read_if_error(response)
            raise_for_status(response)
            yield response
        finally:
            with trio.move_on_after(CLEANUP_SECONDS, shield=True):
                await response.aclose()


async def _read_if_error(response: httpx.Response) -> None:
    if not response.is_success:
        await response.aread()


def _invalid_body(response: httpx.Response, exc: ValueError) -> RequestError:
    request = response.request
    return RequestError(
        f"invalid response from crushd to {request.method} {request.url.path}: {exc}",
        method=request.method,
        route=request.url.path,
    )


def decode(response: httpx.Response, cls: type[T]) -> T:
    """Decode ``response``'s JSON body into ``cls``.

    Raises:
        RequestError: the body is not JSON or does not fit ``cls``.
    """
    try:
        return from_json(response.content, cls)
    except ValueError as exc:
        raise _invalid_body(response, exc) from None


def decode_list(response: httpx.Response, cls: type[T]) -> list[T]:
    """Decode a JSON array body into a list of ``cls``; ``null`` is ``[]``.

    Raises:
        RequestError: the body is not a JSON array of ``cls`` objects.
    """
    try:
        data = json.loads(response.content)
        # Go encodes a nil slice as null (docs/protocol.md 0.3).
        items = [] if data is None else data
        if not isinstance(items, list):
            raise ValueError(f"expected a JSON array, got {type(items).__name__}")
        return [from_json(item, cls) for item in items]
    except ValueError as exc:
        raise _invalid_body(response, exc) from None
