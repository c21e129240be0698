"""Wire shapes of permission prompts, question batches and the bang shell.

Upstream's shapes (docs/protocol.md 2.6, 2.7, 2.8, 3.3, 6.5, 6.6) plus
crushd's optional keys (docs/agent.md 3.4): ``resolved_by`` and ``cancelled``
on a ``permission_notification``, ``cancelled`` on a
``question_batch_notification``, ``session_id`` on ``permissions/skip``.
Unknown keys are ignored, so newer daemons decode fine.
"""

from __future__ import annotations

import attrs

from crushd.proto import OMITEMPTY

#: Outer event types of prompts and their resolutions (docs/protocol.md 3.3).
PERMISSION_REQUEST = "permission_request"
PERMISSION_NOTIFICATION = "permission_notification"
QUESTION_REQUEST = "question_batch_request"
QUESTION_NOTIFICATION = "question_batch_notification"

#: ``permissions/grant`` actions: once, once and for the session, refuse.
ALLOW = "allow"
ALLOW_SESSION = "allow_session"
DENY = "deny"
GRANT_ACTIONS = (ALLOW, ALLOW_SESSION, DENY)

#: ``QuestionItem.type`` values.
YES_NO = "yes_no"
SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
FREE_TEXT = "free_text"


@attrs.frozen
class PermissionRequest:
    """A pending ``permission_request``; ``params`` is the tool's JSON (any shape).

    ``path`` is the directory the request is about; ``id`` selects it in
    ``permissions/grant``.
    """

    id: str
    session_id: str = ""
    tool_call_id: str = ""
    tool_name: str = ""
    description: str = ""
    action: str = ""
    params: object = None
    path: str = ""


@attrs.frozen
class PermissionNotification:
    """``permission_notification``: ``granted``/``denied`` both false = asking.

    ``cancelled`` (crushd): the run ended while the request waited.
    ``resolved_by`` (crushd): the client id that decided, when known.
    """

    tool_call_id: str
    granted: bool = False
    denied: bool = False
    cancelled: bool = False
    resolved_by: str = ""

    @property
    def resolved(self) -> bool:
        """The request it names is decided (granted, denied or cancelled)."""
        return self.granted or self.denied or self.cancelled


@attrs.frozen
class PermissionGrant:
    """``POST permissions/grant`` body; ``action`` is one of ``GRANT_ACTIONS``."""

    permission: PermissionRequest
    action: str


@attrs.frozen
class SkipRequest:
    """``POST permissions/skip`` body; a ``session_id`` limits it to that session."""

    skip: bool
    session_id: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class SkipState:
    """``GET permissions/skip``'s answer."""

    skip: bool = False


@attrs.frozen
class Resolved:
    """``{"resolved": bool}``: whether this call decided the pending prompt."""

    resolved: bool = False


@attrs.frozen
class QuestionChoice:
    """One choice of a choice question."""

    id: str
    label: str = ""
    description: str = ""


@attrs.frozen
class QuestionItem:
    """One question of a batch; ``type`` is one of the four ``QuestionItem`` types."""

    id: str
    type: str
    question: str = ""
    label: str = ""
    description: str = ""
    choices: list[QuestionChoice] | None = None


@attrs.frozen
class QuestionBatch:
    """A pending ``question_batch_request``."""

    id: str
    session_id: str = ""
    tool_call_id: str = ""
    questions: list[QuestionItem] | None = None
    confirm_title: str = ""
    confirm_description: str = ""


@attrs.frozen
class QuestionNotification:
    """``question_batch_notification``: the batch is answered or ``cancelled``."""

    batch_id: str
    cancelled: bool = False


@attrs.frozen
class QuestionResponse:
    """One answer; ``request_id`` carries the question's id (upstream's name)."""

    request_id: str
    selected_ids: list[str] = attrs.field(factory=list, metadata=OMITEMPTY)
    fill_in_text: str = attrs.field(default="", metadata=OMITEMPTY)
    yes: bool = attrs.field(default=False, metadata=OMITEMPTY)


@attrs.frozen
class QuestionAnswer:
    """``POST questions/answer`` body."""

    batch_request_id: str
    responses: list[QuestionResponse]


@attrs.frozen
class ShellRequest:
    """``POST .../shell`` body; ``term_width`` 0 leaves the width to the daemon."""

    command: str
    term_width: int = attrs.field(default=0, metadata=OMITEMPTY)


@attrs.frozen
class ShellResult:
    """``POST .../shell``'s answer: the combined output and the exit status."""

    output: str = ""
    exit_code: int = 0
