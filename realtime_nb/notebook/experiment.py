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

import contextlib
import logging
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

import numpy as np

from realtime_nb.core.connection import ReconnectPolicy
from realtime_nb.core.protocol import (
    PreviewHeader,
    ProducedEnd,
    ProducedProgress,
    ProgressPayload,
    RunEndPayload,
    encode_preview,
)
from realtime_nb.notebook.run_sender import BATCH_POINTS, RunBuffer, RunSender

if TYPE_CHECKING:
    from IPython.display import HTML

    from realtime_nb.core.state import RealtimeState
    from realtime_nb.notebook.client import RealtimeClient
    from realtime_nb.notebook.widgets import RealtimeOverlay

__all__ = ["DEFAULT_BUFFER_SIZE", "Run", "Tracked", "track"]

log = logging.getLogger(__name__)

DEFAULT_BUFFER_SIZE = 100_000
"""``log`` calls a run buffers before it drops the oldest."""
IMAGE_MAX_WIDTH = 640


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
        self._buffer = RunBuffer(self.name, buffer_size)
        self._entries = self._buffer.entries  # log() appends here, lock-free
        self._next_step = 0
        self._image_count = 0
        self._watched = False
        self._sender = RunSender(
            self._buffer,
            client.url,
            self.job_id,
            producer_token,
            batch_points,
            tuple(backoff),
            jitter,
        )
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
        entries = self._entries
        if len(entries) >= self._buffer.bound:
            buffer = self._buffer
            with buffer.lock:  # the sender takes entries under it too
                while len(entries) >= buffer.bound:
                    buffer.dropped += len(entries.popleft()[2])
        # deque.append is atomic: the common case takes no lock.
        entries.append((step, time.time(), dict(metrics)))

    def progress(self, n: float, stage: str | None = None) -> None:
        """Report ``n`` steps done out of ``total`` (the bar shows ``n / total``; without a
        total it stays at 0 and only the stage changes). Only the latest is sent."""
        percent = 0.0 if not self.total else min(100.0, max(0.0, 100.0 * n / self.total))
        payload = ProgressPayload(job_id=self.job_id, progress=percent, stage=stage)
        with self._buffer.lock:
            self._buffer.progress = ProducedProgress(payload=payload)

    def warn(self, message: str, severity: Literal["low", "medium", "high"] = "medium") -> None:
        """Show a warning in the overlay's list (and keep it in the job's events).

        Raises:
            ValueError: ``severity`` is not ``low``, ``medium`` or ``high``.
        """
        if severity not in ("low", "medium", "high"):
            raise ValueError(f"severity must be low, medium or high, not {severity!r}")
        self._buffer.warn(str(message), severity)

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
        with self._buffer.lock:
            index = self._image_count
            self._image_count += 1
        header = PreviewHeader(
            job_id=self.job_id,
            frame_id=f"{name} #{index}",
            frame_index=index,
            width=rgb.shape[1],
            height=rgb.shape[0],
        )
        self._buffer.images.append(encode_preview(header, jpeg.tobytes()))

    @property
    def dropped(self) -> int:
        """Metric points dropped because the buffer was full."""
        return self._buffer.dropped

    @property
    def ended(self) -> bool:
        """True once the run ended (left its block, or the server ended the job)."""
        return self._buffer.ended or self._sender.job_ended

    # --- ending -------------------------------------------------------------------------

    def finish(
        self, status: Literal["completed", "failed"] = "completed", error: str | None = None
    ) -> None:
        """End the run (what leaving the ``with`` block does): send what is buffered, then
        the end, waiting at most ``close_timeout`` seconds. Calling it again does nothing."""
        buffer = self._buffer
        if buffer.ended:
            return
        buffer.ended = True
        end = ProducedEnd(payload=RunEndPayload(status=status, error=error))
        with buffer.lock:
            buffer.control.append(end)
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
        with self._buffer.lock:
            return len(self._entries) + self._sender.in_flight

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
