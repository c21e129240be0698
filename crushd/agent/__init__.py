"""The coding agent: runs prompts against a model provider with tools.

Used by ``crushd.workspace`` through small ports; never imported at daemon
start (the provider SDK is loaded in a worker thread at ``agent/init``).
"""

from ._coordinator import AgentCoordinator
from ._lanes import Lanes, PromptAttachment, RunOutcome, Turn
from ._ports import AgentPorts, EventSink, MessageSink, SessionSink
from ._setup import TurnSetup
from ._stats import AGENT_STATS, AgentStats, TimedPermissions
from ._title import DEFAULT_TITLE, clean_title, generate_title
from ._turn import CANCEL_PERSIST_SECONDS, TurnRunner

__all__ = [
    "AGENT_STATS",
    "CANCEL_PERSIST_SECONDS",
    "DEFAULT_TITLE",
    "AgentCoordinator",
    "AgentPorts",
    "AgentStats",
    "EventSink",
    "Lanes",
    "MessageSink",
    "PromptAttachment",
    "RunOutcome",
    "SessionSink",
    "TimedPermissions",
    "Turn",
    "TurnRunner",
    "TurnSetup",
    "clean_title",
    "generate_title",
]
