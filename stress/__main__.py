"""``python -m stress <command> ...``: the stress suite's front door.

Commands (each lives in its own subpackage exposing ``main(argv) -> int``):

- ``statemachine``: the HTTP-level model-checked state machine against a real
  daemon (``--profile ci`` in CI, ``--profile deep`` by hand).
- ``soak``: the multi-process chaos soak (``--minutes N --clients K``).
- ``bench``: the benchmarks (``--json FILE``); numbers depend on the machine,
  so CI never runs them.

Run from the repository root after the README's set-up, e.g.
``.venv/bin/python -m stress statemachine --profile ci``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

#: command name -> module holding its ``main(argv) -> int``.
COMMANDS = {
    "statemachine": "stress.statemachine",
    "soak": "stress.soak",
    "bench": "stress.bench",
}

USAGE = "usage: python -m stress {statemachine,soak,bench} [options] (-h for help)"


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``argv[0]`` to its command; return the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        print(USAGE, file=sys.stderr)
        return 0 if args[:1] in (["-h"], ["--help"]) else 2
    command = importlib.import_module(COMMANDS[args[0]])
    status: int = command.main(args[1:])
    return status


if __name__ == "__main__":
    sys.exit(main())
