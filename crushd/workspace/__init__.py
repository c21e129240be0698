"""One live workspace: its event log and services (sessions, messages, history)."""

from ._eventlog import PING_FRAME, Batch, EventLog, EventLogStatistics, WsBatch
from ._sessions import SESSION_EVENT, SessionService
from ._spec import WorkspaceSpec
from ._workspace import Workspace, WorkspaceOpener

__all__ = [
    "PING_FRAME",
    "SESSION_EVENT",
    "Batch",
    "EventLog",
    "EventLogStatistics",
    "SessionService",
    "Workspace",
    "WorkspaceOpener",
    "WorkspaceSpec",
    "WsBatch",
]
