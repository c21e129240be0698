"""The hints a failed edit carries: whitespace made visible, closest lines, region.

Ported conceptually from Crush ``edit_whitespace_test.go``
(``TestDiagnoseMismatch``, ``TestFindAndReplaceWithDiagnostics``).
"""

from __future__ import annotations

import pytest

from crushd.agent.tools._match import MatchError, find_and_replace
from crushd.agent.tools._mismatch import (
    NOT_FOUND,
    REGION_MAX_CHARS,
    LineRange,
    current_region,
    diagnose_mismatch,
    find_normalized,
    not_found_message,
    visualize_ws,
)


@pytest.mark.parametrize(
    ("content", "old", "lines"),
    [
        (
            'func main() {\n\tfmt.Println("hello")\n}\n',
            'func main() {\n    fmt.Println("hello")\n}',
            "lines 1-3",
        ),
        (
            "class Foo:\n\tdef bar(self):\n\t\treturn 42\n",
            "class Foo:\n    def bar(self):\n        return 42",
            "lines 1-3",
        ),
        (
            'x\nfunc main() {\n\tfmt.Println("hi")\n}\n',
            'func main() {\n\tfmt.Println("hi") \n}',
            "lines 2-4",
        ),
    ],
)
def test_whitespace_hint_shows_the_real_lines(
    content: str, old: str, lines: str
) -> None:
    hint = diagnose_mismatch(content, old)
    assert hint.startswith("A whitespace-normalized match was found")
    assert f"Actual file content ({lines}):" in hint
    assert "→" in hint
    assert hint.endswith("(→ = tab, · = space).")


def test_whitespace_hint_numbers_lines_like_view() -> None:
    hint = diagnose_mismatch("a\n  b\n", "a\nb")
    assert "     1|a\n     2|··b\n" in hint


def test_closest_match_hint_for_a_partly_different_text() -> None:
    content = "func foo() {\n\tbar()\n\tbaz()\n}\n"
    hint = diagnose_mismatch(content, "func foo() {\n\tbar()\n\tqux()\n}")
    assert hint.startswith(
        "No exact match found. Closest match at lines 1-4 "
        "(3/4 lines match after trimming whitespace):"
    )
    # one line of context after the window (the final empty line)
    assert "     4|}\n     5|\n" in hint


@pytest.mark.parametrize(
    ("content", "old"),
    [
        ("package main\n\nfunc main() {}\n", "nothing like this anywhere in the file"),
        ("some content", ""),
        ("a\nb\nc\nd\n", "a\nx\ny\nz"),  # 1 of 4 lines: below half
    ],
)
def test_no_hint_when_nothing_resembles(content: str, old: str) -> None:
    assert diagnose_mismatch(content, old) == ""
    assert current_region(content, old) == ""


def test_not_found_message_has_hint_and_region() -> None:
    content = "".join(f"line {n}\n" for n in range(1, 101))
    message = not_found_message(content, "line 50\nline 51 changed\nline 52")
    parts = message.split("\n\n")
    assert parts[0] == NOT_FOUND
    assert parts[1].startswith("No exact match found. Closest match at lines 50-52")
    assert parts[2].startswith("Current file content (lines 10-92):\n")
    assert "    10|line 10\n" in parts[2]
    assert parts[2].endswith("Edit against the exact text shown above.")


def test_region_is_cut_when_long() -> None:
    content = "".join(f"{'x' * 500} {n}\n" for n in range(200))
    region = current_region(content, f"{'x' * 500} 100")
    assert "… [region truncated] …" in region
    assert len(region) < REGION_MAX_CHARS + 700


def test_find_and_replace_not_found_messages() -> None:
    with pytest.raises(MatchError) as caught:
        find_and_replace("package main\n", "zzzzz nothing like this", "x", False)
    assert caught.value.message == NOT_FOUND
    with pytest.raises(MatchError) as caught:
        find_and_replace("package main\n", "zzzzz", "x", True)
    assert caught.value.message == NOT_FOUND


def test_visualize_ws() -> None:
    assert visualize_ws("    code") == "····code"
    assert visualize_ws("\tcode") == "→code"
    assert visualize_ws("\t\tif x > 0 {") == "→→if x > 0 {"
    assert visualize_ws("code  more") == "code  more"


def test_find_normalized_ranges_are_disjoint_whole_lines() -> None:
    content = "a\n  b\na\n\tb\na\n"
    assert find_normalized(content, "a\nb") == [LineRange(0, 1), LineRange(2, 3)]
    assert find_normalized(content, "b\na") == [LineRange(1, 2), LineRange(3, 4)]
