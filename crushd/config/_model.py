"""The typed view of a configuration document (docs/protocol.md 7.2).

The model validates each layer's shape and gives typed access to the values
the daemon uses. It is not what the daemon sends or writes: responses are the
merged JSON documents (so keys this model does not know survive), and writes
edit the raw files. ``mcp`` and ``lsp`` stay opaque JSON.
"""

from __future__ import annotations

import attrs

from crushd.proto import converter

#: Opaque JSON objects (upstream shapes crushd does not interpret yet).
JSONObject = dict[str, object]


@attrs.frozen
class SelectedModel:
    """A ``models.large``/``models.small`` choice: ``provider`` + ``model`` id."""

    model: str = ""
    provider: str = ""
    reasoning_effort: str = ""
    think: bool = False
    max_tokens: int = 0
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    provider_options: JSONObject = attrs.field(factory=dict)


@attrs.frozen
class ProviderConfig:
    """One configured provider; ``models`` are catwalk model objects (opaque)."""

    id: str = ""
    name: str = ""
    base_url: str = ""
    type: str = ""
    api_key: str = ""
    oauth: JSONObject | None = None
    disable: bool = False
    system_prompt_prefix: str = ""
    extra_headers: dict[str, str] = attrs.field(factory=dict)
    extra_body: JSONObject = attrs.field(factory=dict)
    provider_options: JSONObject = attrs.field(factory=dict)
    models: list[JSONObject] = attrs.field(factory=list)


@attrs.frozen
class TUIOptions:
    """``options.tui``: terminal UI preferences shared by every client."""

    compact_mode: bool = False
    diff_mode: str = ""
    transparent: bool | None = None
    completions: JSONObject = attrs.field(factory=dict)


@attrs.frozen
class Options:
    """``options``: the general settings."""

    context_paths: list[str] = attrs.field(factory=list)
    skills_paths: list[str] = attrs.field(factory=list)
    disabled_skills: list[str] = attrs.field(factory=list)
    tui: TUIOptions = attrs.field(factory=TUIOptions)
    debug: bool = False
    debug_lsp: bool = False
    disable_auto_summarize: bool = False
    data_directory: str = ""
    disabled_tools: list[str] = attrs.field(factory=list)
    initialize_as: str = ""


@attrs.frozen
class Permissions:
    """``permissions``: tools that never ask (``"bash"``, ``"view:read"``)."""

    allowed_tools: list[str] = attrs.field(factory=list)


@attrs.frozen
class LsTool:
    """``tools.ls`` limits."""

    max_depth: int = 0
    max_items: int = 0


@attrs.frozen
class TimeoutTool:
    """``tools.grep`` / ``tools.glob``: ``timeout`` in nanoseconds (upstream)."""

    timeout: int = 0


@attrs.frozen
class Tools:
    """``tools``: per-tool settings."""

    ls: LsTool = attrs.field(factory=LsTool)
    grep: TimeoutTool = attrs.field(factory=TimeoutTool)
    glob: TimeoutTool = attrs.field(factory=TimeoutTool)


@attrs.frozen
class Config:
    """A whole configuration document, typed.

    Attributes:
        models: ``large``/``small`` -> the selected model.
        recent_models: ``large``/``small`` -> recently used models, newest first.
        providers: provider id -> its configuration.
        mcp: MCP server name -> its (opaque) configuration.
        lsp: LSP name -> its (opaque) configuration.
        options: general settings (``tui``, ``debug``, ``data_directory``,
            ``disabled_tools``, ``skills_paths``, ...).
        permissions: ``allowed_tools``.
        tools: per-tool limits.
        env: extra environment for tools (``K`` -> ``V``).

    Source: Crush ``internal/config`` Config (docs/protocol.md 7.2).
    """

    models: dict[str, SelectedModel] = attrs.field(factory=dict)
    recent_models: dict[str, list[SelectedModel]] = attrs.field(factory=dict)
    providers: dict[str, ProviderConfig] = attrs.field(factory=dict)
    mcp: dict[str, JSONObject] = attrs.field(factory=dict)
    lsp: dict[str, JSONObject] = attrs.field(factory=dict)
    options: Options = attrs.field(factory=Options)
    permissions: Permissions = attrs.field(factory=Permissions)
    tools: Tools = attrs.field(factory=Tools)
    env: dict[str, str] = attrs.field(factory=dict)


def structure_config(document: JSONObject) -> Config:
    """Build a ``Config`` from a JSON object with the shared converter.

    Raises:
        cattrs.BaseValidationError: a value has the wrong type (use
            ``cattrs.transform_error`` for ``description @ $.path`` texts).
    """
    return converter.structure(document, Config)
