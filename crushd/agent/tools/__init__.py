"""The agent's tools: ``glob``, ``grep``, ``ls``, ``todos`` and ``view``.

Names and parameter keys are upstream Crush's (models are prompted with
them); a tool answers bad input with an error result, never an exception, and
reads only inside the workspace folder until permissions exist
(docs/agent.md 2.1-2.3).
"""

from ._glob import DEFAULT_GLOB_TIMEOUT_SECONDS, GlobTool
from ._grep import DEFAULT_GREP_TIMEOUT_SECONDS, MAX_GREP_LINE_CHARS, GrepTool
from ._input import InputError, parse_input
from ._ls import DEFAULT_LS_ITEMS, LsLimits, LsTool
from ._registry import build_tools, find_tool, tool_specs
from ._rg import find_rg
from ._search import MAX_SEARCH_RESULTS
from ._textfile import MAX_LINE_CHARS, MAX_SECTION_BYTES
from ._todos import TodoSource, TodosTool
from ._types import (
    PERMISSION_DENIED_TEXT,
    DenyingGate,
    PermissionAsk,
    PermissionGate,
    ReadTracker,
    TodoSink,
    Tool,
    ToolCall,
    ToolContext,
    ToolResult,
)
from ._view import DEFAULT_VIEW_LINES, MAX_IMAGE_BYTES, ViewTool

__all__ = [
    "DEFAULT_GLOB_TIMEOUT_SECONDS",
    "DEFAULT_GREP_TIMEOUT_SECONDS",
    "DEFAULT_LS_ITEMS",
    "DEFAULT_VIEW_LINES",
    "MAX_GREP_LINE_CHARS",
    "MAX_IMAGE_BYTES",
    "MAX_LINE_CHARS",
    "MAX_SEARCH_RESULTS",
    "MAX_SECTION_BYTES",
    "PERMISSION_DENIED_TEXT",
    "DenyingGate",
    "GlobTool",
    "GrepTool",
    "InputError",
    "LsLimits",
    "LsTool",
    "PermissionAsk",
    "PermissionGate",
    "ReadTracker",
    "TodoSink",
    "TodoSource",
    "TodosTool",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolResult",
    "ViewTool",
    "build_tools",
    "find_rg",
    "find_tool",
    "parse_input",
    "tool_specs",
]
