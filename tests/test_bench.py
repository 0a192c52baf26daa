"""The benchmark harness runs end to end at its small size and reports every figure.

No timing assertions: the numbers of a shared, noisy machine are not a test result.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from realtime_nb.bench import add_bench_parser, benchmarks_dir, run_bench_command

FIGURES = [
    "throughput, 1 client",
    "fan-out, 10 clients",
    "latency p50, 1,000 msgs/s",
    "latency p95, 1,000 msgs/s",
    "latency p99, 1,000 msgs/s",
    "server RSS growth, 1 stalled client",
    "job time with a stalled client",
    "football pipeline, 1280x720",
    "widget budget, 20,000 msgs/s in",
    "run.log overhead, 10,000 logs/s",
    "experiment ingest, points/s",
    "dask, 2 workers vs 1",
    "dask 2 workers vs process executor",
]


def test_bench_parser_takes_the_harness_options(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_bench_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "--size", "small", "--json", str(tmp_path / "r.json")])
    assert (args.command, args.size, args.json, args.png) == (
        "bench",
        "small",
        tmp_path / "r.json",
        None,
    )
    assert benchmarks_dir() is not None


@pytest.mark.timeout(300)
def test_small_run_prints_table_and_writes_json_and_png(tmp_path: Path) -> None:
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    folder = benchmarks_dir()
    assert folder is not None
    argv = [sys.executable, str(folder / "run.py"), "--size", "small"]
    argv += ["--json", str(out_json), "--png", str(out_png)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    for figure in FIGURES:
        assert figure in done.stdout
    report = json.loads(out_json.read_text())
    assert [row["figure"] for row in report["rows"]] == FIGURES
    for row in report["rows"]:
        assert row["ours"] is not None and row["ours"] >= 0
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_command_entry_runs_one_benchmark(tmp_path: Path) -> None:
    args = argparse.Namespace(size="small", json=tmp_path / "one.json", png=None, only="widget")
    assert run_bench_command(args) == 0
    rows = json.loads((tmp_path / "one.json").read_text())["rows"]
    assert [row["figure"] for row in rows] == ["widget budget, 20,000 msgs/s in"]
