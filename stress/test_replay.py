"""``--replay``: a failure report reads back into the example that failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stress.statemachine import main
from stress.statemachine._model import Timings
from stress.statemachine._ops import (
    Advance,
    Attach,
    Close,
    Create,
    Held,
    NewSession,
    Op,
    Resume,
    Slot,
)
from stress.statemachine._replay import (
    Report,
    ReportError,
    failure_report,
    parse_report,
)

SCRIPT: list[Op] = [
    Create(Slot(2, 1)),
    Attach(Held(0), websocket=True),
    NewSession(Held(0), 1, 3),
    Resume(0, -2),
    Close(0, 9),
    Advance(17),
]


def _failure() -> AssertionError:
    error = AssertionError("claims of 1234abcd: {} vs {} on Timings(x), schedule=9")
    error.add_note("failed at step 4 (Close(index=0, wait=9)); log lines:")
    error.add_note("  t=8 workspace torn down id=1234 path=/tmp/p0")
    return error


def test_a_printed_failure_reads_back_as_its_example() -> None:
    """Timings, schedule and every step survive print and parse unchanged."""
    example = Report(Timings(detach_grace=0.0, replay_window=3), 4_000_000_123, SCRIPT)
    text = failure_report(_failure(), example)
    assert (
        text.splitlines()[1]
        == "  (failed at step 4 (Close(index=0, wait=9)); log lines:)"
    )
    assert (
        parse_report("noise\n" + text + "shrinking...\n  step 0: Advance(ticks=1)\n")
        == example
    )


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("nothing here", "no 'on Timings"),
        ("x on Timings(nope=1), schedule=3, script:\n", "cannot read 'Timings"),
        (
            "x on Timings(), schedule=3, script:\n  step 0: __import__('os')\n",
            "cannot read",
        ),
    ],
)
def test_a_file_that_is_no_report_is_refused(text: str, why: str) -> None:
    """Missing header, bad fields or unknown names: a ReportError naming the text."""
    with pytest.raises(ReportError, match=why):
        parse_report(text)


def test_replay_runs_the_script_and_counts_failures(
    tmp_path: Path,
    break_detach_grace: Callable[[], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A matching script exits 0; under a broken model every run fails (exit 1)."""
    report = tmp_path / "failure.txt"
    script: list[Op] = [Create(Slot(0, 0)), Attach(Held(0)), Close(0), Advance(9)]
    report.write_text(failure_report(_failure(), Report(Timings(), 7, script)))
    assert main(["--replay", str(report), "--times", "2"]) == 0
    assert "0 of 2 runs failed" in capsys.readouterr().out

    break_detach_grace()
    assert main(["--replay", str(report), "--times", "2", "--any-schedule"]) == 1
    out, err = capsys.readouterr()
    assert "2 of 2 runs failed" in out
    assert "failed at step 3 (Advance(ticks=9))" in err
    assert main(["--replay", str(tmp_path / "missing.txt")]) == 2
