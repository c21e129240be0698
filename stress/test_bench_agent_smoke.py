"""Smoke tests of the agent benchmark (``python -m stress bench --only agent``).

They prove the harness works (scripted server, daemon, watchers, SDK loop,
bursts) at ``--quick`` sizes; no number is compared with a target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stress.bench._agent import delta_latencies, lost
from stress.bench._agent_driver import Run
from stress.bench._agent_worker import Dechunker, Follower
from stress.bench._script import DELTA_CHARS, MARKER, full_answer, prompt_for
from stress.bench._wake_probe import LATE_SECONDS, sample, summary

REPO = Path(__file__).resolve().parent.parent


def test_dechunker_rebuilds_the_body_across_any_split() -> None:
    """Chunk framing cut anywhere still yields exactly the body bytes."""
    body = [b"id: 1\ndata: {}\n\n", b'id: 2\ndata: {"a":1}\n\n', b"x" * 300]
    wire = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in body)
    for cut in range(len(wire)):
        dechunk = Dechunker()
        assert dechunk.feed(wire[:cut]) + dechunk.feed(wire[cut:]) == b"".join(body)


def test_the_script_is_readable_from_the_text_alone() -> None:
    """Every delta has the same width; the prompt carries tag, size and rate."""
    assert len(full_answer(2000)) == 2000 * DELTA_CHARS
    match = MARKER.search(prompt_for("t-1", 2000, 200).encode())
    assert match is not None
    assert (match[1], match[2], match[3]) == (b"t-1", b"2000", b"200")


def test_follower_notes_new_deltas_and_the_final_text() -> None:
    """An update counts deltas by text length; run_complete gives the final text."""
    follower = Follower([{"session_id": "s", "run_id": "r"}])

    def message(text: str) -> bytes:
        parts = [{"type": "text", "data": {"text": text}}]
        inner = {"role": "assistant", "session_id": "s", "parts": parts}
        event = {"type": "message", "payload": {"type": "updated", "payload": inner}}
        return json.dumps(event, separators=(",", ":")).encode()

    follower.event(message(full_answer(2)), 1.0)
    follower.event(message(full_answer(2)), 2.0)  # nothing new: no step
    follower.event(message(full_answer(3)), 3.0)
    done = {"session_id": "s", "run_id": "r", "text": full_answer(3)}
    event = {"type": "run_complete", "payload": {"type": "updated", "payload": done}}
    follower.event(json.dumps(event, separators=(",", ":")).encode(), 4.0)
    record = follower.result()
    assert record["steps"]["s"] == [[2, 1.0], [3, 3.0]]
    assert record["final_text"]["s"] == record["last_text"]["s"] == full_answer(3)
    assert not follower.pending
    assert delta_latencies(record["steps"]["s"], [0.5, 0.75, 2.0]) == [0.5, 0.25, 1.0]
    assert lost([record], [Run("s", "r", 3, 0)]) == 0
    assert lost([record], [Run("s", "r", 4, 0)]) == 1


def test_wake_probe_counts_late_wake_ups_and_their_tail() -> None:
    """Only wake-ups later than ``LATE_SECONDS`` count; p99 and max in ms."""
    late = [0.0001] * 98 + [LATE_SECONDS, 0.004]
    figures = summary(late)
    assert figures["late_share"] == 0.01  # the one at the threshold is not late
    assert figures["p99_ms"] == LATE_SECONDS * 1e3
    assert figures["max_ms"] == 4.0
    assert summary([]) == {"late_share": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    assert all(d >= 0 for d in sample(0.02, period=0.001))


def test_agent_quick_runs_against_a_real_daemon(tmp_path: Path) -> None:
    """--quick runs the three phases; every watcher got every answer whole."""
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "stress", "bench", "--quick", "--runs", "1"]
    command += ["--only", "agent", "--workers", "1", "--json", str(out)]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())["benchmarks"]["agent"]
    assert result["error"] is None
    median = result["median"]
    assert median["lost_total"] == 0
    assert median["post_p99_ms"] > 0
    assert median["delta_p99_ms"] > 0
    assert median["sdk_parse_deltas_per_s"] > 0
    assert median["burst_alone_per_s"] > 0
    assert 0 <= median["burst_during_daemon_cpu_share"] <= 1.5  # 10 ms ticks
    assert median["burst_during_load_cpu_share"] >= 0  # 10 ms ticks: may read 0
    assert median["burst_control_over_alone"] > 0
    assert median["burst_after_over_alone"] > 0  # the bracketing set alone
    assert median["burst_alone_load_cpu_share"] == 0
    assert 0 <= median["machine_wake_late_share"] <= 1  # the machine's reference
    assert median["machine_wake_max_ms"] >= median["machine_wake_p99_ms"] > 0
    assert set(result["targets"]) >= {"post_p99_ms", "delta_p99_ms", "lost_total"}
