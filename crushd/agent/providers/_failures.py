"""Turning failed model calls into ``ProviderError``s with retry facts.

Retryable: 408, 409, 429 and 5xx answers, connection failures and timeouts,
and error events that say the model is overloaded or rate limited; an answer
carrying ``x-should-retry`` decides for itself. ``retry-after-ms`` /
``retry-after`` (seconds or an HTTP date) become ``retry_after`` seconds.
Source: the openai SDK's own retry rules and fantasy ``retry.go``
(docs/agent.md 1.8, 5.1).
"""

from __future__ import annotations

import email.utils
import http
import math
import time
from collections.abc import Mapping

from ._types import ProviderError

RETRYABLE_STATUSES = frozenset({408, 409, 429})
#: Words in an error event's type or code that make it worth another try.
RETRYABLE_WORDS = ("overloaded", "rate_limit", "rate limit", "server_error", "timeout")


def status_error(
    status: int, headers: Mapping[str, str], body: object, fallback: str
) -> ProviderError:
    """Build the error for an HTTP error answer.

    Args:
        status: the HTTP status.
        headers: the answer's headers (case-insensitive lookups).
        body: the decoded error body (``{"message": ...}`` or
            ``{"error": {...}}``), or anything else.
        fallback: the text used when the body has no message.
    """
    should = headers.get("x-should-retry", "").strip().lower()
    retryable = status in RETRYABLE_STATUSES or status >= 500
    if should in ("true", "false"):
        retryable = should == "true"
    return ProviderError(
        error_message(body) or fallback,
        status=status,
        title=status_title(status),
        retryable=retryable,
        retry_after=retry_after(headers),
    )


def status_title(status: int) -> str:
    """The HTTP reason phrase (``Too Many Requests``), else ``Provider Error``."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Provider Error"


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asked to wait, or ``None``.

    ``retry-after-ms`` (milliseconds) wins over ``retry-after`` (seconds or
    an HTTP date, compared with ``now``, Unix seconds). Never negative.
    """
    millis = _number(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def stream_error(error: object) -> ProviderError:
    """Build the error for an ``{"error": ...}`` event inside a stream."""
    data = error if isinstance(error, Mapping) else {"message": str(error)}
    kind = f"{data.get('type', '')} {data.get('code', '')}".lower()
    code = data.get("code")
    status = code if isinstance(code, int) and 100 <= code < 600 else None
    retryable = any(word in kind for word in RETRYABLE_WORDS) or (
        status is not None and (status in RETRYABLE_STATUSES or status >= 500)
    )
    return ProviderError(
        error_message(data) or "the provider reported an error during streaming",
        status=status,
        title=status_title(status) if status else "Provider Error",
        retryable=retryable,
    )


def connection_error(detail: str, *, timeout: bool = False) -> ProviderError:
    """Build the (retryable) error for a failed or timed-out connection."""
    if timeout:
        return ProviderError(
            f"request timed out{': ' + detail if detail else ''}",
            title="Request Timeout",
            retryable=True,
        )
    return ProviderError(
        f"connection error{': ' + detail if detail else ''}",
        title="Connection Error",
        retryable=True,
    )


def error_message(body: object) -> str:
    """The human message inside an error body, or ``""``."""
    if not isinstance(body, Mapping):
        return ""
    inner = body.get("error")
    if isinstance(inner, Mapping):
        return error_message(inner)
    if isinstance(inner, str) and inner:
        return inner
    message = body.get("message")
    return message if isinstance(message, str) else ""


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None
