"""Package attributes imported on first use, so the daemon starts with less.

A package ``__init__`` keeps the names it needs at startup as plain imports
and lists the rest in a table ``{submodule: names}``; its module-level
``__getattr__`` (PEP 562) calls ``load`` to import the submodule the first
time one of those names is read. The names stay in ``__all__`` and behind
``if TYPE_CHECKING:`` imports, so type checkers see them as usual.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping


def exports(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Invert ``{submodule: names}`` into ``{name: submodule}``."""
    return {name: module for module, names in table.items() for name in names}


def load(package: str, lazy: Mapping[str, str], name: str) -> object:
    """Import the submodule holding ``name``; cache the value on the package.

    Args:
        package: the package's ``__name__``.
        lazy: from ``exports``, e.g. ``{"Config": "._model"}``.
        name: the attribute being read.

    Raises:
        AttributeError: ``name`` is not one of the lazy names.
    """
    module = lazy.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, package), name)
    setattr(sys.modules[package], name, value)
    return value
