"""Tests of realtime_nb.core.state: the reducer follows the protocol and stays pure."""

from __future__ import annotations

from typing import Any

import numpy as np

from realtime_nb.core import protocol as p
from realtime_nb.core.protocol import FramePayload, make_message
from realtime_nb.core.state import (
    ConnectionChanged,
    MessageReceived,
    PreviewReceived,
    RealtimeState,
    TimingStats,
    reduce,
    reduce_all,
)


def msg(payload: Any, seq: int | None) -> Any:
    return p.make_message(payload, job_id="j1", seq=seq)


def test_seed_reducer_rules() -> None:
    s = RealtimeState()
    s = reduce(
        s, MessageReceived(msg(p.ProgressPayload(job_id="j1", progress=25, stage="Running"), 1))
    )
    assert (s.progress, s.stage, s.job_id) == (25.0, "Running", "j1")
    s = reduce(
        s,
        MessageReceived(
            msg(p.FramePayload(frame_id="f-1", plugin="a", data={"n": 1}, timing_ms=7), 2)
        ),
    )
    assert s.current_frame is not None and s.current_frame.data == {"n": 1}
    assert s.frame_timings["a"].count == 1 and s.frame_timings["a"].mean_ms == 7
    s = reduce(
        s,
        MessageReceived(
            msg(p.PluginStatusPayload(plugin="a", status="completed", timing_ms=70), 3)
        ),
    )
    assert s.plugin_timings["a"] == 70 and s.plugin_status["a"] == "completed"
    assert dict(s.plugin_frames) == {}  # this status did not say
    done = p.PluginStatusPayload(plugin="a", status="completed", frames_processed=400)
    assert reduce(s, MessageReceived(msg(done, 6))).plugin_frames["a"] == 400
    s = reduce(
        s, MessageReceived(msg(p.WarningPayload(plugin="a", message="corners", severity="low"), 4))
    )
    assert [w.message for w in s.warnings] == ["corners"] and s.warnings_count == 1
    s = reduce(s, MessageReceived(msg(p.ErrorPayload(error="boom"), 5)))
    assert [e.error for e in s.errors] == ["boom"] and s.errors_count == 1
    assert s.last_seq == 5 and s.messages_received == 5


def test_reducer_does_not_mutate_its_input() -> None:
    s0 = RealtimeState()
    s1 = reduce(s0, MessageReceived(msg(p.PluginStatusPayload(plugin="a", status="started"), 1)))
    assert dict(s0.plugin_status) == {} and dict(s1.plugin_status) == {"a": "started"}


def test_duplicates_and_old_seqs_change_nothing() -> None:
    m = msg(p.WarningPayload(plugin="a", message="w", severity="low"), 3)
    s = reduce(RealtimeState(), MessageReceived(m))
    assert reduce(s, MessageReceived(m)) is s
    older = msg(p.ProgressPayload(job_id="j1", progress=90), 2)
    assert reduce(s, MessageReceived(older)) is s


def test_progress_never_goes_backwards() -> None:
    s = reduce_all(
        RealtimeState(),
        [
            msg(p.ProgressPayload(job_id="j1", progress=60), 1),
            msg(p.ProgressPayload(job_id="j1", progress=40), 2),
        ],
    )
    assert s.progress == 60


def test_lists_are_bounded_but_counts_complete() -> None:
    msgs = [
        msg(p.WarningPayload(plugin="a", message=f"w{i}", severity="low"), i + 1)
        for i in range(120)
    ]
    s = reduce_all(RealtimeState(max_items=50), msgs)
    assert len(s.warnings) == 50 and s.warnings_count == 120
    assert s.warnings[-1].message == "w119" and s.warnings[0].message == "w70"


