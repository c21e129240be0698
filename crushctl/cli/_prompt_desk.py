"""``crushctl run``'s inline prompts: show a permission or question, answer it.

With a terminal on stdin the person answers there (``[y]es / [s]ession /
[n]o``, choices, yes/no, text); without one the request is printed with the
command that answers it from another terminal, and the run keeps waiting.
A prompt decided elsewhere closes with who decided (``approved by <client>``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import trio

from crushctl import (
    Client,
    CrushctlError,
    PermissionAsked,
    PermissionClosed,
    PromptChange,
    PromptTracker,
    QuestionsAsked,
    QuestionsClosed,
)
from crushd.proto import (
    PERMISSION_ALLOW,
    PERMISSION_ALLOW_SESSION,
    PERMISSION_DENY,
    Event,
    PermissionRequest,
    QuestionBatchRequest,
)

from ._answers import ask_text, parse_line
from ._output import notice
from ._prompt_lines import (
    permission_detail,
    permission_text,
    question_lines,
    question_summary,
    resolution_text,
)
from ._terminal import LineReader

#: What the permission prompt accepts, and the action each word sends.
PERMISSION_WORDS = {
    "y": PERMISSION_ALLOW,
    "yes": PERMISSION_ALLOW,
    "s": PERMISSION_ALLOW_SESSION,
    "session": PERMISSION_ALLOW_SESSION,
    "n": PERMISSION_DENY,
    "no": PERMISSION_DENY,
}
PERMISSION_ASK = "[y]es / [s]ession / [n]o: "
_DONE = {
    PERMISSION_ALLOW: "approved",
    PERMISSION_ALLOW_SESSION: "approved for this session",
    PERMISSION_DENY: "denied",
}
#: An answering task: asks for one prompt (a request or a batch).
_Ask = Callable[[Any], Awaitable[None]]
_MISSED = "permission resolved while events were missed"
_ANSWER_HINT = "crushctl answer (--choice ID | --yes | --no | --text TEXT)"


class PromptDesk:
    """Show the run's prompts as they open and close; answer them if it can.

    Args:
        client: the client (its id tells this terminal's decisions apart).
        workspace_id: the workspace.
        session_id: the run's session; other sessions' prompts are not shown.
        nursery: owns the answering tasks (one per open prompt).
        terminal: where answers are read (a tty), ``None`` to only print.
        before_output: called before each line (ends the answer's open line).

    Source: docs/protocol.md 2.6, 2.7, 6.5, 6.6; docs/agent.md 3.2-3.4.
    """

    def __init__(
        self,
        client: Client,
        workspace_id: str,
        session_id: str,
        nursery: trio.Nursery,
        *,
        terminal: TextIO | None,
        before_output: Callable[[], None] = lambda: None,
    ) -> None:
        self._client = client
        self._workspace_id = workspace_id
        self._nursery = nursery
        self._tracker = PromptTracker(session_id)
        self._reader = LineReader(nursery, terminal) if terminal else None
        self._before = before_output
        self._scopes: dict[str, trio.CancelScope] = {}  # open prompt -> its task
        self._answering: set[str] = set()  # prompts this terminal answered

    def feed(self, event: Event) -> bool:
        """Take the stream's next event; True if it opened or closed a prompt."""
        change = self._tracker.feed(event)
        self._show(change)
        return change is not None

    async def refresh(self) -> None:
        """After missed events: close requests decided meanwhile, show new ones.

        Best effort: a failed fetch of the pending list is only reported (the
        prompts stay; a late answer then hears "already resolved").
        """
        try:
            pending = await self._client.pending_permissions(self._workspace_id)
        except CrushctlError as exc:
            notice(f"could not refresh the pending permissions: {exc.message}")
            return
        for change in self._tracker.refresh(pending):
            self._show(change, missed=True)

    def _show(self, change: PromptChange | None, *, missed: bool = False) -> None:
        if missed and isinstance(change, PermissionClosed):
            self._closed(change.request.tool_call_id, _MISSED)
        elif isinstance(change, PermissionAsked):
            self._permission_asked(change.request)
        elif isinstance(change, PermissionClosed):
            self._closed(change.request.tool_call_id, self._resolution(change))
        elif isinstance(change, QuestionsAsked):
            self._questions_asked(change.batch)
        elif isinstance(change, QuestionsClosed):
            self._closed(f"q:{change.batch.id}", self._batch_outcome(change))

    def _batch_outcome(self, change: QuestionsClosed) -> str | None:
        if change.cancelled:
            return "questions cancelled"
        by, own = change.resolved_by, self._client.client_id
        if by == own or (not by and f"q:{change.batch.id}" in self._answering):
            return None  # this terminal answered and said so
        return f"questions answered {f'by {by}' if by else 'elsewhere'}"

    def _resolution(self, change: PermissionClosed) -> str | None:
        notification, own = change.notification, self._client.client_id
        by = notification.resolved_by
        mine = by == own or (not by and change.request.tool_call_id in self._answering)
        if mine and not notification.cancelled:
            return None  # this terminal decided and said so
        return f"permission {resolution_text(notification, own)}"

    def _say(self, text: str) -> None:
        self._before()
        if self._reader is not None:
            self._reader.end_prompt()
        notice(text)

    def _permission_asked(self, request: PermissionRequest) -> None:
        self._say(f"permission requested: {permission_text(request)}")
        if detail := permission_detail(request):
            self._say(f"  {detail}")
        if self._reader is None:
            self._say(self._grant_hint(request))
            return
        self._start(request.tool_call_id, self._ask_permission, request)

    def _grant_hint(self, request: PermissionRequest) -> str:
        return (
            "waiting; answer from another terminal:"
            f" crushctl grant {request.id} [--session] | crushctl deny {request.id}"
        )

    def _questions_asked(self, batch: QuestionBatchRequest) -> None:
        self._say(f"the agent asks {question_summary(batch)}")
        for line in question_lines(batch):
            self._say(f"  {line}")
        if self._reader is None:
            self._say(f"waiting; answer from another terminal: {_ANSWER_HINT}")
            return
        self._start(f"q:{batch.id}", self._ask_questions, batch)

    def _start(self, key: str, ask: _Ask, prompt: Any) -> None:
        scope = trio.CancelScope()
        self._scopes[key] = scope
        self._nursery.start_soon(self._guarded, key, scope, ask, prompt)

    async def _guarded(
        self, key: str, scope: trio.CancelScope, ask: _Ask, prompt: Any
    ) -> None:
        with scope:
            await ask(prompt)
        self._scopes.pop(key, None)

    def _closed(self, key: str, text: str | None) -> None:
        scope = self._scopes.get(key)
        if scope is not None and key not in self._answering:
            scope.cancel()  # decided elsewhere: the question on screen is moot
        if text is not None:
            self._say(text)

    async def _ask_permission(self, request: PermissionRequest) -> None:
        assert self._reader is not None
        while (line := await self._reader.ask(PERMISSION_ASK)) is not None:
            action = PERMISSION_WORDS.get(line.strip().casefold())
            if action is not None:
                self._answering.add(request.tool_call_id)
                await self._grant(request, action)
                return
        self._say(self._grant_hint(request))  # no more input

    async def _grant(self, request: PermissionRequest, action: str) -> None:
        client = self._client
        try:
            resolved = await client.grant_permission(
                self._workspace_id, request, action
            )
        except CrushctlError as exc:
            self._say(f"could not answer: {exc.message}; {self._grant_hint(request)}")
            return
        self._say(_DONE[action] if resolved else "already resolved")

    async def _ask_questions(self, batch: QuestionBatchRequest) -> None:
        assert self._reader is not None
        responses = []
        for item in batch.questions or []:
            response = None
            while response is None:
                line = await self._reader.ask(f"{item.id}: {ask_text(item)}")
                if line is None:
                    self._say(f"no more input; answer with {_ANSWER_HINT}")
                    return
                response = parse_line(item, line)
            responses.append(response)
        self._answering.add(f"q:{batch.id}")
        try:
            resolved = await self._client.answer_questions(
                self._workspace_id, batch.id, responses
            )
        except CrushctlError as exc:
            self._say(f"could not answer: {exc.message}; use {_ANSWER_HINT}")
            return
        self._say("answered" if resolved else "already answered or cancelled")
