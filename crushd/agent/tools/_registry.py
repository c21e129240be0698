"""The tool list a run offers the model, and the specs sent with each request.

Source: Crush ``internal/agent/coordinator.go`` ``buildTools`` (sorted by
name, ``options.disabled_tools`` removed, rebuilt for every run);
docs/agent.md 2.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from crushd.agent.providers import ToolSpec

from ._glob import GlobTool
from ._grep import GrepTool
from ._ls import LsLimits, LsTool
from ._todos import TodosTool
from ._types import Tool
from ._view import ViewTool

if TYPE_CHECKING:
    from crushd.config import Config


def build_tools(config: Config | None) -> list[Tool]:
    """Return the tools of this issue, sorted by name, without disabled ones.

    Args:
        config: the workspace configuration: ``tools.ls`` limits,
            ``tools.glob`` / ``tools.grep`` timeouts and
            ``options.disabled_tools``; None for the defaults.

    Returns:
        ``glob``, ``grep``, ``ls``, ``todos``, ``view`` (minus disabled names).
    """
    tools: list[Tool] = [
        GlobTool.from_config(config),
        GrepTool.from_config(config),
        LsTool(LsLimits.from_config(config)),
        TodosTool(),
        ViewTool(),
    ]
    disabled = set(config.options.disabled_tools) if config is not None else set()
    return sorted((t for t in tools if t.name not in disabled), key=lambda t: t.name)


def tool_specs(tools: Iterable[Tool]) -> tuple[ToolSpec, ...]:
    """Return what the model is offered for ``tools``, in their order."""
    return tuple(
        ToolSpec(name=t.name, description=t.description, parameters=t.parameters)
        for t in tools
    )


def find_tool(tools: Iterable[Tool], name: str) -> Tool | None:
    """Return the tool called ``name``, or None (the engine answers an error)."""
    return next((t for t in tools if t.name == name), None)
