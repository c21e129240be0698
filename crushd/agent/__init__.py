"""The coding agent: runs prompts against a model provider with tools.

Used by ``crushd.workspace`` through small ports; never imported at daemon
start (the provider SDK is loaded in a worker thread at ``agent/init``).
"""

from ._coordinator import AgentCoordinator
from ._lanes import Lanes, PromptAttachment, RunOutcome, Turn
from ._ports import AgentPorts, EventSink, MessageSink, SessionSink
from ._setup import TurnSetup
from ._title import DEFAULT_TITLE, clean_title, generate_title
from ._turn import CANCEL_PERSIST_SECONDS, TurnRunner

__all__ = [
    "CANCEL_PERSIST_SECONDS",
    "DEFAULT_TITLE",
    "AgentCoordinator",
    "AgentPorts",
    "EventSink",
    "Lanes",
    "MessageSink",
    "PromptAttachment",
    "RunOutcome",
    "SessionSink",
    "Turn",
    "TurnRunner",
    "TurnSetup",
    "clean_title",
    "generate_title",
]
