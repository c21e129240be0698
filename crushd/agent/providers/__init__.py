"""Model providers: the stream contract, the model catalog, and the clients.

Importing this package is cheap: the ``openai`` SDK is imported only by
``open_provider``, in a worker thread.
"""

from ._catalog import (
    CATWALK_MODEL_DEFAULTS,
    Catalog,
    CatalogProvider,
    ModelInfo,
    load_catalog,
    model_from_json,
    model_to_json,
    with_catwalk_keys,
)
from ._fake import FakeProvider, ScriptItem, ScriptTurn, text_turn, tool_turn
from ._merge import ProviderInfo, catalog_provider_entries, enabled_providers
from ._models import (
    Models,
    ResolvedModel,
    default_small_model,
    resolve_models,
    select_models,
)
from ._openai_compat import OpenAICompatProvider, load_sdk, open_provider
from ._paced_reads import ReadWindow
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
    "CATWALK_MODEL_DEFAULTS",
    "Catalog",
    "CatalogProvider",
    "ChatMessage",
    "FakeProvider",
    "Finish",
    "ModelInfo",
    "Models",
    "OpenAICompatProvider",
    "Provider",
    "ProviderError",
    "ProviderInfo",
    "ReadWindow",
    "ReasoningDelta",
    "ResolvedModel",
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
    "catalog_provider_entries",
    "default_small_model",
    "enabled_providers",
    "load_catalog",
    "load_sdk",
    "model_from_json",
    "model_to_json",
    "open_provider",
    "resolve_models",
    "select_models",
    "text_turn",
    "tool_turn",
    "with_catwalk_keys",
]
