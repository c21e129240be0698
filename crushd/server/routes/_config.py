"""Config and project routes (docs/protocol.md 2.2 providers, 2.9, 2.10).

Every successful mutation writes one scope file, then every live workspace
whose effective config read that file reloads and publishes exactly one
``config_changed`` (``crushd.registry.reload_config_dependents``: a scope-0
write reaches all of them, a scope-1 write only the writer's own). A failed
mutation writes nothing and publishes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING

import trio
from quart import Response

from crushd.proto import (
    ConfigCompactRequest,
    ConfigModelRequest,
    ConfigProviderKeyRequest,
    ConfigRemoveRequest,
    ConfigSetRequest,
    InitPrompt,
    NeedsInit,
)
from crushd.registry import reload_config_dependents
from crushd.workspace import INIT_PROMPT

from ..http import ServerContext, decode_body, empty_response, json_response
from ._live import workspace_of

if TYPE_CHECKING:
    from crushd.workspace import ConfigService

#: A committed change finishes (lock wait, write, every reload) within this
#: many seconds even when the request is cancelled meanwhile.
COMMIT_SECONDS = 60.0


async def _commit(ctx: ServerContext, change: Awaitable[Path]) -> Response:
    # Shielded so a client leaving mid-request cannot split a written file
    # from its events; bounded by the lock deadline and the reloads.
    with trio.move_on_after(COMMIT_SECONDS, shield=True):
        changed = await change
        await reload_config_dependents(ctx.registry, changed)
    return empty_response()


def _configuration(ctx: ServerContext, workspace_id: str) -> ConfigService:
    return workspace_of(ctx, workspace_id).configuration


async def providers(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../providers``: the catalog's providers, configured ones enabled."""
    return json_response(_configuration(ctx, workspace_id).providers())


async def config_set(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../config/set`` with ``{"scope","key","value"}``."""
    service = _configuration(ctx, workspace_id)
    body = await decode_body(ConfigSetRequest)
    return await _commit(ctx, service.set(body.scope, body.key, body.value))


async def config_remove(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../config/remove`` with ``{"scope","key"}``."""
    service = _configuration(ctx, workspace_id)
    body = await decode_body(ConfigRemoveRequest)
    return await _commit(ctx, service.remove(body.scope, body.key))


async def config_model(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../config/model`` with ``{"scope","model_type","model"}``."""
    service = _configuration(ctx, workspace_id)
    body = await decode_body(ConfigModelRequest)
    change = service.set_model(body.scope, body.model_type, body.model)
    return await _commit(ctx, change)


async def config_compact(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../config/compact`` with ``{"scope","enabled"}``."""
    service = _configuration(ctx, workspace_id)
    body = await decode_body(ConfigCompactRequest)
    change = service.set(body.scope, "options.tui.compact_mode", body.enabled)
    return await _commit(ctx, change)


async def config_provider_key(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../config/provider-key``: scope, provider_id, kind, api_key."""
    service = _configuration(ctx, workspace_id)
    body = await decode_body(ConfigProviderKeyRequest)
    change = service.set_provider_key(
        body.scope, body.provider_id, body.kind, body.api_key
    )
    return await _commit(ctx, change)


async def needs_init(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../project/needs-init``: ``{"needs_init": bool}``."""
    workspace = workspace_of(ctx, workspace_id)
    return json_response(NeedsInit(needs_init=await workspace.needs_init()))


async def init_project(ctx: ServerContext, workspace_id: str) -> Response:
    """``POST .../project/init``: mark the project initialized (shielded write)."""
    workspace = workspace_of(ctx, workspace_id)
    with trio.move_on_after(COMMIT_SECONDS, shield=True):
        await workspace.mark_initialized()
    return empty_response()


async def init_prompt(ctx: ServerContext, workspace_id: str) -> Response:
    """``GET .../project/init-prompt``: the prompt that initializes a project."""
    workspace_of(ctx, workspace_id)
    return json_response(InitPrompt(prompt=INIT_PROMPT))
