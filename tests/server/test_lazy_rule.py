"""``LazyBuildRule``: the same matching and URL building as ``QuartRule``, later."""

from __future__ import annotations

from quart.routing import QuartMap, QuartRule
from werkzeug.routing import MapAdapter

from crushd.server.http._lazy_rule import LazyBuildRule

PATH = "/v1/workspaces/<workspace_id>/sessions/<session_id>"


def _adapter(rule_class: type[QuartRule]) -> tuple[QuartRule, MapAdapter]:
    url_map = QuartMap()
    rule = rule_class(PATH, methods={"GET"}, endpoint="session")
    url_map.add(rule)
    return rule, url_map.bind("localhost")


def test_builders_are_generated_on_first_use_only() -> None:
    """Adding the rule leaves both builders lazy; a build replaces the one used."""
    rule, _ = _adapter(LazyBuildRule)
    lazy_unknown = rule._build_unknown
    assert lazy_unknown.__name__ == "build_once"
    assert rule._build.__name__ == "build_once"
    rule.build({"workspace_id": "w", "session_id": "s", "x": "1"})
    assert rule._build_unknown is not lazy_unknown
    assert rule._build_unknown.__name__ != "build_once"
    assert rule._build.__name__ == "build_once"


def test_urls_built_match_quart_rule() -> None:
    """Built URLs (with and without unknown values) equal QuartRule's, repeatedly."""
    values = {"workspace_id": "a b", "session_id": "s/1", "extra": "y"}
    lazy, _ = _adapter(LazyBuildRule)
    plain, _ = _adapter(QuartRule)
    for append_unknown in (True, False, True, False):
        assert lazy.build(values, append_unknown) == plain.build(values, append_unknown)


def test_matching_is_unchanged() -> None:
    """A request path matches the lazy rule with the same arguments."""
    _, adapter = _adapter(LazyBuildRule)
    match = adapter.match("/v1/workspaces/w1/sessions/s1", method="GET")
    assert match == ("session", {"workspace_id": "w1", "session_id": "s1"})
