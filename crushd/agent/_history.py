"""What the model sees of a session: stored messages as chat messages.

The rules keep an interrupted session usable (docs/agent.md 1.14, items 4
and 5): assistant messages with nothing in them are skipped, tool results
whose call is unknown are dropped, a call left without a result gets a
synthetic error result, images are stripped for models without attachment
support, and text attachments are inlined into the prompt.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence

from crushd import proto

from ._lanes import PromptAttachment
from .providers import ChatMessage, ToolCallRequest

#: The result the model gets for a call that never got one (upstream's text).
INTERRUPTED_RESULT = (
    "tool call was interrupted and did not produce a result, "
    "you may retry this call if the result is still needed"
)
#: Tool-result text standing in for an image the model gets separately.
IMAGE_PLACEHOLDER = "[image attached in the next message]"
#: Tool-result text for stored image data that cannot be decoded (upstream).
IMAGE_UNREADABLE = "[Image data could not be loaded]"


def _parts(message: proto.Message, kind: str) -> list[dict[str, object]]:
    return [p.data for p in message.parts if p.type == kind]


def _first_text(message: proto.Message, kind: str = "text", key: str = "text") -> str:
    found = _parts(message, kind)
    return str(found[0].get(key, "")) if found else ""


def with_text_attachments(prompt: str, files: Iterable[tuple[str, str]]) -> str:
    """Append ``(path, text)`` files to a prompt as ``<file>`` blocks."""
    blocks = [_file_block(path, text) for path, text in files]
    if not blocks:
        return prompt
    intro = (
        "\n<system_info>The user attached these files to the request.</system_info>\n"
    )
    return prompt + intro + "".join(blocks)


def _file_block(path: str, text: str) -> str:
    opening = f"<file path='{path}'>" if path else "<file>"
    return f"{opening}\n\n{text}\n</file>\n"


def prompt_message(
    prompt: str, attachments: Sequence[PromptAttachment], supports_images: bool
) -> ChatMessage:
    """The new prompt as the model gets it: text files inlined, images attached.

    Image (non-text) attachments are left out when the model takes none.
    """
    texts = [
        (a.file_path, a.content.decode("utf-8", "replace"))
        for a in attachments
        if a.is_text
    ]
    images = tuple(
        (a.mime_type, a.content)
        for a in attachments
        if not a.is_text and supports_images
    )
    return ChatMessage("user", with_text_attachments(prompt, texts), images=images)


def _user(message: proto.Message, supports_images: bool) -> list[ChatMessage]:
    texts: list[tuple[str, str]] = []
    images: list[tuple[str, bytes]] = []
    for data in _parts(message, "binary"):
        mime, raw = str(data.get("MIMEType", "")), _b64(data.get("Data"))
        if mime.startswith("text/"):
            texts.append((str(data.get("Path", "")), raw.decode("utf-8", "replace")))
        elif supports_images and raw:
            images.append((mime, raw))
    text = with_text_attachments(_first_text(message).strip(), texts)
    for shell in _parts(message, "shell_command"):
        block = f"$ {shell.get('command', '')}\n{shell.get('output', '')}\n"
        block += f"(exit code {shell.get('exit_code', 0)})"
        text = f"{text}\n\n{block}" if text else block
    return [ChatMessage("user", text, images=tuple(images))]


def _b64(value: object) -> bytes:
    try:
        return base64.b64decode(str(value or ""), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _calls(message: proto.Message) -> list[ToolCallRequest]:
    return [
        ToolCallRequest(str(d["id"]), str(d["name"]), str(d.get("input") or "{}"))
        for d in _parts(message, "tool_call")
    ]


def _is_empty_assistant(message: proto.Message) -> bool:
    return not (
        _calls(message)
        or _first_text(message)
        or _first_text(message, "reasoning", "thinking")
    )


def _tool(
    message: proto.Message, calls: set[str], supports_images: bool
) -> list[ChatMessage]:
    out: list[ChatMessage] = []
    images: list[tuple[str, bytes]] = []
    for data in _parts(message, "tool_result"):
        call_id = str(data.get("tool_call_id", ""))
        if call_id not in calls:
            continue  # an orphan result: its call is not in the history
        content = str(data.get("content", ""))
        if data.get("data") and not data.get("is_error"):
            raw = _b64(data["data"])
            content = IMAGE_PLACEHOLDER if raw and supports_images else IMAGE_UNREADABLE
            if raw and supports_images:
                images.append((str(data.get("mime_type", "")), raw))
        out.append(ChatMessage("tool", content, tool_call_id=call_id))
    if images:  # chat completions take images only in user messages
        out.append(ChatMessage("user", "", images=tuple(images)))
    return out


def history(
    messages: Sequence[proto.Message],
    *,
    supports_images: bool = False,
    summary_message_id: str = "",
) -> list[ChatMessage]:
    """Convert a session's stored messages to the chat history sent to the model.

    Args:
        messages: the session's messages, oldest first.
        supports_images: whether the model takes images; without it image
            attachments and image tool results are left out.
        summary_message_id: when set, history starts at that message, sent
            as a user message.

    Returns:
        Chat messages in order; every assistant tool call is followed by a
        result (a synthetic error when the stored history has none).

    Source: Crush ``agent.go`` ``preparePrompt`` and
    ``syntheticToolResultsForOrphanedCalls``.
    """
    messages = _from_summary(messages, summary_message_id)
    calls = {c.id for m in messages if m.role == "assistant" for c in _calls(m)}
    answered = {
        str(d.get("tool_call_id", ""))
        for m in messages
        if m.role == "tool"
        for d in _parts(m, "tool_result")
    }
    out: list[ChatMessage] = []
    for message in messages:
        out += _convert(message, calls, answered, supports_images, summary_message_id)
    return out


def _from_summary(
    messages: Sequence[proto.Message], summary_message_id: str
) -> Sequence[proto.Message]:
    ids = [m.id for m in messages]
    if summary_message_id and summary_message_id in ids:
        return messages[ids.index(summary_message_id) :]
    return messages


def _convert(
    message: proto.Message,
    calls: set[str],
    answered: set[str],
    supports_images: bool,
    summary_message_id: str,
) -> list[ChatMessage]:
    if message.id == summary_message_id and summary_message_id:
        return [ChatMessage("user", _first_text(message).strip())]
    if message.role == "user":
        return _user(message, supports_images)
    if message.role == "tool":
        return _tool(message, calls, supports_images)
    if message.role != "assistant" or _is_empty_assistant(message):
        return []
    requests = _calls(message)
    out = [ChatMessage("assistant", _first_text(message).strip(), tuple(requests))]
    out += [
        ChatMessage("tool", INTERRUPTED_RESULT, tool_call_id=c.id)
        for c in requests
        if c.id not in answered
    ]
    return out
