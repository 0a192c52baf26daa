"""The realtime-nb command, run as a user would (a subprocess), end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2


def realtime_nb(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "realtime_nb.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_run_a_job_and_write_the_annotated_video(tmp_path: Path) -> None:
    out = tmp_path / "out" / "annotated.mp4"
    done = realtime_nb(
        "run",
        "synthetic://match?seconds=1&fps=10&width=320&height=180&seed=2",
        "--plugins",
        "pitch_detection,ball_detection",
        "--output",
        str(out),
        "--data-dir",
        str(tmp_path / "data"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "completed" in done.stdout and "frames   10/10" in done.stdout
    assert "pitch_detection" in done.stdout and "ball_detection" in done.stdout
    cap = cv2.VideoCapture(str(out))
    try:
        frames = 0
        while cap.read()[0]:
            frames += 1
    finally:
        cap.release()
    assert frames == 10


def test_run_rejects_an_unknown_plugin_clearly(tmp_path: Path) -> None:
    done = realtime_nb(
        "run",
        "synthetic://match?seconds=1",
        "--plugins",
        "nope",
        "--data-dir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "PLUGIN_UNKNOWN" in done.stderr and "nope" in done.stderr


def test_demo_writes_a_clip_and_an_annotated_video(tmp_path: Path) -> None:
    done = realtime_nb("demo", "--dir", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "match.mp4").is_file()
    assert (tmp_path / "demo" / "annotated.mp4").stat().st_size > 10_000
    assert (
        "job j-" in done.stdout
        and ": completed" in done.stdout
        and "frames   100/100" in done.stdout
    )
