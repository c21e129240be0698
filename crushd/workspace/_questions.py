"""The question service: one question batch on screen per workspace.

The ``question`` tool asks through ``ask``; any client answers or cancels;
the first one wins, every later call gets False (decision B.10), and a
``question_batch_notification`` tells the other clients to close the form
(docs/agent.md 3.3-3.4, docs/protocol.md 2.7, 6.6).

Route bodies (wire models in ``crushd.proto``):

* ``POST questions/answer[?client_id=]`` ``{"batch_request_id": str,
  "responses": [{"request_id": <question id>, "selected_ids": [str],
  "fill_in_text": str, "yes": bool, "notes": {str: str}}]}`` ->
  ``answer(batch_request_id, responses, client_id)`` -> ``{"resolved": bool}``.
* ``POST questions/cancel[?client_id=]`` (no body, or ``{"batch_request_id":
  str}``) -> ``cancel(batch_request_id, client_id)`` -> ``{"resolved": bool}``.
* The pending batch (``pending()``) is replayed to a stream attaching without
  ``Last-Event-ID``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import trio

from crushd.proto import (
    CREATED,
    QUESTION_BATCH_NOTIFICATION_EVENT,
    QUESTION_BATCH_REQUEST_EVENT,
    QuestionBatchNotification,
    QuestionBatchRequest,
    QuestionItem,
    QuestionResponse,
)

from ._permissions import EventSink
from ._question_rules import prepare_batch


@attrs.define
class _Waiting:
    request: QuestionBatchRequest
    done: trio.Event = attrs.field(factory=trio.Event)
    responses: list[QuestionResponse] | None = None


class QuestionService:
    """The question batches of one workspace.

    Args:
        events: the workspace's event log.

    Source: Crush ``internal/question/question.go`` (a single pending slot),
    with crushd's queue and exactly-one resolution (docs/agent.md 3.4).
    """

    def __init__(self, events: EventSink) -> None:
        self._events = events
        self._current: _Waiting | None = None
        # trio.Lock is fair: later batches wait their turn in arrival order.
        self._lock = trio.Lock()

    def pending(self) -> list[QuestionBatchRequest]:
        """Return the batch on screen, if any, as a list (wire objects)."""
        return [] if self._current is None else [self._current.request]

    async def ask(
        self,
        session_id: str,
        tool_call_id: str,
        questions: list[QuestionItem],
        confirm_title: str = "",
        confirm_description: str = "",
    ) -> list[QuestionResponse] | None:
        """Publish a batch, wait for a client, return its responses.

        The batch is checked first (limits of docs/agent.md 2.2), gets ids
        and, with two or more questions, default confirm texts. It then waits
        for its turn (one batch on screen per workspace, arrival order),
        publishes ``question_batch_request`` and waits.

        Returns:
            The responses as the client sent them, or None when a client
            cancelled the batch.

        Raises:
            ValueError: the batch breaks a limit (the text is for the model).

        Cancellation: while queued, nothing was published. While on screen,
        the batch is withdrawn and ``question_batch_notification {batch_id,
        cancelled: true}`` closes every client's form (unless a resolution
        was published first); ``trio.Cancelled`` propagates.
        """
        batch = prepare_batch(
            session_id, tool_call_id, questions, confirm_title, confirm_description
        )
        async with self._lock:
            return await self._wait(batch)

    def answer(
        self,
        batch_request_id: str,
        responses: Sequence[QuestionResponse],
        client_id: str = "",
    ) -> bool:
        """Answer the batch on screen; True if this call resolved it.

        Atomic, no await. ``batch_request_id`` ``""`` answers whatever batch
        is on screen (upstream); any other id must be that batch's, else
        False (a stale form). Nothing on screen: False. The winner publishes
        ``question_batch_notification {batch_id, session_id, resolved_by?}``.

        Source: Crush ``questionService.Answer``; decision B.10.
        """
        waiting = self._take(batch_request_id)
        if waiting is None:
            return False
        waiting.responses = list(responses)
        self._notify(waiting.request, resolved_by=client_id)
        waiting.done.set()
        return True

    def cancel(self, batch_request_id: str = "", client_id: str = "") -> bool:
        """Cancel the batch on screen; True if this call resolved it.

        Same rules as ``answer``; the notification carries ``cancelled: true``
        and the tool tells the model the user cancelled (the turn ends).

        Source: Crush ``questionService.Cancel``; decision B.10.
        """
        waiting = self._take(batch_request_id)
        if waiting is None:
            return False
        self._notify(waiting.request, resolved_by=client_id, cancelled=True)
        waiting.done.set()
        return True

    def _take(self, batch_request_id: str) -> _Waiting | None:
        waiting = self._current
        if waiting is None:
            return None
        if batch_request_id and batch_request_id != waiting.request.id:
            return None
        self._current = None
        return waiting

    async def _wait(self, batch: QuestionBatchRequest) -> list[QuestionResponse] | None:
        waiting = _Waiting(batch)
        self._current = waiting
        self._events.publish(QUESTION_BATCH_REQUEST_EVENT, CREATED, batch)
        try:
            await waiting.done.wait()
        finally:
            # Still on screen means nobody resolved it: close it everywhere.
            if self._current is waiting:
                self._current = None
                self._notify(batch, cancelled=True)
        return waiting.responses

    def _notify(
        self,
        batch: QuestionBatchRequest,
        resolved_by: str = "",
        cancelled: bool = False,
    ) -> None:
        notification = QuestionBatchNotification(
            batch.id, batch.session_id, resolved_by, cancelled
        )
        self._events.publish(QUESTION_BATCH_NOTIFICATION_EVENT, CREATED, notification)
