"""Fixtures for the registry tests: a fake factory and a served registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from crushd.registry import Registry

from ._support import FakeFactory, Harness


@pytest.fixture
def factory() -> FakeFactory:
    """A fake workspace factory that builds at once."""
    return FakeFactory()


@pytest.fixture
async def harness(
    nursery: trio.Nursery, factory: FakeFactory
) -> AsyncIterator[Harness]:
    """Start a registry on demand; at the end close it and check it shut down clean."""
    harness = Harness(nursery, factory)
    yield harness
    await harness.close_and_check()


@pytest.fixture
async def registry(harness: Harness) -> Registry:
    """A registry with upstream's timings for the ported tests: no detach grace.

    Create grace 30 s, detach grace 0 (upstream's seed 001 removes a claim on
    its last detach), idle linger 60 s.
    """
    return await harness.start(detach_grace_seconds=0)


@pytest.fixture
def project(tmp_path: Path) -> str:
    """An absolute workspace path that exists."""
    path = tmp_path / "project"
    path.mkdir()
    return str(path)
