"""A url rule that compiles its URL builders on first use, not when added.

werkzeug's ``Rule.compile`` generates and ``compile()``s two builder
functions per rule (``_build`` and ``_build_unknown``, used only by
``url_for``/``MapAdapter.build``) while the app is created: about 0.35 ms a
rule, some 25 ms of the daemon's start-up for its ~75 rules. crushd never
builds URLs on its hot paths, so ``LazyBuildRule`` defers each builder to its
first call; matching is untouched. Set as the app's ``url_rule_class``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quart.routing import QuartRule

_Builder = Callable[..., tuple[str, str]]


class LazyBuildRule(QuartRule):
    """A ``QuartRule`` whose URL builders are generated on their first call.

    Building a URL gives exactly what ``QuartRule`` gives; the first build of
    each kind (with or without unknown values appended) pays the generation.

    Source: werkzeug ``Rule.compile`` / ``Rule._compile_builder`` (3.1).
    """

    def _compile_builder(self, append_unknown: bool = True) -> _Builder:
        attribute = "_build_unknown" if append_unknown else "_build"

        def build_once(rule: LazyBuildRule, **values: Any) -> tuple[str, str]:
            real = QuartRule._compile_builder(rule, append_unknown).__get__(rule)
            setattr(rule, attribute, real)
            result: tuple[str, str] = real(**values)
            return result

        return build_once
