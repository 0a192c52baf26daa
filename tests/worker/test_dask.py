"""Jobs on Dask: a LocalCluster of 2 worker processes (loopback only) behind a real server.

Results equal the process executor's (byte for byte for stateless plugins, and for stateful
ones after the warm-up rule), messages arrive while chunks run, a worker killed mid-job costs
no frame and doubles none, and a scheduler that goes away fails its job clearly while the
server keeps serving.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import dask_plugins
import msgspec
import pytest
from conftest import Http, free_port, wait_until

import realtime_nb as rt
from realtime_nb.core.protocol import FrameMessage, JobMessage, ProgressMessage
from realtime_nb.notebook.client import RealtimeClient
from realtime_nb.server.app import EmbeddedServer, ServerConfig, make_executor
from realtime_nb.worker.dask_executor import DaskExecutor, DaskUnavailableError

# The workers import the plugins they run; these live in the tests, so they travel by value.
cloudpickle.register_pickle_by_value(dask_plugins)

CLIP = "synthetic://match?seconds=8&fps=10&width=160&height=96&seed=3"  # 80 frames
LONG = "synthetic://match?seconds=30&fps=10&width=64&height=64&players_per_team=0&noise=0"
LONG_FRAMES = 300
TERMINAL = {"completed", "failed", "cancelled", "interrupted"}


@pytest.fixture(scope="module")
def dask_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    data = tmp_path_factory.mktemp("dask") / "data"
    config = ServerConfig(
        port=0, data_dir=data, allowed_roots=[data], executor="dask", dask_workers=2
    )
    server = EmbeddedServer(config, dask_plugins.registry()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(dask_server: EmbeddedServer) -> Iterator[RealtimeClient]:
    with rt.connect(dask_server.url, dask_server.token) as c:
        yield c


def executor_of(server: EmbeddedServer) -> DaskExecutor:
    executor = server.running.context.jobs.executor
    assert isinstance(executor, DaskExecutor)
    return executor


def msgspec_loads(data: bytes) -> Any:
    """A stored result, decoded."""
    return msgspec.json.decode(data)


def stored(server: EmbeddedServer, job_id: str) -> list[tuple[int, str, bytes]]:
    """Every stored result row of a job: (frame index, plugin, the result's bytes)."""
    rows = server.running.context.store.query(
        "SELECT frame_index, plugin, data FROM results WHERE job_id = ? "
        "ORDER BY frame_index, plugin",
        (job_id,),
    )
    return [(int(i), str(p), bytes(d)) for i, p, d in rows]


def finished(client: RealtimeClient, job: Any) -> dict[str, Any]:
    record: dict[str, Any] = job.wait(timeout=120)
    assert record["status"] in TERMINAL
    return record


def test_stateless_and_short_history_results_equal_the_process_executors(
    dask_server: EmbeddedServer, client: RealtimeClient
) -> None:
    plugins = ["dask_edges", "dask_delta"]
    on_dask = client.submit(CLIP, plugins)
    in_process = client.submit(CLIP, plugins, executor="process")
    a, b = finished(client, on_dask), finished(client, in_process)
    assert (a["status"], b["status"]) == ("completed", "completed")
    assert (a["executor"], b["executor"]) == ("dask", "process")
    assert a["dashboard_url"].startswith("http://127.0.0.1:") and b["dashboard_url"] is None
    assert a["dashboard_url"] == executor_of(dask_server).dashboard_link
    assert a["frames_done"] == b["frames_done"] == 80
    dask_rows, process_rows = stored(dask_server, a["job_id"]), stored(dask_server, b["job_id"])
    assert len(dask_rows) == 80 * 2
    assert dask_rows == process_rows  # byte for byte; dask_delta's warm-up frame discarded
    # The warnings too, once each.
    warned = [sorted(str(w.frame_id) for w in job.state.warnings) for job in (on_dask, in_process)]
    assert warned[0] == warned[1] and len(warned[0]) == len(range(3, 80, 7))
    assert on_dask.state.plugin_status == {"dask_edges": "completed", "dask_delta": "completed"}


def test_frames_run_on_both_workers_unless_a_plugin_needs_the_whole_past(
    dask_server: EmbeddedServer, client: RealtimeClient
) -> None:
    split = finished(client, client.submit(CLIP, ["dask_where"]))
    pids = {msgspec_loads(d)["pid"] for _, _, d in stored(dask_server, split["job_id"])}
    assert len(pids) == 2 and os.getpid() not in pids

    whole = client.submit(CLIP, ["dask_counter", "dask_where"])
    reference = client.submit(CLIP, ["dask_counter"], executor="process")
    rows = stored(dask_server, finished(client, whole)["job_id"])
    assert len({msgspec_loads(d)["pid"] for _, p, d in rows if p == "dask_where"}) == 1
    counted = [r for r in rows if r[1] == "dask_counter"]
    assert counted == stored(dask_server, finished(client, reference)["job_id"])
    assert [msgspec_loads(d)["n"] for _, _, d in counted] == list(range(1, 81))


class Recorder:
    """Messages of one job as the client receives them, with when."""

    def __init__(self, client: RealtimeClient) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[float, Any]] = []
        client.on("message", self.on_message)

    def on_message(self, message: Any) -> None:
        with self.lock:
            self.seen.append((time.monotonic(), message))

    def of(self, job_id: str) -> list[tuple[float, Any]]:
        with self.lock:
            return [(t, m) for t, m in self.seen if getattr(m, "job_id", None) == job_id]


