"""Experiments: any Python loop reports live through the server, from any process.

``client.experiment(name, total=, config=)`` creates a job of kind ``experiment`` and returns
a :class:`Run`. The loop calls :meth:`Run.log`, :meth:`Run.progress`, :meth:`Run.image` and
:meth:`Run.warn`; none of them waits for the network. ``log`` only appends to a bounded buffer
(past the bound the oldest points go, and the run reports how many); a background thread sends
the buffer in numbered batches over ``WS /v1/ingest`` and keeps each batch until the server
acknowledged it. If the server is away, the thread reconnects with the client's backoff and
sends the same batch again: the server applies each batch number once, so nothing is lost or
doubled by a short outage.

Example:
    >>> import realtime_nb as rt
    >>> client = rt.connect()
    >>> with client.experiment("sweep-lr", total=3, config={"lr": 0.1}) as run:
    ...     for epoch in range(3):
    ...         run.log({"loss": 1.0 / (epoch + 1)}, step=epoch)
    ...         run.progress(epoch + 1)
    >>> run.metrics()["loss"][-1][:2]
    (2, 0.3333333333333333)
    >>> client.close()
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
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import msgspec
import numpy as np
from tornado.websocket import WebSocketClientConnection, websocket_connect

from realtime_nb.core.connection import ReconnectPolicy
from realtime_nb.core.protocol import (
    ErrorCode,
    IngestAck,
    IngestHeartbeat,
    IngestReady,
    IngestRejected,
    PreviewHeader,
    ProducedEnd,
    ProducedEvent,
    ProducedProgress,
    ProducedWarning,
    ProgressPayload,
    RunEndPayload,
    WarningPayload,
    encode,
    encode_preview,
    is_terminal,
)

if TYPE_CHECKING:
    from IPython.display import HTML

    from realtime_nb.core.state import RealtimeState
    from realtime_nb.notebook.client import RealtimeClient
    from realtime_nb.notebook.widgets import RealtimeOverlay

__all__ = ["DEFAULT_BUFFER_SIZE", "Run", "Tracked", "track"]

log = logging.getLogger(__name__)

DEFAULT_BUFFER_SIZE = 100_000
"""``log`` calls a run buffers before it drops the oldest."""
BATCH_POINTS = 5_000
"""Most metric points in one batch."""
SEND_INTERVAL_S = 0.25
"""How often the sender looks for new points when it has nothing in flight."""
ACK_TIMEOUT_S = 30.0
"""How long the sender waits for a batch's acknowledgement before it reconnects."""
IMAGE_MAX_WIDTH = 640
MAX_QUEUED_IMAGES = 8

_Entry = tuple[int, float, dict[str, Any]]
_answer_decoder = msgspec.json.Decoder(IngestReady | IngestAck | IngestRejected)


