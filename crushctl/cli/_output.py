"""Plain-text and JSON output helpers: tidy columns, local times, notices."""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Sequence

from crushd.proto import converter

from ._rich import is_terminal, print_rich_table

_COLUMN_GAP = "  "


def plain(value: object) -> object:
    """Return a wire model (or a list of them) as plain JSON data."""
    return converter.unstructure(value)


def print_json(value: object) -> None:
    """Print one indented JSON document of ``value`` (models are unstructured)."""
    print(json.dumps(plain(value), indent=2, ensure_ascii=False))


def print_json_line(value: object) -> None:
    """Print ``value`` as one compact JSON line and flush (for live output)."""
    print(json.dumps(plain(value), separators=(",", ":"), ensure_ascii=False))
    sys.stdout.flush()


def notice(text: str) -> None:
    """Print ``crushctl: <text>`` on stderr."""
    print(f"crushctl: {text}", file=sys.stderr, flush=True)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Return left-aligned columns, two spaces apart, headers first."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [
            max(width, len(cell)) for width, cell in zip(widths, row, strict=True)
        ]
    return [_format_row(row, widths) for row in [headers, *rows]]


def _format_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
    return _COLUMN_GAP.join(padded).rstrip()


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, indent: str = ""
) -> None:
    """Print ``format_table(headers, rows)``, each line prefixed by ``indent``.

    On a terminal the table is drawn by rich instead (``print_rich_table``);
    piped output stays plain columns.
    """
    if is_terminal(sys.stdout):
        print_rich_table(headers, rows, indent=indent)
        return
    for line in format_table(headers, rows):
        print(f"{indent}{line}")


def print_pairs(pairs: Sequence[tuple[str, str]]) -> None:
    """Print ``key  value`` lines with the values aligned."""
    width = max((len(key) for key, _ in pairs), default=0)
    for key, value in pairs:
        print(f"{key.ljust(width)}  {value}".rstrip())


def format_time(seconds: float) -> str:
    """Return Unix ``seconds`` as local ``YYYY-MM-DD HH:MM:SS``; ``-`` for 0."""
    if not seconds:
        return "-"
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
