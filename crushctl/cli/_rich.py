"""Terminal niceties with ``rich``: tables and a spinner, only on a terminal.

``rich`` is imported on first use, never at start-up (``crushctl --help`` and
every piped command stay as fast as before). Output that is not a terminal
keeps crushctl's plain text, byte for byte, so scripts and ``--json`` see no
change. ``NO_COLOR`` (any non-empty value) turns every style off; rich also
drops colours for ``TERM=dumb``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def console(stream: TextIO) -> Console:
    """Return a rich console writing to ``stream`` (imports rich)."""
    from rich.console import Console  # lazy: start-up speed

    plain = bool(os.environ.get("NO_COLOR"))  # no colour, and no bold either
    return Console(
        file=stream,
        highlight=False,
        soft_wrap=True,
        color_system=None if plain else "auto",
    )


def print_rich_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    indent: str = "",
    stream: TextIO | None = None,
) -> None:
    """Print ``rows`` under ``headers`` as a rich table (bold headers, no box).

    Args:
        headers: the column titles.
        rows: the cells, already text; never interpreted as rich markup.
        indent: left padding, in characters, as its text.
        stream: where to print; ``None`` means ``sys.stdout``.
    """
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))  # never markup
    out = console(stream or sys.stdout)
    out.print(Padding(table, (0, 0, 0, len(indent))))


@contextlib.contextmanager
def spinner(text: str, stream: TextIO | None = None) -> Iterator[None]:
    """Show a spinner with ``text`` on ``stream`` (stderr) while the block runs.

    Nothing is shown (and rich is not imported) when the stream is not a
    terminal. The spinner line is removed when the block ends, however it ends.
    """
    stream = stream or sys.stderr
    if not is_terminal(stream):
        yield
        return
    with console(stream).status(text, spinner="dots"):
        yield
