"""``crushctl answer``: answer (or cancel) the question the agent is asking.

There is no route listing the pending question batch; an event stream
attached without ``Last-Event-ID`` starts with it (docs/protocol.md C.4), so
the command attaches briefly and reads what comes first.
"""

from __future__ import annotations

import argparse

import trio

from crushctl import (
    Client,
    CrushctlError,
    PromptTracker,
    open_event_stream,
)
from crushd.proto import (
    QuestionBatchRequest,
)

from ._answers import responses_from_flags
from ._common import Context, joined_workspace
from ._output import print_json
from ._prompt_lines import question_lines

#: How long the attach waits for the replayed pending prompts, in seconds.
REPLAY_WAIT_SECONDS = 1.0


async def pending_batch(
    client: Client, workspace_id: str
) -> QuestionBatchRequest | None:
    """Return the workspace's pending question batch, or ``None``.

    Reads the replayed pending prompts at the head of a fresh stream: up to
    the first live event (one with an id), the stream's end, or
    ``REPLAY_WAIT_SECONDS``.

    Raises:
        CrushctlError: the stream could not be attached.
    """
    tracker = PromptTracker()
    async with open_event_stream(client, workspace_id) as stream:
        with trio.move_on_after(REPLAY_WAIT_SECONDS):
            async for event in stream:
                if event.id:
                    break  # live events: the replay is over
                tracker.feed(event)
    batches = tracker.open_batches
    return batches[-1] if batches else None


async def cmd_answer(ctx: Context, args: argparse.Namespace) -> None:
    """Answer the pending question batch from flags, cancel it, or show it.

    Without ``--choice``, ``--yes``/``--no``, ``--text`` or ``--cancel`` the
    questions are printed with how to answer each.

    Raises:
        CrushctlError: nothing is pending, an answer is missing or matches no
            choice, or someone else answered first (``resolved: false``).

    Source: docs/protocol.md 2.7, 6.6; docs/agent.md 3.3, 3.4.
    """
    client = ctx.client
    async with joined_workspace(client, getattr(args, "cwd", None)) as ws:
        batch = await pending_batch(client, ws.id)
        if batch is None:
            raise CrushctlError("no question is pending")
        if args.cancel:
            resolved = await client.cancel_questions(ws.id)
            _report(ctx, batch, "cancelled", resolved)
        elif args.choice or args.yes is not None or args.text:
            responses = responses_from_flags(batch, args.choice, args.yes, args.text)
            resolved = await client.answer_questions(ws.id, batch.id, responses)
            _report(ctx, batch, "answered", resolved)
        else:
            _show(ctx, batch)


def _show(ctx: Context, batch: QuestionBatchRequest) -> None:
    if ctx.json:
        print_json(batch)
        return
    print(f"question batch {batch.id} (session {batch.session_id})")
    for line in question_lines(batch):
        print(f"  {line}")


def _report(
    ctx: Context, batch: QuestionBatchRequest, done: str, resolved: bool
) -> None:
    if ctx.json:
        print_json({"batch_id": batch.id, "action": done, "resolved": resolved})
    elif resolved:
        print(f"{done} question batch {batch.id}")
    if not resolved:
        raise CrushctlError(f"question batch {batch.id} already answered or cancelled")


def add_answer_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    """Add ``answer`` under ``commands`` (``parents``: common options and --cwd)."""
    text = "answer the question the agent is asking (or show it)"
    sub = commands.add_parser("answer", help=text, description=text, parents=parents)
    sub.set_defaults(handler=cmd_answer, spawns=False)
    sub.add_argument(
        "--choice",
        metavar="ID",
        action="append",
        default=[],
        help="pick a choice by id, number or label (repeat for several)",
    )
    yes_no = sub.add_mutually_exclusive_group()
    yes_no.add_argument(
        "--yes", dest="yes", action="store_const", const=True, help="answer yes"
    )
    yes_no.add_argument(
        "--no", dest="yes", action="store_const", const=False, help="answer no"
    )
    yes_no.add_argument(
        "--cancel", action="store_true", help="cancel the questions instead"
    )
    sub.add_argument(
        "--text",
        metavar="TEXT",
        action="append",
        default=[],
        help="a free-text answer (repeat for several, in order)",
    )
