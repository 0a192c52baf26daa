"""The producer ingest channel: experiments created over REST, fed by outside producers.

A *producer* is any process that emits one job's payloads: here, a user's training loop (an
experiment) in a notebook, a script or another machine. It writes to its own job only, with the
producer token it got when the job was created. The server stays the only authority for the
job's ``seq``, replay log and store: a producer sends bare payloads in numbered batches, and
the server numbers, stores and publishes them like any job's messages.

- ``WS /v1/ingest?job_id=J`` (token ``Authorization: token P`` or ``?token=P``): the server
  sends :class:`~realtime_nb.core.protocol.IngestReady` first, then answers each
  :class:`~realtime_nb.core.protocol.IngestBatch` with an ``ack`` once the batch is committed
  to the store (or ``rejected``). A binary message is a preview (an image the run shows), as
  the server sends them to clients; it is published, never stored.
- ``POST /v1/jobs/{id}/events`` with one batch as its body: the plain-HTTP fallback, answered
  with the same ``ack`` (or an HTTP error).
- ``POST /v1/jobs/{id}/frames`` with one :class:`~realtime_nb.core.protocol.IngestFrames`:
  frames of a *video* job that chunk tasks process elsewhere (the Dask executor), each with
  the token :meth:`IngestService.issue_token` gave that job, answered with a ``frames_ack``
  once they are applied. Several tasks feed one job at once, so frames carry their index
  instead of a batch number: the server applies each frame of a job once and drops it when
  a retried chunk sends it again.

Each batch is applied once: a batch numbered at or below the last one applied is acknowledged
with ``applied: false`` and changes nothing, so a producer resends unacknowledged batches after
a reconnect without doubling anything. Any message counts as a heartbeat; a running experiment
that hears nothing from its producer for ``heartbeat_timeout_s`` ends ``interrupted`` (its
producer's next batch makes it ``running`` again).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import msgspec
import tornado.ioloop
import tornado.web
import tornado.websocket

from realtime_nb.core.delivery import Outgoing
from realtime_nb.core.protocol import (
    ErrorCode,
    ExperimentRequest,
    IngestAck,
    IngestBatch,
    IngestFrames,
    IngestFramesAck,
    IngestHeartbeat,
    IngestReady,
    IngestRejected,
    JobRecord,
    MetricPoint,
    Priority,
    ProducedEnd,
    ProducedMetric,
    ProducedProgress,
    ProtocolError,
    decode_ingest_frames,
    decode_preview,
    decode_producer_message,
    encode,
    is_terminal,
    now_iso,
)
from realtime_nb.server.jobs import JobError, JobManager
from realtime_nb.server.metrics import MetricStore

__all__ = [
    "DEFAULT_HEARTBEAT_TIMEOUT_S",
    "MAX_INGEST_MESSAGE_BYTES",
    "FramesHandler",
    "IngestHandler",
    "IngestService",
    "PreviewHandler",
]

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_TIMEOUT_S = 30.0
"""Silence after which a running experiment's producer is taken for dead."""
MAX_INGEST_MESSAGE_BYTES = 8 << 20
"""Largest producer message on the ingest socket (a batch, or an image)."""
MAX_POINTS_PER_BATCH = 200_000
"""Most metric points one batch may carry."""


@dataclass
class _JobLock:
    lock: threading.Lock = field(default_factory=threading.Lock)
    users: int = 0
    """Calls holding or waiting for ``lock``."""


