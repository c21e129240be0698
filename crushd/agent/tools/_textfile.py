"""Reading a slice of a text file the way ``view`` shows it.

Lines are what splitting the file on newlines gives (so a final newline makes
a last, empty line, as upstream shows it); a carriage return before one is
dropped; a line longer than ``MAX_LINE_CHARS`` is cut and marked with
``...``. Very long lines are never held whole in memory. Source: Crush
``internal/agent/tools/view.go`` ``readTextFile``.
"""

from __future__ import annotations

import codecs
from typing import BinaryIO

import attrs

#: Longest line shown, characters; longer ones are cut and end in "...".
MAX_LINE_CHARS = 2000
#: Largest section ``view`` returns, bytes (UTF-8).
MAX_SECTION_BYTES = 200 * 1024

# Enough bytes for MAX_LINE_CHARS characters of up to 4 bytes each.
_KEEP_BYTES = MAX_LINE_CHARS * 4 + 4
_CHUNK_BYTES = 64 * 1024


class NotUTF8Error(Exception):
    """The file is not valid UTF-8."""


class SectionTooLargeError(Exception):
    """The lines asked for add up to more than the section limit."""

    def __init__(self, size_bytes: int, max_bytes: int) -> None:
        super().__init__(size_bytes, max_bytes)
        self.size_bytes = size_bytes
        self.max_bytes = max_bytes


@attrs.frozen
class Section:
    """Lines of a file from 0-based ``offset``; ``has_more`` if any follow."""

    lines: list[str]
    offset: int
    has_more: bool


def read_section(
    file: BinaryIO, offset: int, limit: int, max_bytes: int = MAX_SECTION_BYTES
) -> Section:
    """Read up to ``limit`` lines of ``file`` starting at 0-based line ``offset``.

    Blocking: call it from a worker thread.

    Raises:
        NotUTF8Error: a line read is not valid UTF-8.
        SectionTooLargeError: the section would pass ``max_bytes``.
        OSError: reading failed.
    """
    for _ in range(offset):
        if not _skip_line(file):
            return Section(lines=[], offset=offset, has_more=False)
    lines: list[str] = []
    size = 0
    complete = True
    while complete and len(lines) < limit:
        text, complete = _read_line(file)
        size += len(text.encode()) + (1 if lines else 0)
        if size > max_bytes:
            raise SectionTooLargeError(size, max_bytes)
        lines.append(text)
    has_more = complete and len(lines) == limit and _has_more(file)
    return Section(lines=lines, offset=offset, has_more=has_more)


def _has_more(file: BinaryIO) -> bool:
    return bool(file.read(1))


def _skip_line(file: BinaryIO) -> bool:
    """Pass one line without decoding it; return whether a newline ended it."""
    while chunk := file.readline(_CHUNK_BYTES):
        if chunk.endswith(b"\n"):
            return True
    return False


def _read_line(file: BinaryIO) -> tuple[str, bool]:
    """Read one line; return its (possibly cut) text and whether a newline ended it."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    kept: list[str] = []
    kept_chars = 0
    while True:
        chunk = file.readline(_CHUNK_BYTES)
        ended = chunk.endswith(b"\n")
        if kept_chars <= MAX_LINE_CHARS:
            # A cut chunk may end inside a character: leave that to the
            # decoder's buffer; the cut line ends in "..." anyway.
            last = (ended or not chunk) and len(chunk) <= _KEEP_BYTES
            text = _decode(decoder, chunk[:_KEEP_BYTES], final=last)
            kept.append(text)
            kept_chars += len(text)
        if ended or not chunk:
            return _finish("".join(kept)), ended


def _decode(decoder: codecs.IncrementalDecoder, data: bytes, *, final: bool) -> str:
    try:
        return str(decoder.decode(data, final=final))
    except UnicodeDecodeError:
        raise NotUTF8Error from None


def _finish(text: str) -> str:
    text = text.removesuffix("\n").removesuffix("\r")
    if len(text) > MAX_LINE_CHARS:
        return text[:MAX_LINE_CHARS] + "..."
    return text
