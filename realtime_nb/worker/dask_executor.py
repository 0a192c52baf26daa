"""The Dask executor: a job's frames split into chunks that run on a Dask cluster's workers.

The server keeps one supervising thread per job, as with the other executors; it plans the
chunks (:mod:`realtime_nb.core.chunks`, from the plugins' declared ``history_frames``),
submits one Dask task per chunk and watches them. Each task (:func:`run_chunk`, on a worker)
opens the source, processes its frames with the job's plugins and posts the results to the
server's ``POST /v1/jobs/{id}/frames`` with the job's producer token: a chunk task is one more
producer, and the server stays the only authority for ``seq``, the store and progress.

- Frames reach subscribers while chunks run: a task posts what it has every
  :data:`FLUSH_INTERVAL_S` (and when :data:`FLUSH_BYTES` of results wait).
- A worker that dies mid-chunk: Dask runs the chunk again on another worker; the server drops
  the frames the first attempt had already posted (it applies each frame of a job once).
- A task that raises (the source cannot be read there, the server cannot be reached, a plugin
  is not installed on the worker) is retried ``retries`` times, then fails the job with its
  error.
- The scheduler gone for longer than ``scheduler_grace_s``: the job fails, saying so; the
  server goes on serving (the next Dask job tries to connect again).

``distributed`` is an optional dependency: ``pip install 'realtime-nb[dask]'``.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import queue
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import msgspec
import numpy as np

from realtime_nb.core.chunks import Chunk, pipeline_history, plan
from realtime_nb.core.frame import Frame
from realtime_nb.core.protocol import (
    MAX_FRAMES_PER_BATCH,
    ErrorCode,
    ErrorPayload,
    FramePayload,
    IngestFramesAck,
    MetadataPayload,
    PluginStatusPayload,
    PreviewHeader,
    ProducedError,
    ProducedFrame,
    ProducedFrameEvents,
    ProducedWarning,
    ProgressPayload,
    WarningPayload,
    encode,
    encode_preview,
)
from realtime_nb.vision.plugins.base import Plugin
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.vision.video import FileSource, FrameSource, SyntheticSource, open_source
from realtime_nb.vision.video_writer import encode_jpeg
from realtime_nb.worker.executors import JobEvents, JobOutcome, JobSpec, _failed
from realtime_nb.worker.runner import FrameResults, RunSummary, ToolRunner

__all__ = [
    "FLUSH_BYTES",
    "FLUSH_INTERVAL_S",
    "INSTALL_HINT",
    "ChunkResult",
    "ChunkTask",
    "DaskExecutor",
    "DaskUnavailableError",
    "require_distributed",
    "run_chunk",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'realtime-nb[dask]'"
FLUSH_INTERVAL_S = 0.1
"""Longest a chunk task holds processed frames before posting them (keeps messages live)."""
FLUSH_BYTES = 256 << 10
"""Results a chunk task posts at once at most (the server takes bodies up to 1 MiB)."""
POST_ATTEMPTS = 4
"""Tries of one post before a chunk task gives up (and Dask retries the chunk)."""
SEND_QUEUE = 4
"""Batches of a chunk waiting to be posted at most."""


class DaskUnavailableError(RuntimeError):
    """``distributed`` is not installed, or the cluster cannot be reached."""


def require_distributed() -> Any:
    """The ``distributed`` module.

    Raises:
        DaskUnavailableError: It is not installed (the message says how to install it).
    """
    try:
        import distributed
    except ImportError:
        raise DaskUnavailableError(
            f"the dask executor needs the 'distributed' package: {INSTALL_HINT}"
        ) from None
    return distributed


# --- on a worker: one chunk ---------------------------------------------------------------


@dataclass(frozen=True)
class ChunkTask:
    """Everything a worker needs to run one chunk (pickled to it by Dask).

    ``plugin_classes`` travel by reference (workers import them: they must be installed
    there), except classes defined in a notebook or script, which Dask's cloudpickle sends by
    value.
    """

    job_id: str
    source: str
    allowed_roots: list[Path]
    plugin_classes: list[type[Plugin]]
    chunk: Chunk
    server_url: str
    token: str
    preview_interval_s: float | None = None
    """Least time between this chunk's previews; None: no previews."""
    plugin_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Each plugin's options in this job, by plugin name."""


