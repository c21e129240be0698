"""Each hosted workspace's task: serve it in its own nursery, then clean up.

The task owns the workspace nursery (its timers and background work) and
runs the workspace's bounded, shielded cleanup however it ends. See
docs/architecture.md section 3 and CONTRIBUTING.md rule 17.
"""

from __future__ import annotations

import logging

import trio

from ._core import RegistryCore
from ._hosted import Hosted, W
from ._settings import CLEANUP_SECONDS

log = logging.getLogger("crushd.registry")


class WorkspaceTasks(RegistryCore[W]):
    """The per-workspace tasks of the registry (a ``Registry`` part)."""

    async def _run_workspace(
        self, hosted: Hosted[W], *, task_status: trio.TaskStatus[None]
    ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                hosted.nursery = nursery
                # The workspace's own tasks (message flusher, agent runs)
                # belong to its nursery, never to a request.
                await nursery.start(hosted.workspace.serve)
                task_status.started()
                await hosted.teardown_requested.wait()
                nursery.cancel_scope.cancel()
        except Exception:
            # Supervisor at the workspace boundary: a failing workspace task
            # takes down its own workspace only (CONTRIBUTING.md rule 17).
            log.exception("workspace %s failed; tearing it down", hosted.id)
            hosted.claims.clear()
            if not hosted.torn_down:
                self._teardown(hosted)
        finally:
            await self._cleanup(hosted)

    async def _cleanup(self, hosted: Hosted[W]) -> None:
        try:
            with trio.move_on_after(CLEANUP_SECONDS, shield=True):
                await hosted.workspace.aclose()
        except Exception:
            log.exception("cleanup of workspace %s failed", hosted.id)
        finally:
            if self._cleanups.get(hosted.key) is hosted:
                del self._cleanups[hosted.key]
            hosted.cleaned.set()
            self._check_quiet()

    async def _abandon(self, hosted: Hosted[W]) -> None:
        # Once spawned, the workspace task always cleans up in its ``finally``
        # (a start cancelled before ``started()`` waits for that cleanup), so
        # close the workspace here only when the task never ran; closing it
        # twice would release its data-dir lock twice.
        if hosted.cleaned.is_set():
            return
        if hosted.nursery is not None:
            self._teardown(hosted)
            return
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            await hosted.workspace.aclose()
