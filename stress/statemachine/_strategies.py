"""Hypothesis strategies: timings and operation lists that shrink well.

Operations are drawn from a weighted table (common: creates, attaches,
closes, session changes, short advances; rare: restarts and shutdowns, or
most scripts would end early). The script length is drawn first, uniformly,
so long scripts are as common as short ones.
"""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

from ._model import TICK, Timings
from ._ops import (
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
    RestartMidCreate,
    Resume,
    Retire,
    SetSession,
    ShutdownIfIdle,
    Slot,
)

T = TypeVar("T")

MAX_OPS = 30


def weighted(*table: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Pick a strategy with the given relative weight (shrinks to the first)."""
    choices = [strategy for weight, strategy in table for _ in range(weight)]
    return st.sampled_from(choices).flatmap(lambda strategy: strategy)


slots = st.builds(Slot, st.integers(0, 3), st.integers(0, 2))
held = st.builds(Held, st.integers(0, 7))
who = weighted((2, slots), (3, held))
small = st.integers(0, 7)
sessions = st.integers(-1, 3)
# Tick counts around the graces (create 16, detach 8, idle 32 ticks).
ticks = st.sampled_from([1, 4, 7, 8, 9, 16, 17, 33, 40])

operations: st.SearchStrategy[Op] = weighted(
    (12, st.builds(Create, slots)),
    (10, st.builds(Attach, who, st.sampled_from([False, False, True]))),
    (6, st.builds(Release, who)),
    (3, st.builds(Retire, who)),
    (1, st.builds(Restart)),
    (1, st.builds(RestartMidCreate, slots)),
    (1, st.builds(ShutdownIfIdle)),
    (3, st.builds(CreatePair, slots, slots)),
    (3, st.builds(Rejoin, slots)),
    (5, st.builds(Resume, small, st.integers(-2, 8))),
    (6, st.builds(SetSession, who, sessions)),
    (8, st.builds(NewSession, who, st.integers(0, 2), st.sampled_from([1, 3]))),
    (4, st.builds(Rename, who, sessions, st.integers(0, 2))),
    (3, st.builds(Drop, who, sessions)),
    (12, st.builds(Close, small, st.sampled_from([0, 0, 9]))),
    (14, st.builds(Advance, ticks)),
)

op_lists = st.sampled_from(range(MAX_OPS + 1)).flatmap(
    lambda n: st.lists(operations, min_size=n, max_size=n)
)

timings = st.builds(
    Timings,
    detach_grace=st.sampled_from([8 * TICK, 8 * TICK, 8 * TICK, 0.0]),
    replay_window=st.sampled_from([3, 4096]),
)

#: Seeds of trio's order among ready tasks (``_run.seed_scheduler``).
schedules = st.integers(0, 2**32 - 1)
