"""Tests for crushd/agent/_coordinator.py: accept, run, cancel, hand off, end.

The lane twins of upstream's dispatch tests at the coordinator level: the
event order of a turn, one run_complete per finished turn, cancel right
after accept, idle cancel, queued run_id prompts, teardown.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import trio

from crushd import proto
from crushd.agent import AgentCoordinator, PromptAttachment
from crushd.agent._readiness import FIRST_PROMPT_MODELS, ProviderFactory
from crushd.agent.providers import (
    FakeProvider,
    Provider,
    ResolvedModel,
    StreamEvent,
    StreamRequest,
    text_turn,
)
from crushd.config import Config, structure_config
from crushd.errors import (
    AgentNotInitialized,
    EmptyPrompt,
    ModelUnavailable,
    SessionIdMissing,
    WorkspaceClosing,
)

from ._fakes import Workspace

SID = "s1"
LOCAL = {
    "type": "openai-compat",
    "base_url": "http://127.0.0.1:9/v1",
    "api_key": "local-key",
    "models": [{"id": "big"}, {"id": "small"}],
}
CONFIG = structure_config(
    {
        "providers": {"local": LOCAL},
        "models": {
            "large": {"model": "big", "provider": "local"},
            "small": {"model": "small", "provider": "local"},
        },
    }
)


class Router:
    """One provider per call kind: agent calls (tools offered) or title calls."""

    def __init__(self) -> None:
        self.agent = FakeProvider()
        self.titles = FakeProvider(repeat=text_turn("A title"))
        self.closed = 0

    def stream(self, request: StreamRequest) -> AsyncIterator[StreamEvent]:
        target = self.agent if request.tools else self.titles
        return target.stream(request)

    async def aclose(self) -> None:
        self.closed += 1


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path)
    workspace.sessions.add(SID)
    return workspace


@pytest.fixture
def router() -> Router:
    return Router()


async def started(
    nursery: trio.Nursery,
    ws: Workspace,
    router: Router,
    config: Callable[[], Config] = lambda: CONFIG,
) -> AgentCoordinator:
    async def open_provider(model: ResolvedModel) -> Provider:
        await trio.lowlevel.checkpoint()
        return router

    async def warm_up() -> None:
        await trio.lowlevel.checkpoint()

    coordinator = AgentCoordinator(
        ws.ports(), config, open_provider=open_provider, warm_up=warm_up
    )
    await nursery.start(coordinator.serve)
    return coordinator


async def ready_with(
    nursery: trio.Nursery, ws: Workspace, open_provider: ProviderFactory
) -> AgentCoordinator:
    """A coordinator opening providers with ``open_provider``, init'ed and ready."""
    coordinator = AgentCoordinator(
        ws.ports(),
        lambda: CONFIG,
        open_provider=open_provider,
        warm_up=trio.lowlevel.checkpoint,
    )
    await nursery.start(coordinator.serve)
    await coordinator.init()
    with trio.fail_after(5):
        while not coordinator.is_ready:
            await trio.sleep(0.001)
    return coordinator


def terminal(ws: Workspace) -> list[tuple[str, Any]]:
    return [(k, p) for k, _, p in ws.events.log if k in ("run_complete", "agent_event")]


async def wait_idle(coordinator: AgentCoordinator) -> None:
    with trio.fail_after(5):
        while coordinator.any_busy():
            await trio.sleep(0.001)
        await trio.sleep(0.01)


