"""The replay server, driven by the openai SDK as crushd's provider drives it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import attrs
import httpx
import openai
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCallFunction

from . import (
    AGENT,
    TITLE,
    ReplayServer,
    json_escaped,
    load_scenario,
    rechunk,
    scenario_names,
    substitute_events,
)

# The SDK stops reading at [DONE] and leaves its byte-stream generators (in its
# bundled httpx2 / httpcore2) unclosed; only those are let through.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Async generator 'httpx2\\.:ResourceWarning"),
    pytest.mark.filterwarnings("ignore:Async generator 'httpcore2\\.:ResourceWarning"),
]

#: Bound for one exchange with the local server, seconds (a hang guard only).
PROMPT = 10.0

LARGE = "deepseek-v4-pro-0813"
SMALL = "deepseek-v4-flash-0731"
TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("glob", "ls", "view")
]

Messages = list[dict[str, object]]


@attrs.frozen
class Answer:
    """A streamed answer, reassembled the way a client does."""

    content: str
    reasoning: str
    tool_calls: list[dict[str, object]]
    finish_reason: str | None


@pytest.fixture
async def sdk(replay: ReplayServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=f"http://127.0.0.1:{replay.port}/", api_key="x", max_retries=0
    )
    yield client
    await client.close()


def scenario_client(
    sdk: openai.AsyncOpenAI, replay: ReplayServer, name: str
) -> openai.AsyncOpenAI:
    return sdk.with_options(base_url=replay.base_url(name))


async def ask(
    client: openai.AsyncOpenAI, model: str, messages: Messages, *, tools: bool = True
) -> Answer:
    """One streamed chat call; tools offered when ``tools`` (an agent call)."""
    with trio.fail_after(PROMPT):
        stream = await client.chat.completions.create(
            model=model,
            messages=cast(Any, messages),
            stream=True,
            tools=cast(Any, TOOLS) if tools else openai.omit,
            max_tokens=openai.omit if tools else 40,
        )
        return await collect(stream)


async def collect(stream: openai.AsyncStream[ChatCompletionChunk]) -> Answer:
    """Reassemble a streamed answer (one choice)."""
    content, reasoning, finish = [], [], None
    calls: dict[int, dict[str, str]] = {}
    async for chunk in stream:
        for choice in chunk.choices:
            delta = choice.delta
            content.append(delta.content or "")
            extra = delta.model_extra or {}
            reasoning.append(extra.get("reasoning_content") or "")
            for call in delta.tool_calls or ():
                entry = calls.setdefault(call.index, {"arguments": ""})
                function = call.function or ChoiceDeltaToolCallFunction()
                if call.id:
                    entry.update(id=call.id, name=function.name or "")
                entry["arguments"] += function.arguments or ""
            finish = choice.finish_reason or finish
    tool_calls: list[dict[str, object]] = [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["name"], "arguments": c["arguments"]},
        }
        for _, c in sorted(calls.items())
    ]
    return Answer("".join(content), "".join(reasoning), tool_calls, finish)


async def play(client: openai.AsyncOpenAI, prompt: str) -> list[Answer]:
    """Act as an agent: answer every tool call until the model stops."""
    messages: Messages = [
        {"role": "system", "content": "our own prompt"},
        {"role": "user", "content": prompt},
    ]
    answers = [await ask(client, LARGE, messages)]
    while calls := answers[-1].tool_calls:
        messages.append({"role": "assistant", "content": "", "tool_calls": calls})
        messages.extend(
            {"role": "tool", "tool_call_id": call["id"], "content": "a result"}
            for call in calls
        )
        answers.append(await ask(client, LARGE, messages))
    return answers


def arguments(answer: Answer) -> list[object]:
    return [
        json.loads(call["function"]["arguments"])  # type: ignore[index]
        for call in answer.tool_calls
    ]


# -- the server ----------------------------------------------------------------


async def test_a_scenario_plays_through_in_the_test_directory(
    replay: ReplayServer, sdk: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    """read_a_file: glob, view (of the test's go.mod), the recorded answer."""
    replay.use_workdir("read_a_file", tmp_path)
    scenario = load_scenario("read_a_file")
    answers = await play(scenario_client(sdk, replay, "read_a_file"), scenario.prompt)
    assert [arguments(a) for a in answers] == [
        [{"pattern": "go.mod"}],
        [{"file_path": f"{tmp_path}/go.mod"}],
        [],
    ]
    assert answers[0].reasoning  # reasoning_content is streamed as recorded
    assert answers[-1].content == scenario.agent_turns[-1].content
    assert [a.finish_reason for a in answers] == ["tool_calls", "tool_calls", "stop"]
    requests = replay.requests("read_a_file")
    assert [(r.purpose, r.position, r.interaction) for r in requests] == [
        (AGENT, 0, 1),
        (AGENT, 1, 3),
        (AGENT, 2, 4),
    ]
    assert all(r.problems == () for r in requests)


async def test_title_and_agent_cursors_are_independent(
    replay: ReplayServer, sdk: openai.AsyncOpenAI
) -> None:
    """Title calls on either model never consume the large model's agent turns."""
    client = scenario_client(sdk, replay, "read_a_file")
    prompt: Messages = [{"role": "user", "content": "Read the go mod"}]
    first = await ask(client, LARGE, prompt)
    title_large = await ask(client, LARGE, prompt, tools=False)
    title_small = await ask(client, SMALL, prompt, tools=False)
    assert arguments(first) == [{"pattern": "go.mod"}]
    assert (title_large.finish_reason, title_small.finish_reason) == ("length",) * 2
    served = [(r.model, r.purpose, r.interaction) for r in replay.requests()]
    assert served == [(LARGE, AGENT, 1), (LARGE, TITLE, 2), (SMALL, TITLE, 0)]


async def test_an_extra_call_gets_500_that_forbids_retries(
    replay: ReplayServer, sdk: openai.AsyncOpenAI
) -> None:
    """simple_test recorded no title call: 500, replay_exhausted, x-should-retry false.

    The SDK is allowed two retries here and makes none: the header stops it.
    """
    client = scenario_client(sdk, replay, "simple_test").with_options(max_retries=2)
    with pytest.raises(openai.InternalServerError) as caught:
        await ask(client, SMALL, [{"role": "user", "content": "Hello"}], tools=False)
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body == {
        "message": "replay exhausted: scenario simple_test, model "
        f"{SMALL}, purpose title, request 1",
        "type": "replay_exhausted",
        "code": "replay_exhausted",
    }
    (request,) = replay.requests()
    assert (request.purpose, request.position, request.served) == (TITLE, 0, False)


async def test_the_record_holds_each_request_mapped_back(
    replay: ReplayServer, sdk: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    """Body as sent, body with the test dir mapped back, model, purpose, verdict."""
    replay.use_workdir("read_a_file", tmp_path)
    client = scenario_client(sdk, replay, "read_a_file")
    echo = {
        "id": "call_58a6f8fab343c64a",
        "type": "function",
        "function": {"name": "glob", "arguments": '{"pattern": "go.mod"}'},
    }
    messages: Messages = [
        {"role": "user", "content": f"Read the go mod in {tmp_path}"},
        {"role": "assistant", "content": "", "tool_calls": [echo]},
        {"role": "tool", "tool_call_id": "call_58a6f8fab343c64a", "content": ""},
    ]
    await ask(client, LARGE, messages[:1])
    await ask(client, LARGE, messages)
    first, second = replay.requests()
    assert first.body["messages"] == messages[:1]
    recorded_dir = load_scenario("read_a_file").workdir
    assert first.normalised["messages"] == [
        {"role": "user", "content": f"Read the go mod in {recorded_dir}"}
    ]
    assert (first.model, first.purpose, first.position, first.problems) == (
        LARGE,
        AGENT,
        0,
        (),
    )
    offered = first.body["tools"]
    assert isinstance(offered, list)
    assert [t["function"]["name"] for t in offered] == ["glob", "ls", "view"]
    assert second.problems == ("a trailing tool result is empty",)


async def test_concurrent_requests_are_not_serialised(
    replay: ReplayServer, sdk: openai.AsyncOpenAI
) -> None:
    """A title call completes while an agent answer is held mid-stream."""
    hold = replay.hold("glob_tool", purpose=AGENT, after_events=2)
    client = scenario_client(sdk, replay, "glob_tool")
    prompt: Messages = [{"role": "user", "content": "use glob"}]
    answers: list[Answer] = []

    async def agent() -> None:
        answers.append(await ask(client, LARGE, prompt))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(agent)
        with trio.fail_after(PROMPT):
            await hold.reached.wait()
        title = await ask(client, SMALL, prompt, tools=False)
        assert not answers
        hold.release()
    assert title.finish_reason == "length"
    assert arguments(answers[0]) == [{"pattern": "**/*.go"}]


async def test_a_held_answer_notices_the_client_leaving(
    replay: ReplayServer,
) -> None:
    """Closing the connection during a hold sets ``disconnected``."""
    hold = replay.hold("simple_test", after_events=1)
    body = {"model": LARGE, "messages": [], "tools": TOOLS, "stream": True}
    url = replay.base_url("simple_test") + "/chat/completions"
    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", url, json=body) as response,
    ):
        assert response.headers["content-type"] == "text/event-stream"
        with trio.fail_after(PROMPT):
            await hold.reached.wait()
    with trio.fail_after(PROMPT):
        await hold.disconnected.wait()


async def test_models_unknown_models_and_scenarios(
    replay: ReplayServer,
) -> None:
    """GET models lists the recorded two; other models and scenarios are 404s."""
    async with httpx.AsyncClient(base_url=replay.base_url("ls_tool")) as http:
        listed = (await http.get("/models")).json()
        other = await http.post("/chat/completions", json={"model": "gpt-x"})
        elsewhere = await http.get(f"http://127.0.0.1:{replay.port}/nope/v1/models")
    assert [m["id"] for m in listed["data"]] == [LARGE, SMALL]
    assert other.status_code == 404
    assert other.json()["error"]["type"] == "model_not_found"
    assert elsewhere.status_code == 404
    assert replay.requests() == []


async def test_reset_rewinds_cursors_and_forgets_requests(
    replay: ReplayServer, sdk: openai.AsyncOpenAI
) -> None:
    client = scenario_client(sdk, replay, "simple_test")
    hello: Messages = [{"role": "user", "content": "Hello"}]
    await ask(client, LARGE, hello)
    pending = replay.hold("simple_test", position=1)
    replay.reset()
    assert replay.requests() == []
    assert pending.released.is_set()
    again = await ask(client, LARGE, hello)
    assert again.content == "Hello! How can I help you today?"


# -- substitution ----------------------------------------------------------------


FRAGMENTS = st.sampled_from(["/", "tmp", "/c", "rush", "x", "/tmp/crush", ""])


@given(st.lists(FRAGMENTS, max_size=12), st.text(max_size=5))
def test_rechunk_replaces_across_fragments_and_keeps_their_number(
    fragments: list[str], new: str
) -> None:
    old = "/tmp/crush"
    out = rechunk(fragments, old, new)
    assert len(out) == len(fragments)
    assert "".join(out) == "".join(fragments).replace(old, new)


@pytest.mark.parametrize("name", scenario_names())
def test_every_recording_substitutes_into_an_awkward_directory(name: str) -> None:
    """Tool arguments stay valid JSON naming the new directory (quotes escaped)."""
    scenario = load_scenario(name)
    new = '/tmp/a "quoted" dir\\x'
    for turn in scenario.interactions:
        events = substitute_events(turn.events, scenario.workdir, new)
        assert len(events) == len(turn.events)
        assert not any(scenario.workdir in e for e in events)
        got = _reassembled_arguments(events)
        wanted = [
            json.loads(c.arguments.replace(scenario.workdir, json_escaped(new)))
            for c in turn.tool_calls
        ]
        assert got == wanted


def test_text_and_reasoning_are_substituted_too() -> None:
    """Content and reasoning fragments are joined per field before replacing."""
    deltas = [
        {"content": "in /t"},
        {"reasoning_content": "/t"},
        {"content": "mp/w!"},
        {"reasoning_content": "mp/w"},
    ]
    events = [json.dumps({"choices": [{"index": 0, "delta": d}]}) for d in deltas]
    out = substitute_events([*events, "[DONE]"], "/tmp/w", "/new")
    texts = [json.loads(e)["choices"][0]["delta"] for e in out[:-1]]
    assert texts == [
        {"content": "in /new"},
        {"reasoning_content": "/new"},
        {"content": "!"},
        {"reasoning_content": ""},
    ]
    assert out[-1] == "[DONE]"


def _reassembled_arguments(events: list[str]) -> list[object]:
    calls: dict[int, str] = {}
    for event in events[:-1]:
        for choice in json.loads(event)["choices"]:
            for call in choice["delta"].get("tool_calls") or ():
                text = call["function"]["arguments"]
                calls[call["index"]] = calls.get(call["index"], "") + text
    return [json.loads(text) for _, text in sorted(calls.items())]
