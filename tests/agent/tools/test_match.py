"""The edit matcher: exact, ambiguous, replace_all, whitespace-tolerant, CRLF.

Tables ported conceptually from Crush ``internal/agent/tools/
edit_whitespace_test.go`` (``TestNormalizedReplace``, ``TestAdaptIndentation``,
``TestDetectIndentUnit``, ``TestMeasureDepth``, ``TestFindAndReplace...``).
"""

from __future__ import annotations

import pytest

from crushd.agent.tools._match import (
    AMBIGUOUS,
    MatchError,
    Replaced,
    adapt_indentation,
    detect_indent_unit,
    find_and_replace,
    measure_depth,
    normalized_replace,
    to_crlf,
    to_lf,
)
from crushd.agent.tools._mismatch import normalize_ws

HELLO_TABS = 'func main() {\n\tfmt.Println("hello")\n}\n'


@pytest.mark.parametrize(
    ("content", "old", "new", "replace_all", "expected"),
    [
        # exact, unique
        ("a\nb\nc\n", "b", "B", False, Replaced("a\nB\nc\n")),
        (
            'func main() {\n\tfmt.Println("hello")\n}',
            HELLO_TABS[:-1],
            "x",
            False,
            Replaced("x"),
        ),
        # replace_all replaces every exact occurrence
        (
            "alpha\nbeta\nalpha\n",
            "alpha",
            "ALPHA",
            True,
            Replaced("ALPHA\nbeta\nALPHA\n"),
        ),
        # a unique exact match inside a line keeps the rest of the line
        ("x = 1; y = 2\n", "y = 2", "y = 3", False, Replaced("x = 1; y = 3\n")),
        # empty new deletes
        ("keep\ndrop\nkeep\n", "drop\n", "", False, Replaced("keep\nkeep\n")),
        # whitespace fallback: tabs in the file, spaces from the model
        (
            HELLO_TABS,
            'func main() {\n    fmt.Println("hello")\n}',
            'func main() {\n    fmt.Println("goodbye")\n}',
            False,
            Replaced('func main() {\n\tfmt.Println("goodbye")\n}\n', fuzzy=True),
        ),
        # ... and spaces in the file, tabs from the model
        (
            'func main() {\n    fmt.Println("hello")\n}\n',
            'func main() {\n\tfmt.Println("hello")\n}',
            'func main() {\n\tfmt.Println("goodbye")\n}',
            False,
            Replaced('func main() {\n    fmt.Println("goodbye")\n}\n', fuzzy=True),
        ),
        # a trailing space in old_string
        (
            "if x {\n\ty()\n}\n",
            "if x {\n\ty() \n}",
            "if x {\n\tz()\n}",
            False,
            Replaced("if x {\n\tz()\n}\n", fuzzy=True),
        ),
        # whitespace fallback with replace_all hits every range
        (
            "func a() {\n\tfoo()\n}\nfunc b() {\n\tfoo()\n}\n",
            "    foo()",
            "    bar()",
            True,
            Replaced("func a() {\n\tbar()\n}\nfunc b() {\n\tbar()\n}\n", fuzzy=True),
        ),
        # model's text at depth 0, the file's at depth 1: shifted deeper
        (
            "func main() {\n\tif ok {\n\t\told()\n\t}\n}\n",
            "if ok {\n\told()\n}",
            "if ok {\n\tnew()\n}",
            False,
            Replaced("func main() {\n\tif ok {\n\t\tnew()\n\t}\n}\n", fuzzy=True),
        ),
        # unindented old string in an indented context
        (
            "func f() {\n\tfoo := 1\n\tbar := 2\n}\n",
            "foo :=  1",
            "foo := 99",
            False,
            Replaced("func f() {\n\tfoo := 99\n\tbar := 2\n}\n", fuzzy=True),
        ),
        # 2-space model text into a 4-space file
        (
            "class A:\n    def f(self):\n        return 1\n",
            "def f(self):\n  return 1",
            "def f(self):\n  return 2",
            False,
            Replaced("class A:\n    def f(self):\n        return 2\n", fuzzy=True),
        ),
    ],
)
def test_find_and_replace_table(
    content: str, old: str, new: str, replace_all: bool, expected: Replaced
) -> None:
    assert find_and_replace(content, old, new, replace_all) == expected


def test_several_exact_matches_without_replace_all_is_ambiguous() -> None:
    with pytest.raises(MatchError) as caught:
        find_and_replace("alpha\nbeta\nalpha\n", "alpha", "ALPHA", False)
    assert caught.value.message == AMBIGUOUS
    assert "set replace_all to true" in AMBIGUOUS


def test_several_whitespace_matches_without_replace_all_are_not_guessed() -> None:
    """Two whitespace-equivalent ranges: not found (with a hint), never one picked."""
    content = "func a() {\n\tfoo()\n}\nfunc b() {\n\tfoo()\n}\n"
    with pytest.raises(MatchError) as caught:
        find_and_replace(content, "    foo()", "    bar()", False)
    assert caught.value.message.startswith("old_string not found in file")
    assert normalized_replace(content, "    foo()", "    bar()", False) is None


