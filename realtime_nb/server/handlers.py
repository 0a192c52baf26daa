"""The server's REST handlers: JSON errors, token auth, Origin and content-type checks, a bounded
body, and one handler per endpoint (the WebSocket's is in :mod:`realtime_nb.server.websocket`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hmac
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

import msgspec
import tornado.web

from realtime_nb import __version__
from realtime_nb.core.protocol import (
    PROTOCOL_VERSION,
    ErrorCode,
    ProtocolError,
    decode_experiment_request,
    decode_ingest_batch,
    encode,
    is_experiment_request,
    is_terminal,
    schema,
)
from realtime_nb.server.frames import FramePreviews, FrameUnavailable, render_annotated_video
from realtime_nb.server.hub import Hub
from realtime_nb.server.ingest import (
    IngestService,
    producer_token_of,
)
from realtime_nb.server.jobs import JobError, JobManager
from realtime_nb.server.limits import (
    Limits,
    RequestRejected,
    check_content_type,
    check_job_request,
    decode_job_body,
    parse_seq,
)
from realtime_nb.server.openapi import openapi_document
from realtime_nb.server.store import JobStore
from realtime_nb.vision.plugins.registry import PluginRegistry

__all__ = [
    "AppContext",
    "EventsHandler",
    "FrameHandler",
    "HealthHandler",
    "JobHandler",
    "JobsHandler",
    "MetricsHandler",
    "NotFoundHandler",
    "OpenAPIHandler",
    "PluginsHandler",
    "ResultsHandler",
    "RootHandler",
    "SchemaHandler",
    "VideoHandler",
    "origin_allowed",
    "token_ok",
]


@dataclass
class AppContext:
    """What every handler of one app shares: the token, the hub, the job manager and store,
    the plugin registry, limits, and the thread pools for blocking reads and submits."""

    token: str
    hub: Hub
    jobs: JobManager
    store: JobStore
    registry: PluginRegistry
    allowed_origins: list[str]
    ingest: IngestService
    frames: FramePreviews
    roots: list[Path]
    shutdown_timeout_s: float = 5.0
    limits: Limits = field(default_factory=Limits)
    started: float = field(default_factory=time.monotonic)
    video_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    openapi: dict[str, Any] = field(default_factory=openapi_document)
    io_pool: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(4, "realtime-nb-read")
    )
    """Threads for reads (SQLite, files), apart from submits, so slow submits never hold up
    a read."""
    submit_pool: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(4, "realtime-nb-submit")
    )


_DRAINED_BODY_FACTOR = 4
"""A body declared over the limit but at most this many times it is read (and dropped) before
the 413, so the client hears the answer; a larger one is answered at once and the connection
closed."""


@tornado.web.stream_request_body
class _Base(tornado.web.RequestHandler):
    """JSON errors, token auth, Origin and content-type checks, and a bounded body.

    The body is streamed in (``stream_request_body``) so that one too large is refused with
    413 and the JSON error shape, from its Content-Length (read and dropped first when it is
    at most a few times the limit), or as soon as a chunked body passes the limit, instead of
    Tornado's bare 400.
    """

    auth_required = True

    def initialize(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._chunks: list[bytes] = []
        self._received = 0
        self._draining = False

    def prepare(self) -> None:
        if self.auth_required and not token_ok(self, self.ctx.token):
            self.fail(401, ErrorCode.UNAUTHORIZED, "missing or wrong token")
        method = self.request.method or "GET"
        origin = self.request.headers.get("Origin")
        if (
            method not in ("GET", "HEAD", "OPTIONS")
            and origin is not None
            and not origin_allowed(origin, self.request.host, self.ctx.allowed_origins)
        ):
            self.fail(403, ErrorCode.FORBIDDEN_ORIGIN, f"origin {origin[:200]!r} is not allowed")
        try:
            if method == "POST":
                check_content_type(self.request.headers.get("Content-Type"))
        except RequestRejected as exc:
            self.fail(exc.status, exc.code, str(exc))
        limit = self.ctx.limits.max_body_bytes
        length = self.request.headers.get("Content-Length", "0")
        declared = int(length) if length.isascii() and length.isdigit() else None
        if declared is not None and limit < declared <= _DRAINED_BODY_FACTOR * limit:
            # Read the body and throw it away, then answer: a client still sending when the
            # server closes the connection gets a reset, never the 413 (urllib, requests).
            self._draining = True
            self.request.connection.set_max_body_size(declared)  # type: ignore[union-attr]
            setattr(self, method.lower(), self._refuse_too_large)
            return
        if declared is None or declared > limit:
            self._refuse_too_large()
        # Tornado's own limit answers a bare 400: keep it past ours, so ours speaks first.
        self.request.connection.set_max_body_size(2 * limit + (64 << 10))  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        if self._finished or self._draining:
            return
        self._received += len(chunk)
        limit = self.ctx.limits.max_body_bytes
        if self._received > limit:
            self._chunks.clear()
            self.set_status(413)
            self.write_json(
                {
                    "error": {
                        "code": str(ErrorCode.MSG_TOO_LARGE),
                        "message": f"the body is over the {limit}-byte limit",
                    }
                }
            )
            self.finish()  # the connection closes: the rest of the body is never read
            return
        self._chunks.append(chunk)

    def _refuse_too_large(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        limit = self.ctx.limits.max_body_bytes
        self.fail(413, ErrorCode.MSG_TOO_LARGE, f"the body is over the {limit}-byte limit")

    def body(self) -> bytes:
        """The request body (streamed in, at most the body limit)."""
        return b"".join(self._chunks)

    async def off_loop(self, fn: Any, *args: Any) -> Any:
        """Run blocking work (SQLite reads, file reads) on the I/O threads, not the loop."""
        return await asyncio.get_running_loop().run_in_executor(self.ctx.io_pool, fn, *args)

    def fail(self, status: int, code: str, message: str) -> NoReturn:
        self.set_status(status)
        self.write_json({"error": {"code": str(code), "message": message}})
        raise tornado.web.Finish()

    def write_json(self, obj: Any) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(msgspec.json.encode(obj))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
            status_code, ErrorCode.INTERNAL if status_code >= 500 else ErrorCode.MSG_INVALID
        )
        self.write_json({"error": {"code": str(code), "message": self._reason}})


def origin_allowed(origin: str, host: str, allowed_origins: list[str]) -> bool:
    """A browser Origin the server accepts: one listed in ``allowed_origins`` exactly, or the
    server's own host, compared whole (no prefix or pattern, which "localhost.evil" passes)."""
    if origin in allowed_origins:
        return True
    parsed = urlparse(origin)
    return bool(parsed.netloc) and parsed.netloc.lower() == host.lower()


