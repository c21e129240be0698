"""Helpers for the end-to-end tests that run recordings on a real daemon.

A ``Watcher`` keeps one client's events; ``joined`` attaches a new client to
the project's workspace; ``start_scenario`` writes a recording's project and
provider config and starts a daemon (docs/agent.md 1.4, 1.10, 7.8).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import trio

from crushctl import Client, EventStream, open_event_stream
from crushd.proto import Event, PermissionRequest, from_json

from ..replay import ReplayServer, Scenario, load_scenario, write_provider_config
from .conftest import Daemon, DaemonFactory
from .test_multiclient import PROMPT


@attrs.define
class Watcher:
    """One client's event stream and every event read from it so far."""

    stream: EventStream
    events: list[Event] = attrs.field(factory=list)

    async def until(self, wanted: Callable[[Event], bool]) -> Event:
        """The first event (already read or next) that ``wanted`` accepts.

        Raises ``trio.TooSlowError`` after ``PROMPT`` seconds and
        ``AssertionError`` when the stream ends first.
        """
        with trio.fail_after(PROMPT):
            for event in self.events:
                if wanted(event):
                    return event
            async for event in self.stream:
                self.events.append(event)
                if wanted(event):
                    return event
        raise AssertionError("the event stream ended")


@attrs.frozen
class Joined:
    """A client joined to the workspace, with its stream attached."""

    client: Client
    workspace_id: str
    watcher: Watcher

    async def init_agent(self) -> None:
        await self.client.agent_init(self.workspace_id)

    async def prompt(self, session_id: str, prompt: str, run_id: str) -> None:
        await self.client.send_prompt(
            self.workspace_id, session_id, prompt, run_id=run_id
        )

    async def cancel(self, session_id: str) -> None:
        await self.client.cancel(self.workspace_id, session_id)

    async def grant(self, request: PermissionRequest, action: str = "allow") -> bool:
        return await self.client.grant_permission(self.workspace_id, request, action)

    async def request(self) -> tuple[Event, PermissionRequest]:
        """The first ``permission_request`` this client received, decoded."""
        event = await self.watcher.until(of_type("permission_request"))
        return event, from_json(event.payload, PermissionRequest)


@contextlib.asynccontextmanager
async def joined(daemon: Daemon, project: Path, *, yolo: bool) -> AsyncIterator[Joined]:
    """A new client joins the project's workspace and attaches.

    ``yolo=False`` keeps permission prompts on for the workspace.
    """
    async with daemon.client() as client:
        workspace = await client.create_workspace(project, yolo=yolo)
        async with open_event_stream(client, workspace.id) as stream:
            yield Joined(client, workspace.id, Watcher(stream))


async def start_scenario(
    daemons: DaemonFactory, project: Path, replay: ReplayServer, name: str
) -> tuple[Daemon, Scenario]:
    """The project files, the provider config and a daemon, for ``name``."""
    scenario = load_scenario(name)
    scenario.write_project(project)
    replay.use_workdir(name, project)
    config_folder = Path(daemons.env()["CRUSH_GLOBAL_CONFIG"])
    write_provider_config(config_folder, scenario, replay.base_url(name))
    return await daemons.start(), scenario


def of_type(kind: str) -> Callable[[Event], bool]:
    """Accepts the events of type ``kind``."""
    return lambda event: event.type == kind


def completed(run_id: str) -> Callable[[Event], bool]:
    """Accepts the ``run_complete`` event of ``run_id``."""

    def wanted(event: Event) -> bool:
        payload = event.payload
        return (
            event.type == "run_complete"
            and isinstance(payload, dict)
            and payload.get("run_id") == run_id
        )

    return wanted


def payload(event: Event) -> dict[str, object]:
    """The event's payload, which must be a JSON object."""
    assert isinstance(event.payload, dict)
    return event.payload
