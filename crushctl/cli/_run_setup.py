"""``crushctl run``'s set-up: options, the prompt, the model, the session, --yolo."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator
from typing import TextIO

import attrs
import trio

from crushctl import CLEANUP_SECONDS, Client, CrushctlError

from ._common import Context
from ._render import clip

#: The longest session title made from a prompt, in characters.
TITLE_CHARS = 100


@attrs.frozen
class RunOptions:
    """What ``crushctl run`` was asked for.

    Attributes:
        prompt: the prompt text.
        session_id: the session to use; ``""`` means create one.
        latest: use the most recently updated session (``--continue``).
        provider: ``--model``'s provider id, ``""`` to keep the configured model.
        model: ``--model``'s model id.
        quiet: print only the final text.
        json: print the run's events as JSON lines.
        yolo: auto-approve this run's session (never the whole workspace).
        interactive: stdin is a terminal: prompts are answered there.
    """

    prompt: str
    session_id: str = ""
    latest: bool = False
    provider: str = ""
    model: str = ""
    quiet: bool = False
    json: bool = False
    yolo: bool = False
    interactive: bool = False


def terminal() -> TextIO | None:
    """Return stdin when a person can answer prompts there (a tty), else ``None``."""
    stdin = sys.stdin
    return stdin if stdin is not None and stdin.isatty() else None


async def run_options(ctx: Context, args: argparse.Namespace) -> RunOptions:
    """Read the prompt and check ``--model``; raise ``CrushctlError`` if bad."""
    provider, model = parse_model(args.model or "")
    return RunOptions(
        prompt=await read_prompt(args.prompt),
        session_id=args.session or "",
        latest=args.latest,
        provider=provider,
        model=model,
        quiet=args.quiet,
        json=ctx.json,
        yolo=args.yolo,
        interactive=terminal() is not None,
    )


async def prepare(client: Client, workspace_id: str, options: RunOptions) -> str:
    """Select the model (if asked), init the agent; return the session to prompt.

    Raises:
        HTTPStatusError: 500 from ``agent/init`` or ``agent/update`` when no
            usable model is configured (upstream's text), or as the calls.
    """
    if options.provider:
        choice: dict[str, object] = {
            "provider": options.provider,
            "model": options.model,
        }
        await client.set_model(workspace_id, "large", choice)
    # A terminal can answer the question tool (docs/protocol.md 2.8, 6.6).
    await client.agent_init(workspace_id, interactive=options.interactive)
    if options.provider:
        await client.agent_update(workspace_id)  # an agent made earlier
    return await pick_session(client, workspace_id, options)


async def read_prompt(words: list[str]) -> str:
    """Return the prompt: the words joined, else all of stdin when it is not a tty.

    Raises:
        CrushctlError: no words and stdin is a terminal (or closed), or the
            prompt is only white space.
    """
    if words:
        text = " ".join(words)
    elif sys.stdin is None or sys.stdin.isatty():
        raise CrushctlError("no prompt: give it as arguments or on stdin")
    else:
        text = await trio.to_thread.run_sync(sys.stdin.read, abandon_on_cancel=True)
    if not text.strip():
        raise CrushctlError("prompt is empty")
    return text.strip()


def parse_model(spec: str) -> tuple[str, str]:
    """Split ``PROVIDER/MODEL`` at the first ``/`` (model ids may hold more).

    Returns ``("", "")`` for ``""``.

    Raises:
        CrushctlError: ``spec`` has no provider or no model part.
    """
    if not spec:
        return "", ""
    provider, _, model = spec.partition("/")
    if not provider or not model:
        raise CrushctlError(f"--model takes PROVIDER/MODEL, got {spec!r}")
    return provider, model


async def pick_session(client: Client, workspace_id: str, options: RunOptions) -> str:
    """Return the session to prompt: the given one, the latest, or a new one.

    Raises:
        NotFoundError: 404, ``--session`` names no session.
    """
    if options.session_id:
        return (await client.session(workspace_id, options.session_id)).id
    if options.latest:
        sessions = await client.sessions(workspace_id)  # most recent first
        if sessions:
            return sessions[0].id
    title = clip(options.prompt.splitlines()[0], TITLE_CHARS)
    return (await client.create_session(workspace_id, title)).id


@contextlib.asynccontextmanager
async def session_skip(
    client: Client, workspace_id: str, session_id: str, *, on: bool
) -> AsyncIterator[None]:
    """Auto-approve ``session_id``'s prompts inside the block (``--yolo``).

    Only this session: the workspace's toggle and other clients' prompts stay
    as they are (docs/agent.md 3.4). Turned off again on exit (bounded,
    shielded, best effort). Does nothing unless ``on``.

    Raises:
        CrushctlError: the daemon refused to turn it on.
    """
    if not on:
        yield
        return
    await client.set_permission_skip(workspace_id, True, session_id=session_id)
    try:
        yield
    finally:
        with trio.move_on_after(CLEANUP_SECONDS, shield=True):
            with contextlib.suppress(CrushctlError):
                await client.set_permission_skip(
                    workspace_id, False, session_id=session_id
                )
