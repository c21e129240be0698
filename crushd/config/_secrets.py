"""The secret values the daemon knows, masked wherever they turn up in text.

Masking by key name is not enough: a project layer can copy a daemon secret
into any field (``"title_hint": "$OPENAI_API_KEY"``), and a failing script can
print one. So the daemon keeps the set of secret values it knows and masks
every occurrence of one in what it sends: responses (the server's
``json_body``), events (the event log's encoder) and log lines
(``crushd.logs``). A known secret is replaced by its ``mask``.

The values come from named sources, each replaced as a whole when it is
remembered again: the daemon's environment (``remember_environ``: variables
whose name looks secret, and URL passwords in any variable) and each loaded
configuration (``secrets_in_document``: strings under secret-named keys, URL
passwords, secret query parameters and header lines in any string).

Values shorter than ``MIN_SECRET_CHARS`` (8) are never remembered: masking
every ``"true"`` or ``"admin"`` in every answer would corrupt ordinary text,
and a secret that short is no real protection anyway. Header values are
remembered only under a secret-looking header name (``Authorization``,
``X-Api-Key``): ``application/json`` must stay readable.

Scrubbing is on the hot path (every event): with nothing known it returns
its input at once; otherwise it runs one substring search per known spelling
and replaces only what it found. Measured on 5 KB of text with 5, 20 and 100
random 32-character secrets, that is 7, 27 and 115 us, where one compiled
regex alternation of the same secrets took 64, 138 and 1,590 us (re's
alternation backtracks at every position; str's search skips ahead).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping

from crushd.proto import looks_secret, mask, mask_in_text, secrets_in_text

#: Shorter values are never treated as known secrets.
MIN_SECRET_CHARS = 8

# Names of variables that hold a location, not a secret (SSH_AUTH_SOCK).
_LOCATION_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_SOCK", "_SOCKET", "_HOME")


class _Matcher:
    """Finds known secrets in text and bytes; built once per change."""

    def __init__(self, secrets: frozenset[str]) -> None:
        table: dict[str, str] = {}
        for secret in secrets:
            table[secret] = mask(secret)
            # Inside JSON text a quote, backslash or control character is
            # escaped: match that spelling too, and put an escaped mask there.
            table[_json_inner(secret)] = _json_inner(mask(secret))
        # Longest first, so a secret holding another is masked whole.
        self.text = sorted(table.items(), key=lambda item: -len(item[0]))
        self.data = [(k.encode(), v.encode()) for k, v in self.text]

    def scrub(self, text: str) -> str:
        for needle, masked in self.text:
            if needle in text:
                text = text.replace(needle, masked)
        return text

    def scrub_bytes(self, data: bytes) -> bytes:
        for needle, masked in self.data:
            if needle in data:
                data = data.replace(needle, masked)
        return data


def _json_inner(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)[1:-1]


class _KnownSecrets:
    """The process's known secret values, by source."""

    def __init__(self) -> None:
        self.sources: dict[str, frozenset[str]] = {}
        self.matcher: _Matcher | None = None
        # Writers may be the trio thread, a worker thread or a finalizer run
        # by the garbage collector anywhere: they take turns.
        self._lock = threading.Lock()

    def remember(self, source: str, values: Iterable[str]) -> None:
        kept = frozenset(v for v in values if len(v) >= MIN_SECRET_CHARS)
        with self._lock:
            if self.sources.get(source, frozenset()) == kept:
                return
            if kept:
                self.sources[source] = kept
            else:
                self.sources.pop(source, None)
            every = frozenset().union(*self.sources.values())
            # One swap of one attribute: a reader sees the old matcher or the
            # new one, never a half-built one, and takes no lock.
            self.matcher = _Matcher(every) if every else None


_KNOWN = _KnownSecrets()


def remember_secrets(source: str, values: Iterable[str]) -> None:
    """Make ``values`` the known secrets of ``source``, replacing its old ones.

    Values shorter than ``MIN_SECRET_CHARS`` are dropped; an empty set
    forgets the source. Synchronous and thread-safe; a scrub running
    meanwhile uses either the old set or the new one.

    Args:
        source: who the values belong to (``"environ"``, ``"config:<id>"``).
        values: the secret strings, in clear.
    """
    _KNOWN.remember(source, values)


def forget_secrets(source: str) -> None:
    """Drop the known secrets of ``source`` (a closed workspace's config)."""
    _KNOWN.remember(source, ())


def scrub_known_secrets(text: str) -> str:
    """Return ``text`` with every known secret value replaced by its ``mask``.

    Also matches a secret spelled as inside a JSON string (escaped quotes,
    backslashes, control characters). Returns ``text`` itself when it holds
    none. For events and responses: only known values are touched.
    """
    matcher = _KNOWN.matcher
    return text if matcher is None else matcher.scrub(text)


def scrub_known_secret_bytes(data: bytes) -> bytes:
    """Return UTF-8 ``data`` with known secrets masked (``scrub_known_secrets``)."""
    matcher = _KNOWN.matcher
    return data if matcher is None else matcher.scrub_bytes(data)


def scrub_secrets(text: str) -> str:
    """Return ``text`` with every known secret and every inline secret masked.

    Known values as ``scrub_known_secrets``; then URL userinfo passwords,
    secret query parameters and ``Authorization:``-style header lines as
    ``mask_in_text``. For log lines and a failing script's stderr.
    """
    return mask_in_text(scrub_known_secrets(text))


def secrets_in_environ(environ: Mapping[str, str]) -> set[str]:
    """Return the secret values of an environment.

    The value of every variable whose name looks secret (``looks_secret``)
    and does not name a location (``*_FILE``, ``*_PATH``, ``*_DIR``,
    ``*_SOCK``, ``*_SOCKET``, ``*_HOME``), plus the URL passwords, secret
    query parameters and header lines inside any value (``DATABASE_URL``).
    """
    found: set[str] = set()
    for name, value in environ.items():
        location = name.upper().endswith(_LOCATION_SUFFIXES)
        if looks_secret(name) and not location:
            found.add(value)
        found.update(secrets_in_text(value))
    return found


def remember_environ(environ: Mapping[str, str] | None = None) -> None:
    """Remember the secrets of the daemon's environment (``None``: ``os.environ``).

    Replaces what the previous call remembered (source ``"environ"``).
    """
    env = os.environ if environ is None else environ
    remember_secrets("environ", secrets_in_environ(env))


def secrets_in_document(value: object, *, secret: bool = False) -> set[str]:
    """Return the secret strings of a config document.

    Every string under a secret-looking key (``api_key``, ``oauth``,
    ``Authorization``, ...) at any depth, and the inline secrets of every
    other string (``secrets_in_text``). Header objects are not secret as a
    whole here: only their secret-looking header names count.
    """
    if isinstance(value, str):
        return {value} if secret else set(secrets_in_text(value))
    items: Iterable[tuple[object, object]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((None, item) for item in value)
    found: set[str] = set()
    for key, item in items:
        inner = secret or (key is not None and looks_secret(str(key)))
        found |= secrets_in_document(item, secret=inner)
    return found
