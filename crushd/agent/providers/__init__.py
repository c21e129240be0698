"""Model providers: the stream contract, the model catalog, and the clients.

Importing this package is cheap: the ``openai`` SDK is imported only by
``open_provider``, in a worker thread.
"""

from ._fake import FakeProvider, ScriptItem, ScriptTurn, text_turn, tool_turn
from ._types import (
    ChatMessage,
    Finish,
    Provider,
    ProviderError,
    ReasoningDelta,
    StreamEvent,
    StreamRequest,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallRequest,
    ToolCallStart,
    ToolSpec,
    Usage,
)

__all__ = [
    "ChatMessage",
    "FakeProvider",
    "Finish",
    "Provider",
    "ProviderError",
    "ReasoningDelta",
    "ScriptItem",
    "ScriptTurn",
    "StreamEvent",
    "StreamRequest",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolCallRequest",
    "ToolCallStart",
    "ToolSpec",
    "Usage",
    "text_turn",
    "tool_turn",
]
