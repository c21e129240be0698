"""Smoke tests of the benchmark harness (``python -m stress bench``).

These prove the harness works, never how fast the daemon is: the sizes are
``--quick`` and no number is compared with a target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stress.bench._catalog import select
from stress.bench._profile import IDLE, THREAD_IDLE, self_time, summary
from stress.bench._streams import percentile, split
from stress.bench._wire import split_body, split_head
from stress.bench._worker import EVENT, PatternCounter

REPO = Path(__file__).resolve().parent.parent


def test_pattern_counter_counts_across_any_split() -> None:
    """A pattern cut between two chunks is counted once, wherever the cut falls."""
    stream = (b"id: 1\ndata: " + EVENT + b"\n\n") * 5
    for cut in range(len(stream)):
        counter = PatternCounter(EVENT)
        counter.feed(stream[:cut])
        assert counter.feed(stream[cut:]) == 5


def test_split_shares_are_near_equal_and_positive() -> None:
    """Streams are spread over workers with shares differing by at most one."""
    assert split(5, 2) == [3, 2]
    assert split(1, 4) == [1]
    assert sum(split(1000, 3)) == 1000


def test_percentile_is_nearest_rank() -> None:
    """p99 of 1..100 is 99, p50 is 50, any fraction of one value is that value."""
    values = [float(x) for x in range(100, 0, -1)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([7.0], 0.99) == 7.0


def test_response_parser_handles_length_and_chunked_bodies() -> None:
    """Heads split off at the blank line; bodies by Content-Length or chunks."""
    assert split_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2") is None
    head = split_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}rest")
    assert head is not None
    status, headers, rest = head
    assert (status, split_body(headers, rest)) == (200, (b"{}", b"rest"))
    chunked = {"transfer-encoding": "chunked"}
    assert split_body(chunked, b"2\r\nab\r\n1\r\nc") is None
    assert split_body(chunked, b"2\r\nab\r\n1\r\nc\r\n0\r\n\r\nnext") == (
        b"abc",
        b"next",
    )


def test_profile_self_time_charges_the_innermost_frame(tmp_path: Path) -> None:
    """Samples go to the innermost frame's package; idle waits are kept apart."""
    lines = [
        "main (crushd/cli.py:1);run (trio/_core/_run.py:9);send (h11/_x.py:3) 5",
        "main (crushd/cli.py:1);_hot (crushd/server/_hot.py:2) 3",
        "run (trio/_core/_run.py:9);EpollIOManager._epoll_wait (trio/_io.py:1) 7",
        "Thread.run (threading.py:982);WorkerThread._work (trio/_c.py:211) 4",
        "main (crushd/cli.py:1);join (posixpath.py:5) 2",
        "garbage",
    ]
    assert self_time(lines) == {
        "h11": 5,
        "crushd": 3,
        IDLE: 7,
        THREAD_IDLE: 4,
        "stdlib": 2,
    }
    path = tmp_path / "daemon-1.txt"
    path.write_text("\n".join(lines))
    text = summary(path)
    assert "10 busy samples" in text
    assert "50.0%" in text  # h11: 5 of the 10 busy samples


def test_select_by_prefix_and_unknown_name() -> None:
    """--only takes prefixes ('burst' is both bursts); unknown names exit."""
    assert [b.name for b in select("burst,spawn")] == ["burst50", "burst200", "spawn"]
    assert len(select(None)) == 9
    with pytest.raises(SystemExit, match="unknown benchmark nope"):
        select("nope")


def test_bench_quick_runs_and_writes_json(tmp_path: Path) -> None:
    """--quick runs benchmarks against a real daemon (and the no-op reference)."""
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "stress", "bench", "--quick", "--runs", "1"]
    command += ["--only", "burst50,resume,churn-noop", "--json", str(out)]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "deliveries_per_s" in done.stdout
    report = json.loads(out.read_text())
    assert report["machine"]["cores"] >= 1
    assert report["machine"]["packages"]["trio"]
    burst, resume = report["benchmarks"]["burst50"], report["benchmarks"]["resume"]
    assert burst["error"] is None
    assert burst["median"]["deliveries_per_s"] > 0
    assert set(burst["targets"]) == {"deliveries_per_s"}
    assert resume["median"]["catch_up_ms"] > 0
    noop = report["benchmarks"]["churn-noop"]
    assert noop["error"] is None
    assert noop["median"]["cycles_per_s"] > 0
    assert len(burst["loadavg_before"]) == 3
