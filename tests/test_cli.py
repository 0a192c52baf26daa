"""The realtime-nb command, run as a user would (a subprocess), end to end."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from conftest import ServeProcess, wait_until

from realtime_nb.server.store import JobStore
from realtime_nb.vision.synthetic import synthetic_match
from realtime_nb.vision.video_writer import write_video


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


def write_clip(path: Path, frames: int = 20) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    clip = synthetic_match(seconds=frames / 10, fps=10, width=320, height=180, seed=1)
    return write_video(clip, path, 10)


def test_run_finds_a_relative_path_from_the_shell_directory(tmp_path: Path) -> None:
    clips = write_clip(tmp_path / "clips" / "street.mp4").parent
    data = str(tmp_path / "data")
    for source in ("street.mp4", "./street.mp4"):
        done = realtime_nb(
            "run", source, "--plugins", "motion_detection", "--data-dir", data, cwd=clips
        )
        assert done.returncode == 0, done.stderr
        assert "completed" in done.stdout and "frames   20/20" in done.stdout
    done = realtime_nb(
        "run", "clips/street.mp4", "--plugins", "motion_detection", "--data-dir", data, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    done = realtime_nb(
        "run", "street.mp4", "--plugins", "motion_detection", "--data-dir", data, cwd=tmp_path
    )
    assert done.returncode == 2
    assert "SOURCE_NOT_FOUND" in done.stderr
    assert f"looked for {tmp_path.resolve() / 'street.mp4'}" in done.stderr


def test_run_reports_a_video_that_breaks_part_way(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "broken.mp4", frames=40)
    data = bytearray(clip.read_bytes())
    start, end = len(data) * 4 // 10, len(data) * 7 // 10
    data[start:end] = bytes(end - start)  # 30 % of the file zeroed, as a bad copy would
    clip.write_bytes(bytes(data))
    done = realtime_nb(
        "run", str(clip), "--plugins", "motion_detection", "--data-dir", "d", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    match = re.search(
        r"frames   (\d+)/40  \(only \1 of the 40 announced frames decoded\)", done.stdout
    )
    assert match, done.stdout
    assert f"source [high] the video ended after {match.group(1)} of the 40 frames" in done.stdout


def test_run_on_an_unreadable_file_says_so_without_ffmpeg_noise(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(np.random.default_rng(2).bytes(200_000))
    done = realtime_nb(
        "run", "x.mp4", "--plugins", "motion_detection", "--data-dir", "d", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "SOURCE_UNREADABLE" in done.stderr and "x.mp4 exists but" in done.stderr
    for noise in ("moov atom", "VIDEOIO", "[ WARN", "tornado.access", "Traceback"):
        assert noise not in done.stderr + done.stdout, done.stderr


PLUGIN_FILE = """
from realtime_nb.plugins import Plugin, register_plugin
from realtime_nb.core.protocol import PluginMetadata

@register_plugin
class MyBright(Plugin):
    name = "mybright"
    metadata = PluginMetadata(version="1", model="mean", input_shape=[None, None, 3],
                              output_format="json", confidence_default=1.0, capabilities=["x"])

    def process(self, frame, ctx):
        return {"mean": float(frame.mean())}
