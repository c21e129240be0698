"""``--replay FILE``: run a printed failing script again, as often as asked.

A run that fails prints ``first failure (...) on Timings(...), schedule=N,
script:`` and one ``step n: Op(...)`` line per operation (``_main.Budget``).
Saved to a file, that report is read back here and run ``--times`` times,
with the same schedule seed or a fresh one each time (``--any-schedule``), to
tell a deterministic failure from a rare one and to count how rare.
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

import attrs

from . import _ops
from ._model import Timings
from ._ops import Op
from ._run import run_example

_HEADER = re.compile(r"on (Timings\([^)]*\)), schedule=(\d+), script:")
_STEP = re.compile(r"^\s*step (\d+): (.+?)\s*$")
#: The names a report's reprs use; nothing else is visible to ``eval``.
_NAMES: dict[str, object] = {
    **{name: getattr(_ops, name) for name in _ops.__all__},  # Held, Slot too
    "Timings": Timings,
}


@attrs.frozen
class Report:
    """A failing example as printed: timings, schedule seed, the script."""

    timings: Timings
    schedule: int
    ops: list[Op]


class ReportError(ValueError):
    """The file is not a statemachine failure report (message says why)."""


def _value(text: str) -> object:
    try:
        # A report is a local file its user wrote; only the names above resolve.
        return eval(text, {"__builtins__": {}}, _NAMES)
    except Exception as exc:  # noqa: BLE001 - any bad text is a ReportError
        raise ReportError(f"cannot read {text!r}: {exc}") from None


def failure_report(exc: BaseException, example: Report) -> str:
    """The text a failed run prints (and ``parse_report`` reads back).

    One header line with the error, timings and schedule, the error's notes
    (failing step, the daemon's last log lines), then ``step n: <repr>`` lines.
    """
    t, schedule = example.timings, example.schedule
    lines = [f"first failure ({exc!r}) on {t!r}, schedule={schedule}, script:"]
    lines += [f"  ({note})" for note in getattr(exc, "__notes__", [])]
    lines += [f"  step {n}: {op!r}" for n, op in enumerate(example.ops)]
    return "\n".join(lines) + "\n"


def parse_report(text: str) -> Report:
    """Read the first failure's timings, schedule and steps from ``text``.

    Raises:
        ReportError: no ``on Timings(...), schedule=N, script:`` header, or a
            step that does not parse.
    """
    header = _HEADER.search(text)
    if header is None:
        raise ReportError("no 'on Timings(...), schedule=N, script:' line")
    timings = _value(header.group(1))
    assert isinstance(timings, Timings)
    steps: dict[int, Op] = {}
    for line in text[header.end() :].splitlines():
        step = _STEP.match(line)
        if step is not None and int(step.group(1)) not in steps:
            steps[int(step.group(1))] = _value(step.group(2))  # type: ignore[assignment]
    ops = [steps[n] for n in sorted(steps)]
    return Report(timings, int(header.group(2)), ops)


def replay(path: Path, times: int, any_schedule: bool) -> int:
    """Run the report at ``path`` ``times`` times; 0 if every run matched the model.

    Prints each failing run (its schedule, error and notes) and a count;
    returns 1 if any run failed, 2 if the file cannot be read as a report.
    """
    try:
        report = parse_report(path.read_text())
    except (OSError, ReportError) as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    failures = 0
    for run in range(times):
        schedule = random.randrange(2**32) if any_schedule else report.schedule
        try:
            run_example(report.timings, report.ops, lambda _: None, schedule)
        except Exception as exc:  # noqa: BLE001 - any error is a failed run, reported
            failures += 1
            print(f"run {run}: schedule={schedule} FAILED: {exc}", file=sys.stderr)
            for note in getattr(exc, "__notes__", []):
                print(f"  ({note})", file=sys.stderr)
    print(f"replay: {len(report.ops)} steps, {failures} of {times} runs failed")
    return 1 if failures else 0
