"""The producer side of ``WS /v1/ingest``: a run's buffer and the thread that sends it.

:class:`RunBuffer` is what a run's ``log``, ``progress``, ``warn`` and ``image`` fill, from the
loop's thread; :class:`RunSender` is the background thread (with an event loop of its own)
that drains it: numbered batches, one in flight, each kept until the server acknowledged it
(committed), sent again after a reconnect. The server applies each batch number once, so a
short outage loses nothing and doubles nothing.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import msgspec
from tornado.websocket import WebSocketClientConnection, websocket_connect

from realtime_nb.core.protocol import (
    ErrorCode,
    IngestAck,
    IngestHeartbeat,
    IngestReady,
    IngestRejected,
    ProducedEnd,
    ProducedEvent,
    ProducedProgress,
    ProducedWarning,
    WarningPayload,
    encode,
    is_terminal,
)

__all__ = ["BATCH_POINTS", "SEND_INTERVAL_S", "Entry", "RunBuffer", "RunSender"]

log = logging.getLogger(__name__)

BATCH_POINTS = 5_000
"""Most metric points in one batch."""
SEND_INTERVAL_S = 0.25
"""How often the sender looks for new points when it has nothing in flight."""
BATCH_INTERVAL_S = 0.2
"""Least time between two batches while the loop logs less than a batch's worth in it: the
points gather into fewer, larger batches, and the sender wakes (and takes the loop's GIL) a
few times a second instead of once per server round trip."""
ACK_TIMEOUT_S = 30.0
"""How long the sender waits for a batch's acknowledgement before it reconnects."""
MAX_QUEUED_IMAGES = 8
"""Images waiting to be sent; past it the oldest go (an image is a live view, not data)."""

Entry = tuple[int, float, dict[str, Any]]
"""One ``log`` call: ``(step, wall_time, {name: value})``."""

_answer_decoder = msgspec.json.Decoder(IngestReady | IngestAck | IngestRejected)


@dataclass
class RunBuffer:
    """What a run logged and not yet handed to the sender. ``entries`` is appended to without
    the lock (a deque's append is atomic); everything else is read and written under ``lock``.

    Attributes:
        name: The run's name (warnings are filed under it).
        bound: Most entries kept; past it the oldest are dropped.
        entries: ``log`` calls, oldest first.
        dropped: Metric points dropped because ``entries`` was full.
        control: Warnings and the end, in order.
        progress: The latest progress (only the latest is sent).
        images: Encoded binary previews waiting to be sent.
        ended: True once the run's end was queued.
    """

    name: str
    bound: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    entries: collections.deque[Entry] = field(default_factory=collections.deque)
    dropped: int = 0
    control: list[ProducedEvent] = field(default_factory=list)
    progress: ProducedProgress | None = None
    images: collections.deque[bytes] = field(
        default_factory=lambda: collections.deque(maxlen=MAX_QUEUED_IMAGES)
    )
    ended: bool = False

    def warn(self, message: str, severity: Literal["low", "medium", "high"]) -> None:
        """Queue a warning."""
        event = ProducedWarning(
            payload=WarningPayload(plugin=self.name, message=message, severity=severity)
        )
        with self.lock:
            self.control.append(event)


class RunSender:
    """A run's background thread: batches its buffer and sends it over ``WS /v1/ingest``,
    one batch in flight until the server acknowledged it; reconnects with backoff.

    Args:
        buffer: What the run logged.
        url: ``http://host:port`` of the server.
        job_id: The run's job.
        token: Its producer token.
        batch_points: Most metric points per batch.
        backoff: Delays between reconnect attempts (the last one repeats).
        jitter: Relative random spread of each delay.
    """

    def __init__(
        self,
        buffer: RunBuffer,
        url: str,
        job_id: str,
        token: str,
        batch_points: int,
        backoff: tuple[float, ...],
        jitter: float,
    ) -> None:
        self.buffer = buffer
        self.job_id = job_id
        self.batch_points = max(1, batch_points)
        self.backoff = backoff or (1.0,)
        self.jitter = jitter
        base = url.rstrip("/").replace("http", "ws", 1)
        self.url = f"{base}/v1/ingest?" + urlencode({"job_id": job_id, "token": token})
        self.in_flight = 0
        """``log`` calls in the batch awaiting its acknowledgement."""
        self.job_ended = False
        """True once the server said the job ended (the sender then stops)."""
        self._next_batch = 1
        self._pending: tuple[int, bytes, int] | None = None  # batch, body, log calls in it
        self._last_build = -math.inf
        self._backlog = False  # the last batch left entries behind: build the next at once
        self._fill_s = math.inf  # how long the loop took to log a batch's worth, lately
        self._ws: WebSocketClientConnection | None = None
        self._heartbeat_s = 10.0
        self._closing = False
        self._deadline = math.inf
        self._bad_values: set[str] = set()
        self._valid_names: set[str] = set()
        self._reported_drops = 0
        self._random = random.Random()
        self._thread = threading.Thread(
            target=self._main, name=f"realtime-nb-run-{job_id}", daemon=True
        )

    def start(self) -> None:
        """Start the thread (a daemon: a process that exits leaves its run to the server's
        heartbeat timeout)."""
        self._thread.start()

    def close(self, timeout: float) -> None:
        """Send what is left and stop; wait at most ``timeout`` seconds."""
        self._deadline = time.monotonic() + timeout
        self._closing = True
        self._thread.join(timeout + 1.0)

    def has_control(self) -> bool:
        """True while progress, warnings or the end wait to be sent."""
        run = self.buffer
        with run.lock:
            return bool(run.control) or run.progress is not None

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        attempt = 0
        while not self.job_ended:
            if time.monotonic() > self._deadline:
                break
            if self._ws is None:
                if await self._connect():
                    attempt = 0
                else:
                    delay = self.backoff[min(attempt, len(self.backoff) - 1)]
                    attempt += 1
                    delay *= 1 + self._random.uniform(-self.jitter, self.jitter)
                    delay = min(delay, max(0.0, self._deadline - time.monotonic()))
                    log.info("run %s: reconnecting in %.1f s", self.job_id, delay)
                    await asyncio.sleep(delay)
                    continue
            try:
                done = await self._send_some()
            except Exception as exc:  # the connection broke: the pending batch is kept
                log.info("run %s: connection lost (%s)", self.job_id, exc)
                self._drop_socket()
                continue
            if done:
                break
        await self._close_socket()

    async def _connect(self) -> bool:
        try:
            ws = await asyncio.wait_for(websocket_connect(self.url, max_message_size=1 << 20), 10.0)
            raw = await asyncio.wait_for(ws.read_message(), 10.0)
        except Exception as exc:
            log.info("run %s: connect failed: %s", self.job_id, exc)
            return False
        if not isinstance(raw, str):
            return False
        answer = _answer_decoder.decode(raw)
        if not isinstance(answer, IngestReady):
            return False
        self._ws = ws
        self._heartbeat_s = max(0.5, answer.heartbeat_timeout_s / 3)
        if self._pending is not None and self._pending[0] <= answer.last_batch:
            self._acked()  # applied before the connection broke; the answer was lost
        self._next_batch = max(self._next_batch, answer.last_batch + 1)
        return True

    def _drop_socket(self) -> None:
        """Forget a broken connection, closing its socket now (this loop may end before a
        closing handshake would)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()
            stream = getattr(ws, "stream", None)
            if stream is not None and not stream.closed():
                stream.close()

    async def _close_socket(self) -> None:
        """Close the connection at the run's end: the closing handshake (at most 1 s), then
        the socket itself, so none is left open when this thread's loop ends."""
        ws = self._ws
        if ws is not None:
            ws.close()
            with contextlib.suppress(Exception):
                while await asyncio.wait_for(ws.read_message(), 1.0) is not None:
                    pass
        self._drop_socket()

    def _acked(self) -> None:
        self._pending = None
        self.in_flight = 0

    async def _send_some(self) -> bool:
        """Send images and one batch and wait for its answer; True when the run is over."""
        ws = self._ws
        assert ws is not None
        while self.buffer.images:
            await ws.write_message(self.buffer.images.popleft(), binary=True)
        if self._pending is None:
            await self._gather()
            self._pending = self._build()
        if self._pending is None:
            if self._closing and self.buffer.ended:
                return True
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < self._heartbeat_s:
                await asyncio.sleep(SEND_INTERVAL_S)
                if self._has_work() or self._closing:
                    return False
            await ws.write_message(encode(IngestHeartbeat()))
            return False
        batch, body, _ = self._pending
        await ws.write_message(body)
        raw = await asyncio.wait_for(ws.read_message(), ACK_TIMEOUT_S)
        if raw is None:
            raise ConnectionError("the server closed the ingest socket")
        answer = _answer_decoder.decode(raw)
        if isinstance(answer, IngestAck):
            self._acked()
            if is_terminal(answer.status) and answer.status != "interrupted":
                self.job_ended = True
                return True
        elif isinstance(answer, IngestRejected):
            log.error("run %s: batch %s rejected: %s", self.job_id, batch, answer.message)
            self._acked()  # it cannot be fixed by sending it again
            if answer.code == ErrorCode.JOB_ENDED:
                self.job_ended = True
                return True
        return False

    async def _gather(self) -> None:
        """Let the next batch fill until :data:`BATCH_INTERVAL_S` after the last one was
        built, or until the loop, at its latest pace, has logged a batch's worth; at once
        when the last batch left entries behind or the run is closing. One sleep, no polling:
        each wake of this thread takes the GIL from the loop."""
        if self._closing or self._backlog:
            return
        wait = self._last_build + min(BATCH_INTERVAL_S, self._fill_s) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _has_work(self) -> bool:
        run = self.buffer
        return bool(run.entries) or bool(run.images) or self.has_control()

    def _build(self) -> tuple[int, bytes, int] | None:
        """The next batch from the buffer (or None): metric points first, then the latest
        progress, warnings, and the end once every point went."""
        run = self.buffer
        entries: list[Entry] = []
        with run.lock:
            buffer = run.entries
            points = 0
            while buffer and points < self.batch_points:
                entry = buffer.popleft()
                entries.append(entry)
                points += len(entry[2])
            more = bool(buffer)
            self.in_flight = len(entries)
        now = time.monotonic()
        if points and not more:  # logged in (now - last build): the pace of the loop
            self._fill_s = (now - self._last_build) * self.batch_points / points
        self._last_build, self._backlog = now, more
        metric_points = self._points(entries)  # may add warnings: taken just below
        with run.lock:
            control, run.control = run.control, []
            progress, run.progress = run.progress, None
            dropped = run.dropped
        events: list[Any] = []
        if metric_points:
            # Plain tuples: msgspec encodes them as MetricPoint's arrays without building a
            # struct per point (this thread shares the loop's GIL).
            events.append({"type": "metric", "payload": {"points": metric_points}})
        if progress is not None:
            events.append(progress)
        if dropped > self._reported_drops:
            events.append(self._drop_warning(dropped - self._reported_drops))
            self._reported_drops = dropped
        for event in control:
            if isinstance(event, ProducedEnd) and more:
                with run.lock:
                    run.control.append(event)  # ends only after every point was sent
            else:
                events.append(event)
        if not events:
            return None
        batch = self._next_batch
        self._next_batch += 1
        body = encode({"type": "batch", "batch": batch, "events": events})
        return batch, body, len(entries)

    def _points(self, entries: list[Entry]) -> list[tuple[str, int, float | None, float]]:
        points: list[tuple[str, int, float | None, float]] = []
        append = points.append
        valid = self._valid_names
        for step, wall_time, values in entries:
            step = int(step)
            for name, raw in values.items():
                try:
                    value = float(raw)
                except (TypeError, ValueError):
                    self._bad_value(name, raw, "is not a number")
                    continue
                if name not in valid:  # checked once per name, not once per point
                    if type(name) is not str or not 0 < len(name) <= 200:
                        self._bad_value(name, raw, "has a name that is not 1 to 200 characters")
                        continue
                    valid.add(name)
                # inf - inf and nan - nan are nan: no JSON form, sent as null
                append((name, step, value if value - value == 0.0 else None, wall_time))
        return points

    def _bad_value(self, name: object, raw: object, why: str) -> None:
        key = repr(name)
        if key not in self._bad_values:  # once per metric, not once per point
            self._bad_values.add(key)
            self.buffer.warn(f"metric {key}: {raw!r} {why}; skipped", "low")

    def _drop_warning(self, n: int) -> ProducedWarning:
        message = (
            f"{n} metric points dropped: the loop logged faster than the server took them "
            f"(buffer of {self.buffer.bound} log calls)"
        )
        return ProducedWarning(
            payload=WarningPayload(plugin=self.buffer.name, message=message, severity="medium")
        )