def token_ok(handler: tornado.web.RequestHandler, token: str) -> bool:
    """Whether the request carries ``token`` (``Authorization: token T`` or ``?token=T``),
    compared in constant time."""
    given = handler.get_query_argument("token", None)
    header = handler.request.headers.get("Authorization", "")
    if header.lower().startswith("token "):
        given = header[6:].strip()
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class NotFoundHandler(_Base):
    """Any path no route matches: 404 with the JSON error shape."""

    auth_required = False

    def prepare(self) -> None:
        self.fail(404, ErrorCode.NOT_FOUND, f"no such endpoint: {self.request.path}")


class RootHandler(_Base):
    """``GET /``: what this server is and where its API and documents are; no token needed."""

    auth_required = False

    def get(self) -> None:
        self.write_json(
            {
                "name": "realtime_nb",
                "version": __version__,
                "protocol_version": PROTOCOL_VERSION,
                "links": {
                    "health": "/v1/health",
                    "openapi": "/v1/openapi.json",
                    "protocol_schema": "/v1/schema",
                    "plugins": "/v1/plugins",
                    "jobs": "/v1/jobs",
                    "realtime": "/v1/realtime",
                },
                "auth": "send 'Authorization: token <token>' (the token serve printed)",
            }
        )


class OpenAPIHandler(_Base):
    """``GET /v1/openapi.json``: the REST API, generated from the structs that validate it."""

    auth_required = False

    def get(self) -> None:
        self.write_json(self.ctx.openapi)


class HealthHandler(_Base):
    """``GET /v1/health``: liveness and delivery stats; no token needed."""

    auth_required = False

    def get(self) -> None:
        ctx = self.ctx
        body: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "protocol_version": PROTOCOL_VERSION,
            "uptime_s": round(time.monotonic() - ctx.started, 3),
            "jobs": ctx.jobs.counts(),
        }
        if ctx.store.read_only_reason is not None:
            body["status"] = "read-only"
            body["store"] = ctx.store.read_only_reason
        elif ctx.store.unsaved_jobs():
            body["status"] = "degraded"
            body["store"] = f"{ctx.store.unsaved_jobs()} job record(s) wait to be written"
        if token_ok(self, ctx.token):
            body["stats"] = ctx.hub.stats()
        else:
            body["connections"] = len(ctx.hub.connections)
        self.write_json(body)


