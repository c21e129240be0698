"""The tool list a run offers the model, and the specs sent with each request.

Source: Crush ``internal/agent/coordinator.go`` ``buildTools`` (sorted by
name, ``options.disabled_tools`` removed, rebuilt for every run);
docs/agent.md 2.1.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from crushd.agent.providers import ToolSpec

from ._bash import BashTool
from ._download import DownloadTool
from ._edit import EditTool
from ._fetch import FetchTool
from ._glob import GlobTool
from ._grep import GrepTool
from ._job_tools import JobKillTool, JobOutputTool
from ._ls import LsLimits, LsTool
from ._multiedit import MultiEditTool
from ._question import QuestionTool
from ._todos import TodosTool
from ._types import Tool
from ._view import ViewTool
from ._write import WriteTool

if TYPE_CHECKING:
    from crushd.config import Config


def build_tools(config: Config | None, *, interactive: bool = False) -> list[Tool]:
    """Return the coder's tools, sorted by name, without disabled ones.

    Args:
        config: the workspace configuration: ``tools.ls`` limits,
            ``tools.glob`` / ``tools.grep`` timeouts and
            ``options.disabled_tools``; None for the defaults.
        interactive: True for an agent whose clients answer questions
            (``agent/init {"interactive": true}``): ``question`` is offered.

    Returns:
        ``bash``, ``download``, ``edit``, ``fetch``, ``glob``, ``grep``,
        ``job_kill``, ``job_output``, ``ls``, ``multiedit``, ``question``
        (interactive only), ``todos``, ``view``, ``write``, minus disabled
        names.
    """
    tools: list[Tool] = [
        BashTool(),
        DownloadTool(),
        EditTool(),
        FetchTool(),
        GlobTool.from_config(config),
        GrepTool.from_config(config),
        JobKillTool(),
        JobOutputTool(),
        LsTool(LsLimits.from_config(config)),
        MultiEditTool(),
        TodosTool(),
        ViewTool(),
        WriteTool(),
    ]
    if interactive:
        tools.append(QuestionTool())
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
