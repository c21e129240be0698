"""``crushctl run``: send a prompt to the workspace's agent and follow the run live."""

from __future__ import annotations

import argparse
import uuid

import trio

from crushctl import (
    CLEANUP_SECONDS,
    Client,
    Connected,
    CrushctlError,
    EventWatcher,
    HTTPStatusError,
    Retrying,
    RunFollower,
    RunResult,
    Stopped,
    Stuck,
    open_watch,
)
from crushctl._tasks import open_helper_nursery
from crushd.proto import Event, Resync, redact

from ._common import Context, joined_workspace
from ._output import notice, print_json_line
from ._prompt_desk import PromptDesk
from ._run_output import RunPrinter
from ._run_setup import RunOptions, prepare, run_options, session_skip, terminal
from ._watch import item_json, item_notice


async def cmd_run(ctx: Context, args: argparse.Namespace) -> None:
    """Run one prompt in the workspace for ``--cwd`` and print the answer live.

    Steps: join the workspace, select ``--model`` (``config/model``, then
    ``agent/update``), ``agent/init``, pick or create the session, turn on its
    auto-approve with ``--yolo``, attach the event stream, send the prompt
    with a fresh ``run_id``, and print until that run's ``run_complete``.
    Permission requests and questions of the session are shown as they come
    and answered on the terminal (``PromptDesk``). Leaving early (Ctrl-C)
    cancels the run in the daemon first.

    Raises:
        CrushctlError: no prompt, a bad ``--model``, any failed call, or the
            run ended with an error or was cancelled by someone else, or the
            daemon was stopped (shutdown marker, docs/protocol.md C.11: no
            new daemon is started); the message is printed and the exit
            status is 1.

    Source: docs/protocol.md 2.8, 6.1, 6.3; docs/agent.md 7.7.
    """
    options = await run_options(ctx, args)
    client, cwd = ctx.client, getattr(args, "cwd", None)
    async with joined_workspace(client, cwd, spawn=ctx.spawn) as ws:
        session_id = await prepare(client, ws.id, options)
        run = RunCommand(client, ws.id, session_id, options)
        async with (
            session_skip(client, ws.id, session_id, on=options.yolo),
            open_watch(
                client, ws, spawn=ctx.spawn, current_session_id=session_id
            ) as watcher,
        ):
            result = await run.follow(watcher)
    raise_for_outcome(result)


#: ``run``'s error when the daemon shut down on purpose (docs/protocol.md C.11).
STOPPED_ERROR = "the daemon was stopped; the run was cancelled"


def raise_for_outcome(result: RunResult) -> None:
    """Raise ``CrushctlError`` unless the run succeeded."""
    if result.cancelled:
        raise CrushctlError("the run was cancelled")
    if result.error:
        raise CrushctlError(result.error)


class RunCommand:
    """Send the prompt once the stream is up; print the run until it ends.

    Args:
        client: the client.
        workspace_id: the workspace.
        session_id: the session the prompt goes to.
        options: what was asked for.
    """

    def __init__(
        self, client: Client, workspace_id: str, session_id: str, options: RunOptions
    ) -> None:
        self._client = client
        self._workspace_id = workspace_id
        self._options = options
        self.follower = RunFollower(session_id, str(uuid.uuid4()), options.prompt)
        self._printer = RunPrinter(quiet=options.quiet, silent=options.json)
        self._sent = False
        self._desk: PromptDesk | None = None

    async def follow(self, watcher: EventWatcher) -> RunResult:
        """Send the prompt on the first connection; return the run's end.

        Raises:
            CrushctlError: the prompt was refused, the workspace was lost
                (re-created), or the watcher failed for good.

        Cancellation:
            Cancelling after the prompt was sent cancels the run in the
            daemon (bounded, shielded) before leaving.
        """
        try:
            async with open_helper_nursery() as nursery:
                self._desk = self._open_desk(nursery)
                async for item in watcher:
                    result = await self._item(item)
                    if result is not None:
                        nursery.cancel_scope.cancel()  # open prompts are moot
                        self._printer.finish(result)
                        return result
        finally:
            self._printer.stop_waiting()
            if self._sent and self.follower.result is None:
                await self._cancel_run()
        raise CrushctlError("the event stream ended before the run did")

    def _open_desk(self, nursery: trio.Nursery) -> PromptDesk:
        return PromptDesk(
            self._client,
            self._workspace_id,
            self.follower.session_id,
            nursery,
            terminal=terminal() if self._options.interactive else None,
            before_output=self._printer.end_line,
        )

    async def _item(self, item: object) -> RunResult | None:
        if isinstance(item, Event):
            return self._event(item)
        if isinstance(item, Connected):
            await self._connected(item)
        elif isinstance(item, Resync):
            notice(item_notice(item))
            if self._desk is not None:
                await self._desk.refresh()
            return await self._after_gap()
        elif isinstance(item, Retrying | Stuck):
            notice(item_notice(item))
        elif isinstance(item, Stopped):
            self._sent = False  # the daemon cancelled it; nobody to ask
            self._printer.end_line()
            raise CrushctlError(STOPPED_ERROR)
        return None

    def _event(self, event: Event) -> RunResult | None:
        prompt = self._desk is not None and self._desk.feed(event)
        step = self.follower.feed(event)
        if self._options.json and (step.belongs or prompt):
            line = item_json(event)
            print_json_line({**line, "payload": redact(line["payload"])})
        for output in step.outputs:
            self._printer.show(output)
        return self.follower.result

    async def _connected(self, item: Connected) -> None:
        if item.recreated:
            self._sent = False  # nothing left to cancel
            raise CrushctlError(
                "the workspace was gone (daemon restarted?); the run is lost"
            )
        if item.reconnected:
            notice(item_notice(item))
        if not self._sent:
            await self._send()

    async def _send(self) -> None:
        follower = self.follower
        self._sent = True  # from here on, leaving early must cancel the run
        try:
            await self._client.send_prompt(
                self._workspace_id,
                follower.session_id,
                follower.prompt,
                run_id=follower.run_id,
            )
        except HTTPStatusError:
            self._sent = False  # refused: nothing runs
            raise
        self._printer.waiting()

    async def _after_gap(self) -> RunResult | None:
        # Events were lost; the run_complete may have been among them.
        self.follower.missed_events()
        client, follower = self._client, self.follower
        session = await client.agent_session(self._workspace_id, follower.session_id)
        if session.is_busy:
            return None  # still running: its run_complete is yet to come
        messages = await client.messages(self._workspace_id, follower.session_id)
        for output in follower.settle(messages):
            self._printer.show(output)
        return follower.result

    async def _cancel_run(self) -> None:
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            try:
                await self._client.cancel(self._workspace_id, self.follower.session_id)
            except CrushctlError as exc:
                notice(f"could not cancel the run: {exc.message}")
            else:
                notice("cancelled the run")
