"""Which permission requests and question batches are open, from a workspace's events.

``PromptTracker`` is a synchronous state machine: feed it every event and it
reports a prompt opening (``PermissionAsked``, ``QuestionsAsked``) or closing
(``PermissionClosed``, ``QuestionsClosed``). A request is closed by the
``permission_notification`` with its ``tool_call_id`` that grants, denies or
cancels it (docs/agent.md 3.2); a batch by the ``question_batch_notification``
with its id. Replayed requests (an attach without ``Last-Event-ID`` gets the
pending ones first, docs/protocol.md C.4) are reported once.
"""

from __future__ import annotations

import attrs

from crushd.proto import (
    PERMISSION_NOTIFICATION_EVENT,
    PERMISSION_REQUEST_EVENT,
    QUESTION_BATCH_NOTIFICATION_EVENT,
    QUESTION_BATCH_REQUEST_EVENT,
    Event,
    PermissionNotification,
    PermissionRequest,
    QuestionBatchNotification,
    QuestionBatchRequest,
    from_json,
)

from ._prompt_models import is_resolved


@attrs.frozen
class PermissionAsked:
    """A permission request opened."""

    request: PermissionRequest


@attrs.frozen
class PermissionClosed:
    """An open permission request was decided (or cancelled with its run)."""

    request: PermissionRequest
    notification: PermissionNotification


@attrs.frozen
class QuestionsAsked:
    """A question batch opened."""

    batch: QuestionBatchRequest


@attrs.frozen
class QuestionsClosed:
    """An open question batch was answered, or ``cancelled``.

    ``resolved_by`` is the deciding client's id when the daemon says (crushd).
    """

    batch: QuestionBatchRequest
    cancelled: bool = False
    resolved_by: str = ""


#: What ``PromptTracker.feed`` reports.
PromptChange = PermissionAsked | PermissionClosed | QuestionsAsked | QuestionsClosed


class PromptTracker:
    """Follow the open prompts of one session (``""``: of every session).

    Args:
        session_id: only prompts of this session are reported; ``""`` means all.

    Source: docs/protocol.md 3.3, 6.5, 6.6, C.4; docs/agent.md 3.2-3.4.
    """

    def __init__(self, session_id: str = "") -> None:
        self.session_id = session_id
        self._permissions: dict[str, PermissionRequest] = {}  # by tool_call_id
        self._batches: dict[str, QuestionBatchRequest] = {}  # by id

    @property
    def open_permissions(self) -> list[PermissionRequest]:
        """The open requests, oldest first."""
        return list(self._permissions.values())

    @property
    def open_batches(self) -> list[QuestionBatchRequest]:
        """The open question batches, oldest first."""
        return list(self._batches.values())

    def feed(self, event: Event) -> PromptChange | None:
        """Take the stream's next event; return the change it makes, if any.

        Malformed payloads are ignored (``None``), never raised.
        """
        try:
            if event.type == PERMISSION_REQUEST_EVENT:
                return self._asked(from_json(event.payload, PermissionRequest))
            if event.type == PERMISSION_NOTIFICATION_EVENT:
                notified = from_json(event.payload, PermissionNotification)
                return self._notified(notified)
            if event.type == QUESTION_BATCH_REQUEST_EVENT:
                return self._batch(from_json(event.payload, QuestionBatchRequest))
            if event.type == QUESTION_BATCH_NOTIFICATION_EVENT:
                return self._batch_closed(
                    from_json(event.payload, QuestionBatchNotification)
                )
        except ValueError:
            return None
        return None

    def refresh(self, pending: list[PermissionRequest]) -> list[PromptChange]:
        """Catch up with the daemon's pending list after missed events (resync).

        Open requests no longer pending close (with a notification that only
        says ``denied``: the outcome was missed); pending ones not yet known
        open. Question batches have no list and are left as they are.
        """
        ids = {request.id for request in pending}
        changes: list[PromptChange] = []
        for request in self.open_permissions:
            if request.id not in ids:
                del self._permissions[request.tool_call_id]
                gone = PermissionNotification(request.tool_call_id, denied=True)
                changes.append(PermissionClosed(request, gone))
        opened = (self._asked(request) for request in pending)
        return changes + [change for change in opened if change is not None]

    def _mine(self, session_id: str) -> bool:
        return not self.session_id or session_id == self.session_id

    def _asked(self, request: PermissionRequest) -> PromptChange | None:
        known = self._permissions.get(request.tool_call_id)
        if not request.id or not self._mine(request.session_id) or known == request:
            return None
        self._permissions[request.tool_call_id] = request
        return PermissionAsked(request)

    def _notified(self, notification: PermissionNotification) -> PromptChange | None:
        if not is_resolved(notification):
            return None  # "asking": a request may follow
        request = self._permissions.pop(notification.tool_call_id, None)
        return None if request is None else PermissionClosed(request, notification)

    def _batch(self, batch: QuestionBatchRequest) -> PromptChange | None:
        if not self._mine(batch.session_id) or self._batches.get(batch.id) == batch:
            return None
        self._batches[batch.id] = batch
        return QuestionsAsked(batch)

    def _batch_closed(
        self, notification: QuestionBatchNotification
    ) -> PromptChange | None:
        batch = self._batches.pop(notification.batch_id, None)
        if batch is None:
            return None
        return QuestionsClosed(
            batch, notification.cancelled, resolved_by=notification.resolved_by
        )
