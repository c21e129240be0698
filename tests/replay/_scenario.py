"""Recorded model conversations, loaded from ``tests/fixtures/llm/<scenario>.json``.

Each file holds one conversation of upstream Crush's coding agent with a
model: the prompt, the project files, every chat-completion exchange in
recorded order (the streamed answer and the request's shape) and the checks a
test makes afterwards. ``tests/fixtures/llm/README.md`` describes the format.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import cast

import attrs

#: Where the recordings live.
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "llm"

#: The request offers tools: a coding-agent step.
AGENT = "agent"
#: The request offers no tools: a session-title call.
TITLE = "title"

JSONObject = dict[str, object]


@attrs.frozen
class ToolCallRecord:
    """A tool call the model made in a recorded answer.

    Attributes:
        id: the call id (``call_...``).
        name: the tool name (``glob``, ``view``...).
        arguments: the arguments as JSON text, with the recorded workdir.
    """

    id: str
    name: str
    arguments: str


@attrs.frozen
class Interaction:
    """One recorded chat-completion exchange.

    Attributes:
        index: position in the recording, 0-based.
        model: the model the request named.
        purpose: ``"agent"`` or ``"title"``.
        events: the ``data:`` payloads of the streamed answer, in order, the
            last one ``[DONE]``.
        content: the answer's text, reassembled.
        tool_calls: the answer's tool calls, reassembled.
        finish_reason: ``stop``, ``tool_calls`` or ``length``.
        reference_tool_results: what upstream's tools returned for the
            previous agent turn's calls (``{tool_call_id: text}``).
    """

    index: int
    model: str
    purpose: str
    events: tuple[str, ...]
    content: str
    tool_calls: tuple[ToolCallRecord, ...]
    finish_reason: str
    reference_tool_results: dict[str, str]


@attrs.frozen
class Scenario:
    """One recorded conversation.

    Attributes:
        name: the scenario name (the file's stem).
        workdir: the directory the conversation was recorded in; it occurs in
            streamed text and tool arguments.
        prompt: the user prompt.
        large: the large model's name (runs the agent).
        small: the small model's name (titles).
        project_files: relative path -> content, created before the prompt.
        interactions: every exchange, in recorded order.
        checks: the assertions the fixture lists (``kind`` + fields).
    """

    name: str
    workdir: str
    prompt: str
    large: str
    small: str
    project_files: dict[str, str]
    interactions: tuple[Interaction, ...]
    checks: tuple[JSONObject, ...]

    @property
    def models(self) -> tuple[str, str]:
        """The two recorded model names, large first."""
        return (self.large, self.small)

    def queue(self, model: str, purpose: str) -> tuple[Interaction, ...]:
        """The exchanges a (model, purpose) cursor serves, in recorded order."""
        return tuple(
            item
            for item in self.interactions
            if item.model == model and item.purpose == purpose
        )

    @property
    def agent_turns(self) -> tuple[Interaction, ...]:
        """The large model's agent exchanges, in order."""
        return self.queue(self.large, AGENT)

    def check(self, kind: str) -> JSONObject | None:
        """The first check of ``kind``, or ``None``."""
        return next((c for c in self.checks if c["kind"] == kind), None)

    def write_project(self, root: Path) -> None:
        """Create the recorded project files under ``root``."""
        for relative, content in self.project_files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")


def split_events(body: str) -> tuple[str, ...]:
    """Split a recorded SSE body into its ``data:`` payloads.

    Args:
        body: ``data: {...}`` events separated by blank lines.

    Returns:
        The payloads without the ``data: `` prefix, ``[DONE]`` included.
    """
    return tuple(
        line.removeprefix("data:").strip()
        for line in body.splitlines()
        if line.startswith("data:")
    )


def _interaction(raw: JSONObject) -> Interaction:
    recorded = cast(JSONObject, raw["recorded"])
    calls = cast(list[dict[str, str]], recorded["tool_calls"])
    return Interaction(
        index=cast(int, raw["index"]),
        model=cast(str, raw["model"]),
        purpose=cast(str, raw["purpose"]),
        events=split_events(cast(str, raw["response_sse"])),
        content=cast(str, recorded["content"]),
        tool_calls=tuple(
            ToolCallRecord(c["id"], c["name"], c["arguments"]) for c in calls
        ),
        finish_reason=cast(str, recorded["finish_reason"]),
        reference_tool_results=cast(dict[str, str], raw["reference_tool_results"]),
    )


@functools.cache
def load_scenario(name: str, directory: Path = FIXTURES) -> Scenario:
    """Load ``<directory>/<name>.json`` (cached).

    Raises:
        FileNotFoundError: no such recording.
        KeyError, ValueError: the file is not in the recordings' format.
    """
    raw = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    models = cast(dict[str, str], raw["models"])
    return Scenario(
        name=raw["scenario"],
        workdir=raw["workdir"],
        prompt=raw["prompt"],
        large=models["large"],
        small=models["small"],
        project_files=raw["project_files"],
        interactions=tuple(_interaction(item) for item in raw["interactions"]),
        checks=tuple(raw["checks"]),
    )


def scenario_names(directory: Path = FIXTURES) -> list[str]:
    """Every recording's name, sorted."""
    return sorted(path.stem for path in directory.glob("*.json"))
