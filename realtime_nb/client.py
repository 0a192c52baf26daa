"""RealtimeClient: the notebook side. A WebSocket on its own thread and loop, REST, job handles.

The client runs a Tornado WebSocket client on a background thread with its own event loop. It
answers pings, reduces every message into a per-job :class:`~realtime_nb.state.RealtimeState`,
and drives the overlays' render clock from that thread; DESIGN.md records why: widget updates
made from a background thread reach the browser while another cell blocks the kernel's main
thread, and updates driven by the kernel's own loop do not.

Connection states: IDLE → CONNECTING → CONNECTED → DISCONNECTED → RECONNECTING → CLOSED, with
backoff 1, 2, 4, 8, 16 s (±10 % jitter) and CLOSED after 5 failed attempts in a row. On reconnect
it resubscribes to every job it follows with the last ``seq`` it applied, so nothing is missed.

Example:
    >>> import realtime_nb as rt
    >>> with rt.connect() as client:
    ...     job = client.submit("synthetic://match?seconds=1", plugins=["ball_detection"])
    ...     job.wait(timeout=60)["status"]
    'completed'
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from tornado.websocket import WebSocketClientConnection, websocket_connect

from realtime_nb.connection import (
    Action,
    Connect,
    ConnectionMachine,
    ConnectionState,
    ReconnectPolicy,
    Wait,
)
from realtime_nb.frames import DEFAULT_MAX_FRAMES, FrameDrawer, FrameStore, KeptFrame
from realtime_nb.protocol import (
    PREVIEW_PREFIX_BYTES,
    ConnectionMessage,
    JobMessage,
    PingMessage,
    PongPayload,
    ProtocolError,
    ServerMessage,
    SubscribedMessage,
    SubscribePayload,
    decode_preview,
    decode_server_message,
    encode,
    is_terminal,
    make_message,
    now_iso,
    peek_type,
)
from realtime_nb.state import (
    ConnectionChanged,
    MessageReceived,
    PreviewReceived,
    RealtimeState,
    reduce,
)

if TYPE_CHECKING:
    from IPython.display import HTML

    from realtime_nb.widgets import RealtimeOverlay

__all__ = [
    "MAX_JOBS_WITH_FRAMES",
    "MAX_UPDATES_PER_RENDER",
    "RENDER_BUDGET",
    "WIDGET_UPDATES_PER_S",
    "ApiError",
    "Job",
    "RealtimeClient",
    "RenderBudget",
]

log = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0)


class ApiError(RuntimeError):
    """A REST call failed. ``code`` is the server's error code, ``status`` the HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


WIDGET_UPDATES_PER_S = 80
"""Trait assignments the render clock makes per second at most, across every overlay of a
client. Each widget sends at most one message per render, so this bounds the iopub comm
messages too (Jupyter drops iopub messages past 1,000 a second; we stay far below it)."""

MAX_UPDATES_PER_RENDER = 16
"""Trait assignments one overlay's render can make when much changed; a tick renders an overlay
only while the second's budget still has this many left."""


