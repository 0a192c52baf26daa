"""The Tornado server: its routes, its assembly and the embedded background server (the REST
handlers are in :mod:`realtime_nb.server.handlers`, the WebSocket's in
:mod:`realtime_nb.server.websocket`).

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
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import tornado.web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from realtime_nb.core.delivery import Outgoing
from realtime_nb.server.frames import FramePreviews
from realtime_nb.server.handlers import (
    AppContext,
    EventsHandler,
    FrameHandler,
    HealthHandler,
    JobHandler,
    JobsHandler,
    MetricsHandler,
    NotFoundHandler,
    OpenAPIHandler,
    PluginsHandler,
    ResultsHandler,
    RootHandler,
    SchemaHandler,
    VideoHandler,
)
from realtime_nb.server.hub import Hub
from realtime_nb.server.ingest import (
    DEFAULT_HEARTBEAT_TIMEOUT_S,
    FramesHandler,
    IngestHandler,
    IngestService,
    PreviewHandler,
)
from realtime_nb.server.jobs import DEFAULT_MAX_WAITING, JobManager
from realtime_nb.server.limits import (
    Limits,
    redact_tokens,
)
from realtime_nb.server.metrics import MetricStore
from realtime_nb.server.store import JobStore
from realtime_nb.server.websocket import RealtimeHandler
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


# --- app assembly ----------------------------------------------------------------------------


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
    ctx = AppContext(
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
        default_handler_class=NotFoundHandler,
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
    def context(self) -> AppContext:
        """Hub, jobs and store of this server."""
        ctx: AppContext = self.app.settings["realtime_nb"]
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
