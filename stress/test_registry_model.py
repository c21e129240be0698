"""The registry against the pure claim model, under random operation lists.

The machine lives in ``stress.registry_model`` (its docstring describes the
operations, the fakes and the invariants); the claim rules it shares with the
HTTP-level machine are ``stress.model``'s.

Profiles (stress/conftest.py): ``CRUSHD_HYPOTHESIS_PROFILE=ci`` (default, 200
examples) or ``soak`` (5000 examples).
"""

from __future__ import annotations

import os

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, event, given, settings

from stress.model import ClaimedWorkspace, ClaimModel
from stress.registry_model import (
    ROOT,
    Advance,
    Attach,
    Create,
    Detach,
    Held,
    Op,
    Params,
    Slot,
    op_lists,
    replay,
    timings,
)

PROFILE = settings.get_profile(os.environ.get("CRUSHD_HYPOTHESIS_PROFILE", "ci"))


def run(params: Params, ops: list[Op]) -> None:
    assert not os.path.exists(ROOT)
    clock = trio.testing.MockClock(autojump_threshold=0)
    trio.run(replay, params, ops, clock=clock)


@settings(PROFILE, suppress_health_check=[HealthCheck.too_slow])
@given(params=timings, ops=op_lists)
def test_registry_matches_model(params: Params, ops: list[Op]) -> None:
    """Random operation sequences leave the registry in the model's state."""
    event(f"{len(ops) // 10 * 10}+ operations")
    run(params, ops)


#: Create, stream, end the stream, and outlive the detach grace.
DETACH_SCRIPT: list[Op] = [Create(Slot(0, 0)), Attach(Held(0)), Detach(0), Advance(5.0)]
GRACEFUL = Params(build_delay=0.0, aclose_delay=0.0, detach_grace=3.0)


def test_detach_script_matches_model() -> None:
    """The fixed script the next test breaks runs clean with the real model."""
    run(GRACEFUL, DETACH_SCRIPT)


def test_a_late_detach_grace_in_the_shared_model_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A shared claim model whose detach grace ends late disagrees with the registry."""
    detach = ClaimModel.detach_claim

    def late(
        self: ClaimModel[ClaimedWorkspace], ws: ClaimedWorkspace, client: str
    ) -> None:
        detach(self, ws, client)
        claim = ws.claims.get(client)
        if claim is not None and claim.deadline is not None:
            claim.deadline += 0.5

    monkeypatch.setattr(ClaimModel, "detach_claim", late)
    with pytest.raises(ExceptionGroup) as failure:  # raised inside the nursery
        run(GRACEFUL, DETACH_SCRIPT)
    assert failure.group_contains(AssertionError, match="hold deadlines")
