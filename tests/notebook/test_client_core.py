"""Tests of realtime_nb.notebook.client_core: the client's knowledge, fed without sockets."""

from __future__ import annotations

import logging
from typing import Any

from realtime_nb.core import protocol as p
from realtime_nb.notebook.client_core import MAX_JOBS_WITH_FRAMES, ClientCore


def text(payload: Any, job_id: str | None = None, seq: int | None = None) -> str:
    return p.encode(p.make_message(payload, job_id=job_id, seq=seq)).decode()


def test_invalid_and_unknown_messages_are_skipped_never_fatal(caplog: Any) -> None:
    core = ClientCore()
    good = text(p.ProgressPayload(job_id="j", progress=30), "j", 1)
    with caplog.at_level(logging.DEBUG, logger="realtime_nb.notebook.client_core"):
        skipped = [
            core.receive_text("{not json"),
            core.receive_text('{"type": "progress", "timestamp": "x", "payload": {}}'),
            core.receive_text('{"type": "from_the_future", "payload": {}}'),
        ]
        core.receive_text(good)
    assert all(r.message is None for r in skipped)
    assert core.state("j").progress == 30 and core.state("j").last_seq == 1
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 2
    assert "malformed" in warned[0].getMessage() and "invalid progress" in warned[1].getMessage()
    assert any("unknown type" in r.getMessage() for r in caplog.records)


def test_a_ping_is_answered_and_new_latency_or_drops_bump_the_version() -> None:
    core = ClientCore()
    core.receive_text(text(p.ProgressPayload(job_id="j", progress=30), "j", 1))
    version = core.version("j")

    def ping(latency: float, dropped: int) -> str | None:
        payload = p.PingPayload(interval_seconds=30, latency_ms=latency, dropped=dropped)
        return core.receive_text(text(payload)).reply

    replies = [ping(3.0, 0)]
    assert core.version("j") == version + 1 and core.state("j").latency_ms == 3.0
    replies.append(ping(3.0, 0))  # nothing new: no re-render
    assert core.version("j") == version + 1
    replies.append(ping(3.0, 12))
    assert core.version("j") == version + 2 and core.state("j").dropped == 12
    assert all(r is not None and p.peek_type(r) == "pong" for r in replies)


def test_the_connection_metadata_completes_the_handshake() -> None:
    core = ClientCore()
    received = core.receive_text(
        text(
            p.ConnectionPayload(
                connection_id="c-1",
                server_version="0",
                protocol_version=1,
                subscriptions=[],
                ping_interval_seconds=30,
                max_queue=1000,
            )
        )
    )
    assert received.connected and core.connection_id == "c-1"


def test_a_gap_the_server_cannot_replay_buffers_live_messages_until_the_resync_ends() -> None:
    core = ClientCore()
    assert core.follow("j") == 0
    core.receive_text(text(p.ProgressPayload(job_id="j", progress=10), "j", 1))
    asked = core.receive_text(text(p.SubscribedPayload(job_id="j", recovered=False)))
    assert asked.resync == ("j", 1)
    again = core.receive_text(text(p.SubscribedPayload(job_id="j", recovered=False)))
    assert again.resync is None  # one fetch at a time covers both gaps
    core.receive_text(text(p.ProgressPayload(job_id="j", progress=60), "j", 6))
    assert core.resyncing("j") and core.state("j").progress == 10
    stored = [
        p.decode_server_message(text(p.ProgressPayload(job_id="j", progress=p_), "j", s))
        for s, p_ in ((2, 20), (3, 30), (4, 40), (5, 50))
    ]
    core.finish_resync("j", stored)
    assert not core.resyncing("j")
    assert core.state("j").progress == 60 and core.state("j").last_seq == 6
    assert core.followed() == {"j": 6}  # what a reconnect resubscribes with


def test_replayed_frames_between_stored_events_survive_the_resync() -> None:
    core = ClientCore()
    core.receive_text(text(p.SubscribedPayload(job_id="j", recovered=False)))
    frame = p.FramePayload(frame_id="f-000000", plugin="a", data={}, timing_ms=1.0)
    core.receive_text(text(frame, "j", 2))  # replayed live while the fetch runs
    stored = [
        p.decode_server_message(text(p.ProgressPayload(job_id="j", progress=10), "j", 1)),
        p.decode_server_message(text(p.JobPayload(job_id="j", status="completed"), "j", 3)),
    ]
    assert core.finish_resync("j", stored)
    state = core.state("j")
    assert state.frames_received == 1 and state.current_frame is not None
    assert state.job_status == "completed" and state.last_seq == 3


def test_a_failed_resync_still_applies_what_was_buffered() -> None:
    core = ClientCore()
    core.receive_text(text(p.SubscribedPayload(job_id="j", recovered=False)))
    core.receive_text(text(p.JobPayload(job_id="j", status="completed"), "j", 9))
    assert core.finish_resync("j", [])  # the job ended
    assert core.state("j").job_status == "completed"


def test_connection_changes_reach_every_job_state() -> None:
    core = ClientCore()
    core.receive_text(text(p.ProgressPayload(job_id="j", progress=10), "j", 1))
    assert core.set_connection("RECONNECTING", attempt=2)
    assert core.state("j").connection == "RECONNECTING" and core.reconnect_attempt == 2
    assert not core.set_connection("RECONNECTING", attempt=2)
    assert core.set_connection("CONNECTED") and core.reconnect_attempt == 0
    assert core.state("j").is_connected


def test_a_terminal_rest_record_ends_the_job_while_the_socket_is_down() -> None:
    core = ClientCore()
    assert not core.apply_record("j", {"status": "running", "progress": 40})
    assert core.apply_record("j", {"status": "failed", "progress": 40})
    assert core.state("j").finished and core.state("j").stage == "Failed"


def test_frames_are_kept_for_the_most_recently_previewed_jobs_only() -> None:
    core = ClientCore(max_frames=3)

    def preview(job: str, index: int) -> None:
        header = p.PreviewHeader(
            job_id=job, frame_id=f"f-{index:06d}", frame_index=index, width=8, height=8
        )
        assert core.receive_preview(p.encode_preview(header, b"\xff\xd8jpeg")) == job

    for i in range(MAX_JOBS_WITH_FRAMES + 2):
        preview(f"j-{i}", 0)
    preview("j-1", 1)  # j-1 previewed again: now the most recent
    preview("j-new", 0)
    kept = [f"j-{i}" for i in range(MAX_JOBS_WITH_FRAMES + 2) if core.frames(f"j-{i}")]
    assert "j-0" not in kept and "j-2" not in kept and "j-3" not in kept
    assert "j-1" in kept and len(kept) + 1 == MAX_JOBS_WITH_FRAMES
    for i in range(5):
        preview("j-new", i + 1)
    assert [f.frame_index for f in core.frames("j-new")] == [3, 4, 5]  # max_frames
    assert core.frames("j-new")[0].header_bytes > 50  # the JSON header's own size
    assert core.receive_preview(b"not a preview") is None
