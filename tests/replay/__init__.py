"""A replay server for recorded model traffic, and the recordings' loader.

``ReplayServer`` speaks the OpenAI chat-completions streaming protocol on
loopback and answers each scenario's requests from its recording in
``tests/fixtures/llm/``, so end-to-end tests run the agent against a model
that answers exactly as the recorded one did (docs/agent.md section 7.8).
"""

from ._checks import agent_request_problems, text_of
from ._scenario import (
    AGENT,
    FIXTURES,
    TITLE,
    Interaction,
    Scenario,
    ToolCallRecord,
    load_scenario,
    scenario_names,
    split_events,
)
from ._server import Hold, RecordedRequest, ReplayServer
from ._substitute import json_escaped, map_back, rechunk, substitute_events

__all__ = [
    "AGENT",
    "FIXTURES",
    "TITLE",
    "Hold",
    "Interaction",
    "RecordedRequest",
    "ReplayServer",
    "Scenario",
    "ToolCallRecord",
    "agent_request_problems",
    "json_escaped",
    "load_scenario",
    "map_back",
    "rechunk",
    "scenario_names",
    "split_events",
    "substitute_events",
    "text_of",
]
