"""Tests for crushd/agent/_provider_pool.py: providers shared by a workspace's turns."""

from __future__ import annotations

import logging
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from crushd.agent._provider_pool import ProviderPool
from crushd.agent.providers import Provider, ResolvedModel, resolve_models
from crushd.config import structure_config

MODELS = resolve_models(
    structure_config(
        {
            "providers": {
                "local": {
                    "type": "openai-compat",
                    "base_url": "http://127.0.0.1:9/v1",
                    "api_key": "key-one",
                    "models": [{"id": "big"}, {"id": "small"}],
                }
            },
            "models": {
                "large": {"model": "big", "provider": "local"},
                "small": {"model": "small", "provider": "local"},
            },
        }
    ),
    {},
)
LARGE, SMALL = MODELS.large, MODELS.small


@attrs.define(eq=False)
class Opened:
    """A provider stand-in that knows whether it was closed."""

    model: ResolvedModel
    closed: int = 0
    fail_close: bool = False

    def stream(self, request: object) -> object:
        raise NotImplementedError

    async def aclose(self) -> None:
        await trio.lowlevel.checkpoint()  # a real client awaits its sockets
        self.closed += 1
        if self.fail_close:
            raise OSError("close failed")


class Opener:
    """Opens ``Opened`` providers; ``gate`` holds every open until set."""

    def __init__(self) -> None:
        self.opened: list[Any] = []  # Opened, typed loosely for identity checks
        self.gate: trio.Event | None = None

    async def __call__(self, model: ResolvedModel) -> Provider:
        if self.gate is not None:
            await self.gate.wait()
        await trio.lowlevel.checkpoint()
        provider = Opened(model)
        self.opened.append(provider)
        return provider  # type: ignore[return-value]


async def test_one_model_opens_once_another_model_opens_its_own() -> None:
    """Later uses of the same model share the first provider."""
    opener = Opener()
    pool = ProviderPool(opener)
    for _ in range(3):
        async with pool.use(LARGE) as provider:
            assert provider is opener.opened[0]
    async with pool.use(SMALL) as provider:
        assert provider is opener.opened[1]
    assert [p.closed for p in opener.opened] == [0, 0]
    await pool.aclose()
    assert [p.closed for p in opener.opened] == [1, 1]


async def test_a_changed_key_gets_a_new_provider() -> None:
    """The key is part of what the provider was built from."""
    opener = Opener()
    pool = ProviderPool(opener)
    async with pool.use(LARGE), pool.use(attrs.evolve(LARGE, api_key="key-two")):
        pass
    assert len(opener.opened) == 2


async def test_first_uses_at_once_open_the_model_once() -> None:
    """Three turns start together: one open, the others wait for it and share it.

    (Each open builds an HTTP client in a thread holding the GIL; the pool
    used to build one per turn and close the extras.)
    """
    opener = Opener()
    opener.gate = trio.Event()
    pool = ProviderPool(opener)
    got: list[object] = []

    async def turn() -> None:
        async with pool.use(LARGE) as provider:
            got.append(provider)
            await trio.sleep(0.01)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(turn)
        await trio.testing.wait_all_tasks_blocked()
        opener.gate.set()
    (first,) = opener.opened
    assert got == [first] * 3
    assert first.closed == 0
    assert len(pool) == 1


async def test_a_failed_open_leaves_the_waiters_to_open_their_own() -> None:
    """The first open fails (its turn gets the error); a waiting turn tries again."""
    opener = Opener()
    opener.gate = trio.Event()
    pool = ProviderPool(opener)
    calls = 0
    real_open = opener.__call__

    async def fail_first(model: ResolvedModel) -> Provider:
        nonlocal calls
        calls += 1
        if calls == 1:
            await opener.gate.wait()  # type: ignore[union-attr]
            raise OSError("no route")
        return await real_open(model)

    pool._open = fail_first
    outcomes: list[object] = []

    async def turn() -> None:
        try:
            async with pool.use(LARGE) as provider:
                outcomes.append(provider)
        except OSError as exc:
            outcomes.append(str(exc))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(turn)
        nursery.start_soon(turn)
        await trio.testing.wait_all_tasks_blocked()
        assert calls == 1  # the second turn waits instead of opening
        opener.gate.set()
    assert outcomes == ["no route", opener.opened[0]]
    assert calls == 2


async def test_warm_opens_the_models_before_any_turn() -> None:
    """``warm`` (agent/init) opens each model once; the turns reuse them."""
    opener = Opener()
    pool = ProviderPool(opener)
    for model in (LARGE, SMALL, LARGE):
        await pool.warm(model)
    assert [p.model for p in opener.opened] == [LARGE, SMALL]
    async with pool.use(SMALL) as provider:
        assert provider is opener.opened[1]
    assert len(opener.opened) == 2


async def test_an_evicted_provider_closes_when_its_last_turn_ends() -> None:
    """Past the size the least recently used goes: at once if idle, else on release."""
    opener = Opener()
    pool = ProviderPool(opener, size=1)
    async with pool.use(LARGE):
        async with pool.use(SMALL):
            large = opener.opened[0]
            assert large.closed == 0  # still in use by the outer turn
        small = opener.opened[1]
        assert small.closed == 0
    assert large.closed == 1
    async with pool.use(LARGE):
        pass
    assert small.closed == 1  # evicted while idle by the reopened large one
    assert len(opener.opened) == 3


async def test_stop_closes_idle_now_busy_on_release_and_later_uses_once() -> None:
    """``aclose``: idle providers close; one in use closes when released."""
    opener = Opener()
    pool = ProviderPool(opener)
    async with pool.use(SMALL):
        pass
    async with pool.use(LARGE):
        await pool.aclose()
        small, large = opener.opened
        assert (small.closed, large.closed) == (1, 0)
    assert large.closed == 1
    async with pool.use(LARGE) as late:
        pass
    third: Any = opener.opened[2]
    assert third.closed == 1  # nothing is kept after the stop
    assert late is third
    assert len(pool) == 0


async def test_a_failing_close_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The turn that lets go of a provider never fails because closing did."""
    opener = Opener()
    pool = ProviderPool(opener)
    async with pool.use(LARGE) as provider:
        provider.fail_close = True  # type: ignore[attr-defined]
    await pool.aclose()
    assert "closing a provider failed" in caplog.text
    assert caplog.records[-1].levelno == logging.WARNING


async def test_a_turn_cancelled_as_it_gets_its_provider_is_released() -> None:
    """Cancelled while the pool closes what it evicted: not left counted as a user."""
    opener = Opener()
    pool = ProviderPool(opener, size=1)
    async with pool.use(LARGE):
        pass
    with trio.CancelScope() as scope:
        real_open = opener.__call__

        async def open_then_cancel(model: ResolvedModel) -> Provider:
            provider = await real_open(model)
            scope.cancel()  # pending while the evicted large one is closed
            return provider

        pool._open = open_then_cancel
        async with pool.use(SMALL):
            await trio.lowlevel.checkpoint()
            raise AssertionError("the cancellation comes first")
    large, small = opener.opened
    assert (large.closed, small.closed) == (1, 0)
    await pool.aclose()
    assert small.closed == 1  # no longer counted as in use