def test_messages_are_live_and_progress_counts_frames_across_chunks(
    dask_server: EmbeddedServer, client: RealtimeClient
) -> None:
    recorder = Recorder(client)
    job = client.submit(LONG, ["dask_slow"])
    record = finished(client, job)
    assert record["status"] == "completed"
    seen = recorder.of(job.job_id)
    frames = [(t, m) for t, m in seen if isinstance(m, FrameMessage)]
    ended_at = next(
        t for t, m in seen if isinstance(m, JobMessage) and m.payload.status in TERMINAL
    )
    assert len(frames) == LONG_FRAMES
    assert sorted(m.payload.frame_index for _, m in frames) == list(range(LONG_FRAMES))
    # Live: most frames reached the client well before the job ended (the run takes seconds).
    early = [t for t, _ in frames if t < ended_at - 0.5]
    assert len(early) > LONG_FRAMES // 2
    # Several chunks at once: frame indices arrive interleaved, not in order.
    indices = [m.payload.frame_index for _, m in frames]
    assert indices != sorted(indices)
    seqs = [m.seq for _, m in seen if getattr(m, "seq", None) is not None]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    progress = [m.payload.progress for _, m in seen if isinstance(m, ProgressMessage)]
    assert progress == sorted(progress) and progress[-1] == 100 and len(progress) > 10
    # Previews of the chunks' frames reach the client too (the overlay's images).
    kept = wait_until(lambda: job.frames, 10, "previews from the chunks")
    assert {f.frame_index for f in kept} <= set(range(LONG_FRAMES)) and len(kept) > 1


def test_a_worker_killed_mid_job_costs_and_doubles_no_frame(
    dask_server: EmbeddedServer, client: RealtimeClient
) -> None:
    recorder = Recorder(client)
    http = Http(dask_server.url, dask_server.token)
    job = client.submit(LONG, ["dask_slow"])

    def frames_done() -> int:
        return int(http.call("GET", f"/v1/jobs/{job.job_id}")[1]["frames_done"])

    wait_until(lambda: frames_done() >= 40, 60, "frames done on Dask")
    pids = executor_of(dask_server).connect().run(os.getpid)
    victim = sorted(pids.values())[0]
    os.kill(victim, signal.SIGKILL)  # a worker process of the cluster this test started
    assert frames_done() < LONG_FRAMES - 40  # killed mid-job, not after
    record = finished(client, job)
    assert record["status"] == "completed", record
    assert record["frames_done"] == LONG_FRAMES
    rows = stored(dask_server, job.job_id)
    assert [i for i, _, _ in rows] == list(range(LONG_FRAMES))
    delivered = [
        m.payload.frame_index for _, m in recorder.of(job.job_id) if isinstance(m, FrameMessage)
    ]
    assert sorted(delivered) == list(range(LONG_FRAMES))  # each frame once
    # The cluster got its worker back, and the next job runs on both workers again.
    wait_until(
        lambda: len(executor_of(dask_server).connect().run(os.getpid)) == 2, 60, "worker back"
    )
    assert finished(client, client.submit(CLIP, ["dask_edges"]))["status"] == "completed"


def test_cancel_ends_the_job_and_its_running_chunks_stop(
    dask_server: EmbeddedServer, client: RealtimeClient
) -> None:
    http = Http(dask_server.url, dask_server.token)
    job = client.submit(LONG, ["dask_slow"])
    wait_until(lambda: job.record()["frames_done"] >= 20, 60, "frames done on Dask")
    assert http.call("DELETE", f"/v1/jobs/{job.job_id}")[0] == 202
    record = finished(client, job)
    assert record["status"] == "cancelled" and record["frames_done"] < LONG_FRAMES
    rows = stored(dask_server, job.job_id)
    assert len(rows) == record["frames_done"]
    # The tasks that were running stop at their next post (the server answers 409); nothing
    # more is stored once the job ended.
    dask = executor_of(dask_server).connect()
    wait_until(lambda: not any(dask.processing().values()), 30, "the cluster to go idle")
    assert stored(dask_server, job.job_id) == rows


