"""Tests of realtime_nb.server.channel.JobChannel: numbering, encoding and persisting a job's messages."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb.core.delivery import Outgoing
from realtime_nb.core.protocol import (
    FramePayload,
    Priority,
    ProgressPayload,
    encode,
    make_message,
    peek_type,
)
from realtime_nb.server.channel import JobChannel
from realtime_nb.server.store import EventRow, JobStore, ResultRow


class RecordingStore:
    """Keeps the rows a channel hands to the store, in order."""

    def __init__(self) -> None:
        self.results: list[ResultRow] = []
        self.events: list[EventRow] = []

    def save_results(self, rows: list[ResultRow]) -> None:
        self.results.extend(rows)

    def save_events(self, rows: list[EventRow]) -> None:
        self.events.extend(rows)


def channel(store: Any, start_seq: int = 0) -> tuple[JobChannel, list[Outgoing]]:
    sent: list[Outgoing] = []
    return JobChannel("j-1", store, lambda job_id, items: sent.extend(items), None, start_seq), sent


def timestamp_of(message: bytes) -> str:
    stamp: str = msgspec.json.decode(message)["timestamp"]
    return stamp


BALL = {
    "ball": {"box": [304, 291, 311, 298], "center": [307.0, 294.4], "confidence": 0.602},
    "note": 'é "q"',
    "timing_ms": None,  # a key the envelope also uses, inside the plugin's data
}


def test_frame_message_and_results_row_bytes_are_unchanged() -> None:
    """The bytes sent and stored for a sample frame, as the channel produced them when it
    encoded the plugin's data once for the message and once more for the results row."""
    store = RecordingStore()
    ch, sent = channel(store, start_seq=41)
    frame = FramePayload(
        frame_id="f-000030", plugin="ball_detection", data=BALL, timing_ms=1.25, frame_index=30
    )
    ch.emit([frame, ProgressPayload(job_id="j-1", progress=31)])

    stamp = timestamp_of(sent[0].data)
    data = (
        b'{"ball":{"box":[304,291,311,298],"center":[307.0,294.4],"confidence":0.602},'
        b'"note":"\xc3\xa9 \\"q\\"","timing_ms":null}'
    )
    assert sent[0] == Outgoing(
        b'{"type":"frame","payload":{"frame_id":"f-000030","plugin":"ball_detection","data":'
        + data
        + b',"timing_ms":1.25,"frame_index":30},"timestamp":"'
        + stamp.encode()
        + b'","seq":42,"job_id":"j-1"}',
        Priority.FRAME,
        "j-1",
        42,
        "frame",
    )
    assert store.results == [("j-1", 30, "ball_detection", "f-000030", 1.25, data, 42)]
    progress = (
        b'{"type":"progress","payload":{"job_id":"j-1","progress":31},"timestamp":"'
        + stamp.encode()
        + b'","seq":43,"job_id":"j-1"}'
    )
    assert sent[1] == Outgoing(progress, Priority.PROGRESS, "j-1", 43, "progress")
    assert store.events == [("j-1", 43, "progress", progress)]


def test_on_payload_sees_the_plugins_own_data() -> None:
    seen: list[Any] = []
    ch = JobChannel("j-1", RecordingStore(), lambda job_id, items: None, seen.append)  # type: ignore[arg-type]
    frame = FramePayload(frame_id="f-000000", plugin="p", data=BALL, timing_ms=0.0)
    ch.emit([frame])
    assert seen == [frame]
    assert seen[0].data is BALL


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(data=st.dictionaries(st.text(), json_values, max_size=6))
def test_frame_bytes_match_encoding_the_data_on_its_own(data: dict[str, Any]) -> None:
    """For any plugin data: the message is the envelope encoded whole, and the row holds the
    data encoded alone."""
    store = RecordingStore()
    ch, sent = channel(store)
    frame = FramePayload(frame_id="f-000007", plugin="p", data=data, timing_ms=2.5, frame_index=7)
    ch.emit([frame])
    message = make_message(frame, job_id="j-1", seq=1, timestamp=timestamp_of(sent[0].data))
    assert sent[0].data == encode(message)
    assert store.results[0][5] == msgspec.json.encode(data)
    assert peek_type(sent[0].data) == "frame"


def test_stored_results_row_holds_the_data_bytes(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    try:
        ch, sent = channel(store)
        frame = FramePayload(
            frame_id="f-000003", plugin="p", data=BALL, timing_ms=1.0, frame_index=3
        )
        ch.emit([frame])
        assert store.flush()
        with closing(sqlite3.connect(store.path)) as conn:
            rows = conn.execute("SELECT frame_index, plugin, data, seq FROM results").fetchall()
        assert rows == [(3, "p", msgspec.json.encode(BALL), 1)]
        assert store.results("j-1")[0]["data"] == BALL
        assert msgspec.json.decode(sent[0].data)["payload"]["data"] == BALL
    finally:
        store.close()
