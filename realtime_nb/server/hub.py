"""Hub, the connection manager: subscriptions, replay, per-connection queues, heartbeat.

Everything here runs on the server's event loop. Producers call :meth:`Hub.publish` with
already-encoded :class:`~realtime_nb.core.delivery.Outgoing` batches; the hub appends them to the
job's :class:`~realtime_nb.core.delivery.ReplayLog` and pushes them into the
:class:`~realtime_nb.core.delivery.Outbox` of every subscribed connection. Each connection has one
writer task that drains its outbox in batches and awaits the last write of each batch (the
futures resolve in order, and they are Tornado's only back-pressure signal), so a slow client
only ever slows itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from realtime_nb.core.delivery import Outbox, Outgoing, ReplayLog
from realtime_nb.core.protocol import (
    PingPayload,
    Priority,
    SubscribedPayload,
    encode,
    make_message,
)

__all__ = [
    "ALL_JOBS",
    "CLOSE_POLICY",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_TIMEOUT",
    "Connection",
    "Hub",
    "Sink",
]

log = logging.getLogger(__name__)

ALL_JOBS = "*"
CLOSE_SLOW_CONSUMER = 4008
CLOSE_TIMEOUT = 4009
CLOSE_POLICY = 1008
"""Closes a connection that keeps sending bad (or too many) messages (policy violation)."""
WRITE_BATCH = 64
"""Most messages handed to a connection's transport before waiting for it to drain."""
DROP_REPORT_INTERVAL_S = 1.0
"""Least time between two drop reports to one connection (besides the heartbeat's pings)."""


class Sink(Protocol):
    """Where a connection's bytes go (the WebSocket handler)."""

    def send(self, data: bytes, binary: bool) -> Awaitable[None]:
        """Queue one message on the transport; the result resolves once it was written."""

    def close(self, code: int, reason: str) -> None:
        """Close the transport."""


