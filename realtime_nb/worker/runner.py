"""ToolRunner and Inspector: plugins over frames, emitting the protocol's job messages.

The runner is synchronous and runs off the event loop (in a worker process, or a thread under
the thread executor). For each job it emits, per plugin: ``metadata``, ``plugin_status``
started; then per frame, for each plugin in pipeline order, one ``frame`` message followed
by that frame's ``warning`` messages as they happen; then per plugin ``plugin_status``
completed with ``timing_ms`` and ``warnings_count`` (a plugin that fails sends ``failed`` when
it fails, not at the end).
``progress`` goes from 0 to 100 and never backwards.

Warnings are emitted live, right after the frame that raised them (with its ``frame_id``), rather
than collected until the plugin finishes: a warning reaches the user while the job goes on, which is
what someone watching a long job needs. A plugin's warnings still come after its ``started`` and
before its final status.

A plugin exception becomes an ``error`` message (PLUGIN_CRASH) for that frame; the plugin keeps
running on later frames unless it fails ``max_consecutive_failures`` frames in a row, when it is
marked ``failed`` and skipped for the rest of the job.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.core.protocol import (
    ErrorCode,
    ErrorDetails,
    ErrorPayload,
    FramePayload,
    MetadataPayload,
    PluginMetadata,
    PluginStatusPayload,
    PreviewHeader,
    ProgressPayload,
    WarningPayload,
    encode,
)
from realtime_nb.vision.labels import label_frame
from realtime_nb.vision.plugins.base import Plugin, draw_results
from realtime_nb.vision.plugins.pipeline import PluginPipeline, frame_id_for

__all__ = [
    "SOURCE_WARNING_PLUGIN",
    "Inspector",
    "RunSummary",
    "StoredResults",
    "ToolRunner",
    "frame_id_for",
]

log = logging.getLogger(__name__)


class CancelFlag(Protocol):
    """Anything with ``is_set()``: a :class:`threading.Event`, or a process-shared event."""

    def is_set(self) -> bool:
        """True once the run should stop after its current frame."""
        ...


Emit = Callable[[list[Any]], None]
"""Receives a batch of payload structs, in order (one batch per frame at most)."""
Preview = Callable[[PreviewHeader, Frame], None]
"""Receives a frame to preview, undrawn, and its header (the callee encodes and sends it)."""
Annotated = Callable[[Frame], None]
"""Receives every annotated frame (for the output video)."""
FrameResults = tuple[int, dict[str, dict[str, Any]]]
"""One frame's stored results: its index and each plugin's data by plugin name."""
SOURCE_WARNING_PLUGIN = "source"
"""The ``plugin`` of a warning about the video itself (fewer frames decoded than announced)."""


class Inspector:
    """What the runner knows of one plugin in a job: metadata, timing, warnings, failures."""

    def __init__(self, plugin: Plugin) -> None:
        self.plugin = plugin
        self.name = plugin.name
        self.total_ms = 0.0
        self.frames_processed = 0
        self.warnings_count = 0
        self.errors_count = 0
        self.consecutive_failures = 0
        self.failed = False

    def inspect(self) -> PluginMetadata:
        """The plugin's metadata."""
        return type(self.plugin).metadata


@dataclass
class RunSummary:
    """What a run did."""

    frames: int = 0
    cancelled: bool = False
    failed_plugins: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0
    plugin_ms: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0


