"""Bad input is a 400 with a JSON message, on both request paths, never a traceback.

Each case below answered 500 ``internal server error`` and logged a traceback
(or, for an out-of-range ``Last-Event-ID``, was taken as a resume point).
The hot routes (create, release, SSE) and the quart routes must agree.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest
import trio
from quart.testing import WebsocketResponseError

from crushd.proto import MAX_EVENT_ID, MAX_JSON_DEPTH, load_json

from .conftest import Harness


def new_id() -> str:
    return str(uuid.uuid4())


def nested(depth: int) -> str:
    """JSON of ``depth`` nested arrays, alternating with objects."""
    text = "1"
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"k":{text}}}'
    return text


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record; the test asserts none is an error."""
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_quiet_log(caplog: pytest.LogCaptureFixture) -> None:
    """No ERROR record and no traceback: a client's mistake is not a crash."""
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == []
    assert "Traceback" not in caplog.text


async def create_body(h: Harness, text: str) -> tuple[int, object]:
    return await h.json("POST", "/v1/workspaces", text)


async def workspace(h: Harness, project: Path) -> str:
    body = {"path": str(project), "client_id": new_id()}
    status, created = await h.json("POST", "/v1/workspaces", body)
    assert status == 200, created
    assert isinstance(created, dict)
    return str(created["id"])


SURROGATE = "failed to decode request: invalid Unicode: unpaired surrogate"
CREATE_CASES = [
    ('"/tmp/a\\u0000b"', "path contains a NUL byte"),
    (json.dumps("/" + "a" * 4096), "path is longer than 4096 bytes"),
    ('"/tmp/\\ud800"', SURROGATE),
    ('"/tmp/\\udc80x"', SURROGATE),
]


@pytest.mark.parametrize(("path", "message"), CREATE_CASES)
async def test_create_with_a_bad_path_is_400(
    harness: Harness, no_tracebacks: pytest.LogCaptureFixture, path: str, message: str
) -> None:
    """Create's ``path`` with NUL, over 4096 bytes or a lone surrogate: 400."""
    text = f'{{"path":{path},"client_id":"{new_id()}"}}'
    assert await create_body(harness, text) == (400, {"message": message})
    assert_quiet_log(no_tracebacks)


async def test_create_with_a_nul_data_dir_is_400(
    harness: Harness,
    project: Path,
    no_tracebacks: pytest.LogCaptureFixture,
) -> None:
    """Create's ``data_dir`` with a NUL byte: 400 naming the field."""
    text = json.dumps({"path": str(project), "data_dir": "/x\0", "client_id": new_id()})
    assert await create_body(harness, text) == (
        400,
        {"message": "data_dir contains a NUL byte"},
    )
    assert_quiet_log(no_tracebacks)


