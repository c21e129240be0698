"""The open providers of one workspace's agent, shared by its turns.

Opening a provider builds an HTTP client; its first call opens a connection
(with a real provider: TCP, then a TLS handshake whose CPU is spent on the
event loop). Opened per turn and per title job, every turn paid that again.
The pool keeps one provider per resolved model (endpoint, key, headers,
body keys, model), so turns and title jobs of the same workspace reuse the
client and its kept-alive connections. One model opens once even when
several turns start together: the others wait for that open instead of
building a client of their own (three prompts at once used to build six
clients, each a worker-thread hop and about 0.4 ms of GIL-holding work once
the SDK is warm, and close four of them). ``warm`` opens the selected models
at ``agent/init``, so a prompt finds its provider open.

The config is read again on every turn, so a changed key or endpoint resolves
to a new model and a new provider; the old one stops being handed out once
more than ``POOL_SIZE`` models were used (least recently used first) and is
closed when its last turn lets go of it. ``aclose`` closes the rest when the
agent stops (docs/agent.md 4.4).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import trio

from .providers import Provider, ResolvedModel

__all__ = ["POOL_SIZE", "ProviderPool"]

log = logging.getLogger(__name__)

#: Providers kept open per workspace (large, small, and a config change each).
POOL_SIZE = 4
#: Seconds a provider may take to close (its HTTP client, which closes its
#: sockets at once) before it is left; the providers close side by side, so
#: the workspace teardown (5 s, turns 2 s of it) waits at most this long.
CLOSE_SECONDS = 1.0


@attrs.define
class _Entry:
    provider: Provider
    users: int = 0
    retired: bool = False


class ProviderPool:
    """Providers by resolved model, opened on first use, shared after.

    Args:
        open_provider: opens a provider for a model (``open_provider`` of
            ``crushd.agent.providers`` in the daemon; a fake in tests).
        size: how many models' providers stay open (``POOL_SIZE``).
    """

    def __init__(
        self,
        open_provider: Callable[[ResolvedModel], Awaitable[Provider]],
        size: int = POOL_SIZE,
    ) -> None:
        self._open = open_provider
        self._size = size
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._opening: dict[str, trio.Event] = {}  # key -> set once opened
        self._closed = False

    @contextlib.asynccontextmanager
    async def use(self, model: ResolvedModel) -> AsyncIterator[Provider]:
        """Lend the provider for ``model`` for the block's duration.

        Raises:
            whatever opening the provider raises (``ModelUnavailable``...).
        """
        entry, spare = await self._acquire(model)
        try:
            await _close_all(spare)
            yield entry.provider
        finally:
            entry.users -= 1
            if entry.retired and entry.users == 0:
                await _close_all([entry])

    async def warm(self, model: ResolvedModel) -> None:
        """Open ``model``'s provider now (``agent/init``), kept for the turns.

        Raises:
            whatever opening the provider raises.
        """
        async with self.use(model):
            pass

    async def aclose(self) -> None:
        """Close every provider not in use; the others close when released."""
        self._closed = True
        entries = list(self._entries.values())
        self._entries.clear()
        await _close_all(_retire(entries))

    def __len__(self) -> int:
        return len(self._entries)

    async def _acquire(self, model: ResolvedModel) -> tuple[_Entry, list[_Entry]]:
        """Return the entry, counted as in use, and the providers to close now."""
        key = _key(model)
        while key in self._opening:  # another turn opens it: share that one
            await self._opening[key].wait()
        entry = self._entries.get(key)
        if entry is None:
            entry = await self._open_entry(key, model)
        # No await from here on: the caller's ``try`` covers the closing.
        entry.users += 1
        spare: list[_Entry] = []
        if not entry.retired:
            self._entries.move_to_end(key)
            spare = _retire(self._evicted())
        return entry, spare

    async def _open_entry(self, key: str, model: ResolvedModel) -> _Entry:
        """Open ``model``'s provider; uses of it meanwhile wait (``_opening``)."""
        opened = self._opening[key] = trio.Event()
        try:
            entry = _Entry(await self._open(model), retired=self._closed)
        finally:
            del self._opening[key]
            opened.set()  # the waiters run after this task's next checkpoint
        if not entry.retired:  # retired: the agent stopped, one use only
            self._entries[key] = entry
        return entry

    def _evicted(self) -> list[_Entry]:
        evicted = []
        while len(self._entries) > self._size:
            evicted.append(self._entries.popitem(last=False)[1])
        return evicted


def _retire(entries: list[_Entry]) -> list[_Entry]:
    """Stop handing ``entries`` out; return the idle ones (others close on release)."""
    for entry in entries:
        entry.retired = True
    return [entry for entry in entries if entry.users == 0]


async def _close_all(entries: list[_Entry]) -> None:
    """Close ``entries`` side by side, each within ``CLOSE_SECONDS``."""
    if entries:
        async with trio.open_nursery() as nursery:
            for entry in entries:
                nursery.start_soon(_close, entry)


def _key(model: ResolvedModel) -> str:
    # Everything the provider was built from; kept in memory only (holds the key).
    return json.dumps(attrs.asdict(model), sort_keys=True, default=str)


async def _close(entry: _Entry) -> None:
    # A provider that fails to close must not fail the turn that let go of it.
    with trio.move_on_after(CLOSE_SECONDS, shield=True):
        try:
            await entry.provider.aclose()
        except Exception:
            log.warning("closing a provider failed", exc_info=True)
