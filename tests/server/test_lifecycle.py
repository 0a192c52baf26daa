"""A server's life with real processes: graceful SIGTERM with hung plugins under both executors,
the bounded queue of waiting jobs, cancelling a queued job, and the thread executor's watchdog.

Every server here is ``realtime-nb serve`` in a subprocess on an ephemeral port; every wait is
bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from conftest import ServeProcess, close_ws, read_json, wait_until, ws_url
from tornado.websocket import websocket_connect

CLIP = "synthetic://match?seconds=1&fps=10&width=64&height=64&players_per_team=0&noise=0"


@pytest.mark.parametrize("executor", ["process", "thread"])
def test_sigterm_tells_live_clients_closes_with_1001_and_exits_within_10_s(
    tmp_path: Path, serve_processes: list[ServeProcess], executor: str
) -> None:
    data = tmp_path / "data"
    serve = ServeProcess(data, 0, "tok", "--plugins-from", "fault_plugins", "--executor", executor)
    serve_processes.append(serve)
    hung = serve.submit(CLIP, ["fault_hang"], frame_timeout_s=600)
    wait_until(lambda: serve.record(hung)["frames_done"] >= 2, 30, "the job to hang")

    async def listen() -> tuple[list[dict[str, Any]], int | None, float]:
        ws = await websocket_connect(ws_url(serve.http.url, "tok", job_id=hung, since_seq="0"))
        received: list[dict[str, Any]] = []
        signalled = 0.0
        while True:
            msg = await read_json(ws, 15)
            if msg is None:
                code = ws.close_code
                await close_ws(ws)
                return received, code, signalled
            received.append(msg)
            if msg["type"] == "job" and msg["payload"]["status"] == "running" and not signalled:
                signalled = time.monotonic()
                os.kill(serve.proc.pid, signal.SIGTERM)

    received, close_code, signalled = asyncio.run(listen())
    serve.proc.wait(10)
    exited_after = time.monotonic() - signalled
    assert exited_after < 10, f"exited {exited_after:.1f} s after SIGTERM"
    assert serve.proc.returncode == 0, serve.log_path.read_text()
    ends = [m["payload"] for m in received if m["type"] == "job"]
    assert ends[-1]["status"] == "interrupted"
    assert ends[-1]["error"] == "the server stopped while the job ran"
    assert close_code == 1001

    again = ServeProcess(data, 0, "tok", "--plugins-from", "fault_plugins")
    serve_processes.append(again)
    stored = again.record(hung)
    assert stored["status"] == "interrupted" and stored["error"]
    assert again.http.call("GET", f"/v1/jobs/{hung}/results")[1]["count"] == 2


def test_queue_is_bounded_and_a_queued_job_cancels_at_once(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    serve = ServeProcess(
        tmp_path / "data",
        0,
        "tok",
        "--plugins-from",
        "fault_plugins",
        "--workers",
        "1",
        "--max-waiting-jobs",
        "2",
    )
    serve_processes.append(serve)
    hung = serve.submit(CLIP, ["fault_hang"], frame_timeout_s=600)
    wait_until(lambda: serve.record(hung)["status"] == "running", 30, "the job to run")
    first, second = serve.submit(CLIP, ["noop_0"]), serve.submit(CLIP, ["noop_0"])
    status, body = serve.http.call(
        "POST", "/v1/jobs", {"source": CLIP, "plugins": ["noop_0"], "options": {}}
    )
    assert status == 429, body
    assert body["error"]["code"] == "TOO_MANY_JOBS" and "limit is 2" in body["error"]["message"]

    started = time.monotonic()
    status, _ = serve.http.call("DELETE", f"/v1/jobs/{first}")
    assert status == 202
    assert serve.record(first)["status"] == "cancelled"  # at once, not when a worker frees
    assert time.monotonic() - started < 1.0
    third = serve.submit(CLIP, ["noop_0"])  # its place in the queue is free again

    assert serve.http.call("DELETE", f"/v1/jobs/{hung}")[0] == 202
    assert serve.ended(hung)["status"] == "cancelled"
    for job_id in (second, third):
        assert serve.ended(job_id)["status"] == "completed"
        assert serve.http.call("GET", f"/v1/jobs/{job_id}/results")[1]["count"] == 10
    health = serve.http.call("GET", "/v1/health")[1]
    assert health["status"] == "ok" and health["jobs"] == {}  # ended jobs left memory
    listed = {j["job_id"]: j["status"] for j in serve.http.call("GET", "/v1/jobs")[1]["jobs"]}
    assert listed == {
        hung: "cancelled",
        first: "cancelled",
        second: "completed",
        third: "completed",
    }


def test_thread_executor_times_out_and_cancels_a_hung_plugin(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    serve = ServeProcess(
        tmp_path / "data",
        0,
        "tok",
        "--plugins-from",
        "fault_plugins",
        "--executor",
        "thread",
        "--frame-timeout",
        "1",
    )
    serve_processes.append(serve)
    timed_out = serve.submit(CLIP, ["fault_hang"])
    record = serve.ended(timed_out)
    assert record["status"] == "failed"
    assert "fault_hang took longer than 1 s on frame f-000002" in record["error"]
    assert record["frames_done"] == 2

    hung = serve.submit(CLIP, ["fault_hang"], frame_timeout_s=600)
    wait_until(lambda: serve.record(hung)["frames_done"] >= 2, 30, "the job to hang")
    started = time.monotonic()
    assert serve.http.call("DELETE", f"/v1/jobs/{hung}")[0] == 202
    assert serve.ended(hung, timeout=5)["status"] == "cancelled"
    assert time.monotonic() - started < 1.5

    normal = serve.submit(CLIP, ["noop_0"])  # the threads left behind cost nobody else anything
    assert serve.ended(normal)["status"] == "completed"
    assert serve.http.call("GET", f"/v1/jobs/{normal}/results")[1]["count"] == 10


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # it ended while we looked
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def integrity(data: Path) -> str:
    with closing(sqlite3.connect(data / "realtime_nb.sqlite3")) as conn:
        result: str = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def test_kill_9_of_a_worker_then_of_the_server_loses_and_repeats_nothing(
    tmp_path: Path, serve_processes: list[ServeProcess]
) -> None:
    data = tmp_path / "data"
    serve = ServeProcess(data, 0, "tok")
    serve_processes.append(serve)
    source = "synthetic://match?seconds=12&fps=25&width=320&height=180"

    worker_killed = serve.submit(source, ["ball_detection"])
    wait_until(lambda: serve.record(worker_killed)["frames_done"] >= 20, 30, "20 frames")
    (worker,) = children_of(serve.proc.pid)
    os.kill(worker, signal.SIGKILL)
    record = serve.ended(worker_killed)
    assert record["status"] == "failed"
    assert "killed by signal 9 (SIGKILL)" in record["error"]
    frames = [
        r["frame_index"]
        for r in serve.http.call("GET", f"/v1/jobs/{worker_killed}/results")[1]["results"]
    ]
    assert frames == list(range(record["frames_done"]))  # each reported frame exactly once

    resumed = serve.submit(source, ["ball_detection"])
    wait_until(lambda: serve.record(resumed)["frames_done"] >= 20, 30, "20 frames")
    serve.kill()  # SIGKILL to the server's process group: the server and its worker
    assert integrity(data) == "ok"
    again = ServeProcess(data, 0, "tok", "--resume-interrupted")
    serve_processes.append(again)
    assert again.ended(resumed, timeout=120)["status"] == "completed"
    frames = [
        r["frame_index"]
        for r in again.http.call("GET", f"/v1/jobs/{resumed}/results")[1]["results"]
    ]
    assert frames == list(range(300))  # every frame's result exactly once across the crash
    assert again.record(worker_killed)["status"] == "failed"  # an ended job stays ended
    again.kill(signal.SIGTERM)
    assert integrity(data) == "ok"
