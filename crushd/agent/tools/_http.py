"""HTTP for the ``fetch`` and ``download`` tools: clients, GET, limits, errors.

A tool opens a client through its context's ``http`` opener (an async context
manager factory), so tests can hand in an ``httpx.MockTransport`` instead of
the network (docs/agent.md 2.3 and 7.8). ``httpx`` is imported in a worker
thread on first use, as the providers do: it is not needed before a tool
fetches something, and its import would block the event loop.

Source: Crush ``internal/agent/tools/fetch.go`` and ``download.go`` (the
``crush/1.0`` user agent, http/https only, non-200 is an error).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

import trio

if TYPE_CHECKING:
    import httpx

#: The User-Agent header every tool request sends (upstream's).
USER_AGENT = "crush/1.0"
#: Redirects followed before giving up (Go's http.Client default).
MAX_REDIRECTS = 10

#: Opens an ``httpx.AsyncClient`` for one tool call and closes it after.
HttpOpener = Callable[[], AbstractAsyncContextManager["httpx.AsyncClient"]]

_loaded: dict[str, ModuleType] = {}


class RequestError(Exception):
    """A request did not give a usable answer; ``message`` is for the model."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def load_httpx() -> ModuleType:
    """Return the ``httpx`` module, importing it in a worker thread once."""
    if "httpx" not in _loaded:
        module = await trio.to_thread.run_sync(importlib.import_module, "httpx")
        _loaded["httpx"] = module
    return _loaded["httpx"]


def client_opener(transport: httpx.AsyncBaseTransport | None = None) -> HttpOpener:
    """Return an opener that builds a fresh client per call and closes it after.

    Args:
        transport: what carries the requests (``httpx.MockTransport`` in
            tests); None = the network, with the environment's proxies.

    The client is built in a worker thread (creating its TLS context reads
    the certificate store). Redirects are followed up to ``MAX_REDIRECTS``;
    time limits are the caller's (a Trio deadline around the whole call).
    """

    @asynccontextmanager
    async def open_client() -> AsyncIterator[httpx.AsyncClient]:
        module = await load_httpx()
        build = functools.partial(_build_client, module, transport)
        client = await trio.to_thread.run_sync(build)
        async with client:
            yield client

    return open_client


def rerouting_opener(base_url: str) -> HttpOpener:
    """Return an opener that sends every tool request to ``base_url`` instead.

    A test hook (the daemon offers it only with its debug endpoints): a
    request for ``https://host/a/b?q`` goes to ``<base_url>/a/b?q`` with the
    original URL in the ``X-Crushd-Original-URL`` header, and redirects are
    rerouted the same way. ``base_url`` is ``http://127.0.0.1:PORT[/prefix]``.
    """

    @asynccontextmanager
    async def open_client() -> AsyncIterator[httpx.AsyncClient]:
        module = await load_httpx()

        def build() -> httpx.AsyncClient:
            transport = _rerouting_transport(module, base_url)
            return _build_client(module, transport)

        client = await trio.to_thread.run_sync(build)
        async with client:
            yield client

    return open_client


def _rerouting_transport(module: Any, base_url: str) -> object:
    target = module.URL(base_url)
    prefix = target.path.rstrip("/")
    inner = module.AsyncHTTPTransport()

    class Reroute(module.AsyncBaseTransport):  # type: ignore[misc]
        async def handle_async_request(self, request: Any) -> Any:
            url = request.url.copy_with(
                scheme=target.scheme,
                host=target.host,
                port=target.port,
                path=prefix + request.url.path,
            )
            headers = request.headers.copy()
            headers["X-Crushd-Original-URL"] = str(request.url)
            # A new request: redirects resolve against the original URL.
            sent = module.Request(
                request.method,
                url,
                headers=headers,
                stream=request.stream,
                extensions=request.extensions,
            )
            return await inner.handle_async_request(sent)

        async def aclose(self) -> None:
            await inner.aclose()

    return Reroute()


def _build_client(module: Any, transport: object) -> httpx.AsyncClient:
    return cast(
        "httpx.AsyncClient",
        module.AsyncClient(
            transport=transport,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            timeout=None,
        ),
    )


def check_url(url: str) -> None:
    """Refuse a URL that is not http or https (upstream's prefix check).

    Raises:
        RequestError: ``url`` is empty or has another scheme.
    """
    if not url:
        raise RequestError("URL parameter is required")
    if not url.lower().startswith(("http://", "https://")):
        raise RequestError("URL must start with http:// or https://")


def capped_timeout(given: object, default_s: float, max_s: float) -> float:
    """Return a call's time limit: ``given`` capped at ``max_s``, else ``default_s``.

    Args:
        given: the ``timeout`` parameter in seconds (absent, 0 or negative =
            the default).
        default_s: the limit when none is given, seconds.
        max_s: the largest limit a call may ask for, seconds.
    """
    if isinstance(given, int) and not isinstance(given, bool) and given > 0:
        return float(min(given, max_s))
    return default_s


@asynccontextmanager
async def http_get(
    opener: HttpOpener, url: str, *, failing: str = "failed to fetch URL"
) -> AsyncIterator[httpx.Response]:
    """GET ``url`` and yield the response once its status is 200, body unread.

    Errors of the request and of reading the body inside the block become
    ``RequestError`` ("<failing>: <error type>: <text>"); the caller sets the
    time limit (a Trio cancel scope around the block).

    Raises:
        RequestError: another status than 200 ("Request failed with status
            code: N"), a bad URL, a connection or protocol error, too many
            redirects.
    """
    httpx = await load_httpx()
    failures = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError)
    try:
        async with opener() as client:
            headers = {"User-Agent": USER_AGENT}
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code != 200:
                    raise RequestError(
                        f"Request failed with status code: {response.status_code}"
                    )
                yield response
    except failures as exc:
        raise RequestError(f"{failing}: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """Read at most ``limit`` bytes of the (decoded) body.

    Returns:
        ``(body, cut)``: ``cut`` is True when the body went on past ``limit``
        (the rest is not read).
    """
    body = bytearray()
    async with aclosing(body_chunks(response)) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                return bytes(body[:limit]), True
    return bytes(body), False


def body_chunks(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """Return the body's (decoded) chunks as a generator ``aclosing`` accepts."""
    return cast("AsyncGenerator[bytes, None]", response.aiter_bytes())
