"""The agent benchmark's processes and its driver of the agent routes.

``ScriptedLLM`` runs the scripted OpenAI-compatible server (``_scripted_llm``)
and writes the daemon's global ``crush.json`` naming it as a provider in
upstream's shape; ``Watchers`` are the event-stream client processes
(``_agent_worker``); ``WakeProbe`` notes how late a sleeping process wakes
meanwhile (``_wake_probe``); ``Agent`` is the driver's side of the daemon's agent
routes on one keep-alive connection (init, sessions, prompts, probes). The
phases that use them are ``_agent``'s.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from stress.bench._procs import REPO, BenchError, Daemon, Workers
from stress.bench._script import prompt_for
from stress.bench._wire import expect

PROVIDER_ID = "bench"
LARGE, SMALL = "bench-large", "bench-small"


def provider_config(base_url: str) -> dict[str, Any]:
    """``crush.json`` selecting the scripted models (upstream's shape)."""

    def model(model_id: str) -> dict[str, Any]:
        return {
            "id": model_id,
            "name": model_id,
            "context_window": 200_000,
            "default_max_tokens": 10_000,
            "can_reason": False,
            "supports_attachments": False,
        }

    provider = {
        "name": "Scripted",
        "type": "openai-compat",
        "base_url": base_url,
        "api_key": "bench-key",
        "models": [model(LARGE), model(SMALL)],
    }
    return {
        "providers": {PROVIDER_ID: provider},
        "models": {
            "large": {"provider": PROVIDER_ID, "model": LARGE},
            "small": {"provider": PROVIDER_ID, "model": SMALL},
        },
    }


class ScriptedLLM:
    """The scripted server process, its config folder and its write records."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="crushd-bench-llm-", dir="/tmp"))
        self.config = self.root / "config"
        self.out = self.root / "writes"
        self.config.mkdir()
        self.out.mkdir()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stress.bench._scripted_llm", str(self.out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=REPO,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise BenchError("the scripted server did not start")
        self.base_url = f"http://127.0.0.1:{json.loads(line)['port']}/v1"
        document = provider_config(self.base_url)
        (self.config / "crush.json").write_text(json.dumps(document, indent=2))

    def env(self) -> dict[str, str]:
        """The daemon's extra environment: this config folder."""
        return {"CRUSH_GLOBAL_CONFIG": str(self.config)}

    def writes(self, tag: str, timeout: float = 10.0) -> list[float]:
        """The wall-clock write time of each delta of the answer ``tag``."""
        path = self.out / f"{tag}.json"
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise BenchError(f"the scripted server never answered {tag}")
            time.sleep(0.01)
        times: list[float] = json.loads(path.read_text())["writes"]
        return times

    def close(self) -> None:
        """Stop the server (stdin EOF, then kill) and remove its folder."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
        for path in sorted(self.root.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        self.root.rmdir()

    def __enter__(self) -> ScriptedLLM:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Watchers(Workers):
    """Watcher processes (``_agent_worker``): several rounds, one per phase."""

    module = "stress.bench._agent_worker"

    def __enter__(self) -> Watchers:
        return self

    def follow(self, runs: list[dict[str, Any]], timeout: float) -> None:
        """Start a round following ``runs`` (``records`` collects it)."""
        self.go(runs=runs, timeout_seconds=timeout)
        time.sleep(0.2)  # every watcher is back in receive

    def records(self, timeout: float) -> list[dict[str, Any]]:
        """The records of the round, one per stream, all workers together."""
        return [s for worker in self.results(timeout + 10) for s in worker]


@attrs.frozen
class Run:
    """One prompted answer: its session, run id (also its tag) and size."""

    session_id: str
    run_id: str
    deltas: int
    rate: float

    def job(self) -> dict[str, Any]:
        """What a watcher needs to know of it."""
        return {"session_id": self.session_id, "run_id": self.run_id}


class Agent:
    """The driver's side of the agent workspace (one keep-alive connection)."""

    def __init__(self, daemon: Daemon) -> None:
        self.conn = daemon.connect()
        self.client_id = str(uuid.uuid4())
        self.ws = daemon.create_workspace(self.conn, self.client_id)
        expect(*self.conn.request("POST", f"/v1/workspaces/{self.ws}/agent/init"))
        self.ready_seconds = self.wait_ready()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Poll ``GET /agent`` until ``is_ready``; seconds since ``agent/init``.

        ``agent/init`` answers at once and loads the SDK in the background
        (seconds of imports in a worker thread); the phases time a warm
        agent, as a client that waits for readiness sees it.
        """
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if expect(*self.conn.request("GET", f"/v1/workspaces/{self.ws}/agent"))[
                "is_ready"
            ]:
                return time.monotonic() - start
            time.sleep(0.05)
        raise TimeoutError("the agent was not ready within a minute")

    def new_run(self, deltas: int, rate: float) -> Run:
        """A new session and a run to prompt in it."""
        body = {"title": "bench"}
        target = f"/v1/workspaces/{self.ws}/sessions"
        session = expect(*self.conn.request("POST", target, body))
        return Run(str(session["id"]), str(uuid.uuid4()), deltas, rate)

    def post(self, body: dict[str, Any]) -> float:
        """``POST /agent``; seconds to the 202."""
        start = time.perf_counter()
        status, answer = self.conn.request(
            "POST", f"/v1/workspaces/{self.ws}/agent", body
        )
        seconds = time.perf_counter() - start
        expect(status, answer, 202)
        return seconds

    def prompt(self, run: Run) -> float:
        """Start ``run``; seconds to the 202."""
        text = prompt_for(run.run_id, run.deltas, run.rate)
        body = {"session_id": run.session_id, "prompt": text, "run_id": run.run_id}
        return self.post({**body, "client_id": self.client_id})

    def health(self) -> float:
        """``GET /v1/health`` (a reference for ``post``); seconds to the 200."""
        start = time.perf_counter()
        answer = self.conn.request("GET", "/v1/health")
        seconds = time.perf_counter() - start
        expect(*answer)
        return seconds

    def probe(self, session_id: str) -> float:
        """Queue a prompt on a busy session, time it, then clear the queue."""
        body = {"session_id": session_id, "prompt": "probe", "delivery": "queue"}
        seconds = self.post({**body, "run_id": str(uuid.uuid4())})
        target = f"/v1/workspaces/{self.ws}/agent/sessions/{session_id}/prompts/clear"
        expect(*self.conn.request("POST", target))
        return seconds


class WakeProbe:
    """The probe process: started early, it samples for ``seconds`` from ``begin``.

    Its interpreter starts before the measured phase, so the phase does not
    share the machine with that start-up. ``result`` waits for it and returns
    ``_wake_probe.summary``'s figures with keys prefixed ``machine_wake_``
    (``late_share``, ``p99_ms``, ``max_ms``).

    Raises:
        BenchError: the probe failed or printed no summary.
    """

    def __init__(self, seconds: float) -> None:
        command = [sys.executable, "-m", "stress.bench._wake_probe"]
        command += ["--seconds", repr(seconds), "--wait"]
        self.seconds = seconds
        self.process = subprocess.Popen(
            command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def begin(self) -> None:
        """Start sampling now (the process reads one line first)."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def result(self) -> dict[str, float]:
        """The probe's summary, once it is done."""
        out = self.process.communicate(timeout=self.seconds + 30)[0]
        if self.process.returncode or not out.strip():
            raise BenchError(f"the wake probe failed ({self.process.returncode})")
        return {f"machine_wake_{k}": v for k, v in json.loads(out).items()}
