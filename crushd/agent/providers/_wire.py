"""Building chat-completions request bodies from the contract's request.

Per provider type: ``openai`` takes ``max_completion_tokens`` and its
reasoning models refuse sampling parameters; OpenRouter takes the effort as
``reasoning: {effort}`` and reports cost with ``usage: {include: true}``;
Anthropic's compatibility endpoint gets no effort; everything else takes
``reasoning_effort``. Body keys: provider ``extra_body`` < the request's.
Source: Crush coordinator ``getProviderOptions`` (docs/agent.md 4.5).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from ._types import ChatMessage, StreamRequest, ToolCallRequest, ToolSpec


def request_body(
    request: StreamRequest,
    *,
    provider_type: str,
    can_reason: bool,
    extra_body: Mapping[str, object],
) -> tuple[dict[str, object], dict[str, object]]:
    """Return ``(params, extra_body)`` for ``chat.completions.create``.

    ``params`` holds the typed arguments (model, messages, tools, limits);
    ``extra_body`` the keys merged into the JSON as they are.
    """
    params: dict[str, object] = {
        "model": request.model,
        "messages": [message_json(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        params["tools"] = [tool_json(t) for t in request.tools]
    if request.max_tokens:
        cap = "max_completion_tokens" if provider_type == "openai" else "max_tokens"
        params[cap] = request.max_tokens
    if not (provider_type == "openai" and can_reason):
        _set(params, "temperature", request.temperature)
        _set(params, "top_p", request.top_p)
    body = {**extra_body, **request.extra_body}
    _effort(params, body, provider_type, request.reasoning_effort)
    return params, body


def _effort(
    params: dict[str, object], body: dict[str, object], kind: str, effort: str
) -> None:
    if kind == "openrouter":
        body.setdefault("usage", {"include": True})
        if effort:
            body.setdefault("reasoning", {"effort": effort})
    elif effort and kind != "anthropic":
        params["reasoning_effort"] = effort


def _set(params: dict[str, object], key: str, value: float | None) -> None:
    if value is not None:
        params[key] = value


def message_json(message: ChatMessage) -> dict[str, object]:
    """One history entry in chat-completions form."""
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": message.content,
        }
    if message.role == "assistant" and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [call_json(c) for c in message.tool_calls],
        }
    if message.images:
        return {"role": message.role, "content": _parts(message)}
    return {"role": message.role, "content": message.content}


def call_json(call: ToolCallRequest) -> dict[str, object]:
    """An assistant's tool call in chat-completions form."""
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments or "{}"},
    }


def tool_json(tool: ToolSpec) -> dict[str, object]:
    """A tool offer in chat-completions form."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _parts(message: ChatMessage) -> list[dict[str, object]]:
    parts: list[dict[str, object]] = []
    if message.content:
        parts.append({"type": "text", "text": message.content})
    for mime, data in message.images:
        url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts
