"""Tests of realtime_nb.core.delivery: the outbox policy and the replay log, without sockets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_nb.core.delivery import Outbox, Outgoing, ReplayLog
from realtime_nb.core.protocol import Priority

KINDS = {
    Priority.PREVIEW: "preview",
    Priority.FRAME: "frame",
    Priority.PROGRESS: "progress",
    Priority.PROTECTED: "warning",
}


def item(priority: Priority, seq: int | None, job: str = "j") -> Outgoing:
    return Outgoing(f"{job}:{seq}".encode(), priority, job, seq, KINDS[priority])


def test_under_capacity_everything_passes_in_order() -> None:
    box = Outbox(capacity=10)
    items = [item(Priority.FRAME, i) for i in range(1, 6)]
    for it in items:
        box.push(it)
    assert box.drain(100) == items and box.dropped == 0


def test_full_outbox_drops_previews_then_frames_never_protected() -> None:
    box = Outbox(capacity=3)
    box.push(item(Priority.PREVIEW, None, "a"))
    box.push(item(Priority.FRAME, 1))
    box.push(item(Priority.FRAME, 2))
    box.push(item(Priority.PROTECTED, 3))  # evicts the preview
    box.push(item(Priority.PROTECTED, 4))  # evicts frame 1
    box.push(item(Priority.FRAME, 5))  # evicts frame 2 (oldest frame)
    box.push(item(Priority.PROTECTED, 6))  # evicts frame 5
    box.push(item(Priority.PROTECTED, 7))  # nothing droppable: overflows
    assert [i.seq for i in box.drain(100)] == [3, 4, 6, 7]
    assert box.dropped == 4
    assert box.dropped_by_type == {"preview": 1, "frame": 3}


def test_incoming_frame_is_shed_when_only_protected_queued() -> None:
    box = Outbox(capacity=2)
    box.push(item(Priority.PROTECTED, 1))
    box.push(item(Priority.PROTECTED, 2))
    box.push(item(Priority.FRAME, 3))
    assert [i.seq for i in box.drain(10)] == [1, 2] and box.dropped == 1


def test_progress_coalesces_to_latest_per_job_when_full() -> None:
    box = Outbox(capacity=2)
    box.push(item(Priority.PROTECTED, 1))
    box.push(item(Priority.PROGRESS, 2))
    box.push(item(Priority.PROGRESS, 3))  # replaces 2
    box.push(item(Priority.PROGRESS, 1, "other"))  # nothing droppable, latest of its job: kept
    assert [(i.job_id, i.seq) for i in box.drain(10)] == [("j", 1), ("j", 3), ("other", 1)]


def test_previews_are_latest_wins_per_job_at_any_fill() -> None:
    box = Outbox(capacity=100)
    box.push(item(Priority.PREVIEW, None, "a"))
    box.push(item(Priority.FRAME, 1, "a"))
    box.push(Outgoing(b"new", Priority.PREVIEW, "a", None, "preview"))
    box.push(item(Priority.PREVIEW, None, "b"))
    out = box.drain(10)
    assert [i.data for i in out] == [b"a:1", b"new", b"b:None"]
    assert box.dropped == 0  # superseded previews are not losses


def test_overflowing_flag_and_memory_stay_bounded_for_a_stalled_reader() -> None:
    box = Outbox(capacity=100, hard_limit=150)
    for seq in range(1, 100_001):
        box.push(item(Priority.FRAME, seq))
    assert len(box) == 100 and box.dropped == 99_900
    assert len(box._entries) <= 3 * 100 + 1  # dead entries are compacted away
    for seq in range(1, 200):
        box.push(item(Priority.PROTECTED, seq))
    assert box.overflowing


ops = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.sampled_from(list(Priority)), st.sampled_from(["a", "b"])),
        st.tuples(st.just("pop"), st.just(Priority.FRAME), st.just("")),
    ),
    max_size=300,
)


@settings(max_examples=200, deadline=None)
@given(ops=ops, capacity=st.integers(min_value=1, max_value=12))
def test_policy_properties(ops: list[tuple[str, Priority, str]], capacity: int) -> None:
    """Whatever the pushes and pops: the bound holds (only progress/protected exceed it),
    nothing protected is dropped, and what is kept leaves in arrival order."""
    box = Outbox(capacity=capacity, hard_limit=10_000)
    counter = 0
    pushed: list[Outgoing] = []
    popped: list[Outgoing] = []
    for op, priority, job in ops:
        if op == "push":
            counter += 1
            it = Outgoing(str(counter).encode(), priority, job, counter, KINDS[priority])
            pushed.append(it)
            box.push(it)
        else:
            got = box.pop()
            if got is not None:
                popped.append(got)
        queued_droppable = sum(
            1 for e in box._entries if e.alive and e.item.priority < Priority.PROGRESS
        )
        if len(box) > capacity:
            assert queued_droppable == 0
        assert len(box) == sum(1 for e in box._entries if e.alive)
    popped.extend(box.drain(10_000))
    seqs = [i.seq or 0 for i in popped]
    assert seqs == sorted(seqs)
    protected_in = [i.seq for i in pushed if i.priority is Priority.PROTECTED]
    assert [i.seq for i in popped if i.priority is Priority.PROTECTED] == protected_in
    # the newest progress of each job always survives
    for job in ("a", "b"):
        progress = [i.seq for i in pushed if i.priority is Priority.PROGRESS and i.job_id == job]
        if progress:
            assert progress[-1] in seqs
    lost = len(pushed) - len(popped)
    superseded_previews = lost - box.dropped
    assert superseded_previews >= 0


def frames_and_events(n: int) -> list[Outgoing]:
    out = []
    for seq in range(1, n + 1):
        priority = Priority.PROTECTED if seq % 5 == 0 else Priority.FRAME
        out.append(item(priority, seq))
    return out


def test_replay_since_returns_missed_messages_in_order() -> None:
    log = ReplayLog(frame_tail=100)
    for it in frames_and_events(50):
        log.append(it)
    items, recovered = log.since(20)
    assert recovered and [i.seq for i in items] == list(range(21, 51))
    assert log.last_seq == 50


def test_replay_reports_unrecovered_when_frames_were_evicted() -> None:
    log = ReplayLog(frame_tail=10)
    for it in frames_and_events(100):
        log.append(it)
    items, recovered = log.since(20)
    assert not recovered
    # still every protected message after 20, and the frame tail
    assert [i.seq for i in items if i.priority is Priority.PROTECTED] == list(range(25, 101, 5))
    items, recovered = log.since(95)
    assert recovered and [i.seq for i in items] == [96, 97, 98, 99, 100]


def test_replay_ignores_messages_without_seq() -> None:
    log = ReplayLog()
    log.append(item(Priority.PREVIEW, None))
    assert log.since(0) == ([], True)


def test_replay_log_started_mid_job_cannot_recover_earlier_seqs() -> None:
    log = ReplayLog(base_seq=40)
    log.append(item(Priority.PROTECTED, 41))
    assert log.since(40) == ([item(Priority.PROTECTED, 41)], True)
    items, recovered = log.since(10)
    assert not recovered and [i.seq for i in items] == [41]