def test_serve_refuses_dask_options_without_the_dask_executor(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "realtime_nb.cli", "serve", "--port", "0", "--data-dir",
         str(tmp_path), "--dask-workers", "2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "need --executor dask" in done.stderr


def test_a_server_without_dask_refuses_dask_jobs_and_says_how(http: Http) -> None:
    status, body = http.call(
        "POST",
        "/v1/jobs",
        {"source": CLIP, "plugins": ["ball_detection"], "options": {"executor": "dask"}},
    )
    assert status == 400
    assert "--executor dask" in body["error"]["message"]


def test_missing_distributed_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(DaskUnavailableError, match=r"pip install 'realtime-nb\[dask\]'"):
        make_executor("dask", dask_plugins.registry(), None, ServerConfig(dask_workers=1))


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)},
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: the process and its children
    proc.wait(30)


def test_the_scheduler_gone_fails_the_job_clearly_and_the_server_serves_on(
    tmp_path: Path, server_factory: Any
) -> None:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(
        [
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            "127.0.0.1:0",
        ],
        tmp_path / "scheduler.log",
    )
    worker = _start(
        [
            "distributed.cli.dask_worker",
            address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--no-dashboard",
        ],
        tmp_path / "worker.log",
    )
    try:
        server = server_factory(dask_plugins.registry(), executor="dask", dask_scheduler=address)
        http = Http(server.url, server.token)
        status, record = http.call("POST", "/v1/jobs", {"source": LONG, "plugins": ["dask_slow"]})
        assert status == 201, record
        job_id = record["job_id"]

        def get() -> dict[str, Any]:
            return http.call("GET", f"/v1/jobs/{job_id}")[1]  # type: ignore[no-any-return]

        wait_until(lambda: get()["frames_done"] >= 20, 90, "frames done on the cluster")
        _stop(scheduler)
        ended = wait_until(lambda: get()["status"] in TERMINAL and get(), 90, "the job to end")
        assert ended["status"] == "failed"
        assert f"lost the Dask scheduler at {address}" in ended["error"]
        assert ended["frames_done"] < LONG_FRAMES
        # The server goes on serving: health, and a job on a worker process of its own.
        assert http.call("GET", "/v1/health")[0] == 200
        status, other = http.call(
            "POST",
            "/v1/jobs",
            {"source": CLIP, "plugins": ["dask_edges"], "options": {"executor": "process"}},
        )
        assert status == 201
        wait_until(
            lambda: http.call("GET", f"/v1/jobs/{other['job_id']}")[1]["status"] == "completed",
            60,
            "a process job after the scheduler left",
        )
    finally:
        _stop(scheduler)
        _stop(worker)


def test_plugins_say_what_state_they_carry(dask_server: EmbeddedServer) -> None:
    http = Http(dask_server.url, dask_server.token)
    listed = {p["name"]: p["history_frames"] for p in http.call("GET", "/v1/plugins")[1]["plugins"]}
    assert (listed["dask_edges"], listed["dask_delta"], listed["dask_counter"]) == (0, 1, None)
    assert listed["radar"] == 0 and listed["ball_detection"] is None


def test_submit_refuses_an_unknown_executor(dask_server: EmbeddedServer) -> None:
    http = Http(dask_server.url, dask_server.token)
    body = {"source": CLIP, "plugins": ["dask_edges"], "options": {"executor": "gpu-farm"}}
    status, answer = http.call("POST", "/v1/jobs", body)
    assert status == 400 and "it has: dask, process" in answer["error"]["message"]


def test_the_overlay_shows_the_executor_and_links_the_dask_dashboard(
    dask_server: EmbeddedServer, client: RealtimeClient
) -> None:
    executor_of(dask_server).connect()  # the cluster is up: its dashboard known at submit
    job = client.submit(CLIP, ["dask_edges"])
    overlay = job.overlay()
    link = job.record()["dashboard_url"]
    assert "on dask" in overlay.title.value
    assert f'<a href="{link}" target="_blank">Dask dashboard</a>' in overlay.title.value
    with urllib.request.urlopen(link, timeout=30) as page:  # the dashboard answers
        assert page.status == 200
    finished(client, job)
    local = client.submit(CLIP, ["dask_edges"], executor="process").overlay()
    assert "on process" in local.title.value and "dashboard" not in local.title.value