@dataclass
class ToolRunner:
    """Runs a pipeline of plugin instances over frames.

    Args:
        plugins: Plugin instances in pipeline order (dependencies first).
        info: Size, rate and frame count of the video.
        emit: Called with each batch of payload structs.
        job_id: Put in progress payloads.
        preview: Called with a frame (undrawn; the header carries each plugin's result, timing
            and warnings for it) at most every ``preview_interval_s``.
        annotated: Called with every annotated frame (slows the run: draws every frame).
        cancel: Set it to stop after the current frame.
        preview_interval_s: Minimum time between previews; the last frame always gets one.
        max_consecutive_failures: Failures in a row after which a plugin is given up.
        start_frame: Skip frames before this one (resuming an interrupted job); metadata and
            ``started`` were sent by the first run and are not repeated.
        resumed_totals: Per plugin (frames, total ms, warnings) from the first run.
        earlier_results: The stored results of the frames before ``start_frame``, in frame
            order. With ``annotated``, those frames are drawn from them (each plugin's
            ``draw``; a frame without results goes out as it is), so a resumed job's video
            holds every frame, not only the resumed ones. Read only with ``annotated``.
    """

    plugins: Sequence[Plugin]
    info: VideoInfo
    emit: Emit
    job_id: str = ""
    preview: Preview | None = None
    annotated: Annotated | None = None
    cancel: CancelFlag = field(default_factory=threading.Event)
    preview_interval_s: float = 0.1
    max_consecutive_failures: int = 5
    start_frame: int = 0
    resumed_totals: dict[str, tuple[int, float, int]] = field(default_factory=dict)
    earlier_results: Iterable[FrameResults] = ()
    on_plugin_call: Callable[[int, int], None] | None = None
    inspectors: list[Inspector] = field(init=False)

    def __post_init__(self) -> None:
        self._draw_failed: set[str] = set()
        self.inspectors = [Inspector(p) for p in self.plugins]
        self._inspector_of = {i.name: i for i in self.inspectors}
        self._pipeline = PluginPipeline(self.plugins, self.info)
        for insp in self.inspectors:
            frames, ms, warnings = self.resumed_totals.get(insp.name, (0, 0.0, 0))
            insp.frames_processed, insp.total_ms, insp.warnings_count = frames, ms, warnings

    def execute(self, frames: Iterable[Frame]) -> RunSummary:
        """Run every plugin over ``frames``; return a summary. Never raises for plugin errors."""
        t0 = time.perf_counter()
        summary = RunSummary()
        self._emit_start()
        last_percent = _percent(self.start_frame, total := self.info.frame_count)
        last_preview = float("-inf")  # the first frame is always previewed
        index = -1
        pending_preview: tuple[int, Frame, dict[str, dict[str, Any]], list[Any]] | None = None
        earlier = StoredResults(self.earlier_results if self.annotated is not None else ())
        for index, frame in enumerate(frames):
            if self.cancel.is_set():
                summary.cancelled = True
                break
            if index < self.start_frame:
                if self.annotated is not None:
                    self.annotated(self._draw(frame, earlier.at(index)))
                continue
            results, batch = self._process_frame(index, frame)
            percent = _percent(index + 1, total)
            if percent > last_percent:
                last_percent = percent
                batch.append(
                    ProgressPayload(
                        job_id=self.job_id, progress=percent, stage=_stage(index + 1, total)
                    )
                )
            self.emit(batch)
            now = time.perf_counter()
            if self.annotated is not None:
                self.annotated(self._draw(frame, results))
            if self.preview is not None:
                if now - last_preview >= self.preview_interval_s:
                    last_preview = now
                    pending_preview = None
                    self._send_preview(index, frame, results, batch)
                else:
                    pending_preview = (index, frame, results, batch)
        if pending_preview is not None and not summary.cancelled:
            self._send_preview(*pending_preview)
        summary.frames = index + 1 if not summary.cancelled else index
        if not summary.cancelled:
            self._emit_end(summary.frames)
        summary.wall_s = time.perf_counter() - t0
        summary.failed_plugins = [i.name for i in self.inspectors if i.failed]
        summary.errors = sum(i.errors_count for i in self.inspectors)
        summary.warnings = sum(i.warnings_count for i in self.inspectors)
        summary.plugin_ms = {i.name: i.total_ms for i in self.inspectors}
        return summary

    def _emit_start(self) -> None:
        if self.start_frame == 0:
            batch: list[Any] = [ProgressPayload(job_id=self.job_id, progress=0, stage="Starting")]
            for insp in self.inspectors:
                batch.append(MetadataPayload(plugin=insp.name, metadata=insp.inspect()))
                batch.append(PluginStatusPayload(plugin=insp.name, status="started"))
            self.emit(batch)
        by_plugin = {id(i.plugin): i for i in self.inspectors}
        for plugin, exc in self._pipeline.setup():
            insp = by_plugin[id(plugin)]
            insp.failed = True
            insp.errors_count += 1
            self.emit(
                [
                    _error(insp.name, f"{insp.name} setup failed: {exc}", exc, None),
                    PluginStatusPayload(plugin=insp.name, status="failed"),
                ]
            )

    def _process_frame(
        self, index: int, frame: Frame
    ) -> tuple[dict[str, dict[str, Any]], list[Any]]:
        run = self._pipeline.process(index, frame, self._failed_names(), self.on_plugin_call)
        batch: list[Any] = []
        for outcome in run.outcomes:
            insp = self._inspector_of[outcome.plugin]
            insp.total_ms += outcome.timing_ms
            if outcome.result is None:
                if outcome.error is not None:
                    self._record_failure(insp, run.frame_id, outcome.error, batch)
                continue
            try:
                # Encoded here, once: the server stores and sends these bytes as they are, and
                # a result that is not JSON fails this plugin's frame, not the whole job.
                data = msgspec.Raw(encode(outcome.result))
            except (TypeError, ValueError, OverflowError) as exc:
                del run.results[insp.name]
                self._record_failure(
                    insp, run.frame_id, exc, batch, "returned a result that is not JSON"
                )
                continue
            insp.frames_processed += 1
            insp.consecutive_failures = 0
            batch.append(
                FramePayload(
                    frame_id=run.frame_id,
                    plugin=insp.name,
                    data=data,  # type: ignore[arg-type]  # msgspec.Raw encodes as the dict
                    timing_ms=outcome.timing_ms,
                    frame_index=index,
                )
            )
            for w in outcome.warnings:
                insp.warnings_count += 1
                batch.append(
                    WarningPayload(
                        plugin=insp.name,
                        message=w.message,
                        severity=w.severity,
                        frame_id=run.frame_id,
                    )
                )
        return run.results, batch

    def _failed_names(self) -> set[str]:
        return {i.name for i in self.inspectors if i.failed}

    def _record_failure(
        self,
        insp: Inspector,
        frame_id: str,
        exc: Exception,
        batch: list[Any],
        what: str = "failed",
    ) -> None:
        insp.errors_count += 1
        insp.consecutive_failures += 1
        text = f"{insp.name} {what} on {frame_id}: {type(exc).__name__}: {exc}"
        batch.append(_error(insp.name, text, exc, frame_id))
        if insp.consecutive_failures >= self.max_consecutive_failures:
            insp.failed = True
            batch.append(
                PluginStatusPayload(
                    plugin=insp.name,
                    status="failed",
                    timing_ms=insp.total_ms,
                    frames_processed=insp.frames_processed,
                    warnings_count=insp.warnings_count,
                )
            )

    def _emit_end(self, frames_read: int) -> None:
        batch: list[Any] = []
        total = self.info.frame_count
        short = total is not None and frames_read < total
        if short:
            # A damaged or cut-off file: the decoder stops early and the job would otherwise
            # look complete. Say how much was read, and leave progress at what was read.
            batch.append(
                WarningPayload(
                    plugin=SOURCE_WARNING_PLUGIN,
                    message=f"the video ended after {frames_read} of the {total} frames its "
                    "container announced; the rest did not decode (a damaged or cut-off file?)",
                    severity="high",
                )
            )
        for insp in self.inspectors:
            if insp.failed:
                continue
            batch.append(
                PluginStatusPayload(
                    plugin=insp.name,
                    status="completed",
                    timing_ms=round(insp.total_ms, 3),
                    frames_processed=insp.frames_processed,
                    warnings_count=insp.warnings_count,
                )
            )
        if short:
            stage = f"Completed: {frames_read} of {total} frames decoded"
            progress = _percent(frames_read, total)
        else:
            stage, progress = "Completed", 100
        batch.append(ProgressPayload(job_id=self.job_id, progress=progress, stage=stage))
        self.emit(batch)

    def _draw(self, frame: Frame, results: dict[str, dict[str, Any]]) -> Frame:
        canvas = frame.copy()
        for name, exc in draw_results(
            canvas, ((i.name, i.plugin) for i in self.inspectors), results
        ):
            if name not in self._draw_failed:  # once per plugin, not once per frame
                self._draw_failed.add(name)
                log.warning("%s.draw failed (its results stand): %s", name, exc)
        # The video is seen away from the inspector: say which plugin found each box.
        label_frame(canvas, [i.name for i in self.inspectors], results)
        return canvas

    def _send_preview(
        self, index: int, frame: Frame, results: dict[str, dict[str, Any]], batch: list[Any]
    ) -> None:
        """Send the frame undrawn, with each plugin's result, timing and warnings for it."""
        assert self.preview is not None
        h, w = frame.shape[:2]
        header = PreviewHeader(
            job_id=self.job_id,
            frame_id=frame_id_for(index),
            frame_index=index,
            width=w,
            height=h,
            results=results,
            timings_ms={p.plugin: p.timing_ms for p in batch if isinstance(p, FramePayload)},
            warnings=[p for p in batch if isinstance(p, WarningPayload)],
        )
        self.preview(header, frame)


