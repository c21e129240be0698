"""Read the clients' JSON-lines reports and check them against each other.

Each client checked its own streams while reading (consecutive ids, resume
continuity, its own changes delivered) and lists what failed in its summary.
Here the streams of all clients are compared: two streams of one workspace
must agree on what each event id is (no event delivered under two ids, no
id carrying two events), and every client that was not SIGKILLed must have
written its summary.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import attrs


@attrs.define
class Report:
    """What the clients' files add up to."""

    totals: Counter[str] = attrs.field(factory=Counter)
    violations: list[str] = attrs.field(factory=list)
    segments: int = 0
    events_compared: int = 0


def verify(outputs: list[Path], killed: set[Path]) -> Report:
    """Check every client's file; see the module docstring."""
    report = Report()
    seen: dict[tuple[str, int], str] = {}
    for path in outputs:
        summary = False
        for line in _lines(path):
            record = json.loads(line)
            if "summary" in record:
                summary = True
                report.totals.update(record["summary"])
                report.violations.extend(record["violations"])
            else:
                report.segments += 1
                _compare(record, seen, report)
        if not summary and path not in killed:
            report.violations.append(f"{path.name}: client exited without a summary")
    return report


def _lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    # A SIGKILLed client may have left half a line at the end.
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.endswith("}")]


def _compare(
    record: dict[str, object], seen: dict[tuple[str, int], str], report: Report
) -> None:
    ws = str(record["ws"])
    ids = record["ids"]
    kinds = record["kinds"]
    assert isinstance(ids, list)
    assert isinstance(kinds, list)
    if len(set(ids)) != len(ids):
        report.violations.append(f"ws {ws[:8]}: duplicate ids in one stream")
    for id_, kind in zip(ids, kinds, strict=True):
        if str(kind).startswith("resync"):
            continue
        other = seen.setdefault((ws, int(id_)), str(kind))
        report.events_compared += 1
        if other != kind:
            report.violations.append(
                f"ws {ws[:8]} id {id_}: one stream got {other}, another {kind}"
            )
