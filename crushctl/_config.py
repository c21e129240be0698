"""Config, providers and project routes of ``Client`` (docs/protocol.md 2.9, 2.10)."""

from __future__ import annotations

from typing import Any

from crushd.proto import (
    SCOPE_WORKSPACE,
    ConfigCompactRequest,
    ConfigModelRequest,
    ConfigProviderKeyRequest,
    ConfigRemoveRequest,
    ConfigSetRequest,
    InitPrompt,
    NeedsInit,
)

from ._http import HTTPSession, decode
from ._sessions import segment


class ConfigRoutes:
    """The ``config``, ``providers`` and ``project`` calls of ``Client``.

    Every mutation takes ``scope``: ``SCOPE_WORKSPACE`` (1, the default:
    ``<data_dir>/crush.json``) or ``SCOPE_GLOBAL`` (0, the global data config,
    seen by every workspace). A successful mutation makes every affected
    workspace publish one ``config_changed``; refetch with ``config`` then.
    """

    _http: HTTPSession

    async def config(self, workspace_id: str) -> dict[str, Any]:
        """Return the workspace's effective configuration, secrets redacted.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.2 ``GET /workspaces/{id}/config``, 7.2, B.22.
        """
        response = await self._http.send("GET", self._workspace(workspace_id, "config"))
        return decode(response, dict)

    async def server_config(self) -> dict[str, Any]:
        """Return the daemon's own configuration (``GET /v1/config``), redacted.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.1, decision B.1.
        """
        return decode(await self._http.send("GET", "/config"), dict)

    async def providers(self, workspace_id: str) -> list[dict[str, Any]]:
        """Return the configured providers with their models, redacted.

        Raises:
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            Safe; nothing changes on the daemon.

        Source: docs/protocol.md 2.2 ``GET /providers`` (no remote catalog).
        """
        path = self._workspace(workspace_id, "providers")
        return decode(await self._http.send("GET", path), list)

    async def set_config(
        self,
        workspace_id: str,
        key: str,
        value: object,
        *,
        scope: int = SCOPE_WORKSPACE,
    ) -> None:
        """Write ``value`` (any JSON) at the dotted ``key`` of the scope file.

        Raises:
            BadRequestError: 400, bad scope or key, or a value of the wrong
                type for the key (``invalid config value: ...``).
            ConfigLockedError: 503, the scope file stayed locked for 5 s;
                the message names the lock.
            NotFoundError: 404, ``workspace not found``.

        Cancellation:
            If cancelled after sending, the change may be made anyway.

        Source: docs/protocol.md 2.10 ``config/set``.
        """
        body = ConfigSetRequest(scope=scope, key=key, value=value)
        await self._post(workspace_id, "config/set", body)

    async def remove_config(
        self, workspace_id: str, key: str, *, scope: int = SCOPE_WORKSPACE
    ) -> None:
        """Delete the dotted ``key`` from the scope file; errors as ``set_config``.

        Source: docs/protocol.md 2.10 ``config/remove``.
        """
        body = ConfigRemoveRequest(scope=scope, key=key)
        await self._post(workspace_id, "config/remove", body)

    async def set_model(
        self,
        workspace_id: str,
        model_type: str,
        model: dict[str, object],
        *,
        scope: int = SCOPE_WORKSPACE,
    ) -> None:
        """Pick ``model`` (``{"provider", "model", ...}``) as ``large``/``small``.

        Also moves it to the front of ``recent_models.<type>``. Errors as
        ``set_config`` (an unknown ``model_type`` is a 400).

        Source: docs/protocol.md 2.10 ``config/model``.
        """
        body = ConfigModelRequest(scope=scope, model_type=model_type, model=model)
        await self._post(workspace_id, "config/model", body)

    async def set_compact_mode(
        self, workspace_id: str, enabled: bool, *, scope: int = SCOPE_WORKSPACE
    ) -> None:
        """Write ``options.tui.compact_mode``; errors as ``set_config``.

        Source: docs/protocol.md 2.10 ``config/compact``.
        """
        body = ConfigCompactRequest(scope=scope, enabled=enabled)
        await self._post(workspace_id, "config/compact", body)

    async def set_provider_key(
        self,
        workspace_id: str,
        provider_id: str,
        api_key: object,
        *,
        kind: str = "string",
        scope: int = SCOPE_WORKSPACE,
    ) -> None:
        """Store a provider credential: a key string, or an OAuth token object.

        Args:
            workspace_id: the workspace.
            provider_id: the provider's id (``openai``).
            api_key: the key text (``kind="string"``) or the token object
                (``kind="oauth"``: ``access_token``, ``refresh_token``, ...).
            kind: ``string`` or ``oauth``.
            scope: which file to write.

        Raises:
            BadRequestError: 400, unknown kind or a payload of the wrong shape;
                as ``set_config`` otherwise.

        Source: docs/protocol.md 2.10 ``config/provider-key``.
        """
        body = ConfigProviderKeyRequest(
            scope=scope, provider_id=provider_id, kind=kind, api_key=api_key
        )
        await self._post(workspace_id, "config/provider-key", body)

    async def needs_init(self, workspace_id: str) -> bool:
        """Return whether the project still needs ``init_project``.

        Source: docs/protocol.md 2.9 ``project/needs-init``.
        """
        path = self._workspace(workspace_id, "project/needs-init")
        return decode(await self._http.send("GET", path), NeedsInit).needs_init

    async def init_project(self, workspace_id: str) -> None:
        """Mark the project initialised (``<data_dir>/init``); ``config_changed``.

        Source: docs/protocol.md 2.9 ``project/init``.
        """
        await self._http.send("POST", self._workspace(workspace_id, "project/init"))

    async def init_prompt(self, workspace_id: str) -> str:
        """Return the prompt that asks the agent to write AGENTS.md.

        Source: docs/protocol.md 2.9 ``project/init-prompt``.
        """
        path = self._workspace(workspace_id, "project/init-prompt")
        return decode(await self._http.send("GET", path), InitPrompt).prompt

    async def _post(self, workspace_id: str, route: str, body: object) -> None:
        await self._http.send("POST", self._workspace(workspace_id, route), body=body)

    def _workspace(self, workspace_id: str, route: str) -> str:
        return f"/workspaces/{segment(workspace_id)}/{route}"
