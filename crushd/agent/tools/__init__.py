"""The agent's tools: read, search, change files, run shell commands, fetch.

Names and parameter keys are upstream Crush's (models are prompted with
them); a tool answers bad input with an error result, never an exception.
Anything that changes the machine (bash unless read-only, edit, write,
fetch, download) and any read outside the workspace folder asks the
workspace's permission service first (docs/agent.md 2.1-2.3, 3).
"""

from ._bash import BashTool
from ._download import MAX_DOWNLOAD_BYTES, DownloadTool
from ._edit import EditTool
from ._fetch import MAX_FETCH_BYTES, FetchTool
from ._glob import DEFAULT_GLOB_TIMEOUT_SECONDS, GlobTool
from ._grep import DEFAULT_GREP_TIMEOUT_SECONDS, MAX_GREP_LINE_CHARS, GrepTool
from ._http import HttpOpener, client_opener, rerouting_opener
from ._input import InputError, parse_input
from ._job_tools import JobKillTool, JobOutputTool
from ._jobs import JobTable
from ._ls import DEFAULT_LS_ITEMS, LsLimits, LsTool
from ._multiedit import MultiEditTool
from ._question import QuestionTool
from ._registry import build_tools, find_tool, tool_specs
from ._rg import find_rg
from ._search import MAX_SEARCH_RESULTS
from ._textfile import MAX_LINE_CHARS, MAX_SECTION_BYTES
from ._todos import TodoSource, TodosTool
from ._types import (
    PERMISSION_DENIED_TEXT,
    DenyingGate,
    FileHistory,
    PermissionAsk,
    PermissionGate,
    QuestionAsker,
    ReadTracker,
    TodoSink,
    Tool,
    ToolCall,
    ToolContext,
    ToolResult,
)
from ._view import DEFAULT_VIEW_LINES, MAX_IMAGE_BYTES, ViewTool
from ._write import WriteTool

__all__ = [
    "DEFAULT_GLOB_TIMEOUT_SECONDS",
    "DEFAULT_GREP_TIMEOUT_SECONDS",
    "DEFAULT_LS_ITEMS",
    "DEFAULT_VIEW_LINES",
    "MAX_DOWNLOAD_BYTES",
    "MAX_FETCH_BYTES",
    "MAX_GREP_LINE_CHARS",
    "MAX_IMAGE_BYTES",
    "MAX_LINE_CHARS",
    "MAX_SEARCH_RESULTS",
    "MAX_SECTION_BYTES",
    "PERMISSION_DENIED_TEXT",
    "BashTool",
    "DenyingGate",
    "DownloadTool",
    "EditTool",
    "FetchTool",
    "FileHistory",
    "GlobTool",
    "GrepTool",
    "HttpOpener",
    "InputError",
    "JobKillTool",
    "JobOutputTool",
    "JobTable",
    "LsLimits",
    "LsTool",
    "MultiEditTool",
    "PermissionAsk",
    "PermissionGate",
    "QuestionAsker",
    "QuestionTool",
    "ReadTracker",
    "TodoSink",
    "TodoSource",
    "TodosTool",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolResult",
    "ViewTool",
    "WriteTool",
    "build_tools",
    "client_opener",
    "find_rg",
    "find_tool",
    "parse_input",
    "rerouting_opener",
    "tool_specs",
]
