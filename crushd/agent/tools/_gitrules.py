"""Which ``git`` invocations only read (the bash tool skips the prompt for them).

Upstream accepts any command starting with ``git status``, ``git log``,
``git branch``, ``git tag``... (Crush ``internal/agent/tools/safe.go``), so
``git branch -D main``, ``git tag -d v1`` or ``git diff --output=f`` ran
without asking. crushd looks at the flags and words as well
(docs/agent.md 1.17).
"""

from __future__ import annotations

from collections.abc import Sequence

#: Sub-commands that only read, whatever their words (flags still checked).
_READING = frozenset({
    "blame", "describe", "diff", "grep", "log", "ls-files", "ls-remote",
    "rev-parse", "shortlog", "show", "status",
})  # fmt: skip

#: Flags that write a file or run a program, on any sub-command.
_ALWAYS_WRITING = frozenset({"--output", "-O", "--open-files-in-pager", "--ext-diff"})

#: Flags that turn ``git branch`` into a change (``-a`` lists all branches).
_BRANCH_CHANGING = frozenset({
    "-d", "-D", "-m", "-M", "-c", "-C", "-f", "-u", "--delete", "--move",
    "--copy", "--force", "--set-upstream-to", "--unset-upstream",
    "--edit-description", "--track", "--no-track", "--create-reflog",
})  # fmt: skip

#: Flags that turn ``git tag`` into a change (``-a`` annotates a new tag).
_TAG_CHANGING = frozenset({
    "-a", "-s", "-u", "-f", "-d", "-e", "-m", "-F", "--annotate", "--sign",
    "--local-user", "--force", "--delete", "--edit", "--message", "--file",
    "--create-reflog",
})  # fmt: skip

#: Flags with which ``git branch`` / ``git tag`` words are patterns or commits.
_LISTING = frozenset({
    "-l", "--list", "--contains", "--no-contains", "--merged", "--no-merged",
    "--points-at", "-n",
})  # fmt: skip

#: Global options (before the sub-command) that are harmless; ``-c`` is not
#: (``-c core.fsmonitor=CMD`` runs a program).
_GLOBAL_FLAGS = frozenset({"--no-pager", "-P", "--no-optional-locks", "--bare"})


def is_read_only_git(args: Sequence[str]) -> bool:
    """Return True when ``git ARGS`` only reads the repository.

    Args:
        args: the words after ``git``.
    """
    rest = _skip_globals(list(args))
    if rest is None or not rest:
        return False
    sub, words = rest[0], rest[1:]
    if any(_flag(w) in _ALWAYS_WRITING for w in words):
        return False
    if sub in _READING:
        return True
    if sub == "branch":
        return _listing_only(words, _BRANCH_CHANGING)
    if sub == "tag":
        return _listing_only(words, _TAG_CHANGING)
    if sub == "remote":
        positional = [w for w in words if not w.startswith("-")]
        return not positional or positional[0] in {"show", "get-url"}
    if sub == "config":
        reads = {"--get", "--get-all", "--get-regexp", "--list", "-l"}
        return any(w in reads for w in words)
    return False


def _skip_globals(args: list[str]) -> list[str] | None:
    """Drop harmless global options; None when an unknown one is present."""
    while args and args[0].startswith("-"):
        if args[0] == "-C" and len(args) > 1:
            args = args[2:]
        elif args[0] in _GLOBAL_FLAGS:
            args = args[1:]
        else:
            return None
    return args


def _listing_only(words: Sequence[str], changing: frozenset[str]) -> bool:
    flags = {_flag(w) for w in words if w.startswith("-")}
    if flags & changing:
        return False
    positional = [w for w in words if not w.startswith("-")]
    return not positional or bool(flags & _LISTING)


def _flag(word: str) -> str:
    """Return a flag's name without an attached value (``--output=f``)."""
    return word.split("=", 1)[0]
