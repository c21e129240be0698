"""The openai-compat provider against a scripted local SSE server."""

from __future__ import annotations

import gc
import json
import socket
import ssl
import subprocess
import sys
import types
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any, cast

import attrs
import pytest
import trio

from crushd.agent.providers import (
    ChatMessage,
    Finish,
    Provider,
    ProviderError,
    ReasoningDelta,
    ResolvedModel,
    StreamEvent,
    StreamRequest,
    TextDelta,
    ToolCallDelta,
    ToolCallDone,
    ToolCallRequest,
    ToolCallStart,
    ToolSpec,
    Usage,
    _paced_reads,
    open_provider,
    resolve_models,
)
from crushd.agent.providers import _call_stream as call_stream
from crushd.agent.providers import _openai_compat as compat
from crushd.agent.providers._openai_compat import ANYIO_TRIO_BACKEND, as_body_keys
from crushd.agent.providers._paced_reads import PacedStream
from crushd.agent.providers._rehearsal import rehearse_first_request
from crushd.config import structure_config
from crushd.errors import ModelUnavailable
from crushd.workspace._flush_window import FlushWindow

from ._sse_server import Reply, SSEServer, chunk

KEY = "sk-local-secret-123456"
PNG_URL = "data:image/png;base64,iVBORw=="
USAGE: dict[str, object] = {
    "prompt_tokens": 100,
    "completion_tokens": 7,
    "total_tokens": 107,
}


def _model(base_url: str, **provider: object) -> ResolvedModel:
    config = structure_config(
        {
            "providers": {
                "local": {
                    "type": "openai-compat",
                    "base_url": base_url,
                    "api_key": KEY,
                    "extra_headers": {"X-Team": "blue"},
                    "extra_body": {"seed": 7},
                    "models": [{"id": "m1", "default_max_tokens": 500}],
                    **provider,
                }
            }
        }
    )
    return resolve_models(config, {}).large


def _request(**overrides: Any) -> StreamRequest:
    base = StreamRequest(
        model="m1",
        messages=(ChatMessage("system", "be brief"), ChatMessage("user", "hi")),
        max_tokens=500,
    )
    return attrs.evolve(base, **overrides)


async def _run(
    replies: list[Reply],
    request: StreamRequest | None = None,
    **provider: object,
) -> tuple[list[StreamEvent], SSEServer]:
    return await _run_with(replies, request, None, **provider)


async def _run_with(
    replies: list[Reply],
    request: StreamRequest | None,
    window: FlushWindow | None,
    **provider: object,
) -> tuple[list[StreamEvent], SSEServer]:
    server = SSEServer(replies)
    events: list[StreamEvent] = []
    failure: ProviderError | None = None
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        opened = await open_provider(_model(server.base_url, **provider), window)
        try:
            events = await _collect(opened.stream(request or _request()))
        except ProviderError as exc:
            failure = exc
        await opened.aclose()
        nursery.cancel_scope.cancel()
    gc.collect()  # an abandoned generator would warn now, failing the test
    if failure is not None:
        raise failure
    return events, server


async def _collect(stream: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in stream]


async def _failure(reply: Reply) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await _run([reply])
    return info.value


def _text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


async def test_text_stream_and_request_shape() -> None:
    """Text deltas pass through; the request carries model, limits and keys."""
    reply = Reply(
        events=[
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}, finish="stop"),
            chunk(None, usage=USAGE),
            "[DONE]",
        ]
    )
    request = _request(headers={"x-session-id": "s1"}, extra_body={"top_k": 3})
    events, server = await _run([reply], request)
    assert events[:-1] == [TextDelta("Hel"), TextDelta("lo")]
    assert events[-1] == Finish("stop", Usage(input_tokens=100, output_tokens=7))
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["x-team"] == "blue"
    assert sent.headers["x-session-id"] == "s1"
    assert sent.body["model"] == "m1"
    assert sent.body["max_tokens"] == 500
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["seed"] == 7
    assert sent.body["top_k"] == 3
    assert sent.body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert "tools" not in sent.body


async def test_reasoning_deltas_from_either_extra_field() -> None:
    """``reasoning_content`` and ``reasoning`` both become reasoning deltas."""
    reply = Reply(
        events=[
            chunk({"reasoning_content": "think "}),
            chunk({"reasoning": "more"}),
            chunk({"content": "ok"}, finish="stop"),
            "[DONE]",
        ]
    )
    events, _ = await _run([reply])
    assert events == [
        ReasoningDelta("think "),
        ReasoningDelta("more"),
        TextDelta("ok"),
        Finish("stop", None),
    ]


