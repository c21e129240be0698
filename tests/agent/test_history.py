"""Tests for crushd/agent/_history.py: stored messages as model history."""

from __future__ import annotations

import base64

from crushd import proto
from crushd.agent._history import (
    IMAGE_PLACEHOLDER,
    INTERRUPTED_RESULT,
    history,
    prompt_message,
)
from crushd.agent._lanes import PromptAttachment
from crushd.agent.providers import ChatMessage, ToolCallRequest


def part(kind: str, **data: object) -> proto.Part:
    return proto.Part(kind, data)


def msg(mid: str, role: str, *parts: proto.Part) -> proto.Message:
    return proto.Message(id=mid, role=role, session_id="s", parts=list(parts))


def call(cid: str, name: str = "view", inp: str = '{"file_path":"a"}') -> proto.Part:
    return part("tool_call", id=cid, name=name, input=inp, finished=True)


def result(cid: str, content: str = "ok", **extra: object) -> proto.Part:
    return part("tool_result", tool_call_id=cid, name="view", content=content, **extra)


def test_plain_conversation() -> None:
    """User text and assistant text are sent trimmed, in order."""
    msgs = [
        msg("1", "user", part("text", text=" hi "), part("finish", reason="stop")),
        msg(
            "2",
            "assistant",
            part("text", text="hello\n"),
            part("finish", reason="end_turn"),
        ),
    ]
    assert history(msgs) == [
        ChatMessage("user", "hi"),
        ChatMessage("assistant", "hello"),
    ]


def test_empty_assistant_messages_are_skipped() -> None:
    """An assistant cancelled before any output is left out (upstream
    TestPreparePrompt twin)."""
    msgs = [
        msg("1", "user", part("text", text="hi")),
        msg("2", "assistant", part("finish", reason="canceled")),
    ]
    assert history(msgs) == [ChatMessage("user", "hi")]


def test_orphan_tool_result_is_dropped() -> None:
    """A result whose call is not in the history is dropped."""
    msgs = [msg("1", "user", part("text", text="hi")), msg("2", "tool", result("gone"))]
    assert history(msgs) == [ChatMessage("user", "hi")]


def test_unanswered_call_gets_synthetic_error_result() -> None:
    """A call with no result gets the interrupted result right after its
    assistant message (TestPreparePrompt_OrphanedToolUse twin)."""
    msgs = [
        msg("1", "user", part("text", text="hi")),
        msg("2", "assistant", call("c1"), call("c2")),
        msg("3", "tool", result("c1")),
    ]
    out = history(msgs)
    assert out[1] == ChatMessage(
        "assistant",
        "",
        (
            ToolCallRequest("c1", "view", '{"file_path":"a"}'),
            ToolCallRequest("c2", "view", '{"file_path":"a"}'),
        ),
    )
    assert out[2] == ChatMessage("tool", INTERRUPTED_RESULT, tool_call_id="c2")
    assert out[3] == ChatMessage("tool", "ok", tool_call_id="c1")


def test_text_attachments_inlined_images_only_when_supported() -> None:
    """Stored text attachments are inlined as <file> blocks; images are sent
    only to models that take them."""
    png = base64.b64encode(b"PNG").decode()
    txt = base64.b64encode(b"body").decode()
    user = msg(
        "1",
        "user",
        part("text", text="look"),
        part("binary", Path="/p/a.txt", MIMEType="text/plain", Data=txt),
        part("binary", Path="/p/b.png", MIMEType="image/png", Data=png),
    )
    without = history([user])[0]
    assert "<file path='/p/a.txt'>\n\nbody\n</file>" in without.content
    assert without.content.startswith("look")
    assert without.images == ()
    assert history([user], supports_images=True)[0].images == (("image/png", b"PNG"),)


def test_image_tool_result_goes_in_a_user_message() -> None:
    """Chat completions take images only in user messages: the tool result
    gets a placeholder and a user message carries the image."""
    data = base64.b64encode(b"IMG").decode()
    msgs = [
        msg("2", "assistant", call("c1")),
        msg("3", "tool", result("c1", "loaded", data=data, mime_type="image/png")),
    ]
    out = history(msgs, supports_images=True)
    assert out[1] == ChatMessage("tool", IMAGE_PLACEHOLDER, tool_call_id="c1")
    assert out[2] == ChatMessage("user", "", images=(("image/png", b"IMG"),))
    assert len(history(msgs)) == 2


def test_shell_command_parts_rendered() -> None:
    """A shell command stored on a user message is shown as $ cmd, output, exit code."""
    user = msg(
        "1", "user", part("shell_command", command="ls", output="a\n", exit_code=0)
    )
    assert history([user])[0].content == "$ ls\na\n\n(exit code 0)"


def test_history_starts_at_summary_message_as_user() -> None:
    """History starts at the summary message, sent as a user message."""
    msgs = [
        msg("1", "user", part("text", text="old")),
        msg("2", "assistant", part("text", text="summary")),
        msg("3", "user", part("text", text="new")),
    ]
    assert history(msgs, summary_message_id="2") == [
        ChatMessage("user", "summary"),
        ChatMessage("user", "new"),
    ]


def test_prompt_message_inlines_text_attachments() -> None:
    """The new prompt gets text files inlined and images attached when supported."""
    atts = [
        PromptAttachment("/p/a.md", "a.md", "text/markdown", b"# A"),
        PromptAttachment("/p/i.png", "i.png", "image/png", b"I"),
    ]
    plain = prompt_message("do it", atts, supports_images=False)
    assert plain.role == "user"
    assert "<file path='/p/a.md'>\n\n# A\n</file>" in plain.content
    assert plain.images == ()
    assert prompt_message("do it", atts, supports_images=True).images == (
        ("image/png", b"I"),
    )
    assert prompt_message("x", [], supports_images=True) == ChatMessage("user", "x")
