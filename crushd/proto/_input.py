r"""Bounds on what a client sends: JSON nesting, Unicode, event ids.

Python's ``json`` parser recurses once per nesting level, so a body of
100,000 ``[`` raises ``RecursionError`` (not ``ValueError``), and a lone
surrogate (``"\ud800"``) decodes fine but breaks the first ``encode`` that
meets it (an echoed response, a log line, SQLite). Both are the client's
mistake, so both are refused here, before any route sees the value, as a
``ValueError`` the caller turns into a 400. The config loader uses the same
depth check on the files it reads.
"""

from __future__ import annotations

import json
import re

__all__ = [
    "MAX_EVENT_ID",
    "MAX_JSON_DEPTH",
    "json_too_deep",
    "load_json",
    "parse_event_id",
]

#: Deepest nesting of arrays and objects a request body may have.
MAX_JSON_DEPTH = 64
#: Largest event id a client may resume from (a signed 64-bit integer).
MAX_EVENT_ID = 2**63 - 1

# Only brackets and quotes matter for nesting; escaped backslashes and quotes
# go first so that what is left of each string is a plain "...".
_STRUCTURE = bytes(set(range(256)) - set(b'[]{}"'))
_SQUARE = bytes.maketrans(b"{}", b"[]")
_STRING = re.compile(rb'"[^"]*"')


def _nesting(levels: int) -> re.Pattern[bytes]:
    # Balanced brackets at most ``levels`` deep, as a regular expression
    # (bounded nesting is regular). Possessive repeats never backtrack, so a
    # match is one linear pass in C, about 10 ns a byte.
    pattern = b""
    for _ in range(levels):
        pattern = rb"(?:\[" + pattern + rb"\])*+"
    return re.compile(pattern)


_WITHIN_DEPTH = _nesting(MAX_JSON_DEPTH)
# A surrogate can arrive escaped or raw (``json`` decodes bytes with
# ``surrogatepass``); only then is the decoded value worth checking.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_DECIMAL = re.compile(r"[0-9]{1,19}")


def load_json(data: bytes | str) -> object:
    """Parse a request body's JSON, refusing what would break the daemon later.

    Args:
        data: the raw body (UTF-8 bytes, or text).

    Returns:
        The parsed value (``dict``, ``list``, ``str``, number, bool or None).

    Raises:
        ValueError: ``invalid JSON: ...`` for malformed text; ``nested deeper
            than 64 levels``; ``invalid Unicode: unpaired surrogate``.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if json_too_deep(raw):
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None
    if _MAYBE_SURROGATE.search(raw) and _has_lone_surrogate(value):
        raise ValueError("invalid Unicode: unpaired surrogate")
    return value


def json_too_deep(raw: bytes) -> bool:
    """Whether the arrays/objects in JSON text ``raw`` nest deeper than the limit.

    Looks only at the brackets outside strings; never recurses. Unbalanced
    brackets (invalid JSON anyway) count as too deep once there are more
    than ``MAX_JSON_DEPTH`` of them.
    """
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = _STRING.sub(b"", plain.translate(_SQUARE, _STRUCTURE))
    if brackets.count(b"[") <= MAX_JSON_DEPTH:
        return False
    return _WITHIN_DEPTH.fullmatch(brackets) is None


def _has_lone_surrogate(value: object) -> bool:
    # json.loads has joined every valid pair already; re-encoding strictly
    # fails exactly on a lone surrogate, in a key or a value, at any depth.
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def parse_event_id(raw: str) -> int:
    """Parse a client's event id: decimal digits, at most ``MAX_EVENT_ID``.

    Spaces and tabs around the digits are ignored (header whitespace).

    Raises:
        ValueError: a sign, any other character (``int`` would also take
            ``"+1"``, ``"1_0"`` or non-ASCII digits such as ARABIC-INDIC ONE), or a
            value above ``MAX_EVENT_ID``.
    """
    text = raw.strip(" \t")
    if not _DECIMAL.fullmatch(text) or int(text) > MAX_EVENT_ID:
        raise ValueError(f"not a decimal integer from 0 to {MAX_EVENT_ID}")
    return int(text)
