"""Config mutation, project and skills wire models (docs/protocol.md 2.9-2.11).

``scope`` is an integer on the wire: ``SCOPE_GLOBAL`` (0) is the global data
config, ``SCOPE_WORKSPACE`` (1) the workspace's ``<data_dir>/crush.json``; a
string scope fails decoding (400) as upstream.
"""

from __future__ import annotations

import attrs

from ._workspace import SkillState

#: ``scope`` 0: the global data config (``$XDG_DATA_HOME/crush/crush.json``).
SCOPE_GLOBAL = 0
#: ``scope`` 1: the workspace config (``<data_dir>/crush.json``).
SCOPE_WORKSPACE = 1


@attrs.frozen
class ConfigSetRequest:
    """``POST /config/set``: write ``value`` (any JSON) at the dotted ``key``."""

    scope: int
    key: str
    value: object = None


@attrs.frozen
class ConfigRemoveRequest:
    """``POST /config/remove``: delete the dotted ``key`` from the scope file."""

    scope: int
    key: str


@attrs.frozen
class ConfigModelRequest:
    """``POST /config/model``: pick ``model`` as the ``large``/``small`` model.

    ``model`` is a SelectedModel object (``{"model","provider",...}``).
    """

    scope: int
    model_type: str
    model: dict[str, object]


@attrs.frozen
class ConfigCompactRequest:
    """``POST /config/compact``: write ``options.tui.compact_mode``."""

    scope: int
    enabled: bool


@attrs.frozen
class ConfigProviderKeyRequest:
    """``POST /config/provider-key``: store a provider credential.

    ``kind`` is ``string`` (``api_key`` is the key text) or ``oauth``
    (``api_key`` is the OAuth token object); anything else is a 400.
    """

    scope: int
    provider_id: str
    kind: str = ""
    api_key: object = None


@attrs.frozen
class NeedsInit:
    """``GET /project/needs-init`` answer."""

    needs_init: bool


@attrs.frozen
class InitPrompt:
    """``GET /project/init-prompt`` answer: the prompt text for the agent."""

    prompt: str


@attrs.frozen
class SkillInfo:
    """One ``GET /skills`` entry; ``source`` is ``system``, ``user`` or ``project``."""

    id: str
    name: str
    description: str
    label: str = ""
    source: str = ""
    user_invocable: bool = False


@attrs.frozen
class ReadSkillRequest:
    """``POST /skills/read`` body."""

    skill_id: str


@attrs.frozen
class SkillResult:
    """The ``result`` part of a ``POST /skills/read`` answer."""

    name: str
    description: str
    source: str = ""
    builtin: bool = False


@attrs.frozen
class ReadSkillResponse:
    """``POST /skills/read`` answer: ``content`` is base64 of the SKILL.md file."""

    content: str
    result: SkillResult


@attrs.frozen
class SkillsEvent:
    """``skills_event`` payload: every skill's state; ``None`` (null) when none."""

    states: list[SkillState] | None = None
