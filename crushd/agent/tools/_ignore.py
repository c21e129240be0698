"""Which files the listing and search tools leave out.

Hidden names, the usual build and dependency folders, and the patterns of
each folder's ``.gitignore`` and ``.crushignore`` (a simple reading of the
gitignore rules: ``!`` negation, a trailing ``/`` for folders only, a leading
or inner ``/`` anchoring to the file's folder, ``*``, ``?``, ``[...]`` and
``**``). Source: Crush ``internal/fsext/ls.go`` and ``fileutil.go``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import attrs

#: Folder names never listed or searched (dependency stores, caches, builds).
SKIPPED_DIRS = frozenset(
    {
        "node_modules",
        "__pycache__",
        "vendor",
        "target",
        "build",
        "dist",
        "out",
        "bin",
        "obj",
        "coverage",
        "bower_components",
        "jspm_packages",
        "OrbStack",
    }
)

#: File patterns left out unless an ignore file re-includes them with ``!``.
COMMON_FILE_PATTERNS = (
    "*.swp",
    "*.swo",
    "*~",
    "Thumbs.db",
    "*.o",
    "*.so",
    "*.dylib",
    "*.dll",
    "*.exe",
    "*.pyc",
    "*.pyo",
    "*.log",
    "*.tmp",
    "*.temp",
)

#: The ignore files read in every folder, in this order.
IGNORE_FILES = (".gitignore", ".crushignore")


@attrs.frozen
class Rule:
    """One ignore pattern: its compiled form and how it applies."""

    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def parse_rules(lines: Iterable[str]) -> list[Rule]:
    """Compile gitignore-style ``lines`` (comments and blanks skipped)."""
    rules = []
    for raw in lines:
        line = raw.rstrip("\r\n").rstrip(" ")
        if line and not line.startswith("#"):
            rule = _parse_rule(line)
            if rule is not None:
                rules.append(rule)
    return rules


def _parse_rule(line: str) -> Rule | None:
    negate = line.startswith("!")
    line = line.removeprefix("!").removeprefix("\\")
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    line = line.lstrip("/")
    if not line:
        return None
    prefix = "" if anchored else "(?:.*/)?"
    try:
        regex = re.compile(f"^{prefix}{translate_glob(line)}$", re.DOTALL)
    except re.error:
        return None
    return Rule(regex=regex, negate=negate, dir_only=dir_only)


def translate_glob(glob: str) -> str:
    """Return the regex text for a gitignore-style glob (no anchors added)."""
    out, i = [], 0
    while i < len(glob):
        i, piece = _translate_at(glob, i)
        out.append(piece)
    return "".join(out)


def _translate_at(glob: str, i: int) -> tuple[int, str]:
    if glob.startswith("**/", i):
        return i + 3, "(?:.*/)?"
    if glob.startswith("**", i):
        return i + 2, ".*"
    char = glob[i]
    if char == "*":
        return i + 1, "[^/]*"
    if char == "?":
        return i + 1, "[^/]"
    if char == "[":
        end = glob.find("]", i + 2)
        if end > 0:
            body = glob[i + 1 : end].replace("\\", "\\\\")
            body = "^" + body[1:] if body.startswith("!") else body
            return end + 1, f"[{body}]"
    return i + 1, re.escape(char)


class IgnoreRules:
    """The ignore rules of one tree, read folder by folder and cached.

    Blocking (reads ignore files): use it from a worker thread.
    """

    def __init__(self, root: Path, *, extra_globs: Iterable[str] = ()) -> None:
        self._root = root
        self._common = parse_rules(COMMON_FILE_PATTERNS)
        self._extra = [_name_regex(glob) for glob in extra_globs]
        self._by_dir: dict[Path, list[Rule]] = {}
        self._dir_excluded: dict[Path, bool] = {self._root: False}

    def skipped(self, path: Path, *, is_dir: bool) -> bool:
        """Return True when ``path`` (below the root) is left out."""
        name = path.name
        if name.startswith(".") or (is_dir and name in SKIPPED_DIRS):
            return True
        if any(regex.match(name) for regex in self._extra):
            return True
        return self._ignored(path, is_dir=is_dir)

    def excluded(self, path: Path) -> bool:
        """Return True when the file ``path`` or a folder above it is skipped.

        For paths another program found (``rg``): its ``--glob`` overrides
        ignore files, so its results are checked again here.
        """
        if not path.is_relative_to(self._root) or path == self._root:
            return False
        return self._folder_excluded(path.parent) or self.skipped(path, is_dir=False)

    def _folder_excluded(self, folder: Path) -> bool:
        if folder not in self._dir_excluded:
            self._dir_excluded[folder] = self._folder_excluded(
                folder.parent
            ) or self.skipped(folder, is_dir=True)
        return self._dir_excluded[folder]

    def _ignored(self, path: Path, *, is_dir: bool) -> bool:
        parts = path.relative_to(self._root).parts
        verdict = _verdict(self._common, "/".join(parts), is_dir=is_dir)
        folder = self._root
        for depth, part in enumerate(parts):
            rel = "/".join(parts[depth:])
            verdict = _verdict(self._rules(folder), rel, is_dir=is_dir, start=verdict)
            folder /= part
        return verdict

    def _rules(self, folder: Path) -> list[Rule]:
        if folder not in self._by_dir:
            self._by_dir[folder] = [
                rule for name in IGNORE_FILES for rule in _read_rules(folder / name)
            ]
        return self._by_dir[folder]


def _name_regex(glob: str) -> re.Pattern[str]:
    return re.compile(f"^{translate_glob(glob)}$", re.DOTALL)


def _verdict(rules: list[Rule], rel: str, *, is_dir: bool, start: bool = False) -> bool:
    verdict = start
    for rule in rules:
        if (is_dir or not rule.dir_only) and rule.regex.match(rel):
            verdict = not rule.negate
    return verdict


def _read_rules(path: Path) -> list[Rule]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_rules(text.splitlines())
