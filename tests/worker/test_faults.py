"""A plugin that exits, hangs, raises SystemExit, eats memory or returns what JSON cannot hold
costs only its own job: real server process, real worker processes, each fault followed by
``/v1/health`` and a normal job that completes with every result."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from conftest import ServeProcess, wait_until

CLIP = "synthetic://match?seconds=1&fps=10&width=64&height=64&players_per_team=0&noise=0"
FRAMES = 10


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("faults") / "data"
    proc = ServeProcess(
        data,
        0,
        "tok",
        "--plugins-from",
        "fault_plugins",
        "--workers",
        "2",
        "--frame-timeout",
        "2",
        "--worker-memory",
        "1GB",
    )
    yield proc
    proc.kill()


def errors(serve: ServeProcess, job_id: str) -> list[dict[str, Any]]:
    events = serve.http.call("GET", f"/v1/jobs/{job_id}/events")[1]["events"]
    return [e["payload"] for e in events if e["type"] == "error"]


def still_serving(serve: ServeProcess) -> None:
    assert serve.proc.poll() is None, serve.log_path.read_text()
    assert serve.http.call("GET", "/v1/health")[0] == 200
    job_id = serve.submit(CLIP, ["noop_0"])
    assert serve.ended(job_id)["status"] == "completed"
    results = serve.http.call("GET", f"/v1/jobs/{job_id}/results")[1]["results"]
    assert len(results) == FRAMES


def test_a_worker_that_exits_fails_its_job_only(serve: ServeProcess) -> None:
    beside = serve.submit(CLIP, ["noop_0", "pace"])
    job_id = serve.submit(CLIP, ["fault_exit"])
    record = serve.ended(job_id)
    assert record["status"] == "failed"
    assert "exited with code 1" in record["error"] and "fault_exit" in record["error"]
    (error,) = errors(serve, job_id)
    assert error["details"]["error_code"] == "PLUGIN_CRASH"
    assert error["plugin"] == "fault_exit" and error["frame_id"] == "f-000005"
    # Frames 0-4 have results; the frame it died on is not counted as done.
    assert record["frames_done"] == 5
    assert serve.http.call("GET", f"/v1/jobs/{job_id}/results")[1]["count"] == 5
    assert serve.ended(beside)["status"] == "completed"  # the job beside it is untouched
    still_serving(serve)


def test_a_hung_plugin_times_out_and_its_worker_is_killed(serve: ServeProcess) -> None:
    job_id = serve.submit(CLIP, ["fault_hang"])
    record = serve.ended(job_id)
    assert record["status"] == "failed" and "longer than 2 s" in record["error"]
    (error,) = errors(serve, job_id)
    assert error["details"]["error_code"] == "PLUGIN_TIMEOUT"
    assert error["frame_id"] == "f-000002"
    still_serving(serve)


def test_cancel_stops_a_hung_job_within_a_second(serve: ServeProcess) -> None:
    job_id = serve.submit(CLIP, ["fault_hang"], frame_timeout_s=600)
    wait_until(
        lambda: serve.http.call("GET", f"/v1/jobs/{job_id}")[1]["frames_done"] >= 2, 20, "frames"
    )
    started = time.monotonic()
    assert serve.http.call("DELETE", f"/v1/jobs/{job_id}")[0] == 202
    record = serve.ended(job_id, timeout=5)
    assert record["status"] == "cancelled"
    assert time.monotonic() - started < 1.5
    still_serving(serve)


def test_system_exit_in_a_plugin_fails_the_job_with_its_traceback(serve: ServeProcess) -> None:
    job_id = serve.submit(CLIP, ["fault_system_exit"])
    record = serve.ended(job_id)
    assert record["status"] == "failed" and "SystemExit" in record["error"]
    (error,) = errors(serve, job_id)
    assert "fault_plugins.py" in error["details"]["message"]  # file and line of user code
    still_serving(serve)


def test_a_result_json_cannot_hold_fails_that_frame_not_the_job(serve: ServeProcess) -> None:
    job_id = serve.submit(CLIP, ["fault_not_json", "noop_0"])
    record = serve.ended(job_id)
    assert record["status"] == "completed"
    (error,) = errors(serve, job_id)
    assert error["frame_id"] == "f-000002" and "not JSON" in error["error"]
    results = serve.http.call("GET", f"/v1/jobs/{job_id}/results")[1]["results"]
    assert len(results) == 2 * FRAMES - 1  # every frame of both but that one
    still_serving(serve)


def test_a_plugin_over_the_memory_limit_fails_its_job_saying_so(serve: ServeProcess) -> None:
    rss_before = serve.rss_kb()
    job_id = serve.submit(CLIP, ["fault_mem_hog"])
    record = serve.ended(job_id)
    assert record["status"] == "failed"
    assert "ran out of memory" in record["error"] and "fault_mem_hog" in record["error"]
    assert serve.rss_kb() < rss_before + 200_000  # the server itself did not grow
    still_serving(serve)


def test_a_plugin_error_carries_the_traceback_and_the_job_goes_on(serve: ServeProcess) -> None:
    job_id = serve.submit(CLIP, ["fault_raise"])
    assert serve.ended(job_id)["status"] == "completed"
    (error,) = errors(serve, job_id)
    assert "ValueError: bad frame" in error["error"]
    assert "fault_plugins.py" in error["details"]["message"]
    assert "bad frame" in Path(serve.log_path).read_text()  # and in the server log
