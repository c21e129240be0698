"""Tests for crushd/proto/_agent.py: the agent wire models and their JSON shapes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crushd.proto import (
    AgentEvent,
    AgentInfo,
    AgentInitRequest,
    AgentMessage,
    Attachment,
    CatalogModel,
    FileTrackerReadRequest,
    RunComplete,
    RunRetry,
    SelectedModel,
    agent_session,
    from_json,
    to_json,
)

from ..strategies import finite_floats, ids, json_objects, messages, texts

counts = st.integers(min_value=0, max_value=2**63 - 1)
optional_floats = st.none() | finite_floats

attachments = st.builds(
    Attachment,
    file_path=texts,
    file_name=texts,
    mime_type=texts,
    content=st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode()),
)
agent_messages = st.builds(
    AgentMessage,
    session_id=ids,
    run_id=st.just("") | ids,
    prompt=texts,
    attachments=st.lists(attachments, max_size=2),
    delivery=st.sampled_from(("", "steer", "queue")),
    client_id=st.just("") | ids,
)
catalog_models = st.builds(
    CatalogModel,
    id=texts,
    name=texts,
    cost_per_1m_in=finite_floats,
    cost_per_1m_out=finite_floats,
    cost_per_1m_in_cached=finite_floats,
    cost_per_1m_out_cached=finite_floats,
    context_window=counts,
    default_max_tokens=counts,
    can_reason=st.booleans(),
    reasoning_levels=st.lists(texts, max_size=3),
    default_reasoning_effort=texts,
    supports_attachments=st.booleans(),
    options=json_objects,
)
selected_models = st.builds(
    SelectedModel,
    model=texts,
    provider=texts,
    reasoning_effort=texts,
    think=st.booleans(),
    max_tokens=counts,
    temperature=optional_floats,
    top_p=optional_floats,
    top_k=st.none() | counts,
    frequency_penalty=optional_floats,
    presence_penalty=optional_floats,
    provider_options=json_objects,
)
agent_infos = st.builds(
    AgentInfo,
    is_busy=st.booleans(),
    is_ready=st.booleans(),
    model=catalog_models,
    model_cfg=selected_models,
)
agent_events = st.builds(
    AgentEvent,
    type=st.sampled_from(("agent_finished", "error")),
    message=messages,
    error=texts,
    run_id=st.just("") | ids,
    session_id=st.just("") | ids,
    session_title=texts,
    progress=texts,
    done=st.booleans(),
)
run_completes = st.builds(
    RunComplete,
    session_id=ids,
    message_id=st.just("") | ids,
    run_id=st.just("") | ids,
    text=texts,
    error=texts,
    cancelled=st.booleans(),
    client_id=st.just("") | ids,
)
run_retries = st.builds(
    RunRetry,
    session_id=ids,
    error=texts,
    retry=st.integers(1, 10),
    retries=st.integers(1, 10),
    delay_seconds=st.floats(0, 60),
    run_id=st.just("") | ids,
    client_id=st.just("") | ids,
)

ROUND_TRIPS = [
    (AgentMessage, agent_messages),
    (AgentInfo, agent_infos),
    (AgentEvent, agent_events),
    (RunComplete, run_completes),
    (RunRetry, run_retries),
    (CatalogModel, catalog_models),
    (SelectedModel, selected_models),
]


@pytest.mark.parametrize(("cls", "strategy"), ROUND_TRIPS, ids=lambda v: str(v)[:30])
def test_agent_models_round_trip(cls: type[Any], strategy: Any) -> None:
    """Decoding an encoded agent model gives an equal model, for every model."""

    @given(strategy)
    def check(value: Any) -> None:
        assert from_json(to_json(value), cls) == value

    check()


def test_agent_info_zero_is_upstream_shape() -> None:
    """GET /agent without an agent: every catwalk key present, model_cfg minimal."""
    assert json.loads(to_json(AgentInfo())) == {
        "is_busy": False,
        "is_ready": False,
        "model": {
            "id": "",
            "name": "",
            "cost_per_1m_in": 0.0,
            "cost_per_1m_out": 0.0,
            "cost_per_1m_in_cached": 0.0,
            "cost_per_1m_out_cached": 0.0,
            "context_window": 0,
            "default_max_tokens": 0,
            "can_reason": False,
            "supports_attachments": False,
        },
        "model_cfg": {"model": "", "provider": ""},
    }


def test_run_complete_keeps_message_id_and_omits_empty_fields() -> None:
    """message_id is always sent; run_id/text/error/cancelled only when set."""
    assert json.loads(to_json(RunComplete(session_id="s"))) == {
        "session_id": "s",
        "message_id": "",
    }
    full = RunComplete("s", "m", run_id="r", text="t", error="e", cancelled=True)
    assert json.loads(to_json(full)) == {
        "session_id": "s",
        "message_id": "m",
        "run_id": "r",
        "text": "t",
        "error": "e",
        "cancelled": True,
    }


def test_run_retry_omits_empty_ids() -> None:
    """run_retry always tells the error and the retry; run_id/client_id when set."""
    plain = RunRetry("s", "Service Unavailable: busy", 1, 3, 5.0)
    assert json.loads(to_json(plain)) == {
        "session_id": "s",
        "error": "Service Unavailable: busy",
        "retry": 1,
        "retries": 3,
        "delay_seconds": 5.0,
    }
    full = json.loads(to_json(RunRetry("s", "e", 2, 3, 10.0, "r", "c")))
    assert (full["run_id"], full["client_id"]) == ("r", "c")


def test_agent_event_always_carries_the_zero_message() -> None:
    """agent_event's message is the empty message object, never absent or null."""
    encoded = json.loads(to_json(AgentEvent(type="agent_finished", session_id="s")))
    assert encoded == {
        "type": "agent_finished",
        "message": {
            "id": "",
            "role": "",
            "session_id": "",
            "parts": [],
            "model": "",
            "provider": "",
            "created_at": 0,
            "updated_at": 0,
        },
        "session_id": "s",
    }


