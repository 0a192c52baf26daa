"""Tests of realtime_nb.server.jobs.JobManager: resuming a job, and a job whose supervision fails."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
from conftest import TEST_METADATA, wait_until

from realtime_nb.core.protocol import (
    JobOptions,
    JobRequest,
)
from realtime_nb.server.jobs import JobManager
from realtime_nb.server.store import JobStore
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.worker.executors import ThreadExecutor


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
