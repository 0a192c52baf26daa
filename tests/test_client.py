"""Integration tests of realtime_nb.client against a real server."""

from __future__ import annotations

import time
from typing import Any

import pytest

import realtime_nb as rt
from realtime_nb.client import ApiError, RealtimeClient
from realtime_nb.server import EmbeddedServer

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
    # The report's thumbnails default to kept frames spread over the job, drawn.
    markup = job.report(thumbnails=3).data
    assert markup.count('class="rnb-report-thumb"') == min(3, len(frames))


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
        first.kill(signal.SIGTERM)  # graceful stop: the job is interrupted
        wait_until(lambda: client.connection == "RECONNECTING", 10, "RECONNECTING")
        # The overlay's badge reads "Reconnecting… attempt N" from the job's state.
        wait_until(lambda: job.state.reconnect_attempt >= 1, 10, "a reconnect attempt")
        second = ServeProcess(data, port, token, "--resume-interrupted")
        serve_processes.append(second)
        wait_until(lambda: client.connection == "CONNECTED", 20, "CONNECTED again")
        state = client.wait_for(job.job_id, timeout=120)
    finally:
        client.close()
    assert state.job_status == "completed" and state.progress == 100
    assert dict(state.plugin_status) == {
        "pitch_detection": "completed",
        "ball_detection": "completed",
    }
    assert dict(state.plugin_frames) == {"pitch_detection": 400, "ball_detection": 400}
    assert "RECONNECTING" in seen and seen[-1] in ("CONNECTED", "CLOSED")
    assert len(job.results()) == 800


def test_invalid_and_unknown_messages_are_skipped_never_fatal(caplog: Any) -> None:
    import logging

    from realtime_nb import protocol as p

    c = RealtimeClient("http://127.0.0.1:9", "t")  # never started: messages fed directly
    good = p.encode(p.make_message(p.ProgressPayload(job_id="j", progress=30), job_id="j", seq=1))
    with caplog.at_level(logging.DEBUG, logger="realtime_nb.client"):
        c._on_text("{not json", None)  # type: ignore[arg-type]
        c._on_text('{"type": "progress", "timestamp": "x", "payload": {}}', None)  # type: ignore[arg-type]
        c._on_text('{"type": "from_the_future", "payload": {}}', None)  # type: ignore[arg-type]
        c._on_text(good.decode(), None)  # type: ignore[arg-type]
    assert c.state("j").progress == 30 and c.state("j").last_seq == 1
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2
    assert "malformed" in warned[0].getMessage() and "invalid progress" in warned[1].getMessage()
    assert any("unknown type" in r.getMessage() for r in caplog.records)


def test_a_ping_with_new_latency_or_drops_rerenders_the_overlays() -> None:
    from realtime_nb import protocol as p

    class Ws:
        sent: list[bytes] = []

        def write_message(self, data: bytes) -> None:
            self.sent.append(data)

    c = RealtimeClient("http://127.0.0.1:9", "t")  # never started: messages fed directly
    ws = Ws()
    progress = p.make_message(p.ProgressPayload(job_id="j", progress=30), job_id="j", seq=1)
    c._on_text(p.encode(progress).decode(), ws)  # type: ignore[arg-type]
    version = c._versions["j"]

    def ping(latency: float, dropped: int) -> None:
        payload = p.PingPayload(interval_seconds=30, latency_ms=latency, dropped=dropped)
        c._on_text(p.encode(p.make_message(payload)).decode(), ws)  # type: ignore[arg-type]

    ping(3.0, 0)
    assert c._versions["j"] == version + 1 and c.state("j").latency_ms == 3.0
    ping(3.0, 0)  # nothing new: no re-render
    assert c._versions["j"] == version + 1
    ping(3.0, 12)
    assert c._versions["j"] == version + 2 and c.state("j").dropped == 12
    assert len(ws.sent) == 3  # every ping answered with a pong


def test_frames_are_kept_for_the_most_recently_previewed_jobs_only() -> None:
    from realtime_nb import protocol as p
    from realtime_nb.client import MAX_JOBS_WITH_FRAMES

    c = RealtimeClient("http://127.0.0.1:9", "t", max_frames=3)  # never started: fed directly

    def preview(job: str, index: int) -> None:
        header = p.PreviewHeader(
            job_id=job, frame_id=f"f-{index:06d}", frame_index=index, width=8, height=8
        )
        c._on_preview(p.encode_preview(header, b"\xff\xd8jpeg"))

    for i in range(MAX_JOBS_WITH_FRAMES + 2):
        preview(f"j-{i}", 0)
    preview("j-1", 1)  # j-1 previewed again: now the most recent
    preview("j-new", 0)
    kept = [f"j-{i}" for i in range(MAX_JOBS_WITH_FRAMES + 2) if c.frames(f"j-{i}")]
    assert "j-0" not in kept and "j-2" not in kept and "j-3" not in kept
    assert "j-1" in kept and len(kept) + 1 == MAX_JOBS_WITH_FRAMES
    for i in range(5):
        preview("j-new", i + 1)
    assert [f.frame_index for f in c.frames("j-new")] == [3, 4, 5]  # max_frames
    assert c.frames("j-new")[0].header_bytes > 50  # the JSON header's own size


def test_the_render_clocks_keep_every_overlay_of_every_client_within_one_budget() -> None:
    from realtime_nb import protocol as p
    from realtime_nb.client import MAX_UPDATES_PER_RENDER, RENDER_BUDGET, RenderBudget
    from realtime_nb.widgets import RealtimeOverlay

    now = [0.0]
    budget = RenderBudget(per_second=80, clock=lambda: now[0])
    # Two clients, never started: fed and ticked directly, sharing one budget as all the
    # clients of a process share RENDER_BUDGET by default.
    clients = [RealtimeClient("http://127.0.0.1:9", "t", render_budget=budget) for _ in range(2)]
    assert RealtimeClient("http://127.0.0.1:9", "t")._budget is RENDER_BUDGET
    jobs = {f"j-{i}": clients[i % 2] for i in range(6)}
    overlays = {job: RealtimeOverlay(job_id=job) for job in jobs}
    for job, overlay in overlays.items():
        jobs[job].attach_overlay(job, overlay)
    for tick in range(1, 41):  # 40 ticks within one second, every job changing at every tick
        for job, c in jobs.items():
            msg = p.make_message(
                p.ProgressPayload(job_id=job, progress=tick * 2), job_id=job, seq=tick
            )
            c._on_text(p.encode(msg).decode(), None)  # type: ignore[arg-type]
        for c in clients:
            c._render_tick()
        now[0] += 0.02
    spent = 80 - budget.left()
    assert 80 - MAX_UPDATES_PER_RENDER <= spent <= 80 + MAX_UPDATES_PER_RENDER
    # Taken in turn: every overlay was rendered, none starved by the budget.
    assert all(o.progress.bar.value > 0 for o in overlays.values())
    now[0] += 1.0  # a second later the window is empty again
    assert budget.left() == 80
    for c in clients:
        c.render_now()  # an explicit render ignores the budget: the last state everywhere
    assert all(o.progress.bar.value == 80 for o in overlays.values())
    assert budget.left() == 80 - 2 * len(overlays)  # counted too (bar value and label each)
    for o in overlays.values():
        o.close()