class PluginsHandler(_Base):
    """``GET /v1/plugins``: every registered plugin with its metadata."""

    def get(self) -> None:
        out = []
        for name in self.ctx.registry.names():
            cls = self.ctx.registry.get(name)
            out.append(
                {
                    "name": name,
                    "requires": list(cls.requires),
                    "metadata": cls.metadata,
                    "history_frames": cls.history_frames,
                }
            )
        self.write_json({"plugins": out})


class SchemaHandler(_Base):
    """``GET /v1/schema``: the JSON Schema of the wire protocol."""

    def get(self) -> None:
        self.write_json(schema())


class JobsHandler(_Base):
    """``POST /v1/jobs`` creates a job; ``GET /v1/jobs`` lists them."""

    async def post(self) -> None:
        if is_experiment_request(self.body()):
            await self._create_experiment()
            return
        loop = asyncio.get_running_loop()
        try:
            # Off the loop, all of it: decoding and checking are linear in a bounded body, the
            # source probe opens the file and submit waits until the job's record is stored.
            record = await loop.run_in_executor(self.ctx.submit_pool, self._create, self.body())
        except RequestRejected as exc:
            self.fail(exc.status, exc.code, str(exc))
        except JobError as exc:
            self.fail(exc.status, exc.code, str(exc))
        self.set_status(201)
        self.set_header("Location", f"/v1/jobs/{record.job_id}")
        self.write_json(record)

    def _create(self, body: bytes) -> Any:
        request = decode_job_body(body)
        registry = self.ctx.registry
        known = set(registry.names())
        check_job_request(
            request, self.ctx.limits, lambda n: registry.get(n) if n in known else None
        )
        return self.ctx.jobs.submit(request)

    async def get(self) -> None:
        limit = _int_arg(self, "limit", 100)
        self.write_json({"jobs": await self.off_loop(self.ctx.jobs.list_jobs, limit)})

    async def _create_experiment(self) -> None:
        """An experiment: a job its producer feeds; the answer adds its ``producer_token``."""
        try:
            request = decode_experiment_request(self.body())
        except ProtocolError as exc:
            self.fail(400, exc.code, f"invalid experiment request: {exc}")
        loop = asyncio.get_running_loop()
        try:
            record, token = await loop.run_in_executor(None, self.ctx.ingest.create, request)
        except JobError as exc:  # shutting down (503), or the store cannot take it (507)
            self.fail(exc.status, exc.code, str(exc))
        self.set_status(201)
        self.set_header("Location", f"/v1/jobs/{record.job_id}")
        self.write_json({**msgspec.structs.asdict(record), "producer_token": token})


class JobHandler(_Base):
    """``GET /v1/jobs/{id}`` reads a job; ``DELETE`` cancels it."""

    async def get(self, job_id: str) -> None:
        record = await self.off_loop(self.ctx.jobs.get, job_id)
        if record is None:
            self.fail(404, ErrorCode.NOT_FOUND, f"no job {job_id!r}")
        self.write_json(record)

    async def delete(self, job_id: str) -> None:
        try:
            record = await self.off_loop(self.ctx.jobs.cancel, job_id)
        except JobError as exc:
            self.fail(exc.status, exc.code, str(exc))
        self.set_status(202)
        self.write_json(record)


class ResultsHandler(_Base):
    """``GET /v1/jobs/{id}/results[?plugin=name]``: per-frame, per-plugin results."""

    async def get(self, job_id: str) -> None:
        plugin = self.get_query_argument("plugin", None)
        try:
            results = await self.off_loop(self.ctx.jobs.results, job_id, plugin)
        except JobError as exc:
            self.fail(exc.status, exc.code, str(exc))
        self.write_json({"job_id": job_id, "count": len(results), "results": results})


class EventsHandler(_Base):
    """``GET /v1/jobs/{id}/events?since_seq=N[&limit=]``: the job's stored non-frame messages
    after ``since_seq``, in order (what a client replays when the live log cannot).
    ``POST`` (with the job's producer token, not the server's): one producer batch, the
    plain-HTTP fallback of ``WS /v1/ingest``."""

    def prepare(self) -> None:
        if self.request.method == "POST":
            self.auth_required = False  # a producer's token, checked in post()
        super().prepare()

    async def post(self, job_id: str) -> None:
        ingest = self.ctx.ingest
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, ingest.authorize, job_id, producer_token_of(self)):
            self.fail(401, ErrorCode.UNAUTHORIZED, "missing or wrong producer token for this job")
        try:
            batch = decode_ingest_batch(self.body())
        except ProtocolError as exc:
            self.fail(400, exc.code, f"invalid batch: {exc}")
        try:
            ack = await loop.run_in_executor(None, ingest.apply, job_id, batch)
        except JobError as exc:
            self.fail(exc.status, exc.code, str(exc))
        self.write_json(ack)

    async def get(self, job_id: str) -> None:
        try:
            since = parse_seq(self.get_query_argument("since_seq", "0"))
        except RequestRejected as exc:
            self.fail(exc.status, exc.code, str(exc))
        if await self.off_loop(self.ctx.jobs.get, job_id) is None:
            self.fail(404, ErrorCode.NOT_FOUND, f"no job {job_id!r}")
        limit = _int_arg(self, "limit", 10_000)
        events = await self.off_loop(self.ctx.store.events, job_id, since, limit)
        self.set_header("Content-Type", "application/json")
        # The stored messages are already JSON: splice them rather than decode and re-encode.
        self.write(
            b'{"job_id":'
            + encode(job_id)
            + b',"count":'
            + str(len(events)).encode()
            + b',"events":['
            + b",".join(events)
            + b"]}"
        )


