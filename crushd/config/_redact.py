"""Secrets never leave the daemon: redacted copies for responses, events, logs.

Decision B.22: API keys, OAuth tokens, provider ``extra_headers`` values and
environment entries whose name looks secret become ``"••••"`` + their last 4
characters. The real values stay on disk and in memory.
"""

from __future__ import annotations

import re

#: What a redacted value starts with.
MASK = "••••"

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
# Objects whose every string value is a secret (header values carry tokens).
_ALL_SECRET = frozenset({"extra_headers", "headers", "default_headers"})
_OAUTH = re.compile(r"oauth", re.IGNORECASE)


def mask(value: str) -> str:
    """Return ``"••••"`` + the last 4 characters (``"••••"`` alone if short)."""
    if not value:
        return value
    return MASK + (value[-4:] if len(value) > 4 else "")


def looks_secret(name: str) -> bool:
    """True for names like ``api_key``, ``GITHUB_TOKEN``, ``DB_PASSWORD``."""
    return bool(_SECRET_NAME.search(name))


def redact(value: object, *, secret: bool = False) -> object:
    """Return a copy of a JSON value with every secret masked.

    Args:
        value: any JSON data (a config document, a provider, ...).
        secret: treat every string inside as a secret.

    Source: PROTOCOL.md decision B.22.
    """
    if isinstance(value, str):
        return mask(value) if secret else value
    if isinstance(value, list):
        return [redact(item, secret=secret) for item in value]
    if isinstance(value, dict):
        return {k: _redact_entry(str(k), v, secret) for k, v in value.items()}
    return value


def _redact_entry(name: str, value: object, secret: bool) -> object:
    inner = secret or name in _ALL_SECRET or bool(_OAUTH.search(name))
    if isinstance(value, str):
        return mask(value) if inner or looks_secret(name) else value
    return redact(value, secret=inner)


def redact_env_list(entries: list[str]) -> list[str]:
    """Mask the values of ``K=V`` entries whose name looks secret."""
    out = []
    for entry in entries:
        name, sep, value = entry.partition("=")
        out.append(f"{name}{sep}{mask(value)}" if looks_secret(name) else entry)
    return out