class IngestService:
    """Creates experiments and applies their producers' batches. Thread-safe.

    Args:
        jobs: The job manager that numbers, stores and publishes the jobs' messages.
        metrics: Where metric points and producer tokens are stored.
        publish_preview: Hands a producer's image (a binary preview) to the hub; called on
            the event loop.
        heartbeat_timeout_s: Default silence before a running experiment ends ``interrupted``
            (an experiment's ``heartbeat_timeout_s`` option wins, from 1 s to an hour).
        clock: Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        jobs: JobManager,
        metrics: MetricStore,
        publish_preview: Callable[[str, Outgoing], None],
        heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jobs = jobs
        self.metrics = metrics
        self.publish_preview = publish_preview
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self._clock = clock
        self._seen: dict[str, float] = {}
        # The last batch applied, of running experiments only (a cache of the store's).
        self._last_batch: dict[str, int] = {}
        # One lock per job, held only while a call on that job runs or waits.
        self._job_locks: dict[str, _JobLock] = {}
        self._lock = threading.Lock()
        self._sweeper: tornado.ioloop.PeriodicCallback | None = None

    # --- creating and authorizing -------------------------------------------------------------

    def create(self, request: ExperimentRequest) -> tuple[JobRecord, str]:
        """Create a running experiment; return its record and its producer token (given out
        this once: the server keeps only its hash).

        Raises:
            JobError: The store could not commit it (500).
        """
        job_id = "j-" + secrets.token_hex(6)
        token = secrets.token_urlsafe(24)
        record = JobRecord(
            job_id=job_id,
            status="queued",
            created_at=now_iso(),
            source=f"experiment://{request.name}",
            plugins=[],
            options=request.options,
            kind="experiment",
            name=request.name,
            config=request.config,
            frames_total=request.total,
        )
        self.metrics.save_producer(job_id, token)
        # Committed before the token is given out: the producer may connect at once, and a
        # server that crashes right after still knows the token when it comes back.
        if not self.jobs.store.flush():
            raise JobError(ErrorCode.INTERNAL, "the store did not commit the experiment", 500)
        self.jobs.create_external(record)
        self.touch(job_id)
        return self.jobs.get(job_id) or record, token

    def authorize(self, job_id: str, token: str | None) -> bool:
        """True when ``token`` is the producer token of experiment ``job_id``."""
        return token is not None and self.metrics.producer_ok(job_id, token)

    def timeout_of(self, job_id: str) -> float:
        """The heartbeat timeout of a job, in seconds."""
        record = self.jobs.get(job_id)
        raw = record.options.get("heartbeat_timeout_s") if record is not None else None
        try:
            value = float(raw) if raw is not None else self.heartbeat_timeout_s
        except (TypeError, ValueError):
            value = self.heartbeat_timeout_s
        return min(3600.0, max(1.0, value))

    # --- producer messages ----------------------------------------------------------------

    def touch(self, job_id: str) -> None:
        """A sign of life from the job's producer."""
        with self._lock:
            self._seen[job_id] = self._clock()

    @contextlib.contextmanager
    def _job_lock(self, job_id: str) -> Iterator[None]:
        """Hold the job's lock: one batch, connect or sweep of a job at a time. Its entry
        goes once no call holds or waits for it, so many jobs over time leave none behind."""
        with self._lock:
            entry = self._job_locks.get(job_id)
            if entry is None:
                entry = self._job_locks[job_id] = _JobLock()
            entry.users += 1
        try:
            with entry.lock:
                yield
        finally:
            with self._lock:
                entry.users -= 1
                if entry.users == 0:
                    del self._job_locks[job_id]

    def _forget(self, job_id: str) -> None:
        """Drop what is kept in memory for a producer's job that ended (its last batch stays
        in the store, where a producer that sends it again is answered from)."""
        with self._lock:
            self._seen.pop(job_id, None)
            self._last_batch.pop(job_id, None)

    def _applied(self, job_id: str) -> int:
        with self._lock:
            known = self._last_batch.get(job_id)
        return known if known is not None else self.metrics.last_batch(job_id)

    def ready(self, job_id: str) -> IngestReady:
        """What a producer hears first on connecting: the job's status and last batch. A
        producer that connects is alive: an ``interrupted`` experiment is ``running`` again."""
        with self._job_lock(job_id):
            self.touch(job_id)
            record = self.jobs.get(job_id)
            if record is not None and record.status == "interrupted":
                record = self.jobs.resume_external(job_id)
        status = record.status if record is not None else "failed"
        return IngestReady(
            job_id=job_id,
            status=status,
            last_batch=self._applied(job_id),
            heartbeat_timeout_s=self.timeout_of(job_id),
        )

    def apply(self, job_id: str, batch: IngestBatch) -> IngestAck:
        """Apply one batch (blocking until it is committed): number, store and publish its
        events; an ``end`` event ends the job.

        Raises:
            JobError: The job ended (409 ``JOB_ENDED``), is unknown (404), or the batch is too
                big (413 ``MSG_TOO_LARGE``).
        """
        with self._job_lock(job_id):
            self.touch(job_id)
            record = self.jobs.get(job_id)
            if record is None or record.kind != "experiment":
                raise JobError(ErrorCode.NOT_FOUND, f"no experiment {job_id!r}", 404)
            if batch.batch <= self._applied(job_id):
                return IngestAck(
                    batch=batch.batch, applied=False, last_seq=record.last_seq, status=record.status
                )
            if is_terminal(record.status) and record.status != "interrupted":
                raise JobError(ErrorCode.JOB_ENDED, f"job {job_id} is {record.status}", 409)
            payloads, points, end = _split(job_id, batch)
            if len(points) > MAX_POINTS_PER_BATCH:
                raise JobError(
                    ErrorCode.MSG_TOO_LARGE,
                    f"{len(points)} metric points in one batch; at most {MAX_POINTS_PER_BATCH}",
                    413,
                )
            if record.status != "running":
                self.jobs.resume_external(job_id)
            self.jobs.emit_external(job_id, payloads)
            self.metrics.save_batch(job_id, batch.batch, points)
            if end is not None:
                self.jobs.finish_external(job_id, end.payload.status, end.payload.error)
                self._forget(job_id)
            elif not self.jobs.store.flush():
                raise JobError(ErrorCode.INTERNAL, "the store did not commit the batch", 500)
            else:
                with self._lock:
                    self._last_batch[job_id] = batch.batch
            after = self.jobs.get(job_id) or record
            return IngestAck(
                batch=batch.batch, applied=True, last_seq=after.last_seq, status=after.status
            )

    # --- chunk tasks of video jobs -------------------------------------------------------

    def issue_token(self, job_id: str) -> str:
        """A new producer token for the video job ``job_id``, committed before it is returned
        (chunk tasks present it on ``POST /v1/jobs/{id}/frames``).

        Raises:
            JobError: The store did not commit it (500).
        """
        token = secrets.token_urlsafe(24)
        self.metrics.save_producer(job_id, token)
        if not self.jobs.store.flush():
            raise JobError(ErrorCode.INTERNAL, "the store did not commit the producer token", 500)
        return token

    def apply_frames(self, job_id: str, message: IngestFrames) -> IngestFramesAck:
        """Apply a chunk task's frames, each frame of the job once: numbered, published and
        queued for the store (the job's end waits until every one is committed, so a task
        need not wait for the disk before it goes on).

        Raises:
            JobError: No such video job (404), or it is not running: ending, ended, or
                already let go of by the server (409 ``JOB_ENDED``).
        """
        record = self.jobs.get(job_id)
        if record is None or record.kind != "video":
            raise JobError(ErrorCode.NOT_FOUND, f"no video job {job_id!r}", 404)
        frames = [(f.index, [event.payload for event in f.events]) for f in message.frames]
        applied, duplicates = self.jobs.apply_frames(job_id, frames)
        after = self.jobs.get(job_id) or record
        return IngestFramesAck(
            applied=applied, duplicates=duplicates, last_seq=after.last_seq, status=after.status
        )

    # --- heartbeat ------------------------------------------------------------------------

    def sweep(self) -> list[str]:
        """End the running experiments whose producer went silent (``interrupted``) or that
        a user cancelled (``cancelled``); return their ids. Blocking (it flushes the store)."""
        now = self._clock()
        with self._lock:
            seen = list(self._seen.items())
        ended = []
        for job_id, last in seen:
            record = self.jobs.get(job_id)
            if record is None or record.status != "running":
                # Ended some other way (a shutdown), or heard from after it ended.
                with self._job_lock(job_id):
                    record = self.jobs.get(job_id)
                    if record is None or record.status != "running":
                        self._forget(job_id)
                continue
            if self.jobs.cancel_requested(job_id):
                status, error = "cancelled", None
            elif now - last > self.timeout_of(job_id):
                status = "interrupted"
                error = f"no word from the producer for {now - last:.0f} s"
            else:
                continue
            with self._job_lock(job_id):
                with self._lock:
                    if self._seen.get(job_id) != last:
                        continue  # the producer spoke up meanwhile
                self.jobs.finish_external(job_id, status, error)
                self._forget(job_id)
            ended.append(job_id)
        return ended

    def start(self, interval_s: float = 1.0) -> None:
        """Sweep every ``interval_s`` seconds on the running event loop (off the loop's thread)."""
        loop = asyncio.get_running_loop()
        busy = False

        async def run() -> None:
            nonlocal busy
            if busy:
                return
            busy = True
            try:
                await loop.run_in_executor(None, self.sweep)
            except Exception:
                log.exception("heartbeat sweep failed")
            finally:
                busy = False

        self._sweeper = tornado.ioloop.PeriodicCallback(run, interval_s * 1000)
        self._sweeper.start()

    def stop(self) -> None:
        """Stop sweeping."""
        if self._sweeper is not None:
            self._sweeper.stop()