def _call(
    index: int, *, id_: str = "", name: str = "", args: str = ""
) -> dict[str, object]:
    function: dict[str, object] = {"arguments": args}
    if name:
        function["name"] = name
    item: dict[str, object] = {"index": index, "function": function}
    if id_:
        item |= {"id": id_, "type": "function"}
    return {"tool_calls": [item]}


async def test_tool_call_split_over_chunks() -> None:
    """Argument fragments stream per index; ``ToolCallDone`` has them whole."""
    reply = Reply(
        events=[
            chunk(_call(0, id_="call_1", name="view")),
            chunk(_call(0, args='{"file_')),
            chunk(_call(0, args='path": "a.py"}')),
            chunk({}, finish="tool_calls"),
            chunk(None, usage=USAGE),
            "[DONE]",
        ]
    )
    tools = (ToolSpec("view", "read a file", {"type": "object"}),)
    events, server = await _run([reply], _request(tools=tools))
    assert events[:3] == [
        ToolCallStart(0, "call_1", "view"),
        ToolCallDelta(0, '{"file_'),
        ToolCallDelta(0, 'path": "a.py"}'),
    ]
    assert events[3] == ToolCallDone(0, "call_1", "view", '{"file_path": "a.py"}')
    assert isinstance(events[4], Finish)
    assert events[4].reason == "tool_calls"
    assert server.requests[0].body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "view",
                "description": "read a file",
                "parameters": {"type": "object"},
            },
        }
    ]


async def test_two_tool_calls_each_done_before_finish() -> None:
    """Interleaved calls keep their own arguments; both end before Finish."""
    reply = Reply(
        events=[
            chunk(_call(0, id_="a", name="ls", args='{"pa')),
            chunk(_call(1, id_="b", name="glob", args='{"pattern"')),
            chunk(_call(0, args='th": "."}')),
            chunk(_call(1, args=': "*.py"}')),
            chunk({}, finish="tool_calls"),
            "[DONE]",
        ]
    )
    events, _ = await _run([reply])
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert done == [
        ToolCallDone(0, "a", "ls", '{"path": "."}'),
        ToolCallDone(1, "b", "glob", '{"pattern": "*.py"}'),
    ]
    assert events[-3:-1] == done
    assert events[-1] == Finish("tool_calls", None)


async def test_usage_with_cached_tokens_and_cost() -> None:
    """Cached prompt tokens are counted apart; a reported cost is kept."""
    usage = {
        **USAGE,
        "prompt_tokens_details": {"cached_tokens": 40},
        "cost": 0.0123,
    }
    reply = Reply(
        events=[chunk({"content": "x"}, finish="stop", usage=usage), "[DONE]"]
    )
    events, _ = await _run([reply])
    assert events[-1] == Finish(
        "stop",
        Usage(input_tokens=60, output_tokens=7, cache_read_tokens=40, cost=0.0123),
    )


async def test_rate_limit_429_is_retryable_after_its_retry_after() -> None:
    """A 429 with ``retry-after`` tells the engine when to try again."""
    error = await _failure(
        Reply(
            status=429,
            headers=[("retry-after", "2")],
            body={"error": {"message": "slow down", "type": "rate_limit"}},
        )
    )
    assert error.status == 429
    assert error.retryable
    assert error.retry_after == 2.0
    assert error.message == "slow down"
    assert error.title == "Too Many Requests"


async def test_retry_after_ms_wins() -> None:
    """``retry-after-ms`` is read in milliseconds and preferred."""
    error = await _failure(
        Reply(
            status=503,
            headers=[("retry-after-ms", "1500"), ("retry-after", "9")],
            body={"error": {"message": "busy"}},
        )
    )
    assert error.retryable
    assert error.retry_after == 1.5


async def test_server_error_with_should_retry_false_is_final() -> None:
    """``x-should-retry: false`` makes even a 500 not retryable."""
    error = await _failure(
        Reply(
            status=500,
            headers=[("x-should-retry", "false")],
            body={"error": {"message": "recorded scenario over"}},
        )
    )
    assert error.status == 500
    assert not error.retryable
    assert error.message == "recorded scenario over"


async def test_unauthorized_401_hides_the_key() -> None:
    """A 401 is not retryable, flags ``unauthorized`` and never echoes the key."""
    error = await _failure(
        Reply(status=401, body={"error": {"message": f"bad key {KEY}"}})
    )
    assert error.unauthorized
    assert not error.retryable
    assert KEY not in error.message
    assert KEY not in str(error)
    assert KEY not in repr(error)