@dataclass
class ChunkResult:
    """What one chunk reported, per plugin over its own frames (warm-up excluded)."""

    chunk: int
    frames: int = 0
    last_index: int = -1
    plugin_ms: dict[str, float] = field(default_factory=dict)
    processed: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    failed_plugins: list[str] = field(default_factory=list)
    setup_errors: list[str] = field(default_factory=list)
    stopped: bool = False
    """The server said the job ended (cancelled): the chunk stopped early."""


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run one chunk on a worker: process its frames (warm-up first) and post each reported
    frame's results to the server.

    Raises:
        SourceError: The source cannot be opened on this worker.
        ConnectionError: The server's frames endpoint cannot be reached.
        RuntimeError: The server refused the frames (a wrong token, a bad message).
    """
    chunk = task.chunk
    result = ChunkResult(chunk.index)
    sender = _FrameSender(task.server_url, task.job_id, task.token, chunk.index)
    try:
        plugins = [cls.create(task.plugin_options.get(cls.name)) for cls in task.plugin_classes]
        with open_source(task.source, task.allowed_roots) as source:
            collector = _Collector(chunk, sender, result)
            interval = task.preview_interval_s
            runner = ToolRunner(
                plugins=plugins,
                info=source.info,
                emit=collector.emit,
                job_id=task.job_id,
                preview=collector.preview if interval is not None else None,
                cancel=sender.stopped,
                preview_interval_s=interval or 0.0,
                start_frame=chunk.warmup_start,
            )
            summary = runner.execute(collector.frames(source))
    except BaseException:
        sender.stopped.set()  # what is left is not sent: this attempt failed
        with contextlib.suppress(Exception):
            sender.close()
        raise
    sender.close()
    result.failed_plugins = summary.failed_plugins
    result.stopped = sender.stopped.is_set()
    return result


_SKIPPED: Frame = np.zeros((0, 0, 3), np.uint8)
"""Stands for a frame before the warm-up: the runner skips it unread (no decoding)."""


class _Collector:
    """Turns the runner's per-frame batches into frame events for the server, dropping the
    warm-up frames' results and the run's own start and end messages (the server sends
    those once per job)."""

    def __init__(self, chunk: Chunk, sender: _FrameSender, result: ChunkResult) -> None:
        self.chunk = chunk
        self.sender = sender
        self.result = result
        self.current: int | None = None

    def frames(self, source: FrameSource) -> Iterator[Frame]:
        """Placeholders up to the warm-up, then the chunk's frames; tracks which frame the
        runner is on (it emits a frame's batch before asking for the next one)."""
        for _ in range(self.chunk.warmup_start):
            yield _SKIPPED
        for index, frame in _read(source, self.chunk.warmup_start, self.chunk.stop):
            self.current = index
            yield frame
        self.current = None

    def preview(self, header: PreviewHeader, frame: Frame) -> None:
        """Send a preview of one of the chunk's own frames (not of a warm-up frame)."""
        if header.frame_index is not None and header.frame_index >= self.chunk.start:
            jpeg = encode_jpeg(frame, quality=75, max_width=640)
            self.sender.add_preview(encode_preview(header, jpeg))

    def emit(self, batch: list[Any]) -> None:
        index = self.current
        if index is None:  # the run's start or end
            for payload in batch:
                if isinstance(payload, ErrorPayload) and payload.frame_id is None:
                    self.result.setup_errors.append(payload.error)
            return
        if index < self.chunk.start:
            return  # warm-up: the chunk before reports this frame
        result = self.result
        events: list[ProducedFrame | ProducedWarning | ProducedError] = []
        for payload in batch:
            if isinstance(payload, FramePayload):
                name = payload.plugin
                result.processed[name] = result.processed.get(name, 0) + 1
                result.plugin_ms[name] = result.plugin_ms.get(name, 0.0) + payload.timing_ms
                events.append(ProducedFrame(payload=payload))
            elif isinstance(payload, WarningPayload):
                result.warnings[payload.plugin] = result.warnings.get(payload.plugin, 0) + 1
                events.append(ProducedWarning(payload=payload))
            elif isinstance(payload, ErrorPayload):
                events.append(ProducedError(payload=payload))
        result.frames += 1
        result.last_index = index
        self.sender.add(ProducedFrameEvents(index=index, events=events))


def _read(source: FrameSource, start: int, stop: int | None) -> Iterator[tuple[int, Frame]]:
    """Frames ``start`` to ``stop - 1`` of a source with their indices, read exactly: a
    synthetic clip renders only those; a file is decoded from its start (seeking is
    frame-inexact for many codecs), skipping the earlier frames without converting them."""
    if isinstance(source, SyntheticSource):
        end = len(source.match) if stop is None else min(stop, len(source.match))
        for index in range(start, end):
            yield index, source.match.frame(index)
        return
    if isinstance(source, FileSource) and start > 0:
        yield from _read_file(source.path, start, stop)
        return
    for index, frame in enumerate(source):
        if stop is not None and index >= stop:
            return
        if index >= start:
            yield index, frame


def _read_file(path: Path, start: int, stop: int | None) -> Iterator[tuple[int, Frame]]:
    capture = cv2.VideoCapture(str(path))
    try:
        for _ in range(start):
            if not capture.grab():
                return
        index = start
        while stop is None or index < stop:
            ok, image = capture.read()
            if not ok or image is None:
                return
            if image.ndim == 2:
                image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
            elif image.shape[2] == 4:
                image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
            yield index, np.ascontiguousarray(image, dtype=np.uint8)  # no copy: it is uint8
            index += 1
    finally:
        capture.release()


class _FrameSender:
    """Posts a chunk's frames to the server, a batch at a time, on one kept-alive connection,
    from a thread of its own: the plugins go on with the next frames while a batch travels
    (at most :data:`SEND_QUEUE` batches wait; then the plugins wait).

    ``stopped`` is set once the server answers that the job ended (409), or posting failed:
    the chunk stops; :meth:`close` raises the failure.
    """

    def __init__(self, server_url: str, job_id: str, token: str, chunk: int) -> None:
        parts = urlsplit(server_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the server URL must be http(s)://host:port, got {server_url!r}")
        self.url = server_url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.path = f"{parts.path.rstrip('/')}/v1/jobs/{job_id}/frames"
        self.preview_path = f"{parts.path.rstrip('/')}/v1/jobs/{job_id}/preview"
        self.token = token
        self.chunk = chunk
        self.stopped = threading.Event()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._last_flush = time.monotonic()
        self._conn: http.client.HTTPConnection | None = None
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(SEND_QUEUE)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._send_all, name=f"realtime-nb-chunk-{chunk}-sender", daemon=True
        )
        self._thread.start()

    def add(self, frame: ProducedFrameEvents) -> None:
        """Queue one frame's events (encoded once, here); hand the batch to the sending
        thread when it is due."""
        data = encode(frame)
        self._pending.append(data)
        self._pending_bytes += len(data)
        due = time.monotonic() - self._last_flush >= FLUSH_INTERVAL_S
        if due or self._pending_bytes >= FLUSH_BYTES or len(self._pending) >= MAX_FRAMES_PER_BATCH:
            self._hand_over()

    def _hand_over(self) -> None:
        frames, self._pending, self._pending_bytes = self._pending, [], 0
        self._last_flush = time.monotonic()
        if frames and not self.stopped.is_set():
            # An IngestFrames message, assembled from the frames' own encodings.
            body = b'{"type":"frames","chunk":%d,"frames":[%s]}' % (
                self.chunk,
                b",".join(frames),
            )
            self._queue.put((self.path, body))

    def add_preview(self, data: bytes) -> None:
        """Queue an encoded preview; dropped if batches are waiting (previews are the first
        thing to give up, as on a client's queue)."""
        if not self.stopped.is_set():
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait((self.preview_path, data))

    def close(self) -> None:
        """Send what is left and wait until the server has it.

        Raises:
            ConnectionError: The server could not be reached.
            RuntimeError: The server refused a batch.
        """
        self._hand_over()
        self._queue.put(None)
        self._thread.join()
        if self._conn is not None:
            self._conn.close()
        if self._error is not None:
            raise self._error

    def _send_all(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.stopped.is_set():
                continue  # the job ended or a post failed: drain without sending
            try:
                self._send(*item)
            except BaseException as exc:
                self._error = exc
                self.stopped.set()

    def _send(self, path: str, body: bytes) -> None:
        status, data = self._post(path, body)
        if status == 409:
            self.stopped.set()
            return
        if path == self.preview_path:
            if status >= 300:
                log.warning("preview refused (HTTP %d): %s", status, data[:200])
            return
        if status != 200:
            raise RuntimeError(
                f"the server at {self.url} refused chunk {self.chunk}'s frames "
                f"(HTTP {status}): {data.decode(errors='replace')[:500]}"
            )
        msgspec.json.decode(data, type=IngestFramesAck)

    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        headers = {"Authorization": f"token {self.token}", "Content-Type": "application/json"}
        error: Exception | None = None
        for attempt in range(POST_ATTEMPTS):
            try:
                if self._conn is None:
                    cls = (
                        http.client.HTTPSConnection
                        if self.scheme == "https"
                        else http.client.HTTPConnection
                    )
                    self._conn = cls(self.host, self.port, timeout=60)
                self._conn.request("POST", path, body, headers)
                response = self._conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException) as exc:
                error = exc
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                time.sleep(0.25 * 2**attempt)
        raise ConnectionError(
            f"a Dask worker could not reach the realtime_nb server at {self.url} "
            f"(workers need network access to it): {error}"
        )


# --- on the server: the executor ----------------------------------------------------------


class DaskExecutor:
    """Runs each job as chunks on a Dask cluster; see the module docstring.

    Args:
        registry: Plugins (their classes are sent to the workers).
        scheduler_address: Attach to this running scheduler (``tcp://host:8786``); or
        n_workers: start a ``LocalCluster`` of this many worker processes (one thread each).
        chunk_frames: Frames per chunk; default: about two chunks per worker.
        retries: Times a chunk that raised is run again before the job fails.
        scheduler_grace_s: How long a job waits for a lost scheduler to come back.
        connect_timeout_s: How long connecting to the scheduler may take.

    The server sets :attr:`server_url` (where workers post frames) and :attr:`issue_token`
    (a job's producer token) before the first job runs.
    """

    name = "dask"

    def __init__(
        self,
        registry: PluginRegistry,
        scheduler_address: str | None = None,
        n_workers: int | None = None,
        chunk_frames: int | None = None,
        retries: int = 2,
        scheduler_grace_s: float = 10.0,
        connect_timeout_s: float = 30.0,
    ) -> None:
        require_distributed()
        if (scheduler_address is None) == (n_workers is None):
            raise ValueError("give either a scheduler address or a number of local workers")
        if n_workers is not None and n_workers < 1:
            raise ValueError(f"the number of Dask workers must be >= 1, got {n_workers}")
        self.registry = registry
        self.scheduler_address = scheduler_address
        self.n_workers = n_workers
        self.chunk_frames = chunk_frames
        self.retries = retries
        self.scheduler_grace_s = scheduler_grace_s
        self.connect_timeout_s = connect_timeout_s
        self.server_url: str | None = None
        self.issue_token: Callable[[str], str] | None = None
        self._cluster: Any = None
        self._client: Any = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def where(self) -> str:
        """The cluster, for messages: its scheduler address or the local cluster's size."""
        if self.scheduler_address is not None:
            return f"the Dask scheduler at {self.scheduler_address}"
        return f"a local Dask cluster of {self.n_workers} worker(s)"

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's URL, once connected (None without bokeh or before)."""
        client = self._client
        if client is None:
            return None
        with contextlib.suppress(Exception):
            link = client.dashboard_link
            return str(link) if link else None
        return None

    def connect(self) -> Any:
        """The connected Dask client, connecting (or starting the local cluster) if needed.
        Call from any thread but the server's event loop.

        Raises:
            DaskUnavailableError: The cluster cannot be reached or started.
        """
        distributed = require_distributed()
        with self._lock:
            if self._closed:
                raise DaskUnavailableError("the dask executor is closed")
            client = self._client
            if client is not None and client.status == "running":
                return client
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close(timeout=2)
                self._client = None
            try:
                if self.scheduler_address is not None:
                    client = distributed.Client(
                        self.scheduler_address,
                        timeout=self.connect_timeout_s,
                        set_as_default=False,
                    )
                else:
                    if self._cluster is None:
                        self._cluster = distributed.LocalCluster(
                            n_workers=self.n_workers,
                            threads_per_worker=1,
                            processes=True,
                            host="127.0.0.1",
                            dashboard_address="127.0.0.1:0",
                        )
                    client = distributed.Client(self._cluster, set_as_default=False)
            except Exception as exc:
                raise DaskUnavailableError(f"could not reach {self.where}: {exc}") from exc
            self._client = client
            log.info("dask executor: %s, dashboard %s", self.where, self.dashboard_link)
            return client

    def close(self) -> None:
        """Disconnect and stop the local cluster, if this executor started one."""
        with self._lock:
            self._closed = True
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        with contextlib.suppress(Exception):
            if client is not None:
                client.close(timeout=5)
        with contextlib.suppress(Exception):
            if cluster is not None:
                cluster.close(timeout=10)

    def run(
        self,
        spec: JobSpec,
        events: JobEvents,
        cancel: threading.Event,
        earlier: Iterable[FrameResults] = (),
    ) -> JobOutcome:
        """Run the job's chunks on the cluster and watch them until they end; never raises
        for what the plugins or the cluster do."""
        try:
            return self._run(spec, events, cancel)
        except DaskUnavailableError as exc:
            return _failed(events, ErrorCode.INTERNAL, f"dask executor: {exc}", None)
        except Exception as exc:
            text = f"dask executor: {type(exc).__name__}: {exc}"
            return _failed(events, ErrorCode.INTERNAL, text, exc)

    def _run(self, spec: JobSpec, events: JobEvents, cancel: threading.Event) -> JobOutcome:
        if self.server_url is None or self.issue_token is None:
            raise DaskUnavailableError("the server has not told the executor its URL yet")
        client = self.connect()
        classes = [self.registry.get(name) for name in spec.plugin_names]
        with open_source(spec.source, spec.allowed_roots) as source:
            info = source.info
        events.started(info)
        self._emit_start(spec, events)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        history = pipeline_history(cls.history_frames for cls in classes)
        chunks = plan(info.frame_count, workers, history, spec.start_frame, self.chunk_frames)
        token = self.issue_token(spec.job_id)
        run_key = secrets.token_hex(4)
        futures = [
            client.submit(
                run_chunk,
                ChunkTask(
                    spec.job_id,
                    spec.source,
                    list(spec.allowed_roots),
                    classes,
                    chunk,
                    self.server_url,
                    token,
                    spec.preview_interval_s * min(len(chunks), workers),
                    spec.plugin_options,
                ),
                key=f"realtime-nb-{spec.job_id}-{run_key}-chunk-{chunk.index}",
                retries=self.retries,
                pure=False,
            )
            for chunk in chunks
        ]
        log.info(
            "job %s: %d chunk(s) on %s (plugin history %s)",
            spec.job_id,
            len(chunks),
            self.where,
            history,
        )
        try:
            results = self._watch(client, futures, chunks, cancel, events)
        finally:
            with contextlib.suppress(Exception):
                client.cancel([f for f in futures if f.status == "pending"])
        if isinstance(results, JobOutcome):
            return results
        return JobOutcome(self._emit_end(spec, events, results))

    def _watch(
        self,
        client: Any,
        futures: list[Any],
        chunks: list[Chunk],
        cancel: threading.Event,
        events: JobEvents,
    ) -> list[ChunkResult] | JobOutcome:
        lost_since: float | None = None
        while True:
            if cancel.is_set():
                client.cancel(futures)
                return JobOutcome(RunSummary(cancelled=True))
            statuses = [f.status for f in futures]
            if all(s == "finished" for s in statuses):
                return [f.result() for f in futures]
            for future, chunk, status in zip(futures, chunks, statuses, strict=True):
                if status == "error":
                    return self._chunk_failed(future, chunk, events)
            if client.status != "running" or any(s in ("lost", "cancelled") for s in statuses):
                lost_since = lost_since if lost_since is not None else time.monotonic()
                if (
                    client.status == "closed"
                    or time.monotonic() - lost_since > self.scheduler_grace_s
                ):
                    text = (
                        f"lost {self.where} (client {client.status}, chunks "
                        f"{', '.join(sorted(set(statuses)))}); the job cannot finish on Dask"
                    )
                    return _failed(events, ErrorCode.INTERNAL, text, None)
            else:
                lost_since = None
            time.sleep(0.05)

    def _chunk_failed(self, future: Any, chunk: Chunk, events: JobEvents) -> JobOutcome:
        exc = future.exception(timeout=5)
        tb = future.traceback(timeout=5)
        details = "".join(traceback.format_exception(type(exc), exc, tb)) if tb else None
        frames = f"frames {chunk.start}-{(chunk.stop or 0) - 1}" if chunk.stop else "frames"
        text = f"chunk {chunk.index} ({frames}) failed on Dask: {type(exc).__name__}: {exc}"
        if isinstance(exc, ImportError | AttributeError) or "deserializ" in str(exc):
            text += " (the scheduler and workers need realtime_nb and the job's plugins installed)"
        return _failed(events, ErrorCode.INTERNAL, text, None, details)

    def _emit_start(self, spec: JobSpec, events: JobEvents) -> None:
        batch: list[Any] = []
        if spec.start_frame == 0:
            batch.append(ProgressPayload(job_id=spec.job_id, progress=0, stage="Starting"))
            for name in spec.plugin_names:
                metadata = self.registry.get(name).metadata
                batch.append(MetadataPayload(plugin=name, metadata=metadata))
                batch.append(PluginStatusPayload(plugin=name, status="started"))
        if spec.output_path is not None:
            batch.append(
                WarningPayload(
                    plugin=spec.plugin_names[0] if spec.plugin_names else "job",
                    message="annotate_video is not supported by the dask executor: no video",
                    severity="medium",
                )
            )
        events.emit(batch)

    def _emit_end(self, spec: JobSpec, events: JobEvents, results: list[ChunkResult]) -> RunSummary:
        summary = RunSummary()
        summary.frames = max([spec.start_frame] + [r.last_index + 1 for r in results])
        summary.cancelled = any(r.stopped for r in results)
        failed = sorted({name for r in results for name in r.failed_plugins})
        summary.failed_plugins = [n for n in spec.plugin_names if n in failed]
        batch: list[Any] = []
        for error in dict.fromkeys(e for r in results for e in r.setup_errors):
            batch.append(ErrorPayload(error=error))
        for name in spec.plugin_names:
            frames, ms, warnings = spec.resumed_totals.get(name, (0, 0.0, 0))
            frames += sum(r.processed.get(name, 0) for r in results)
            ms += sum(r.plugin_ms.get(name, 0.0) for r in results)
            warnings += sum(r.warnings.get(name, 0) for r in results)
            summary.plugin_ms[name] = ms
            summary.warnings += warnings
            batch.append(
                PluginStatusPayload(
                    plugin=name,
                    status="failed" if name in failed else "completed",
                    timing_ms=round(ms, 3),
                    frames_processed=frames,
                    warnings_count=warnings,
                )
            )
        if not summary.cancelled:
            batch.append(ProgressPayload(job_id=spec.job_id, progress=100, stage="Completed"))
            events.emit(batch)
        return summary
