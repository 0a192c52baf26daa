"""JobManager: validates, runs, cancels and remembers jobs; turns runner output into messages.

Each running job has one supervising thread (``max_workers`` of them) that hands it to an
executor: by default a worker process of its own (:mod:`realtime_nb.worker.executors`), so a
plugin that crashes, hangs or eats memory costs only its job. More jobs wait in a bounded queue
(``max_waiting``; past it submit answers 429). The worker encodes each plugin result once; each
job's :class:`JobChannel` numbers its messages (``seq`` from 1), wraps them in their envelopes
on the supervising thread and hands whole batches to the event loop, so the loop does no
per-message encoding.

A job is kept in memory while it is queued or running; once it ends and its record is stored,
it is evicted (reads then come from the store), so memory does not grow with the job history.
The supervising threads are daemons: a plugin hung under the thread executor cannot keep the
process from exiting.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from realtime_nb.core.delivery import Outgoing
from realtime_nb.core.frame import VideoInfo
from realtime_nb.core.protocol import (
    ErrorCode,
    ErrorDetails,
    ErrorPayload,
    FramePayload,
    JobPayload,
    JobRecord,
    JobRequest,
    Priority,
    ProgressPayload,
    now_iso,
)
from realtime_nb.server.channel import JobChannel
from realtime_nb.server.store import JobStore
from realtime_nb.vision.plugins.registry import PipelineError, PluginRegistry
from realtime_nb.vision.video import SourceError, validate_source
from realtime_nb.worker.executors import (
    DEFAULT_FRAME_TIMEOUT_S,
    Executor,
    JobOutcome,
    JobSpec,
    ProcessExecutor,
)
from realtime_nb.worker.runner import FrameResults, RunSummary

__all__ = [
    "DEFAULT_MAX_WAITING",
    "JobChannel",
    "JobError",
    "JobManager",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_WAITING = 1000
"""Jobs that may wait for a worker before submit answers 429."""


class JobError(Exception):
    """A job request that cannot be honoured; ``status`` is the HTTP status to answer with."""

    def __init__(self, code: ErrorCode, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class _Job:
    record: JobRecord
    plugin_names: list[str]
    channel: JobChannel
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ended: bool = False
    """Set once the job's last message is sent and its final record queued for the store."""
    finishing: bool = False
    """Set when :meth:`JobManager._finish` starts on it: a job is finished once."""
    # Frames applied from chunk tasks (see apply_frames): each frame once, and the progress
    # they have reported so far.
    frames_seen: set[int] = field(default_factory=set)
    chunk_percent: int = 0
    apply_lock: threading.Lock = field(default_factory=threading.Lock)


class _ManagerEvents:
    """Turns what an executor reports into messages and record updates of one job."""

    def __init__(self, manager: JobManager, job: _Job, executor: Executor | None = None) -> None:
        self.manager = manager
        self.job = job
        self.executor = executor

    def started(self, info: VideoInfo) -> None:
        changes: dict[str, Any] = {"frames_total": info.frame_count}
        # A Dask executor knows its dashboard once connected, which it is by now.
        dashboard = getattr(self.executor, "dashboard_link", None)
        if dashboard is not None:
            changes["dashboard_url"] = dashboard
        self.manager._update(self.job, **changes)

    def emit(self, batch: list[Any]) -> None:
        job = self.job
        job.channel.emit(batch)
        if any(isinstance(p, FramePayload) for p in batch):
            with job.lock:
                frames_done = job.record.frames_done + 1
                job.record = msgspec.structs.replace(job.record, frames_done=frames_done)

    def preview(self, data: bytes) -> None:
        job_id = self.job.record.job_id
        self.manager._deliver_preview(
            job_id, Outgoing(data, Priority.PREVIEW, job_id, None, "preview")
        )


