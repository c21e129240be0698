"""The ``openai`` / ``openai-compat`` provider, through the official SDK.

The SDK builds and sends the request (auth, headers, ``extra_body``) with its
own retries off (``max_retries=0``: crushd retries, resetting the half-written
message); crushd reads the SSE body itself (``CallStream``), and the
connection's socket reads line up with the workspace's flush window
(``pace_reads``). The SDK is imported, and the client built, in a worker
thread: the import holds the GIL for a second or more (docs/agent.md 4.4,
5.1).
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import trio

from crushd._heap import freeze_long_lived
from crushd.errors import ModelUnavailable

from ._call_stream import CallStream
from ._failures import connection_error, status_error
from ._merge import SUPPORTED_TYPES
from ._models import ResolvedModel
from ._paced_reads import ReadWindow, pace_reads
from ._rehearsal import rehearse_first_request
from ._types import Provider, ProviderError, StreamEvent, StreamRequest
from ._wire import request_body

#: Seconds to wait between two chunks before the call fails (retryable).
READ_TIMEOUT = 300.0
#: Seconds to wait for the TCP/TLS connection.
CONNECT_TIMEOUT = 10.0
#: Sent as the key to servers that need none (the SDK insists on one).
NO_KEY = "not-needed"
#: Typed arguments sent as body keys instead (see ``as_body_keys``).
BODY_KEYS = ("messages", "tools")
#: The module anyio loads for Trio on the SDK's first request (anyio 4).
ANYIO_TRIO_BACKEND = "anyio._backends._trio"

_modules: dict[str, ModuleType] = {}
_tls: list[ssl.SSLContext] = []  # one context for every provider's client


async def load_sdk() -> tuple[ModuleType, ModuleType]:
    """Import ``openai`` and ``httpx`` in a worker thread, once.

    Returns:
        The ``(openai, httpx)`` modules; later calls return them at once.
    """
    if not _tls:
        for name in ("httpx", "openai"):
            if name not in _modules:
                module = await trio.to_thread.run_sync(importlib.import_module, name)
                _modules[name] = module
        await trio.to_thread.run_sync(_import_anyio_backend)
        await trio.to_thread.run_sync(
            rehearse_first_request, _modules["openai"], _modules["httpx"]
        )
        context = await trio.to_thread.run_sync(_modules["httpx"].create_ssl_context)
        if not _tls:  # a concurrent first call may have finished meanwhile
            _tls.append(context)
            freeze_long_lived("the provider SDK")
    return _modules["openai"], _modules["httpx"]


def shared_tls_context() -> ssl.SSLContext:
    """The TLS context every provider client uses (after ``load_sdk``).

    httpx builds a new context for each client it is not given one: loading
    the CA bundle took about 50 ms, holding the GIL, so every turn and every
    title job froze the event loop that long when it opened its provider
    (stress/RESULTS.md). httpx's own rules pick the bundle: ``SSL_CERT_FILE``,
    ``SSL_CERT_DIR``, else certifi's, read once at the first ``agent/init``.
    """
    return _tls[0]


def _import_anyio_backend() -> None:
    # The SDK's first request asks anyio for the running loop's backend, and
    # anyio imports its Trio backend module then, on the event loop: a freeze
    # of a few hundred ms measured on the first prompt (stress/RESULTS.md).
    with contextlib.suppress(ImportError):
        importlib.import_module(ANYIO_TRIO_BACKEND)


async def open_provider(
    model: ResolvedModel, window: ReadWindow | None = None
) -> Provider:
    """Return a provider streaming from ``model``'s endpoint.

    The first call imports the SDK in a worker thread; the client is built
    there too (the SDK imports its resource modules on first use), with the
    shared TLS context (``shared_tls_context``). Given a ``window`` (the
    workspace's flush window), the connections' reads line up with it
    (``pace_reads``).

    Raises:
        ModelUnavailable: the provider's type is one crushd cannot speak yet
            (500).
    """
    if model.provider_type not in SUPPORTED_TYPES:
        raise ModelUnavailable(
            f"provider {model.provider_id}: type {model.provider_type} "
            "is not supported by crushd yet"
        )
    sdk, httpx = await load_sdk()
    return await trio.to_thread.run_sync(
        OpenAICompatProvider, sdk, httpx, model, window
    )


class OpenAICompatProvider:
    """Chat completions against one OpenAI-compatible endpoint.

    Args:
        sdk: the ``openai`` module.
        httpx: the ``httpx`` module (the SDK accepts its client).
        model: the resolved model (endpoint, key, headers, body keys).
        window: the flush window the reads line up with; None reads at once.
    """

    def __init__(
        self,
        sdk: ModuleType,
        httpx: ModuleType,
        model: ResolvedModel,
        window: ReadWindow | None = None,
    ) -> None:
        self._sdk = sdk
        self._httpx = httpx
        self._model = model
        tls = shared_tls_context()
        transport = httpx.AsyncHTTPTransport(verify=tls)
        if window is not None:
            pace_reads(transport, window)
        self._http: Any = httpx.AsyncClient(
            timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
            transport=transport,
            verify=tls,  # for the proxies httpx mounts from the environment
        )
        self._client: Any = sdk.AsyncOpenAI(
            base_url=_base_url(model),
            api_key=_api_key(model.api_key),
            default_headers=dict(model.extra_headers),
            max_retries=0,
            http_client=self._http,
        )
        if model.provider_type != "openai":
            # The SDK picks OPENAI_ORG_ID / OPENAI_PROJECT_ID from the daemon's
            # environment; another vendor has no business seeing them.
            self._client.organization = self._client.project = None
        # The SDK imports its resource modules on first attribute access.
        self._create: Any = self._client.chat.completions.with_streaming_response.create

    def stream(self, request: StreamRequest) -> AsyncIterator[StreamEvent]:
        """Stream one call (see ``Provider.stream``).

        Returns an async iterator with ``aclose``: consume it to the end or
        close it (``contextlib.aclosing``) so the connection is released.

        Raises:
            ProviderError: the call failed; ``retryable``/``retry_after`` say
                whether and when to try again.
        """
        params, body = request_body(
            request,
            provider_type=self._model.provider_type,
            can_reason=self._model.model.can_reason,
            extra_body=self._model.extra_body,
        )
        params, body = as_body_keys(params, body)
        headers = request.headers or None

        def call() -> Any:
            return self._create(**params, extra_body=body, extra_headers=headers)

        return CallStream(call, self._failure)

    async def aclose(self) -> None:
        """Close the SDK client and its HTTP connection pool."""
        with trio.CancelScope(shield=True):
            await self._client.close()
            await self._http.aclose()

    def _failure(self, exc: Exception) -> ProviderError:
        error = _sdk_failure(exc, self._sdk) or _http_failure(exc, self._httpx)
        if error is None:
            error = ProviderError(str(exc) or type(exc).__name__)
        key = self._model.api_key
        if key and key in error.message:
            error.message = error.message.replace(key, "****")
            error.args = (error.message,)
        return error


def as_body_keys(
    params: dict[str, object], body: dict[str, object]
) -> tuple[dict[str, object], dict[str, object]]:
    """Move the history and the tool offers from typed arguments to body keys.

    The SDK walks every typed argument against its type hints on the event
    loop before sending (tens of ms for a long history, more on the first
    call while it evaluates the hints); body keys are sent as they are. The
    SDK requires ``messages``, so an empty one stays and the body key wins
    (a later mapping takes precedence in the SDK's merge). The configured
    ``extra_body`` keys still win over both, as before.

    Returns:
        ``(params, body)``, new dicts.
    """
    typed = {k: v for k, v in params.items() if k not in BODY_KEYS}
    lifted = {k: params[k] for k in BODY_KEYS if k in params}
    return {**typed, "messages": []}, {**lifted, **body}


def _sdk_failure(exc: Exception, sdk: ModuleType) -> ProviderError | None:
    if isinstance(exc, sdk.APIStatusError):
        headers = exc.response.headers
        return status_error(exc.status_code, headers, exc.body, exc.message)
    if isinstance(exc, sdk.APITimeoutError):
        return connection_error("", timeout=True)
    if isinstance(exc, sdk.APIConnectionError):
        cause = exc.__cause__
        return connection_error(str(cause) if cause else str(exc))
    if isinstance(exc, sdk.APIError):
        return ProviderError(str(exc.message), title="Provider Error")
    return None


def _http_failure(exc: Exception, httpx: ModuleType) -> ProviderError | None:
    if isinstance(exc, httpx.TimeoutException):
        return connection_error(str(exc), timeout=True)
    if isinstance(exc, httpx.TransportError):
        return connection_error(str(exc) or type(exc).__name__)
    return None


def _base_url(model: ResolvedModel) -> str:
    url = model.base_url.rstrip("/")
    if model.provider_type == "anthropic" and not url.endswith("/v1"):
        url += "/v1"  # Anthropic's OpenAI-compatible endpoint lives under /v1
    return url


def _api_key(key: str) -> str:
    if key.lower().startswith("bearer "):
        key = key[7:].strip()
    return key or NO_KEY
