"""The per-session lane: which turn runs, which wait, what a cancel covers.

One lane exists per busy session: the active turn plus the prompts queued
behind it. Every transition is a plain method with no ``await``, so under
Trio each one is atomic: a cancel can never fall between "became active" and
"started", and two submits can never both start a turn. A turn's cancel scope
is made when the prompt is accepted, so a cancel that arrives before the lane
task first runs is seen at the turn's first checkpoint (docs/agent.md 7.3).
"""

from __future__ import annotations

from collections import deque

import attrs
import trio

from crushd.errors import WorkspaceClosing


@attrs.frozen
class PromptAttachment:
    """A file sent with a prompt, already base64-decoded.

    Attributes:
        file_path: the path the client gave (stored as the binary part's
            ``Path``).
        file_name: the file's name (not stored, as upstream).
        mime_type: e.g. ``text/plain``, ``image/png``.
        content: the file's bytes.
    """

    file_path: str
    file_name: str
    mime_type: str
    content: bytes

    @property
    def is_text(self) -> bool:
        """Whether the attachment is text (inlined into the prompt)."""
        return self.mime_type.startswith("text/")


@attrs.frozen
class RunOutcome:
    """How a turn ended: the fields of its ``run_complete`` event.

    Attributes:
        message_id: the turn's last assistant message, ``""`` when none.
        text: that message's text.
        error: the error text of a failed turn, ``""`` otherwise.
        cancelled: the turn was cancelled.
    """

    message_id: str = ""
    text: str = ""
    error: str = ""
    cancelled: bool = False


@attrs.define(eq=False)
class Turn:
    """One accepted prompt: it runs as a turn, is folded into one, or is dropped.

    Attributes:
        session_id: the session the prompt belongs to.
        prompt: the prompt text.
        run_id: the client's run id, ``""`` for none; a turn with a run id
            is never folded and always gets its own ``run_complete``.
        client_id: the client that sent the prompt, ``""`` when unknown.
        attachments: decoded attachments, in the order sent.
        delivery: ``"steer"`` folds the prompt into the running turn even
            with a ``run_id``; ``"queue"`` never folds it; ``""`` folds it
            only without a ``run_id`` (upstream's rule).
        seq: accept order, unique per ``Lanes`` (set by ``Lanes.submit``).
        scope: the turn's cancel scope, made at accept; the lane task enters
            it around the turn.
        outcome: set by ``Lanes.finish``; ``None`` while not finished.
        cancelled: a cancel or teardown covered the turn (its scope is
            cancelled too).
    """

    session_id: str
    prompt: str
    run_id: str = ""
    client_id: str = ""
    attachments: tuple[PromptAttachment, ...] = ()
    delivery: str = ""
    seq: int = 0
    scope: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    outcome: RunOutcome | None = None
    cancelled: bool = False

    def cancel(self) -> None:
        """Mark the turn cancelled and cancel its scope; atomic, idempotent."""
        self.cancelled = True
        self.scope.cancel()

    @property
    def foldable(self) -> bool:
        """Whether a running turn may take this prompt at a step boundary."""
        if self.delivery:
            return self.delivery == "steer"
        return not self.run_id


@attrs.define(eq=False)
class _Lane:
    active: Turn
    queue: deque[Turn] = attrs.field(factory=deque)


