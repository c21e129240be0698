"""The shapes every tool shares: a call, its result, its context, the protocol.

The engine hands a tool a ``ToolCall`` (the model's JSON text, unparsed) and a
``ToolContext`` (the session, the workspace root and the ports a tool may
write through); the tool answers with a ``ToolResult`` and never raises for
bad input (docs/agent.md 2.2).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs

from ._http import HttpOpener, client_opener

if TYPE_CHECKING:
    from crushd.config import Config
    from crushd.proto import QuestionItem, QuestionResponse, Todo

    from ._jobs import JobTable


@attrs.frozen
class ToolCall:
    """One tool call as the model sent it.

    Attributes:
        id: the model's call id (``call_...``).
        name: the tool's name (``view``, ``ls``, ...).
        input: the arguments as JSON text, exactly as sent (may be invalid).
    """

    id: str
    name: str
    input: str


@attrs.frozen
class ToolResult:
    """What a tool answers; sent back to the model as a ``tool`` message.

    Attributes:
        content: the text the model reads.
        is_error: True when the call failed (bad input, missing file, ...).
        metadata: JSON text for user interfaces, ``""`` when none.
        media: ``(mime, data)`` for an image the model should see, else None.
        stop_turn: True when the turn should end after this result.
    """

    content: str
    is_error: bool = False
    metadata: str = ""
    media: tuple[str, bytes] | None = None
    stop_turn: bool = False


#: The result of a denied permission request (upstream's
#: ``NewPermissionDeniedResponse``): the turn ends after it.
PERMISSION_DENIED_TEXT = "User denied permission"


@attrs.frozen
class PermissionAsk:
    """What a tool asks permission for (docs/agent.md 3.1 and 3.2).

    Attributes:
        tool_name: the tool asking (``bash``, ``edit``, ...).
        action: upstream's action word (``execute``, ``write``, ``read``,
            ``list``, ``fetch``, ``download``).
        path: the path the request is about (the service turns a file into
            its folder, as upstream).
        description: one line for the dialog ("Create file /x/hello.txt").
        params: the tool's parameters as the wire shows them (any JSON).
    """

    tool_name: str
    action: str
    path: str
    description: str
    params: object = None


class PermissionGate(Protocol):
    """The workspace's permission service, as a tool sees it."""

    async def request(
        self, session_id: str, tool_call_id: str, ask: PermissionAsk
    ) -> bool:
        """Ask, wait for a decision and return True when allowed.

        Returns at once when skip, per-session auto-approve, ``allowed_tools``
        or an ``allow_session`` grant applies. Raises ``trio.Cancelled`` when
        the run is cancelled while waiting (the service then closes the
        request for every client).
        """


@attrs.frozen
class DenyingGate:
    """A gate that allows nothing: the default when no service is wired (tests)."""

    async def request(
        self, session_id: str, tool_call_id: str, ask: PermissionAsk
    ) -> bool:
        """Return False: nobody can be asked."""
        return False


class QuestionAsker(Protocol):
    """The workspace's question service, as the ``question`` tool sees it."""

    async def ask(
        self,
        session_id: str,
        tool_call_id: str,
        questions: list[QuestionItem],
        confirm_title: str = "",
        confirm_description: str = "",
    ) -> list[QuestionResponse] | None:
        """Show a batch to every client, wait; the responses, None if cancelled.

        Raises ``ValueError`` (text for the model) when the batch breaks a
        limit, ``trio.Cancelled`` when the run is cancelled while waiting.
        """


class ReadTracker(Protocol):
    """The file tracker: which files a session has read, and when."""

    async def record_read(self, session_id: str, path: Path) -> None:
        """Remember that ``session_id`` read ``path`` now."""

    async def last_read(self, session_id: str, path: Path) -> float:
        """When ``session_id`` last read ``path`` (Unix seconds; 0 if never)."""


class FileHistory(Protocol):
    """The session's file history (versions of the files the agent changed)."""

    async def record_write(
        self, session_id: str, path: Path, old_content: str, new_content: str
    ) -> None:
        """Record a write of ``path``; never raises.

        ``old_content`` is the text on disk before the write (``""`` when
        the file was created), ``new_content`` the text written.
        """


class TodoSink(Protocol):
    """Where the ``todos`` tool stores a session's list."""

    async def set_todos(self, session_id: str, todos: list[Todo]) -> None:
        """Replace the todo list of ``session_id`` (and publish the change)."""


@attrs.frozen
class ToolContext:
    """Everything a tool run may use besides its input.

    Attributes:
        session_id: the session the call belongs to.
        message_id: the assistant message holding the call.
        tool_call_id: the call's id.
        root: the workspace folder, absolute and canonical (symlinks resolved).
        reads: the file tracker.
        todos: the session's todo store.
        supports_images: True when the model accepts image attachments.
        config: the workspace configuration (tool limits, options), if any.
        permissions: the permission gate (the workspace's service; a gate
            that denies everything when none is wired).
        http: opens an HTTP client for ``fetch``/``download`` (default:
            a fresh client on the network per call; tests pass
            ``client_opener(httpx.MockTransport(...))``).
        history: the file history the write tools record versions in
            (None: nothing recorded).
        questions: the question service (interactive agents only; None:
            nobody to ask).
        jobs: the workspace's shell job table (bash, job_output, job_kill;
            None: bash runs without background jobs).
    """

    session_id: str
    message_id: str
    tool_call_id: str
    root: Path
    reads: ReadTracker
    todos: TodoSink
    supports_images: bool = False
    config: Config | None = None
    permissions: PermissionGate = attrs.field(factory=DenyingGate)
    http: HttpOpener = attrs.field(factory=client_opener)
    history: FileHistory | None = None
    questions: QuestionAsker | None = None
    jobs: JobTable | None = None

    async def allowed(self, ask: PermissionAsk) -> bool:
        """Ask the gate for this call; True when the tool may go on."""
        return await self.permissions.request(self.session_id, self.tool_call_id, ask)

    def denied(self) -> ToolResult:
        """Return upstream's denied result: an error that ends the turn."""
        return ToolResult(PERMISSION_DENIED_TEXT, is_error=True, stop_turn=True)


class Tool(Protocol):
    """A tool the model may call.

    Attributes:
        name: upstream's tool name (recorded model traffic uses it).
        description: what the tool does, shown to the model.
        parameters: a JSON schema object with upstream's property names.
        parallel: True when calls may run at the same time as other calls.
    """

    name: str
    description: str
    parameters: dict[str, object]
    parallel: bool

    async def run(self, call: ToolCall, ctx: ToolContext) -> ToolResult:
        """Run ``call``; bad input gives an error result, never an exception."""
