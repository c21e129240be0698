"""An OpenAI-compatible server that replays recorded model answers.

Routes, per scenario (``tests/fixtures/llm/<scenario>.json``):

* ``POST /<scenario>/v1/chat/completions`` streams the next recorded answer
  of the request's (model, purpose) cursor: purpose ``agent`` when the request
  offers tools, ``title`` when it offers none. Title and agent calls
  interleave differently in every recording, so one cursor per model, or one
  for all, would serve the wrong answer.
* ``GET /<scenario>/v1/models`` lists the two recorded models.

An exhausted cursor answers 500 with ``{"error": {"type": "replay_exhausted",
...}}`` and ``x-should-retry: false`` (no client retries it); a model the
recording does not name, or an unknown scenario, answers 404. Every chat
request is recorded for assertions. Behaviour as docs/agent.md section 7.8
and ``tests/fixtures/llm/README.md`` ("How a replay must behave").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import attrs
import trio
from hypercorn.typing import ASGIReceiveCallable, ASGISendCallable, HTTPScope

from . import _asgi
from ._checks import agent_request_problems
from ._scenario import AGENT, TITLE, Interaction, Scenario, load_scenario
from ._substitute import map_back, substitute_events

JSONObject = dict[str, object]

_NO_RETRY = (("x-should-retry", "false"),)


@attrs.frozen
class RecordedRequest:
    """One chat-completion request the server received.

    Attributes:
        scenario: the scenario named in the path.
        model: the model the body named.
        purpose: ``"agent"`` (tools offered) or ``"title"``.
        position: the cursor position it took, 0-based.
        interaction: the recorded exchange served (its ``index``), or
            ``None`` when the cursor was exhausted (answered 500).
        body: the parsed body, as received.
        normalised: the body with the test's directory mapped back to the
            recorded one.
        problems: for agent requests, what differs from the recording (empty
            when the request carries what the recording expects).
    """

    scenario: str
    model: str
    purpose: str
    position: int
    interaction: int | None
    body: JSONObject
    normalised: JSONObject
    problems: tuple[str, ...]

    @property
    def served(self) -> bool:
        """Whether a recorded answer was streamed."""
        return self.interaction is not None


@attrs.define
class Hold:
    """A pause in one chosen answer, until ``release()``.

    Attributes:
        scenario, purpose, position: which answer (the ``position``-th of the
            purpose's cursor).
        model: the model, or ``None`` for either.
        after_events: how many events are written before the pause.
        taken: whether an answer has met it (a hold pauses one answer).
        reached: set when the answer reaches the pause.
        released: set by ``release()``.
        disconnected: set when the client closes the connection during the
            pause (the rest of the answer is then dropped).
    """

    scenario: str
    purpose: str
    position: int
    model: str | None
    after_events: int
    taken: bool = False
    reached: trio.Event = attrs.field(factory=trio.Event)
    released: trio.Event = attrs.field(factory=trio.Event)
    disconnected: trio.Event = attrs.field(factory=trio.Event)

    def release(self) -> None:
        """Let the answer go on."""
        self.released.set()

    def matches(self, scenario: str, model: str, purpose: str, position: int) -> bool:
        """Whether this hold applies to that answer (and is not used yet)."""
        wanted = (self.scenario, self.purpose, self.position)
        return (
            not self.taken
            and wanted == (scenario, purpose, position)
            and self.model in {None, model}
        )

    async def pause(self, receive: ASGIReceiveCallable) -> bool:
        """Wait for ``release()``; return ``False`` if the client left first."""
        self.reached.set()
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                await _asgi.wait_disconnect(receive)
                self.disconnected.set()
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            await self.released.wait()
            nursery.cancel_scope.cancel()
        return not self.disconnected.is_set()


class ReplayServer:
    """Replays recorded scenarios over HTTP on loopback.

    Start it with ``await nursery.start(server.serve)``; ``base_url(name)``
    is then the provider ``base_url`` for a scenario. State (cursors, the
    request record, holds, directories) belongs to one server; ``reset()``
    rewinds it.

    Args:
        scenarios: name -> recording; ``None`` loads each on first use from
            ``tests/fixtures/llm``.
    """

    def __init__(self, scenarios: Mapping[str, Scenario] | None = None) -> None:
        self._scenarios = dict(scenarios or {})
        self._load = scenarios is None
        self.port = 0
        self._workdirs: dict[str, str] = {}
        self._cursors: dict[tuple[str, str, str], int] = {}
        self._requests: list[RecordedRequest] = []
        self._holds: list[Hold] = []

    def reset(self) -> None:
        """Rewind every cursor, forget requests and holds (releasing them)."""
        for hold in self._holds:
            hold.release()
        self._cursors = {}
        self._requests = []
        self._holds = []

    async def serve(
        self, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Serve until cancelled; ``task_status`` receives the port."""
        async with trio.open_nursery() as nursery:
            self.port = await nursery.start(_asgi.serve_loopback, self._handle)
            task_status.started(self.port)

    def base_url(self, scenario: str) -> str:
        """``http://127.0.0.1:PORT/<scenario>/v1``, the provider's ``base_url``."""
        return f"http://127.0.0.1:{self.port}/{scenario}/v1"

    def scenario(self, name: str) -> Scenario:
        """The recording ``name``.

        Raises:
            KeyError: not a known scenario.
        """
        if name not in self._scenarios and self._load:
            try:
                self._scenarios[name] = load_scenario(name)
            except (OSError, ValueError) as exc:
                raise KeyError(name) from exc
        return self._scenarios[name]

    def use_workdir(self, scenario: str, path: str | Path) -> None:
        """Replay ``scenario`` as if recorded in ``path`` (both directions)."""
        self._workdirs[scenario] = str(path)

    def hold(
        self,
        scenario: str,
        *,
        purpose: str = AGENT,
        position: int = 0,
        model: str | None = None,
        after_events: int = 1,
    ) -> Hold:
        """Pause one answer after ``after_events`` events until released.

        Returns:
            The ``Hold``; wait on ``hold.reached`` to know the answer is
            mid-stream, call ``hold.release()`` to finish it.
        """
        hold = Hold(scenario, purpose, position, model, after_events)
        self._holds.append(hold)
        return hold

    def requests(
        self, scenario: str | None = None, purpose: str | None = None
    ) -> list[RecordedRequest]:
        """The chat requests received, in arrival order, optionally filtered."""
        return [
            r
            for r in self._requests
            if scenario in {None, r.scenario} and purpose in {None, r.purpose}
        ]

    # -- HTTP ------------------------------------------------------------------

    async def _handle(
        self, scope: HTTPScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        body = await _asgi.read_body(receive)
        name, _, route = str(scope["path"]).lstrip("/").partition("/")
        try:
            scenario = self.scenario(name)
        except KeyError:
            await _asgi.send_error(send, 404, "not_found", f"no scenario {name!r}")
            return
        if (scope["method"], route) == ("GET", "v1/models"):
            await _asgi.send_json(send, 200, _models(scenario))
        elif (scope["method"], route) == ("POST", "v1/chat/completions"):
            await self._chat(scenario, body, receive, send)
        else:
            await _asgi.send_error(send, 404, "not_found", f"no route {route!r}")

    async def _chat(
        self,
        scenario: Scenario,
        raw: bytes,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
    ) -> None:
        try:
            body = json.loads(raw)
            model = str(body["model"])
        except (ValueError, TypeError, KeyError):
            await _asgi.send_error(send, 400, "invalid_request", "not a chat request")
            return
        if model not in scenario.models:
            await _asgi.send_error(send, 404, "model_not_found", f"no model {model!r}")
            return
        request, interaction = self._take(scenario, model, body)
        if interaction is None:
            message = (
                f"replay exhausted: scenario {scenario.name}, model {model}, "
                f"purpose {request.purpose}, request {request.position + 1}"
            )
            await _asgi.send_error(send, 500, "replay_exhausted", message, _NO_RETRY)
            return
        await self._stream(scenario, request, interaction, receive, send)

    def _take(
        self, scenario: Scenario, model: str, body: JSONObject
    ) -> tuple[RecordedRequest, Interaction | None]:
        """Advance the (model, purpose) cursor and record the request."""
        purpose = AGENT if body.get("tools") else TITLE
        key = (scenario.name, model, purpose)
        position = self._cursors.get(key, 0)
        self._cursors[key] = position + 1
        queue = scenario.queue(model, purpose)
        interaction = queue[position] if position < len(queue) else None
        normalised = self._map_back(scenario, body)
        problems = (
            agent_request_problems(scenario, position, normalised)
            if purpose == AGENT and model == scenario.large
            else []
        )
        request = RecordedRequest(
            scenario=scenario.name,
            model=model,
            purpose=purpose,
            position=position,
            interaction=None if interaction is None else interaction.index,
            body=body,
            normalised=normalised,
            problems=tuple(problems),
        )
        self._requests.append(request)
        return request, interaction

    def _map_back(self, scenario: Scenario, body: JSONObject) -> JSONObject:
        workdir = self._workdirs.get(scenario.name)
        if workdir is None:
            return body
        mapped = map_back(body, workdir, scenario.workdir)
        assert isinstance(mapped, dict)
        return mapped

    async def _stream(
        self,
        scenario: Scenario,
        request: RecordedRequest,
        interaction: Interaction,
        receive: ASGIReceiveCallable,
        send: ASGISendCallable,
    ) -> None:
        workdir = self._workdirs.get(scenario.name, scenario.workdir)
        events = substitute_events(interaction.events, scenario.workdir, workdir)
        hold = self._pop_hold(request)
        await _asgi.start_response(
            send, 200, "text/event-stream", [("cache-control", "no-cache")]
        )
        pause_at = -1 if hold is None else hold.after_events
        for number, event in enumerate(events):
            if number == pause_at and not await _pause(hold, receive):
                return  # the client left while the answer was held
            await _asgi.send_event(send, event, last=number == len(events) - 1)

    def _pop_hold(self, request: RecordedRequest) -> Hold | None:
        for hold in self._holds:
            if hold.matches(
                request.scenario, request.model, request.purpose, request.position
            ):
                hold.taken = True
                return hold
        return None


async def _pause(hold: Hold | None, receive: ASGIReceiveCallable) -> bool:
    return True if hold is None else await hold.pause(receive)


def _models(scenario: Scenario) -> JSONObject:
    models = [
        {"id": name, "object": "model", "created": 0, "owned_by": "replay"}
        for name in scenario.models
    ]
    return {"object": "list", "data": models}
