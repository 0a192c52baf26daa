"""The replay log keeps only the newest metric batches: the store has them all."""

from __future__ import annotations

from realtime_nb.core.delivery import Outgoing, ReplayLog
from realtime_nb.core.protocol import Priority


def item(seq: int, kind: str) -> Outgoing:
    priority = Priority.FRAME if kind == "frame" else Priority.PROTECTED
    return Outgoing(b"{}", priority, "j1", seq, kind)


def test_metric_messages_are_a_bounded_tail_and_eviction_is_reported() -> None:
    log = ReplayLog(frame_tail=10, metric_tail=3)
    kinds = ["job", "metric", "frame", "metric", "warning", "metric", "metric", "metric"]
    for seq, kind in enumerate(kinds, 1):
        log.append(item(seq, kind))
    items, recovered = log.since(0)
    assert [m.seq for m in items] == [1, 3, 5, 6, 7, 8]  # metrics 2 and 4 evicted
    assert recovered is False
    items, recovered = log.since(4)
    assert [m.seq for m in items] == [5, 6, 7, 8] and recovered is True


def test_every_other_message_is_kept_in_seq_order() -> None:
    log = ReplayLog(frame_tail=2, metric_tail=2)
    for seq, kind in enumerate(["job", "metric", "progress", "frame", "metric", "job"], 1):
        log.append(item(seq, kind))
    items, recovered = log.since(0)
    assert [m.seq for m in items] == [1, 2, 3, 4, 5, 6] and recovered is True