class RenderBudget:
    """Trait assignments made by overlays in the last second, across every client of this
    process: Jupyter's iopub limit is per kernel, however many clients a notebook opens.

    A sliding one-second window, not a token bucket: a bucket lets a full bucket and a second's
    refill through within one second (twice the rate); the window never does. It holds one
    entry per render, a few dozen at most.

    Args:
        per_second: Assignments allowed in any one-second window.
        clock: Seconds, monotonic (tests pass a fake one).
    """

    def __init__(
        self, per_second: int = WIDGET_UPDATES_PER_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_second = per_second
        self._clock = clock
        self._spent: collections.deque[tuple[float, int]] = collections.deque()
        self._lock = threading.Lock()

    def left(self) -> int:
        """Assignments still allowed in the current one-second window."""
        with self._lock:
            now = self._clock()
            while self._spent and now - self._spent[0][0] >= 1.0:
                self._spent.popleft()
            return self.per_second - sum(n for _, n in self._spent)

    def spend(self, assignments: int) -> None:
        """Record a render's assignments (an explicit render may overdraw: ticks then wait)."""
        with self._lock:
            self._spent.append((self._clock(), assignments))


RENDER_BUDGET = RenderBudget()
"""The budget every client of this process renders within."""

MAX_JOBS_WITH_FRAMES = 8
"""Jobs whose previewed frames a client keeps at once (each bounded by ``max_frames``)."""


class RealtimeClient:
    """A connection to a realtime_nb server.

    Args:
        url: ``http://host:port`` of the server.
        token: The server's token.
        connect_timeout: Seconds to wait for each WebSocket handshake.
        render_hz: How often overlays re-render (at most 30; only when something changed). The
            default 10 matches the server's default preview rate. Whatever the rate and however
            many overlays and clients are shown, the clocks make at most
            :data:`WIDGET_UPDATES_PER_S` trait assignments a second in all (a busy overlay makes
            about 8 to 10 a tick), so iopub stays far below Jupyter's limit of 1,000 messages a
            second.
        max_frames: How many previewed frames to keep per job for the frame viewer's scrubber
            (their memory is bounded too, see :class:`~realtime_nb.frames.FrameStore`); frames
            are kept for the :data:`MAX_JOBS_WITH_FRAMES` jobs previewed most recently.
        render_budget: The budget the render clock keeps to; by default
            :data:`RENDER_BUDGET`, shared by every client of the process.
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
        backoff: Sequence[float] = BACKOFF_S,
        jitter: float = 0.1,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.connect_timeout = connect_timeout
        self.render_interval = 1.0 / min(30.0, max(1.0, render_hz))
        self._machine = ConnectionMachine(
            ReconnectPolicy(tuple(backoff), jitter, connect_timeout), random.Random()
        )
        self.connection = "IDLE"
        self.reconnect_attempt = 0
        """The reconnect attempt under way or next while RECONNECTING, else 0."""
        self.latency_ms: float | None = None
        self.connection_id: str | None = None
        self._states: dict[str, RealtimeState] = {}
        self.max_frames = max_frames
        self._frames: dict[str, FrameStore] = {}  # least recently previewed job first
        self._drawer = FrameDrawer()
        self._versions: dict[str, int] = {}
        self._followed: set[str] = set()
        self._resyncing: dict[str, list[ServerMessage]] = {}
        self._overlays: list[tuple[str, RealtimeOverlay, list[int]]] = []
        self._listeners: dict[str, list[Callable[..., None]]] = {}
        self._changed = threading.Condition()
        self._render_lock = threading.Lock()
        self._budget = render_budget if render_budget is not None else RENDER_BUDGET
        self._next_overlay = 0
        self._ws: WebSocketClientConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closing = False
        self._connected_once = threading.Event()
        self._wake_reconnect: asyncio.Event | None = None

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

    def _set_connection(self, state: str) -> None:
        if state == self.connection:
            return
        log.info("realtime connection %s -> %s (%s)", self.connection, state, self.url)
        self.connection = state
        if state != "RECONNECTING":
            self.reconnect_attempt = 0
        self._update_connection_states()
        self._emit("connectionChange", state)

    def _update_connection_states(self) -> None:
        action = ConnectionChanged(self.connection, self.latency_ms, self.reconnect_attempt)
        with self._changed:
            for job_id, s in self._states.items():
                new = reduce(s, action)
                if new is not s:
                    self._states[job_id] = new
                    self._versions[job_id] = self._versions.get(job_id, 0) + 1
            self._changed.notify_all()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._run())
        finally:
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
                    self.reconnect_attempt = int(data.get("attempt", 0))
                    self._update_connection_states()
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
            + urlencode({"token": self.token, "subscribe": "none", "batch": "1"})
        )
        try:
            self._ws = await asyncio.wait_for(
                websocket_connect(ws_url, max_message_size=64 << 20), timeout
            )
        except Exception as exc:
            log.info("connect to %s failed: %s", self.url, exc)
            return exc
        for job_id in sorted(self._followed):
            state = self._states.get(job_id)
            self._send_subscribe(job_id, state.last_seq if state else 0)
        return None

    def _send_subscribe(self, job_id: str, since_seq: int | None) -> None:
        if self._ws is not None:
            msg = make_message(SubscribePayload(job_id=job_id, since_seq=since_seq))
            self._ws.write_message(encode(msg))

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
                self._on_preview(raw)
            else:
                for line in raw.split("\n"):  # batch=1: several messages per frame
                    self._on_text(line, ws)

    def _on_preview(self, raw: bytes) -> None:
        try:
            header, jpeg = decode_preview(raw)
        except ProtocolError as exc:
            log.warning("skipping bad preview: %s", exc)
            return
        with self._changed:
            kept = KeptFrame.from_preview(header, jpeg, len(raw) - len(jpeg) - PREVIEW_PREFIX_BYTES)
            self._frame_store(header.job_id).add(kept)
            state = self._states.get(header.job_id, RealtimeState(job_id=header.job_id))
            self._states[header.job_id] = reduce(state, PreviewReceived(header.frame_id))
            self._versions[header.job_id] = self._versions.get(header.job_id, 0) + 1

    def _on_text(self, raw: str, ws: WebSocketClientConnection) -> None:
        try:
            msg = decode_server_message(raw)
        except ProtocolError as exc:
            kind = peek_type(raw)
            if kind is None:
                log.warning("skipping malformed message (%s): %.200s", exc, raw)
            elif kind not in _KNOWN_TYPES:
                log.debug("ignoring message of unknown type %r", kind)  # newer server: fine
            else:
                log.warning("skipping invalid %s message: %s", kind, exc)
            return
        if isinstance(msg, PingMessage):
            ws.write_message(encode(make_message(PongPayload(timestamp=now_iso()))))
            if msg.payload.latency_ms is not None:
                self.latency_ms = msg.payload.latency_ms
        elif isinstance(msg, ConnectionMessage):
            self.connection_id = msg.payload.connection_id
            self._machine.connected()
            self._flush_machine()
            self._connected_once.set()
        elif isinstance(msg, SubscribedMessage) and not msg.payload.recovered:
            self._resync(msg.payload.job_id)
        self._emit("message", msg)
        job_id = msg.job_id
        if job_id is None:
            if isinstance(msg, PingMessage):
                with self._changed:
                    for jid, s in self._states.items():
                        new = reduce(s, MessageReceived(msg))
                        if new is not s:  # latency or drops changed: the overlay shows both
                            self._states[jid] = new
                            self._versions[jid] = self._versions.get(jid, 0) + 1
            return
        buffer = self._resyncing.get(job_id)
        if buffer is not None:
            buffer.append(msg)  # applied after the stored events the resync fetches
            return
        self._apply(job_id, [msg])

    def _apply(self, job_id: str, messages: list[ServerMessage]) -> None:
        with self._changed:
            state = before = self.state(job_id)
            ended = False
            for msg in messages:
                state = reduce(state, MessageReceived(msg))
                ended = ended or (isinstance(msg, JobMessage) and is_terminal(msg.payload.status))
            if state is not before:
                self._states[job_id] = state
                self._versions[job_id] = self._versions.get(job_id, 0) + 1
                if ended:
                    self._changed.notify_all()

    def _resync(self, job_id: str) -> None:
        """The live replay could not cover a gap: fetch the stored events after the last seq
        applied, apply them in order, then the live messages that arrived meanwhile."""
        log.warning("job %s: live replay incomplete, fetching stored events", job_id)
        if job_id in self._resyncing:
            return
        self._resyncing[job_id] = []
        since = self.state(job_id).last_seq
        loop = self._loop

        def fetch() -> None:
            events: list[ServerMessage] = []
            try:
                body = self.request("GET", f"/v1/jobs/{quote(job_id)}/events?since_seq={since}")
                for raw in body["events"]:
                    events.append(decode_server_message(json.dumps(raw)))
            except (ApiError, ProtocolError, KeyError) as exc:
                log.warning("could not fetch events of job %s: %s", job_id, exc)
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(self._finish_resync, job_id, events)

        threading.Thread(target=fetch, name="realtime-nb-resync", daemon=True).start()

    def _finish_resync(self, job_id: str, events: list[ServerMessage]) -> None:
        buffered = self._resyncing.pop(job_id, [])
        self._apply(job_id, events + buffered)

    # --- rendering -------------------------------------------------------------------------------

    async def _render_loop(self) -> None:
        while True:
            await asyncio.sleep(self.render_interval)
            self._render_tick()

    def render_now(self) -> None:
        """Render every overlay whose job changed since its last render (any thread), now,
        whatever the render clock's budget (a user's explicit call, e.g. after ``wait()``)."""
        with self._render_lock:
            self._render_changed(budgeted=False)

    def _render_tick(self) -> None:
        """The clock's render, within the process-wide :class:`RenderBudget`."""
        with self._render_lock:
            self._render_changed(budgeted=True)

    def _render_changed(self, budgeted: bool) -> None:
        overlays = list(self._overlays)
        if overlays:  # start each tick at the next overlay, so none waits behind the others
            self._next_overlay %= len(overlays)
            overlays = overlays[self._next_overlay :] + overlays[: self._next_overlay]
            self._next_overlay += 1
        for job_id, overlay, seen in overlays:
            version = self._versions.get(job_id, 0)
            if version == seen[0]:
                continue
            if budgeted and self._budget.left() < MAX_UPDATES_PER_RENDER:
                return  # the next tick renders the then latest state: nothing is lost
            state = self._states.get(job_id)
            if state is None:
                continue
            seen[0] = version
            try:
                n = overlay.render(state, self.frames(job_id))
            except Exception:
                log.exception("overlay render failed")
                continue
            self._budget.spend(n)

    def attach_overlay(self, job_id: str, overlay: RealtimeOverlay) -> None:
        """Have the render clock keep ``overlay`` in step with ``job_id``."""
        self._overlays.append((job_id, overlay, [-1]))

    # --- jobs -------------------------------------------------------------------------------

    def state(self, job_id: str) -> RealtimeState:
        """The latest reduced state of a job (an empty state before its first message)."""
        state = self._states.get(job_id)
        if state is None:
            state = RealtimeState(
                job_id=job_id,
                connection=self.connection,
                is_connected=self.connection == "CONNECTED",
                latency_ms=self.latency_ms,
            )
        return state

    def _frame_store(self, job_id: str) -> FrameStore:
        """The job's store, now the most recently previewed; the frames of the job previewed
        longest ago go past :data:`MAX_JOBS_WITH_FRAMES` (an overlay keeps what it was given)."""
        store = self._frames.pop(job_id, None) or FrameStore(self.max_frames)
        self._frames[job_id] = store
        while len(self._frames) > MAX_JOBS_WITH_FRAMES:
            del self._frames[next(iter(self._frames))]
        return store

    def frames(self, job_id: str) -> tuple[KeptFrame, ...]:
        """The previewed frames kept for a job, oldest first, each with every plugin's result,
        timing and warnings for it (bounded by ``max_frames``)."""
        store = self._frames.get(job_id)
        return store.frames() if store is not None else ()

    @property
    def drawer(self) -> FrameDrawer:
        """Draws plugins' results over kept frames; every overlay of this client shares it."""
        return self._drawer

    def draw(self, frame: KeptFrame, plugins: Sequence[str] | None = None) -> bytes:
        """A kept frame as JPEG with ``plugins``' drawings on it (default: every plugin's)."""
        return self._drawer.draw(frame, frame.results if plugins is None else plugins)

    def preview(self, job_id: str) -> bytes | None:
        """The latest preview of a job as JPEG, every plugin's drawing on it; None before one."""
        store = self._frames.get(job_id)
        latest = store.latest if store is not None else None
        if latest is None:
            return None
        return self.draw(latest)

    def follow(self, job_id: str) -> None:
        """Subscribe to a job and replay its history (also after every reconnect)."""
        self._followed.add(job_id)
        loop = self._loop
        if loop is not None and loop.is_running():
            since = self.state(job_id).last_seq
            loop.call_soon_threadsafe(self._send_subscribe, job_id, since)

    def submit(
        self, source: str, plugins: Sequence[str], options: dict[str, Any] | None = None
    ) -> Job:
        """Start a job: ``source`` is a video path or ``synthetic://match?...``.

        Raises:
            ApiError: The server refused the job (unknown plugin, bad source, ...).
        """
        body = {"source": source, "plugins": list(plugins), "options": options or {}}
        record = self.request("POST", "/v1/jobs", body)
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

    def get_job(self, job_id: str) -> dict[str, Any]:
        """The job record from REST."""
        return dict(self.request("GET", f"/v1/jobs/{quote(job_id)}"))

    def jobs(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest jobs, newest first."""
        return list(self.request("GET", f"/v1/jobs?limit={limit}")["jobs"])

    def plugins(self) -> list[dict[str, Any]]:
        """Plugins the server offers, with metadata."""
        return list(self.request("GET", "/v1/plugins")["plugins"])

    def health(self) -> dict[str, Any]:
        """The server's health and delivery stats."""
        return dict(self.request("GET", "/v1/health"))

    def request(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Call the REST API and return the decoded JSON.

        Raises:
            ApiError: Any 4xx/5xx answer, or the server could not be reached (status 0).
        """
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                with exc:
                    err = json.loads(exc.read())["error"]
                raise ApiError(exc.code, err["code"], err["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise ApiError(exc.code, "HTTP_ERROR", str(exc)) from None
        except urllib.error.URLError as exc:
            raise ApiError(0, "CONNECTION_LOST", f"{self.url}: {exc.reason}") from None

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
            with self._changed:
                self._changed.wait(min(poll_s, remaining) if remaining is not None else poll_s)
            if self.connection != "CONNECTED" and not self.state(job_id).finished:
                try:
                    record = self.get_job(job_id)
                except ApiError:
                    continue
                if is_terminal(record["status"]):
                    with self._changed:
                        self._states[job_id] = _state_from_record(self.state(job_id), record)
                        self._versions[job_id] = self._versions.get(job_id, 0) + 1


_KNOWN_TYPES = frozenset(
    {
        "progress",
        "frame",
        "plugin_status",
        "warning",
        "error",
        "metadata",
        "job",
        "ping",
        "connection",
        "subscribed",
    }
)


def _state_from_record(state: RealtimeState, record: dict[str, Any]) -> RealtimeState:
    from dataclasses import replace

    return replace(
        state,
        job_status=record["status"],
        progress=max(state.progress, float(record.get("progress") or 0)),
        stage=record["status"].capitalize() if is_terminal(record["status"]) else state.stage,
    )


class Job:
    """A handle on one job: watch it, wait for it, fetch its results."""

    def __init__(self, client: RealtimeClient, job_id: str) -> None:
        self.client = client
        self.job_id = job_id

    def __repr__(self) -> str:
        s = self.state
        return f"<Job {self.job_id} {s.job_status or 'pending'} {s.progress:.0f}%>"

    @property
    def state(self) -> RealtimeState:
        """The latest reduced state (progress, statuses, timings, warnings, errors)."""
        return self.client.state(self.job_id)

    @property
    def frames(self) -> tuple[KeptFrame, ...]:
        """The previewed frames kept so far, oldest first, with each plugin's result, timing and
        warnings for that frame (what the frame viewer's scrubber runs over)."""
        return self.client.frames(self.job_id)

    def record(self) -> dict[str, Any]:
        """The job record from the server."""
        return self.client.get_job(self.job_id)

    def overlay(self, title: str | None = None) -> RealtimeOverlay:
        """A live widget: progress bar, frame viewer, plugin inspector, error banner.

        Display it (last expression of a cell); it keeps updating while other cells run.
        """
        from realtime_nb.widgets import RealtimeOverlay

        plugins = list(self.state.plugin_status) or list(self.record().get("plugins", []))
        overlay = RealtimeOverlay(
            job_id=self.job_id,
            plugins=plugins,
            title=title,
            on_retry=self.client.retry,
            drawer=self.client.drawer,
        )
        overlay.render(self.state, self.client.frames(self.job_id))
        self.client.attach_overlay(self.job_id, overlay)
        return overlay

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the job ends and return its final record.

        Raises:
            TimeoutError: ``timeout`` seconds passed first.
        """
        self.client.wait_for(self.job_id, timeout)
        self.client.render_now()
        return self.record()

    def results(self, plugin: str | None = None) -> list[dict[str, Any]]:
        """Per-frame, per-plugin results as plain data (complete even if nothing was watched)."""
        path = f"/v1/jobs/{quote(self.job_id)}/results"
        if plugin:
            path += "?" + urlencode({"plugin": plugin})
        return list(self.client.request("GET", path)["results"])

    def report(self, previews: Sequence[bytes] = (), thumbnails: int = 6) -> HTML:
        """A static summary to keep in the notebook: timings chart (mean and p95 per frame),
        preview thumbnails, warnings, errors and totals, as self-contained HTML that saved
        notebooks and nbviewer show without widgets, kernel or server. Call it once the job
        ended.

        Args:
            previews: JPEG previews to show as thumbnails. By default, ``thumbnails`` frames
                spread evenly over the kept frames, every plugin's drawing on them.
            thumbnails: How many kept frames to show when ``previews`` is not given.
        """
        from realtime_nb.report import job_report

        self.client.render_now()
        shown = list(previews)
        if not shown:
            frames = self.frames  # one snapshot: the job may still be running
            n = min(thumbnails, len(frames))
            # Evenly spread, always ending with the newest frame.
            picks = sorted({round(i * (len(frames) - 1) / max(1, n - 1)) for i in range(n)})
            if n == 1:
                picks = [len(frames) - 1]
            shown = [self.client.draw(frames[i]) for i in picks]
        return job_report(self.state, self.results(), shown)

    def cancel(self) -> dict[str, Any]:
        """Ask the server to stop the job."""
        return dict(self.client.request("DELETE", f"/v1/jobs/{quote(self.job_id)}"))
