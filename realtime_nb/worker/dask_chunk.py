"""A chunk of a Dask job, on a Dask worker: open the source, run the job's plugins over the
chunk's frames and post the results to the server (``POST /v1/jobs/{id}/frames``, with the job's
producer token), as one more producer; the server stays the only authority for ``seq``, the
store and progress.

- Frames reach subscribers while chunks run: a task posts what it has every
  :data:`FLUSH_INTERVAL_S` (and when :data:`FLUSH_BYTES` of results wait).
- A post that fails is tried :data:`POST_ATTEMPTS` times, then the task raises and Dask runs
  the chunk again; the server drops the frames an earlier attempt had already posted.

The server's side (planning, submitting, watching) is :mod:`realtime_nb.worker.dask_executor`.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import cv2
import msgspec
import numpy as np

from realtime_nb.core.chunks import Chunk
from realtime_nb.core.frame import Frame
from realtime_nb.core.protocol import (
    MAX_FRAMES_PER_BATCH,
    ErrorPayload,
    FramePayload,
    IngestFramesAck,
    PreviewHeader,
    ProducedError,
    ProducedFrame,
    ProducedFrameEvents,
    ProducedWarning,
    WarningPayload,
    encode,
    encode_preview,
)
from realtime_nb.vision.plugins.base import Plugin
from realtime_nb.vision.video import (
    FileSource,
    FrameSource,
    SyntheticSource,
    as_bgr,
    open_source,
)
from realtime_nb.vision.video_writer import encode_jpeg
from realtime_nb.worker.runner import ToolRunner

__all__ = [
    "FLUSH_BYTES",
    "FLUSH_INTERVAL_S",
    "POST_ATTEMPTS",
    "ChunkResult",
    "ChunkTask",
    "run_chunk",
]

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.1
"""Longest a chunk task holds processed frames before posting them (keeps messages live)."""
FLUSH_BYTES = 256 << 10
"""Results a chunk task posts at once at most (the server takes bodies up to 1 MiB)."""
POST_ATTEMPTS = 4
"""Tries of one post before a chunk task gives up (and Dask retries the chunk)."""
SEND_QUEUE = 4
"""Batches of a chunk waiting to be posted at most."""


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
            yield index, np.ascontiguousarray(as_bgr(image), dtype=np.uint8)  # no copy: uint8
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