def _split(
    job_id: str, batch: IngestBatch
) -> tuple[list[Any], list[MetricPoint], ProducedEnd | None]:
    """A batch's payloads in order (progress carries this job's id whatever was sent), its
    metric points, and its ``end`` event if any (the last one counts)."""
    payloads: list[Any] = []
    points: list[MetricPoint] = []
    end = None
    for event in batch.events:
        if isinstance(event, ProducedEnd):
            end = event
            continue
        payload: Any = event.payload
        if isinstance(event, ProducedProgress):
            payload = msgspec.structs.replace(payload, job_id=job_id)
        elif isinstance(event, ProducedMetric):
            if not payload.points:
                continue
            points.extend(payload.points)
        payloads.append(payload)
    return payloads, points, end


def producer_token_of(handler: tornado.web.RequestHandler) -> str | None:
    """The token a request carries: ``Authorization: token T`` (wins) or ``?token=T``."""
    header = handler.request.headers.get("Authorization", "")
    if header.lower().startswith("token "):
        return header[6:].strip()
    return handler.get_query_argument("token", None)


class IngestHandler(tornado.websocket.WebSocketHandler):
    """``WS /v1/ingest?job_id=J``: one producer feeding its own job."""

    def initialize(self, ingest: IngestService) -> None:
        self.ingest = ingest
        self.job_id = ""

    @property
    def max_message_size(self) -> int:
        """Producers send batches of thousands of points and images: 8 MiB."""
        return MAX_INGEST_MESSAGE_BYTES

    def check_origin(self, origin: str) -> bool:
        # A browser page may feed a job only from the server's own host (exact match).
        netloc = urlparse(origin).netloc.lower()
        return bool(netloc) and hmac.compare_digest(netloc, self.request.host.lower())

    async def get(self, *args: Any, **kwargs: Any) -> None:
        self.job_id = self.get_query_argument("job_id", "")
        token = producer_token_of(self)
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, self.ingest.authorize, self.job_id, token)
        if not ok:
            self.set_status(401)
            self.set_header("Content-Type", "application/json")
            self.finish(
                encode(
                    {
                        "error": {
                            "code": "UNAUTHORIZED",
                            "message": "missing or wrong producer token for this job",
                        }
                    }
                )
            )
            return
        await super().get(*args, **kwargs)

    async def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, self.ingest.ready, self.job_id)
        await self.write_message(encode(ready))

    async def on_message(self, message: str | bytes) -> None:
        self.ingest.touch(self.job_id)
        if isinstance(message, bytes):
            self._on_image(message)
            return
        try:
            msg = decode_producer_message(message)
        except ProtocolError as exc:
            self._send(IngestRejected(code=str(exc.code), message=str(exc)))
            return
        if isinstance(msg, IngestHeartbeat):
            return
        loop = asyncio.get_running_loop()
        try:
            ack = await loop.run_in_executor(None, self.ingest.apply, self.job_id, msg)
        except JobError as exc:
            self._send(IngestRejected(code=str(exc.code), message=str(exc), batch=msg.batch))
            return
        self._send(ack)

    def _on_image(self, data: bytes) -> None:
        try:
            header, _ = decode_preview(data)
        except ProtocolError as exc:
            self._send(IngestRejected(code=str(exc.code), message=f"bad image: {exc}"))
            return
        if header.job_id != self.job_id:
            self._send(
                IngestRejected(code=str(ErrorCode.MSG_INVALID), message="image of another job")
            )
            return
        self.ingest.publish_preview(
            self.job_id, Outgoing(data, Priority.PREVIEW, self.job_id, None, "preview")
        )

    def _send(self, msg: Any) -> None:
        try:
            self.write_message(encode(msg))
        except tornado.websocket.WebSocketClosedError:
            log.info("producer of %s left before its answer", self.job_id)


