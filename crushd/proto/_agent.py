"""Agent wire models: prompts, agent state, run events (docs/protocol.md 2.8, 3.3, 6).

The shapes are upstream's (Crush ``internal/proto``); crushd adds only
optional keys that Go decoders ignore (``delivery`` and ``client_id`` on a
prompt, ``client_id`` on ``run_complete``; docs/agent.md 7.7).

Answers without a model of their own: ``GET .../prompts/queued`` is a bare
integer, ``GET .../prompts/list`` an array of the queued prompt strings
(``[]`` when empty, docs/protocol.md 0.3), ``GET .../agent/default-small-model``
a ``SelectedModel``.
"""

from __future__ import annotations

import base64
import binascii

import attrs

from ._json import OMITEMPTY
from ._session import Message, Session

#: Outer event type of agent notifications (docs/protocol.md 3.3).
AGENT_EVENT = "agent_event"
#: Outer event type of the end-of-turn signal (docs/protocol.md 3.3, 6.1).
RUN_COMPLETE_EVENT = "run_complete"
#: Outer event type of a model call about to be retried (crushd addition,
#: docs/protocol.md 3.3, docs/agent.md 1.8).
RUN_RETRY_EVENT = "run_retry"
#: Outer event type of message changes (docs/protocol.md 3.3, 4).
MESSAGE_EVENT = "message"

#: ``AgentEvent.type``: an interactive turn ended.
AGENT_FINISHED = "agent_finished"
#: ``AgentEvent.type``: a run failed; the text is in ``error``.
AGENT_ERROR = "error"

#: ``AgentMessage.delivery``: fold into the running turn at its next step.
DELIVERY_STEER = "steer"
#: ``AgentMessage.delivery``: run as a turn of its own after the running one.
DELIVERY_QUEUE = "queue"
#: Every accepted ``AgentMessage.delivery``; ``""`` keeps upstream's rule.
DELIVERIES = ("", DELIVERY_STEER, DELIVERY_QUEUE)


@attrs.frozen
class Attachment:
    """One file sent with a prompt; ``content`` is the file's bytes in base64.

    Stored as a ``binary`` part of the user message (docs/protocol.md 4.3);
    ``file_name`` is not stored.
    """

    file_path: str = ""
    file_name: str = ""
    mime_type: str = ""
    content: str = ""

    def data(self) -> bytes:
        """Return the decoded bytes of ``content``.

        Raises:
            ValueError: ``content`` is not valid standard base64.
        """
        try:
            return base64.b64decode(self.content, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"invalid base64 content: {exc}") from None


@attrs.frozen
class AgentMessage:
    """``POST .../agent`` body: a prompt for a session (docs/protocol.md 2.8).

    Every key may be missing (the route checks ``prompt`` and ``session_id``
    itself, with upstream's texts). ``run_id`` is echoed on the turn's
    ``run_complete``. crushd additions: ``delivery`` (one of ``DELIVERIES``;
    ``""`` folds a queued prompt without ``run_id`` into the running turn and
    queues one with ``run_id``, as upstream) and ``client_id`` (who sent it).
    """

    session_id: str = ""
    run_id: str = attrs.field(default="", metadata=OMITEMPTY)
    prompt: str = ""
    attachments: list[Attachment] = attrs.field(factory=list, metadata=OMITEMPTY)
    delivery: str = attrs.field(default="", metadata=OMITEMPTY)
    client_id: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class AgentInitRequest:
    """``POST .../agent/init`` body (optional): interactive agents may ask questions."""

    interactive: bool = False


@attrs.frozen
class ShellCommandRequest:
    """``POST .../agent/sessions/{sid}/shell`` body: a user's bang command.

    ``term_width`` is the client's terminal width in columns (0: unknown); a
    ``session_id`` in the body is ignored (the path names the session).
    """

    command: str = ""
    term_width: int = 0


@attrs.frozen
class ShellCommandResponse:
    """The bang command's answer: its output (stdout and stderr) and exit code."""

    output: str
    exit_code: int


@attrs.frozen
class CatalogModel:
    """A model as the catalog describes it (catwalk's model object).

    Prices are US dollars per million tokens; ``context_window`` and
    ``default_max_tokens`` are token counts. The zero value is what
    ``GET .../agent`` answers before the agent is initialised.
    """

    id: str = ""
    name: str = ""
    cost_per_1m_in: float = 0.0
    cost_per_1m_out: float = 0.0
    cost_per_1m_in_cached: float = 0.0
    cost_per_1m_out_cached: float = 0.0
    context_window: int = 0
    default_max_tokens: int = 0
    can_reason: bool = False
    reasoning_levels: list[str] = attrs.field(factory=list, metadata=OMITEMPTY)
    default_reasoning_effort: str = attrs.field(default="", metadata=OMITEMPTY)
    supports_attachments: bool = False
    options: dict[str, object] = attrs.field(factory=dict, metadata=OMITEMPTY)


