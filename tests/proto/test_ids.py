"""Tests for ``crushd.proto.parse_client_id`` (docs/protocol.md 0.6)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crushd.proto import parse_client_id

CANONICAL = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"


@pytest.mark.parametrize(
    "raw",
    [
        CANONICAL,
        CANONICAL.replace("-", ""),
        "{" + CANONICAL + "}",
        "urn:uuid:" + CANONICAL,
        CANONICAL.upper(),
        "URN:UUID:" + CANONICAL.upper(),
        "00000000-0000-0000-0000-000000000000",
    ],
    ids=["canonical", "32-hex", "braced", "urn", "uppercase", "upper-urn", "nil"],
)
def test_parse_client_id_accepts_lenient_forms(raw: str) -> None:
    """Each form the upstream parser accepts is valid and returned unchanged."""
    assert parse_client_id(raw) == raw


SPELLINGS = ("{}", "{{{}}}", "urn:uuid:{}")


@given(st.uuids(), st.sampled_from(SPELLINGS), st.booleans(), st.booleans())
def test_parse_client_id_accepts_every_version(
    value: uuid.UUID, spelling: str, dashless: bool, upper: bool
) -> None:
    """Any UUID version, in any accepted spelling and case, is returned as sent."""
    text = value.hex if dashless and spelling == "{}" else str(value)
    raw = spelling.format(text.upper() if upper else text)
    assert parse_client_id(raw) == raw


def test_parse_client_id_rejects_empty() -> None:
    """An empty client id is invalid (the caller adds ``invalid client_id``)."""
    with pytest.raises(ValueError, match=r"^$"):
        parse_client_id("")


@pytest.mark.parametrize(
    ("raw", "length"),
    [
        ("abc", 3),
        ("0123456789", 10),
        (CANONICAL + "0", 37),
        (CANONICAL[:-1], 35),
        ("{" + CANONICAL, 37),
        ("urn:uuid:" + CANONICAL[:-1], 44),
    ],
)
def test_parse_client_id_rejects_wrong_length_with_length(
    raw: str, length: int
) -> None:
    """A wrong length is reported as ``invalid UUID length: N`` of the whole input."""
    with pytest.raises(ValueError, match=f"^invalid UUID length: {length}$"):
        parse_client_id(raw)


@pytest.mark.parametrize(
    "raw",
    [
        CANONICAL[:8] + "x" + CANONICAL[9:],
        CANONICAL[:-1] + "g",
        CANONICAL.replace("-", "")[:-1] + "z",
        "----" + CANONICAL.replace("-", "")[:28],
        "6ba7b81-09dad-11d1-80b4-00c04fd430c8",
    ],
    ids=["dash-replaced", "non-hex-canonical", "non-hex-32", "dashes-32", "moved-dash"],
)
def test_parse_client_id_rejects_bad_format(raw: str) -> None:
    """Right length but not hex in the right places is ``invalid UUID format``."""
    with pytest.raises(ValueError, match=r"^invalid UUID format$"):
        parse_client_id(raw)


@pytest.mark.parametrize(
    "raw",
    [
        CANONICAL[:-2] + "_8",
        "+" + CANONICAL.replace("-", "")[1:],
        "0x" + CANONICAL.replace("-", "")[2:],
        " " + CANONICAL.replace("-", "")[1:],
    ],
    ids=["underscore", "plus", "0x", "space"],
)
def test_parse_client_id_rejects_int_syntax_that_is_not_hex(raw: str) -> None:
    """Characters outside ``[0-9a-fA-F-]`` are a bad format, even where int() allows."""
    with pytest.raises(ValueError, match=r"^invalid UUID format$"):
        parse_client_id(raw)
