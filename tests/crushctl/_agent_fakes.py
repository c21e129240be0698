"""A scripted crushd for the agent commands: routes, a prompt, then SSE frames."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
import trio

HOST = "unix:///tmp/crushctl-test.sock"
WS = "/v1/workspaces/w1"
PROMPT = "list the files"

Handler = Callable[[httpx.Request], httpx.Response]
#: A stream's items: frames, and events the stream waits for before going on.
Frames = Sequence[bytes | trio.Event]
#: Builds a stream's frames from the prompt's body (its run_id).
Script = Callable[[dict[str, Any]], Frames]


def frame(seq: int, type_: str, event_type: str, payload: object) -> bytes:
    envelope = {"type": type_, "payload": {"type": event_type, "payload": payload}}
    return b"id: %d\ndata: %s\n\n" % (seq, json.dumps(envelope).encode())


def text(value: str) -> dict[str, object]:
    return {"type": "text", "data": {"text": value}}


def tool_call(
    call_id: str, name: str, arguments: str, finished: bool
) -> dict[str, object]:
    data = {"id": call_id, "name": name, "input": arguments, "finished": finished}
    return {"type": "tool_call", "data": data}


def tool_result(call_id: str, name: str, content: str) -> dict[str, object]:
    data = {
        "tool_call_id": call_id,
        "name": name,
        "content": content,
        "is_error": False,
    }
    return {"type": "tool_result", "data": data}


def finish(reason: str, **more: str) -> dict[str, object]:
    return {"type": "finish", "data": {"reason": reason, "time": 1, **more}}


def message(
    message_id: str, role: str, *parts: dict[str, object], session: str = "s1"
) -> dict[str, object]:
    return {
        "id": message_id,
        "role": role,
        "session_id": session,
        "parts": list(parts),
        "model": "gpt-x" if role == "assistant" else "",
        "provider": "openai" if role == "assistant" else "",
        "created_at": 1767225600,
        "updated_at": 1767225600,
    }


def run_complete(body: dict[str, Any], **fields: object) -> dict[str, object]:
    return {"session_id": body["session_id"], "run_id": body["run_id"], **fields}


def tool_turn(body: dict[str, Any]) -> list[bytes]:
    """A whole run: text, an ls call and its result, the answer, the end."""
    view = tool_call("c1", "ls", "", finished=False)
    listed = tool_call("c1", "ls", '{"path":"/proj"}', finished=True)
    answer = "There are two files."
    events = [
        (
            "message",
            "created",
            message("x1", "assistant", text("elsewhere"), session="s2"),
        ),
        (
            "message",
            "created",
            message("u1", "user", text(body["prompt"]), finish("stop")),
        ),
        ("message", "created", message("a1", "assistant")),
        ("message", "updated", message("a1", "assistant", text("\nLet me"))),
        (
            "message",
            "updated",
            message("a1", "assistant", text("\nLet me look."), view),
        ),
        (
            "message",
            "updated",
            message("a1", "assistant", text("\nLet me look."), listed),
        ),
        ("message", "created", message("t1", "tool", tool_result("c1", "ls", "a\nb"))),
        ("message", "created", message("a2", "assistant")),
        ("message", "updated", message("a2", "assistant", text("There are"))),
        (
            "message",
            "updated",
            message("a2", "assistant", text(answer), finish("end_turn")),
        ),
        ("session", "updated", {"id": "s1", "title": "Files"}),
        ("agent_event", "created", {"type": "agent_finished", "session_id": "s1"}),
        ("run_complete", "updated", run_complete(body, message_id="a2", text=answer)),
    ]
    return [frame(n, *event) for n, event in enumerate(events, start=1)]


class Body(httpx.AsyncByteStream):
    """An SSE body: waits for the prompt, sends the script's frames, then
    ends (``hang=False``) or stays open."""

    def __init__(
        self, daemon: AgentDaemon, script: Script | Frames, hang: bool
    ) -> None:
        self.daemon = daemon
        self.script = script
        self.hang = hang

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if callable(self.script):
            await self.daemon.prompted.wait()
            frames = self.script(self.daemon.prompt)
        else:
            frames = self.script
        for chunk in frames:
            await trio.lowlevel.checkpoint()
            if isinstance(chunk, trio.Event):
                await chunk.wait()
            else:
                yield chunk
        if self.hang:
            await trio.sleep_forever()


def answer(status: int = 200, body: object = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status)
        return httpx.Response(status, json=body)

    return handle


class AgentDaemon:
    """A route table standing in for crushd; records every request.

    ``streams`` are the answers to successive ``GET .../events``: a Script
    or a list of frames (a Body), or a status.
    """

    def __init__(self, *streams: Script | Frames | int, hang: bool = True) -> None:
        self.streams = list(streams)
        self.hang = hang
        self.requests: list[httpx.Request] = []
        self.prompted = trio.Event()
        self.prompt: dict[str, Any] = {}
        self.routes: dict[tuple[str, str], Handler] = {
            ("POST", "/v1/workspaces"): answer(body={"id": "w1", "path": "/proj"}),
            ("DELETE", WS): answer(),
            ("POST", f"{WS}/current-session"): answer(),
            ("POST", f"{WS}/agent/init"): answer(),
            ("POST", f"{WS}/agent/update"): answer(),
            ("POST", f"{WS}/config/model"): answer(),
            ("POST", f"{WS}/sessions"): answer(body={"id": "s1", "title": PROMPT}),
            ("GET", f"{WS}/sessions"): answer(body=[]),
            ("POST", f"{WS}/agent"): self._prompt,
            ("POST", f"{WS}/agent/sessions/s1/cancel"): answer(),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "GET" and path.endswith("/events"):
            return self._events()
        handler = self.routes.get((request.method, path))
        if handler is None:
            return httpx.Response(404, json={"message": "404 page not found"})
        return handler(request)

    def _prompt(self, request: httpx.Request) -> httpx.Response:
        self.prompt = json.loads(request.content)
        self.prompted.set()
        return httpx.Response(202)

    def _events(self) -> httpx.Response:
        step = self.streams.pop(0)
        if isinstance(step, int):
            return httpx.Response(step, json={"message": "workspace not found"})
        return httpx.Response(200, stream=Body(self, step, self.hang))

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)]

    def order(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]