class Connection:
    """One client connection: its outbox, subscriptions, heartbeat figures and writer task."""

    def __init__(
        self,
        connection_id: str,
        sink: Sink,
        capacity: int,
        hard_limit: int,
        batch: bool = False,
        ping_interval: float = 30.0,
    ) -> None:
        self.connection_id = connection_id
        self.batch = batch
        self.sink = sink
        self.ping_interval = ping_interval
        self.outbox = Outbox(capacity=capacity, hard_limit=hard_limit)
        self.subscriptions: set[str] = set()
        self.latency_ms: float | None = None
        self.pings_in_flight: deque[float] = deque(maxlen=64)
        """When each ping not yet answered was written, oldest first (pongs come in order)."""
        self.ping_queued = False
        self.last_seen = time.monotonic()
        self.sent = 0
        self.closed = False
        self.writing = False
        self.dropped_reported = 0
        self.dropped_reported_at = float("-inf")
        self.window_start = float("-inf")
        """Start of the one-second window the two counts below are for."""
        self.messages_in_window = 0
        self.bad_in_window = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _ping_bytes(self) -> bytes:
        """A ping as it leaves: its ``dropped`` and ``latency_ms`` are the figures at this
        moment (a ping is queued without them, so its own push, or any shed after it, counts)."""
        self.ping_queued = False
        self.pings_in_flight.append(time.monotonic())
        self.dropped_reported = self.outbox.dropped
        payload = PingPayload(
            interval_seconds=self.ping_interval,
            latency_ms=round(self.latency_ms, 3) if self.latency_ms is not None else None,
            dropped=self.outbox.dropped,
        )
        return encode(make_message(payload))

    def start(self) -> None:
        """Start the writer task (on the running loop)."""
        self._task = asyncio.get_running_loop().create_task(self._write_loop())

    def push(self, item: Outgoing) -> None:
        """Queue a message; never waits."""
        if self.closed:
            return
        self.outbox.push(item)
        self._wake.set()

    def push_many(self, items: Iterable[Outgoing]) -> None:
        """Queue several messages; never waits."""
        if self.closed:
            return
        for item in items:
            self.outbox.push(item)
        self._wake.set()

    def close(self, code: int, reason: str) -> None:
        """Stop writing and close the transport."""
        if not self.closed:
            self.closed = True
            self._wake.set()
            self.sink.close(code, reason)

    async def _write_loop(self) -> None:
        # Messages leave in batches: each one is handed to the transport at once and only the
        # last write is awaited. The futures resolve in order, so awaiting the last is the same
        # back-pressure as awaiting each, for one loop round trip per batch instead of per
        # message.
        while not self.closed:
            batch = self.outbox.drain(WRITE_BATCH)
            if not batch:
                self._wake.clear()
                await self._wake.wait()
                continue
            self.writing = True
            try:
                last: Awaitable[None] | None = None
                for data, binary in self._frames(batch):
                    last = self.sink.send(data, binary)
                if last is not None:
                    await last
            except Exception:  # closed under us: the handler's on_close cleans up
                self.closed = True
                return
            finally:
                self.writing = False
            self.sent += len(batch)

    def count_message(self, bad: bool, now: float | None = None) -> tuple[int, int]:
        """Count a message from the client in the current one-second window.

        Returns:
            ``(messages, bad messages)`` received in this window so far.
        """
        now = time.monotonic() if now is None else now
        if now - self.window_start >= 1.0:
            self.window_start = now
            self.messages_in_window = self.bad_in_window = 0
        self.messages_in_window += 1
        self.bad_in_window += bad
        return self.messages_in_window, self.bad_in_window

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being written (or the connection is closed)."""
        return self.closed or (not self.writing and not len(self.outbox))

    def _frames(self, batch: list[Outgoing]) -> Iterable[tuple[bytes, bool]]:
        """The WebSocket frames for a batch: one per message, or, for a connection that asked
        for ``batch=1``, consecutive JSON messages joined by newlines into one frame (JSON text
        never holds a raw newline), which saves most of the per-frame cost on both ends."""
        text: list[bytes] = []
        for item in batch:
            data = self._ping_bytes() if item.message_type == "ping" else item.data
            if item.binary:
                if text:
                    yield b"\n".join(text), False
                    text = []
                yield data, True
            elif self.batch:
                text.append(data)
            else:
                yield data, False
        if text:
            yield b"\n".join(text), False


class Hub:
    """Routes job messages to subscribed connections.

    Args:
        ping_interval: Seconds between pings.
        client_timeout: Seconds of silence after which a connection is dropped.
        queue_capacity: Outbox size before droppable messages are shed.
        hard_limit: Protected backlog at which a connection is closed as too slow.
        frame_tail: Frame messages each job's replay log keeps.
        max_logs: Replay logs kept (oldest jobs' logs are forgotten first).
        last_seq_of: Last seq of a job the hub has no log for (from the store), or None.
    """

    def __init__(
        self,
        ping_interval: float = 30.0,
        client_timeout: float = 60.0,
        queue_capacity: int = 1000,
        hard_limit: int = 20_000,
        frame_tail: int = 2000,
        max_logs: int = 200,
        last_seq_of: Callable[[str], int | None] | None = None,
    ) -> None:
        self.ping_interval = ping_interval
        self.client_timeout = client_timeout
        self.queue_capacity = queue_capacity
        self.hard_limit = hard_limit
        self.frame_tail = frame_tail
        self.max_logs = max_logs
        self.connections: dict[str, Connection] = {}
        self._subs: dict[str, set[Connection]] = {}
        self._logs: OrderedDict[str, ReplayLog] = OrderedDict()
        self._previews: OrderedDict[str, Outgoing] = OrderedDict()
        self._last_seq_of = last_seq_of or (lambda _job_id: None)
        self._heartbeat: asyncio.Task[None] | None = None
        self.published = 0

    # --- connections ---------------------------------------------------------------------------

    def connect(self, connection_id: str, sink: Sink, batch: bool = False) -> Connection:
        """Register a connection and start its writer (``batch``: newline-joined frames)."""
        conn = Connection(
            connection_id, sink, self.queue_capacity, self.hard_limit, batch, self.ping_interval
        )
        self.connections[connection_id] = conn
        conn.start()
        if self._heartbeat is None and self.ping_interval > 0:
            self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeat_loop())
        return conn

    def disconnect(self, conn: Connection) -> None:
        """Forget a connection and its subscriptions."""
        conn.closed = True
        conn._wake.set()
        self.connections.pop(conn.connection_id, None)
        for job_id in list(conn.subscriptions):
            self._drop_subscriber(job_id, conn)
        conn.subscriptions.clear()

    def _drop_subscriber(self, job_id: str, conn: Connection) -> None:
        """Take ``conn`` off a job's subscribers, forgetting the job once nobody listens (the
        map must not keep every id any client ever named)."""
        subs = self._subs.get(job_id)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self._subs[job_id]

    def send(self, conn: Connection, payload: Any, job_id: str | None = None) -> None:
        """Queue a connection-level message (never dropped)."""
        data = encode(make_message(payload, job_id=job_id))
        conn.push(Outgoing(data, Priority.PROTECTED, None, None, "control"))

    def subscribe(
        self,
        conn: Connection,
        job_id: str,
        since_seq: int | None = None,
        stored_last_seq: int | None = None,
    ) -> None:
        """Subscribe ``conn`` to a job (or ``"*"``), replaying what it missed after ``since_seq``.

        The replay is queued before anything published later, so the client sees every message
        once, in order; it is told ``recovered: false`` when the log cannot cover the gap.
        ``stored_last_seq`` is the job's last seq as stored, when the caller read it (off the
        event loop); without it a job the hub keeps no log of is looked up with ``last_seq_of``.
        """
        conn.subscriptions.add(job_id)
        self._subs.setdefault(job_id, set()).add(conn)
        if job_id == ALL_JOBS:
            self.send(conn, SubscribedPayload(job_id=job_id, recovered=True))
            return
        replay = self._logs.get(job_id)
        items: list[Outgoing] = []
        if replay is not None:
            last_seq = replay.last_seq
            recovered = True
            if since_seq is not None:
                items, recovered = replay.since(since_seq)
        else:
            stored = stored_last_seq if stored_last_seq is not None else self._last_seq_of(job_id)
            last_seq = stored or 0
            recovered = since_seq is None or since_seq >= last_seq
        self.send(
            conn,
            SubscribedPayload(
                job_id=job_id, recovered=recovered, replayed=len(items), last_seq=last_seq
            ),
            job_id=job_id,
        )
        conn.push_many(items)
        preview = self._previews.get(job_id)
        if preview is not None:
            conn.push(preview)

    def has_log(self, job_id: str) -> bool:
        """True if the hub keeps a replay log of this job (it can answer a subscribe alone)."""
        return job_id in self._logs

    def unsubscribe(self, conn: Connection, job_id: str) -> None:
        """Stop sending a job's messages to ``conn``."""
        conn.subscriptions.discard(job_id)
        self._drop_subscriber(job_id, conn)

    def greet(self, conn: Connection) -> None:
        """Ping a new connection at once: with the pong, the server knows the latency and sends
        it in another ping, so a client shows it within two round trips of connecting instead
        of after the first heartbeats (30 s apart by default)."""
        self._ping(conn)

    def pong(self, conn: Connection) -> None:
        """Record a pong: the round trip since the oldest unanswered ping was written."""
        now = time.monotonic()
        conn.last_seen = now
        if conn.pings_in_flight:
            first = conn.latency_ms is None
            conn.latency_ms = (now - conn.pings_in_flight.popleft()) * 1000.0
            if first and not conn.closed:
                self._ping(conn)  # tell the client its first latency now

    def seen(self, conn: Connection) -> None:
        """Record that the client said something."""
        conn.last_seen = time.monotonic()

    # --- publishing ------------------------------------------------------------------------

    def _targets(self, job_id: str) -> set[Connection]:
        everyone = self._subs.get(ALL_JOBS, set())
        specific = self._subs.get(job_id)
        return everyone | specific if specific else everyone

    def publish(self, job_id: str, items: list[Outgoing]) -> None:
        """Log a job's messages and queue them for every subscriber. Never waits."""
        replay = self._logs.get(job_id)
        if replay is None:
            base = (items[0].seq or 1) - 1 if items else 0
            replay = self._logs[job_id] = ReplayLog(frame_tail=self.frame_tail, base_seq=base)
            while len(self._logs) > self.max_logs:
                self._logs.popitem(last=False)
        for item in items:
            replay.append(item)
        self.published += len(items)
        for conn in self._targets(job_id):
            conn.push_many(items)
            if conn.outbox.overflowing:
                log.warning("closing %s: cannot keep up", conn.connection_id)
                conn.close(CLOSE_SLOW_CONSUMER, "client too slow: outbox over its hard limit")
            elif conn.outbox.dropped != conn.dropped_reported:
                self._report_drops(conn, force=any(i.message_type == "job" for i in items))

    def _report_drops(self, conn: Connection, force: bool = False) -> None:
        """Tell a client how many messages its outbox shed, soon rather than at the next
        heartbeat: at most once a second, and at once with a job's lifecycle message (right
        after it, so a short job's overlay shows its final drop count). It travels as a
        ``ping``, which already carries ``dropped``."""
        now = time.monotonic()
        if not force and now - conn.dropped_reported_at < DROP_REPORT_INTERVAL_S:
            return
        self._ping(conn)

    def _ping(self, conn: Connection) -> None:
        """Queue a ping, unless one is already waiting: it is encoded as it leaves, with the
        figures of that moment (see :meth:`Connection._ping_bytes`)."""
        conn.dropped_reported_at = time.monotonic()
        if not conn.ping_queued:
            conn.ping_queued = True
            conn.push(Outgoing(b"", Priority.PROTECTED, None, None, "ping"))

    def publish_preview(self, job_id: str, item: Outgoing) -> None:
        """Send a binary preview (latest wins) and keep it for late subscribers."""
        self._previews[job_id] = item
        self._previews.move_to_end(job_id)
        while len(self._previews) > self.max_logs:
            self._previews.popitem(last=False)
        for conn in self._targets(job_id):
            conn.push(item)
            if conn.outbox.dropped != conn.dropped_reported:
                self._report_drops(conn)

    # --- heartbeat -----------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            self.heartbeat()

    def heartbeat(self) -> None:
        """Ping every connection; drop those silent for longer than ``client_timeout``."""
        now = time.monotonic()
        for conn in list(self.connections.values()):
            if now - conn.last_seen > self.client_timeout:
                log.warning(
                    "closing %s: no pong within the client timeout (%g s)",
                    conn.connection_id,
                    self.client_timeout,
                )
                conn.close(CLOSE_TIMEOUT, "no pong within the client timeout")
                self.disconnect(conn)
                continue
            self._ping(conn)

    async def drain(self, timeout: float) -> bool:
        """Wait until every connection has written what is queued for it, at most ``timeout``
        seconds (a shutdown's last messages reach clients before their sockets close).

        Returns:
            True if every connection drained in time.
        """
        deadline = time.monotonic() + timeout
        while not all(c.idle for c in self.connections.values()):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def stop(self) -> None:
        """Stop the heartbeat and close every connection."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            self._heartbeat = None
        for conn in list(self.connections.values()):
            conn.close(1001, "server shutting down")
            self.disconnect(conn)

    def stats(self) -> dict[str, Any]:
        """Per-connection figures for ``GET /v1/health``."""
        return {
            "connections": len(self.connections),
            "subscribed_jobs": len(self._subs),
            "published": self.published,
            "clients": [
                {
                    "connection_id": c.connection_id,
                    "subscriptions": sorted(c.subscriptions),
                    "queued": len(c.outbox),
                    "sent": c.sent,
                    "dropped": c.outbox.dropped,
                    "dropped_by_type": dict(c.outbox.dropped_by_type),
                    "latency_ms": c.latency_ms,
                }
                for c in self.connections.values()
            ],
        }
