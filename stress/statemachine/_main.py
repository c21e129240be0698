"""The command line: profiles, seed, time budget, and the report."""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import hypothesis
from hypothesis import HealthCheck, Phase, given, note, settings

from ._model import Timings
from ._ops import Op
from ._replay import Report, failure_report, replay
from ._run import run_example
from ._strategies import op_lists, schedules, timings

#: profile -> (examples, real-time budget in seconds for starting new ones).
PROFILES = {"ci": (250, 30.0), "deep": (5000, 4 * 3600.0)}


class Budget:
    """Counts scripts; skips new ones once the budget is spent (unless one failed)."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.ran = 0
        self.skipped = 0
        self.failed = False
        self.stats: Counter[str] = Counter()

    def run(self, t: Timings, ops: list[Op], schedule: int) -> None:
        if not self.failed and time.monotonic() > self.deadline:
            self.skipped += 1
            return
        self.ran += 1
        try:
            self.stats.update(run_example(t, ops, note, schedule))
        except BaseException as exc:
            if not self.failed:  # shrinking can take minutes: show this one now
                report = failure_report(exc, Report(t, schedule, ops))
                print(report + "shrinking...", file=sys.stderr, flush=True)
            self.failed = True
            raise


def build_test(examples: int, budget: Budget, seed: int) -> object:
    """Return the hypothesis test for this run."""
    config = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        print_blob=False,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )

    @hypothesis.seed(seed)
    @config
    @given(t=timings, ops=op_lists, schedule=schedules)
    def statemachine(t: Timings, ops: list[Op], schedule: int) -> None:
        budget.run(t, ops, schedule)

    return statemachine


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stress statemachine")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--examples", type=int, default=None, help="override")
    parser.add_argument("--budget", type=float, default=None, help="seconds")
    parser.add_argument(
        "--replay",
        type=Path,
        default=None,
        metavar="FILE",
        help="run the failing script printed in FILE again (stderr of a failed run)",
    )
    parser.add_argument("--times", type=int, default=1, help="with --replay")
    parser.add_argument(
        "--any-schedule",
        action="store_true",
        help="with --replay: a fresh trio schedule seed for every run",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    """Run the state machine; 0 when every script matched the model, else 1.

    With ``--replay FILE``: run that report's script ``--times`` times instead
    (exit 2 if FILE is not a failure report).
    """
    args = parse(argv)
    if args.replay is not None:
        return replay(args.replay, args.times, args.any_schedule)
    examples, seconds = PROFILES[args.profile]
    seed = random.randrange(2**32) if args.seed is None else args.seed
    budget = Budget(seconds if args.budget is None else args.budget)
    test = build_test(args.examples or examples, budget, seed)
    print(f"statemachine: profile={args.profile} seed={seed}", flush=True)
    started = time.monotonic()
    try:
        test()  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001 - reported, then exit 1
        traceback.print_exception(exc, file=sys.stderr)
        print(f"FAILED after {budget.ran} scripts: {exc}", file=sys.stderr)
        print(
            f"reproduce: python -m stress statemachine --seed {seed}", file=sys.stderr
        )
        return 1
    elapsed = time.monotonic() - started
    print("  transitions exercised (all scripts):")
    for name, count in sorted(budget.stats.items()):
        print(f"  {count:8d}  {name}")
    print(
        f"statemachine: {budget.ran} scripts matched the model in {elapsed:.1f} s"
        + (f" ({budget.skipped} skipped: time budget)" if budget.skipped else "")
    )
    return 0
