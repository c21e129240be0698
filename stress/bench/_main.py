"""``python -m stress bench``: run the benchmarks, print a table, write JSON."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import attrs

from stress.bench._catalog import Benchmark, Metrics, select
from stress.bench._procs import BenchError, raise_open_file_limit
from stress.bench._profile import summary
from stress.bench._streams import Options
from stress.bench._wire import HTTPError

PACKAGES = ("crushd", "trio", "hypercorn", "quart", "quart-trio", "h11", "httpx")


def build_parser() -> argparse.ArgumentParser:
    """The ``bench`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m stress bench")
    parser.add_argument(
        "names",
        nargs="*",
        help="benchmarks to run (prefixes allowed), like --only; default all",
    )
    parser.add_argument("--only", help="comma list of benchmarks (prefixes allowed)")
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke)")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--payload-bytes", type=int, default=100)
    parser.add_argument(
        "--publish-batch",
        type=int,
        default=1000,
        help="events per publish call in the bursts (default %(default)s)",
    )
    parser.add_argument(
        "--profile", help="record py-spy collapsed stacks of each daemon in this folder"
    )
    parser.add_argument(
        "--source", help="run the crushd package of this checkout (default: installed)"
    )
    return parser


def machine() -> dict[str, Any]:
    """Cores, CPU model, Python and package versions of this machine."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def run_benchmark(bench: Benchmark, runs: int, options: Options) -> dict[str, Any]:
    """Run ``bench`` ``runs`` times; medians and target verdicts."""
    load_before = loadavg()
    results: list[Metrics] = []
    error = None
    for _ in range(runs):
        try:
            results.append(bench.run(options))
        except (BenchError, HTTPError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
            break
    median = (
        {key: statistics.median(r[key] for r in results) for key in results[0]}
        if results
        else {}
    )
    verdicts = {
        t.metric: {"target": t.text(), "met": t.met(median[t.metric])}
        for t in bench.targets
        if t.metric in median
    }
    return {
        "summary": bench.summary,
        "runs": results,
        "median": median,
        "targets": verdicts,
        "error": error,
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
    }


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def table(report: dict[str, Any]) -> str:
    """The results as a plain-text table, one row per metric."""
    rows = [("benchmark", "metric", "median", "runs", "target", "")]
    for name, result in report["benchmarks"].items():
        if result["error"]:
            rows.append((name, "ERROR", result["error"][:60], "", "", ""))
        for metric, value in result["median"].items():
            runs = " ".join(_fmt(r[metric]) for r in result["runs"])
            verdict = result["targets"].get(metric)
            target = verdict["target"] if verdict else ""
            status = "" if not verdict else ("met" if verdict["met"] else "MISSED")
            rows.append((name, metric, _fmt(value), runs, target, status))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks; exit 1 if any of them failed to run."""
    args = build_parser().parse_args(argv)
    options = Options(
        quick=args.quick,
        workers=args.workers,
        payload_bytes=args.payload_bytes,
        publish_batch=args.publish_batch,
        source=args.source,
        profile=args.profile,
    )
    raise_open_file_limit()
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "options": {"runs": args.runs, **attrs.asdict(options)},
        "benchmarks": {},
    }
    started = time.monotonic()
    wanted = ",".join(filter(None, [args.only, *args.names])) or None
    for bench in select(wanted):
        print(f"running {bench.name}: {bench.summary}", file=sys.stderr, flush=True)
        report["benchmarks"][bench.name] = run_benchmark(bench, args.runs, options)
    report["seconds"] = time.monotonic() - started
    print(table(report))
    if args.profile:
        for path in sorted(Path(args.profile).glob("daemon-*.txt")):
            print(summary(path))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(r["error"] for r in report["benchmarks"].values()) else 0
