"""A live assistant message: stream events applied to its parts.

Parts are kept in their stored form, the superset of keys upstream writes
(reasoning ``thought_signature``/``tool_id``/``responses_data``, tool call
``provider_executed``, every tool result key, finish ``time``), so a database
crushd writes round-trips through upstream Crush (docs/protocol.md 4.2).
Each change says whether it is *structural* (written and published at once)
or a delta (debounced), by upstream's rule (docs/agent.md 1.5).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable

from crushd import proto

from ._lanes import PromptAttachment
from .providers import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallStart,
)
from .tools import ToolCall, ToolResult

#: Parts a retry removes: everything the stream wrote.
_STREAMED = frozenset({"text", "reasoning", "tool_call", "finish"})


def new_id() -> str:
    """A fresh message id (a UUID4 string, as upstream)."""
    return str(uuid.uuid4())


def _now() -> int:
    return int(time.time())


def _part(kind: str, **data: object) -> proto.Part:
    return proto.Part(type=kind, data=data)


def _stop() -> proto.Part:
    # upstream's Create appends this to every non-assistant message
    return _part("finish", reason="stop", time=0)


def user_message(
    session_id: str, prompt: str, attachments: Iterable[PromptAttachment] = ()
) -> proto.Message:
    """Build a prompt's user message (docs/protocol.md 4.3).

    One ``text`` part, one ``binary`` part per attachment (``Path``,
    ``MIMEType``, base64 ``Data``: upstream's PascalCase), then the
    ``finish{reason:"stop", time:0}`` upstream gives every non-assistant
    message.
    """
    parts = [_part("text", text=prompt)]
    parts += [_binary(a) for a in attachments]
    parts.append(_stop())
    return proto.Message(id=new_id(), role="user", session_id=session_id, parts=parts)


def _binary(attachment: PromptAttachment) -> proto.Part:
    data = base64.b64encode(attachment.content).decode("ascii")
    return _part(
        "binary", Path=attachment.file_path, MIMEType=attachment.mime_type, Data=data
    )


def tool_message(session_id: str, call: ToolCall, result: ToolResult) -> proto.Message:
    """Build the ``tool`` message carrying one call's result (docs/agent.md 1.4).

    Every stored ``tool_result`` key is present; ``data`` is the base64 image
    and ``mime_type`` its type when the result has media, else ``""``.
    """
    mime, data = result.media if result.media is not None else ("", b"")
    part = _part(
        "tool_result",
        tool_call_id=call.id,
        name=call.name,
        content=result.content,
        data=base64.b64encode(data).decode("ascii") if data else "",
        mime_type=mime,
        metadata=result.metadata,
        is_error=result.is_error,
    )
    return proto.Message(
        id=new_id(), role="tool", session_id=session_id, parts=[part, _stop()]
    )


class LiveMessage:
    """An assistant message under construction; mutated by one turn only.

    Args:
        session_id: the session.
        model: the model id, stored on the message.
        provider: the provider id, stored on the message.

    Source: Crush ``internal/message/content.go`` part helpers and the
    stream callbacks of ``internal/agent/agent.go``.
    """

    def __init__(self, session_id: str, model: str = "", provider: str = "") -> None:
        self.id = new_id()
        self.session_id = session_id
        self.model = model
        self.provider = provider
        self.parts: list[proto.Part] = []
        self.created_at = 0
        self._calls: dict[int, str] = {}
        self.invalid_inputs: set[str] = set()

    def snapshot(self) -> proto.Message:
        """The message as stored now (part data copied, so later edits stay out)."""
        return proto.Message(
            id=self.id,
            role="assistant",
            session_id=self.session_id,
            parts=[proto.Part(p.type, dict(p.data)) for p in self.parts],
            model=self.model,
            provider=self.provider,
            created_at=self.created_at,
        )

    def apply(self, event: StreamEvent) -> bool:
        """Apply one stream event; return True when the change is structural.

        Structural: reasoning ended, a tool call appeared or completed.
        ``Finish`` only ends reasoning: the step's finish part is set by
        ``set_finish`` after the tools ran.
        """
        if isinstance(event, ReasoningDelta):
            return self._reasoning(event.text)
        ended = self.end_reasoning()
        if isinstance(event, TextDelta):
            self._text(event.text)
        elif isinstance(event, ToolCallStart):
            return self._start_call(event.index, event.id, event.name)
        elif isinstance(event, ToolCallDelta):
            self._call_input(event.index, event.arguments)
        elif isinstance(event, ToolCallDone):
            return self._done_call(event)
        else:
            assert isinstance(event, Finish)
        return ended

    def _find(self, kind: str) -> proto.Part | None:
        return next((p for p in self.parts if p.type == kind), None)

    def _reasoning(self, text: str) -> bool:
        part = self._find("reasoning")
        if part is None:
            self.parts.append(_reasoning_part(text))
        else:
            part.data["thinking"] = str(part.data["thinking"]) + text
        return False

    def end_reasoning(self) -> bool:
        """Stamp ``finished_at`` on open reasoning; True when it was open."""
        part = self._find("reasoning")
        if part is None or part.data.get("finished_at"):
            return False
        part.data["finished_at"] = _now()
        return True

    def _text(self, text: str) -> None:
        part = self._find("text")
        if not self.parts:
            text = text.removeprefix("\n")  # upstream: not as the very first thing
        if part is None:
            if text:
                self.parts.append(_part("text", text=text))
        else:
            part.data["text"] = str(part.data["text"]) + text

    def _call(self, call_id: str) -> proto.Part | None:
        calls = (p for p in self.parts if p.type == "tool_call")
        return next((p for p in calls if p.data["id"] == call_id), None)

    def _start_call(self, index: int, call_id: str, name: str) -> bool:
        self._calls[index] = call_id
        if self._call(call_id) is None:
            self.parts.append(_call_part(call_id, name, "", finished=False))
        return True

    def _call_input(self, index: int, fragment: str) -> None:
        part = self._call(self._calls.get(index, ""))
        if part is not None and not part.data["finished"]:
            part.data["input"] = str(part.data["input"]) + fragment

    def _done_call(self, event: ToolCallDone) -> bool:
        self._calls[event.index] = event.id
        arguments = _valid_json(event.arguments)
        if arguments is None:
            self.invalid_inputs.add(event.id)
            arguments = "{}"
        part = self._call(event.id)
        if part is None:
            self.parts.append(
                _call_part(event.id, event.name, arguments, finished=True)
            )
        else:
            part.data.update(input=arguments, finished=True)
        return True

    def close_calls(self) -> bool:
        """Finish unfinished tool calls with input ``{}`` (error exits).

        Returns:
            True when a call was closed.
        """
        closed = False
        for part in self.tool_call_parts():
            if not part.data["finished"]:
                part.data.update(input="{}", finished=True)
                closed = True
        return closed

    def set_finish(self, reason: str, message: str = "", details: str = "") -> None:
        """Replace the finish part (``time`` = now, Unix seconds)."""
        self.parts = [p for p in self.parts if p.type != "finish"]
        data: dict[str, object] = {"reason": reason, "time": _now()}
        if message:
            data["message"] = message
        if details:
            data["details"] = details
        self.parts.append(proto.Part("finish", data))

    def reset(self) -> None:
        """Drop every streamed part before a retry (``ResetStreamedContent``)."""
        self.parts = [p for p in self.parts if p.type not in _STREAMED]
        self._calls.clear()
        self.invalid_inputs.clear()

    @property
    def text(self) -> str:
        """The answer text so far."""
        part = self._find("text")
        return "" if part is None else str(part.data["text"])

    @property
    def finish_reason(self) -> str:
        """The finish part's reason, ``""`` when none."""
        part = self._find("finish")
        return "" if part is None else str(part.data["reason"])

    def tool_call_parts(self) -> list[proto.Part]:
        """The ``tool_call`` parts, in call order."""
        return [p for p in self.parts if p.type == "tool_call"]

    def tool_calls(self) -> list[ToolCall]:
        """The finished tool calls, in call order."""
        return [
            ToolCall(str(p.data["id"]), str(p.data["name"]), str(p.data["input"]))
            for p in self.tool_call_parts()
            if p.data["finished"]
        ]

    @property
    def is_empty(self) -> bool:
        """True when the model wrote nothing (only a finish part, if any)."""
        return all(p.type == "finish" for p in self.parts)


def _reasoning_part(text: str) -> proto.Part:
    return _part(
        "reasoning",
        thinking=text,
        signature="",
        thought_signature="",
        tool_id="",
        responses_data=None,
        started_at=_now(),
    )


def _call_part(
    call_id: str, name: str, arguments: str, *, finished: bool
) -> proto.Part:
    return _part(
        "tool_call",
        id=call_id,
        name=name,
        input=arguments,
        provider_executed=False,
        finished=finished,
    )


def _valid_json(text: str) -> str | None:
    if not text.strip():
        return "{}"
    try:
        json.loads(text)
    except ValueError:
        return None
    return text
