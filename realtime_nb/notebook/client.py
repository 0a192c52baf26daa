"""RealtimeClient: the notebook side. A WebSocket on its own thread and loop, REST, job handles.

The client runs a Tornado WebSocket client on a background thread with its own event loop. It
answers pings, reduces every message into a per-job :class:`~realtime_nb.core.state.RealtimeState`,
and drives the overlays' render clock from that thread: widget updates made from a background
thread reach the browser while another cell blocks the kernel's main thread, and updates driven
by the kernel's own loop do not (ipykernel 7; ``tests/notebook/test_notebook_kernel.py`` checks
it).

What the client knows lives in :class:`~realtime_nb.notebook.client_core.ClientCore`, which has
no sockets or threads; this module is the glue: the thread, the WebSocket, the REST calls
(:class:`~realtime_nb.notebook.rest.RestClient`) and the render clock
(:class:`~realtime_nb.notebook.render.RenderClock`).

Connection states: IDLE → CONNECTING → CONNECTED → DISCONNECTED → RECONNECTING → CLOSED, with
backoff 1, 2, 4, 8, 16 s (±10 % jitter) and CLOSED after 5 failed attempts in a row. On reconnect
it resubscribes to every job it follows with the last ``seq`` it applied; what the server can
no longer replay is fetched from the stored events (frames beyond the replay log's tail are
not sent again live; ``job.results()`` has them all).

Example:
    >>> import realtime_nb as rt
    >>> with rt.connect() as client:
    ...     job = client.submit("synthetic://match?seconds=1", plugins=["ball_detection"])
    ...     job.wait(timeout=60)["status"]
    'completed'
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from tornado.httpclient import HTTPRequest
from tornado.websocket import WebSocketClientConnection, WebSocketClosedError, websocket_connect

from realtime_nb.core.connection import (
    Action,
    Connect,
    ConnectionMachine,
    ConnectionState,
    ReconnectPolicy,
    Wait,
)
from realtime_nb.core.protocol import (
    ProtocolError,
    ServerMessage,
    SubscribePayload,
    encode,
    make_message,
)
from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.client_core import ClientCore, Received, decode_stored_events
from realtime_nb.notebook.frames import (
    DEFAULT_MAX_FRAMES,
    FrameDrawer,
    KeptFrame,
)
from realtime_nb.notebook.job import Job
from realtime_nb.notebook.render import RENDER_BUDGET, RenderBudget, RenderClock
from realtime_nb.notebook.rest import ApiError, RestClient

if TYPE_CHECKING:
    from realtime_nb.notebook.experiment import Run
    from realtime_nb.notebook.runs import RunsTable
    from realtime_nb.notebook.widgets import RealtimeOverlay

__all__ = ["ApiError", "Job", "RealtimeClient"]

log = logging.getLogger(__name__)

RESYNC_TIMEOUT_S = 30.0
"""How long fetching a job's stored events may take before the live messages buffered
meanwhile are applied anyway (a gap then shows as a seq jump, never as a frozen job)."""

MAX_JOBS_REMEMBERED = 256
"""Jobs whose plugin options a client keeps for drawing (the newest; others are read again)."""


class RealtimeClient:
    """A connection to a realtime_nb server.

    Args:
        url: ``http://host:port`` of the server.
        token: The server's token.
        connect_timeout: Seconds to wait for each WebSocket handshake.
        render_hz: How often overlays re-render (at most 30; only when something changed). The
            default 10 matches the server's default preview rate. Whatever the rate and however
            many overlays and clients are shown, the clocks make at most
            :data:`~realtime_nb.notebook.render.WIDGET_UPDATES_PER_S` trait assignments a
            second in all, so iopub stays far below Jupyter's limit of 1,000 messages a second.
        max_frames: How many previewed frames to keep per job for the frame viewer's scrubber
            (their memory is bounded too, see :class:`~realtime_nb.notebook.frames.FrameStore`);
            frames are kept for the
            :data:`~realtime_nb.notebook.client_core.MAX_JOBS_WITH_FRAMES` jobs previewed most
            recently.
        render_budget: The budget the render clock keeps to; by default
            :data:`~realtime_nb.notebook.render.RENDER_BUDGET`, shared by every client of the
            process.
        backoff: Delays between reconnect attempts; CLOSED after the last one fails.
        jitter: Relative random spread of each delay.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        connect_timeout: float = 10.0,
        render_hz: float = 10.0,
        max_frames: int = DEFAULT_MAX_FRAMES,
        render_budget: RenderBudget | None = None,
        backoff: Sequence[float] = ReconnectPolicy.delays,
        jitter: float = ReconnectPolicy.jitter,
    ) -> None:
        self.rest = RestClient(url, token)
        self.url = self.rest.url
        self.token = token
        self.connect_timeout = connect_timeout
        self.render_interval = 1.0 / min(30.0, max(1.0, render_hz))
        self.max_frames = max_frames
        self.core = ClientCore(max_frames)
        """Everything the client knows (states, versions, frames); read it under :attr:`lock`."""
        self.lock = threading.Condition()
        """Guards :attr:`core`; notified when a job ends or the connection changes."""
        self._machine = ConnectionMachine(
            ReconnectPolicy(tuple(backoff), jitter, connect_timeout), random.Random()
        )
        self._clock = RenderClock(self._snapshot, render_budget or RENDER_BUDGET)
        self._drawer = FrameDrawer()
        self._plugin_options: dict[str, dict[str, Any]] = {}  # by job, the newest few
        self._listeners: dict[str, list[Callable[..., None]]] = {}
        self._ws: WebSocketClientConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._connected_once = threading.Event()
        self._wake_reconnect: asyncio.Event | None = None

    # --- what the core knows -----------------------------------------------------------------

    @property
    def connection(self) -> str:
        """IDLE, CONNECTING, CONNECTED, DISCONNECTED, RECONNECTING or CLOSED."""
        return self.core.connection

    @property
    def reconnect_attempt(self) -> int:
        """The reconnect attempt under way or next while RECONNECTING, else 0."""
        return self.core.reconnect_attempt

    @property
    def latency_ms(self) -> float | None:
        """The round trip the server last measured, in ms."""
        return self.core.latency_ms

    @property
    def connection_id(self) -> str | None:
        """The server's id for the current connection."""
        return self.core.connection_id

    def state(self, job_id: str) -> RealtimeState:
        """The latest reduced state of a job (an empty state before its first message)."""
        with self.lock:
            return self.core.state(job_id)

    def frames(self, job_id: str) -> tuple[KeptFrame, ...]:
        """The previewed frames kept for a job, oldest first, each with every plugin's result,
        timing and warnings for it (bounded by ``max_frames``)."""
        with self.lock:
            return self.core.frames(job_id)

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self, timeout: float | None = None) -> RealtimeClient:
        """Start the client thread and wait for the first connection.

        Raises:
            ConnectionError: The server could not be reached.
        """
        self._thread = threading.Thread(target=self._main, name="realtime-nb-client", daemon=True)
        self._thread.start()
        deadline = timeout if timeout is not None else self.connect_timeout + 1
        if not self._connected_once.wait(deadline) or self.connection != "CONNECTED":
            self.close()
            raise ConnectionError(f"could not connect to {self.url} ({self.connection})")
        return self

    def close(self) -> None:
        """Close the connection for good and stop the thread."""
        self._closing = True
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._shutdown)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def retry(self) -> None:
        """Start reconnecting again after the client gave up (CLOSED)."""
        loop = self._loop
        if loop is not None and self._wake_reconnect is not None:
            loop.call_soon_threadsafe(self._wake_reconnect.set)

    def on(self, event: str, callback: Callable[..., None]) -> None:
        """Call ``callback`` on ``connectionChange`` (state), ``reconnecting`` (attempt, delay),
        ``error`` (exception) or ``message`` (message). Runs on the client thread."""
        self._listeners.setdefault(event, []).append(callback)

    def __enter__(self) -> RealtimeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _emit(self, event: str, *args: Any) -> None:
        for cb in self._listeners.get(event, []):
            try:
                cb(*args)
            except Exception:
                log.exception("%s listener failed", event)

    def _set_connection(self, state: str, attempt: int | None = None) -> None:
        before = self.connection
        with self.lock:
            changed = self.core.set_connection(state, attempt)
            self.lock.notify_all()
        if changed and state != before:
            log.info("realtime connection %s -> %s (%s)", before, state, self.url)
            self._emit("connectionChange", state)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._run())
        finally:
            # Like asyncio.run: finish every task still pending (the render loop, tornado's
            # own) before closing, or each is "destroyed but pending" at exit.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    def _shutdown(self) -> None:
        if self._ws is not None:
            self._ws.close(1000, "client closed")
        if self._wake_reconnect is not None:
            self._wake_reconnect.set()

    def _flush_machine(self) -> None:
        """Act on the state machine's events: state changes, reconnect notices, errors."""
        events, self._machine.events = self._machine.events, []
        for name, data in events:
            if name == "connectionChange":
                self._set_connection(str(data))
            else:
                if name == "reconnecting" and isinstance(data, dict):
                    self._set_connection(self.connection, int(data.get("attempt", 0)))
                self._emit(name, data)

    async def _run(self) -> None:
        self._wake_reconnect = asyncio.Event()
        render = asyncio.get_running_loop().create_task(self._render_loop())
        machine = self._machine
        action: Action = machine.start()
        while True:
            self._flush_machine()
            if isinstance(action, Connect):
                error = await self._connect_once(action.timeout)
                if error is None:
                    await self._read_loop()
                    error = ConnectionError("connection lost")
                if self._closing:
                    action = machine.close()
                elif machine.state is ConnectionState.CONNECTED:
                    action = machine.lost(error)
                else:  # the socket opened but closed before the server's metadata arrived
                    action = machine.connect_failed(error)
            elif isinstance(action, Wait):
                self._wake_reconnect.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake_reconnect.wait(), action.delay)
                action = machine.close() if self._closing else machine.attempt()
            else:  # Stop: CLOSED; wait for retry() unless the user closed the client
                self._connected_once.set()
                if self._closing or machine.closed_for_good:
                    break
                self._wake_reconnect.clear()
                await self._wake_reconnect.wait()
                action = machine.close() if self._closing else machine.retry()
        self._flush_machine()
        self._connected_once.set()
        render.cancel()

    async def _connect_once(self, timeout: float) -> Exception | None:
        """Open the WebSocket and resubscribe; the error if it failed, else None."""
        ws_url = (
            self.url.replace("http", "ws", 1)
            + "/v1/realtime?"
            + urlencode({"subscribe": "none", "batch": "1"})
        )
        # The token goes in a header, never in the URL (URLs end up in logs and histories).
        request = HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"})
        try:
            self._ws = await asyncio.wait_for(
                websocket_connect(request, max_message_size=64 << 20), timeout
            )
        except Exception as exc:
            log.info("connect to %s failed: %s", self.url, exc)
            return exc
        with self.lock:
            followed = self.core.followed()
        for job_id, since in followed.items():
            self._send_subscribe(job_id, since)
        return None

    def _send_subscribe(self, job_id: str, since_seq: int | None) -> None:
        if self._ws is not None:
            msg = make_message(SubscribePayload(job_id=job_id, since_seq=since_seq))
            _write(self._ws, encode(msg))

    async def _read_loop(self) -> None:
        ws = self._ws
        assert ws is not None
        while True:
            raw = await ws.read_message()
            if raw is None:
                self._ws = None
                ws.close()  # already closed by the peer; this releases the protocol object
                return
            if isinstance(raw, bytes):
                with self.lock:
                    self.core.receive_preview(raw)
            else:
                for line in raw.split("\n"):  # batch=1: several messages per frame
                    self._on_text(line, ws)

    def _on_text(self, raw: str, ws: WebSocketClientConnection) -> None:
        with self.lock:
            received = self.core.receive_text(raw)
            if received.ended:
                self.lock.notify_all()
        self._act(received, ws)

    def _act(self, received: Received, ws: WebSocketClientConnection) -> None:
        """Do what the core asked: answer, finish connecting, resync, tell listeners."""
        if received.message is None:
            return
        if received.reply is not None:
            _write(ws, received.reply)
        if received.connected:
            self._machine.connected()
            self._flush_machine()
            self._connected_once.set()
        if received.resync is not None:
            self.resync(*received.resync)
        self._emit("message", received.message)

    def resync(
        self, job_id: str, since: int, timeout: float = RESYNC_TIMEOUT_S
    ) -> threading.Thread:
        """Fetch a job's stored events after ``since`` on a thread, then apply them and the
        live messages the core buffered meanwhile. The client calls it when the server could
        not replay a gap (:attr:`Received.resync`); buffering ends whatever the fetch does
        (an error, ``timeout`` seconds without an answer).

        Returns:
            The fetching thread (started).
        """
        log.warning("job %s: live replay incomplete, fetching stored events", job_id)
        loop = self._loop

        def fetch() -> None:
            events: list[ServerMessage] = []
            try:
                events = decode_stored_events(self.rest.events(job_id, since, timeout=timeout))
            except (ApiError, ProtocolError, KeyError, TypeError) as exc:
                log.warning("could not fetch events of job %s: %s", job_id, exc)
            except BaseException:
                log.exception("fetching events of job %s failed", job_id)
                raise
            finally:
                # Whatever happened, stop buffering: the job's live messages must flow again.
                if loop is not None and loop.is_running():
                    loop.call_soon_threadsafe(self._finish_resync, job_id, events)
                else:
                    self._finish_resync(job_id, events)

        thread = threading.Thread(target=fetch, name="realtime-nb-resync", daemon=True)
        thread.start()
        return thread

    def _finish_resync(self, job_id: str, events: list[ServerMessage]) -> None:
        with self.lock:
            if self.core.finish_resync(job_id, events):
                self.lock.notify_all()

    # --- rendering -------------------------------------------------------------------------------

    async def _render_loop(self) -> None:
        while True:
            await asyncio.sleep(self.render_interval)
            self._clock.tick()

    def _snapshot(self, job_id: str) -> tuple[int, RealtimeState | None, tuple[KeptFrame, ...]]:
        with self.lock:
            version = self.core.version(job_id)
            state = self.core.state(job_id) if version else None
            return version, state, self.core.frames(job_id)

    def render_now(self) -> None:
        """Render every overlay whose job changed since its last render (any thread), now,
        whatever the render clock's budget (a user's explicit call, e.g. after ``wait()``)."""
        self._clock.render_now()

    def attach_overlay(self, job_id: str, overlay: RealtimeOverlay) -> None:
        """Have the render clock keep ``overlay`` in step with ``job_id``."""
        self._clock.attach(job_id, overlay)

    # --- frames -----------------------------------------------------------------------------

    @property
    def drawer(self) -> FrameDrawer:
        """Draws plugins' results over kept frames; every overlay of this client shares it."""
        return self._drawer

    def draw(
        self, frame: KeptFrame, plugins: Sequence[str] | None = None, job_id: str | None = None
    ) -> bytes:
        """A kept frame as JPEG with ``plugins``' drawings on it (default: every plugin's),
        drawn with the options job ``job_id`` gave its plugins (default: none).

        Raises:
            ApiError: The job's options had to be read from the server and could not be.
        """
        options = self.plugin_options(job_id) if job_id is not None else None
        return self._drawer.draw(frame, frame.results if plugins is None else plugins, options)

    def preview(self, job_id: str) -> bytes | None:
        """The latest preview of a job as JPEG, every plugin's drawing on it; None before one.

        Raises:
            ApiError: The job's options had to be read from the server (a job this client
                only follows, or one of more than the newest 256) and could not be.
        """
        with self.lock:
            latest = self.core.latest_frame(job_id)
        return None if latest is None else self.draw(latest, job_id=job_id)

    def plugin_options(self, job_id: str) -> dict[str, dict[str, Any]]:
        """The options job ``job_id`` gave each plugin (its ``plugin_options``), which the
        plugins' drawings are drawn with; read from the server once per job.

        Raises:
            ApiError: No such job (404), or the server cannot be reached.
        """
        with self.lock:
            known = self._plugin_options.get(job_id)
        return known if known is not None else self._remember_options(self.get_job(job_id))

    def _remember_options(self, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
        options = dict((record.get("options") or {}).get("plugin_options") or {})
        with self.lock:
            self._plugin_options[record["job_id"]] = options
            while len(self._plugin_options) > MAX_JOBS_REMEMBERED:
                del self._plugin_options[next(iter(self._plugin_options))]
        return options

    # --- jobs -------------------------------------------------------------------------------

    def follow(self, job_id: str) -> None:
        """Subscribe to a job and replay its history (also after every reconnect)."""
        with self.lock:
            since = self.core.follow(job_id)
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._send_subscribe, job_id, since)

    def submit(
        self,
        source: str,
        plugins: Sequence[str],
        options: dict[str, Any] | None = None,
        executor: str | None = None,
    ) -> Job:
        """Start a job: ``source`` is a video path or ``synthetic://match?...``; ``executor``
        (the job's ``executor`` option) picks where it runs: ``process``, or ``dask`` on a
        server started with ``--executor dask``; default: the server's.

        Raises:
            ApiError: The server refused the job (unknown plugin, bad source, an executor
                the server lacks, ...).
        """
        options = dict(options or {})
        if executor is not None:
            options["executor"] = executor
        record = self.rest.create_job(source, list(plugins), options)
        self._remember_options(record)
        job = Job(self, record["job_id"])
        self.follow(job.job_id)
        return job

    def job(self, job_id: str) -> Job:
        """A handle on an existing job; its history is replayed into the local state.

        Raises:
            ApiError: No such job (404).
        """
        self.get_job(job_id)
        self.follow(job_id)
        return Job(self, job_id)

    def experiment(
        self,
        name: str,
        total: int | None = None,
        config: dict[str, Any] | None = None,
        *,
        heartbeat_timeout_s: float | None = None,
        **run_options: Any,
    ) -> Run:
        """Start an experiment: a job your own loop feeds (see :class:`~realtime_nb.notebook.
        experiment.Run`). Use it as a context manager.

        Args:
            name: The run's name (shown in overlays and ``client.runs()``).
            total: The ``run.progress`` count that means 100 %.
            config: Hyper-parameters and the like, stored with the job (JSON-able).
            heartbeat_timeout_s: Silence after which the server takes the run's process for
                dead and ends the job ``interrupted`` (server default 30 s).
            **run_options: Passed to :class:`~realtime_nb.notebook.experiment.Run`
                (``buffer_size``, ``batch_points``, ``close_timeout``, ``backoff``).

        Example:
            >>> import realtime_nb as rt
            >>> with rt.connect() as client:
            ...     with client.experiment("sweep-lr", total=10, config={"lr": 0.1}) as run:
            ...         for epoch in range(10):
            ...             run.log({"loss": 1 / (epoch + 1)}, step=epoch)
            ...             run.progress(epoch + 1)
            ...     run.record()["status"]
            'completed'

        Raises:
            ApiError: The server refused the request.
        """
        from realtime_nb.notebook.experiment import Run

        body: dict[str, Any] = {"kind": "experiment", "name": name, "config": dict(config or {})}
        if total is not None:
            body["total"] = int(total)
        if heartbeat_timeout_s is not None:
            body["options"] = {"heartbeat_timeout_s": float(heartbeat_timeout_s)}
        record = self.request("POST", "/v1/jobs", body)
        token = record.pop("producer_token")
        # Not followed here: a script that only logs should not also decode and reduce its
        # own points. run.overlay() (or run.watch()) follows, replaying from the start.
        return Run(self, record, token, **run_options)

    def runs(self, limit: int = 100) -> RunsTable:
        """The experiments on the server as a widget: one row per run (status, duration,
        config, latest metrics), sortable; pick several to compare their curves."""
        from realtime_nb.notebook.runs import RunsTable

        return RunsTable(self, limit)

    def get_job(self, job_id: str) -> dict[str, Any]:
        """The job record from REST."""
        record = self.rest.get_job(job_id)
        if record.get("kind") == "video":  # an experiment has no plugins to draw
            self._remember_options(record)
        return record

    def jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest jobs, newest first."""
        return self.rest.jobs(limit)

    def plugins(self) -> list[dict[str, Any]]:
        """Plugins the server offers, with metadata."""
        return self.rest.plugins()

    def health(self) -> dict[str, Any]:
        """The server's health and delivery stats."""
        return self.rest.health()

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Call the REST API and return the decoded JSON.

        Raises:
            ApiError: Any 4xx/5xx answer, or the server could not be reached (status 0).
        """
        return self.rest.request(method, path, body, timeout)

    def wait_for(
        self, job_id: str, timeout: float | None = None, poll_s: float = 2.0
    ) -> RealtimeState:
        """Block until a job ends; fall back to REST polling while the socket is down.

        Raises:
            TimeoutError: ``timeout`` passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.state(job_id)
            if state.finished:
                return state
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(f"job {job_id} did not end within {timeout} s")
            with self.lock:
                self.lock.wait(min(poll_s, remaining) if remaining is not None else poll_s)
            if self.connection != "CONNECTED" and not self.state(job_id).finished:
                try:
                    record = self.get_job(job_id)
                except ApiError:
                    continue
                with self.lock:
                    self.core.apply_record(job_id, record)


def _write(ws: WebSocketClientConnection, data: str | bytes) -> None:
    """Send on ``ws`` unless it has closed meanwhile (closing and a reply can race): the read
    loop sees the close and reconnects or stops, so the lost write needs no other handling."""
    try:
        sent = ws.write_message(data)
    except WebSocketClosedError:
        return
    # A write the close overtakes fails later; fetching its error keeps asyncio from logging
    # "exception was never retrieved".
    sent.add_done_callback(lambda f: f.cancelled() or f.exception())
