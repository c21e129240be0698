"""Readable lines for permission requests, question batches and their endings.

Shared by ``run`` (inline prompts), ``watch``, ``permissions`` and ``answer``.
Every secret in a request's parameters is masked with ``crushd.proto``'s
rules (``redact``, ``mask_in_text``) before it is shown.
"""

from __future__ import annotations

import json

from crushctl import (
    MULTI_CHOICE,
    SINGLE_CHOICE,
    YES_NO,
    is_resolved,
)
from crushd.proto import (
    PERMISSION_NOTIFICATION_EVENT,
    PERMISSION_REQUEST_EVENT,
    QUESTION_BATCH_NOTIFICATION_EVENT,
    QUESTION_BATCH_REQUEST_EVENT,
    PermissionNotification,
    PermissionRequest,
    QuestionBatchNotification,
    QuestionBatchRequest,
    QuestionItem,
    from_json,
    mask_in_text,
    redact,
)

from ._render import clip, tail, tool_line

#: How a question type is answered, for the hints.
_HOW = {
    YES_NO: "--yes or --no",
    SINGLE_CHOICE: "--choice ID",
    MULTI_CHOICE: "--choice ID (repeatable)",
}


def shown_params(params: object) -> object:
    """Return a request's ``params`` with every secret masked."""
    if isinstance(params, str):
        return mask_in_text(params)  # an MCP tool's raw input
    return redact(params)


def permission_text(request: PermissionRequest) -> str:
    """Return ``<tool> <main argument> (<action> in <path>)``, secrets masked."""
    params = shown_params(request.params)
    if isinstance(params, str):
        what = f"{request.tool_name or '?'} {clip(params)}".rstrip()
    else:
        what = tool_line(request.tool_name, json.dumps(params))
    where = f" in {tail(request.path)}" if request.path else ""
    action = request.action or "use"
    return f"{what} ({action}{where})"


def permission_detail(request: PermissionRequest) -> str:
    """Return the request's description (masked, one line), ``""`` when none."""
    return clip(mask_in_text(request.description), 120) if request.description else ""


def resolution_text(notification: PermissionNotification, own_id: str = "") -> str:
    """Return ``approved by <client>``, ``denied by <client>`` or ``cancelled``.

    ``own_id`` (this client's id) is shown as ``you``; an unknown decider
    as ``elsewhere`` (a daemon that does not say who).
    """
    if notification.cancelled:
        return "cancelled (the run ended)"
    verb = "approved" if notification.granted else "denied"
    who = notification.resolved_by
    if not who:
        return f"{verb} elsewhere"
    return f"{verb} by {'you' if who == own_id else who}"


def question_summary(batch: QuestionBatchRequest) -> str:
    """Return ``<n> question(s): "<first question>"`` for one line."""
    questions = batch.questions or []
    count = len(questions)
    first = clip(mask_in_text(questions[0].question), 60) if questions else ""
    noun = "question" if count == 1 else "questions"
    return f"{count} {noun}: {json.dumps(first, ensure_ascii=False)}"


def question_lines(batch: QuestionBatchRequest) -> list[str]:
    """Return every question with its choices, one per line, and how to answer."""
    lines: list[str] = []
    for number, item in enumerate(batch.questions or [], start=1):
        lines.append(f"Q{number} [{item.id}] {mask_in_text(item.question)}")
        lines += [
            f"    {choice.id}: {mask_in_text(choice.label or choice.id)}"
            for choice in item.choices or []
        ]
        lines.append(f"    answer with {_HOW.get(item.type, '--text TEXT')}")
    return lines


def choice_label(item: QuestionItem, choice_id: str) -> str:
    """Return the label of ``item``'s choice ``choice_id`` (the id if unknown)."""
    for choice in item.choices or []:
        if choice.id == choice_id:
            return choice.label or choice.id
    return choice_id


def permission_request_line(payload: dict[str, object]) -> str:
    """``watch``'s summary of a ``permission_request`` payload."""
    request = from_json(payload, PermissionRequest)
    line = f"{request.id} {permission_text(request)} session={request.session_id}"
    return f"{line} (crushctl grant|deny {request.id})"


def permission_notification_line(payload: dict[str, object]) -> str:
    """``watch``'s summary of a ``permission_notification`` payload."""
    notification = from_json(payload, PermissionNotification)
    if not is_resolved(notification):
        return f"call={notification.tool_call_id} asking"
    return f"call={notification.tool_call_id} {resolution_text(notification)}"


def question_request_line(payload: dict[str, object]) -> str:
    """``watch``'s summary of a ``question_batch_request`` payload."""
    batch = from_json(payload, QuestionBatchRequest)
    line = f"{batch.id} {question_summary(batch)} session={batch.session_id}"
    return f"{line} (crushctl answer)"


def question_notification_line(payload: dict[str, object]) -> str:
    """``watch``'s summary of a ``question_batch_notification`` payload."""
    notification = from_json(payload, QuestionBatchNotification)
    outcome = "cancelled" if notification.cancelled else "answered"
    by = f" by {notification.resolved_by}" if notification.resolved_by else ""
    return f"{notification.batch_id} {outcome}{by}"


#: ``watch`` summaries by outer event type; each raises ``ValueError`` on a
#: payload of the wrong shape.
PROMPT_SUMMARIES = {
    PERMISSION_REQUEST_EVENT: permission_request_line,
    PERMISSION_NOTIFICATION_EVENT: permission_notification_line,
    QUESTION_BATCH_REQUEST_EVENT: question_request_line,
    QUESTION_BATCH_NOTIFICATION_EVENT: question_notification_line,
}
