"""Job: a handle on one job a :class:`~realtime_nb.notebook.client.RealtimeClient` follows: watch
it (overlays), wait for it, fetch its results, frames and report."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_nb.core.protocol import (
    ProtocolError,
)
from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.frames import (
    KeptFrame,
    pick_thumbnails,
)
from realtime_nb.notebook.rest import ApiError

if TYPE_CHECKING:
    from IPython.display import HTML

    from realtime_nb.notebook.client import RealtimeClient
    from realtime_nb.notebook.widgets import RealtimeOverlay

__all__ = ["RESTART_WAIT_S", "Job"]

log = logging.getLogger(__name__)

RESTART_WAIT_S = 60.0
"""How long :meth:`Job.wait` waits for an interrupted job's server to come back."""


class Job:
    """A handle on one job: watch it, wait for it, fetch its results."""

    def __init__(self, client: RealtimeClient, job_id: str) -> None:
        self.client = client
        self.job_id = job_id
        self._overlays: list[RealtimeOverlay] = []

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
        # ipywidgets loads with the first overlay, not with the client: the CLI and scripts
        # use the client without widgets.
        from realtime_nb.notebook.widgets import RealtimeOverlay

        record = self.record()
        plugins = list(self.state.plugin_status) or list(record.get("plugins", []))
        overlay = RealtimeOverlay(
            job_id=self.job_id,
            plugins=plugins,
            title=title,
            on_retry=self.client.retry,
            drawer=self.client.drawer,
            plugin_options=self.client.plugin_options(self.job_id),
            executor=record.get("executor"),
            dashboard_url=record.get("dashboard_url"),
        )
        overlay.render(self.state, self.client.frames(self.job_id))
        self.client.attach_overlay(self.job_id, overlay)
        self._overlays.append(overlay)
        self._offer_every_frame()
        return overlay

    def frame(self, index: int) -> KeptFrame:
        """Frame ``index`` with every plugin's result for it: a kept frame if there is one,
        else fetched from the server (which decodes it again from the source).

        Raises:
            ApiError: The job did not process that frame, or its source cannot be read.
        """
        for kept in self.frames:
            if kept.frame_index == index:
                return kept
        return KeptFrame.decode(self.client.rest.frame(self.job_id, index))

    def _offer_every_frame(self) -> None:
        """Once the job has ended, let its overlays' scrubbers reach every frame it processed
        (live, only the previewed frames are kept)."""
        if not self._overlays or not self.state.finished:
            return
        try:
            frames_done = int(self.record().get("frames_done") or 0)
        except ApiError as exc:  # best effort: the scrubber keeps the frames it has
            log.warning("job %s: could not offer every frame: %s", self.job_id, exc)
            return
        for overlay in self._overlays:
            overlay.frame.on_demand(self._fetch_frame, frames_done)

    def _fetch_frame(self, index: int) -> KeptFrame | None:
        try:
            return self.frame(index)
        except (ApiError, ProtocolError) as exc:
            log.warning("job %s: frame %d could not be fetched: %s", self.job_id, index, exc)
            return None

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the job ends and return its final record.

        A job that ends ``interrupted`` (its server stopped) may be resumed by the next one
        (``serve --resume-interrupted``): ``wait`` then waits for the server to come back, at
        most :data:`RESTART_WAIT_S` (or what is left of ``timeout``), and goes on waiting if
        the job runs again.

        Raises:
            TimeoutError: ``timeout`` seconds passed first.
            ApiError: The job was interrupted and its server did not come back in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        while True:
            self.client.wait_for(self.job_id, left())
            if self.state.job_status != "interrupted":
                break
            record = self._record_once_reachable(left())
            if record["status"] == "interrupted":
                break  # not resumed: that is how it ended
            # Resumed: wait until this client has heard it run again, or, while its socket is
            # down (it may have given up during a long restart), read the end over REST.
            while self.state.job_status == "interrupted":
                remaining = left()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"job {self.job_id} did not end within {timeout} s")
                with self.client.lock:
                    self.client.lock.wait(min(2.0, remaining) if remaining is not None else 2.0)
                if self.client.connection != "CONNECTED":
                    with contextlib.suppress(ApiError):
                        record = self.record()
                        with self.client.lock:
                            self.client.core.apply_record(self.job_id, record)
        self.client.render_now()
        self._offer_every_frame()
        return self.record()

    def _record_once_reachable(self, timeout: float | None) -> dict[str, Any]:
        """The job's record, retrying while its server is unreachable (restarting), at most
        ``timeout`` or :data:`RESTART_WAIT_S` seconds."""
        limit = RESTART_WAIT_S if timeout is None else min(timeout, RESTART_WAIT_S)
        deadline = time.monotonic() + limit
        while True:
            try:
                return self.record()
            except ApiError as exc:
                if exc.status != 0 or time.monotonic() >= deadline:
                    raise
            time.sleep(0.5)

    def results(self, plugin: str | None = None) -> list[dict[str, Any]]:
        """Per-frame, per-plugin results as plain data (complete even if nothing was watched)."""
        return self.client.rest.results(self.job_id, plugin)

    def report(self, previews: Sequence[bytes] = (), thumbnails: int = 6) -> HTML:
        """A static summary to keep in the notebook: timings chart (mean and p95 per frame),
        preview thumbnails, warnings, errors and totals, as self-contained HTML that saved
        notebooks and nbviewer show without widgets, kernel or server. Call it once the job
        ended.

        Args:
            previews: JPEG previews to show as thumbnails. By default, for an ended job,
                ``thumbnails`` frames spread over the whole clip (in each stretch, the frame
                where the plugins found the most boxes), fetched from the server; for a job
                still running, frames spread evenly over the kept ones. Every plugin's
                drawing is on them.
            thumbnails: How many frames to show when ``previews`` is not given.
        """
        # The report needs IPython and matplotlib, which a client without a notebook lacks.
        from realtime_nb.notebook.report import job_report

        self.client.render_now()
        results = self.results()
        shown = list(previews)
        if not shown and self.state.finished:
            # Any frame can be fetched: the busiest frame of each stretch of the whole clip.
            frames_done = int(self.record().get("frames_done") or 0)
            picked = (
                self._fetch_frame(i) for i in pick_thumbnails(results, frames_done, thumbnails)
            )
            shown = [self.client.draw(f, job_id=self.job_id) for f in picked if f is not None]
        if not shown:
            frames = self.frames  # one snapshot: the job may still be running
            n = min(thumbnails, len(frames))
            # Evenly spread, always ending with the newest frame.
            picks = sorted({round(i * (len(frames) - 1) / max(1, n - 1)) for i in range(n)})
            if n == 1:
                picks = [len(frames) - 1]
            shown = [self.client.draw(frames[i], job_id=self.job_id) for i in picks]
        return job_report(self.state, results, shown)

    def video(self, path: str | Path | None = None, timeout: float | None = None) -> Path:
        """Wait for the job to end, download its annotated video (H.264 in MP4: every frame
        with each plugin's drawing, boxes labelled by plugin and class, and a legend), and
        show it inline when running in a notebook.

        A job submitted with ``options={"annotate_video": True}`` wrote it while it ran; for
        any other, the server draws it now from the source and the stored results.

        Args:
            path: Where to save it; default ``<job_id>.mp4`` in the current directory.
            timeout: Longest wait for the job to end, in seconds (None: no limit).

        Returns:
            The path of the saved video.

        Raises:
            ApiError: The job processed no frame or its source is gone (NOT_FOUND), or the
                download failed.
            TimeoutError: The job did not end within ``timeout``.
        """
        from realtime_nb.notebook.report import show_video

        self.wait(timeout)
        target = Path(path) if path is not None else Path.cwd() / f"{self.job_id}.mp4"
        self.client.rest.download_video(self.job_id, target)
        show_video(target)
        return target

    def cancel(self) -> dict[str, Any]:
        """Ask the server to stop the job."""
        return self.client.rest.cancel_job(self.job_id)
