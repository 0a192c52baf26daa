"""The Tornado server: REST + WebSocket handlers, auth, and the embedded background server.

Endpoints (JSON; auth ``Authorization: token T`` or ``?token=T``; ``/``, health and the
OpenAPI document need none)::

    GET    /                          GET /v1/openapi.json
    GET    /v1/health                 GET /v1/plugins            GET /v1/schema
    POST   /v1/jobs                   GET /v1/jobs               GET /v1/jobs/{id}
    DELETE /v1/jobs/{id}              GET /v1/jobs/{id}/results  GET /v1/jobs/{id}/video
    GET    /v1/jobs/{id}/events?since_seq=N       POST /v1/jobs/{id}/events (producer)
    GET    /v1/jobs/{id}/metrics[?name=N]          GET /v1/jobs/{id}/frames/{n}
    WS     /v1/realtime?token=T[&job_id=J][&since_seq=N][&subscribe=none][&batch=1]
    WS     /v1/ingest?job_id=J&token=P (producer token: see server/ingest.py)

Errors are ``{"error": {"code": ..., "message": ...}}`` with a 4xx/5xx status. What clients
may send is bounded by :class:`~realtime_nb.server.limits.Limits`; a state-changing call must
send ``Content-Type: application/json`` (POST) and, from a browser, an allowed Origin.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hmac
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse

import msgspec
import tornado.web
import tornado.websocket
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from realtime_nb import __version__
from realtime_nb.core.delivery import Outgoing
from realtime_nb.core.protocol import (
    PROTOCOL_VERSION,
    ConnectionPayload,
    ErrorCode,
    ErrorPayload,
    PongMessage,
    ProtocolError,
    SubscribeMessage,
    UnsubscribeMessage,
    decode_client_message,
    decode_experiment_request,
    decode_ingest_batch,
    encode,
    is_experiment_request,
    is_terminal,
    now_iso,
    schema,
)
from realtime_nb.server.frames import FramePreviews, FrameUnavailable, render_annotated_video
from realtime_nb.server.hub import ALL_JOBS, CLOSE_POLICY, Connection, Hub
from realtime_nb.server.ingest import (
    DEFAULT_HEARTBEAT_TIMEOUT_S,
    FramesHandler,
    IngestHandler,
    IngestService,
    PreviewHandler,
    producer_token_of,
)
from realtime_nb.server.jobs import DEFAULT_MAX_WAITING, JobError, JobManager
from realtime_nb.server.limits import (
    Limits,
    RequestRejected,
    check_content_type,
    check_job_request,
    check_subscription_id,
    decode_job_body,
    parse_seq,
    redact_tokens,
)
from realtime_nb.server.metrics import MetricStore
from realtime_nb.server.openapi import openapi_document
from realtime_nb.server.store import JobStore
from realtime_nb.vision.plugins.registry import PluginRegistry, default_registry
from realtime_nb.worker.dask_executor import DaskExecutor, DaskUnavailableError
from realtime_nb.worker.executors import (
    DEFAULT_FRAME_TIMEOUT_S,
    Executor,
    ProcessExecutor,
    ThreadExecutor,
)

__all__ = ["EmbeddedServer", "Limits", "ServerConfig", "make_app", "start_server"]

log = logging.getLogger(__name__)
access_log = logging.getLogger("tornado.access")


@dataclass
class ServerConfig:
    """Everything a server needs to start.

    Attributes:
        host: Interface to bind; 127.0.0.1 unless you mean to expose it.
        port: TCP port; 0 picks a free one.
        token: Required on every call but health; generated when None.
        data_dir: SQLite store and annotated videos.
        allowed_roots: Folders that file sources may come from (default: data dir and cwd).
        allowed_origins: Browser origins allowed on the WebSocket besides the server's own host.
        ping_interval: Seconds between pings; client_timeout: silence before a client is dropped.
        max_workers: Jobs that run at once (default: the number of cores).
        resume_interrupted: Resume the jobs a previous server left running.
        executor: ``process`` (each job in a worker process of its own) or ``thread`` (inside
            the server process: tests and debugging only).
        worker_memory_bytes: Address-space limit of each worker process, or None.
        frame_timeout_s: Longest one plugin call may take before its worker is killed (a job's
            ``frame_timeout_s`` option overrides it).
        max_waiting_jobs: Jobs that may wait for a worker; past it ``POST /v1/jobs`` is 429.
        store_max_bytes: Largest size of the SQLite store, or None; past it new jobs are 507.
        shutdown_timeout_s: How long a shutdown waits for running jobs to stop before it goes
            on without them (it always ends: workers are killed, hung threads left behind).
        heartbeat_timeout_s: Silence after which a running experiment's producer is taken
            for dead and the experiment ends ``interrupted`` (its ``heartbeat_timeout_s``
            option overrides it).
        dask_scheduler: With ``executor="dask"``: the running scheduler to attach to
            (``tcp://host:8786``); else a local cluster of ``dask_workers`` is started.
        dask_workers: Worker processes of the local Dask cluster (default: the cores).
        dask_server_url: The URL Dask workers post results to (default: the server's own;
            set it when the server listens on 0.0.0.0 or behind another name).
        dask_chunk_frames: Frames per chunk on Dask (default: about two chunks per worker).
        limits: What clients may send: body size, options size and depth, plugins per job,
            connections, subscriptions, message rates, synthetic source size.
    """

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    data_dir: Path = field(default_factory=lambda: default_data_dir())
    allowed_roots: list[Path] = field(default_factory=list)
    allowed_origins: list[str] = field(default_factory=list)
    ping_interval: float = 30.0
    client_timeout: float = 60.0
    queue_capacity: int = 1000
    max_workers: int = field(default_factory=lambda: os.cpu_count() or 2)
    resume_interrupted: bool = False
    executor: str = "process"
    worker_memory_bytes: int | None = None
    frame_timeout_s: float = DEFAULT_FRAME_TIMEOUT_S
    max_waiting_jobs: int = DEFAULT_MAX_WAITING
    store_max_bytes: int | None = None
    shutdown_timeout_s: float = 5.0
    heartbeat_timeout_s: float = DEFAULT_HEARTBEAT_TIMEOUT_S
    dask_scheduler: str | None = None
    dask_workers: int | None = None
    dask_server_url: str | None = None
    dask_chunk_frames: int | None = None
    limits: Limits = field(default_factory=Limits)

    def resolved_token(self) -> str:
        """The token, generating and keeping one if none was given."""
        if not self.token:
            self.token = secrets.token_urlsafe(24)
        return self.token

    def resolved_roots(self) -> list[Path]:
        """Allowed roots, defaulting to the data dir and the current directory."""
        roots = self.allowed_roots or [self.data_dir, Path.cwd()]
        return [Path(r).expanduser().resolve() for r in roots]


def default_data_dir() -> Path:
    """``$REALTIME_NB_DATA_DIR``, else ``~/.local/share/realtime_nb``."""
    env = os.environ.get("REALTIME_NB_DATA_DIR")
    return Path(env) if env else Path.home() / ".local" / "share" / "realtime_nb"


# --- handlers -------------------------------------------------------------------------------------


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

    def initialize(self, ctx: _AppContext) -> None:
        self.ctx = ctx
        self._chunks: list[bytes] = []
        self._received = 0
        self._draining = False

    def prepare(self) -> None:
        if self.auth_required and not _token_ok(self, self.ctx.token):
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


def _token_ok(handler: tornado.web.RequestHandler, token: str) -> bool:
    given = handler.get_query_argument("token", None)
    header = handler.request.headers.get("Authorization", "")
    if header.lower().startswith("token "):
        given = header[6:].strip()
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class _NotFound(_Base):
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
        if _token_ok(self, ctx.token):
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


class RealtimeHandler(tornado.websocket.WebSocketHandler):
    """``WS /v1/realtime``: connection metadata first, then the subscribed jobs' messages.

    Every client message the server cannot use is answered with an ``error`` message (``code``
    and ``message``, no job) and the connection stays open; a client that sends more than
    ``max_bad_messages_per_s`` bad messages, or ``max_client_messages_per_s`` of any kind, in
    one second is closed with 1008 (policy violation).
    """

    def initialize(self, ctx: _AppContext) -> None:
        self.ctx = ctx
        self.conn: Connection | None = None

    def check_origin(self, origin: str) -> bool:
        return origin_allowed(origin, self.request.host, self.ctx.allowed_origins)

    def _refuse(self, status: int, code: ErrorCode, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(encode({"error": {"code": str(code), "message": message}}))

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if not _token_ok(self, self.ctx.token):
            self._refuse(401, ErrorCode.UNAUTHORIZED, "missing or wrong token")
            return
        limits = self.ctx.limits
        if len(self.ctx.hub.connections) >= limits.max_connections:
            self._refuse(
                429,
                ErrorCode.TOO_MANY_CONNECTIONS,
                f"{limits.max_connections} connections are open, the limit; try again later",
            )
            return
        try:
            job_id = self.get_query_argument("job_id", None)
            if job_id is not None:
                check_subscription_id(job_id, limits)
            since = self.get_query_argument("since_seq", None)
            self._since = parse_seq(since) if since is not None else None
        except (ProtocolError, RequestRejected) as exc:
            self._refuse(400, ErrorCode.MSG_INVALID, str(exc))
            return
        self._job_id = job_id
        self._stored_last_seq: int | None = None
        if job_id is not None and job_id != ALL_JOBS:
            self._stored_last_seq = await self._stored_seq(job_id)
        await super().get(*args, **kwargs)

    async def _stored_seq(self, job_id: str) -> int | None:
        """The job's last seq (off the loop: it may read SQLite), or None if there is no job."""
        loop = asyncio.get_running_loop()
        record = await loop.run_in_executor(self.ctx.io_pool, self.ctx.jobs.get, job_id)
        return record.last_seq if record is not None else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        hub = self.ctx.hub
        batch = self.get_query_argument("batch", "") in ("1", "true")
        self.conn = hub.connect("c-" + secrets.token_hex(4), self, batch)
        # ``subscribe=none``: the client subscribes itself, job by job, with since_seq; an
        # implicit "*" would let live messages overtake the replay it asks for.
        wanted = self._job_id or ALL_JOBS
        initial = [] if self.get_query_argument("subscribe", "") == "none" else [wanted]
        hub.send(
            self.conn,
            ConnectionPayload(
                connection_id=self.conn.connection_id,
                server_version=__version__,
                protocol_version=PROTOCOL_VERSION,
                subscriptions=initial,
                ping_interval_seconds=hub.ping_interval,
                max_queue=hub.queue_capacity,
            ),
        )
        hub.greet(self.conn)
        for target in initial:
            hub.subscribe(self.conn, target, self._since, self._stored_last_seq or 0)

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        conn = self.conn
        if conn is None or conn.closed:
            return None
        hub = self.ctx.hub
        hub.seen(conn)
        try:
            if isinstance(message, bytes):
                raise ProtocolError(
                    ErrorCode.MSG_INVALID_JSON, "binary frames are not accepted: send JSON text"
                )
            msg = decode_client_message(message)
            if msg.timestamp is None:  # clients may leave it out: the time it arrived
                msg = msgspec.structs.replace(msg, timestamp=now_iso())
            if isinstance(msg, SubscribeMessage | UnsubscribeMessage):
                check_subscription_id(msg.payload.job_id, self.ctx.limits)
        except ProtocolError as exc:
            self._bad_message(conn, exc.code, str(exc))
            return None
        if self._over_rate(conn, bad=False):
            return None
        if isinstance(msg, PongMessage):
            hub.pong(conn)
        elif isinstance(msg, SubscribeMessage):
            return self._subscribe(conn, msg.payload.job_id, msg.payload.since_seq)
        elif isinstance(msg, UnsubscribeMessage):
            hub.unsubscribe(conn, msg.payload.job_id)
        return None

    def _subscribe(
        self, conn: Connection, job_id: str, since_seq: int | None
    ) -> Awaitable[None] | None:
        """Subscribe at once when the hub can answer alone ("*", or a job it keeps a replay
        log of); otherwise return a coroutine that first reads the job's stored last seq off
        the loop. Tornado awaits it before handing over the client's next message, so
        messages still apply in order."""
        hub, limit = self.ctx.hub, self.ctx.limits.max_subscriptions_per_connection
        if job_id not in conn.subscriptions and len(conn.subscriptions) >= limit:
            self._error(
                conn,
                ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                f"this connection already has {limit} subscriptions, the limit; "
                "unsubscribe from some first",
                job_id,
            )
            return None
        if job_id == ALL_JOBS or hub.has_log(job_id):
            hub.subscribe(conn, job_id, since_seq)
            return None
        return self._subscribe_stored(conn, job_id, since_seq)

    async def _subscribe_stored(self, conn: Connection, job_id: str, since_seq: int | None) -> None:
        stored = await self._stored_seq(job_id)
        if stored is None:
            self._error(conn, ErrorCode.NOT_FOUND, f"no job {job_id!r}", job_id)
        elif not conn.closed:  # a log the hub started meanwhile wins over the stored seq
            self.ctx.hub.subscribe(conn, job_id, since_seq, stored)

    def _bad_message(self, conn: Connection, code: ErrorCode, message: str) -> None:
        log.info("bad client message on %s: %s", conn.connection_id, message[:200])
        if not self._over_rate(conn, bad=True):
            self._error(conn, code, message[:500])

    def _over_rate(self, conn: Connection, bad: bool) -> bool:
        """Count a message; close the connection with 1008 when it passes a rate limit."""
        limits = self.ctx.limits
        messages, bad_ones = conn.count_message(bad)
        if bad_ones > limits.max_bad_messages_per_s or messages > limits.max_client_messages_per_s:
            what = "bad messages" if bad_ones > limits.max_bad_messages_per_s else "messages"
            log.warning("closing %s: too many %s per second", conn.connection_id, what)
            conn.close(CLOSE_POLICY, f"too many {what} per second")
            self.ctx.hub.disconnect(conn)
            return True
        return False

    def _error(self, conn: Connection, code: ErrorCode, message: str, job_id: str = "") -> None:
        text = f"{message} (job {job_id!r})" if job_id else message
        self.ctx.hub.send(
            conn, ErrorPayload(error=text, code=str(code), message=text, frame_id=None)
        )

    def on_close(self) -> None:
        if self.conn is not None:
            self.ctx.hub.disconnect(self.conn)

    def send(self, data: bytes, binary: bool) -> Awaitable[None]:
        """The hub's :class:`~realtime_nb.server.hub.Sink`: queue a write, return its future."""
        return self.write_message(data, binary=binary)


def _int_arg(handler: tornado.web.RequestHandler, name: str, default: int) -> int:
    raw = handler.get_query_argument(name, None)
    try:
        return max(1, min(10_000, int(raw))) if raw is not None else default
    except ValueError:
        return default


# --- app assembly ----------------------------------------------------------------------------


@dataclass
class _AppContext:
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


def _log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log line, with the value of any ``token=`` in the URL replaced."""
    status = handler.get_status()
    level = access_log.info if status < 400 else access_log.warning
    if status >= 500:
        level = access_log.error
    request = handler.request
    millis = 1000.0 * request.request_time()
    level(
        "%d %s %s (%s) %.2fms",
        status,
        request.method,
        redact_tokens(request.uri or ""),
        request.remote_ip,
        millis,
    )


def make_app(
    config: ServerConfig, registry: PluginRegistry | None = None
) -> tornado.web.Application:
    """Build the Tornado application (call on the loop that will run it).

    The app's ``settings["realtime_nb"]`` holds the context (hub, job manager, store).
    """
    loop = asyncio.get_running_loop()
    registry = registry or default_registry
    data_dir = Path(config.data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    store = JobStore(data_dir / "realtime_nb.sqlite3", max_bytes=config.store_max_bytes)

    def last_seq_of(job_id: str) -> int | None:
        record = store.get_job(job_id)
        return record.last_seq if record is not None else None

    hub = Hub(
        ping_interval=config.ping_interval,
        client_timeout=config.client_timeout,
        queue_capacity=config.queue_capacity,
        last_seq_of=last_seq_of,
    )

    def deliver(job_id: str, items: list[Outgoing]) -> None:
        loop.call_soon_threadsafe(hub.publish, job_id, items)

    def deliver_preview(job_id: str, item: Outgoing) -> None:
        loop.call_soon_threadsafe(hub.publish_preview, job_id, item)

    jobs = JobManager(
        store,
        registry,
        config.resolved_roots(),
        data_dir,
        deliver,
        deliver_preview,
        max_workers=config.max_workers,
        resume_interrupted=config.resume_interrupted,
        executor=make_executor(config.executor, registry, config.worker_memory_bytes, config),
        frame_timeout_s=config.frame_timeout_s,
        max_waiting=config.max_waiting_jobs,
        # A server on Dask still runs a job on a worker process of its own on request.
        other_executors={"process": ProcessExecutor(registry, config.worker_memory_bytes)},
    )
    ingest = IngestService(
        jobs, MetricStore(store), hub.publish_preview, config.heartbeat_timeout_s
    )
    for executor in jobs.executors.values():
        if isinstance(executor, DaskExecutor):
            executor.issue_token = ingest.issue_token
    ingest.start()
    roots = config.resolved_roots()
    ctx = _AppContext(
        config.resolved_token(),
        hub,
        jobs,
        store,
        registry,
        config.allowed_origins,
        ingest,
        FramePreviews(store, roots),
        roots,
        config.shutdown_timeout_s,
        config.limits,
    )
    kw = {"ctx": ctx}
    return tornado.web.Application(
        [
            (r"/", RootHandler, kw),
            (r"/v1/openapi.json", OpenAPIHandler, kw),
            (r"/v1/health", HealthHandler, kw),
            (r"/v1/plugins", PluginsHandler, kw),
            (r"/v1/schema", SchemaHandler, kw),
            (r"/v1/jobs", JobsHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)", JobHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/results", ResultsHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/events", EventsHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/video", VideoHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/metrics", MetricsHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/frames/([0-9]{1,9})", FrameHandler, kw),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/frames", FramesHandler, {"ingest": ingest}),
            (r"/v1/jobs/([A-Za-z0-9_-]+)/preview", PreviewHandler, {"ingest": ingest}),
            (r"/v1/realtime", RealtimeHandler, kw),
            (r"/v1/ingest", IngestHandler, {"ingest": ingest}),
        ],
        default_handler_class=_NotFound,
        default_handler_args=kw,
        websocket_max_message_size=config.limits.max_client_message_bytes,
        log_function=_log_request,
        realtime_nb=ctx,
    )


@dataclass
class RunningServer:
    """A server started on the current loop; :meth:`stop` shuts it down."""

    url: str
    token: str
    port: int
    http: HTTPServer
    app: tornado.web.Application

    @property
    def context(self) -> _AppContext:
        """Hub, jobs and store of this server."""
        ctx: _AppContext = self.app.settings["realtime_nb"]
        return ctx

    async def stop(self) -> None:
        """Shut down in the order that loses nothing a client could still hear.

        Stop accepting connections and jobs; interrupt every job (workers are told, then
        killed after a grace period; at most ``shutdown_timeout_s`` in all); let each live
        client's queue drain, so it hears its jobs end ``interrupted``; only then close the
        sockets (1001, going away) and flush the store.
        """
        self.http.stop()
        ctx = self.context
        ctx.ingest.stop()
        timeout = ctx.shutdown_timeout_s
        try:
            await asyncio.get_running_loop().run_in_executor(None, ctx.jobs.shutdown, timeout)
        except RuntimeError:  # at interpreter exit (atexit) executors take no new work
            ctx.jobs.shutdown(timeout)
        # The jobs' last messages reach the hub through call_soon_threadsafe: one loop turn
        # lets them in before draining.
        await asyncio.sleep(0)
        if not await ctx.hub.drain(timeout=1.0):
            log.warning("some clients had not read every message when the server stopped")
        ctx.hub.stop()
        ctx.frames.close()
        for executor in ctx.jobs.executors.values():
            if isinstance(executor, DaskExecutor):
                try:
                    await asyncio.get_running_loop().run_in_executor(None, executor.close)
                except RuntimeError:
                    executor.close()
        ctx.store.close()
        ctx.io_pool.shutdown(wait=False, cancel_futures=True)
        ctx.submit_pool.shutdown(wait=False, cancel_futures=True)
        await self.http.close_all_connections()


def make_executor(
    name: str,
    registry: PluginRegistry,
    memory_bytes: int | None,
    config: ServerConfig | None = None,
) -> Executor:
    """The executor called ``name``: ``process``, ``thread`` or ``dask`` (its cluster from
    ``config``).

    Raises:
        ValueError: Another name.
        DaskUnavailableError: ``dask`` without the ``distributed`` package (the message says
            how to install it).
    """
    if name == "dask":
        config = config or ServerConfig()
        workers = config.dask_workers
        if config.dask_scheduler is None and workers is None:
            workers = os.cpu_count() or 2
        if memory_bytes is not None:
            log.warning("--worker-memory is ignored by the dask executor (set it on the workers)")
        return DaskExecutor(
            registry,
            scheduler_address=config.dask_scheduler,
            n_workers=None if config.dask_scheduler else workers,
            chunk_frames=config.dask_chunk_frames,
        )
    if name == "process":
        return ProcessExecutor(registry, memory_bytes)
    if name == "thread":
        if memory_bytes is not None:
            log.warning("--worker-memory is ignored by the thread executor")
        return ThreadExecutor(registry)
    raise ValueError(f"unknown executor {name!r}: use 'process', 'thread' or 'dask'")


async def start_server(
    config: ServerConfig, registry: PluginRegistry | None = None
) -> RunningServer:
    """Start a server on the running loop and return its URL and token."""
    app = make_app(config, registry)
    sockets = bind_sockets(config.port, config.host, family=socket.AF_INET)
    http = HTTPServer(app, max_body_size=config.limits.max_body_bytes, xheaders=False)
    http.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    url = f"http://{config.host}:{port}"
    for executor in app.settings["realtime_nb"].jobs.executors.values():
        if isinstance(executor, DaskExecutor):
            executor.server_url = config.dask_server_url or url
            # Connect (or start the local cluster) off the loop, now rather than at the first
            # job; a failure is logged here and reported to each Dask job.
            threading.Thread(
                target=_connect_dask, args=(executor,), name="realtime-nb-dask", daemon=True
            ).start()
    return RunningServer(url, config.resolved_token(), port, http, app)


def _keep_tornado_logs_out_of_cells() -> None:
    """An embedded server lives in someone else's process, often a notebook kernel, where
    Python's last-resort handler prints every unhandled WARNING (``tornado.access`` on each
    rejected request) into the running cell. A do-nothing handler on the ``tornado`` logger
    keeps them out; they still reach any handler the user configures (``logging.basicConfig``),
    since records propagate past it."""
    tornado_log = logging.getLogger("tornado")
    if not any(isinstance(h, logging.NullHandler) for h in tornado_log.handlers):
        tornado_log.addHandler(logging.NullHandler())


def _connect_dask(executor: DaskExecutor) -> None:
    try:
        executor.connect()
    except DaskUnavailableError as exc:
        log.error("dask executor: %s", exc)


class EmbeddedServer:
    """A server on a background thread with its own event loop (the notebook default).

    Example:
        >>> import tempfile
        >>> config = ServerConfig(port=0, data_dir=Path(tempfile.mkdtemp()))
        >>> server = EmbeddedServer(config).start()
        >>> server.url.startswith("http://127.0.0.1:"), len(server.token) > 16
        (True, True)
        >>> server.stop()
    """

    def __init__(self, config: ServerConfig, registry: PluginRegistry | None = None) -> None:
        self.config = config
        self.registry = registry
        self.url = ""
        self.token = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._running: RunningServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 30.0) -> EmbeddedServer:
        """Start the thread and wait until the server listens.

        Raises:
            RuntimeError: The server did not start (the cause is chained).
        """
        _keep_tornado_logs_out_of_cells()
        self._thread = threading.Thread(target=self._main, name="realtime-nb-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("embedded server did not start in time")
        if self._error is not None:
            raise RuntimeError(f"embedded server failed to start: {self._error}") from self._error
        return self

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._running = loop.run_until_complete(start_server(self.config, self.registry))
            self.url, self.token = self._running.url, self._running.token
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    @property
    def running(self) -> RunningServer:
        """The running server (hub, jobs, store through ``.context``)."""
        if self._running is None:
            raise RuntimeError("server not started")
        return self._running

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the server down and join its thread."""
        loop, running = self._loop, self._running
        if loop is None or running is None or not loop.is_running():
            return
        future = asyncio.run_coroutine_threadsafe(running.stop(), loop)
        try:
            future.result(timeout)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout)
