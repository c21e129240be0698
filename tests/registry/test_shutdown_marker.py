"""The shutdown marker: close() says why the streams end, a teardown does not.

Source: docs/protocol.md C.11.
"""

from __future__ import annotations

from pathlib import Path

import trio.testing

from ._support import Harness, fake, new_client_id, request, settle

MARKER = ("workspace_closed", "deleted")


async def test_close_publishes_the_marker_once_per_workspace(
    harness: Harness, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Each live workspace's last event says ``reason: shutdown``, then it closes."""
    registry = await harness.start()
    client_id = new_client_id()
    hosted = await registry.create(request(str(tmp_path / "a"), client_id))
    registry.attach(hosted.id, client_id)
    registry.close()
    registry.close()
    log = fake(hosted).log
    payload = {"workspace_id": hosted.id, "reason": "shutdown"}
    assert log.published == [(*MARKER, payload)]
    assert log.closed == 1


async def test_teardown_of_a_released_workspace_publishes_nothing(
    harness: Harness, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """A workspace whose last claim goes is torn down without the marker."""
    registry = await harness.start()
    client_id = new_client_id()
    hosted = await registry.create(request(str(tmp_path / "a"), client_id))
    registry.release(hosted.id, client_id)
    await settle()
    registry.close()
    log = fake(hosted).log
    assert (log.closed, log.published) == (1, [])