async def test_submit_validation_order(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """Before init: 400 not initialized; then empty prompt before missing
    session id, as upstream's ValidateCall (TestSendMessage twins)."""
    coordinator = await started(nursery, ws, router)
    with pytest.raises(AgentNotInitialized):
        coordinator.submit(SID, "hi")
    await coordinator.init()
    with pytest.raises(EmptyPrompt, match="prompt is empty"):
        coordinator.submit("", "")
    with pytest.raises(SessionIdMissing, match="session id is missing"):
        coordinator.submit("", "hi")
    text = PromptAttachment("a.txt", "a.txt", "text/plain", b"x")
    with pytest.raises(SessionIdMissing):
        coordinator.submit("", "", attachments=[text])
    image = PromptAttachment("a.png", "a.png", "image/png", b"x")
    with pytest.raises(EmptyPrompt):
        coordinator.submit(SID, "", attachments=[image])
    assert not coordinator.any_busy()


async def test_init_is_idempotent_and_fails_on_missing_model(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """A second init keeps the agent (interactive only upgrades); no model is a 500."""
    coordinator = await started(nursery, ws, router)
    await coordinator.init(interactive=True)
    await coordinator.init(interactive=False)
    assert coordinator.interactive
    with trio.fail_after(5):
        while not coordinator.is_ready:
            await trio.sleep(0.001)
    info = coordinator.info()
    assert info["is_ready"] is True
    assert info["model"]["id"] == "big"  # type: ignore[index]
    assert info["model_cfg"]["provider"] == "local"  # type: ignore[index]
    empty = await started(nursery, ws, router, lambda: structure_config({}))
    with pytest.raises(ModelUnavailable):
        await empty.init()


class StepCounter(trio.abc.Instrument):
    """Counts each task's steps (a step ends at a checkpoint that yields)."""

    def __init__(self) -> None:
        self.steps: collections.Counter[trio.lowlevel.Task] = collections.Counter()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps[task] += 1

    def now(self) -> int:
        return self.steps[trio.lowlevel.current_task()]


async def test_readiness_prepares_the_first_prompts_codecs_one_per_step(
    nursery: trio.Nursery,
    ws: Workspace,
    router: Router,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Between init and ready, every wire model of a first prompt has its
    codec prepared, each in its own loop step of the preparing task."""
    prepared: list[tuple[type, int]] = []
    counter = StepCounter()
    monkeypatch.setattr(
        proto, "prepare_codec", lambda cls: prepared.append((cls, counter.now()))
    )
    trio.lowlevel.add_instrument(counter)
    try:
        coordinator = await started(nursery, ws, router)
        await coordinator.init()
        with trio.fail_after(5):
            while not coordinator.is_ready:
                await trio.sleep(0.001)
    finally:
        trio.lowlevel.remove_instrument(counter)
    assert [cls for cls, _ in prepared] == list(FIRST_PROMPT_MODELS)
    # the prompt's body and every event its turn publishes
    first_prompt = {proto.AgentMessage, proto.Message, proto.Session}
    assert first_prompt | {proto.AgentEvent, proto.RunComplete} <= {
        cls for cls, _ in prepared
    }
    steps = [step for _, step in prepared]
    assert all(b > a for a, b in itertools.pairwise(steps)), steps


async def test_turn_event_order_ends_with_run_complete(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """Busy edge, user message before the assistant's, agent_finished, then
    run_complete last with run_id, text and client_id (docs order)."""
    router.agent.add(text_turn("Hello!", chunks=3))
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    coordinator.submit(SID, "hi", run_id="r1", client_id="c1")
    assert coordinator.is_busy(SID)
    await wait_idle(coordinator)
    kinds = [k for k in ws.events.kinds() if not k.startswith("session")]
    assert kinds[:2] == ["message/created:user", "message/created:assistant"]
    turn_events = [e for e in ws.events.log if e[2] != ("busy", SID, True)]
    run_index = next(i for i, e in enumerate(ws.events.log) if e[0] == "run_complete")
    finished = next(i for i, e in enumerate(ws.events.log) if e[0] == "agent_event")
    idle = ws.events.log.index(("session", "updated", ("busy", SID, False)))
    assert idle < finished < run_index
    assert ws.events.log[0] == ("session", "updated", ("busy", SID, True))
    assert turn_events
    complete = ws.events.log[run_index][2]
    assert isinstance(complete, proto.RunComplete)
    assert (complete.run_id, complete.text, complete.client_id) == (
        "r1",
        "Hello!",
        "c1",
    )
    assert not complete.cancelled
    event = ws.events.log[finished][2]
    assert event.type == "agent_finished"
    with trio.fail_after(5):
        while ws.sessions.sessions[SID].title != "A title":
            await trio.sleep(0.001)
    assert router.closed == 0  # kept open for the next turn (ProviderPool)


async def test_turns_share_the_provider_and_teardown_closes_it(
    ws: Workspace, router: Router
) -> None:
    """Init opens one provider per model; the turns and the title job reuse
    them; stopping closes them."""
    opened: list[str] = []

    async def open_provider(model: ResolvedModel) -> Provider:
        opened.append(model.model.id)
        await trio.lowlevel.checkpoint()
        return router

    router.agent.add(text_turn("one"))
    router.agent.add(text_turn("two"))
    async with trio.open_nursery() as inner:
        coordinator = await ready_with(inner, ws, open_provider)
        assert sorted(opened) == ["big", "small"]  # opened at init, before a prompt
        coordinator.submit(SID, "first")
        await wait_idle(coordinator)
        coordinator.submit(SID, "second")
        await wait_idle(coordinator)
        with trio.fail_after(5):
            while ws.sessions.sessions[SID].title != "A title":
                await trio.sleep(0.001)
        assert router.closed == 0
        inner.cancel_scope.cancel()
    assert sorted(opened) == ["big", "small"]  # the title job used the small one
    assert router.closed == 2


async def test_a_model_crushd_cannot_speak_is_left_to_the_turn(
    nursery: trio.Nursery, ws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    """Opening the providers at init: an unsupported one does not fail readiness
    or log a traceback; the turn reports it (as before any warm-up)."""

    async def open_provider(model: ResolvedModel) -> Provider:
        await trio.lowlevel.checkpoint()
        raise ModelUnavailable("provider local: type x is not supported")

    coordinator = await ready_with(nursery, ws, open_provider)
    assert "readiness failed" not in caplog.text
    coordinator.submit(SID, "hi", run_id="r1")
    await wait_idle(coordinator)
    complete = next(p for k, p in terminal(ws) if k == "run_complete")
    assert "not supported" in complete.error


async def test_cancel_right_after_accept_is_not_lost(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """Cancel before the run task starts: user + canceled assistant stored,
    one run_complete{cancelled}, no agent_event, the model never called
    (TestE2E_CancelImmediatelyAfter202IsNotLost twin)."""
    router.agent.add(text_turn("never"))
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    coordinator.submit(SID, "hi", run_id="r1")
    coordinator.cancel(SID)
    await wait_idle(coordinator)
    ends = terminal(ws)
    assert len(ends) == 1
    kind, complete = ends[0]
    assert kind == "run_complete"
    assert complete.cancelled
    assert complete.message_id
    assert router.agent.requests == []
    roles = [m.role for m in ws.messages.of(SID)]
    assert roles == ["user", "assistant"]


async def test_idle_cancel_does_not_poison_next_prompt(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """A cancel on an idle session changes nothing for the next prompt."""
    router.agent.add(text_turn("ok"))
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    coordinator.cancel(SID)
    coordinator.submit(SID, "hi")
    await wait_idle(coordinator)
    (_, complete) = next(e for e in terminal(ws) if e[0] == "run_complete")
    assert not complete.cancelled
    assert complete.text == "ok"


async def test_queued_run_id_prompts_each_get_run_complete_in_order(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """Concurrent submits start one run; queued run_id prompts run as their
    own turns; each turn's run_complete comes before the next turn's user
    message (upstream publishes out of order)."""
    gate = trio.Event()
    router.agent.add([gate, *text_turn("one")])
    router.agent.add(text_turn("two"))
    router.agent.add(text_turn("three"))
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    for n in ("1", "2", "3"):
        coordinator.submit(SID, f"p{n}", run_id=f"r{n}")
    assert coordinator.queued(SID) == ["p2", "p3"]
    gate.set()
    await wait_idle(coordinator)
    sequence = [
        ("rc", p.run_id) if k == "run_complete" else ("user", p.parts[0].data["text"])
        for k, i, p in ws.events.log
        if k == "run_complete"
        or (k == "message" and i == "created" and p.role == "user")
    ]
    assert sequence == [
        ("user", "p1"),
        ("rc", "r1"),
        ("user", "p2"),
        ("rc", "r2"),
        ("user", "p3"),
        ("rc", "r3"),
    ]
    busy = [b for b in ws.sessions.busy if b[0] == SID]
    assert busy == [(SID, True), (SID, False)]


async def test_cancel_drops_queued_run_id_prompt_with_cancelled_run_complete(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """One cancel ends the active turn and drops the queued follow-up, each
    with a cancelled run_complete (TestCancel_QueuedRunIDPrompt... twin)."""
    gate = trio.Event()
    router.agent.add([gate, *text_turn("never")])
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    coordinator.submit(SID, "a", run_id="ra")
    coordinator.submit(SID, "b", run_id="rb")
    await trio.sleep(0.01)
    coordinator.cancel(SID)
    await wait_idle(coordinator)
    completes = {p.run_id: p for k, p in terminal(ws) if k == "run_complete"}
    assert set(completes) == {"ra", "rb"}
    assert completes["ra"].cancelled
    assert completes["rb"].cancelled
    assert all(k == "run_complete" for k, _ in terminal(ws))
    texts = [
        m.parts[0].data.get("text") for m in ws.messages.of(SID) if m.role == "user"
    ]
    assert texts == ["a"]


async def test_clear_drops_queue_only(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """prompts/clear drops queued prompts; the running turn finishes."""
    gate = trio.Event()
    router.agent.add([gate, *text_turn("done")])
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    coordinator.submit(SID, "a", run_id="ra")
    coordinator.submit(SID, "b", run_id="rb")
    coordinator.clear(SID)
    assert coordinator.queued(SID) == []
    gate.set()
    await wait_idle(coordinator)
    completes = {p.run_id: p for k, p in terminal(ws) if k == "run_complete"}
    assert completes["rb"].cancelled
    assert completes["ra"].text == "done"


async def test_model_build_failure_publishes_error_and_one_terminal(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """A turn whose model cannot be built: agent_event{error} then an errored
    run_complete, nothing stored (TestRunAgent_PreRunError... twin)."""
    config = {"value": CONFIG}
    coordinator = await started(nursery, ws, router, lambda: config["value"])
    await coordinator.init()
    config["value"] = structure_config({})
    coordinator.submit(SID, "hi", run_id="r1")
    await wait_idle(coordinator)
    ends = terminal(ws)
    assert [k for k, _ in ends] == ["agent_event", "run_complete"]
    assert ends[0][1].type == "error"
    assert ends[0][1].run_id == "r1"
    assert ends[1][1].error == ends[0][1].error
    assert "model" in ends[1][1].error
    assert ws.messages.of(SID) == []


async def test_teardown_persists_active_and_drops_queue(
    ws: Workspace, router: Router
) -> None:
    """Cancelling serve: new prompts 409, the queued run_id prompt gets its
    cancelled run_complete, the running turn is stored cancelled and also
    gets its run_complete."""
    gate = trio.Event()
    router.agent.add([gate, *text_turn("never")])
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            coordinator = await started(nursery, ws, router)
            await coordinator.init()
            coordinator.submit(SID, "a", run_id="ra")
            coordinator.submit(SID, "b", run_id="rb")
            await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    with pytest.raises(WorkspaceClosing):
        coordinator.submit(SID, "c")
    completes = {p.run_id: p for k, p in terminal(ws) if k == "run_complete"}
    assert completes["ra"].cancelled
    assert completes["rb"].cancelled
    assistant = next(m for m in ws.messages.of(SID) if m.role == "assistant")
    finish = next(p for p in assistant.parts if p.type == "finish")
    assert finish.data["reason"] == "canceled"


async def test_submitter_leaving_does_not_end_the_run(
    nursery: trio.Nursery, ws: Workspace, router: Router
) -> None:
    """The prompting task may be cancelled right after submit; the run goes
    on in the agent nursery (TestE2E_PromptRequestContextDoesNotOwnRun twin)."""
    router.agent.add(text_turn("finished anyway"))
    coordinator = await started(nursery, ws, router)
    await coordinator.init()
    with trio.CancelScope() as request:
        coordinator.submit(SID, "hi", run_id="r")
        request.cancel()
        await trio.sleep(1)
    await wait_idle(coordinator)
    (_, complete) = next(e for e in terminal(ws) if e[0] == "run_complete")
    assert complete.text == "finished anyway"