class Lanes:
    """The lanes of one workspace's sessions; synchronous, no awaits.

    ``is_busy(sid)`` is true exactly while the session has a lane: from the
    accept of a prompt on an idle session until ``finish`` of its last turn.

    Source: Crush ``internal/agent/agent.go`` dispatch (active request,
    queue, cancel mark), redone as one state machine (docs/agent.md 7.3).
    """

    def __init__(self) -> None:
        self._lanes: dict[str, _Lane] = {}
        self._seq = 0
        self.closing = False

    def submit(self, turn: Turn) -> bool:
        """Accept ``turn``: it becomes active on an idle session, else queues.

        Atomic, no await. Sets ``turn.seq``.

        Args:
            turn: a new turn (not submitted before).

        Returns:
            True when the turn became active: the caller must start the
            session's lane task with it. False when it was queued.

        Raises:
            WorkspaceClosing: after ``teardown`` (409).
        """
        if self.closing:
            raise WorkspaceClosing
        self._seq += 1
        turn.seq = self._seq
        lane = self._lanes.get(turn.session_id)
        if lane is None:
            self._lanes[turn.session_id] = _Lane(turn)
            return True
        lane.queue.append(turn)
        return False

    def cancel(self, session_id: str) -> list[Turn]:
        """Cancel the active turn and drop the queue; idle sessions: no-op.

        Atomic, no await. Nothing is remembered for an idle session, so the
        next prompt runs normally; prompts accepted after this call are
        queued behind the cancelled turn and run.

        Returns:
            The dropped queued turns, oldest first; the caller publishes a
            cancelled ``run_complete`` for each that has a ``run_id``.
        """
        lane = self._lanes.get(session_id)
        if lane is None:
            return []
        lane.active.cancel()
        return _drain(lane.queue)

    def clear(self, session_id: str) -> list[Turn]:
        """Drop the queued prompts, leaving the active turn running.

        Returns:
            The dropped turns, oldest first (same duty as ``cancel``).
        """
        lane = self._lanes.get(session_id)
        return [] if lane is None else _drain(lane.queue)

    def take_folds(self, turn: Turn) -> list[Turn]:
        """Remove and return the queued prompts ``turn`` folds in at a step.

        Atomic, no await. Only ``foldable`` prompts are taken; the others
        stay queued and run as their own turns later. A cancelled or
        inactive ``turn`` takes nothing.

        Returns:
            The folded turns, oldest first; each becomes a user message of
            ``turn``; one with a ``run_id`` (steered) shares ``turn``'s
            ``run_complete`` under its own ``run_id``.
        """
        lane = self._lanes.get(turn.session_id)
        if lane is None or lane.active is not turn or turn.cancelled:
            return []
        folds = [queued for queued in lane.queue if queued.foldable]
        lane.queue = deque(queued for queued in lane.queue if not queued.foldable)
        return folds

    def finish(self, turn: Turn, outcome: RunOutcome) -> Turn | None:
        """Record the active ``turn``'s outcome and hand the lane on.

        Atomic, no await.

        Returns:
            The next queued turn, now active (the lane task runs it next), or
            ``None`` when the lane was removed and the session is idle.

        Raises:
            ValueError: ``turn`` is not its session's active turn (a bug).
        """
        lane = self._lanes.get(turn.session_id)
        if lane is None or lane.active is not turn:
            raise ValueError("finish of a turn that is not active")
        turn.outcome = outcome
        if lane.queue:
            lane.active = lane.queue.popleft()
            return lane.active
        del self._lanes[turn.session_id]
        return None

    def teardown(self) -> list[Turn]:
        """Refuse new prompts, cancel every active turn, drop every queue.

        Atomic, no await. Lanes stay until their active turns ``finish``.

        Returns:
            Every dropped queued turn (same duty as ``cancel``).
        """
        self.closing = True
        dropped: list[Turn] = []
        for lane in self._lanes.values():
            lane.active.cancel()
            dropped += _drain(lane.queue)
        return dropped

    def is_busy(self, session_id: str) -> bool:
        """Whether the session has a lane (a turn accepted or running)."""
        return session_id in self._lanes

    def busy_sessions(self) -> list[str]:
        """The ids of every busy session, in the order they became busy."""
        return list(self._lanes)

    def active(self, session_id: str) -> Turn | None:
        """The session's active turn, ``None`` when idle."""
        lane = self._lanes.get(session_id)
        return None if lane is None else lane.active

    def queued(self, session_id: str) -> list[str]:
        """The prompts waiting behind the active turn, oldest first."""
        lane = self._lanes.get(session_id)
        return [] if lane is None else [turn.prompt for turn in lane.queue]


def _drain(queue: deque[Turn]) -> list[Turn]:
    dropped = list(queue)
    queue.clear()
    return dropped
