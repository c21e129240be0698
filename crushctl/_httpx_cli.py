"""Keep httpx from importing its command-line client when crushctl starts.

``import httpx`` also imports ``httpx._main`` (its ``httpx`` command) whenever
click, pygments and rich are installed, and rich is (crushctl draws tables
with it, lazily). That costs tens of milliseconds on every crushctl run for a
program crushctl never calls. Importing this module (``crushctl`` does it
first) runs ``skip_httpx_cli``, which puts a stand-in module in its place
before httpx is first imported; the stand-in's ``main`` explains itself.
"""

from __future__ import annotations

import sys
import types

_NAME = "httpx._main"


def skip_httpx_cli() -> None:
    """Install the ``httpx._main`` stand-in unless httpx is already imported."""
    if "httpx" in sys.modules or _NAME in sys.modules:
        return
    stand_in = types.ModuleType(_NAME)
    stand_in.main = _no_httpx_cli  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in


def _no_httpx_cli() -> None:
    """Explain instead of running: the real module was never loaded here."""
    raise SystemExit("the httpx command is not available inside crushctl")


skip_httpx_cli()
