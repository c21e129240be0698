"""An incremental Server-Sent Events parser: bytes in, complete events out.

Follows the WHATWG "event stream interpretation" rules: lines end in CRLF, LF
or CR (and nothing else, so a raw U+2028 inside JSON stays in its line); a
blank line dispatches; ``:`` lines are comments; ``data`` lines join with LF;
the last ``id`` persists across events; an unfinished event at EOF is dropped.
Chunks may split lines, CRLF pairs and UTF-8 sequences anywhere.
"""

from __future__ import annotations

import codecs
import re

import attrs

_LINE_END = re.compile(r"(\r\n|\r|\n)")
_BOM = "\ufeff"


@attrs.frozen
class ServerSentEvent:
    """One dispatched SSE event.

    Attributes:
        data: the ``data`` lines joined with line feeds (may be ``""``).
        event: the ``event`` field, ``"message"`` when absent.
        id: the last event id in effect at dispatch (``None`` if never set).
    """

    data: str
    event: str = "message"
    id: str | None = None


class SSEDecoder:
    """Parse an SSE byte stream incrementally.

    Synchronous and pure: feed it chunks as they arrive, in order, and it
    returns the events each chunk completes.

    Attributes:
        last_event_id: the last ``id`` field seen (``None`` until one is).
        retry_ms: the last valid ``retry`` field, in milliseconds, or ``None``.

    Source: WHATWG HTML "Server-sent events", event stream interpretation;
    docs/protocol.md 3.2 framing and C.1-C.2 (``id:`` lines, ``: ping`` comments).
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""
        self._after_cr = False
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume ``chunk`` and return the events it completes, in order."""
        events = []
        for line in self._lines(self._text(chunk)):
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _text(self, chunk: bytes) -> str:
        text = self._utf8.decode(chunk)
        if not self._started and text:
            self._started = True
            text = text.removeprefix(_BOM)
        if self._after_cr and text:
            # A CR ended the previous chunk; an LF here completes that CRLF.
            self._after_cr = False
            text = text.removeprefix("\n")
        return text

    def _lines(self, text: str) -> list[str]:
        pieces = _LINE_END.split(self._partial + text)
        self._partial = pieces[-1]
        lines = pieces[:-1:2]
        if len(pieces) > 1 and not self._partial:
            self._after_cr = pieces[-2] == "\r"
        return lines

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, e.g. the ": ping" heartbeat
        name, _, value = line.partition(":")
        self._field(name, value.removeprefix(" "))
        return None

    def _field(self, name: str, value: str) -> None:
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)

    def _dispatch(self) -> ServerSentEvent | None:
        data, self._data = self._data, []
        event, self._event = self._event, ""
        if not data:
            return None
        return ServerSentEvent("\n".join(data), event or "message", self.last_event_id)