"""


def serve(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """The installed ``realtime-nb`` script, not ``python -m`` (which puts the current directory
    on the path and so would hide whether a module next to the user is found)."""
    script = str(Path(sys.executable).with_name("realtime-nb"))
    return subprocess.Popen(
        [script, "serve", "--port", "0", "--data-dir", "d", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def served_plugins(proc: subprocess.Popen[str]) -> list[str]:
    """Wait for the server's banner, list its plugins, then stop it (SIGTERM)."""
    assert proc.stdout is not None
    try:
        url = token = None
        deadline = time.monotonic() + 60
        while url is None or token is None:
            assert time.monotonic() < deadline, "no banner"
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            if m := re.search(r"serving at (http://\S+?)/\?token=(\S+)", line):
                url, token = m.groups()
        req = urllib.request.Request(
            f"{url}/v1/plugins", headers={"Authorization": f"token {token}"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return [p["name"] for p in json.loads(resp.read())["plugins"]]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)


def test_serve_takes_a_token_that_starts_with_a_dash(tmp_path: Path) -> None:
    """One ``secrets.token_urlsafe`` token in 64 starts with ``-``; argparse alone would take
    it for an option and the server would exit with "expected one argument"."""
    proc = serve("--token", "-Zk3-dash-first-token", cwd=tmp_path)
    assert proc.stdout is not None
    try:
        banner = proc.stdout.readline()
        assert "?token=-Zk3-dash-first-token" in banner, banner + (proc.stderr.read() or "")
        url = banner.split("serving at ")[1].split("/?token=")[0]
        req = urllib.request.Request(
            f"{url}/v1/plugins", headers={"Authorization": "token -Zk3-dash-first-token"}
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=60)


def test_a_forgotten_token_value_is_still_an_error(tmp_path: Path) -> None:
    done = realtime_nb("run", "x.mp4", "--plugins", "p", "--token", "--server", "u", cwd=tmp_path)
    assert done.returncode == 2
    assert "--token: expected one argument" in done.stderr


@pytest.mark.parametrize("spec", ["./mybright.py", "mybright.py", "mybright", "{tmp}/mybright.py"])
def test_serve_loads_plugins_from_a_file_or_a_module_name(tmp_path: Path, spec: str) -> None:
    (tmp_path / "mybright.py").write_text(PLUGIN_FILE)
    proc = serve("--plugins-from", spec.format(tmp=tmp_path), cwd=tmp_path)
    assert "mybright" in served_plugins(proc)


@pytest.mark.parametrize(
    ("spec", "contents", "says"),
    [
        ("nosuch", None, "no plugin module 'nosuch' in"),
        ("./nosuch.py", None, "no plugin file './nosuch.py' (looked for"),
        ("broken.py", "x = 1 / 0\n", "ZeroDivisionError: division by zero (at "),
        ("broken", "import not_a_real_module_xyz\n", "No module named 'not_a_real_module_xyz'"),
    ],
)
def test_serve_fails_with_a_sentence_when_plugins_cannot_load(
    tmp_path: Path, spec: str, contents: str | None, says: str
) -> None:
    if contents is not None:
        (tmp_path / "broken.py").write_text(contents)
    proc = serve("--plugins-from", spec, cwd=tmp_path)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, out + err
    assert says in err and err.startswith("error: --plugins-from: "), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def interrupt_run(*args: str, cwd: Path, started: Any) -> tuple[str, int, str]:
    """Run ``realtime-nb run ARGS``, read the job id it prints first, wait for ``started(job_id)``,
    send SIGINT as Ctrl-C does; return the job id, the exit status and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "realtime_nb.cli", "run", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        match = re.match(r"job (j-[0-9a-f]+) submitted to ", first)
        assert match, first + (proc.stderr.read() if proc.stderr else "")
        job_id = match.group(1)
        wait_until(lambda: started(job_id), 30, "the job's first frames")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    return job_id, proc.returncode, err


def test_ctrl_c_on_run_cancels_the_job_and_exits_130(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    server = ServeProcess(tmp_path / "data", 0, "tok")
    serve_processes.append(server)
    job_id, status, err = interrupt_run(
        "synthetic://match?seconds=120&fps=10&width=64&height=64",
        *("--plugins", "pace", "--server", server.http.url, "--token", "tok"),
        cwd=tmp_path,
        started=lambda j: server.http.call("GET", f"/v1/jobs/{j}")[1]["frames_done"] > 0,
    )
    assert status == 130, err
    assert f"interrupted: cancelled job {job_id}" in err
    record = wait_until(
        lambda: (
            (r := server.http.call("GET", f"/v1/jobs/{job_id}")[1])["status"] != "running" and r
        ),
        30,
        "the job to stop",
    )
    assert record["status"] == "cancelled"


def test_ctrl_c_on_run_with_the_embedded_server_cancels_the_job_too(tmp_path: Path) -> None:
    start = time.monotonic()
    job_id, status, err = interrupt_run(
        "synthetic://match?seconds=300&fps=10&width=320&height=180",
        *("--plugins", "pitch_detection", "--data-dir", str(tmp_path / "data")),
        cwd=tmp_path,
        started=lambda _: time.monotonic() - start > 2,  # some frames in
    )
    assert status == 130, err
    assert f"interrupted: cancelled job {job_id}" in err
    store = JobStore(tmp_path / "data" / "realtime_nb.sqlite3")
    try:
        record = store.get_job(job_id)
    finally:
        store.close()
    assert record is not None and record.status == "cancelled", record