async def test_connection_refused_is_retryable() -> None:
    """No server listening: a retryable connection error without status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    opened = await open_provider(_model(f"http://127.0.0.1:{port}/v1"))
    try:
        with pytest.raises(ProviderError) as info:
            await _collect(opened.stream(_request()))
    finally:
        await opened.aclose()
    assert info.value.retryable
    assert info.value.status is None
    assert info.value.title == "Connection Error"


async def test_error_event_inside_the_stream() -> None:
    """An ``{"error": ...}`` event fails the call with its message."""
    reply = Reply(
        events=[
            chunk({"content": "par"}),
            {"error": {"message": "Overloaded", "type": "overloaded_error"}},
        ]
    )
    with pytest.raises(ProviderError) as info:
        await _run([reply])
    assert info.value.message == "Overloaded"
    assert info.value.retryable


async def test_stream_cut_before_finish_is_retryable() -> None:
    """A body that ends with no finish reason and no [DONE] is a failure."""
    with pytest.raises(ProviderError) as info:
        await _run([Reply(events=[chunk({"content": "half"})])])
    assert info.value.retryable
    assert "ended before" in info.value.message


async def test_cancel_mid_stream_releases_everything() -> None:
    """Cancelling while the server holds the stream leaves nothing unclosed."""
    hold = trio.Event()
    server = SSEServer([Reply(events=[chunk({"content": "a"}), hold])])
    seen: list[StreamEvent] = []
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        opened = await open_provider(_model(server.base_url))
        with trio.move_on_after(5) as scope:
            async for event in opened.stream(_request()):
                seen.append(event)
                scope.cancel()
        await opened.aclose()
        nursery.cancel_scope.cancel()
    gc.collect()
    assert seen == [TextDelta("a")]


async def test_abandoned_stream_closed_with_aclosing() -> None:
    """A consumer that stops early and closes the stream leaks nothing."""
    hold = trio.Event()
    server = SSEServer([Reply(events=[chunk({"content": "a"}), hold])])
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        opened: Provider = await open_provider(_model(server.base_url))
        stream = opened.stream(_request())
        async with aclosing(stream):  # type: ignore[type-var]
            first = await anext(stream)
        await opened.aclose()
        nursery.cancel_scope.cancel()
    gc.collect()
    assert first == TextDelta("a")


async def test_history_with_tool_calls_and_images() -> None:
    """Assistant calls, tool results and images are sent in OpenAI form."""
    messages = (
        ChatMessage("user", "look", images=(("image/png", b"\x89PNG"),)),
        ChatMessage(
            "assistant", "", tool_calls=(ToolCallRequest("c1", "ls", '{"path":"."}'),)
        ),
        ChatMessage("tool", "a.py", tool_call_id="c1"),
    )
    reply = Reply(events=[chunk({"content": "done"}, finish="stop"), "[DONE]"])
    _, server = await _run([reply], _request(messages=messages))
    sent = server.requests[0].body["messages"]
    assert sent == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look"},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,iVBORw=="},
                },
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "ls", "arguments": '{"path":"."}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
    ]


async def test_openai_type_caps_with_max_completion_tokens() -> None:
    """``openai`` takes ``max_completion_tokens`` and effort, no temperature."""
    reply = Reply(events=[chunk({"content": "x"}, finish="stop"), "[DONE]"])
    request = _request(reasoning_effort="low", temperature=0.5)
    provider: dict[str, object] = {
        "type": "openai",
        "models": [{"id": "m1", "can_reason": True}],
    }
    _, server = await _run([reply], request, **provider)
    body = server.requests[0].body
    assert body["max_completion_tokens"] == 500
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    assert "temperature" not in body


async def test_openai_organization_is_not_sent_to_other_vendors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``OPENAI_ORG_ID`` in the daemon's environment stays with OpenAI."""
    monkeypatch.setenv("OPENAI_ORG_ID", "org-private")
    reply = Reply(events=[chunk({"content": "x"}, finish="stop"), "[DONE]"])
    _, server = await _run([reply])
    assert "openai-organization" not in server.requests[0].headers


async def test_keyless_local_server_still_gets_a_request() -> None:
    """An empty key is allowed for local servers (a placeholder is sent)."""
    reply = Reply(events=[chunk({"content": "x"}, finish="stop"), "[DONE]"])
    events, server = await _run([reply], api_key="")
    assert _text(events) == "x"
    assert KEY not in json.dumps(server.requests[0].headers)


