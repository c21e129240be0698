"""One soak client process (``python -m stress.soak._worker HOST OUT SEED MODE P...``).

``work`` mode loops until SIGTERM: join a random project, follow its event
stream (one or two streams), publish session changes, set its current
session, then leave (release the hold or just walk away). Every stream
segment (one HTTP response) is checked as it is read: ids strictly
consecutive, a resumed segment continuing right after its ``Last-Event-ID``
(or starting with ``resync``). Every session change the client made while its
stream was open must arrive on that stream before the client closes it.
A broken connection is resumed with ``Last-Event-ID``; a 404 on resume (the
daemon was killed and restarted) ends the chain and excuses what it missed.

``noread`` mode joins project 0 and opens a stream it never reads.

Each segment is appended to ``OUT`` as a JSON line when it ends; a final
``{"summary": ...}`` line is written on a clean exit. The soak driver reads
these files afterwards (``_verify``).
"""

from __future__ import annotations

import json
import math
import random
import signal
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO

import attrs
import trio

from crushctl import (
    Client,
    ConflictError,
    CrushctlError,
    NotFoundError,
    open_event_stream,
)
from crushd.proto import parse_host

#: How long a client waits for its own change to come back on its stream.
OWN_EVENT_SECONDS = 10.0
#: A stream silent this long (the heartbeat is 1 s) counts as broken.
READ_TIMEOUT_SECONDS = 5.0


@attrs.define
class Chain:
    """Segments of one stream on one workspace, joined by ``Last-Event-ID``."""

    workspace_id: str
    last: int | None = None
    pending: set[str] = attrs.field(factory=set)
    got: set[str] = attrs.field(factory=set)
    seen: trio.Event = attrs.field(factory=trio.Event)
    ready: trio.Event = attrs.field(factory=trio.Event)
    broken: bool = False
    segments: int = 0


class Worker:
    """One client process's state and counters."""

    def __init__(self, host: str, out: IO[str], seed: int, projects: list[str]):
        self.client = Client(parse_host(host), client_id=str(uuid.uuid4()))
        self.out = out
        self.rng = random.Random(seed)
        self.projects = projects
        self.stats = {"ops": 0, "events": 0, "segments": 0, "resumes": 0,
                      "resyncs": 0, "errors": 0, "excused": 0, "workspaces": 0,
                      "cuts": 0, "failed ops": 0}  # fmt: skip
        self.violations: list[str] = []

    def write(self, record: dict[str, object]) -> None:
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    # ------------------------------------------------------------ streams

    async def follow(self, chain: Chain) -> None:
        """Follow ``chain`` until cancelled or its workspace is gone."""
        while True:
            try:
                await self.segment(chain)
            except (NotFoundError, ConflictError):
                chain.broken = True
                chain.ready.set()
                self.stats["excused"] += len(chain.pending)
                return
            except CrushctlError:
                self.stats["errors"] += 1
            chain.ready.set()
            await trio.sleep(self.rng.uniform(0.05, 0.3))
            self.stats["resumes"] += 1

    async def segment(self, chain: Chain) -> None:
        """One HTTP response of ``chain``; a fifth are cut short (a network blip)."""
        # A chain cut before its first event resumes from 0: it must not
        # miss what was published since it first attached.
        resume = chain.last if chain.last is not None or not chain.segments else 0
        chain.segments += 1
        ids: list[int] = []
        kinds: list[str] = []
        cut = self.rng.uniform(0.2, 1.5) if self.rng.random() < 0.2 else math.inf
        try:
            with trio.move_on_after(cut) as blip:
                await self.read(chain, resume, ids, kinds)
            self.stats["cuts"] += blip.cancelled_caught
        finally:
            self.stats["segments"] += 1
            self.write({"ws": chain.workspace_id, "resume": resume, "ids": ids,
                        "kinds": kinds})  # fmt: skip

    async def read(
        self, chain: Chain, resume: int | None, ids: list[int], kinds: list[str]
    ) -> None:
        async with open_event_stream(
            self.client,
            chain.workspace_id,
            last_event_id=resume,
            read_timeout_seconds=READ_TIMEOUT_SECONDS,
        ) as events:
            chain.ready.set()
            async for event in events:
                self.check_order(chain, resume, ids, event.id, event.type)
                ids.append(event.id)
                tag = f"{event.type}:{event.event_type}:{_subject(event.payload)}"
                kinds.append(tag)
                chain.last = event.id
                self.stats["events"] += 1
                chain.got.add(tag)
                chain.pending.discard(tag)
                chain.seen.set()
                chain.seen = trio.Event()

    def check_order(
        self, chain: Chain, resume: int | None, ids: list[int], id_: int, type_: str
    ) -> None:
        if type_ == "resync":
            self.stats["resyncs"] += 1
        if ids:
            expected: int | None = ids[-1] + 1
        else:
            expected = None if resume is None or type_ == "resync" else resume + 1
        if expected is not None and id_ != expected:
            self.violations.append(
                f"ws {chain.workspace_id[:8]}: got id {id_}, expected {expected}"
                f" (resumed from {resume})"
            )

    # -------------------------------------------------------------- work

    async def visit(self) -> None:
        """Join one project, stream, publish, then leave."""
        project = self.rng.choice(self.projects)
        ws = await self.client.create_workspace(project)
        self.stats["workspaces"] += 1
        chains = [Chain(ws.id) for _ in range(self.rng.choice([1, 1, 2]))]
        async with trio.open_nursery() as nursery:
            for chain in chains:
                nursery.start_soon(self.follow, chain)
            for chain in chains:
                await chain.ready.wait()
            with trio.move_on_after(self.rng.uniform(0.5, 3.0)):
                await self.publish_loop(ws.id, chains)
            await self.drain(chains)
            nursery.cancel_scope.cancel()
        if self.rng.random() < 0.6:
            await self.client.delete_workspace(ws.id)

    async def publish_loop(self, ws_id: str, chains: list[Chain]) -> None:
        sessions: list[str] = []
        while True:
            await trio.sleep(self.rng.uniform(0.01, 0.1))
            self.stats["ops"] += 1
            try:
                await self.publish_one(ws_id, chains, sessions)
            except NotFoundError:
                return  # the daemon was restarted: this workspace is gone
            except CrushctlError:
                self.stats["failed ops"] += 1  # no daemon right now: keep going

    async def publish_one(
        self, ws_id: str, chains: list[Chain], sessions: list[str]
    ) -> None:
        """Create, rename or delete a session, or set the current one."""
        roll = self.rng.random()
        if roll < 0.4 or not sessions:
            made = await self.client.create_session(ws_id, "soak")
            sessions.append(made.id)
            self.expect(chains, f"session:created:{made.id}")
        elif roll < 0.7:
            sid = self.rng.choice(sessions)
            await self.client.update_session(ws_id, sid, title="soak!")
            self.expect(chains, f"session:updated:{sid}")
        elif roll < 0.85:
            sid = sessions.pop(self.rng.randrange(len(sessions)))
            await self.client.delete_session(ws_id, sid)
            self.expect(chains, f"session:deleted:{sid}")
        else:
            await self.client.set_current_session(ws_id, self.rng.choice(sessions))

    def expect(self, chains: list[Chain], tag: str) -> None:
        # The event may arrive before the response that caused it.
        for chain in chains:
            if not chain.broken and tag not in chain.got:
                chain.pending.add(tag)

    async def drain(self, chains: list[Chain]) -> None:
        """Wait until every change made is seen on every unbroken chain."""
        with trio.move_on_after(OWN_EVENT_SECONDS):
            for chain in chains:
                while chain.pending and not chain.broken:
                    await chain.seen.wait()
        for chain in chains:
            if chain.pending and not chain.broken:
                self.violations.append(
                    f"ws {chain.workspace_id[:8]}: own events never arrived:"
                    f" {sorted(chain.pending)[:3]}"
                )

    async def attempt(self) -> None:
        """One visit; a failed request (daemon gone, say) means: back off, retry."""
        failed = False
        try:
            await self.visit()
        except* CrushctlError:
            self.stats["errors"] += 1
            failed = True
        if failed:
            await trio.sleep(self.rng.uniform(0.1, 0.5))

    async def run(self, stop: trio.Event) -> None:
        while not stop.is_set():
            with trio.CancelScope() as scope:
                stopper = _cancel_on(stop, scope)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(stopper)
                    await self.attempt()
                    nursery.cancel_scope.cancel()
        with trio.move_on_after(5):
            try:
                await self.client.retire()
            except CrushctlError:
                self.stats["errors"] += 1


