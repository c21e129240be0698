"""SSEDecoder: the WHATWG event-stream rules, fed in arbitrary chunks."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from crushctl import ServerSentEvent, SSEDecoder

STREAM = (
    b": ping\n\n"
    b'id: 1\ndata: {"type":"message"}\n\n'
    b"data: first\r\ndata: second\r\n\r\n"
    b"id: 7\revent: custom\rdata: \xe2\x80\xa8 stays\r\r"
    b": ping\n\n"
    b"data\n\n"
    b"id: 9\ndata: tail without end"
)

EXPECTED = [
    ServerSentEvent('{"type":"message"}', "message", "1"),
    ServerSentEvent("first\nsecond", "message", "1"),
    ServerSentEvent("\u2028 stays", "custom", "7"),
    ServerSentEvent("", "message", "7"),
]


def feed_all(chunks: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    return [event for chunk in chunks for event in decoder.feed(chunk)]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def test_decoder_whole_stream() -> None:
    """A stream fed at once yields every complete event, not the unfinished one."""
    assert feed_all([STREAM]) == EXPECTED


def test_decoder_byte_by_byte() -> None:
    """Feeding one byte at a time (splitting CRLF pairs and UTF-8) changes nothing."""
    assert feed_all([STREAM[i : i + 1] for i in range(len(STREAM))]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
def test_decoder_any_chunk_boundaries(cuts: list[int]) -> None:
    """Any split of the byte stream into chunks yields the same events."""
    assert feed_all(split(STREAM, cuts)) == EXPECTED


def test_decoder_comments_only() -> None:
    """Heartbeat comments alone never dispatch anything."""
    assert feed_all([b": ping\n\n" * 3]) == []


def test_decoder_cr_at_chunk_end_then_lf() -> None:
    """A CR ending one chunk and an LF starting the next form one line break."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\r\n") == [ServerSentEvent("a")]


def test_decoder_cr_then_empty_chunk_then_lf() -> None:
    """A pending CR survives an empty chunk before its LF."""
    decoder = SSEDecoder()
    decoder.feed(b"data: a\r")
    decoder.feed(b"")
    decoder.feed(b"\n")
    assert decoder.feed(b"\n") == [ServerSentEvent("a")]


def test_decoder_id_persists_and_nul_is_ignored() -> None:
    """The last id carries over to later events; an id containing NUL is ignored."""
    decoder = SSEDecoder()
    events = decoder.feed(b"id: 5\ndata: a\n\ndata: b\n\nid: 6\x00\ndata: c\n\n")
    assert [event.id for event in events] == ["5", "5", "5"]
    assert decoder.last_event_id == "5"


def test_decoder_id_without_data_updates_last_id() -> None:
    """An id-only block dispatches nothing but still sets the last event id."""
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 3\n\n") == []
    assert decoder.last_event_id == "3"


def test_decoder_retry_field() -> None:
    """A numeric retry field is kept in milliseconds; a non-numeric one is ignored."""
    decoder = SSEDecoder()
    decoder.feed(b"retry: 1500\n\nretry: soon\n\n")
    assert decoder.retry_ms == 1500


def test_decoder_value_keeps_extra_spaces_and_colons() -> None:
    """Only one space after the colon is removed; later colons stay in the value."""
    assert feed_all([b"data:  a: b\n\n"]) == [ServerSentEvent(" a: b")]


def test_decoder_strips_leading_bom_once() -> None:
    """A UTF-8 BOM at the start of the stream is dropped."""
    assert feed_all([b"\xef\xbb", b"\xbfdata: x\n\n"]) == [ServerSentEvent("x")]


def test_decoder_unknown_fields_ignored() -> None:
    """Unknown field names are ignored."""
    assert feed_all([b"foo: bar\ndata: x\n\n"]) == [ServerSentEvent("x")]
