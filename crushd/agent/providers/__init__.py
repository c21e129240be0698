"""Model providers: the stream contract, the model catalog, and the clients.

Importing this package is cheap: the ``openai`` SDK is imported only by
``open_provider``, in a worker thread.
"""

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
    "Finish",
    "Provider",
    "ProviderError",
    "ReasoningDelta",
    "StreamEvent",
    "StreamRequest",
    "TextDelta",
    "ToolCallDelta",
    "ToolCallDone",
    "ToolCallRequest",
    "ToolCallStart",
    "ToolSpec",
    "Usage",
]
