"""Tests of realtime_nb.server.jobs.JobChannel: numbering, encoding and persisting a job's messages."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import cv2
import msgspec
from conftest import TEST_METADATA, wait_until
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb.core.delivery import Outgoing
from realtime_nb.core.protocol import (
    FramePayload,
    JobOptions,
    JobRequest,
    Priority,
    ProgressPayload,
    encode,
    make_message,
    peek_type,
)
from realtime_nb.server.jobs import JobChannel, JobManager
from realtime_nb.server.store import EventRow, JobStore, ResultRow
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.worker.executors import ThreadExecutor


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


class Marker(Plugin):
    """Draws a white square at the top left. Holds frame 12 (``held``) until ``gate`` is set,
    so a test can interrupt a job at a known frame."""

    name = "marker"
    metadata = TEST_METADATA

    held = threading.Event()
    gate = threading.Event()

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 12:
            self.held.set()
            assert self.gate.wait(30)
        return {"size": 16}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        size = result["size"]
        frame[:size, :size] = 255


def test_resumed_job_writes_every_frame_of_its_annotated_video(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "db.sqlite3")
    registry = PluginRegistry()
    registry.register(Marker)

    def manager(resume: bool) -> JobManager:
        return JobManager(
            store,
            registry,
            [tmp_path],
            tmp_path / "data",
            lambda job_id, items: None,
            lambda job_id, item: None,
            resume_interrupted=resume,
            # Marker is held and released with threading Events: the job runs in this process.
            executor=ThreadExecutor(registry),
        )

    Marker.held.clear()
    Marker.gate.clear()
    try:
        first = manager(False)
        source = "synthetic://match?seconds=4&fps=10&width=96&height=64&noise=0"
        job_id = first.submit(
            JobRequest(source=source, plugins=["marker"], options=JobOptions(annotate_video=True))
        ).job_id
        assert Marker.held.wait(30)
        threading.Timer(0.2, Marker.gate.set).start()  # after shutdown() has cancelled the job
        first.shutdown()  # the job ends interrupted after frame 12
        assert store.flush()
        interrupted = store.get_job(job_id)
        assert interrupted is not None and interrupted.status == "interrupted"
        assert interrupted.frames_done == 13

        second = manager(True)
        done = wait_until(
            lambda: (r := second.get(job_id)) and r.status == "completed" and r, 60, "resumed job"
        )
        second.shutdown()
        assert done.output_path is not None
        capture = cv2.VideoCapture(done.output_path)
        frames = []
        while (frame := capture.read()[1]) is not None:
            frames.append(frame)
        capture.release()
        assert len(frames) == 40
        assert all(f[2:14, 2:14].mean() > 200 for f in frames)  # every frame was annotated
    finally:
        store.close()


class FailingFlushStore(JobStore):
    """A store whose flush raises once when armed: a fault in the server's own code at a job's
    end."""

    armed = False

    def flush(self, timeout: float = 30.0) -> bool:
        if self.armed:
            self.armed = False
            raise RuntimeError("flush broke")
        return super().flush(timeout)


def test_no_job_stays_running_when_its_supervision_fails(tmp_path: Path) -> None:
    store = FailingFlushStore(tmp_path / "db.sqlite3")
    registry = PluginRegistry()
    registry.register(Marker)
    Marker.gate.set()  # never held
    manager = JobManager(
        store,
        registry,
        [tmp_path],
        tmp_path / "data",
        lambda job_id, items: None,
        lambda job_id, item: None,
        executor=ThreadExecutor(registry),
    )
    store.armed = True
    try:
        source = "synthetic://match?seconds=1&fps=10&width=64&height=64&noise=0"
        job_id = manager.submit(JobRequest(source=source, plugins=["marker"])).job_id
        record = wait_until(
            lambda: (
                (r := manager.get(job_id)) and r.status != "running" and r.status != "queued" and r
            ),
            30,
            "the job to end",
        )
        assert record.status == "failed"
        assert record.error == "the server failed while running the job: RuntimeError: flush broke"
        assert store.flush()
        stored = store.get_job(job_id)
        assert stored is not None and stored.status == "failed"
    finally:
        manager.shutdown()
        store.close()
