"""A plain script in another process reports an experiment while a notebook client watches.

Each test starts real processes (the script, and for the restart test the server too) and
ends them by their id; every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TESTS, ServeProcess, free_port, wait_until
from experiment_producer import METRICS, values

from realtime_nb.notebook.client import RealtimeClient

pytestmark = pytest.mark.slow


class Producer:
    """``experiment_producer.py`` in a process of its own, its output read line by line."""

    def __init__(self, url: str, token: str, steps: int, *extra: str, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(TESTS)}
        self.log_path = log
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            # The options, then "--": one random token in 64 starts with "-", which argparse
            # would read as an option where the token belongs.
            [
                sys.executable,
                str(TESTS / "experiment_producer.py"),
                *extra,
                "--",
                url,
                token,
                str(steps),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def printed(self, word: str) -> str | None:
        # Whole lines only: an unbuffered print writes "JOB", " " and the id one by one.
        for line in self.log_path.read_text().split("\n")[:-1]:
            if line.startswith(word + " "):
                return line.split(" ", 1)[1]
            if line == word:
                return ""
        return None

    def wait_printed(self, word: str, timeout: float) -> str:
        def check() -> str | None:
            found = self.printed(word)
            if found is None and self.proc.poll() is not None:
                raise AssertionError(self.log_path.read_text())
            return found if found is None else found or "yes"

        result: str = wait_until(check, timeout, f"{word} from the producer")
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.log.close()


@pytest.fixture
def producers() -> Iterator[list[Producer]]:
    started: list[Producer] = []
    yield started
    for p in started:
        p.kill()


def assert_complete(metrics: dict[str, list[tuple[int, float | None, float]]], steps: int) -> None:
    """Every metric has every step exactly once, in order, with the value the script logged."""
    assert sorted(metrics) == sorted(METRICS)
    for name in METRICS:
        points = metrics[name]
        assert [p[0] for p in points] == list(range(steps)), name
        for step in (0, steps // 2, steps - 1):
            assert points[step][1] == pytest.approx(values(step)[name])


def test_script_logs_100k_steps_of_5_metrics_while_a_client_watches(
    server_factory: Any, producers: list[Producer], tmp_path: Path
) -> None:
    steps = 100_000
    server = server_factory()
    with RealtimeClient(server.url, server.token).start() as watcher:
        producer = Producer(server.url, server.token, steps, log=tmp_path / "producer.log")
        producers.append(producer)
        job_id = producer.wait_printed("JOB", 60)
        job = watcher.job(job_id)
        dropped = producer.wait_printed("DONE", 240)
        assert producer.proc.wait(30) == 0
        assert dropped == "yes" or int(dropped) == 0
        state = watcher.wait_for(job_id, timeout=60)
        assert state.job_status == "completed"
        metrics = job.client.request("GET", f"/v1/jobs/{job_id}/metrics")["metrics"]
        assert_complete({k: [tuple(p) for p in v] for k, v in metrics.items()}, steps)
        # The watcher's charts hold the latest values, over a bounded history.
        for name in METRICS:
            series = state.metrics[name]
            assert series.count == steps
            assert series.last_step == steps - 1
            assert series.last_value == pytest.approx(values(steps - 1)[name])
            assert len(series.buckets) <= series.max_buckets
        assert state.metric_points == steps * len(METRICS)
        record = job.record()
        assert record["kind"] == "experiment" and record["config"] == {"steps": steps}


def test_killed_script_leaves_its_run_interrupted(
    server_factory: Any, producers: list[Producer], tmp_path: Path
) -> None:
    server = server_factory()
    http_client = RealtimeClient(server.url, server.token)
    producer = Producer(
        server.url,
        server.token,
        1_000,
        "--hang-at",
        "500",
        "--heartbeat-timeout",
        "2",
        log=tmp_path / "producer.log",
    )
    producers.append(producer)
    job_id = producer.wait_printed("JOB", 60)
    producer.wait_printed("HANG", 60)

    def stored_steps() -> list[int]:
        body = http_client.request("GET", f"/v1/jobs/{job_id}/metrics?name=loss")
        return [p[0] for p in body["metrics"].get("loss", [])]

    # The loop hung at step 500; its sender thread delivers the 500 steps logged before.
    wait_until(lambda: len(stored_steps()) == 500, 30, "the steps before the hang stored")
    assert http_client.get_job(job_id)["status"] == "running"
    producer.kill()
    record = wait_until(
        lambda: (r := http_client.get_job(job_id))["status"] == "interrupted" and r,
        20,
        "interrupted",
    )
    assert "no word from the producer" in record["error"]
    assert stored_steps() == list(range(500))


def test_server_restart_mid_run_loses_nothing(
    producers: list[Producer], serve_processes: list[ServeProcess], tmp_path: Path
) -> None:
    steps = 20_000
    port, token, data = free_port(), "restart-token-0123456789", tmp_path / "data"
    serve_processes.append(ServeProcess(data, port, token))
    url = f"http://127.0.0.1:{port}"
    producer = Producer(
        url, token, steps, "--pause-every", "200", "--pause-s", "0.05", log=tmp_path / "p.log"
    )
    producers.append(producer)
    job_id = producer.wait_printed("JOB", 60)
    http = serve_processes[0].http
    wait_until(
        lambda: (
            len(
                http.call("GET", f"/v1/jobs/{job_id}/metrics?name=loss")[1]["metrics"].get(
                    "loss", []
                )
            )
            > 2_000
        ),
        60,
        "some points stored",
    )
    serve_processes[0].kill()  # SIGKILL: a crash, nothing flushed on the way out
    serve_processes.append(ServeProcess(data, port, token))
    assert producer.wait_printed("DONE", 240)
    assert producer.proc.wait(30) == 0
    http = serve_processes[1].http
    status, record = http.call("GET", f"/v1/jobs/{job_id}")
    assert status == 200 and record["status"] == "completed"
    _, body = http.call("GET", f"/v1/jobs/{job_id}/metrics")
    assert_complete({k: [tuple(p) for p in v] for k, v in body["metrics"].items()}, steps)
    _, events = http.call("GET", f"/v1/jobs/{job_id}/events")
    statuses = [e["payload"]["status"] for e in events["events"] if e["type"] == "job"]
    assert "interrupted" in statuses and statuses[-1] == "completed"
    seqs = [e["seq"] for e in events["events"]]
    assert seqs == sorted(set(seqs))
