"""The script the scripted model server follows, shared with the benchmark's readers.

Kept apart from ``_scripted_llm`` so the driver and the watchers never import
the server module (it runs as ``python -m stress.bench._scripted_llm``).
"""

from __future__ import annotations

import re

#: The prompt marker: ``bench-run <tag> <deltas> <rate>``.
MARKER = re.compile(rb"bench-run ([A-Za-z0-9_-]+) (\d+) ([0-9.]+)")
#: Characters per delta (``delta_text``).
DELTA_CHARS = 6
#: The title the title job gets.
TITLE = "Bench"


def delta_text(k: int) -> str:
    """Delta ``k`` of every answer: ``DELTA_CHARS`` characters, no escapes."""
    return f"{k:05d},"


def full_answer(deltas: int) -> str:
    """The whole text of an answer of ``deltas`` deltas."""
    return "".join(delta_text(k) for k in range(deltas))


def prompt_for(tag: str, deltas: int, rate: float) -> str:
    """A prompt asking the scripted server for ``deltas`` deltas, ``rate``/s."""
    return f"Answer as scripted: bench-run {tag} {deltas} {rate:g}"
