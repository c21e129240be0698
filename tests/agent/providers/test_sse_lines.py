"""Tests for crushd/agent/providers/_sse_lines.py: SSE line ends, and only those."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

import pytest

from crushd.agent.providers._sse_lines import SSELines


async def _chunks(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _lines(*pieces: bytes) -> list[str]:
    return [line async for line in SSELines(_chunks(pieces))]


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        ((b"a\nb\n",), ["a", "b"]),
        ((b"a\r\nb\r\n",), ["a", "b"]),
        ((b"a\rb\r",), ["a", "b"]),
        ((b"a\r", b"\nb\n"), ["a", "b"]),  # a CRLF cut in two is one line end
        ((b"a\r", b"b\n"), ["a", "b"]),  # a lone CR at a chunk's end still ends
        ((b"da", b"ta: 1\n\n"), ["data: 1", ""]),
        ((b"a\n\nb",), ["a", "", "b"]),  # the last line needs no line end
        ((b"tail\r",), ["tail"]),
        ((), []),
        ((b"",), []),
    ],
)
async def test_lines_end_at_crlf_lf_or_cr(
    pieces: tuple[bytes, ...], expected: list[str]
) -> None:
    """The three SSE line ends, wherever the chunks are cut."""
    assert await _lines(*pieces) == expected


async def test_unicode_line_separators_inside_json_do_not_split() -> None:
    """U+2028, U+2029, U+0085, VT and FF stay inside the line (httpx splits there)."""
    line = 'data: {"content": "a\u2028b\u2029c\x85d\x0be\x0cf"}'
    assert await _lines(line.encode() + b"\n") == [line]


async def test_a_character_cut_between_chunks_is_decoded_whole() -> None:
    """UTF-8 sequences are decoded across chunk boundaries."""
    encoded = "data: é€😀\n".encode()
    pieces = [encoded[i : i + 1] for i in range(len(encoded))]
    assert await _lines(*pieces) == ["data: é€😀"]


async def test_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    """A bad byte never ends the stream; a cut sequence at the end neither."""
    assert await _lines(b"a\xffb\n", b"\xe2\x82") == ["a\ufffdb", "\ufffd"]


async def test_discard_rest_reads_to_the_end_and_keeps_nothing() -> None:
    """After ``discard_rest`` the body is consumed and the iterator is done."""
    read: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for piece in (b"a\nb\n", b"c\n", b"d\n"):
            read.append(piece)
            yield piece

    lines = SSELines(body())
    assert await anext(lines) == "a"
    await lines.discard_rest()
    assert read == [b"a\nb\n", b"c\n", b"d\n"]
    assert [line async for line in lines] == []
