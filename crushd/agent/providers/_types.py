"""The provider contract: what the turn loop sends a model and what comes back.

A provider turns one ``StreamRequest`` (history, tools, limits) into an ordered
stream of events: reasoning and text deltas, tool calls growing fragment by
fragment, one ``ToolCallDone`` per call, then exactly one ``Finish``. Failures
are ``ProviderError`` with the retry facts the engine's policy needs
(docs/agent.md 1.8, 5.1): the SDK never retries on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import attrs


@attrs.frozen
class ToolSpec:
    """A tool the model is offered.

    Attributes:
        name: the tool name the model calls (``view``, ``ls``, ...).
        description: what the tool does, for the model.
        parameters: a JSON schema object (``{"type": "object", "properties":
            {...}, "required": [...]}``).
    """

    name: str
    description: str
    parameters: dict[str, object]


@attrs.frozen
class ToolCallRequest:
    """An assistant's tool call as it is sent back to the model in history.

    Attributes:
        id: the call id the model chose.
        name: the tool name.
        arguments: the arguments as JSON text, exactly as the model wrote them.
    """

    id: str
    name: str
    arguments: str


@attrs.frozen
class ChatMessage:
    """One history entry sent to the model.

    Attributes:
        role: ``"system"``, ``"user"``, ``"assistant"`` or ``"tool"``.
        content: the text.
        tool_calls: the calls an assistant message made (assistant only).
        tool_call_id: the call a tool message answers (tool only).
        images: ``(mime, data)`` attachments (user only).
    """

    role: str
    content: str = ""
    tool_calls: tuple[ToolCallRequest, ...] = ()
    tool_call_id: str = ""
    images: tuple[tuple[str, bytes], ...] = ()


@attrs.frozen
class StreamRequest:
    """One model call.

    Attributes:
        model: the provider's model id.
        messages: the history, oldest first (the system prompt first).
        tools: the tools offered; empty offers none.
        max_tokens: the output cap; ``None`` leaves it out of the request.
        temperature: sampling temperature; ``None`` leaves it out.
        top_p: nucleus sampling; ``None`` leaves it out.
        reasoning_effort: ``low``/``medium``/``high``...; ``""`` leaves it out.
        extra_body: extra JSON keys merged into the request body.
        headers: extra HTTP headers for this call only.
    """

    model: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[ToolSpec, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    reasoning_effort: str = ""
    extra_body: dict[str, object] = attrs.field(factory=dict)
    headers: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen
class Usage:
    """Token counts of one model call.

    Attributes:
        input_tokens: prompt tokens not served from the cache.
        output_tokens: completion tokens (reasoning included).
        cache_read_tokens: prompt tokens served from the provider's cache.
        cache_write_tokens: prompt tokens written to the cache.
        cost: the provider's own cost figure in USD (OpenRouter), else ``None``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost: float | None = None


@attrs.frozen
class ReasoningDelta:
    """A fragment of the model's reasoning text."""

    text: str


@attrs.frozen
class TextDelta:
    """A fragment of the answer text."""

    text: str


@attrs.frozen
class ToolCallStart:
    """A tool call begins; ``index`` orders calls within the step."""

    index: int
    id: str
    name: str


@attrs.frozen
class ToolCallDelta:
    """A fragment of call ``index``'s JSON arguments."""

    index: int
    arguments: str


@attrs.frozen
class ToolCallDone:
    """Call ``index`` is complete; ``arguments`` is the whole JSON text.

    Emitted for every call before ``Finish``.
    """

    index: int
    id: str
    name: str
    arguments: str


@attrs.frozen
class Finish:
    """The call ended.

    Attributes:
        reason: ``stop``, ``length``, ``tool_calls``, ``content_filter`` or
            whatever else the provider sent.
        usage: the call's token counts; ``None`` when the provider sent none.
    """

    reason: str
    usage: Usage | None


#: One item of ``Provider.stream``.
StreamEvent = (
    ReasoningDelta | TextDelta | ToolCallStart | ToolCallDelta | ToolCallDone | Finish
)


class ProviderError(Exception):
    """A failed model call, with what the retry policy needs to know.

    Args:
        message: the provider's (or transport's) explanation.
        status: the HTTP status, ``None`` for transport failures.
        title: a short heading for UIs (``Rate limited``, ``Unauthorized``...).
        retryable: whether another attempt may succeed (429, 408, 409, 5xx,
            overloaded, connection failures), ``False`` when the answer carried
            ``x-should-retry: false``.
        retry_after: seconds the server asked to wait (``retry-after-ms`` /
            ``retry-after``), ``None`` when it said nothing.

    Attributes:
        unauthorized: ``status == 401`` (the key is wrong or expired).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.title = title or "Provider error"
        self.retryable = retryable
        self.retry_after = retry_after

    @property
    def unauthorized(self) -> bool:
        """Whether the provider refused the credentials (HTTP 401)."""
        return self.status == 401

    def __repr__(self) -> str:
        return (
            f"ProviderError({self.message!r}, status={self.status!r}, "
            f"retryable={self.retryable!r}, retry_after={self.retry_after!r})"
        )


class Provider(Protocol):
    """A model provider: streams one call at a time; SDK retries are off."""

    def stream(self, request: StreamRequest) -> AsyncIterator[StreamEvent]:
        """Stream one call's events in order, ending with ``Finish``.

        An async generator. Raises ``ProviderError`` on failure, before or
        after some events.
        """
        ...

    async def aclose(self) -> None:
        """Release the HTTP client; the provider is unusable afterwards."""
        ...
