"""The ``replay`` fixture: a fresh replay server on loopback for each test."""

from __future__ import annotations

import pytest
import trio

from ._server import ReplayServer


@pytest.fixture
async def replay(nursery: trio.Nursery) -> ReplayServer:
    """A running ``ReplayServer`` (cursors and record fresh per test)."""
    server = ReplayServer()
    await nursery.start(server.serve)
    return server
