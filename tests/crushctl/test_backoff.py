"""Backoff: 250 ms doubling to 10 s, jittered into [1/2, 1] of the nominal delay."""

from __future__ import annotations

import random

import pytest

from crushctl import (
    INITIAL_BACKOFF_SECONDS,
    JITTER_FRACTION,
    MAX_BACKOFF_SECONDS,
    Backoff,
)


class Fixed(random.Random):
    """A random source whose every draw is ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_constants_are_the_protocol_ones() -> None:
    """The nominal schedule starts at 250 ms and stops doubling at 10 s."""
    assert (INITIAL_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS) == (0.25, 10.0)
    assert 0 < JITTER_FRACTION < 1


def test_backoff_nominal_doubles_and_caps() -> None:
    """With no jitter drawn the delays are 0.25, 0.5, ... 8, then 10 forever."""
    backoff = Backoff(Fixed(0.0))
    delays = [backoff.next_delay() for _ in range(9)]
    assert delays == [0.25, 0.5, 1, 2, 4, 8, 10, 10, 10]
    assert backoff.nominal_seconds == 10


def test_backoff_reset_starts_over() -> None:
    """reset() brings the next delay back to 250 ms."""
    backoff = Backoff(Fixed(0.0))
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.nominal_seconds == 0.25
    assert backoff.next_delay() == 0.25


@pytest.mark.parametrize("draw", [0.0, 0.3, 0.999999])
def test_backoff_jitter_scales_the_nominal_delay(draw: float) -> None:
    """A draw d gives nominal * (1 - JITTER_FRACTION * d)."""
    backoff = Backoff(Fixed(draw))
    assert backoff.next_delay() == pytest.approx(0.25 * (1 - JITTER_FRACTION * draw))
    assert backoff.next_delay() == pytest.approx(0.5 * (1 - JITTER_FRACTION * draw))


def test_backoff_default_source_stays_within_bounds() -> None:
    """Unseeded, every delay lies in [nominal / 2, nominal] and they differ."""
    backoff = Backoff()
    seen = []
    for _ in range(40):
        nominal = backoff.nominal_seconds
        delay = backoff.next_delay()
        assert nominal * (1 - JITTER_FRACTION) <= delay <= nominal
        seen.append(delay)
    assert len(set(seen)) > 1