@pytest.mark.parametrize(
    ("content", "old"),
    [
        # starts mid-line: replacing whole lines would lose "func a() "
        ("func a() {\n\tfoo()\n}\nfunc b() {\n\tfoo()\n}\n", "{\n    foo()\n}"),
        # text around the match on its line
        ("before foo = 1 after\n", "foo  =  1"),
        # repeated inside one line
        ("a  b   c   a  b\n", "a b"),
        # absent
        ("package main\n", "does not exist"),
        # whitespace only
        ("a\n\n\nb\n", "  \n \t"),
    ],
)
def test_whitespace_fallback_only_at_whole_lines(content: str, old: str) -> None:
    assert normalized_replace(content, old, "X", True) is None
    with pytest.raises(MatchError):
        find_and_replace(content, old, "X", True)


def test_empty_old_string_is_refused() -> None:
    with pytest.raises(MatchError, match="cannot be empty"):
        find_and_replace("abc", "", "x", True)


def test_deep_indentation_keeps_the_files_depth() -> None:
    content = "func main() {\n\tif x {\n\t\tif y {\n\t\t\tfoo()\n\t\t}\n\t}\n}\n"
    old = "if x {\n    if y {\n        foo()\n    }\n}"
    new = "if x {\n    if y {\n        bar()\n    }\n}"
    result = normalized_replace(content, old, new, False)
    assert result == content.replace("foo()", "bar()")


def test_blank_lines_of_new_text_are_kept_as_given() -> None:
    content = "def f():\n\tx = 1\n\ty = 2\n"
    old, new = "    x = 1\n    y = 2", "    x = 1\n\n    y = 3"
    result = find_and_replace(content, old, new, False)
    assert result == Replaced("def f():\n\tx = 1\n\n\ty = 3\n", fuzzy=True)


@pytest.mark.parametrize(
    ("actual", "old", "new", "unit", "expected"),
    [
        (
            'f {\n\tp("h")\n}',
            'f {\n    p("h")\n}',
            'f {\n    p("g")\n}',
            "\t",
            'f {\n\tp("g")\n}',
        ),
        (
            'f {\n    p("h")\n}',
            'f {\n\tp("h")\n}',
            'f {\n\tp("g")\n}',
            "    ",
            'f {\n    p("g")\n}',
        ),
        # same style, same depth: unchanged
        ("f {\n\tx\n}", "f {\n\tx\n}", "f {\n\ty\n}", "\t", "f {\n\ty\n}"),
        # same style, shifted deeper and shallower
        (
            "\tif ok {\n\t\to()\n\t}",
            "if ok {\n\to()\n}",
            "if ok {\n\tn()\n}",
            "\t",
            "\tif ok {\n\t\tn()\n\t}",
        ),
        (
            "\tif ok {\n\t\to()\n\t}",
            "\t\tif ok {\n\t\t\to()\n\t\t}",
            "\t\tif ok {\n\t\t\tn()\n\t\t}",
            "\t",
            "\tif ok {\n\t\tn()\n\t}",
        ),
        # old has no indentation: new's own style is the source unit
        (
            "\tif ok {\n\t\to()\n\t}",
            "if ok { o() }",
            "if ok {\n    n()\n}",
            "\t",
            "\tif ok {\n\t\tn()\n\t}",
        ),
        # 2 spaces to 4
        (
            "f {\n    p()\n}",
            "f {\n  p()\n}",
            "f {\n  q()\n}",
            "    ",
            "f {\n    q()\n}",
        ),
        # a file without indentation: new text untouched
        ("a\nb", "a\n  b", "a\n  c", "", "a\n  c"),
    ],
)
def test_adapt_indentation(
    actual: str, old: str, new: str, unit: str, expected: str
) -> None:
    assert adapt_indentation(actual, old, new, unit) == expected


@pytest.mark.parametrize(
    ("lines", "unit"),
    [
        (["func main() {", "\tx()", "}"], "\t"),
        (["f {", "    x()", "}"], "    "),
        (["f {", "  x()", "}"], "  "),
        (["f {", "  x()", "    y()", "}"], "  "),  # the smallest
        (["f {", "    x()", " \ty()", "}"], "\t"),  # any tab wins
        (["package main", "func main() {}"], ""),
        (["", "   ", "x"], ""),  # blank lines do not count
    ],
)
def test_detect_indent_unit(lines: list[str], unit: str) -> None:
    assert detect_indent_unit(lines) == unit


@pytest.mark.parametrize(
    ("leading", "unit", "depth"),
    [
        ("\t\t", "\t", 2),
        ("\t\t\t", "\t", 3),
        ("    ", "  ", 2),
        ("    ", "    ", 1),
        ("", "  ", 0),
        ("  ", "", 0),
        ("     ", "  ", 2),
    ],
)
def test_measure_depth(leading: str, unit: str, depth: int) -> None:
    assert measure_depth(leading, unit) == depth


def test_normalize_ws() -> None:
    assert normalize_ws("a  b\t\tc") == "a b c"
    assert normalize_ws("  hello  ") == "hello"
    assert normalize_ws("   ") == ""


def test_crlf_round_trip() -> None:
    text, crlf = to_lf("a\r\nb\r\n")
    assert (text, crlf) == ("a\nb\n", True)
    assert to_lf("a\nb\n") == ("a\nb\n", False)
    assert to_crlf("a\nB\nc") == "a\r\nB\r\nc"
    assert to_crlf("a\r\nb\n") == "a\r\nb\r\n"  # no doubled CR