class MetricsHandler(_Base):
    """``GET /v1/jobs/{id}/metrics[?name=N][&summary=1]``: an experiment's metric points,
    ``{name: [[step, value, wall_time], ...]}`` in log order; with ``summary``, per metric
    its ``count``, ``min``, ``max`` and last ``step`` and ``value``."""

    async def get(self, job_id: str) -> None:
        if self.ctx.jobs.get(job_id) is None:
            self.fail(404, ErrorCode.NOT_FOUND, f"no job {job_id!r}")
        name = self.get_query_argument("name", None)
        metrics = self.ctx.ingest.metrics
        loop = asyncio.get_running_loop()
        if self.get_query_argument("summary", "") in ("1", "true"):
            summary = await loop.run_in_executor(None, metrics.summary, job_id)
            self.write_json({"job_id": job_id, "summary": summary})
            return
        points = await loop.run_in_executor(None, metrics.metrics, job_id, name)
        self.write_json({"job_id": job_id, "metrics": points})


class VideoHandler(_Base):
    """``GET /v1/jobs/{id}/video``: the annotated video (H.264 MP4). The one the job wrote
    (``annotate_video``), else, once the job has ended, one drawn now from its source and
    stored results (kept for the next request)."""

    async def get(self, job_id: str) -> None:
        record = self.ctx.jobs.get(job_id)
        if record is None:
            self.fail(404, ErrorCode.NOT_FOUND, f"no job {job_id!r}")
        path = Path(record.output_path) if record.output_path else None
        if path is None or not path.is_file():
            if not is_terminal(record.status):
                self.fail(
                    409,
                    ErrorCode.JOB_NOT_FINISHED,
                    f"job {job_id} is {record.status}: its video is drawn once it ends "
                    "(or submit with annotate_video to have it written while it runs)",
                )
            path = self.ctx.jobs.data_dir / "outputs" / f"{job_id}-drawn.mp4"
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                ctx = self.ctx
                draw = functools.partial(
                    render_annotated_video, record, ctx.store, ctx.registry, ctx.roots, path
                )
                try:
                    async with ctx.video_lock:  # one drawing at a time: it takes a core
                        if not path.is_file():
                            await asyncio.get_running_loop().run_in_executor(None, draw)
                except FrameUnavailable as exc:
                    self.fail(404, ErrorCode.NOT_FOUND, str(exc))
        self.set_header("Content-Type", "video/mp4")
        # In chunks, each read off the loop and flushed before the next: a large video neither
        # stalls other requests nor sits in memory whole.
        with await self.off_loop(path.open, "rb") as video:
            while chunk := await self.off_loop(video.read, 1 << 20):
                self.write(chunk)
                await self.flush()


class FrameHandler(_Base):
    """``GET /v1/jobs/{id}/frames/{index}``: one processed frame of a job as a binary preview
    (the undrawn JPEG and that frame's stored results), decoded again from the job's source."""

    async def get(self, job_id: str, index: str) -> None:
        record = self.ctx.jobs.get(job_id)
        if record is None:
            self.fail(404, ErrorCode.NOT_FOUND, f"no job {job_id!r}")
        loop = asyncio.get_running_loop()
        try:
            data = await loop.run_in_executor(None, self.ctx.frames.preview, record, int(index))
        except FrameUnavailable as exc:
            self.fail(404, ErrorCode.NOT_FOUND, str(exc))
        self.set_header("Content-Type", "application/octet-stream")
        self.write(data)


def _int_arg(handler: tornado.web.RequestHandler, name: str, default: int) -> int:
    """The query argument ``name`` as an int clamped to 1..10,000, or ``default`` when it is
    missing or not a number."""
    raw = handler.get_query_argument(name, None)
    try:
        return max(1, min(10_000, int(raw))) if raw is not None else default
    except ValueError:
        return default