class _ChunkTaskPost(tornado.web.RequestHandler):
    """A chunk task's POST about a video job, allowed with that job's producer token."""

    def initialize(self, ingest: IngestService) -> None:
        self.ingest = ingest

    async def authorized(self, job_id: str) -> bool:
        """True when the request carries the job's producer token; else answered 401."""
        token = producer_token_of(self)
        loop = asyncio.get_running_loop()
        if await loop.run_in_executor(None, self.ingest.authorize, job_id, token):
            return True
        _fail(self, 401, ErrorCode.UNAUTHORIZED, "missing or wrong producer token for this job")
        return False


class FramesHandler(_ChunkTaskPost):
    """``POST /v1/jobs/{id}/frames``: a chunk task's frames of a video job (its producer
    token), answered with a ``frames_ack`` once committed, or an HTTP error."""

    async def post(self, job_id: str) -> None:
        if not await self.authorized(job_id):
            return
        loop = asyncio.get_running_loop()
        try:
            message = decode_ingest_frames(self.request.body or b"")
        except ProtocolError as exc:
            _fail(self, 400, exc.code, f"invalid frames: {exc}")
            return
        try:
            ack = await loop.run_in_executor(None, self.ingest.apply_frames, job_id, message)
        except JobError as exc:
            _fail(self, exc.status, exc.code, str(exc))
            return
        self.set_header("Content-Type", "application/json")
        self.finish(encode(ack))


class PreviewHandler(_ChunkTaskPost):
    """``POST /v1/jobs/{id}/preview``: a chunk task's binary preview of one of the job's frames
    (its producer token), published to the job's subscribers, never stored; 204."""

    async def post(self, job_id: str) -> None:
        if not await self.authorized(job_id):
            return
        data = self.request.body or b""
        try:
            header, _ = decode_preview(data)
        except ProtocolError as exc:
            _fail(self, 400, exc.code, f"bad preview: {exc}")
            return
        if header.job_id != job_id:
            _fail(self, 400, ErrorCode.MSG_INVALID, "a preview of another job")
            return
        record = self.ingest.jobs.get(job_id)
        if record is None or record.status != "running":
            _fail(self, 409, ErrorCode.JOB_ENDED, f"job {job_id} is not running")
            return
        self.ingest.publish_preview(
            job_id, Outgoing(data, Priority.PREVIEW, job_id, None, "preview")
        )
        self.set_status(204)
        self.finish()


def _fail(handler: tornado.web.RequestHandler, status: int, code: str, message: str) -> None:
    handler.set_status(status)
    handler.set_header("Content-Type", "application/json")
    handler.finish(encode({"error": {"code": str(code), "message": message}}))
