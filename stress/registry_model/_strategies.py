"""Hypothesis strategies: per-example timings and operation lists that shrink well.

Stream and Held name existing claims and Building a builder, so releases,
session changes, joins, second attaches and retires of live claims (and of
builders mid-build) are common enough. Creates, attaches, detaches and small
advances are common; the destructive and latch-setting operations are rare, or
most examples would end early.
"""

from __future__ import annotations

from typing import TypeVar

from hypothesis import strategies as st

from crushd.registry import CLEANUP_SECONDS, RETIRED_TTL_SECONDS

from ._harness import Building, Held, Slot, Stream
from ._ops import (
    Advance,
    Attach,
    CancelCreate,
    Close,
    Create,
    Detach,
    DetachAgain,
    FailNextBuild,
    Leave,
    Op,
    Quit,
    Reconnect,
    Release,
    RequestShutdown,
    Retire,
    SetSession,
)
from ._world import (
    CLIENT_SLOTS,
    LONG_ADVANCES,
    PATHS,
    SESSIONS,
    SHORT_ADVANCES,
    Params,
)

T = TypeVar("T")


def weighted(*table: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """Pick a strategy with the given relative weight (shrinks to the first)."""
    choices = [strategy for weight, strategy in table for _ in range(weight)]
    return st.sampled_from(choices).flatmap(lambda strategy: strategy)


paths = st.integers(0, len(PATHS) - 1)
clients = st.integers(0, CLIENT_SLOTS - 1)
rare = st.sampled_from([False] * 7 + [True])
slots = st.builds(Slot, paths, clients, rare)
builders = st.builds(Building, st.integers(0, 3))
streams = st.builds(Stream, st.integers(0, 7))
held = st.builds(Held, st.integers(0, 7))
who = weighted((4, slots), (1, builders), (1, streams), (2, held))
claim = weighted((2, slots), (1, builders), (3, streams), (4, held))

# The rare operations sit in the middle: hypothesis favours a choice's two ends.
operations: st.SearchStrategy[Op] = weighted(
    (40, st.builds(Create, who, rare)),
    (32, st.builds(Attach, claim)),
    (12, st.builds(Release, claim)),
    (8, st.builds(Retire, claim)),
    (1, st.builds(RequestShutdown)),
    (1, st.builds(Close)),
    (6, st.builds(Advance, st.sampled_from(LONG_ADVANCES))),
    (1, st.builds(Advance, st.just(RETIRED_TTL_SECONDS))),
    (4, st.builds(FailNextBuild, paths)),
    (4, st.builds(CancelCreate, st.integers(0, 3))),
    (12, st.builds(SetSession, claim, st.sampled_from(SESSIONS))),
    (6, st.builds(DetachAgain, st.integers(0, 7))),
    (6, st.builds(Leave, st.integers(0, 7))),
    (8, st.builds(Reconnect, st.integers(0, 7))),
    (3, st.builds(Quit, st.integers(0, 7))),
    (24, st.builds(Detach, st.integers(0, 7))),
    (26, st.builds(Advance, st.sampled_from(SHORT_ADVANCES))),
)

timings = st.builds(
    Params,
    build_delay=st.sampled_from([0.0, 0.5, 1.5]),
    aclose_delay=st.sampled_from([0.0, 2.0, 4.0, CLEANUP_SECONDS + 2.0]),
    detach_grace=st.sampled_from([3.0, 0.5, 0.0]),
)

# Draw the length first, uniformly: plain ``st.lists`` averages about five
# operations, and ``st.integers`` favours small values too.
op_lists = st.sampled_from(range(41)).flatmap(
    lambda n: st.lists(operations, min_size=n, max_size=n)
)
