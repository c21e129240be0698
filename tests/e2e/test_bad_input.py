"""Bad input against a real daemon: each a 400, a FIFO skill no hang, a quiet log.

The daemon's own log file is the witness: a client's mistake must never leave
an ERROR line or a traceback there (before, each of these was a 500 with one).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import trio

from tests.skills._fifo import fifo_skill

from .conftest import Daemon, DaemonFactory
from .test_lifecycle import SIGTERM_DEADLINE
from .test_multiclient import PROMPT

DEEP = "[" * 100_000 + "]" * 100_000


def http(daemon: Daemon) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(uds=str(daemon.socket_path))
    return httpx.AsyncClient(transport=transport, base_url="http://crushd")


def create_body(path: str, **extra: str) -> str:
    return json.dumps({"path": path, "client_id": str(uuid.uuid4()), **extra})


async def test_bad_input_is_400_and_the_log_stays_clean(
    daemons: DaemonFactory, project: Path
) -> None:
    """Paths, deep JSON, surrogates and event ids: 400s; no ERROR, no traceback."""
    daemon = await daemons.start()
    async with http(daemon) as client:
        created = await client.post("/v1/workspaces", content=create_body(str(project)))
        ws = created.json()["id"]
        bodies = [
            ("/v1/workspaces", create_body(f"{project}/a\0b")),
            ("/v1/workspaces", create_body("/" + "a" * 5000)),
            ("/v1/workspaces", '{"path":"/tmp/\\ud800","client_id":"x"}'),
            ("/v1/workspaces", DEEP),
            (f"/v1/workspaces/{ws}/sessions", '{"title":"\\udc00"}'),
            (f"/v1/workspaces/{ws}/sessions", '{"title":' + DEEP + "}"),
        ]
        for route, body in bodies:
            response = await client.post(route, content=body)
            assert response.status_code == 400, (route, response.text)
            assert set(response.json()) == {"message"}
        events = f"/v1/workspaces/{ws}/events?client_id={uuid.uuid4()}"
        for raw in (str(2**63).encode(), "\u0661".encode(), b"+1"):
            response = await client.get(events, headers={b"Last-Event-ID": raw})
            assert response.status_code == 400
        response = await client.get(f"{events}&last_event_id=%C2%B2")
        assert response.status_code == 400
    log = daemon.log_text()
    assert "Traceback" not in log
    assert "level=ERROR" not in log


async def test_fifo_skill_neither_wedges_create_nor_sigterm(
    daemons: DaemonFactory, project: Path
) -> None:
    """A FIFO SKILL.md: the create answers with a skill error; SIGTERM exits 0."""
    daemon = await daemons.start()
    with fifo_skill(project / ".agents" / "skills", "stuck") as fifo:
        async with http(daemon) as client:
            with trio.fail_after(PROMPT):
                created = await client.post(
                    "/v1/workspaces", content=create_body(str(project))
                )
        assert created.status_code == 200
        (state,) = created.json()["skills"]
        assert (state["path"], state["state"]) == (str(fifo), 1)
        assert state["error"] == "SKILL.md is a FIFO, not a regular file"
        daemon.terminate()
        assert await daemon.wait_exit(SIGTERM_DEADLINE) == 0