async def test_create_with_a_surrogate_data_dir_is_400(
    harness: Harness, project: Path, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    """Create's ``data_dir`` with a lone surrogate: 400 at decode."""
    text = f'{{"path":"{project}","data_dir":"/x\\ud800","client_id":"{new_id()}"}}'
    status, _ = await create_body(harness, text)
    assert status == 400
    assert_quiet_log(no_tracebacks)


async def test_deep_json_is_400_on_the_hot_path(
    harness: Harness, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    """A create body nested 100,000 deep: 400, not ``RecursionError``."""
    message = f"failed to decode request: nested deeper than {MAX_JSON_DEPTH} levels"
    for text in ("[" * 100_000 + "]" * 100_000, nested(MAX_JSON_DEPTH + 1)):
        assert await create_body(harness, text) == (400, {"message": message})
    assert_quiet_log(no_tracebacks)


async def test_deep_json_is_400_on_the_quart_path(
    harness: Harness, project: Path, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    """Session create and config set bodies nested too deep: 400."""
    ws = await workspace(harness, project)
    deep = '{"title":' + "[" * 100_000 + "]" * 100_000 + "}"
    config = '{"scope":0,"key":"options.x","value":' + nested(70) + "}"
    for path, text in [
        (f"/v1/workspaces/{ws}/sessions", deep),
        (f"/v1/workspaces/{ws}/config/set", config),
    ]:
        status, body = await harness.json("POST", path, text)
        assert status == 400, body
        assert isinstance(body, dict)
        assert "nested deeper than 64 levels" in body["message"]
    assert_quiet_log(no_tracebacks)


async def test_lone_surrogate_in_a_session_title_is_400(
    harness: Harness, project: Path, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    """A lone surrogate anywhere in a body is refused before it reaches SQLite."""
    ws = await workspace(harness, project)
    path = f"/v1/workspaces/{ws}/sessions"
    status, body = await harness.json("POST", path, '{"title":"a\\udfffb"}')
    assert (status, body) == (400, {"message": SURROGATE})
    assert_quiet_log(no_tracebacks)


BAD_EVENT_IDS = [
    str(2**63),
    "99999999999999999999999",
    "%D9%A1",  # ARABIC-INDIC DIGIT ONE: int() takes it
    "%C2%B2",  # SUPERSCRIPT TWO: isdigit() takes it, int() does not
    "%2B1",
    "1_0",
    "-1",
    "0x1",
]


@pytest.mark.parametrize("raw", BAD_EVENT_IDS)
async def test_bad_last_event_id_query_is_400_on_sse(
    harness: Harness,
    project: Path,
    no_tracebacks: pytest.LogCaptureFixture,
    raw: str,
) -> None:
    """``?last_event_id=`` not a decimal under 2^63: 400 on the SSE route."""
    ws = await workspace(harness, project)
    path = f"/v1/workspaces/{ws}/events?client_id={new_id()}&last_event_id={raw}"
    with trio.fail_after(5):  # an accepted id streams forever: fail, not hang
        status, body = await harness.json("GET", path)
    assert status == 400
    assert isinstance(body, dict)
    assert body["message"].startswith("Last-Event-ID must be a decimal integer")
    assert_quiet_log(no_tracebacks)


async def test_bad_last_event_id_header_is_400_on_sse(
    harness: Harness, project: Path, no_tracebacks: pytest.LogCaptureFixture
) -> None:
    """The ``Last-Event-ID`` header is held to the same rule."""
    ws = await workspace(harness, project)
    path = f"/v1/workspaces/{ws}/events?client_id={new_id()}"
    for raw in (str(2**63), "1e3", "\u0661"):
        with trio.fail_after(5):  # an accepted id streams forever
            response = await harness.client.get(path, headers={"Last-Event-ID": raw})
        assert response.status_code == 400
    assert_quiet_log(no_tracebacks)


@pytest.mark.parametrize("raw", [str(2**63), "%D9%A1", "%C2%B2"])
async def test_bad_last_event_id_is_400_on_websocket(
    harness: Harness,
    project: Path,
    no_tracebacks: pytest.LogCaptureFixture,
    raw: str,
) -> None:
    """The WebSocket route refuses the same ids with 400 before the upgrade."""
    ws = await workspace(harness, project)
    path = f"/v1/workspaces/{ws}/ws?client_id={new_id()}&last_event_id={raw}"
    with (
        trio.fail_after(5),  # an accepted id streams forever
        pytest.RaisesGroup(WebsocketResponseError, flatten_subgroups=True) as refused,
    ):
        async with harness.client.websocket(path) as socket:
            await socket.receive()
    rejected = refused.value.exceptions[0]
    assert isinstance(rejected, WebsocketResponseError)
    assert rejected.response.status_code == 400
    assert_quiet_log(no_tracebacks)


def test_load_json_limits() -> None:
    """64 levels parse; 65 do not; paired surrogates are fine, lone ones are not."""
    assert load_json(nested(MAX_JSON_DEPTH)) is not None
    assert load_json('"[[[[\\"' + "[" * 100 + '"') == '[[[["' + "[" * 100
    # An escaped backslash ends a string's escapes: the brackets after the
    # next quote are inside the second string, not nesting.
    text = r'["\\", "\\\"' + "[" * 100 + '"]'
    assert load_json(text) == ["\\", '\\"' + "[" * 100]
    assert load_json('"\\ud83d\\ude00"') == "\U0001f600"
    for bad in (nested(MAX_JSON_DEPTH + 1), '{"\\ud800":1}', b'"\xed\xa0\x80"'):
        with pytest.raises(ValueError, match=r"nested deeper|unpaired surrogate"):
            load_json(bad)


def test_event_id_upper_bound_is_accepted() -> None:
    """``2^63 - 1`` is the largest id a client may send."""
    from crushd.proto import parse_event_id

    assert parse_event_id(str(MAX_EVENT_ID)) == MAX_EVENT_ID
    assert parse_event_id(" 7\t") == 7
