"""How a turn's end is told: finish reasons, error finishes, event texts.

A step's provider finish reason maps to a stored finish reason; a turn that
fails or is cancelled gets a finish part with a title and details, and the
text that ``agent_event{error}`` and ``run_complete.error`` carry
(docs/agent.md 1.8, docs/protocol.md 4.2).
"""

from __future__ import annotations

import string

import attrs

from .providers import ProviderError

#: The finish message of a cancelled turn (upstream's text).
CANCELED_MESSAGE = "User canceled request"
#: The title of a failure that names none.
DEFAULT_TITLE = "Provider Error"
#: Result text for a call left unanswered by a cancel (upstream's text).
CANCELLED_TOOL_RESULT = "Error: user cancelled assistant tool calling"
#: Result text for a call left unanswered by a failure (upstream's text).
FAILED_TOOL_RESULT = "There was an error while executing the tool"
#: Result text for a call whose arguments were not JSON (upstream's text).
INVALID_INPUT_RESULT = (
    "Tool call failed: arguments were not valid JSON. "
    "Please check your tool call format and try again."
)

_STEP_REASONS = {
    "length": "max_tokens",
    "stop": "end_turn",
    "tool_calls": "tool_use",
    "content_filter": "content_filter",
}


def step_finish_reason(provider_reason: str, *, stop_turn: bool = False) -> str:
    """Map a provider's finish reason to the stored one.

    ``length`` -> ``max_tokens``, ``stop`` -> ``end_turn``, ``tool_calls``
    -> ``tool_use`` (``end_turn`` when a tool result asked to stop the turn),
    ``content_filter`` -> itself, anything else -> ``unknown``.

    Source: Crush ``agent.go`` ``OnStepFinish``.
    """
    reason = _STEP_REASONS.get(provider_reason, "unknown")
    if reason == "tool_use" and stop_turn:
        return "end_turn"
    return reason


@attrs.frozen
class TurnFailure:
    """How a failed or cancelled turn is recorded.

    Attributes:
        reason: the finish reason, ``canceled`` or ``error``.
        title: the finish part's ``message``.
        details: the finish part's ``details``.
        error: the ``agent_event``/``run_complete`` error text; ``""`` for a
            cancel (which publishes no error).
    """

    reason: str
    title: str
    details: str = ""
    error: str = ""

    @property
    def cancelled(self) -> bool:
        """Whether this is a cancel rather than a failure."""
        return self.reason == "canceled"


#: The record of a cancelled turn.
CANCELLED = TurnFailure("canceled", CANCELED_MESSAGE)


def describe_failure(exc: BaseException) -> TurnFailure:
    """Describe a turn-ending exception (not a cancel) for the finish part.

    A ``ProviderError`` gives its capitalised title (``Provider Error`` when
    none) and message; anything else is a ``Provider Error`` with the
    exception's text. The event text is ``title: message``, as upstream's
    error strings read.
    """
    if isinstance(exc, ProviderError):
        title = _capitalise(exc.title) or DEFAULT_TITLE
        return TurnFailure("error", title, exc.message, f"{exc.title}: {exc.message}")
    text = str(exc) or type(exc).__name__
    return TurnFailure("error", DEFAULT_TITLE, text, text)


def _capitalise(text: str) -> str:
    # upstream title-cases every word (golang.org/x/text cases.Title)
    return string.capwords(text)
