"""What a turn runs with: the model, the provider, the prompt and the tools.

The coordinator builds a ``TurnSetup`` from the current config for every
turn (docs/agent.md 1.3); the protocols here are the parts of a resolved
model the engine reads, so tests can pass small fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol

import attrs

from . import _accounting as acct
from ._retry import RetryPolicy
from .providers import ChatMessage, Provider, StreamRequest, ToolSpec
from .tools import Tool

if TYPE_CHECKING:
    from crushd.config import Config


class ModelFacts(acct.Prices, Protocol):
    """The catalog facts a turn reads (``providers.ModelInfo`` fits)."""

    @property
    def id(self) -> str:
        """The model id."""

    @property
    def supports_attachments(self) -> bool:
        """Whether the model takes images."""


class TurnModel(Protocol):
    """A resolved model (``providers.ResolvedModel`` fits)."""

    @property
    def provider_id(self) -> str:
        """The provider's id, stored on assistant messages."""

    @property
    def model(self) -> ModelFacts:
        """The catalog facts."""

    def request(
        self,
        messages: tuple[ChatMessage, ...],
        tools: tuple[ToolSpec, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> StreamRequest:
        """A request with the model's per-call options."""


@attrs.frozen
class TurnSetup:
    """What one turn runs with, rebuilt from the config for every turn.

    Attributes:
        provider: an open provider (closed by whoever opened it).
        model: the large model.
        system_prompt: the system prompt text.
        tools: the tools offered.
        config: the workspace config, for tools.
        interactive: True when clients answer questions (the ``question``
            tool gets the question service).
        max_steps: model calls allowed in the turn.
        retry: the retry policy.
    """

    provider: Provider
    model: TurnModel
    system_prompt: str
    tools: Sequence[Tool] = ()
    config: Config | None = None
    interactive: bool = False
    max_steps: int = acct.MAX_STEPS
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)


#: Opens a turn's setup (model, provider) and closes it afterwards.
SetupOpener = Callable[[], AbstractAsyncContextManager[TurnSetup]]
#: Starts the title job with (session id, prompt); synchronous.
TitleStarter = Callable[[str, str], None]