class Run:
    """One experiment as its producer sees it: log metrics, progress, images and warnings.

    Use it as a context manager (``with client.experiment(...) as run:``): leaving the block
    ends the job ``completed``; an exception ends it ``failed`` with the traceback as its error.
    A process killed mid-run leaves it ``interrupted`` once the server's heartbeat timeout
    passes.

    Args:
        client: The client that created the run (for overlays, metrics and reports).
        record: The job record the server returned.
        producer_token: The job's producer token (it writes to this job only).
        buffer_size: ``log`` calls buffered before the oldest are dropped.
        batch_points: Most metric points per batch.
        close_timeout: Seconds leaving the block waits for the last batches to be sent.
        backoff: Delays between reconnect attempts (the client's by default; the last one
            repeats: a run never gives up while it runs).
        jitter: Relative random spread of each delay.

    Attributes:
        job_id: The experiment's job id.
        name: Its name.
        total: The ``progress`` count that means 100 %, or None.
    """

    def __init__(
        self,
        client: RealtimeClient,
        record: Mapping[str, Any],
        producer_token: str,
        *,
        buffer_size: int = DEFAULT_BUFFER_SIZE,
        batch_points: int = BATCH_POINTS,
        close_timeout: float = 30.0,
        backoff: Sequence[float] = ReconnectPolicy.delays,
        jitter: float = ReconnectPolicy.jitter,
    ) -> None:
        if buffer_size < 1:
            raise ValueError("buffer_size must be at least 1")
        self.client = client
        self.job_id: str = record["job_id"]
        self.name: str = record.get("name") or self.job_id
        self.total: int | None = record.get("frames_total")
        self.close_timeout = close_timeout
        self._buffer: collections.deque[_Entry] = collections.deque()
        self._bound = buffer_size
        self._lock = threading.Lock()
        self._next_step = 0
        self._dropped = 0
        self._control: list[ProducedEvent] = []
        self._progress: ProducedProgress | None = None
        self._images: collections.deque[bytes] = collections.deque(maxlen=MAX_QUEUED_IMAGES)
        self._image_count = 0
        self._ended = False
        self._watched = False
        self._sender = _Sender(self, producer_token, batch_points, tuple(backoff), jitter)
        self._sender.start()

    def __repr__(self) -> str:
        return f"<Run {self.name!r} {self.job_id}>"

    # --- what the loop calls: never waits ---------------------------------------------------

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Record metric values at ``step`` (default: one past the last step logged).

        Only appends to the buffer; a background thread sends it. Values are converted with
        ``float`` there (numpy and tensor scalars work); a value that is not a number is
        skipped with a warning. Past the buffer's bound the oldest calls are dropped and
        :attr:`dropped` counts their points (the overlay shows a warning too).
        """
        if step is None:
            step = self._next_step
        self._next_step = step + 1
        buffer = self._buffer
        if len(buffer) >= self._bound:
            with self._lock:  # the sender takes entries under it too
                while len(buffer) >= self._bound:
                    self._dropped += len(buffer.popleft()[2])
        # deque.append is atomic: the common case takes no lock.
        buffer.append((step, time.time(), dict(metrics)))

    def progress(self, n: float, stage: str | None = None) -> None:
        """Report ``n`` steps done out of ``total`` (the bar shows ``n / total``; without a
        total it stays at 0 and only the stage changes). Only the latest is sent."""
        percent = 0.0 if not self.total else min(100.0, max(0.0, 100.0 * n / self.total))
        payload = ProgressPayload(job_id=self.job_id, progress=percent, stage=stage)
        with self._lock:
            self._progress = ProducedProgress(payload=payload)

    def warn(self, message: str, severity: Literal["low", "medium", "high"] = "medium") -> None:
        """Show a warning in the overlay's list (and keep it in the job's events).

        Raises:
            ValueError: ``severity`` is not ``low``, ``medium`` or ``high``.
        """
        if severity not in ("low", "medium", "high"):
            raise ValueError(f"severity must be low, medium or high, not {severity!r}")
        event = ProducedWarning(
            payload=WarningPayload(plugin=self.name, message=str(message), severity=severity)
        )
        with self._lock:
            self._control.append(event)

    def image(self, name: str, image: Any) -> None:
        """Show an image in the frame viewer: an array (HxW grey, HxWx3 RGB or HxWx4 RGBA;
        floats are taken as 0 to 1) or a matplotlib figure. Encoded as JPEG (at most 640
        pixels wide) now; sent without waiting. Images are shown live, not stored."""
        rgb = _as_rgb(image)
        import cv2  # the encoder of every preview; loaded on the first image only

        height, width = rgb.shape[:2]
        if width > IMAGE_MAX_WIDTH:
            scale = IMAGE_MAX_WIDTH / width
            rgb = cv2.resize(rgb, (IMAGE_MAX_WIDTH, max(1, round(height * scale))))
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise ValueError("the image could not be encoded as JPEG")
        with self._lock:
            index = self._image_count
            self._image_count += 1
        header = PreviewHeader(
            job_id=self.job_id,
            frame_id=f"{name} #{index}",
            frame_index=index,
            width=rgb.shape[1],
            height=rgb.shape[0],
        )
        self._images.append(encode_preview(header, jpeg.tobytes()))

    @property
    def dropped(self) -> int:
        """Metric points dropped because the buffer was full."""
        return self._dropped

    @property
    def ended(self) -> bool:
        """True once the run ended (left its block, or the server ended the job)."""
        return self._ended or self._sender.job_ended

    # --- ending -------------------------------------------------------------------------

    def finish(
        self, status: Literal["completed", "failed"] = "completed", error: str | None = None
    ) -> None:
        """End the run (what leaving the ``with`` block does): send what is buffered, then
        the end, waiting at most ``close_timeout`` seconds. Calling it again does nothing."""
        if self._ended:
            return
        self._ended = True
        end = ProducedEnd(payload=RunEndPayload(status=status, error=error))
        with self._lock:
            self._control.append(end)
        self._sender.close(self.close_timeout)
        unsent = self.pending()
        if unsent:
            log.warning(
                "run %s ended with %d log calls not sent: the server was unreachable for %g s",
                self.job_id,
                unsent,
                self.close_timeout,
            )

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None or issubclass(exc_type, GeneratorExit):
            self.finish("completed")
        else:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            self.finish("failed", text)

    def pending(self) -> int:
        """``log`` calls buffered and not yet acknowledged by the server."""
        with self._lock:
            return len(self._buffer) + self._sender.in_flight

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything logged so far is stored on the server; False on timeout."""
        deadline = time.monotonic() + timeout
        while self.pending() or self._sender.has_control():
            if self._sender.job_ended or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # --- watching -----------------------------------------------------------------------

    def watch(self) -> None:
        """Follow the run in this client (its messages are replayed from the start), so
        :attr:`state` and overlays are live. Overlays and reports call it; a script that only
        logs never pays for decoding its own points. Images shown before the first call are
        not replayed, except the latest."""
        if not self._watched:
            self._watched = True
            self.client.follow(self.job_id)

    @property
    def state(self) -> RealtimeState:
        """The run as this client reduced it (metrics, progress, warnings); starts watching."""
        self.watch()
        return self.client.state(self.job_id)

    def overlay(self, title: str | None = None) -> RealtimeOverlay:
        """The live panel: progress, a chart per metric, images, warnings (like a video
        job's; ``client.job(run.job_id).overlay()`` gives the same)."""
        self.watch()
        return self.client.job(self.job_id).overlay(title or f"Run {self.name}")

    def metrics(
        self, name: str | None = None, timeout: float = 30.0
    ) -> dict[str, list[tuple[int, float | None, float]]]:
        """Every stored point, ``{name: [(step, value, wall_time), ...]}``, complete and in log
        order (waits up to ``timeout`` seconds for what is still buffered to be stored)."""
        if not self.ended:
            self.flush(timeout)
        return fetch_metrics(self.client, self.job_id, name)

    def record(self) -> dict[str, Any]:
        """The job record from the server."""
        return self.client.get_job(self.job_id)

    def report(self, thumbnails: int = 6) -> HTML:
        """A static HTML report to keep in the notebook: the config, a chart per metric with
        its latest and best value, the images seen and the warnings."""
        from realtime_nb.notebook.report import experiment_report

        points = self.metrics()
        self.watch()
        if self.ended:  # the replay ends with the job's end: wait for it
            self.client.wait_for(self.job_id, timeout=30)
        frames = self.client.frames(self.job_id)[-thumbnails:]
        images = [self.client.draw(f) for f in frames]
        return experiment_report(self.record(), self.client.state(self.job_id), points, images)


