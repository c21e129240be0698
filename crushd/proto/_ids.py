"""client_id validation: a lenient UUID parser with upstream error texts."""

from __future__ import annotations

import re

_PREFIXES = ("urn:uuid:",)
# int(x, 16) would also take "_", "+", "0x" and spaces; a UUID is hex digits only.
_HEX32 = re.compile(r"[0-9a-fA-F]{32}")


def parse_client_id(raw: str) -> str:
    """Validate a client id the way upstream does and return it unchanged.

    Accepts the canonical 36-character form, 32 hex digits without dashes, the
    ``{...}`` braced form and the ``urn:uuid:`` prefix; any UUID version
    (docs/protocol.md 0.6).

    Args:
        raw: the client id as sent.

    Returns:
        ``raw`` itself (the claim key is the id as the client spells it).

    Raises:
        ValueError: empty (``""``) or not a UUID; the message is the parser's
            detail, e.g. ``invalid UUID length: 10``.
    """
    if not raw:
        raise ValueError("")
    text = raw
    for prefix in _PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if len(text) not in (32, 36):
        raise ValueError(f"invalid UUID length: {len(raw)}")
    if len(text) == 36 and [text[i] for i in (8, 13, 18, 23)] != ["-"] * 4:
        raise ValueError("invalid UUID format")
    if not _HEX32.fullmatch(text.replace("-", "")):
        raise ValueError("invalid UUID format")
    return raw