class JobManager:
    """Creates, runs and tracks jobs.

    Args:
        store: Where jobs and results persist.
        registry: Which plugins exist.
        allowed_roots: Folders that file sources must lie in.
        data_dir: Where annotated videos are written (``outputs/``).
        deliver: Receives each job's encoded messages; called from supervising threads.
        deliver_preview: Receives each encoded binary preview; called from supervising threads.
        max_workers: Jobs that run at once; more wait as ``queued``.
        max_waiting: Jobs that may wait; past it :meth:`submit` refuses with 429.
        executor: Where jobs run; default a :class:`ProcessExecutor` (a worker process each).
        frame_timeout_s: Default longest plugin call (a job's ``frame_timeout_s`` option wins).
        resume_interrupted: Resume jobs a previous server left running, from their first
            frame without a result, continuing their seq; otherwise they stay ``interrupted``.
        other_executors: Executors a job may pick by name with its ``executor`` option
            besides ``executor`` (the default), e.g. ``{"process": ...}`` beside Dask.
    """

    def __init__(
        self,
        store: JobStore,
        registry: PluginRegistry,
        allowed_roots: Sequence[Path],
        data_dir: Path,
        deliver: Callable[[str, list[Outgoing]], None],
        deliver_preview: Callable[[str, Outgoing], None],
        max_workers: int = 2,
        resume_interrupted: bool = False,
        executor: Executor | None = None,
        frame_timeout_s: float = DEFAULT_FRAME_TIMEOUT_S,
        max_waiting: int = DEFAULT_MAX_WAITING,
        other_executors: dict[str, Executor] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.allowed_roots = [Path(r).resolve() for r in allowed_roots]
        self.data_dir = Path(data_dir)
        self._deliver = deliver
        self._deliver_preview = deliver_preview
        self.executor: Executor = executor or ProcessExecutor(registry)
        self.executors: dict[str, Executor] = {
            **(other_executors or {}),
            self.executor.name: self.executor,
        }
        self.frame_timeout_s = frame_timeout_s
        self.max_waiting = max_waiting
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        # Jobs waiting for a supervising thread, with the frame each starts from.
        self._waiting: deque[tuple[_Job, int]] = deque()
        self._wakeup = threading.Condition(self._lock)
        self._busy = 0
        self._shutting_down = False
        self._threads = [
            threading.Thread(target=self._serve_queue, name=f"realtime-nb-job-{i}", daemon=True)
            for i in range(max(1, max_workers))
        ]
        for thread in self._threads:
            thread.start()
        self.interrupted = store.mark_interrupted()
        for record in self.interrupted:
            self._adopt(record, announce=True)
        if resume_interrupted:
            for record in store.interrupted_jobs():
                if record.kind != "video":
                    continue  # an experiment resumes when its producer comes back
                job = self._adopt(record, announce=False)
                log.info("resuming job %s from frame %d", record.job_id, record.frames_done)
                self._start(job, record.frames_done)
        with self._lock:  # adopted only to announce it: ended (an experiment's producer revives it)
            for record in self.interrupted:
                job = self._jobs[record.job_id]
                if not resume_interrupted or record.kind != "video":
                    job.ended = True
        self._evict_ended()

    # --- API used by the REST handlers ---------------------------------------------------------

    def submit(self, request: JobRequest) -> JobRecord:
        """Validate a request and queue the job.

        Blocks until the job's record is stored: call it off the event loop.

        Raises:
            JobError: Unknown plugin, impossible pipeline, or a bad source (4xx); the server is
                shutting down (503); too many jobs wait (429); the job cannot be stored (507).
        """
        if self._shutting_down:
            raise JobError(ErrorCode.UNAVAILABLE, "the server is shutting down", 503)
        self._refuse_if_queue_full()
        try:
            plugin_classes = self.registry.resolve(request.plugins)
            # The resolved absolute path is what runs (and what a resumed job reopens).
            source = validate_source(request.source, self.allowed_roots, request.cwd)
        except PipelineError as exc:
            raise JobError(exc.code, str(exc)) from None
        except SourceError as exc:
            status = 403 if exc.code == ErrorCode.SOURCE_NOT_ALLOWED else 400
            raise JobError(exc.code, str(exc), status) from None
        options: dict[str, Any] = msgspec.to_builtins(request.options)
        executor = self._executor_for(options)  # one this server lacks: refused now
        job_id = "j-" + secrets.token_hex(6)
        names = [cls.name for cls in plugin_classes]
        record = JobRecord(
            job_id=job_id,
            status="queued",
            created_at=now_iso(),
            source=source,
            plugins=names,
            options=options,
            executor=executor.name,
            dashboard_url=getattr(executor, "dashboard_link", None),
        )
        unstored = self.store.save_job_now(record)
        if unstored is not None:
            raise JobError(
                ErrorCode.STORAGE_UNAVAILABLE, f"the job cannot be stored: {unstored}", 507
            )
        channel = JobChannel(job_id, self.store, self._deliver, lambda p: self._observe(job_id, p))
        job = _Job(record, names, channel)
        with self._lock:
            self._jobs[job_id] = job
        channel.emit([JobPayload(job_id=job_id, status="queued")])
        self._start(job)
        return record

    def _refuse_if_queue_full(self) -> None:
        with self._lock:
            waiting = len(self._waiting)
        if waiting >= self.max_waiting:
            raise JobError(
                ErrorCode.TOO_MANY_JOBS,
                f"{waiting} jobs already wait for a worker (the limit is {self.max_waiting}); "
                "try again when some have finished",
                429,
            )

    def get(self, job_id: str) -> JobRecord | None:
        """A job's current record (live jobs from memory, others from the store)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is not None:
            with job.lock:
                return msgspec.structs.replace(job.record, last_seq=job.channel.seq)
        return self.store.get_job(job_id)

    def list_jobs(self, limit: int = 100) -> list[JobRecord]:
        """The newest jobs, newest first."""
        stored = {r.job_id: r for r in self.store.list_jobs(limit)}
        with self._lock:
            live = list(self._jobs)
        for job_id in live:
            record = self.get(job_id)
            if record is not None:
                stored[job_id] = record
        return sorted(stored.values(), key=lambda r: r.created_at, reverse=True)[:limit]

    def cancel(self, job_id: str) -> JobRecord:
        """Ask a queued or running job to stop.

        Raises:
            JobError: No such job (404), or it already ended (409).
        """
        record = self.get(job_id)
        if record is None:
            raise JobError(ErrorCode.NOT_FOUND, f"no job {job_id!r}", 404)
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or record.status not in ("queued", "running"):
            raise JobError(
                ErrorCode.JOB_NOT_CANCELLABLE, f"job {job_id} is already {record.status}", 409
            )
        job.cancel.set()
        with self._lock:
            queued = [entry for entry in self._waiting if entry[0] is job]
            for entry in queued:
                self._waiting.remove(entry)
        if queued:  # it never started: it ends now, not when a worker frees up
            return self._finish(job, "cancelled", None, None)
        return record

    def results(self, job_id: str, plugin: str | None = None) -> list[dict[str, Any]]:
        """Per-frame results of a job.

        Raises:
            JobError: No such job (404).
        """
        if self.get(job_id) is None:
            raise JobError(ErrorCode.NOT_FOUND, f"no job {job_id!r}", 404)
        return self.store.results(job_id, plugin)

    def counts(self) -> dict[str, int]:
        """Jobs in memory (queued, running, ending) by status, for the health endpoint."""
        out: dict[str, int] = {}
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            out[job.record.status] = out.get(job.record.status, 0) + 1
        return out

    def in_memory(self) -> int:
        """How many jobs are held in memory (queued, running or just ending)."""
        with self._lock:
            return len(self._jobs)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Refuse new jobs, end queued ones and stop running ones (all end ``interrupted``;
        workers that do not stop are killed) and wait for them at most ``timeout`` seconds.

        A plugin hung under the thread executor cannot be killed: its supervising thread is a
        daemon, left behind, and does not keep the process alive.

        Returns:
            True if every job ended in time.
        """
        self._shutting_down = True
        with self._lock:
            waiting = [job for job, _ in self._waiting]
            self._waiting.clear()
            running = [job for job in self._jobs.values() if job not in waiting]
            self._wakeup.notify_all()
        for job in waiting:
            job.cancel.set()
            self._finish(job, "interrupted", None, "the server stopped before the job ran")
        for job in running:
            job.cancel.set()
            if job.record.kind != "video" and not job.ended:
                # No thread runs an outside producer's job: end it here (its producer makes
                # it running again on the next server).
                self._finish(job, "interrupted", None, "the server stopped while the run reported")
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._busy and time.monotonic() < deadline:
                self._wakeup.wait(max(0.0, deadline - time.monotonic()))
            stuck = self._busy
        if stuck:
            log.error("%d job(s) did not stop within %g s", stuck, timeout)
        return not stuck

    # --- jobs fed by an outside producer (experiments, see server/ingest.py) ------------------

    def create_external(self, record: JobRecord) -> None:
        """Register a ``queued`` job whose payloads an outside producer sends (no executor
        runs it), announce it and mark it ``running``."""
        job_id = record.job_id
        if self._shutting_down:
            raise JobError(ErrorCode.UNAVAILABLE, "the server is shutting down", 503)
        unstored = self.store.save_job_now(record)
        if unstored is not None:
            raise JobError(
                ErrorCode.STORAGE_UNAVAILABLE, f"the job cannot be stored: {unstored}", 507
            )
        channel = JobChannel(job_id, self.store, self._deliver, lambda p: self._observe(job_id, p))
        job = _Job(record, [], channel)
        with self._lock:
            self._jobs[job_id] = job
        channel.emit([JobPayload(job_id=job_id, status="queued")])
        self.resume_external(job_id)

    def _external(self, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise JobError(ErrorCode.NOT_FOUND, f"no live job {job_id!r}", 404)
        return job

    def emit_external(self, job_id: str, payloads: list[Any]) -> int:
        """Number, store and publish an outside producer's payloads; return the job's last seq.

        Raises:
            JobError: The job is not live on this server (404), or it is ending (409
                ``JOB_ENDED``: a shutdown or a sweep got there first; the batch is not applied,
                so the producer's retry on the next server applies it).
        """
        job = self._external(job_id)
        # As in apply_frames: checked and emitted holding the apply lock, which _finish takes
        # before the job's last message, so nothing can follow that message.
        with job.apply_lock:
            with job.lock:
                if job.finishing:
                    raise JobError(ErrorCode.JOB_ENDED, f"job {job_id} is ending", 409)
            job.channel.emit(payloads)
        return job.channel.seq

    def resume_external(self, job_id: str) -> JobRecord:
        """Mark an outside producer's job ``running`` (again, after it was interrupted, even
        by an earlier server).

        Raises:
            JobError: No such job, or not an outside producer's (404).
        """
        with self._lock:
            live = self._jobs.get(job_id)
        if live is None:  # interrupted under an earlier server, and not adopted at start
            stored = self.store.get_job(job_id)
            if stored is None or stored.kind == "video":
                raise JobError(ErrorCode.NOT_FOUND, f"no experiment {job_id!r}", 404)
            live = self._adopt(stored, announce=False)
        job = live
        if job.record.status == "running":
            return self._update(job)
        job.ended = job.finishing = False  # live again: it will end (and be evicted) again
        record = self._update(
            job, status="running", started_at=job.record.started_at or now_iso(), error=None
        )
        job.channel.emit([JobPayload(job_id=job_id, status="running")])
        return record

    def finish_external(self, job_id: str, status: str, error: str | None = None) -> None:
        """End an outside producer's job with ``status`` (flushing its stored messages first).

        Raises:
            JobError: The job is not live on this server (404).
        """
        self._finish(self._external(job_id), status, None, error)

    # --- video jobs run in chunks elsewhere (the Dask executor, see server/ingest.py) -------

    def apply_frames(self, job_id: str, frames: list[tuple[int, list[Any]]]) -> tuple[int, int]:
        """Number, store and publish the frames a chunk task processed, each frame of a job
        once: a frame applied before (a retried chunk sending it again) is dropped whole.
        Counts the new frames done and sends ``progress`` when their whole percent grows, so
        progress counts frames done across chunks and never goes back.

        Args:
            job_id: A running video job.
            frames: ``(frame index, that frame's payloads)`` pairs.

        Returns:
            Frames applied and frames dropped as duplicates.

        Raises:
            JobError: No such job (404), or it is not running: it ended, is ending, or the
                server has already let it go (409 ``JOB_ENDED``).
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            record = self.get(job_id)
            if record is None:
                raise JobError(ErrorCode.NOT_FOUND, f"no job {job_id!r}", 404)
            raise JobError(ErrorCode.JOB_ENDED, f"job {job_id} is {record.status}", 409)
        payloads: list[Any] = []
        applied = duplicates = 0
        with job.apply_lock:
            with job.lock:
                if job.finishing or job.record.status != "running":
                    status = "ending" if job.record.status == "running" else job.record.status
                    raise JobError(ErrorCode.JOB_ENDED, f"job {job_id} is {status}", 409)
                for index, events in frames:
                    if index in job.frames_seen:
                        duplicates += 1
                        continue
                    job.frames_seen.add(index)
                    payloads.extend(events)
                    applied += 1
                done = job.record.frames_done + applied
                job.record = msgspec.structs.replace(job.record, frames_done=done)
                total = job.record.frames_total
            percent = min(99, done * 100 // total) if total else 0
            if percent > job.chunk_percent:
                job.chunk_percent = percent
                stage = f"Frame {done}/{total}"
                payloads.append(ProgressPayload(job_id=job_id, progress=percent, stage=stage))
            # Emitted holding the job's apply lock: another chunk's frames wait, so progress
            # goes out in the order it was counted.
            job.channel.emit(payloads)
        return applied, duplicates

    def _executor_for(self, options: dict[str, Any]) -> Executor:
        name = options.get("executor")
        if name is None:
            return self.executor
        executor = self.executors.get(name) if isinstance(name, str) else None
        if executor is None:
            known = ", ".join(sorted(self.executors))
            hint = " (start the server with --executor dask)" if name == "dask" else ""
            raise JobError(
                ErrorCode.MSG_INVALID,
                f"executor {name!r} is not available on this server{hint}; it has: {known}",
            )
        return executor

    def cancel_requested(self, job_id: str) -> bool:
        """True once a user asked to cancel the live job ``job_id``."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job is not None and job.cancel.is_set()

    # --- running ---------------------------------------------------------------------------

    def _start(self, job: _Job, start_frame: int = 0) -> None:
        with self._lock:
            if not self._shutting_down:
                self._waiting.append((job, start_frame))
                self._wakeup.notify()
                return
        # Submitted while the server stopped (after submit's own check): it never runs.
        job.cancel.set()
        self._finish(job, "interrupted", None, "the server stopped before the job ran")

    def _serve_queue(self) -> None:
        """A supervising thread: run waiting jobs one after another, for the server's life."""
        while True:
            with self._lock:
                while not self._waiting:
                    if self._shutting_down:
                        return
                    self._wakeup.wait()
                job, start_frame = self._waiting.popleft()
                self._busy += 1
            try:
                self._run(job, start_frame)
            except BaseException as exc:  # _run handles the job's own faults: a bug of ours
                log.exception("supervising job %s failed", job.record.job_id)
                self._end_orphan(job, exc)
            finally:
                with self._lock:
                    self._busy -= 1
                    self._wakeup.notify_all()

    def _end_orphan(self, job: _Job, exc: BaseException) -> None:
        """End a job whose supervision failed, so no job stays ``running`` with no one
        running it; best effort, as whatever failed may fail again."""
        if job.ended:
            return
        text = f"the server failed while running the job: {type(exc).__name__}: {exc}"
        try:
            record = self._update(job, status="failed", finished_at=now_iso(), error=text)
            job.channel.emit(
                [
                    ErrorPayload(
                        error=text,
                        details=ErrorDetails(error_code=ErrorCode.INTERNAL, message=text),
                    ),
                    JobPayload(
                        job_id=record.job_id,
                        status="failed",
                        frames_total=record.frames_total,
                        frames_done=record.frames_done,
                        error=text,
                    ),
                ]
            )
        except Exception:
            log.exception("could not end job %s", job.record.job_id)
        with job.lock:
            job.record = msgspec.structs.replace(job.record, status="failed", error=text)
        job.ended = True

    def _evict_ended(self) -> None:
        """Forget ended jobs whose final record the store has committed (reads then come from
        the store); a job whose record still waits to be written stays until it is."""
        if not self.store.flush(5.0):
            return
        with self._lock:
            for job_id, job in list(self._jobs.items()):
                if job.ended and not self.store.is_unsaved(job_id):
                    del self._jobs[job_id]

    def _adopt(self, record: JobRecord, announce: bool) -> _Job:
        """Take over a job a previous server left ``interrupted``; with ``announce``, tell
        subscribers (and the event log) that it was interrupted."""
        job_id = record.job_id
        with self._lock:
            known = self._jobs.get(job_id)
        if known is not None:
            return known
        channel = JobChannel(
            job_id, self.store, self._deliver, lambda p: self._observe(job_id, p), record.last_seq
        )
        job = _Job(record, list(record.plugins), channel)
        with self._lock:
            self._jobs[job_id] = job
        if announce:
            channel.emit(
                [
                    JobPayload(
                        job_id=job_id,
                        status="interrupted",
                        frames_total=record.frames_total,
                        frames_done=record.frames_done,
                        error="the server stopped while the job ran",
                    )
                ]
            )
            self._update(job)
        return job

    def _observe(self, job_id: str, payload: Any) -> None:
        if isinstance(payload, ProgressPayload):
            with self._lock:
                job = self._jobs.get(job_id)
            if job is not None:
                with job.lock:
                    job.record = msgspec.structs.replace(job.record, progress=payload.progress)

    def _update(self, job: _Job, **changes: Any) -> JobRecord:
        with job.lock:
            job.record = msgspec.structs.replace(job.record, **changes)
            record = msgspec.structs.replace(job.record, last_seq=job.channel.seq)
        self.store.save_job(record)
        return record

    def _run(self, job: _Job, start_frame: int = 0) -> None:
        if job.cancel.is_set():
            self._finish(job, "interrupted" if self._shutting_down else "cancelled", None, None)
            return
        self._update(
            job, status="running", started_at=job.record.started_at or now_iso(), error=None
        )
        job.channel.emit([JobPayload(job_id=job.record.job_id, status="running")])
        outcome = JobOutcome(None, None)
        try:
            outcome = self._execute(job, start_frame)
        except BaseException as exc:  # never leave a job running with no one running it
            log.exception("job %s failed", job.record.job_id)
            text = f"{type(exc).__name__}: {exc}"
            job.channel.emit(
                [
                    ErrorPayload(
                        error=f"job failed: {text}",
                        details=ErrorDetails(error_code=ErrorCode.INTERNAL, message=text),
                    )
                ]
            )
            outcome = JobOutcome(None, text)
        summary, error = outcome.summary, outcome.error
        if summary is None:
            status = "failed"
        elif summary.cancelled:
            # A server that shuts down interrupts its jobs; only a user cancels them.
            status = "interrupted" if self._shutting_down else "cancelled"
            if status == "interrupted":
                error = "the server stopped while the job ran"
        elif summary.failed_plugins:
            status = "failed"
            error = f"plugins failed: {', '.join(summary.failed_plugins)}"
        else:
            status = "completed"
        self._finish(job, status, summary, error)

    def _execute(self, job: _Job, start_frame: int) -> JobOutcome:
        record = job.record
        job_id = record.job_id
        output_path = None
        earlier: Generator[FrameResults] | None = None
        if record.options.get("annotate_video"):
            output_path = self.data_dir / "outputs" / f"{job_id}.mp4"
            output_path.parent.mkdir(parents=True, exist_ok=True)
            self._update(job, output_path=str(output_path))
            if start_frame:
                # The video is written afresh: the frames done before the job was
                # interrupted are drawn again from their stored results.
                earlier = self.store.frame_results(job_id, start_frame)
        spec = JobSpec(
            job_id=job_id,
            source=record.source,
            allowed_roots=self.allowed_roots,
            plugin_names=list(job.plugin_names),
            preview_interval_s=float(record.options.get("preview_interval_s", 0.1)),
            start_frame=start_frame,
            resumed_totals=self.store.plugin_totals(job_id) if start_frame else {},
            output_path=output_path,
            frame_timeout_s=float(record.options.get("frame_timeout_s", self.frame_timeout_s)),
            plugin_options=dict(record.options.get("plugin_options") or {}),
        )
        try:
            executor = self._executor_for(record.options)
            events = _ManagerEvents(self, job, executor)
            return executor.run(spec, events, job.cancel, earlier or ())
        finally:
            if earlier is not None:
                earlier.close()  # releases its database connection

    def _finish(
        self, job: _Job, status: str, summary: RunSummary | None, error: str | None
    ) -> JobRecord:
        with job.lock:
            if job.finishing:  # a producer's end, a sweep and a shutdown may race to end it
                return msgspec.structs.replace(job.record, last_seq=job.channel.seq)
            job.finishing = True
        # Nothing may follow the job's last message. apply_frames checks ``finishing`` and
        # emits holding the apply lock: once we have held it, the frames that passed the check
        # are out, and every later batch is refused.
        with job.apply_lock:
            pass
        # Frames applied from chunk tasks count too (a cancelled Dask job's summary has none).
        frames = max(summary.frames if summary is not None else 0, job.record.frames_done)
        # Every result must be committed before anyone hears that the job ended, over the
        # WebSocket or by polling GET /v1/jobs/{id}.
        if not self.store.flush():
            log.error("store did not flush results of %s in time", job.record.job_id)
        lost = self.store.write_failure(job.record.job_id)
        if lost is not None and status == "completed":
            # Results a client cannot fetch again are lost work: say so, never silently.
            status, error = "failed", f"some results could not be stored: {lost}"
            job.channel.emit(
                [
                    ErrorPayload(
                        error=error,
                        details=ErrorDetails(error_code=ErrorCode.INTERNAL, message=lost),
                    )
                ]
            )
        record = self._update(
            job, status=status, finished_at=now_iso(), error=error, frames_done=frames
        )
        job.channel.emit(
            [
                JobPayload(
                    job_id=record.job_id,
                    status=record.status,
                    # Frame counts describe a video's frames; an experiment has none.
                    frames_total=record.frames_total if record.kind == "video" else None,
                    frames_done=record.frames_done if record.kind == "video" else None,
                    error=error,
                )
            ],
            durable=True,
        )
        record = self._update(job)
        job.ended = True
        self._evict_ended()
        return record