@attrs.frozen
class SelectedModel:
    """A model choice as sent on the wire (``models.large``/``small`` shape).

    The wire twin of the config's typed ``SelectedModel``, with upstream's
    omitempty keys: only ``model`` and ``provider`` are always present.
    """

    model: str = ""
    provider: str = ""
    reasoning_effort: str = attrs.field(default="", metadata=OMITEMPTY)
    think: bool = attrs.field(default=False, metadata=OMITEMPTY)
    max_tokens: int = attrs.field(default=0, metadata=OMITEMPTY)
    temperature: float | None = attrs.field(default=None, metadata=OMITEMPTY)
    top_p: float | None = attrs.field(default=None, metadata=OMITEMPTY)
    top_k: int | None = attrs.field(default=None, metadata=OMITEMPTY)
    frequency_penalty: float | None = attrs.field(default=None, metadata=OMITEMPTY)
    presence_penalty: float | None = attrs.field(default=None, metadata=OMITEMPTY)
    provider_options: dict[str, object] = attrs.field(factory=dict, metadata=OMITEMPTY)


@attrs.frozen
class AgentInfo:
    """``GET .../agent``: ``is_busy`` is true while any session of the workspace runs.

    All zero/false without an initialised agent (docs/protocol.md 2.8).
    """

    is_busy: bool = False
    is_ready: bool = False
    model: CatalogModel = attrs.field(factory=CatalogModel)
    model_cfg: SelectedModel = attrs.field(factory=SelectedModel)


#: ``GET .../agent/sessions/{sid}`` answers a Session with only ``id``,
#: ``title`` and ``is_busy`` filled (upstream embeds Session; same JSON).
AgentSession = Session


def agent_session(session_id: str, title: str, is_busy: bool) -> Session:
    """Build the ``GET .../agent/sessions/{sid}`` answer (docs/protocol.md 2.8)."""
    return Session(id=session_id, title=title, is_busy=is_busy)


def _zero_message() -> Message:
    return Message(id="", role="", session_id="")


@attrs.frozen
class AgentEvent:
    """``agent_event`` payload; ``message`` is always the zero message (upstream).

    ``type`` is ``AGENT_FINISHED`` or ``AGENT_ERROR`` today; ``error`` carries
    the failure text. The summarize and SSO keys are upstream's, unused yet.
    """

    type: str
    message: Message = attrs.field(factory=_zero_message)
    error: str = attrs.field(default="", metadata=OMITEMPTY)
    run_id: str = attrs.field(default="", metadata=OMITEMPTY)
    session_id: str = attrs.field(default="", metadata=OMITEMPTY)
    session_title: str = attrs.field(default="", metadata=OMITEMPTY)
    progress: str = attrs.field(default="", metadata=OMITEMPTY)
    done: bool = attrs.field(default=False, metadata=OMITEMPTY)
    aws_sso_command: str = attrs.field(default="", metadata=OMITEMPTY)
    aws_sso_url: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class RunComplete:
    """``run_complete`` payload: the last event of a finished turn (6.1).

    ``message_id`` (the turn's final assistant message, ``""`` when none was
    made) is always present; ``run_id``, ``text``, ``error`` and ``cancelled``
    are omitted when empty. ``client_id`` (who sent the prompt) is crushd's.
    """

    session_id: str
    message_id: str = ""
    run_id: str = attrs.field(default="", metadata=OMITEMPTY)
    text: str = attrs.field(default="", metadata=OMITEMPTY)
    error: str = attrs.field(default="", metadata=OMITEMPTY)
    cancelled: bool = attrs.field(default=False, metadata=OMITEMPTY)
    client_id: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class RunRetry:
    """``run_retry`` payload (crushd addition): a failed model call is retried.

    Published once the half-written message has been reset, before the wait.
    ``error`` is the failure as ``agent_event{error}`` would tell it (the
    API key masked); ``retry`` counts from 1 up to ``retries``, the policy's
    number of retries; ``delay_seconds`` is the wait before it. ``run_id``
    and ``client_id`` are omitted when empty, as on ``run_complete``.
    """

    session_id: str
    error: str
    retry: int
    retries: int
    delay_seconds: float
    run_id: str = attrs.field(default="", metadata=OMITEMPTY)
    client_id: str = attrs.field(default="", metadata=OMITEMPTY)


@attrs.frozen
class FileTrackerReadRequest:
    """``POST .../filetracker/read`` body: record that ``path`` was read now."""

    session_id: str = ""
    path: str = ""
