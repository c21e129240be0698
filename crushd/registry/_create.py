"""Create or join a workspace: validation, admission, shared in-flight builds.

Concurrent creates of one new path share a single build; a create that finds
the path's previous workspace still cleaning up waits for it. Only the waits
are async; every state change is a synchronous ``RegistryCore`` transition.
Source: Crush backend.go ``CreateWorkspace`` (seed 004).
"""

from __future__ import annotations

import uuid

import trio

from crushd.errors import Conflict, CrushdError, PathRequired
from crushd.proto import Workspace, WorkspaceSpec

from ._core import log
from ._hosted import Build, Hosted, W
from ._paths import check_path, resolve_workspace_key, validate_client_id
from ._settings import CHANNELS_MISMATCH
from ._tasks import WorkspaceTasks


class Creates(WorkspaceTasks[W]):
    """The registry's create-or-join path (a ``Registry`` part)."""

    async def create(self, request: Workspace) -> Hosted[W]:
        """Create the workspace for ``request.path``, or join the live one there.

        Validation order and errors follow upstream: ``path`` (400), then
        ``client_id`` (400), then absolute path (400), then admission: closing
        (503) or retired client (409). A live workspace at the same canonical
        path is joined (first wins; a different ``channels`` list is a 409).
        Concurrent creates of one new path share a single build; a create that
        finds the path's previous workspace still cleaning up waits for it.
        The caller's claim is registered with a create-grace hold.

        Returns:
            The live workspace (with the caller's claim).

        Raises:
            PathRequired, InvalidClientID, PathNotAbsolute, InvalidPath: bad
                input, in ``path`` or ``data_dir`` (400).
            ShuttingDown: the closing latch is set (503).
            ClientRetired: the client retired itself (409).
            Conflict: joining with a different ``channels`` list (409,
                decision B.5).
            InternalError: the build failed (500, message says which step).

        Cancellation: a cancelled builder closes what it built; creates
        waiting on its build then build themselves. No claim is left behind.

        Source: Crush backend.go ``CreateWorkspace`` (seed 004).
        """
        await trio.lowlevel.checkpoint()
        if not request.path:
            raise PathRequired
        client_id = validate_client_id(request.client_id)
        key = resolve_workspace_key(request.path)
        if request.data_dir:
            check_path(request.data_dir, "data_dir")
        self._admit(client_id)
        self._pending_creates += 1
        self._disarm_idle()
        try:
            return await self._create_or_join(key, client_id, request)
        finally:
            self._pending_creates -= 1
            self._maybe_arm_idle()
            self._check_quiet()

    async def _create_or_join(
        self, key: str, client_id: str, request: Workspace
    ) -> Hosted[W]:
        while True:
            self._admit(client_id)
            hosted = self._by_key.get(key)
            if hosted is not None:
                self._join(hosted, client_id, request)
                return hosted
            if (old := self._cleanups.get(key)) is not None:
                await old.cleaned.wait()
                continue
            if (build := self._builds.get(key)) is not None:
                await build.done.wait()
                if build.error is not None:
                    raise build.error
                continue
            return await self._build(key, client_id, request)

    def _join(self, hosted: Hosted[W], client_id: str, request: Workspace) -> None:
        spec = hosted.workspace.spec
        if tuple(request.channels) != spec.channels:
            raise Conflict(CHANNELS_MISMATCH)
        _log_first_wins_mismatch(hosted, request)
        self._register(hosted, client_id)

    async def _build(self, key: str, client_id: str, request: Workspace) -> Hosted[W]:
        build: Build[W] = Build()
        self._builds[key] = build
        try:
            hosted = await self._open(key, request, build)
            # Admission errors are this caller's own (a retired builder must
            # not fail the other creators), so they are not shared.
            self._install(hosted, client_id)
            build.hosted = hosted
            return hosted
        finally:
            del self._builds[key]
            build.done.set()

    async def _open(self, key: str, request: Workspace, build: Build[W]) -> Hosted[W]:
        spec = _spec_from_request(key, request)
        try:
            workspace = await self._factory(spec)
        except CrushdError as exc:
            build.error = exc
            raise
        hosted = Hosted(workspace=workspace, key=key)
        try:
            assert self._nursery is not None, "Registry.serve is not running"
            await self._nursery.start(self._run_workspace, hosted)
        except BaseException:
            await self._abandon(hosted)
            raise
        return hosted

    def _install(self, hosted: Hosted[W], client_id: str) -> None:
        # Admission may have changed while the build awaited; a workspace that
        # nobody may claim is torn down at once instead of being published.
        try:
            self._admit(client_id)
        except CrushdError:
            self._teardown(hosted)
            raise
        self._by_id[hosted.id] = hosted
        self._by_key[hosted.key] = hosted
        self._register(hosted, client_id)
        log.info("workspace created id=%s path=%s", hosted.id, hosted.key)


def _spec_from_request(key: str, request: Workspace) -> WorkspaceSpec:
    return WorkspaceSpec(
        id=str(uuid.uuid4()),
        path=request.path,
        key=key,
        data_dir=request.data_dir,
        yolo=request.yolo,
        debug=request.debug,
        env=tuple(request.env),
        channels=tuple(request.channels),
        version=request.version,
    )


def _log_first_wins_mismatch(hosted: Hosted, request: Workspace) -> None:
    spec = hosted.workspace.spec
    wanted = (request.yolo, request.debug, request.data_dir, tuple(request.env))
    have = (spec.yolo, spec.debug, spec.data_dir, spec.env)
    if wanted != have:
        log.debug(
            "workspace flag mismatch on duplicate create; first wins "
            "workspace_id=%s existing=%r requested=%r",
            hosted.id,
            have,
            wanted,
        )