def _cancel_on(
    stop: trio.Event, scope: trio.CancelScope
) -> Callable[[], Awaitable[None]]:
    async def wait() -> None:
        await stop.wait()
        scope.cancel()

    return wait


def _subject(payload: object) -> str:
    if isinstance(payload, dict):
        return str(payload.get("id") or payload.get("workspace_id") or "")
    return ""


async def noread(host: str, projects: list[str], stop: trio.Event) -> None:
    """Open a stream on project 0 and never read it."""
    client = Client(parse_host(host), client_id=str(uuid.uuid4()))
    while not stop.is_set():
        try:
            ws = await client.create_workspace(projects[0])
            sock = await trio.open_unix_socket(parse_host(host).address)
        except (CrushctlError, OSError):
            await trio.sleep(0.5)
            continue
        target = f"/v1/workspaces/{ws.id}/events?client_id={client.client_id}"
        request = f"GET {target} HTTP/1.1\r\nHost: api.crush.localhost\r\n\r\n"
        await sock.send_all(request.encode())
        await stop.wait()  # never read: the daemon's send timeout must drop us
        await sock.aclose()


async def amain(argv: list[str]) -> int:
    host, out_path, seed, mode, *projects = argv
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(_watch_term, stop, ready_file(out_path))
        if mode == "noread":
            await noread(host, projects, stop)
            nursery.cancel_scope.cancel()
            return 0
        # Appends of small lines to a local file: blocking is negligible here.
        with Path(out_path).open("a", encoding="utf-8") as out:  # noqa: ASYNC230
            worker = Worker(host, out, int(seed), projects)
            await worker.run(stop)
            worker.write({"summary": worker.stats, "violations": worker.violations})
        nursery.cancel_scope.cancel()
    return 0


def ready_file(out_path: Path | str) -> Path:
    """The file a client touches once SIGTERM ends it cleanly (next to its output)."""
    return Path(f"{out_path}.ready")


async def _watch_term(
    stop: trio.Event,
    ready: Path,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        ready.touch()  # noqa: ASYNC240 - one empty local file, once at start
        task_status.started()
        async for _ in signals:
            stop.set()


if __name__ == "__main__":
    sys.exit(trio.run(amain, sys.argv[1:]))
