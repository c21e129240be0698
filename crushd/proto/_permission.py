"""Permission and question wire models (docs/protocol.md 2.6, 2.7, 3.3, 6.5, 6.6).

The shapes are upstream's (Crush ``internal/proto/permission.go`` and the
question service); crushd adds only optional keys Go decoders ignore:
``resolved_by`` and ``cancelled`` on the two notifications, ``session_id`` on a
skip toggle, ``batch_request_id`` on a cancel (docs/agent.md 3.4).
"""

from __future__ import annotations

import attrs

from ._json import OMITEMPTY

#: Outer event type of a permission prompt (docs/protocol.md 3.3).
PERMISSION_REQUEST_EVENT = "permission_request"
#: Outer event type of a permission state change (asking, granted, denied).
PERMISSION_NOTIFICATION_EVENT = "permission_notification"
#: Outer event type of a question batch (docs/protocol.md 3.3).
QUESTION_BATCH_REQUEST_EVENT = "question_batch_request"
#: Outer event type published when a question batch is resolved.
QUESTION_BATCH_NOTIFICATION_EVENT = "question_batch_notification"

#: ``PermissionGrant.action``: allow this request once.
PERMISSION_ALLOW = "allow"
#: ``PermissionGrant.action``: allow it and every later one with the same
#: (session, tool, action, path) key.
PERMISSION_ALLOW_SESSION = "allow_session"
#: ``PermissionGrant.action``: deny it (the turn ends).
PERMISSION_DENY = "deny"
#: Every accepted ``PermissionGrant.action``.
PERMISSION_ACTIONS = (PERMISSION_ALLOW, PERMISSION_ALLOW_SESSION, PERMISSION_DENY)

#: The four question kinds (``QuestionItem.type``).
QUESTION_TYPES = ("yes_no", "single_choice", "multi_choice", "free_text")


@attrs.frozen
class PermissionRequest:
    """``permission_request`` payload and the ``permission`` of a grant.

    ``id`` is a fresh UUID per prompt; ``path`` is a folder (a file's own
    folder); ``params`` is any JSON (the tool's parameters, decision B.11).
    """

    id: str = ""
    session_id: str = ""
    tool_call_id: str = ""
    tool_name: str = ""
    description: str = ""
    action: str = ""
    params: object = None
    path: str = ""


@attrs.frozen
class PermissionNotification:
    """``permission_notification`` payload.

    ``granted`` and ``denied`` both false means "asking". crushd adds
    ``resolved_by`` (the deciding client's id, when it gave one) and
    ``cancelled`` (the run was cancelled or the workspace closed while the
    prompt was open; then ``denied`` is true).
    """

    tool_call_id: str
    granted: bool = False
    denied: bool = False
    resolved_by: str = attrs.field(default="", metadata=OMITEMPTY)
    cancelled: bool = attrs.field(default=False, metadata=OMITEMPTY)


@attrs.frozen
class PermissionGrant:
    """``POST permissions/grant`` body: the request as received, and a decision.

    Only ``permission.id`` selects the request; ``action`` is one of
    ``PERMISSION_ACTIONS``.
    """

    permission: PermissionRequest = attrs.field(factory=PermissionRequest)
    action: str = ""


@attrs.frozen
class PermissionSkip:
    """``permissions/skip`` body (POST) and answer (GET): ``{"skip": bool}``.

    crushd adds ``session_id``: auto-approve that session only.
    """

    skip: bool = False
    session_id: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class Resolved:
    """``{"resolved": bool}``: whether this call decided a pending prompt."""

    resolved: bool


@attrs.frozen
class QuestionChoice:
    """One selectable option of a choice question."""

    id: str = ""
    label: str = ""
    description: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class QuestionItem:
    """One question of a batch (``QuestionItem``, docs/protocol.md 3.3).

    ``type`` is one of ``QUESTION_TYPES``; ``question`` is the text.
    """

    id: str = ""
    type: str = ""
    label: str = attrs.field(default="", metadata=OMITEMPTY)
    question: str = ""
    description: str = attrs.field(default="", metadata=OMITEMPTY)
    choices: list[QuestionChoice] = attrs.field(factory=list, metadata=OMITEMPTY)


@attrs.frozen
class QuestionBatchRequest:
    """``question_batch_request`` payload: the questions a tool call waits on."""

    id: str
    session_id: str
    tool_call_id: str
    questions: list[QuestionItem]
    confirm_title: str = attrs.field(default="", metadata=OMITEMPTY)
    confirm_description: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class QuestionResponse:
    """One answer; ``request_id`` carries the *question* id (upstream's name).

    ``yes`` is None when the question was not a yes/no one (or skipped);
    ``notes`` maps a choice id (or ``_question``) to a note.
    """

    request_id: str = ""
    selected_ids: list[str] = attrs.field(factory=list, metadata=OMITEMPTY)
    fill_in_text: str = attrs.field(default="", metadata=OMITEMPTY)
    yes: bool | None = attrs.field(default=None, metadata=OMITEMPTY)
    notes: dict[str, str] = attrs.field(factory=dict, metadata=OMITEMPTY)


@attrs.frozen
class QuestionAnswer:
    """``POST questions/answer`` body.

    An empty ``batch_request_id`` answers whatever batch is pending (upstream);
    crushd answers a non-empty one only if it is the pending batch.
    """

    batch_request_id: str = ""
    responses: list[QuestionResponse] = attrs.field(factory=list)


@attrs.frozen
class QuestionCancel:
    """``POST questions/cancel`` body (optional; upstream sends none)."""

    batch_request_id: str = ""


@attrs.frozen
class QuestionBatchNotification:
    """``question_batch_notification`` payload: clients close that batch's form.

    crushd adds ``session_id``, ``resolved_by`` (the deciding client's id) and
    ``cancelled`` (no answer: cancelled by a client, by the run or by the
    workspace closing).
    """

    batch_id: str
    session_id: str = attrs.field(default="", metadata=OMITEMPTY)
    resolved_by: str = attrs.field(default="", metadata=OMITEMPTY)
    cancelled: bool = attrs.field(default=False, metadata=OMITEMPTY)
