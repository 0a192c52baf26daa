"""The process executor with real forked workers: a worker that never begins its job fails the
job (or, cancelled, ends it) and is killed, instead of leaving the job running for ever."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_METADATA

from realtime_nb.core.frame import VideoInfo
from realtime_nb.core.protocol import ErrorPayload
from realtime_nb.plugins import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.worker import executors
from realtime_nb.worker.executors import JobSpec, ProcessExecutor

CLIP = "synthetic://match?seconds=1&fps=5&width=64&height=64&players_per_team=0&noise=0"


class Recorder:
    """The supervisor's :class:`~realtime_nb.worker.executors.JobEvents`, kept in lists."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []
        self.info: VideoInfo | None = None

    def started(self, info: VideoInfo) -> None:
        """Keep the source's size and rate."""
        self.info = info

    def emit(self, batch: list[Any]) -> None:
        """Keep the batch."""
        self.batches.append(batch)

    def preview(self, data: bytes) -> None:
        """Previews are not looked at here."""

    def errors(self) -> list[ErrorPayload]:
        """The error payloads emitted."""
        return [x for batch in self.batches for x in batch if isinstance(x, ErrorPayload)]


class Count(Plugin):
    """Returns the frame's index."""

    name = "count"
    metadata = TEST_METADATA

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        return {"i": ctx.frame_index}


def hangs_before_beginning(*args: Any) -> None:
    """Stands in for the worker's main: never begins the job."""
    threading.Event().wait(60)  # stands for a fork that deadlocked before the worker began
    os._exit(0)


def run(
    tmp_path: Path, cancel: threading.Event | None = None
) -> tuple[executors.JobOutcome, Recorder]:
    """Run a five-frame job of :class:`Count` in a forked worker."""
    registry = PluginRegistry()
    registry.register(Count)
    events = Recorder()
    spec = JobSpec("j-test", CLIP, [tmp_path], ["count"], frame_timeout_s=20)
    return ProcessExecutor(registry).run(spec, events, cancel or threading.Event()), events


def test_a_worker_runs_the_job_and_reports_it(tmp_path: Path) -> None:
    outcome, events = run(tmp_path)
    assert outcome.error is None and outcome.summary is not None and outcome.summary.frames == 5
    assert events.info is not None and not events.errors()


def test_a_worker_that_never_begins_fails_its_job_and_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "_worker_main", hangs_before_beginning)
    monkeypatch.setattr(executors, "WORKER_START_TIMEOUT_S", 1.0)
    outcome, events = run(tmp_path)
    assert outcome.summary is None and outcome.error is not None
    assert "did not begin the job within 1 s" in outcome.error
    (error,) = events.errors()
    assert error.details is not None and error.details.error_code == "INTERNAL"
    assert events.info is None  # the source was never opened
    assert not workers()  # killed and reaped


def test_a_cancelled_worker_that_never_begins_ends_its_job_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executors, "_worker_main", hangs_before_beginning)
    monkeypatch.setattr(executors, "WORKER_START_TIMEOUT_S", 0.0)
    monkeypatch.setattr(executors, "CANCEL_GRACE_S", 30.0)  # the start timeout comes first
    cancel = threading.Event()
    cancel.set()
    outcome, events = run(tmp_path, cancel)
    assert outcome.error is None and outcome.summary is not None
    assert outcome.summary.cancelled and outcome.summary.frames == 0
    assert not events.errors() and not workers()


def workers() -> list[Any]:
    """This file's job's worker processes still alive."""
    return [p for p in multiprocessing.active_children() if p.name == "realtime-nb-worker-j-test"]
