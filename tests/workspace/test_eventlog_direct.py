"""EventLog's direct-reader hooks: offered every publish, woken when declined."""

from __future__ import annotations

import attrs

from crushd.workspace import EventLog


@attrs.define(eq=False)
class Reader:
    """Takes offers while ``accept`` is true; counts offers and wakes."""

    accept: bool = True
    offers: list[int] = attrs.field(factory=list)
    wakes: int = 0

    def offer(self, seq: int, frame: bytes) -> bool:
        assert frame.startswith(b"id: %d\n" % seq)
        self.offers.append(seq)
        return self.accept

    def wake(self) -> None:
        self.wakes += 1


def test_publish_offers_each_event_to_direct_readers() -> None:
    """Every publish offers (id, SSE frame); an accepted offer wakes nobody."""
    log = EventLog("ws", 4096)
    reader = Reader()
    log.add_direct_reader(reader)
    log.publish("session", "created", {})
    log.publish("session", "created", {})
    assert (reader.offers, reader.wakes) == ([1, 2], 0)


def test_declined_offer_wakes_the_reader() -> None:
    """A reader that cannot take the event is woken instead."""
    log = EventLog("ws", 4096)
    reader = Reader(accept=False)
    log.add_direct_reader(reader)
    log.publish("session", "created", {})
    assert (reader.offers, reader.wakes) == ([1], 1)


def test_wake_and_close_wake_direct_readers() -> None:
    """log.wake() and log.close() wake direct readers too; closed logs offer nothing."""
    log = EventLog("ws", 4096)
    reader = Reader()
    log.add_direct_reader(reader)
    log.wake()
    log.close()
    log.publish("session", "created", {})
    assert (reader.offers, reader.wakes) == ([], 2)


def test_offered_frame_is_held_even_under_the_byte_bound() -> None:
    """The newest (offered) event survives the byte bound; older readers resync."""
    log = EventLog("ws", capacity_frames=100, capacity_bytes=1)
    reader = Reader()
    log.add_direct_reader(reader)
    for _ in range(3):
        log.publish("message", "updated", {"text": "x" * 50})
    assert reader.offers == [1, 2, 3]
    parked = log.read_sse(2)
    assert (parked.resync, parked.data.startswith(b"id: 3\n")) == (False, True)
    assert log.read_sse(1).resync
