"""Follow one prompt's run through a workspace's events: new text, tool calls, end.

``RunFollower`` is a synchronous state machine: feed it every event of the
stream (opened before the prompt was sent) and it says which belong to the
run and what is new in them. Each ``message`` update carries the whole
message (docs/protocol.md 3.3, 4), so the follower keeps each assistant
message's text and reports only what was added.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from crushd.proto import Event, Message, RunComplete, RunRetry, from_json

from ._parts import (
    finish_error,
    finish_part,
    message_text,
    parts_of,
    plain_parts,
    text_field,
)


@attrs.frozen
class TextChunk:
    """New text of an assistant message of the run.

    Attributes:
        message_id: the assistant message.
        text: the added text (leading white space of the run's first text is
            dropped, as is text that is only white space before any real text).
        first: the first text printed of this message (a new step began).
        restarted: the message's text was replaced rather than extended (a
            retried model call): ``text`` is the whole new text.
    """

    message_id: str
    text: str
    first: bool = False
    restarted: bool = False


@attrs.frozen
class ToolCallSeen:
    """A tool call of the run whose input is complete.

    Attributes:
        id: the tool call id.
        name: the tool name (``view``, ``ls``, ...).
        input: the arguments as the model sent them (JSON text).
    """

    id: str
    name: str
    input: str


@attrs.frozen
class RetrySeen:
    """The run's model call failed and is tried again (``run_retry``).

    Attributes:
        error: the failure, as the daemon tells it.
        retry: this retry's number, from 1.
        retries: how many retries the daemon allows in all.
        delay_seconds: the wait before the retry.
    """

    error: str
    retry: int
    retries: int
    delay_seconds: float


@attrs.frozen
class RunResult:
    """How the run ended: its ``run_complete`` (or the stored messages).

    Attributes:
        session_id: the session.
        run_id: the run id the prompt was sent with.
        message_id: the final assistant message (``""`` when unknown).
        text: the final assistant text.
        error: the error text, ``""`` on success.
        cancelled: the run was cancelled.
    """

    session_id: str
    run_id: str
    message_id: str = ""
    text: str = ""
    error: str = ""
    cancelled: bool = False

    @property
    def outcome(self) -> str:
        """``ok``, ``error`` or ``cancelled``."""
        if self.cancelled:
            return "cancelled"
        return "error" if self.error else "ok"


#: What ``RunFollower.feed`` reports.
RunOutput = TextChunk | ToolCallSeen | RetrySeen | RunResult


@attrs.frozen
class Step:
    """``RunFollower.feed``'s answer for one event.

    Attributes:
        belongs: the event is part of the run (for ``--json`` output).
        outputs: what is new, in order.
    """

    belongs: bool
    outputs: tuple[RunOutput, ...] = ()


class RunFollower:
    """Pick one run's text, tool calls and end out of a workspace's events.

    The run starts with the ``message created`` of a ``user`` message of the
    session whose text is the prompt; from then on the session's assistant
    messages are the run's (prompts folded into the turn included). It ends
    with the ``run_complete`` that echoes ``run_id``.

    Args:
        session_id: the session the prompt was sent to.
        run_id: the run id the prompt was sent with.
        prompt: the prompt text.

    Attributes:
        result: the run's end, once seen.

    Source: docs/protocol.md 6.1 (a run's events, in order), 3.4 (one order).
    """

    def __init__(self, session_id: str, run_id: str, prompt: str) -> None:
        self.session_id = session_id
        self.run_id = run_id
        self.prompt = prompt
        self.result: RunResult | None = None
        self._started = False
        self._texts: dict[str, str] = {}
        self._calls: dict[str, tuple[str, str]] = {}
        self._announced: set[str] = set()
        self._texted: set[str] = set()

    def missed_events(self) -> None:
        """Note that events were lost (``resync``): the run may have begun unseen.

        From now on every message of the session counts as the run's.
        """
        self._started = True

    def feed(self, event: Event) -> Step:
        """Take the stream's next event: is it the run's, and what is new in it."""
        payload = event.payload
        if self.result is not None or not isinstance(payload, dict):
            return Step(belongs=False)
        if event.type == "run_complete":
            return self._run_complete(payload)
        if event.type == "message" and payload.get("session_id") == self.session_id:
            return self._message(event.event_type, payload)
        if event.type == "run_retry":
            return self._retry(payload)
        if event.type in ("session", "agent_event"):
            key = "id" if event.type == "session" else "session_id"
            return Step(belongs=self._started and payload.get(key) == self.session_id)
        return Step(belongs=False)

    def settle(self, messages: Sequence[Message]) -> tuple[RunOutput, ...]:
        """End the run from the session's stored messages (its end was not seen).

        Reports the text not yet reported and a ``RunResult`` built from the
        last assistant message after the prompt: an ``error`` finish is an
        error, a ``canceled`` finish a cancel.
        """
        self._started = True
        mine = _after_prompt(messages, self.prompt)
        outputs: list[RunOutput] = []
        for message in mine:
            outputs += self._message("updated", _plain(message)).outputs
        last = next((m for m in reversed(mine) if m.role == "assistant"), None)
        self.result = _result_of(self.session_id, self.run_id, last)
        return (*outputs, self.result)

    def _run_complete(self, payload: dict[str, object]) -> Step:
        try:
            done = from_json(payload, RunComplete)
        except ValueError:
            return Step(belongs=False)  # malformed: not a run's end we can read
        if (done.session_id, done.run_id) != (self.session_id, self.run_id):
            return Step(belongs=False)
        self.result = RunResult(
            session_id=self.session_id,
            run_id=self.run_id,
            message_id=done.message_id,
            text=done.text or self._texts.get(done.message_id, ""),
            error=done.error,
            cancelled=done.cancelled,
        )
        return Step(belongs=True, outputs=(*self._final_text(), self.result))

    def _retry(self, payload: dict[str, object]) -> Step:
        # By session, not run_id: a prompt folded into a turn runs under the
        # turn's run_id.
        if not self._started or payload.get("session_id") != self.session_id:
            return Step(belongs=False)
        try:
            notice = from_json(payload, RunRetry)
        except ValueError:
            return Step(belongs=True)  # malformed: nothing to tell
        seen = RetrySeen(
            notice.error, notice.retry, notice.retries, notice.delay_seconds
        )
        return Step(belongs=True, outputs=(seen,))

    def _message(self, change: str, message: dict[str, object]) -> Step:
        role = message.get("role")
        if not self._started:
            if change != "created" or role != "user":
                return Step(belongs=False)
            if message_text(message.get("parts")).strip() != self.prompt.strip():
                return Step(belongs=False)
            self._started = True
        parts = message.get("parts")
        outputs: list[RunOutput] = []
        if role == "assistant" and change != "deleted":
            outputs += self._text(text_field(message, "id"), message_text(parts))
            outputs += self._tool_calls(parts)
        elif role == "tool":
            outputs += self._tool_results(parts)
        return Step(belongs=True, outputs=tuple(outputs))

    def _text(self, message_id: str, text: str) -> list[RunOutput]:
        known = self._texts.get(message_id, "")
        if text.startswith(known):
            self._texts[message_id] = text
            return self._added(message_id, text[len(known) :])
        if known.startswith(text):
            return []  # cut back (a retry began): wait until it grows past
        self._texts[message_id] = text
        return self._added(message_id, text, restarted=True)

    def _added(
        self, message_id: str, text: str, *, restarted: bool = False
    ) -> list[RunOutput]:
        if not self._texted:
            text = text.lstrip()
        if not text:
            return []
        first = message_id not in self._texted
        self._texted.add(message_id)
        return [TextChunk(message_id, text, first=first, restarted=restarted)]

    def _tool_calls(self, parts: object) -> list[RunOutput]:
        outputs: list[RunOutput] = []
        for data in parts_of(parts, "tool_call"):
            call_id = text_field(data, "id")
            self._calls[call_id] = (text_field(data, "name"), text_field(data, "input"))
            if data.get("finished") is True:
                outputs += self._announce(call_id)
        return outputs

    def _tool_results(self, parts: object) -> list[RunOutput]:
        outputs: list[RunOutput] = []
        for data in parts_of(parts, "tool_result"):
            call_id = text_field(data, "tool_call_id")
            self._calls.setdefault(call_id, (text_field(data, "name"), ""))
            outputs += self._announce(call_id)
        return outputs

    def _announce(self, call_id: str) -> list[RunOutput]:
        if call_id in self._announced:
            return []
        self._announced.add(call_id)
        name, arguments = self._calls[call_id]
        return [ToolCallSeen(call_id, name, arguments)]

    def _final_text(self) -> list[RunOutput]:
        # run_complete carries the final text; report what the updates missed.
        assert self.result is not None
        message_id, text = self.result.message_id, self.result.text
        if not text or not message_id:
            return []
        known = self._texts.get(message_id, "")
        if not text.startswith(known):
            return []
        return self._text(message_id, text)


def _plain(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "role": message.role,
        "session_id": message.session_id,
        "parts": plain_parts(message),
    }


def _after_prompt(messages: Sequence[Message], prompt: str) -> list[Message]:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        text = message_text(plain_parts(message))
        if message.role == "user" and text.strip() == prompt.strip():
            return list(messages[index + 1 :])
    return []


def _result_of(session_id: str, run_id: str, last: Message | None) -> RunResult:
    if last is None:
        return RunResult(session_id, run_id, error="the run left no answer")
    parts = plain_parts(last)
    finish = finish_part(parts) or {}
    reason = finish.get("reason")
    return RunResult(
        session_id=session_id,
        run_id=run_id,
        message_id=last.id,
        text=message_text(parts),
        error=finish_error(finish) if reason == "error" else "",
        cancelled=reason == "canceled",
    )
