"""Plugins over frames: the one loop the job runner, the evaluation and the tests share.

:class:`PluginPipeline` keeps each plugin's per-job state, builds each plugin's
:class:`~realtime_nb.vision.plugins.base.PluginContext`, times each call and collects its
warnings. It neither emits messages nor decides what a failure means: the runner turns a
:class:`FrameRun` into messages, the evaluation into scores.

Example:
    >>> from realtime_nb.vision.plugins.ball import BallDetection
    >>> from realtime_nb.vision.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=0.2, width=320, height=180)
    >>> runs = list(run_plugins([BallDetection()], clip, clip.info))
    >>> len(runs), sorted(runs[0].results)
    (5, ['ball_detection'])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.vision.plugins.base import Plugin, PluginContext, PluginWarning

__all__ = ["FrameRun", "PluginOutcome", "PluginPipeline", "frame_id_for", "run_plugins"]


def frame_id_for(index: int) -> str:
    """The stable id of frame ``index`` (``f-000042``)."""
    return f"f-{index:06d}"


@dataclass
class PluginOutcome:
    """What one plugin did with one frame: a result, or the exception it raised."""

    plugin: str
    result: dict[str, Any] | None
    timing_ms: float
    warnings: list[PluginWarning] = field(default_factory=list)
    error: Exception | None = None


@dataclass
class FrameRun:
    """One frame through the pipeline: each plugin's outcome, in pipeline order."""

    index: int
    frame_id: str
    frame: Frame
    results: dict[str, dict[str, Any]]
    """Each plugin's result by name; a plugin that raised or was skipped has none."""
    outcomes: list[PluginOutcome]


class PluginPipeline:
    """Plugin instances in pipeline order (dependencies first), with their per-job state.

    Args:
        plugins: The instances; each keeps its ``ctx.state`` dict for the whole job.
        info: What is known of the video.
        catch: Record a plugin's exception in its outcome and go on (the job runner); when
            False it propagates (the evaluation and tests, where an exception is a bug).
    """

    def __init__(self, plugins: Sequence[Plugin], info: VideoInfo, catch: bool = True) -> None:
        self.plugins = list(plugins)
        self.info = info
        self.catch = catch
        self.states: list[dict[str, Any]] = [{} for _ in self.plugins]

    def setup(self) -> list[tuple[Plugin, Exception]]:
        """Call every plugin's ``setup``; return those that raised (with ``catch``)."""
        failed: list[tuple[Plugin, Exception]] = []
        for plugin in self.plugins:
            try:
                plugin.setup(self.info)
            except Exception as exc:
                if not self.catch:
                    raise
                failed.append((plugin, exc))
        return failed

    def process(
        self,
        index: int,
        frame: Frame,
        skip: Collection[str] = (),
        on_call: Callable[[int, int], None] | None = None,
    ) -> FrameRun:
        """Run every plugin not in ``skip`` over frame ``index``, in order; each sees the
        results of those before it. ``on_call(frame index, plugin index)`` is told before each
        plugin call, and ``on_call(frame index, -1)`` after the last (a watchdog's clock).

        A ``MemoryError`` always propagates: running out of memory is not one frame's failure.
        """
        frame_id = frame_id_for(index)
        results: dict[str, dict[str, Any]] = {}
        outcomes: list[PluginOutcome] = []
        images: dict[str, Any] = {}  # what the plugins share of this frame (ctx.images)
        for k, (plugin, state) in enumerate(zip(self.plugins, self.states, strict=True)):
            if plugin.name in skip:
                continue
            ctx = PluginContext(index, frame_id, results, state, self.info, images=images)
            if on_call is not None:
                on_call(index, k)
            started = time.perf_counter()
            try:
                data = plugin.process(frame, ctx)
            except MemoryError:
                raise
            except Exception as exc:
                if not self.catch:
                    raise
                ms = (time.perf_counter() - started) * 1000.0
                outcomes.append(PluginOutcome(plugin.name, None, ms, ctx.warnings, exc))
                continue
            ms = (time.perf_counter() - started) * 1000.0
            results[plugin.name] = data
            outcomes.append(PluginOutcome(plugin.name, data, ms, ctx.warnings))
        if on_call is not None:
            on_call(index, -1)
        return FrameRun(index, frame_id, frame, results, outcomes)


def run_plugins(
    plugins: Sequence[Plugin], frames: Iterable[Frame], info: VideoInfo
) -> Iterator[FrameRun]:
    """Set the plugins up, then run them over every frame, yielding each frame's run.

    Exceptions from the plugins propagate: this is for evaluation and tests, where a plugin
    that raises is a bug to see. The job runner uses :class:`PluginPipeline` with ``catch``.
    """
    pipeline = PluginPipeline(plugins, info, catch=False)
    pipeline.setup()
    for index, frame in enumerate(frames):
        yield pipeline.process(index, frame)
