"""One live workspace: its event log and services (sessions, history, skills)."""

from ._eventlog import PING_FRAME, Batch, EventLog, EventLogStatistics, WsBatch
from ._sessions import SESSION_EVENT, SessionService
from ._skills import SKILLS_EVENT, SkillsService, open_skills
from ._spec import WorkspaceSpec
from ._workspace import Workspace, WorkspaceOpener

__all__ = [
    "PING_FRAME",
    "SESSION_EVENT",
    "SKILLS_EVENT",
    "Batch",
    "EventLog",
    "EventLogStatistics",
    "SessionService",
    "SkillsService",
    "Workspace",
    "WorkspaceOpener",
    "WorkspaceSpec",
    "WsBatch",
    "open_skills",
]
