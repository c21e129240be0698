"""A replay server for recorded model traffic, and the recordings' loader.

``ReplayServer`` speaks the OpenAI chat-completions streaming protocol on
loopback and answers each scenario's requests from its recording in
``tests/fixtures/llm/``, so end-to-end tests run the agent against a model
that answers exactly as the recorded one did (docs/agent.md section 7.8).
"""

from ._checks import agent_request_problems, text_of
from ._provider import API_KEY, PROVIDER_ID, provider_config, write_provider_config
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
from ._verdicts import (
    event_problems,
    final_text,
    fixture_problems,
    message_text,
    request_problems,
    result_for,
    run_complete_for,
    unanswered_tool_calls,
)

__all__ = [
    "AGENT",
    "API_KEY",
    "FIXTURES",
    "PROVIDER_ID",
    "TITLE",
    "Hold",
    "Interaction",
    "RecordedRequest",
    "ReplayServer",
    "Scenario",
    "ToolCallRecord",
    "agent_request_problems",
    "event_problems",
    "final_text",
    "fixture_problems",
    "json_escaped",
    "load_scenario",
    "map_back",
    "message_text",
    "provider_config",
    "rechunk",
    "request_problems",
    "result_for",
    "run_complete_for",
    "scenario_names",
    "split_events",
    "substitute_events",
    "text_of",
    "unanswered_tool_calls",
    "write_provider_config",
]
