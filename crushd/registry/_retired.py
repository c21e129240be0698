"""Retired client ids: clients that said goodbye, remembered for a while."""

from __future__ import annotations

import trio

#: Retired client ids are forgotten after this many seconds (decision B.8).
RETIRED_TTL_SECONDS = 3600.0
#: Hard cap on remembered retired ids, oldest dropped first.
RETIRED_MAX = 65536


class RetiredClients:
    """The set of retired client ids, each with the Trio time it retired.

    An id is forgotten ``RETIRED_TTL_SECONDS`` after its (latest) retire, and
    at most ``RETIRED_MAX`` ids are kept, oldest dropped first. Every method
    is synchronous and amortised O(1); times come from ``trio.current_time()``
    so they follow a test's ``MockClock``.

    Source: docs/protocol.md decision B.8 (upstream keeps the set forever).
    """

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def add(self, client_id: str) -> None:
        """Remember ``client_id`` as retired from now on."""
        self._at.pop(client_id, None)
        self._at[client_id] = trio.current_time()
        self._forget()

    def __contains__(self, client_id: object) -> bool:
        self._forget()
        return client_id in self._at

    def __len__(self) -> int:
        self._forget()
        return len(self._at)

    def _forget(self) -> None:
        # Insertion order is retire order, so the oldest entry comes first.
        horizon = trio.current_time() - RETIRED_TTL_SECONDS
        while self._at:
            oldest, at = next(iter(self._at.items()))
            if at > horizon and len(self._at) <= RETIRED_MAX:
                return
            del self._at[oldest]
