"""HTML for ``fetch``: the body's text, the body itself, or markdown.

Source: Crush ``internal/agent/tools/fetch.go`` (``extractTextFromHTML``:
the body's text with whitespace runs collapsed; the ``html`` format keeps the
``<body>`` only; ``convertHTMLToMarkdown``). Upstream uses goquery and the Go
html-to-markdown; crushd uses the standard library's ``html.parser`` and the
``html-to-markdown`` package (docs/agent.md 2.3 and 5.2). Differences: the
text leaves out ``<script>``, ``<style>`` and ``<template>`` contents (goquery
keeps them) and puts a space between block elements (goquery runs their words
together); markdown leaves out the document's metadata.

All functions are pure and CPU-bound: call them from a worker thread for
large pages.
"""

from __future__ import annotations

from html.parser import HTMLParser

#: Elements whose text is code or markup, not page text.
_NO_TEXT = frozenset({"script", "style", "template", "noscript", "head", "title"})
#: Elements a browser lays out apart: their edges separate words.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl"),
        *("dt", "figcaption", "figure", "footer", "form", "header", "hr", "li"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "main", "nav", "ol", "p", "pre"),
        *("section", "table", "td", "th", "tr", "ul"),
    }
)


def html_text(html: str) -> str:
    """Return the text of the page's body, whitespace runs collapsed to a space.

    Without a ``<body>`` tag the whole document counts as the body.
    """
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    chunks = parser.body_chunks if parser.saw_body else parser.all_chunks
    return " ".join("".join(chunks).split())


def html_body(html: str) -> str:
    """Return the markup between ``<body ...>`` and ``</body>``, as written.

    Without a ``<body>`` tag, what follows ``</head>`` (or the ``<html>``
    tag) up to ``</html>`` or the end. ``""`` when there is nothing.
    """
    parser = _BodyParser(html)
    parser.feed(html)
    parser.close()
    end = parser.end if parser.end is not None else len(html)
    return html[parser.start : max(parser.start, end)].strip()


def html_markdown(html: str) -> str:
    """Return ``html`` converted to markdown (tables, code blocks, links kept).

    Raises:
        ValueError: the converter refused the document.
    """
    import html_to_markdown  # loaded only when a page is converted

    options = html_to_markdown.ConversionOptions(extract_metadata=False)
    try:
        result = html_to_markdown.convert(html, options)
    except html_to_markdown.ConversionError as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    return (result.content or "").strip()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.all_chunks: list[str] = []
        self.body_chunks: list[str] = []
        self.saw_body = False
        self._in_body = False
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.saw_body = self._in_body = True
            self._hidden = 0  # an unclosed <head> ends where the body starts
        elif tag in _NO_TEXT:
            self._hidden += 1
        self._separate(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "body":
            self._in_body = False
        elif tag in _NO_TEXT and self._hidden:
            self._hidden -= 1
        self._separate(tag)

    def _separate(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.handle_data(" ")

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.all_chunks.append(data)
        if self._in_body:
            self.body_chunks.append(data)


class _BodyParser(HTMLParser):
    """Finds where the body's markup starts and ends in the original text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self._html = html
        self._line_starts = [0]
        for index, char in enumerate(html):
            if char == "\n":
                self._line_starts.append(index + 1)
        self.start = 0
        self.end: int | None = None
        self._body_seen = False

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and not self._body_seen:
            self._body_seen = True
            self.start = self._offset() + len(self.get_starttag_text() or "")
            self.end = None
        elif tag == "html" and not self._body_seen:
            self.start = self._offset() + len(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head" and not self._body_seen:
            self.start = self._html.find(">", self._offset()) + 1
        elif tag in {"body", "html"} and self.end is None:
            self.end = self._offset()
