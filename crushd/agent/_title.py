"""The session title job: ask the small model, then the large one.

An attempt fails when the call errors or stops on the token limit (the
recorded DeepSeek models spend their 40 tokens thinking), and the next model
is asked. The answer is cleaned (one line, ``<think>`` blocks removed); an
empty answer falls back to the prompt's first 50 characters; when every
attempt failed the session is named "Untitled Session". The call's cost is
added to the session's cost only: the token counters describe the context,
which a title call is not part of (docs/agent.md 1.12).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

import attrs
import trio

from crushd.errors import CrushdError

from . import _accounting as acct
from ._ports import SessionSink
from ._prompt import session_headers, template
from ._setup import TurnModel
from ._turn import CANCEL_PERSIST_SECONDS, close_stream
from .providers import ChatMessage, Finish, Provider, ProviderError, TextDelta, Usage

log = logging.getLogger(__name__)

#: The name of a session whose title could not be generated (upstream).
DEFAULT_TITLE = "Untitled Session"
#: Output tokens a title call may use (unless the model reasons).
TITLE_MAX_TOKENS = 40
#: A title made from the prompt is cut to this many characters.
PROMPT_TITLE_CHARS = 50

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)
_THINK_TAG = re.compile(r"</?think>")

_M = TypeVar("_M", bound=TurnModel)


@attrs.frozen
class _Answer:
    text: str
    reason: str
    usage: Usage | None


def clean_title(text: str, prompt: str) -> str:
    """Turn a model's answer into a title (fallbacks as upstream).

    Newlines become spaces and ``<think>`` blocks and stray tags go; an empty
    result is the prompt on one line, cut to 50 characters with an ellipsis;
    still empty: "Untitled Session".
    """
    title = _THINK_TAG.sub("", _THINK_BLOCK.sub("", text.replace("\n", " "))).strip()
    if title:
        return title
    fallback = prompt.replace("\n", " ").strip()
    if len(fallback) > PROMPT_TITLE_CHARS:
        fallback = fallback[: PROMPT_TITLE_CHARS - 1] + "…"
    return fallback or DEFAULT_TITLE


def _max_tokens(model: TurnModel) -> int:
    facts = model.model
    if getattr(facts, "can_reason", False):
        return int(getattr(facts, "default_max_tokens", 0)) or TITLE_MAX_TOKENS
    return TITLE_MAX_TOKENS


async def _ask(
    provider: Provider, model: TurnModel, session_id: str, prompt: str
) -> _Answer:
    messages = (
        ChatMessage("system", template("title.md") + "\n /no_think"),
        ChatMessage(
            "user",
            f"Give this request a short title:\n\n{prompt}\n <think>\n\n</think>",
        ),
    )
    request = attrs.evolve(
        model.request(messages, (), session_headers(session_id)),
        max_tokens=_max_tokens(model),
    )
    parts: list[str] = []
    finish = Finish("unknown", None)
    events = provider.stream(request)
    try:
        async for event in events:
            if isinstance(event, TextDelta):
                parts.append(event.text)
            elif isinstance(event, Finish):
                finish = event
    finally:
        await close_stream(events)
    return _Answer("".join(parts), finish.reason, finish.usage)


async def _attempt(
    open_provider: Callable[[_M], AbstractAsyncContextManager[Provider]],
    model: _M,
    session_id: str,
    prompt: str,
) -> _Answer | None:
    try:
        async with open_provider(model) as provider:
            answer = await _ask(provider, model, session_id, prompt)
    except (ProviderError, CrushdError) as exc:
        log.info("title call failed on %s: %r", model.model.id, exc)
        return None
    if answer.reason == "length":
        log.info("title call hit the token limit on %s", model.model.id)
        return None
    return answer


async def generate_title(
    sessions: SessionSink,
    session_id: str,
    prompt: str,
    models: Sequence[_M],
    open_provider: Callable[[_M], AbstractAsyncContextManager[Provider]],
) -> str:
    """Generate, save and publish a session's title; return it.

    Args:
        sessions: where the title and its cost are saved.
        session_id: the session.
        prompt: the session's first prompt.
        models: the models to try in order (small, then large).
        open_provider: opens a provider for one model.

    Returns:
        The title saved.

    Cancellation:
        A cancelled job still names the session "Untitled Session", within
        ``CANCEL_PERSIST_SECONDS``, as upstream's deferred fallback does.

    Source: Crush ``agent.go`` ``GenerateTitle``.
    """
    saved = False
    try:
        for model in models:
            answer = await _attempt(open_provider, model, session_id, prompt)
            if answer is None:
                continue
            title = clean_title(answer.text, prompt)
            cost = acct.step_cost(answer.usage or Usage(), model.model)
            await sessions.set_title(session_id, title, cost)
            saved = True
            return title
    finally:
        if not saved:
            with trio.move_on_after(CANCEL_PERSIST_SECONDS, shield=True):
                await sessions.set_title(session_id, DEFAULT_TITLE, 0.0)
    return DEFAULT_TITLE
