"""Registering a table of (path, view, method) rules on the app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from quart import Response
from quart_trio import QuartTrio

#: A route handler: path segments as keyword arguments, a response back.
View = Callable[..., Awaitable[Response]]


def add_rules(app: QuartTrio, rules: Sequence[tuple[str, View, str]]) -> None:
    """Add each ``(path, view, method)``; the endpoint is the view's name."""
    for path, view, method in rules:
        app.add_url_rule(path, view.__name__, view, methods=[method])
