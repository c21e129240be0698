"""The agent's tools: ``view``, ``ls``, ``glob``, ``grep`` and ``todos``.

Each tool reads only inside the workspace folder (docs/agent.md 2.2-2.3);
names and parameter keys are upstream Crush's, since models are prompted
with them.
"""

from ._types import ReadTracker, TodoSink, Tool, ToolCall, ToolContext, ToolResult

__all__ = [
    "ReadTracker",
    "TodoSink",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolResult",
]
