"""Integration tests of realtime_nb.notebook.client against a real server."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import realtime_nb as rt
from realtime_nb.notebook.client import ApiError, RealtimeClient
from realtime_nb.server.app import EmbeddedServer

SHORT = "synthetic://match?seconds=1&fps=10&width=320&height=180&seed=5"
PLUGINS = ["pitch_detection", "player_detection", "ball_detection"]


@pytest.fixture
def client(server: EmbeddedServer) -> Any:
    with rt.connect(server.url, server.token) as c:
        yield c


def test_submit_watch_wait_results(client: RealtimeClient) -> None:
    job = client.submit(SHORT, PLUGINS)
    overlay = job.overlay()
    record = job.wait(timeout=60)
    assert record["status"] == "completed"
    state = job.state
    assert state.progress == 100 and state.finished and state.is_connected
    assert state.frames_received == 10 * len(PLUGINS)
    assert all(state.plugin_status[name] == "completed" for name in PLUGINS)
    results = job.results()
    assert len(results) == 10 * len(PLUGINS)
    assert len(job.results("ball_detection")) == 10
    deadline = time.monotonic() + 5  # the render clock catches up within a tick or two
    while overlay.progress.bar.value != 100 or overlay.frame.image.value == b"":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    frames = job.frames
    assert frames and frames[-1].frame_index == 9  # the last frame is always previewed
    for kept in frames:
        assert set(kept.results) == set(PLUGINS) == set(kept.timings_ms)
    drawn = client.preview(job.job_id)
    assert drawn is not None and drawn != frames[-1].jpeg  # every plugin drawn over the frame
    # The overlay's viewer draws the same, and follows the newest frame.
    assert overlay.frame.shown == frames[-1] and overlay.frame.image.value == drawn
    # An ended job's report picks its thumbnails over the whole clip (fetched again on demand),
    # not only among the frames this client kept.
    markup = job.report(thumbnails=3).data
    assert markup.count('class="rnb-report-thumb"') == 3


def test_bad_requests_raise_api_error(client: RealtimeClient) -> None:
    with pytest.raises(ApiError) as info:
        client.submit(SHORT, ["nope"])
    assert info.value.status == 400 and info.value.code == "PLUGIN_UNKNOWN"
    with pytest.raises(ApiError) as info:
        client.job("j-missing")
    assert info.value.status == 404


def test_attaching_to_a_finished_job_replays_its_history(
    server: EmbeddedServer, client: RealtimeClient
) -> None:
    first = client.submit(SHORT, ["ball_detection"])
    first.wait(timeout=60)
    with rt.connect(server.url, server.token) as other:
        again = other.job(first.job_id)
        state = other.wait_for(first.job_id, timeout=30)
        assert state.finished and state.progress == 100
        deadline = time.monotonic() + 10
        while again.state.last_seq < first.state.last_seq:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        a, b = first.state, again.state
        assert (a.last_seq, a.warnings_count, a.frames_received, dict(a.plugin_status)) == (
            b.last_seq,
            b.warnings_count,
            b.frames_received,
            dict(b.plugin_status),
        )


def test_client_reconnects_and_resumes_after_a_server_restart(
    server_factory: Any, tmp_path: Any
) -> None:
    server = server_factory(data_dir=tmp_path / "d1")
    port = server.running.port
    token = server.token
    c = RealtimeClient(server.url, token, backoff=(0.2, 0.4, 0.8, 1.6, 3.2)).start()
    seen: list[str] = []
    c.on("connectionChange", seen.append)
    try:
        server.stop()
        deadline = time.monotonic() + 10
        while c.connection not in ("RECONNECTING", "CLOSED"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        restarted = server_factory(data_dir=tmp_path / "d1", port=port, token=token)
        assert restarted.url == server.url
        while c.connection != "CONNECTED":
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
        job = c.submit(SHORT, ["ball_detection"])
        assert job.wait(timeout=60)["status"] == "completed"
    finally:
        c.close()
    assert "DISCONNECTED" in seen and "RECONNECTING" in seen and seen[-1] in ("CONNECTED", "CLOSED")


def test_server_killed_mid_job_and_restarted_within_backoff(
    serve_processes: Any, tmp_path: Any
) -> None:
    """The client goes RECONNECTING, then CONNECTED, and the job's state ends complete and
    correct: every plugin completed with all its frames, progress 100."""
    import signal

    from conftest import ServeProcess, wait_until

    token, data = "t0ken", tmp_path / "data"
    first = ServeProcess(data, 0, token)
    port = first.port
    serve_processes.append(first)
    client = RealtimeClient(first.http.url, token).start()
    seen: list[str] = []
    client.on("connectionChange", seen.append)
    try:
        job = client.submit(
            "synthetic://match?seconds=16&fps=25&width=320&height=180",
            ["pitch_detection", "ball_detection"],
        )
        wait_until(lambda: job.state.progress >= 20, 60, "progress 20")
        # job.wait() across the restart: it hears "interrupted", then waits for the server to
        # come back and, since the job is resumed, for its real end.
        waited: list[dict[str, object]] = []
        waiter = threading.Thread(target=lambda: waited.append(job.wait(timeout=150)))
        waiter.start()
        first.kill(signal.SIGTERM)  # graceful stop: the job is interrupted
        wait_until(lambda: client.connection == "RECONNECTING", 10, "RECONNECTING")
        # The overlay's badge reads "Reconnecting… attempt N" from the job's state.
        wait_until(lambda: job.state.reconnect_attempt >= 1, 10, "a reconnect attempt")
        second = ServeProcess(data, port, token, "--resume-interrupted")
        serve_processes.append(second)
        wait_until(lambda: client.connection == "CONNECTED", 20, "CONNECTED again")
        # The job's end as job.wait() hears it across the restart: client.wait_for alone
        # returns at once while the state still reads "interrupted" from before the restart
        # (under load, before the resumed job's first event arrives).
        waiter.join(150)
        state = client.state(job.job_id)
    finally:
        client.close()
    assert [w["status"] for w in waited] == ["completed"]
    assert state.job_status == "completed" and state.progress == 100
    assert dict(state.plugin_status) == {
        "pitch_detection": "completed",
        "ball_detection": "completed",
    }
    assert dict(state.plugin_frames) == {"pitch_detection": 400, "ball_detection": 400}
    assert "RECONNECTING" in seen and seen[-1] in ("CONNECTED", "CLOSED")
    assert len(job.results()) == 800


def test_a_resync_that_times_out_stops_buffering_the_jobs_live_messages() -> None:
    """A server that accepts the events request and never answers: after the fetch's timeout
    the live messages buffered meanwhile are applied, and later ones flow again."""
    import socket

    from realtime_nb.core import protocol as p

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        c = RealtimeClient(f"http://127.0.0.1:{silent.getsockname()[1]}", "t")
        not_recovered = p.make_message(p.SubscribedPayload(job_id="j", recovered=False))
        with c.lock:
            asked = c.core.receive_text(p.encode(not_recovered).decode()).resync
        assert asked == ("j", 0)
        fetch = c.resync(*asked, timeout=0.5)
        live = p.make_message(p.ProgressPayload(job_id="j", progress=50), job_id="j", seq=7)
        with c.lock:
            c.core.receive_text(p.encode(live).decode())
            assert c.core.resyncing("j") and c.state("j").progress == 0  # buffered
        fetch.join(10)
        assert not fetch.is_alive()
        assert not c.core.resyncing("j") and c.state("j").progress == 50
    finally:
        silent.close()