def test_agent_message_accepts_upstream_body_and_missing_keys() -> None:
    """A Go client's body decodes; absent keys are empty (the route validates)."""
    body = {
        "session_id": "s",
        "prompt": "hi",
        "attachments": [
            {
                "file_path": "/a",
                "file_name": "a",
                "mime_type": "text/plain",
                "content": "aGk=",
            }
        ],
    }
    message = from_json(json.dumps(body), AgentMessage)
    assert message.attachments[0].data() == b"hi"
    assert from_json(b"{}", AgentMessage) == AgentMessage()
    assert json.loads(to_json(AgentMessage(session_id="s", prompt="p"))) == {
        "session_id": "s",
        "prompt": "p",
    }


def test_agent_message_rejects_wrong_types() -> None:
    """Strict decoding: a numeric prompt is a decode error naming the path."""
    with pytest.raises(ValueError, match=r"\$\.prompt"):
        from_json(b'{"session_id":"s","prompt":5}', AgentMessage)


def test_attachment_data_rejects_bad_base64() -> None:
    """Malformed base64 is a ValueError, not a binascii traceback."""
    with pytest.raises(ValueError, match="invalid base64"):
        Attachment(content="not base64!").data()


def test_small_request_bodies_decode() -> None:
    """agent/init and filetracker/read bodies decode with upstream keys."""
    assert from_json(b'{"interactive":true}', AgentInitRequest).interactive
    read = from_json(b'{"session_id":"s","path":"a.py"}', FileTrackerReadRequest)
    assert (read.session_id, read.path) == ("s", "a.py")


def test_agent_session_fills_only_id_title_and_busy() -> None:
    """The agent/sessions/{sid} answer: the Session shape with three fields set."""
    encoded = json.loads(to_json(agent_session("s", "T", True)))
    assert (encoded["id"], encoded["title"], encoded["is_busy"]) == ("s", "T", True)
    assert encoded["message_count"] == 0
    assert "todos" not in encoded