def fetch_metrics(
    client: RealtimeClient, job_id: str, name: str | None = None
) -> dict[str, list[tuple[int, float | None, float]]]:
    """A job's stored metric points from ``GET /v1/jobs/{id}/metrics``, as tuples."""
    path = f"/v1/jobs/{job_id}/metrics" + (f"?{urlencode({'name': name})}" if name else "")
    body = client.request("GET", path)
    return {k: [(int(s), v, float(w)) for s, v, w in pts] for k, pts in body["metrics"].items()}


def _as_rgb(image: Any) -> np.ndarray[Any, Any]:
    """An image as HxWx3 uint8 RGB."""
    if hasattr(image, "savefig") and hasattr(image, "canvas"):  # a matplotlib figure
        image.canvas.draw()
        image = np.asarray(image.canvas.buffer_rgba())
    array = np.asarray(image)
    if array.dtype.kind == "f":
        array = np.clip(np.nan_to_num(array) * 255.0, 0, 255)
    array = array.astype(np.uint8, copy=False)
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4) or min(array.shape[:2]) < 1:
        raise ValueError(f"an image must be HxW, HxWx3 or HxWx4, not {array.shape}")
    return np.ascontiguousarray(array[:, :, :3])


class _Sender:
    """The run's background thread: batches the buffer and sends it, one batch in flight,
    until the server acknowledged it; reconnects with backoff."""

    def __init__(
        self,
        run: Run,
        token: str,
        batch_points: int,
        backoff: tuple[float, ...],
        jitter: float,
    ) -> None:
        self.run = run
        self.batch_points = max(1, batch_points)
        self.backoff = backoff or (1.0,)
        self.jitter = jitter
        base = run.client.url.replace("http", "ws", 1)
        self.url = f"{base}/v1/ingest?" + urlencode({"job_id": run.job_id, "token": token})
        self.in_flight = 0
        self.job_ended = False
        self._next_batch = 1
        self._pending: tuple[int, bytes, int] | None = None  # batch, body, log calls in it
        self._ws: WebSocketClientConnection | None = None
        self._heartbeat_s = 10.0
        self._closing = False
        self._deadline = math.inf
        self._bad_values: set[str] = set()
        self._valid_names: set[str] = set()
        self._reported_drops = 0
        self._random = random.Random()
        self._thread = threading.Thread(
            target=self._main, name=f"realtime-nb-run-{run.job_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float) -> None:
        """Send what is left and stop; wait at most ``timeout`` seconds."""
        self._deadline = time.monotonic() + timeout
        self._closing = True
        self._thread.join(timeout + 1.0)

    def has_control(self) -> bool:
        run = self.run
        with run._lock:
            return bool(run._control) or run._progress is not None

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
                    log.info("run %s: reconnecting in %.1f s", self.run.job_id, delay)
                    await asyncio.sleep(delay)
                    continue
            try:
                done = await self._send_some()
            except Exception as exc:  # the connection broke: the pending batch is kept
                log.info("run %s: connection lost (%s)", self.run.job_id, exc)
                self._drop_socket()
                continue
            if done:
                break
        self._drop_socket()

    async def _connect(self) -> bool:
        try:
            ws = await asyncio.wait_for(websocket_connect(self.url, max_message_size=1 << 20), 10.0)
            raw = await asyncio.wait_for(ws.read_message(), 10.0)
        except Exception as exc:
            log.info("run %s: connect failed: %s", self.run.job_id, exc)
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
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def _acked(self) -> None:
        self._pending = None
        self.in_flight = 0

    async def _send_some(self) -> bool:
        """Send images and one batch and wait for its answer; True when the run is over."""
        ws = self._ws
        assert ws is not None
        while self.run._images:
            await ws.write_message(self.run._images.popleft(), binary=True)
        if self._pending is None:
            self._pending = self._build()
        if self._pending is None:
            if self._closing and self.run._ended:
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
            log.error("run %s: batch %s rejected: %s", self.run.job_id, batch, answer.message)
            self._acked()  # it cannot be fixed by sending it again
            if answer.code == ErrorCode.JOB_ENDED:
                self.job_ended = True
                return True
        return False

    def _has_work(self) -> bool:
        run = self.run
        return bool(run._buffer) or bool(run._images) or self.has_control()

    def _build(self) -> tuple[int, bytes, int] | None:
        """The next batch from the buffer (or None): metric points first, then the latest
        progress, warnings, and the end once every point went."""
        run = self.run
        entries: list[_Entry] = []
        with run._lock:
            buffer = run._buffer
            points = 0
            while buffer and points < self.batch_points:
                entry = buffer.popleft()
                entries.append(entry)
                points += len(entry[2])
            more = bool(buffer)
            self.in_flight = len(entries)
        metric_points = self._points(entries)  # may add warnings: taken just below
        with run._lock:
            control, run._control = run._control, []
            progress, run._progress = run._progress, None
            dropped = run._dropped
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
                with run._lock:
                    run._control.append(event)  # ends only after every point was sent
            else:
                events.append(event)
        if not events:
            return None
        batch = self._next_batch
        self._next_batch += 1
        body = encode({"type": "batch", "batch": batch, "events": events})
        return batch, body, len(entries)

    def _points(self, entries: list[_Entry]) -> list[tuple[str, int, float | None, float]]:
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
            self.run.warn(f"metric {key}: {raw!r} {why}; skipped", "low")

    def _drop_warning(self, n: int) -> ProducedWarning:
        message = (
            f"{n} metric points dropped: the loop logged faster than the server took them "
            f"(buffer of {self.run._bound} log calls)"
        )
        return ProducedWarning(
            payload=WarningPayload(plugin=self.run.name, message=message, severity="medium")
        )


class Tracked:
    """An iterable that reports its progress as an experiment (what :func:`track` returns).

    Attributes:
        run: The :class:`Run` while iterating (log metrics through it), else None.
    """

    def __init__(
        self,
        iterable: Iterable[Any],
        client: RealtimeClient | None,
        name: str,
        total: int | None,
        config: Mapping[str, Any] | None,
        connect: Callable[[], RealtimeClient] | None = None,
    ) -> None:
        if client is None and connect is None:
            raise ValueError("track needs a client (or a way to connect one)")
        self.iterable = iterable
        self.client = client
        self.owns_client = client is None
        self._connect = connect
        self.name = name
        self.total = total if total is not None else _length(iterable)
        self.config = dict(config or {})
        self.run: Run | None = None

    def connect(self) -> RealtimeClient:
        """A client of its own, closed when the iteration ends."""
        assert self._connect is not None
        return self._connect()

    def __len__(self) -> int:
        if self.total is None:
            raise TypeError("this iterable has no length")
        return self.total

    def __iter__(self) -> Iterator[Any]:
        client = self.client
        if client is None:
            client = self.client = self.connect()
        try:
            with client.experiment(self.name, total=self.total, config=self.config) as run:
                self.run = run
                total = f"/{self.total}" if self.total else ""
                run.progress(0, stage=f"0{total}")
                for i, item in enumerate(self.iterable, 1):
                    yield item
                    run.progress(i, stage=f"{i}{total}")
        finally:
            if self.owns_client:
                with contextlib.suppress(Exception):
                    client.close()


def _length(iterable: Iterable[Any]) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None


def track(
    iterable: Iterable[Any],
    client: RealtimeClient,
    name: str = "track",
    total: int | None = None,
    config: Mapping[str, Any] | None = None,
) -> Tracked:
    """Wrap an iterable like ``tqdm``: each item counts one step of an experiment's progress
    (``rt.track`` is the same, with ``rt.connect()`` as the default client).

    Args:
        iterable: What to iterate over.
        client: The client to report through.
        name: The experiment's name.
        total: Items to expect (default ``len(iterable)`` when it has one).
        config: Stored with the experiment.

    Example:
        >>> import realtime_nb as rt
        >>> with rt.connect() as client:
        ...     sum(track(range(100), client, name="epoch 3"))
        4950
    """
    return Tracked(iterable, client, name, total, config)
