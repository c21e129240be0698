"""Tests for crushd/agent/_lanes.py: the per-session lane state machine.

The table tests are the lane-level twins of upstream's dispatch and cancel
tests; the hypothesis machine checks the invariants after any sequence of
submit / cancel / clear / step / turn-end / teardown.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crushd.agent._lanes import Lanes, PromptAttachment, RunOutcome, Turn
from crushd.errors import WorkspaceClosing

DONE = RunOutcome(message_id="m", text="ok")


def turn(prompt: str = "p", session_id: str = "s", run_id: str = "") -> Turn:
    return Turn(session_id=session_id, prompt=prompt, run_id=run_id)


def test_submit_idle_session_becomes_active_and_busy() -> None:
    """The first prompt of an idle session becomes active: the caller starts it."""
    lanes = Lanes()
    first = turn()
    assert lanes.submit(first) is True
    assert lanes.active("s") is first
    assert lanes.is_busy("s")
    assert lanes.busy_sessions() == ["s"]


def test_concurrent_submits_start_one_run() -> None:
    """N submits on one session start one turn and queue N-1 (upstream twin:
    TestRun_ConcurrentInProcessDispatchStartsOneRun)."""
    lanes = Lanes()
    started = [lanes.submit(turn(f"p{i}")) for i in range(5)]
    assert started == [True, False, False, False, False]
    assert lanes.queued("s") == ["p1", "p2", "p3", "p4"]


def test_submit_assigns_increasing_seq() -> None:
    """Accept order is recorded on the turn."""
    lanes = Lanes()
    turns = [turn(session_id=sid) for sid in ("a", "b", "a")]
    for t in turns:
        lanes.submit(t)
    assert [t.seq for t in turns] == [1, 2, 3]


def test_cancel_right_after_accept_is_seen_by_the_scope() -> None:
    """A cancel before the lane task runs is already on the turn's scope (twin:
    TestE2E_CancelImmediatelyAfter202IsNotLost)."""
    lanes = Lanes()
    first = turn()
    lanes.submit(first)
    assert lanes.cancel("s") == []
    assert first.cancelled


def test_cancel_active_and_queued_follow_up() -> None:
    """One cancel ends the active turn and drops the queued follow-ups (twins:
    TestCancel_ActiveAndAcceptedFiresBothBranches,
    TestCancel_TwoAcceptedBothObserveCancellation)."""
    lanes = Lanes()
    first, second, third = turn("a"), turn("b", run_id="r2"), turn("c")
    for t in (first, second, third):
        lanes.submit(t)
    assert lanes.cancel("s") == [second, third]
    assert first.cancelled
    assert not second.cancelled
    assert lanes.queued("s") == []


def test_idle_cancel_does_not_poison_next_prompt() -> None:
    """A cancel on an idle session records nothing (twins:
    TestRun_IdleCancelDoesNotPoisonNextPrompt,
    TestCancel_IdleDoesNotRecordPendingCancel)."""
    lanes = Lanes()
    assert lanes.cancel("s") == []
    assert not lanes.is_busy("s")
    nxt = turn()
    assert lanes.submit(nxt)
    assert not nxt.cancelled


def test_prompt_accepted_after_cancel_runs() -> None:
    """Prompts before a cancel are dropped, those after it run (twin:
    TestCancel_AcceptedAfterCancelIsNotPoisoned)."""
    lanes = Lanes()
    first, before, after = turn("a"), turn("b"), turn("c")
    lanes.submit(first)
    lanes.submit(before)
    lanes.cancel("s")
    assert lanes.submit(after) is False
    assert lanes.finish(first, RunOutcome(cancelled=True)) is after
    assert not after.cancelled


def test_clear_drops_queue_keeps_active() -> None:
    """prompts/clear drops the queue only."""
    lanes = Lanes()
    first, queued = turn("a"), turn("b", run_id="r")
    lanes.submit(first)
    lanes.submit(queued)
    assert lanes.clear("s") == [queued]
    assert lanes.clear("idle") == []
    assert not first.cancelled
    assert lanes.is_busy("s")


def test_take_folds_keeps_run_id_prompts_queued() -> None:
    """At a step boundary prompts without run_id fold, run_id ones stay (twin:
    TestDrainQueueForStep_KeepsRunIDPromptsQueued)."""
    lanes = Lanes()
    first = turn("a")
    plain1, keep, plain2 = turn("b"), turn("c", run_id="r"), turn("d")
    for t in (first, plain1, keep, plain2):
        lanes.submit(t)
    assert lanes.take_folds(first) == [plain1, plain2]
    assert lanes.queued("s") == ["c"]
    assert lanes.finish(first, DONE) is keep


def test_take_folds_follows_delivery() -> None:
    """delivery "steer" folds even with a run_id; "queue" never folds."""
    lanes = Lanes()
    first = turn("a")
    steer = Turn(session_id="s", prompt="b", run_id="r", delivery="steer")
    keep = Turn(session_id="s", prompt="c", delivery="queue")
    for t in (first, steer, keep):
        lanes.submit(t)
    assert lanes.take_folds(first) == [steer]
    assert lanes.queued("s") == ["c"]


def test_take_folds_of_cancelled_or_inactive_turn_is_empty() -> None:
    """A cancelled turn folds nothing; neither does a turn that is not active."""
    lanes = Lanes()
    first, other = turn("a"), turn("b")
    lanes.submit(first)
    lanes.submit(other)
    assert lanes.take_folds(other) == []
    first.cancel()
    assert lanes.take_folds(first) == []
    assert lanes.queued("s") == ["b"]


def test_finish_hands_off_in_order_then_goes_idle() -> None:
    """Queued run_id turns run one by one, each finished on its own (twin:
    TestRun_QueuedRunIDPromptRunsRecursivelyAndPublishesRunComplete)."""
    lanes = Lanes()
    turns = [turn("a"), turn("b", run_id="r1"), turn("c", run_id="r2")]
    for t in turns:
        lanes.submit(t)
    assert lanes.finish(turns[0], DONE) is turns[1]
    assert lanes.finish(turns[1], DONE) is turns[2]
    assert lanes.finish(turns[2], DONE) is None
    assert [t.outcome for t in turns] == [DONE, DONE, DONE]
    assert not lanes.is_busy("s")


def test_finish_of_inactive_turn_is_a_bug() -> None:
    """finish refuses a turn that is not the active one."""
    lanes = Lanes()
    first, second = turn("a"), turn("b")
    lanes.submit(first)
    lanes.submit(second)
    with pytest.raises(ValueError, match="not active"):
        lanes.finish(second, DONE)


def test_teardown_cancels_all_and_refuses_new_prompts() -> None:
    """Teardown cancels every active turn, drops the queues and answers 409 after."""
    lanes = Lanes()
    a, b, queued = turn(session_id="a"), turn(session_id="b"), turn(session_id="a")
    for t in (a, b, queued):
        lanes.submit(t)
    assert lanes.teardown() == [queued]
    assert a.cancelled
    assert b.cancelled
    with pytest.raises(WorkspaceClosing):
        lanes.submit(turn())
    assert lanes.finish(a, RunOutcome(cancelled=True)) is None


def test_prompt_attachment_is_text_by_mime() -> None:
    """text/* attachments are the ones inlined into the prompt."""
    assert PromptAttachment("a.txt", "a.txt", "text/plain", b"x").is_text
    assert not PromptAttachment("a.png", "a.png", "image/png", b"x").is_text


SESSIONS = st.sampled_from(["s1", "s2"])


class LaneMachine(RuleBasedStateMachine):
    """A pure model of the lanes, checked against ``Lanes`` after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes = Lanes()
        self.active: dict[str, Turn] = {}
        self.queue: dict[str, list[Turn]] = {"s1": [], "s2": []}
        self.covered: set[int] = set()
        self.fates: dict[int, list[str]] = {}
        self.run_completes: dict[int, int] = {}
        self.closing = False
        self.counter = 0

    def _fate(self, t: Turn, fate: str) -> None:
        self.fates.setdefault(t.seq, []).append(fate)

    def _dropped(self, dropped: list[Turn]) -> None:
        for t in dropped:
            self._fate(t, "dropped")
            if t.run_id:
                self.run_completes[t.seq] = self.run_completes.get(t.seq, 0) + 1

    @rule(sid=SESSIONS, with_run_id=st.booleans())
    def submit(self, sid: str, with_run_id: bool) -> None:
        self.counter += 1
        t = turn(f"p{self.counter}", sid, f"r{self.counter}" if with_run_id else "")
        if self.closing:
            with pytest.raises(WorkspaceClosing):
                self.lanes.submit(t)
            return
        started = self.lanes.submit(t)
        assert started == (sid not in self.active)
        if started:
            self.active[sid] = t
        else:
            self.queue[sid].append(t)

    @rule(sid=SESSIONS)
    def cancel(self, sid: str) -> None:
        expected = self.queue[sid]
        if sid in self.active:
            self.covered.add(self.active[sid].seq)
        self.covered.update(t.seq for t in expected)
        dropped = self.lanes.cancel(sid)
        assert dropped == expected
        self.queue[sid] = []
        self._dropped(dropped)

    @rule(sid=SESSIONS)
    def clear(self, sid: str) -> None:
        dropped = self.lanes.clear(sid)
        assert dropped == self.queue[sid]
        self.queue[sid] = []
        self._dropped(dropped)

    @rule(sid=SESSIONS)
    def step_boundary(self, sid: str) -> None:
        t = self.active.get(sid)
        if t is None:
            return
        folds = self.lanes.take_folds(t)
        expected = [] if t.cancelled else [q for q in self.queue[sid] if not q.run_id]
        assert folds == expected
        self.queue[sid] = [q for q in self.queue[sid] if q not in folds]
        for f in folds:
            assert f.seq not in self.covered
            self._fate(f, "folded")

    @rule(sid=SESSIONS)
    def turn_end(self, sid: str) -> None:
        t = self.active.get(sid)
        if t is None:
            return
        cancelled = t.cancelled
        if not cancelled:
            # the turn ran to completion: no cancel may have covered it
            assert t.seq not in self.covered
        nxt = self.lanes.finish(t, RunOutcome(cancelled=cancelled))
        self._fate(t, "finished")
        self.run_completes[t.seq] = self.run_completes.get(t.seq, 0) + 1
        expected = self.queue[sid].pop(0) if self.queue[sid] else None
        assert nxt is expected
        if nxt is None:
            del self.active[sid]
        else:
            assert nxt.seq not in self.covered
            self.active[sid] = nxt

    @rule()
    def teardown(self) -> None:
        for sid, t in self.active.items():
            self.covered.add(t.seq)
            self.covered.update(q.seq for q in self.queue[sid])
        dropped = self.lanes.teardown()
        expected = self.queue["s1"] + self.queue["s2"]
        assert sorted(t.seq for t in dropped) == sorted(t.seq for t in expected)
        self.queue = {"s1": [], "s2": []}
        self._dropped(dropped)
        self.closing = True

    @invariant()
    def busy_is_lane_exists(self) -> None:
        for sid in ("s1", "s2"):
            assert self.lanes.is_busy(sid) == (sid in self.active)
            active = self.lanes.active(sid)
            assert active is self.active.get(sid)
            assert self.lanes.queued(sid) == [t.prompt for t in self.queue[sid]]
        assert sorted(self.lanes.busy_sessions()) == sorted(self.active)

    @invariant()
    def each_turn_has_at_most_one_fate(self) -> None:
        for fates in self.fates.values():
            assert len(fates) == 1
        for seq, count in self.run_completes.items():
            assert count == 1, seq

    @invariant()
    def active_turns_are_cancelled_after_teardown(self) -> None:
        if self.closing:
            assert all(t.cancelled for t in self.active.values())


TestLaneMachine = LaneMachine.TestCase
TestLaneMachine.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
