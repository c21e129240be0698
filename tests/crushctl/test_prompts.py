"""PromptTracker: which permission requests and question batches are open."""

from __future__ import annotations

from typing import Any

from crushctl import (
    PermissionAsked,
    PermissionClosed,
    PromptTracker,
    QuestionsAsked,
    QuestionsClosed,
)
from crushd.proto import (
    Event,
    PermissionNotification,
    PermissionRequest,
)

REQUEST: dict[str, Any] = {
    "id": "p1",
    "session_id": "s1",
    "tool_call_id": "c1",
    "tool_name": "bash",
    "action": "execute",
    "params": {"command": "rm x"},
    "path": "/proj",
}
BATCH = {
    "id": "b1",
    "session_id": "s1",
    "tool_call_id": "c2",
    "questions": [{"id": "q1", "type": "yes_no", "question": "Go?"}],
}


def event(type_: str, payload: object, seq: int = 1) -> Event:
    return Event(type=type_, event_type="created", payload=payload, id=seq)


def notification(**fields: object) -> Event:
    return event("permission_notification", {"tool_call_id": "c1", **fields})


def test_a_request_opens_once_and_closes_with_its_resolution() -> None:
    """A request opens (a replayed copy is not reported again); the "asking"
    notification changes nothing; a grant for its tool call closes it, with
    who decided."""
    tracker = PromptTracker("s1")
    asked = tracker.feed(event("permission_request", REQUEST))
    assert asked == PermissionAsked(PermissionRequest(**REQUEST))
    assert tracker.feed(event("permission_request", REQUEST, seq=0)) is None
    assert tracker.feed(notification()) is None
    assert tracker.open_permissions == [PermissionRequest(**REQUEST)]
    closed = tracker.feed(notification(granted=True, resolved_by="c-b"))
    assert isinstance(closed, PermissionClosed)
    assert closed.notification == PermissionNotification(
        "c1", granted=True, resolved_by="c-b"
    )
    assert tracker.open_permissions == []
    assert tracker.feed(notification(denied=True)) is None  # already closed


def test_denied_and_cancelled_close_too() -> None:
    """denied, and crushd's cancelled (with denied), both close the request."""
    for fields in ({"denied": True}, {"denied": True, "cancelled": True}):
        tracker = PromptTracker()
        tracker.feed(event("permission_request", REQUEST))
        closed = tracker.feed(notification(**fields))
        assert isinstance(closed, PermissionClosed)
        assert closed.notification.cancelled == ("cancelled" in fields)


def test_other_sessions_prompts_are_not_reported() -> None:
    """A tracker for s2 ignores s1's request and batch; "" follows every session."""
    tracker = PromptTracker("s2")
    assert tracker.feed(event("permission_request", REQUEST)) is None
    assert tracker.feed(event("question_batch_request", BATCH)) is None
    assert tracker.feed(notification(granted=True)) is None
    everyone = PromptTracker()
    assert everyone.feed(event("question_batch_request", BATCH)) is not None


def test_a_batch_opens_and_closes_answered_or_cancelled() -> None:
    """question_batch_request opens a batch; its notification closes it,
    cancelled when it says so; an unknown batch id changes nothing."""
    tracker = PromptTracker("s1")
    asked = tracker.feed(event("question_batch_request", BATCH))
    assert isinstance(asked, QuestionsAsked)
    assert asked.batch.questions is not None
    assert asked.batch.questions[0].type == "yes_no"
    assert tracker.feed(event("question_batch_request", BATCH)) is None
    other = event("question_batch_notification", {"batch_id": "b9"})
    assert tracker.feed(other) is None
    done = event("question_batch_notification", {"batch_id": "b1", "cancelled": True})
    closed = tracker.feed(done)
    assert isinstance(closed, QuestionsClosed)
    assert closed.cancelled
    assert tracker.open_batches == []


def test_malformed_payloads_and_other_events_are_ignored() -> None:
    """Wrong shapes (no id, a string, granted as text) and unrelated events
    are None, never an exception."""
    tracker = PromptTracker()
    for bad in (
        event("permission_request", {"tool_name": "bash"}),
        event("permission_request", "oops"),
        event("permission_notification", {"tool_call_id": "c1", "granted": "yes"}),
        event("question_batch_request", {"id": "b1", "questions": "x"}),
        event("question_batch_notification", []),
        event("message", {"id": "m1"}),
    ):
        assert tracker.feed(bad) is None


def test_refresh_closes_what_was_decided_and_opens_what_is_new() -> None:
    """After missed events the pending list decides: an open request gone
    from it closes, a pending one of this session opens, others are ignored."""
    tracker = PromptTracker("s1")
    tracker.feed(event("permission_request", REQUEST))
    fresh = PermissionRequest(**{**REQUEST, "id": "p2", "tool_call_id": "c2"})
    foreign = PermissionRequest(**{**REQUEST, "id": "p3", "session_id": "s9"})
    changes = tracker.refresh([fresh, foreign])
    assert changes == [
        PermissionClosed(
            PermissionRequest(**REQUEST), PermissionNotification("c1", denied=True)
        ),
        PermissionAsked(fresh),
    ]
    assert tracker.open_permissions == [fresh]
    assert tracker.refresh([fresh]) == []