class StoredResults:
    """Stored results looked up frame by frame in increasing order, reading them as it goes
    (a long job's results need not fit in memory)."""

    def __init__(self, rows: Iterable[FrameResults]) -> None:
        self._rows = iter(rows)
        self._next = next(self._rows, None)

    def at(self, index: int) -> dict[str, dict[str, Any]]:
        """The results of frame ``index`` (empty if none were stored); ``index`` must not go
        below that of the previous call."""
        while self._next is not None and self._next[0] < index:
            self._next = next(self._rows, None)
        if self._next is not None and self._next[0] == index:
            return self._next[1]
        return {}


def _percent(done: int, total: int | None) -> int:
    """Whole percent done, held at 99 until the run really ends."""
    if not total:
        return 0
    return min(99, done * 100 // total)


def _stage(done: int, total: int | None) -> str:
    return f"Frame {done}/{total}" if total else f"Frame {done}"


def _error(plugin: str, text: str, exc: BaseException, frame_id: str | None) -> ErrorPayload:
    """An error payload whose details carry the whole traceback, so a user sees the file and
    line of their own plugin code (it goes to the server log too)."""
    tb = "".join(traceback.format_exception(exc)).strip()
    log.warning("%s\n%s", text, tb)
    return ErrorPayload(
        error=text,
        plugin=plugin,
        details=ErrorDetails(error_code=ErrorCode.PLUGIN_CRASH, message=tb),
        frame_id=frame_id,
    )
