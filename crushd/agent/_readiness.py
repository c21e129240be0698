"""What ``agent/init`` prepares before a workspace's first prompt.

Readiness runs in the agent nursery after ``init`` answers; turns wait for
it. Each piece moves work a first prompt would otherwise do in its own loop
steps: the SDK import (a worker thread: the import freezes the loop for
seconds), the wire codecs that prompt decodes and publishes (cattrs writes
their hooks: 1-2 ms each), and the providers of the selected models (one
client per model, kept in the ``ProviderPool``). Sources: docs/agent.md 1.3,
4.4 and 5.1; stress/RESULTS.md ("Loop stalls found and cut").
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import trio

from crushd import proto
from crushd.errors import ModelUnavailable

from ._provider_pool import ProviderPool
from .providers import Models, Provider, ReadWindow, ResolvedModel

__all__ = [
    "FIRST_PROMPT_MODELS",
    "ProviderFactory",
    "default_open_provider",
    "prepare_codecs",
    "warm_providers",
    "warm_sdk",
]

#: Opens a provider for a resolved model (``providers.open_provider``).
ProviderFactory = Callable[[ResolvedModel], Awaitable[Provider]]

#: The wire models a workspace's first prompt decodes and publishes: their
#: codecs are prepared at ``agent/init``, not in that prompt's loop steps.
FIRST_PROMPT_MODELS: tuple[type, ...] = (
    proto.AgentMessage,
    proto.Message,
    proto.Session,
    proto.AgentEvent,
    proto.RunComplete,
    proto.RunRetry,
)


async def default_open_provider(
    model: ResolvedModel, window: ReadWindow | None = None
) -> Provider:
    """``providers.open_provider``, imported on first use (never at daemon start)."""
    from .providers import open_provider  # the SDK loads in a worker thread

    return await open_provider(model, window)


async def warm_sdk() -> None:
    """Import the provider SDK in a worker thread (``providers.load_sdk``)."""
    from .providers import load_sdk

    await load_sdk()


async def prepare_codecs() -> None:
    """Prepare ``FIRST_PROMPT_MODELS``' codecs, one model per loop step."""
    for cls in FIRST_PROMPT_MODELS:
        proto.prepare_codec(cls)
        await trio.lowlevel.checkpoint()


async def warm_providers(pool: ProviderPool, models: Models | None) -> None:
    """Open the large and small models' providers in ``pool`` before any prompt.

    A model crushd cannot speak (``ModelUnavailable``) is left to the turn,
    which reports it; other errors propagate.
    """
    for model in (models.large, models.small) if models is not None else ():
        with contextlib.suppress(ModelUnavailable):
            await pool.warm(model)