async def test_unsupported_provider_type_is_refused() -> None:
    """A type crushd cannot speak fails ``open_provider`` with a 500."""
    model = _model("http://127.0.0.1:9/v1")
    with pytest.raises(ModelUnavailable, match="not supported"):
        await open_provider(
            ResolvedModel(
                provider_id="b",
                provider_type="bedrock",
                model=model.model,
                selected=model.selected,
                base_url="",
                api_key="",
            )
        )


def test_importing_providers_leaves_the_sdk_unloaded() -> None:
    """The package imports without ``openai`` (it loads in a worker thread)."""
    code = "import sys, crushd.agent.providers as p; print('openai' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_load_sdk_also_loads_anyios_trio_backend_off_the_loop() -> None:
    """After ``load_sdk`` the first request imports nothing on the loop."""
    code = (
        "import sys, trio\n"
        "from crushd.agent.providers._openai_compat import load_sdk\n"
        "import gc; frozen = gc.get_freeze_count()\n"
        "trio.run(load_sdk)\n"
        f"print({ANYIO_TRIO_BACKEND!r} in sys.modules)\n"
        "print(gc.get_freeze_count() - frozen > 10_000)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    # ... and the SDK's objects are out of the cycle collector's reach.
    assert out.stdout.split() == ["True", "True"]


def test_load_sdk_rehearses_the_first_request_off_the_loop() -> None:
    """``load_sdk`` sends one refused request in its worker thread, so the
    SDK's one-time work (type hints of the arguments, platform headers) is
    done before the first prompt, not on the event loop."""
    code = (
        "import trio\n"
        "from crushd.agent.providers._openai_compat import load_sdk\n"
        "trio.run(load_sdk)\n"
        "from openai import _base_client\n"
        "from openai._utils import _transform\n"
        "print(_transform.get_type_hints.cache_info().currsize > 0)\n"
        "print(_base_client.platform_headers.cache_info().currsize > 0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True"]


def test_a_failed_rehearsal_is_only_a_missed_warm_up() -> None:
    """An SDK that fails otherwise than refused: False, nothing raised."""
    import httpx
    import openai

    broken = types.SimpleNamespace(AsyncOpenAI=None, APIStatusError=openai.APIError)
    assert rehearse_first_request(openai, httpx) is True
    assert rehearse_first_request(cast("types.ModuleType", broken), httpx) is False


def test_history_and_tools_travel_as_body_keys_the_configured_ones_still_win() -> None:
    """History and tools leave the typed arguments; ``extra_body`` keeps priority."""
    history = [{"role": "user", "content": "hi"}]
    params: dict[str, object] = {"model": "m", "messages": history, "tools": [1]}
    typed, body = as_body_keys(params, {"tools": "configured", "seed": 7})
    assert typed == {"model": "m", "messages": []}
    assert body == {"messages": history, "tools": "configured", "seed": 7}
    assert params["messages"] is history  # the caller's dict is left alone


@pytest.mark.parametrize(("slice_seconds", "shares"), [(-1.0, True), (1e9, False)])
async def test_a_buffered_stream_lets_other_tasks_run_between_lines(
    monkeypatch: pytest.MonkeyPatch, slice_seconds: float, shares: bool
) -> None:
    """Lines that arrive together still yield the loop once the slice is spent."""
    monkeypatch.setattr(call_stream, "SHARE_LOOP_SECONDS", slice_seconds)
    deltas = [chunk({"content": f"{n}"}) for n in range(40)]
    reply = Reply(events=[*deltas, chunk({}, finish="stop"), "[DONE]"])
    server = SSEServer([reply])
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        opened = await open_provider(_model(server.base_url))
        stream = opened.stream(_request())
        first = await anext(stream)  # the body is buffered from here on
        await trio.sleep(0.05)
        nursery.start_soon(ticker)
        rest = await _collect(stream)
        ran = ticks
        await opened.aclose()
        nursery.cancel_scope.cancel()
    assert _text([first, *rest]) == "".join(str(n) for n in range(40))
    assert (ran >= 40) is shares


class StepCounter(trio.abc.Instrument):
    """Counts the task steps of one task."""

    def __init__(self, task: trio.lowlevel.Task) -> None:
        self.task = task
        self.steps = 0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if task is self.task:
            self.steps += 1


async def test_the_sdk_call_starts_in_a_loop_step_of_its_own() -> None:
    """The SDK's request building is not in the step that called ``anext``
    (where the turn assembled the history): the loop runs others between."""
    counter = StepCounter(trio.lowlevel.current_task())
    seen: list[int] = []

    class Answer:
        http_response: Any = None

        async def __aenter__(self) -> Answer:
            seen.append(counter.steps)
            raise OSError("no server")  # the call fails: no body needed

        async def __aexit__(self, *exc: object) -> None:
            return None

    def failure(exc: Exception) -> ProviderError:
        return ProviderError(str(exc))

    trio.lowlevel.add_instrument(counter)
    try:
        stream = call_stream.CallStream(Answer, failure)
        before = counter.steps
        with pytest.raises(ProviderError, match="no server"):
            await anext(stream)
    finally:
        trio.lowlevel.remove_instrument(counter)
    assert seen == [before + 1]


async def test_a_raw_line_separator_inside_a_token_stays_in_the_token() -> None:
    """A server writing U+2028 unescaped (``ensure_ascii=False``) is read whole."""
    token = "one\u2028two\u2029three"
    raw = json.dumps(chunk({"content": token}), ensure_ascii=False)
    reply = Reply(events=[raw, chunk({}, finish="stop"), "[DONE]"])
    events, _ = await _run([reply])
    assert _text(events) == token


def _count_paced_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    paced_read = PacedStream.read

    async def counted(self: PacedStream, max_bytes: int, **kwargs: Any) -> bytes:
        data = await paced_read(self, max_bytes, **kwargs)
        reads.append(len(data))
        return data

    monkeypatch.setattr(PacedStream, "read", counted)
    return reads


async def test_the_provider_reads_line_up_with_the_flush_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the workspace's window, the SDK's client reads through it.

    The window is open and closed by a stand-in flusher every 33 ms while
    the answer streams; every token still arrives, once.
    """
    reads = _count_paced_reads(monkeypatch)
    deltas = [chunk({"content": f"{n},"}) for n in range(5)]
    reply = Reply(events=[*deltas, chunk({}, finish="stop"), "[DONE]"])
    events = await _run_beside_a_flusher(reply)
    assert _text(events) == "0,1,2,3,4,"
    assert sum(reads) > 0  # the answer's bytes came through the paced stream


async def _run_beside_a_flusher(reply: Reply) -> list[StreamEvent]:
    """Stream ``reply`` through a window a stand-in flusher cycles every 33 ms."""
    window = FlushWindow()

    async def flusher() -> None:
        while True:
            window.open()
            await trio.sleep(0.033)
            window.close()
            await window.settle()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(flusher)
        events, _ = await _run_with([reply], None, window)
        nursery.cancel_scope.cancel()
    return events


async def test_the_body_after_done_is_read_without_waiting_for_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reads that end the body after ``[DONE]`` skip the window's pace:
    the turn's finish waits for them and they bring no token to gather."""
    unpaced: list[bool] = []
    paced_read = PacedStream.read

    async def noted(self: PacedStream, max_bytes: int, **kwargs: Any) -> bytes:
        unpaced.append(_paced_reads._UNPACED.get())
        return await paced_read(self, max_bytes, **kwargs)

    monkeypatch.setattr(PacedStream, "read", noted)
    reply = Reply(events=[chunk({"content": "hi"}), chunk({}, finish="stop"), "[DONE]"])
    events = await _run_beside_a_flusher(reply)
    assert _text(events) == "hi"
    assert unpaced[0] is False  # the answer's head and tokens: paced
    assert unpaced[-1] is True  # the end of the body, after [DONE]


async def test_without_a_window_the_reads_are_not_paced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A provider opened on its own (no workspace) reads its socket directly."""
    reads = _count_paced_reads(monkeypatch)
    reply = Reply(events=[chunk({"content": "hi"}), chunk({}, finish="stop"), "[DONE]"])
    events, _ = await _run([reply])
    assert _text(events) == "hi"
    assert reads == []


async def test_providers_share_one_tls_context_built_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Opening a provider loads no CA bundle: the context is built at SDK load."""
    model = _model("http://127.0.0.1:9/v1")
    await compat.load_sdk()

    def no_new_context(*_: object, **__: object) -> None:
        raise AssertionError("a TLS context was built for a provider")

    monkeypatch.setattr(ssl, "create_default_context", no_new_context)
    monkeypatch.setattr(ssl, "SSLContext", no_new_context)
    first, second = await open_provider(model), await open_provider(model)
    contexts = [p._http._transport._pool._ssl_context for p in (first, second)]  # type: ignore[attr-defined]
    await first.aclose()
    await second.aclose()
    assert contexts[0] is contexts[1] is compat.shared_tls_context()
