"""Finding the lines that match a regex, with ``rg --json`` or in Python.

Both ways report the first match of each matching line (1-based line number,
1-based character column, the line without surrounding whitespace) and skip
hidden, ignored and binary files and symlinks. Source: Crush
``internal/agent/tools/grep.go`` ``searchWithRipgrep`` and
``searchFilesWithRegex``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import attrs
import trio

from . import _rg
from ._ignore import IgnoreRules
from ._input import InputError
from ._search import kept, rg_ignore_args
from ._walk import glob_regex, walk

#: Matches gathered before sorting; more only marks the result cut.
MAX_GATHERED_MATCHES = 1000
# A file whose first bytes hold a NUL byte is taken as binary (as rg does).
_BINARY_SNIFF_BYTES = 8192
# Larger files are left to rg; the fallback would hold long lines whole.
_MAX_FILE_BYTES = 64 * 1024 * 1024


@attrs.frozen
class LineMatch:
    """One matching line: its file, 1-based line and column, and its text."""

    path: Path
    line: int
    column: int
    text: str


@attrs.frozen
class Found:
    """The matches of one search (unsorted); ``cut`` if some were dropped."""

    matches: list[LineMatch]
    cut: bool


async def search_rg(
    rg: str,
    root: Path,
    folder: Path,
    pattern: str,
    include: str,
    *,
    literal: bool,
    single_file: bool = False,
) -> Found:
    """Search ``folder`` (one file when ``single_file``) with ``rg --json``.

    Raises:
        InputError: ``rg`` failed (a bad regex or glob); the message is its own.
        OSError: ``rg`` could not be started.
    """
    args = ["--json", "--with-filename", "--line-number", *rg_ignore_args(root)]
    if literal:
        args.append("--fixed-strings")
    if include:
        args += ["--glob", include]
    args += ["--regexp", pattern, "--", str(folder)]
    output = await _rg.run_rg(rg, args, cwd=folder.parent if single_file else folder)
    if output.returncode not in {0, 1} and not output.stdout:
        raise InputError(f"error searching files: {output.stderr.strip()}")
    matches = list(_parse_json_lines(output.stdout))
    if not single_file:  # a file named on purpose is searched even if ignored
        found = {m.path for m in matches}
        allowed = set(await trio.to_thread.run_sync(kept, root, found))
        matches = [m for m in matches if m.path in allowed]
    cut = output.truncated or len(matches) > MAX_GATHERED_MATCHES
    return Found(matches[:MAX_GATHERED_MATCHES], cut)


def _parse_json_lines(stdout: bytes) -> Iterator[LineMatch]:
    for raw in stdout.splitlines():
        try:
            event = json.loads(raw)
        except ValueError:
            continue  # the last line of a cut output
        if isinstance(event, dict) and event.get("type") == "match":
            data = event.get("data")
            match = _match_of(data) if isinstance(data, dict) else None
            if match is not None:
                yield match


def _match_of(data: dict[str, object]) -> LineMatch | None:
    path = _text_of(data.get("path"))
    line = _text_of(data.get("lines"))
    submatches = data.get("submatches")
    if path is None or line is None or not isinstance(submatches, list):
        return None  # a name or line that is not UTF-8: rg sends bytes
    column = _column(line, submatches[0] if submatches else None)
    number = data.get("line_number")
    return LineMatch(Path(path), number if isinstance(number, int) else 0, column, line)


def _column(line: str, submatch: object) -> int:
    """Return the 1-based character column of a byte offset ``rg`` gave."""
    start = submatch.get("start") if isinstance(submatch, dict) else 0
    start = start if isinstance(start, int) else 0
    return len(line.encode()[:start].decode("utf-8", "replace")) + 1


def _text_of(value: object) -> str | None:
    text = value.get("text") if isinstance(value, dict) else None
    return text if isinstance(text, str) else None


def search_python(
    root: Path,
    folder: Path,
    pattern: str,
    include: str,
    *,
    literal: bool,
    should_stop: Callable[[], bool],
) -> Found:
    """Search ``folder`` by walking it in Python (when ``rg`` is missing).

    Blocking: run it with ``run_stoppable``.

    Raises:
        InputError: the regex or the include pattern is invalid.
    """
    regex = _compile(re.escape(pattern) if literal else pattern, "regex pattern")
    wanted = _compile_glob(include) if include else None
    if folder.is_file():
        return Found(_file_matches(folder, regex)[:MAX_GATHERED_MATCHES], cut=False)
    matches: list[LineMatch] = []
    for entry in walk(folder, IgnoreRules(root), should_stop=should_stop):
        if not entry.is_file:
            continue
        if wanted and not wanted.match(entry.path.relative_to(folder).as_posix()):
            continue
        matches += _file_matches(entry.path, regex)
        if len(matches) > MAX_GATHERED_MATCHES:
            return Found(matches[:MAX_GATHERED_MATCHES], cut=True)
    return Found(matches, cut=False)


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InputError(f"error searching files: invalid {what}: {exc}") from None


def _compile_glob(include: str) -> re.Pattern[str]:
    try:
        return glob_regex(include, anchored=False)
    except re.error as exc:
        raise InputError(f"error searching files: invalid include: {exc}") from None


def _file_matches(path: Path, regex: re.Pattern[str]) -> list[LineMatch]:
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return []
        with path.open("rb") as file:
            if b"\0" in file.read(_BINARY_SNIFF_BYTES):
                return []
            file.seek(0)
            return _lines_matching(path, file, regex)
    except OSError:
        return []


def _lines_matching(
    path: Path, lines: Iterable[bytes], regex: re.Pattern[str]
) -> list[LineMatch]:
    matches = []
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r")
        found = regex.search(text)
        if found is not None:
            matches.append(LineMatch(path, number, found.start() + 1, text))
    return matches
