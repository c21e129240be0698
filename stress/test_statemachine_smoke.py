"""Fast checks of the HTTP state machine and the soak's verifier (seconds, not minutes).

The full runs are ``python -m stress statemachine`` and ``python -m stress
soak`` (CI calls both); these tests only prove that the harnesses run and that
their checks can fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from stress.soak._verify import verify
from stress.statemachine._model import Timings
from stress.statemachine._ops import (
    Advance,
    Attach,
    Close,
    Create,
    CreatePair,
    Drop,
    Held,
    NewSession,
    Op,
    Rejoin,
    Release,
    Rename,
    Restart,
    Resume,
    Retire,
    SetSession,
    ShutdownIfIdle,
    Slot,
)
from stress.statemachine._run import run_example

#: One script touching every operation (and every grace, a resync, a restart).
TOUR: list[Op] = [
    Create(Slot(0, 0)),
    Attach(Held(0)),
    NewSession(Held(0), 0, 3),
    Create(Slot(3, 1)),
    Attach(Slot(3, 1), websocket=True),
    SetSession(Held(1), 0),
    Rename(Held(0), 1, 2),
    Resume(0, 5),
    Resume(1, -2),
    Drop(Held(0), 0),
    CreatePair(Slot(1, 0), Slot(2, 2)),
    Rejoin(Slot(2, 2)),
    Close(0, 9),
    Release(Held(1)),
    Retire(Held(0)),
    Advance(17),
    Restart(),
    Create(Slot(1, 2)),
    Advance(40),
    ShutdownIfIdle(),
    Create(Slot(2, 1)),
]


def test_tour_script_matches_the_model() -> None:
    """A script using every operation leaves daemon and model in agreement."""
    stats = run_example(Timings(replay_window=3), TOUR, note=lambda _: None)
    for transition in ("create grace expired", "detach grace expired", "resync"):
        assert stats[transition] >= 1, transition


def test_a_detach_grace_one_tick_late_is_caught(
    break_detach_grace: Callable[[], None],
) -> None:
    """A model whose detach grace ends one tick late disagrees with the daemon."""
    break_detach_grace()
    script: list[Op] = [Create(Slot(0, 0)), Attach(Held(0)), Close(0), Advance(9)]
    with pytest.raises(AssertionError, match=r"claims of|workspaces") as failure:
        run_example(Timings(), script, note=lambda _: None)
    notes = failure.value.__notes__
    assert notes[0].startswith("failed at step 3 (Advance(ticks=9))")
    # The report ends with the daemon's own lines, stamped in ticks.
    assert any(n.strip().startswith("t=0 workspace created") for n in notes)
    assert "t=16 workspace torn down" not in "".join(notes)


def _write(path: Path, *records: Mapping[str, object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


SUMMARY: Mapping[str, object] = {"summary": {"events": 2}, "violations": []}


def test_verify_accepts_agreeing_streams(tmp_path: Path) -> None:
    """Two streams that saw the same ids with the same events pass."""
    seg = {"ws": "w", "resume": None, "ids": [1, 2], "kinds": ["a", "b"]}
    files = [_write(tmp_path / f"{n}.jsonl", seg, SUMMARY) for n in range(2)]
    report = verify(files, set())
    assert (report.violations, report.events_compared) == ([], 4)


def test_verify_flags_mixed_up_ids_and_missing_summaries(tmp_path: Path) -> None:
    """An id carrying two events, a duplicate id and a lost summary are violations."""
    one = _write(
        tmp_path / "1.jsonl",
        {"ws": "w", "resume": None, "ids": [1, 1], "kinds": ["a", "a"]},
        SUMMARY,
    )
    two = _write(
        tmp_path / "2.jsonl", {"ws": "w", "resume": 0, "ids": [1], "kinds": ["b"]}
    )
    killed = _write(
        tmp_path / "3.jsonl", {"ws": "w", "resume": 0, "ids": [], "kinds": []}
    )
    report = verify([one, two, killed], {killed})
    text = "\n".join(report.violations)
    assert "duplicate ids" in text
    assert "one stream got a, another b" in text
    assert "2.jsonl: client exited without a summary" in text
    assert "3.jsonl" not in text