def test_job_lifecycle_and_connection() -> None:
    s = reduce(
        RealtimeState(), MessageReceived(msg(p.JobPayload(job_id="j1", status="completed"), 9))
    )
    assert s.finished and s.progress == 100 and s.stage == "Completed"
    s = reduce(s, ConnectionChanged("CONNECTED", 3.0))
    assert s.is_connected and s.latency_ms == 3.0
    s = reduce(s, ConnectionChanged("RECONNECTING"))
    assert not s.is_connected and s.connection == "RECONNECTING" and s.latency_ms == 3.0
    failed = reduce(
        RealtimeState(), MessageReceived(msg(p.JobPayload(job_id="j1", status="failed"), 1))
    )
    assert failed.finished and failed.progress == 0 and failed.stage == "Failed"


def test_ping_updates_latency_and_drops_without_seq() -> None:
    s = reduce(
        RealtimeState(),
        MessageReceived(
            p.make_message(p.PingPayload(interval_seconds=1, latency_ms=2.5, dropped=4))
        ),
    )
    assert (s.latency_ms, s.dropped, s.last_seq) == (2.5, 4, 0)


def test_metadata_and_preview() -> None:
    meta = p.PluginMetadata(
        version="1",
        model="m",
        input_shape=[None, None, 3],
        output_format="json",
        confidence_default=0.5,
        capabilities=[],
    )
    s = reduce(
        RealtimeState(), MessageReceived(msg(p.MetadataPayload(plugin="a", metadata=meta), 1))
    )
    assert s.plugin_metadata["a"] == meta
    assert reduce(s, PreviewReceived("f-000002")).preview_frame_id == "f-000002"


def test_timing_p95_is_within_the_histograms_bound_of_the_exact_figure() -> None:
    rng = np.random.default_rng(7)
    for samples in (
        rng.lognormal(1.0, 0.6, 4000),
        rng.exponential(3.0, 4000),
        rng.uniform(5.0, 6.0, 300),
        np.array([0.0005, 0.0005, 250_000.0]),  # below the first bucket, above the last
    ):
        stats = TimingStats()
        for ms in samples:
            stats = stats.add(float(ms))
        exact = float(np.percentile(samples, 95, method="inverted_cdf"))
        assert stats.count == len(samples) and stats.max_ms == float(samples.max())
        assert abs(stats.p95_ms - exact) <= 0.045 * exact + 1e-3, (stats.p95_ms, exact)
        assert stats.percentile(100) <= stats.max_ms
        assert len(stats.buckets) < 120  # sparse: a few dozen buckets, whatever the count
    assert TimingStats().p95_ms == 0.0


def test_frame_messages_feed_the_p95() -> None:
    state = RealtimeState()
    for i, ms in enumerate([1.0] * 19 + [100.0]):
        payload = FramePayload(frame_id=f"f-{i}", plugin="a", data={}, timing_ms=ms)
        state = reduce(state, MessageReceived(make_message(payload, job_id="j", seq=i + 1)))
    stats = state.frame_timings["a"]
    assert stats.count == 20 and abs(stats.p95_ms - 1.0) < 0.05  # the 19th of 20 is 1 ms
    assert stats.percentile(100) == 100.0


def test_timing_percentile_never_exceeds_the_largest_sample() -> None:
    # 1.05 ms sits low in its bucket (middle ~1.07 ms): the p95 is clamped to the true 1.05.
    same = TimingStats()
    for _ in range(100):
        same = same.add(1.05)
    assert same.p95_ms == 1.05
    zeros = TimingStats()
    for _ in range(100):
        zeros = zeros.add(0.0)  # the first bucket
    assert zeros.p95_ms == 0.0 and zeros.percentile(50) == 0.0


def test_actions_that_change_nothing_return_the_same_object() -> None:
    s = reduce(RealtimeState(), ConnectionChanged("CONNECTED", 3.0))
    assert reduce(s, ConnectionChanged("CONNECTED", 3.0)) is s
    assert reduce(s, ConnectionChanged("CONNECTED")) is s  # no new latency: keeps 3.0
    ping = p.make_message(p.PingPayload(interval_seconds=30, latency_ms=3.0, dropped=0))
    assert reduce(s, MessageReceived(ping)) is s
    busier = p.make_message(p.PingPayload(interval_seconds=30, latency_ms=3.0, dropped=4))
    assert reduce(s, MessageReceived(busier)).dropped == 4
