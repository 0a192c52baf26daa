"""The benchmark harness runs end to end at its small size and reports every figure.

No timing assertions: the numbers of a shared, noisy machine are not a test result.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from realtime_nb.bench import add_bench_parser, benchmarks_dir, run_bench_command

FIGURES = [
    "throughput, 1 client",
    "deliveries/s under overload, 10 clients",
    "zero-loss fan-out, 10 clients",
    "server CPU per 1,000 deliveries",
    "latency p50, 1,000 msgs/s",
    "latency p95, 1,000 msgs/s",
    "latency p99, 1,000 msgs/s",
    "latency p50 with 10 other readers",
    "latency p95 with 10 other readers",
    "latency p99 with 10 other readers",
    "server RSS growth, 1 stalled client",
    "job time with a stalled client",
    "football pipeline, 1280x720",
    "job time with 40 readers, thread executor (before)",
    "job time with 40 readers, process executor",
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

    # The docs' "latest run" section is written from that JSON, between its markers.
    doc = tmp_path / "performance.md"
    doc.write_text("# Perf\n<!-- latest-run:start -->\nold\n<!-- latest-run:end -->\nafter\n")
    done = subprocess.run(
        [sys.executable, str(folder / "report.py"), str(out_json), str(doc)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    text = doc.read_text()
    assert "old" not in text and text.endswith("after\n")
    assert report["commit"] in text and report["command"] in text
    for figure in FIGURES:
        assert figure in text


def test_command_entry_runs_one_benchmark(tmp_path: Path) -> None:
    args = argparse.Namespace(size="small", json=tmp_path / "one.json", png=None, only="widget")
    assert run_bench_command(args) == 0
    rows = json.loads((tmp_path / "one.json").read_text())["rows"]
    assert [row["figure"] for row in rows] == ["widget budget, 20,000 msgs/s in"]


def _football_speed() -> Any:
    folder = benchmarks_dir()
    assert folder is not None
    spec = importlib.util.spec_from_file_location("football_speed", folder / "football_speed.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(120)
def test_football_speed_times_a_plugin_in_a_child_process_of_the_given_tree() -> None:
    speed = _football_speed()
    tree = Path(speed.__file__).resolve().parent.parent
    passes = speed._child(tree, "player_detection", 160, 90, 3)
    assert len(passes) == speed.PASSES - 1  # the first pass is left out
    assert all(ms > 0 for ms in passes)
    with pytest.raises(RuntimeError, match="no_such_plugin"):
        speed._child(tree, "no_such_plugin", 160, 90, 3)


@pytest.mark.timeout(120)
def test_football_speed_times_a_plugin_on_a_goal_nets_frames_too() -> None:
    speed = _football_speed()
    frames = speed.net_frames(320, 180, 2)
    assert [f.shape for f in frames] == [(180, 320, 3)] * 2
    strings = (frames[0] == 235).all(axis=2)
    assert 0.2 < strings.mean() < 0.6  # strings over grass
    assert not (frames[0] == frames[1]).all()  # the camera pans
    tree = Path(speed.__file__).resolve().parent.parent
    passes = speed._child(tree, "pitch_detection", 160, 90, 3, "net")
    assert len(passes) == speed.PASSES - 1 and all(ms > 0 for ms in passes)
    # The child is asked for the footage, and measures the net's frames when asked for them.
    asked: list[list[str]] = []

    def run(args: list[str], **_: Any) -> Any:
        asked.append(args)
        return SimpleNamespace(returncode=0, stdout="[1.0, 2.0, 3.0]", stderr="")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(speed.subprocess, "run", run)
        assert speed._child(tree, "pitch_detection", 160, 90, 3, "net") == [2.0, 3.0]
        assert asked[-1][-1] == "net"
        speed._child(tree, "pitch_detection", 160, 90, 3)
        assert asked[-1][-1] == "match"
        made: list[tuple[int, int, int]] = []
        net_frames = speed.net_frames

        def counted(width: int, height: int, frames: int) -> list[Any]:
            made.append((width, height, frames))
            return net_frames(width, height, frames)

        patch.setattr(speed, "net_frames", counted)
        assert len(speed.measure("pitch_detection", 160, 90, 2, 1, "net")) == 1
        assert made == [(160, 90, 2)]
    # A child asked for footage it does not know fails, rather than timing the match.
    with pytest.raises(RuntimeError, match="footage"):
        speed._child(tree, "pitch_detection", 160, 90, 3, "bogus")


@pytest.mark.timeout(120)
def test_football_speed_times_ball_detection_on_a_crowd_too() -> None:
    speed = _football_speed()
    frames = speed.crowd_frames(640, 360, 2)
    assert [f.shape for f in frames] == [(360, 640, 3)] * 2
    off_grass = (frames[0] != (40, 140, 40)).any(axis=2)
    assert 0.2 < off_grass.mean() < 0.8  # people over grass
    assert not (frames[0] == frames[1]).all()  # the crowd moves
    assert speed.crowd_frames(320, 180, 1)[0].shape == (180, 320, 3)
    tree = Path(speed.__file__).resolve().parent.parent
    passes = speed._child(tree, "ball_detection", 320, 180, 3, "crowd")
    assert len(passes) == speed.PASSES - 1 and all(ms > 0 for ms in passes)


def test_football_speed_names_the_plugins_slower_than_the_tolerance() -> None:
    speed = _football_speed()
    table = {
        ("ball_detection", "640x360"): (3.2, 3.1),  # 3 % slower: within 5 %
        ("player_detection", "640x360"): (6.6, 6.0),  # 10 % slower
        ("pitch_detection", "1280x720"): (20.0, 30.0),
    }
    assert speed.slower_than(table, 0.05) == ["player_detection at 640x360"]
    assert speed.slower_than(table, 0.02) == [
        "ball_detection at 640x360",
        "player_detection at 640x360",
    ]
