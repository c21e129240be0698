"""``crushctl messages``: a session's messages as a readable transcript."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

from crushctl import CrushctlError, plain_parts, text_field
from crushd.proto import Message

from ._common import Context, joined_workspace
from ._output import format_time, print_json
from ._render import clip

#: Lines of a tool result (or shell output) shown before ``… N more lines``.
RESULT_LINES = 5
#: The longest rendering of a tool call's arguments, in characters.
ARGUMENTS_CHARS = 300
#: Finish reasons not worth a line: the turn or step simply ended.
_QUIET_FINISHES = frozenset({"end_turn", "tool_use", "stop", ""})
_INDENT = "  "


async def cmd_messages(ctx: Context, args: argparse.Namespace) -> None:
    """Print a session's messages (``--session``, default the latest session).

    Raises:
        CrushctlError: the workspace has no session.
        NotFoundError: 404, ``--session`` names no session.
    """
    client = ctx.client
    async with joined_workspace(
        client, getattr(args, "cwd", None), spawn=ctx.spawn
    ) as ws:
        session_id = args.session or await _latest_session(ctx, ws.id)
        messages = await client.messages(ws.id, session_id)
    if ctx.json:
        print_json(messages)
        return
    for number, message in enumerate(messages):
        if number:
            print()
        print("\n".join(transcript_lines(message)))


async def _latest_session(ctx: Context, workspace_id: str) -> str:
    sessions = await ctx.client.sessions(workspace_id)  # most recent first
    if not sessions:
        raise CrushctlError("the workspace has no sessions")
    return sessions[0].id


def transcript_lines(message: Message) -> list[str]:
    """Return a message as a header line and its indented parts.

    Header: ``<role> [provider/model] (<local time>)``. Parts: text as is,
    reasoning on one clipped line, tool calls with their arguments, tool
    results and shell output cut to ``RESULT_LINES`` lines, attachments by
    path, and a finish line unless the turn or step just ended.
    """
    lines = [_header(message)]
    for kind, data in _parts(message):
        lines += [_INDENT + line for line in _part_lines(kind, data)]
    return lines


def _header(message: Message) -> str:
    model = f"{message.provider}/{message.model}" if message.model else ""
    when = f"({format_time(message.created_at)})" if message.created_at else ""
    return " ".join(word for word in (message.role, model, when) if word)


def _parts(message: Message) -> Iterator[tuple[str, dict[str, object]]]:
    for part in plain_parts(message):
        if isinstance(part, dict) and isinstance(part.get("data"), dict):
            yield str(part.get("type", "")), part["data"]


def _part_lines(kind: str, data: dict[str, object]) -> list[str]:
    render = _RENDERERS.get(kind)
    if render is None:
        return [f"[{kind}]"]
    return render(data)


def _text(data: dict[str, object]) -> list[str]:
    return text_field(data, "text").splitlines() or [""]


def _reasoning(data: dict[str, object]) -> list[str]:
    thinking = text_field(data, "thinking")
    return [f"(thinking) {clip(thinking)}"] if thinking.strip() else []


def _tool_call(data: dict[str, object]) -> list[str]:
    arguments = _compact(text_field(data, "input"))
    line = f"→ {text_field(data, 'name')} {clip(arguments, ARGUMENTS_CHARS)}"
    return [line.rstrip()]


def _tool_result(data: dict[str, object]) -> list[str]:
    error = " error" if data.get("is_error") is True else ""
    head = f"← {text_field(data, 'name')}{error}:"
    if media := text_field(data, "mime_type"):
        head += f" [{media}]"
    return [head, *_shortened(text_field(data, "content"))]


def _finish(data: dict[str, object]) -> list[str]:
    reason = text_field(data, "reason")
    if reason in _QUIET_FINISHES:
        return []
    details = [text_field(data, key) for key in ("message", "details")]
    said = ": ".join(d for d in details if d)
    return [f"[{reason}{': ' + clip(said) if said else ''}]"]


def _binary(data: dict[str, object]) -> list[str]:
    return [f"[attachment {text_field(data, 'Path')} ({text_field(data, 'MIMEType')})]"]


def _image(data: dict[str, object]) -> list[str]:
    return [f"[image {clip(text_field(data, 'url'))}]"]


def _shell(data: dict[str, object]) -> list[str]:
    command = f"$ {text_field(data, 'command')}  (exit {data.get('exit_code', '?')})"
    return [command, *_shortened(text_field(data, "output"))]


def _shortened(text: str) -> list[str]:
    lines = text.rstrip().splitlines()
    shown = [_INDENT + line for line in lines[:RESULT_LINES]]
    if len(lines) > RESULT_LINES:
        shown.append(f"{_INDENT}… {len(lines) - RESULT_LINES} more lines")
    return shown


def _compact(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False)
    except ValueError:
        return arguments


_RENDERERS = {
    "text": _text,
    "reasoning": _reasoning,
    "tool_call": _tool_call,
    "tool_result": _tool_result,
    "finish": _finish,
    "binary": _binary,
    "image_url": _image,
    "shell_command": _shell,
}
