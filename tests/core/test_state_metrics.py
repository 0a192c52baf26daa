"""The reducer's ``metric`` handler."""

from __future__ import annotations

from realtime_nb.core.protocol import MetricPayload, MetricPoint, make_message
from realtime_nb.core.state import MessageReceived, RealtimeState, reduce


def metric_message(seq: int, *points: tuple[str, int, float | None]) -> MessageReceived:
    payload = MetricPayload(
        points=[MetricPoint(name=n, step=s, value=v, wall_time=1.0) for n, s, v in points]
    )
    return MessageReceived(make_message(payload, job_id="j1", seq=seq))


def test_metric_batches_update_each_named_series() -> None:
    s = reduce(
        RealtimeState(), metric_message(1, ("loss", 0, 2.0), ("acc", 0, 0.1), ("loss", 1, 1.0))
    )
    s = reduce(s, metric_message(2, ("loss", 2, 1.5)))
    assert s.metric_points == 4 and s.messages_received == 2 and s.last_seq == 2
    loss = s.metrics["loss"]
    assert (loss.count, loss.last_value, loss.best_value, loss.best_step) == (3, 1.5, 1.0, 1)
    assert s.metrics["acc"].count == 1


def test_a_replayed_metric_batch_changes_nothing() -> None:
    s = reduce(RealtimeState(), metric_message(1, ("loss", 0, 2.0)))
    assert reduce(s, metric_message(1, ("loss", 0, 2.0))) is s


def test_the_previous_state_keeps_its_metrics() -> None:
    a = reduce(RealtimeState(), metric_message(1, ("loss", 0, 2.0)))
    b = reduce(a, metric_message(2, ("loss", 1, 1.0)))
    assert a.metrics["loss"].count == 1 and b.metrics["loss"].count == 2
