"""Secrets never leave the daemon: redacted copies of config data and text.

Shared with crushctl, which masks what it echoes the same way.

What ``redact`` masks in a JSON value (decision B.22, widened by issue 11):

- the whole value under a key whose name looks secret (``api_key``,
  ``Authorization``, ``X-Api-Key``, ``oauth``, ``GITHUB_PAT``, ...): every
  string inside it, at any depth, lists and objects included;
- every value of a header object (``extra_headers``, ``headers``,
  ``default_headers``), whatever the header's name;
- inside any other string (``mask_in_text``): a URL's userinfo password (the
  whole userinfo when it has no password), the value of a secret query
  parameter (``api_key=``, ``key=``, ``token=``, ``sig=``, ...) and the value
  of an ``Authorization:``/``*-Key:``/``*-Token:``/``Cookie:`` header line.

A masked value becomes ``••••`` plus its last 4 characters when it has at
least 16, ``••••`` alone when shorter (4 characters of a short secret are too
much of it). Numbers and booleans are never masked (``max_tokens`` stays).
The real values stay on disk and in memory.
"""

from __future__ import annotations

import re

__all__ = [
    "MASK",
    "MASK_TAIL_MIN_CHARS",
    "looks_secret",
    "mask",
    "mask_in_text",
    "redact",
    "redact_env_list",
    "secret_key",
    "secrets_in_text",
]

#: What a redacted value starts with.
MASK = "••••"
#: Values at least this long keep their last 4 characters after the mask.
MASK_TAIL_MIN_CHARS = 16

# Secret-looking names. AUTH but not AUTHOR/AUTHORITY (GIT_AUTHOR_NAME is no
# secret) unless it is AUTHORIZATION; PAT only as a whole word (GITHUB_PAT,
# not PATH or PATTERN).
_SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|COOKIE"
    r"|AUTH(?!OR(?!I[SZ]))|(?<![A-Z])PAT(?![A-Z])",
    re.IGNORECASE,
)
# Objects whose every string value is a secret (header values carry tokens).
_ALL_SECRET = frozenset({"extra_headers", "headers", "default_headers"})
# Query parameter names that carry secrets without looking like one.
_QUERY_NAMES = frozenset({"sig", "signature", "pwd", "pass", "code"})

# Bounded repeats keep every scan linear in the text's length.
_URL_USERINFO = re.compile(
    r"\b([A-Za-z][A-Za-z0-9+.\-]{0,31}://)([^/?#@\s\"'<>]{1,512})@"
)
_QUERY_PARAM = re.compile(r"([?&;])([A-Za-z0-9_.\-\[\]]{1,128})=([^&#\s\"'<>]+)")
_HEADER_LINE = re.compile(
    r"\b((?:proxy-)?authorization|(?:set-)?cookie|[A-Za-z0-9_-]{1,64}-(?:key|token|auth))"
    r"([ \t]*:[ \t]*)([^\r\n\"']+)",
    re.IGNORECASE,
)


def mask(value: str) -> str:
    """Return ``value`` masked: ``"••••"`` + its last 4 characters if 16+ long.

    Shorter values become ``"••••"`` alone; ``""`` stays ``""``.
    """
    if not value:
        return value
    return MASK + (value[-4:] if len(value) >= MASK_TAIL_MIN_CHARS else "")


def looks_secret(name: str) -> bool:
    """True for names like ``api_key``, ``GITHUB_TOKEN``, ``X-Auth``, ``MY_PAT``.

    The name (a config key, header or environment variable) contains KEY,
    TOKEN, SECRET, PASSWORD, PASSWD, PASSPHRASE, CREDENTIAL, COOKIE, AUTH
    (not AUTHOR) or the word PAT, in any case. ``PATH`` does not look secret.
    """
    return bool(_SECRET_NAME.search(name))


def mask_in_text(text: str) -> str:
    """Return ``text`` with secrets inside it masked (see the module docstring).

    URL userinfo passwords, secret query parameter values and secret header
    line values are replaced with their ``mask``; the rest is unchanged.
    """
    if "://" in text:
        text = _URL_USERINFO.sub(_masked_userinfo, text)
    if "=" in text:
        text = _QUERY_PARAM.sub(_masked_query, text)
    if ":" in text:
        text = _HEADER_LINE.sub(_masked_header, text)
    return text


def secrets_in_text(text: str) -> list[str]:
    """Return the secret parts ``mask_in_text`` would mask, in order."""
    found = [_userinfo_secret(m[2]) for m in _URL_USERINFO.finditer(text)]
    found += [m[3] for m in _QUERY_PARAM.finditer(text) if _secret_param(m[2])]
    found += [m[3].strip() for m in _HEADER_LINE.finditer(text)]
    return found


def _userinfo_secret(userinfo: str) -> str:
    user, colon, password = userinfo.partition(":")
    return password if colon else user


def _masked_userinfo(match: re.Match[str]) -> str:
    user, colon, password = match[2].partition(":")
    userinfo = f"{user}:{mask(password)}" if colon else mask(user)
    return f"{match[1]}{userinfo}@"


def _secret_param(name: str) -> bool:
    return looks_secret(name) or name.lower() in _QUERY_NAMES


def _masked_query(match: re.Match[str]) -> str:
    if not _secret_param(match[2]):
        return match[0]
    return f"{match[1]}{match[2]}={mask(match[3])}"


def _masked_header(match: re.Match[str]) -> str:
    return f"{match[1]}{match[2]}{mask(match[3].strip())}"


def secret_key(name: str) -> bool:
    """True when everything under the config key ``name`` is a secret."""
    return name in _ALL_SECRET or looks_secret(name)


def redact(value: object, *, secret: bool = False) -> object:
    """Return a copy of a JSON value with every secret masked.

    Args:
        value: any JSON data (a config document, a provider, ...).
        secret: treat every string inside as a secret.

    Returns:
        The same shape; masked strings are ``mask``-ed whole, other strings
        go through ``mask_in_text``; numbers, booleans and null are kept.

    Source: decision B.22; issue 11 (whole values, URLs, headers anywhere).
    """
    if isinstance(value, str):
        return mask(value) if secret else mask_in_text(value)
    if isinstance(value, list):
        return [redact(item, secret=secret) for item in value]
    if isinstance(value, dict):
        return {
            k: redact(v, secret=secret or secret_key(str(k))) for k, v in value.items()
        }
    return value


def redact_env_list(entries: list[str]) -> list[str]:
    """Mask ``K=V`` entries: the whole value if ``K`` looks secret.

    Other values go through ``mask_in_text`` (a ``DATABASE_URL`` keeps its
    host but not its password).
    """
    out = []
    for entry in entries:
        name, sep, value = entry.partition("=")
        hidden = mask(value) if looks_secret(name) else mask_in_text(value)
        out.append(f"{name}{sep}{hidden}" if sep else entry)
    return out
