"""The ``view`` tool: numbered slices, limits, images, suggestions, reads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from crushd.agent.tools import (
    MAX_IMAGE_BYTES,
    MAX_LINE_CHARS,
    MAX_SECTION_BYTES,
    PERMISSION_DENIED_TEXT,
    PermissionAsk,
    ToolResult,
    ViewTool,
)

from ._gate import RecordingGate
from ._helpers import FakeReads, call, write
from .conftest import MakeContext

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 32


async def view(
    ctx_maker: MakeContext, args: Mapping[str, object], **ctx: object
) -> ToolResult:
    return await call(ViewTool(), ctx_maker(**ctx), json.dumps(args))


async def test_numbered_lines_match_upstream_form(
    workspace: Path, make_ctx: MakeContext
) -> None:
    """Six-column numbers, a bar, the line; a final newline shows a last empty line."""
    write(workspace, {"go.mod": "module example.com/testproject\n\ngo 1.23\n"})
    result = await view(make_ctx, {"file_path": "go.mod"})
    assert not result.is_error
    assert result.content == (
        "<file>\n     1|module example.com/testproject\n     2|\n"
        "     3|go 1.23\n     4|\n</file>\n"
    )
    meta = json.loads(result.metadata)
    assert meta == {"file_path": str(workspace / "go.mod"), "content": meta["content"]}


async def test_absolute_path_inside_root_works(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"a.txt": "x"})
    result = await view(make_ctx, {"file_path": str(workspace / "a.txt")})
    assert result.content == "<file>\n     1|x\n</file>\n"


async def test_default_limit_is_200_lines_with_a_more_note(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"big.txt": "".join(f"line {n}\n" for n in range(1, 501))})
    result = await view(make_ctx, {"file_path": "big.txt"})
    body = result.content.splitlines()
    assert body[1] == "     1|line 1"
    assert body[200] == "   200|line 200"
    assert "   201|" not in result.content
    assert "Use 'offset' parameter to read beyond line 200)" in result.content


async def test_offset_and_limit_pick_a_slice(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": "a\nb\nc\nd\n"})
    result = await view(make_ctx, {"file_path": "f.txt", "offset": 1, "limit": 2})
    assert result.content == (
        "<file>\n     2|b\n     3|c\n\n"
        "(File has more lines. Use 'offset' parameter to read beyond line 3)\n</file>\n"
    )


async def test_slice_of_one_empty_line_is_still_numbered(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": "a\n\nc\n"})
    result = await view(make_ctx, {"file_path": "f.txt", "offset": 1, "limit": 1})
    assert result.content.startswith("<file>\n     2|\n\n(File has more lines.")


async def test_offset_past_the_end_gives_an_empty_section(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": "a\nb\n"})
    result = await view(make_ctx, {"file_path": "f.txt", "offset": 10})
    assert result.content == "<file>\n\n</file>\n"


async def test_numbers_wider_than_six_columns_are_not_cut(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": "x\n" * 1_000_001})
    result = await view(make_ctx, {"file_path": "f.txt", "offset": 999_998, "limit": 2})
    assert "999999|x\n1000000|x\n\n(File has more" in result.content


async def test_long_lines_are_cut_at_2000_characters(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": "é" * 5000 + "\nshort\n"})
    result = await view(make_ctx, {"file_path": "f.txt"})
    first = result.content.splitlines()[1]
    assert first == "     1|" + "é" * MAX_LINE_CHARS + "..."
    assert "     2|short" in result.content


async def test_very_long_line_without_newline_is_cut(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": "ab" * 500_000})
    result = await view(make_ctx, {"file_path": "f.txt"})
    assert result.content == "<file>\n     1|" + "ab" * 1000 + "...\n</file>\n"


async def test_section_over_200_kb_is_an_error(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": ("y" * 1500 + "\n") * 200})
    result = await view(make_ctx, {"file_path": "f.txt"})
    assert result.is_error
    assert "Content section is too large" in result.content
    assert f"Maximum size is {MAX_SECTION_BYTES} bytes" in result.content
    smaller = await view(make_ctx, {"file_path": "f.txt", "limit": 100})
    assert not smaller.is_error


async def test_invalid_utf8_is_an_error(workspace: Path, make_ctx: MakeContext) -> None:
    write(workspace, {"f.bin": b"ok\n\xff\xfe\n"})
    result = await view(make_ctx, {"file_path": "f.bin"})
    assert result.is_error
    assert result.content == "File content is not valid UTF-8"


async def test_crlf_lines_lose_the_carriage_return(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"f.txt": b"a\r\nb\r\n"})
    result = await view(make_ctx, {"file_path": "f.txt"})
    assert "     1|a\n     2|b\n" in result.content


async def test_image_is_media_when_the_model_takes_images(
    workspace: Path, make_ctx: MakeContext, reads: FakeReads
) -> None:
    write(workspace, {"pic.png": PNG})
    result = await view(make_ctx, {"file_path": "pic.png"}, supports_images=True)
    assert not result.is_error
    assert result.media == ("image/png", PNG)
    assert reads.recorded == []  # images are not text reads (as upstream)


async def test_image_type_is_sniffed_not_taken_from_the_extension(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"pic.png": JPEG})
    result = await view(make_ctx, {"file_path": "pic.png"}, supports_images=True)
    assert result.media == ("image/jpeg", JPEG)


async def test_image_without_support_is_an_error(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"pic.webp": b"RIFF\0\0\0\0WEBPVP8 "})
    result = await view(make_ctx, {"file_path": "pic.webp"})
    assert result.is_error
    assert "does not support image data" in result.content
    assert result.media is None


async def test_image_over_200_kb_is_an_error(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"pic.gif": b"GIF89a" + b"\0" * MAX_IMAGE_BYTES})
    result = await view(make_ctx, {"file_path": "pic.gif"}, supports_images=True)
    assert result.is_error
    assert "Image file is too large" in result.content


async def test_not_found_suggests_up_to_three_similar_names(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(
        workspace, dict.fromkeys(("main.go", "main.go.bak", "main.gox", "main.go2"), "")
    )
    result = await view(make_ctx, {"file_path": "main.g"})
    assert result.is_error
    lines = result.content.splitlines()
    assert lines[0] == f"File not found: {workspace / 'main.g'}"
    assert lines[2] == "Did you mean one of these?"
    assert lines[3:] == [
        str(workspace / n) for n in ("main.go", "main.go.bak", "main.go2")
    ]


async def test_not_found_without_similar_names(
    workspace: Path, make_ctx: MakeContext
) -> None:
    result = await view(make_ctx, {"file_path": "nothing.txt"})
    assert result.content == f"File not found: {workspace / 'nothing.txt'}"


async def test_directory_is_an_error(workspace: Path, make_ctx: MakeContext) -> None:
    (workspace / "sub").mkdir()
    result = await view(make_ctx, {"file_path": "sub"})
    assert result.is_error
    assert result.content.startswith("Path is a directory")


async def test_text_read_is_recorded(
    workspace: Path, make_ctx: MakeContext, reads: FakeReads
) -> None:
    write(workspace, {"a.txt": "x"})
    await view(make_ctx, {"file_path": "a.txt"})
    assert reads.recorded == [("s1", workspace / "a.txt")]


async def test_failed_read_is_not_recorded(
    workspace: Path, make_ctx: MakeContext, reads: FakeReads
) -> None:
    await view(make_ctx, {"file_path": "missing.txt"})
    assert reads.recorded == []


async def test_outside_root_asks_read_permission_and_reads_when_allowed(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path, reads: FakeReads
) -> None:
    write(tmp_path, {"secret.txt": "s"})
    secret = workspace.parent / "secret.txt"
    for given in (str(tmp_path / "secret.txt"), "../secret.txt"):
        gate = RecordingGate(allow=True)
        args = {"file_path": given, "offset": 0, "limit": 5}
        result = await view(make_ctx, args, permissions=gate)
        assert result.content == "<file>\n     1|s\n</file>\n"
        assert gate.asks[0][:2] == ("s1", "call_1")
        assert gate.only_ask == PermissionAsk(
            tool_name="view",
            action="read",
            path=str(secret),
            description=f"Read file outside working directory: {secret}",
            params={"file_path": given, "offset": 0, "limit": 5},
        )
    assert reads.recorded == [("s1", secret), ("s1", secret)]


async def test_outside_root_denied_gives_the_denied_result(
    make_ctx: MakeContext, tmp_path: Path, reads: FakeReads
) -> None:
    write(tmp_path, {"secret.txt": "s"})
    gate = RecordingGate(allow=False)
    result = await view(make_ctx, {"file_path": "../secret.txt"}, permissions=gate)
    assert result == make_ctx().denied()
    assert result.stop_turn
    assert gate.only_ask.params == {
        "file_path": "../secret.txt",
        "offset": 0,
        "limit": 0,
    }
    assert reads.recorded == []


async def test_default_gate_denies_outside_reads(
    make_ctx: MakeContext, tmp_path: Path
) -> None:
    write(tmp_path, {"secret.txt": "s"})
    result = await view(make_ctx, {"file_path": str(tmp_path / "secret.txt")})
    assert result.content == PERMISSION_DENIED_TEXT


async def test_symlink_out_of_the_root_counts_as_outside(
    workspace: Path, make_ctx: MakeContext, tmp_path: Path
) -> None:
    write(tmp_path, {"secret.txt": "s"})
    (workspace / "link.txt").symlink_to(tmp_path / "secret.txt")
    (workspace / "dirlink").symlink_to(tmp_path)
    for given in ("link.txt", "dirlink/secret.txt"):
        gate = RecordingGate(allow=False)
        result = await view(make_ctx, {"file_path": given}, permissions=gate)
        assert result.content == PERMISSION_DENIED_TEXT
        assert gate.only_ask.path == str(workspace.parent / "secret.txt")


async def test_inside_the_root_asks_nothing(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"a.txt": "a"})
    gate = RecordingGate(allow=False)
    for given in ("a.txt", str(workspace / "a.txt"), "sub/../a.txt"):
        result = await view(make_ctx, {"file_path": given}, permissions=gate)
        assert result.content == "<file>\n     1|a\n</file>\n"
    missing = await view(make_ctx, {"file_path": "nope.txt"}, permissions=gate)
    assert missing.content == f"File not found: {workspace / 'nope.txt'}"
    assert gate.asks == []


async def test_outside_missing_file_is_not_found_once_allowed(
    workspace: Path, make_ctx: MakeContext
) -> None:
    gate = RecordingGate(allow=True)
    result = await view(make_ctx, {"file_path": "../gone.txt"}, permissions=gate)
    assert result.is_error
    assert result.content == f"File not found: {workspace.parent / 'gone.txt'}"


async def test_symlink_inside_the_root_is_followed(
    workspace: Path, make_ctx: MakeContext
) -> None:
    write(workspace, {"real.txt": "hi"})
    (workspace / "alias.txt").symlink_to(workspace / "real.txt")
    result = await view(make_ctx, {"file_path": "alias.txt"})
    assert result.content == "<file>\n     1|hi\n</file>\n"


async def test_missing_or_empty_file_path_is_an_error(make_ctx: MakeContext) -> None:
    for args in ({}, {"file_path": ""}, {"file_path": None}):
        result = await view(make_ctx, args)
        assert result.is_error
        assert result.content == "file_path is required"


async def test_nul_byte_in_path_is_an_error(make_ctx: MakeContext) -> None:
    result = await view(make_ctx, {"file_path": "a\x00b"})
    assert result.is_error
    assert "NUL" in result.content
