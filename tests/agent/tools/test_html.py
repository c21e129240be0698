"""HTML for ``fetch``: body text, body markup, markdown."""

from __future__ import annotations

import pytest

from crushd.agent.tools._html import html_body, html_markdown, html_text

DOC = (
    "<!DOCTYPE html>\n<html lang='en'>\n<head><title>Title</title>\n"
    "<style>p { color: red }</style><script>var a = '<p>x</p>';</script></head>\n"
    '<BODY class="main">\n<h1>Head&amp;line</h1>\n<p>one<b>two</b>  three</p>'
    "<ul><li>a</li><li>b</li></ul><script>alert('hidden')</script>\n"
    "</body>\n</html>\n"
)


def test_text_is_the_body_words_collapsed() -> None:
    assert html_text(DOC) == "Head&line onetwo three a b"


def test_text_without_a_body_tag_uses_the_document_minus_head() -> None:
    assert html_text("<p>just <i>a</i>\n\tfragment</p>") == "just a fragment"
    doc = "<html><head><title>x</title></head><div>no body</div></html>"
    assert html_text(doc) == "no body"


def test_an_unclosed_head_ends_at_the_body() -> None:
    assert html_text("<head><title>t</title><body><p>seen</p>") == "seen"


@pytest.mark.parametrize(
    ("doc", "body"),
    [
        (DOC, DOC[DOC.index("<h1>") : DOC.index("</body>")].strip()),
        ("<p>fragment</p>", "<p>fragment</p>"),
        ("<html><head><title>x</title></HEAD ><div>d</div></html>", "<div>d</div>"),
        ("<body><p>unclosed", "<p>unclosed"),
        ("<html><body></body></html>", ""),
    ],
)
def test_body_is_the_markup_between_the_body_tags(doc: str, body: str) -> None:
    assert html_body(doc) == body


def test_markdown_keeps_structure_and_drops_scripts_and_metadata() -> None:
    markdown = html_markdown(DOC)
    assert markdown.startswith("# Head&line\n")
    assert "one**two** three" in markdown
    assert "- a\n- b" in markdown
    assert "alert" not in markdown
    assert "Title" not in markdown


def test_markdown_tables_and_code() -> None:
    doc = (
        "<table><tr><th>k</th></tr><tr><td>v</td></tr></table>"
        "<pre><code>x = 1</code></pre>"
    )
    assert html_markdown(doc) == "| k |\n| --- |\n| v |\n\n```\nx = 1\n```"
