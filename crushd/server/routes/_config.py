"""Config and project routes (docs/protocol.md 2.2 providers, 2.9, 2.10).

Every successful mutation writes one scope file, then every live workspace
whose effective config read that file reloads and publishes exactly one
``config_changed`` (a scope-0 write reaches all of them, a scope-1 write only
the writer's own). A failed mutation writes nothing and publishes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable
from pathlib import Path

import trio
from quart import Response
from quart_trio import QuartTrio

from crushd.proto import (
    ConfigCompactRequest,
    ConfigModelRequest,
    ConfigProviderKeyRequest,
    ConfigRemoveRequest,
    ConfigSetRequest,
    InitPrompt,
    NeedsInit,
)
from crushd.registry import Registry
from crushd.workspace import INIT_PROMPT, Workspace

from ..http import ServerContext, decode_body, empty_response, json_response
from ._live import live_workspace
from ._rules import View, add_rules

_WS = "/v1/workspaces/<workspace_id>"

#: A committed change finishes (lock wait, write, every reload) within this
#: many seconds even when the request is cancelled meanwhile.
COMMIT_SECONDS = 60.0


async def publish_config_change(registry: Registry, changed: Path) -> int:
    """Reload every live workspace that depends on ``changed``.

    Each one publishes one ``config_changed`` (``Workspace.reload_config``).

    Returns:
        How many workspaces were reloaded.

    Source: Crush backend ``publishConfigChanged``; issue 3 widens it from
    the writer's workspace to every affected one.
    """
    reloaded = 0
    for hosted in registry.workspaces():
        workspace = hosted.workspace
        if isinstance(workspace, Workspace) and workspace.configuration.depends_on(
            changed
        ):
            await workspace.reload_config()
            reloaded += 1
    return reloaded


async def _commit(registry: Registry, change: Awaitable[Path]) -> Response:
    # Shielded so a client leaving mid-request cannot split a written file
    # from its events; bounded by the lock deadline and the reloads.
    with trio.move_on_after(COMMIT_SECONDS, shield=True):
        changed = await change
        await publish_config_change(registry, changed)
    return empty_response()


def register_config_routes(app: QuartTrio, ctx: ServerContext) -> None:
    """Add ``providers``, the ``config/*`` mutations and the ``project/*`` routes."""
    registry = ctx.registry

    def workspace(workspace_id: str) -> Workspace:
        return live_workspace(registry, workspace_id)[1]

    async def providers(workspace_id: str) -> Response:
        return json_response(workspace(workspace_id).configuration.providers())

    async def config_set(workspace_id: str) -> Response:
        service = workspace(workspace_id).configuration
        body = await decode_body(ConfigSetRequest)
        return await _commit(registry, service.set(body.scope, body.key, body.value))

    async def config_remove(workspace_id: str) -> Response:
        service = workspace(workspace_id).configuration
        body = await decode_body(ConfigRemoveRequest)
        return await _commit(registry, service.remove(body.scope, body.key))

    async def config_model(workspace_id: str) -> Response:
        service = workspace(workspace_id).configuration
        body = await decode_body(ConfigModelRequest)
        change = service.set_model(body.scope, body.model_type, body.model)
        return await _commit(registry, change)

    async def config_compact(workspace_id: str) -> Response:
        service = workspace(workspace_id).configuration
        body = await decode_body(ConfigCompactRequest)
        change = service.set(body.scope, "options.tui.compact_mode", body.enabled)
        return await _commit(registry, change)

    async def config_provider_key(workspace_id: str) -> Response:
        service = workspace(workspace_id).configuration
        body = await decode_body(ConfigProviderKeyRequest)
        change = service.set_provider_key(
            body.scope, body.provider_id, body.kind, body.api_key
        )
        return await _commit(registry, change)

    rules: list[tuple[str, View, str]] = [
        (f"{_WS}/providers", providers, "GET"),
        (f"{_WS}/config/set", config_set, "POST"),
        (f"{_WS}/config/remove", config_remove, "POST"),
        (f"{_WS}/config/model", config_model, "POST"),
        (f"{_WS}/config/compact", config_compact, "POST"),
        (f"{_WS}/config/provider-key", config_provider_key, "POST"),
    ]
    add_rules(app, rules)
    _register_project_routes(app, registry)


def _register_project_routes(app: QuartTrio, registry: Registry) -> None:
    async def needs_init(workspace_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        return json_response(NeedsInit(needs_init=await workspace.needs_init()))

    async def init_project(workspace_id: str) -> Response:
        workspace = live_workspace(registry, workspace_id)[1]
        with trio.move_on_after(COMMIT_SECONDS, shield=True):
            await workspace.mark_initialized()
        return empty_response()

    async def init_prompt(workspace_id: str) -> Response:
        live_workspace(registry, workspace_id)
        return json_response(InitPrompt(prompt=INIT_PROMPT))

    rules: list[tuple[str, View, str]] = [
        (f"{_WS}/project/needs-init", needs_init, "GET"),
        (f"{_WS}/project/init", init_project, "POST"),
        (f"{_WS}/project/init-prompt", init_prompt, "GET"),
    ]
    add_rules(app, rules)
