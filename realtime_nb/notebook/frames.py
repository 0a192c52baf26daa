"""The frames a viewer keeps, and each plugin's drawing over them on request.

A preview arrives as an undrawn JPEG with every plugin's result, timing and warnings for that
frame (see :class:`~realtime_nb.core.protocol.PreviewHeader`). :class:`FrameStore` keeps the newest
ones, bounded by count and bytes, for the frame viewer's scrubber; :class:`FrameDrawer` draws the
chosen plugins' results over one of them with each plugin's own ``draw``, so a viewer can switch
drawings on and off without asking the server for anything.

Example:
    >>> store = FrameStore(max_frames=2)
    >>> for i in range(3):
    ...     store.add(KeptFrame(f"f-{i:06d}", i, b"jpeg", 64, 48, {}, {}, ()))
    >>> [f.frame_index for f in store.frames()]
    [1, 2]
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_nb.core.protocol import (
    PREVIEW_PREFIX_BYTES,
    PreviewHeader,
    WarningPayload,
    decode_preview,
)

if TYPE_CHECKING:  # OpenCV and the plugins load on the first drawing, not on import
    from realtime_nb.vision.plugins.base import Plugin
    from realtime_nb.vision.plugins.registry import PluginRegistry

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FRAMES",
    "MAX_DRAWING_PLUGINS",
    "FrameDrawer",
    "FrameStore",
    "KeptFrame",
    "nearest",
    "pick_thumbnails",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_FRAMES = 150
"""Frames a store keeps by default: 15 s of previews at the default 10 per second."""

DEFAULT_MAX_BYTES = 48 * 2**20
"""Memory a store uses at most by default (JPEGs and results), whatever the frames' size."""

MAX_DRAWING_PLUGINS = 256
"""Plugin instances a :class:`FrameDrawer` keeps (one per plugin and options), least recently
used dropped first."""


@dataclass(frozen=True, slots=True)
class KeptFrame:
    """One previewed frame: its undrawn JPEG and what each plugin found, took and warned on it.

    Attributes:
        frame_id: The frame's id (``f-000123``).
        frame_index: Its 0-based index in the video.
        jpeg: The undrawn JPEG (possibly scaled down from ``width`` x ``height``).
        width: The frame's own width, the coordinates ``results`` use.
        height: The frame's own height.
        results: Each plugin's result for this frame, in pipeline order.
        timings_ms: Each plugin's processing time for this frame.
        warnings: The warnings plugins raised on this frame.
        header_bytes: The size of the preview's JSON header (results, timings, warnings); the
            store counts the results' memory from it.
    """

    frame_id: str
    frame_index: int
    jpeg: bytes
    width: int
    height: int
    results: Mapping[str, dict[str, Any]]
    timings_ms: Mapping[str, float]
    warnings: tuple[WarningPayload, ...]
    header_bytes: int = 0

    @property
    def cost_bytes(self) -> int:
        """Memory the store charges for this frame: the JPEG, plus the results as Python
        objects, which take about six times their JSON size."""
        return len(self.jpeg) + 6 * self.header_bytes

    @classmethod
    def from_preview(cls, header: PreviewHeader, jpeg: bytes, header_bytes: int = 0) -> KeptFrame:
        """The kept frame of a decoded binary preview (``header_bytes``: its JSON header's size,
        the preview's length minus the JPEG's and the 8-byte prefix)."""
        return cls(
            header.frame_id,
            header.frame_index,
            jpeg,
            header.width,
            header.height,
            header.results,
            header.timings_ms,
            tuple(header.warnings),
            header_bytes,
        )

    @classmethod
    def decode(cls, raw: bytes) -> KeptFrame:
        """The kept frame of a binary preview as it travels (live, or fetched on demand).

        Raises:
            ProtocolError: Not a preview.
        """
        header, jpeg = decode_preview(raw)
        return cls.from_preview(header, jpeg, len(raw) - len(jpeg) - PREVIEW_PREFIX_BYTES)


def pick_thumbnails(results: Iterable[Mapping[str, Any]], frames_done: int, n: int) -> list[int]:
    """``n`` frame indices spread over a job's ``frames_done`` frames, each the frame with the
    most boxes in its stretch of the video (the middle one when none has any), so thumbnails
    show the whole clip and what the plugins found in it.

    Args:
        results: The job's results, as ``GET /v1/jobs/{id}/results`` gives them.
        frames_done: How many frames the job processed.
        n: How many thumbnails.

    Example:
        >>> rows = [{"frame_index": 7, "data": {"detections": [{"box": [0, 0, 1, 1]}]}}]
        >>> pick_thumbnails(rows, 20, 2)
        [7, 15]
    """
    # Boxes are counted as the annotated video labels them (any "box" in a result).
    from realtime_nb.vision.labels import find_boxes

    n = min(n, frames_done)
    if n <= 0:
        return []
    boxes = [0] * frames_done
    for row in results:
        index = int(row.get("frame_index", -1))
        if 0 <= index < frames_done:
            boxes[index] += sum(1 for _ in find_boxes(row.get("data")))
    picks = []
    for i in range(n):
        lo, hi = i * frames_done // n, (i + 1) * frames_done // n
        middle = (lo + hi) // 2
        picks.append(max(range(lo, hi), key=lambda f: (boxes[f], -abs(f - middle))))
    return picks


class FrameStore:
    """The newest kept frames of one job, oldest first, bounded by count and by memory (each
    frame's :attr:`KeptFrame.cost_bytes`: its JPEG and its results).

    Safe to use from several threads: the client's thread adds, the kernel's thread reads when
    the user moves the scrubber.

    Args:
        max_frames: How many frames to keep at most.
        max_bytes: How much memory to use at most (the newest frame is always kept).
    """

    def __init__(
        self, max_frames: int = DEFAULT_MAX_FRAMES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if max_frames < 1:
            raise ValueError("max_frames must be at least 1")
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._frames: deque[KeptFrame] = deque()
        self._bytes = 0
        self._lock = threading.Lock()
        self.added = 0
        """Frames added since the store was made (kept or since dropped)."""

    def add(self, frame: KeptFrame) -> None:
        """Keep ``frame`` as the newest; drop the oldest past the bounds.

        A frame whose index is not newer than the newest kept one (a replayed preview) replaces
        nothing and is ignored.
        """
        with self._lock:
            if self._frames and frame.frame_index <= self._frames[-1].frame_index:
                return
            self._frames.append(frame)
            self._bytes += frame.cost_bytes
            self.added += 1
            while len(self._frames) > self.max_frames or (
                self._bytes > self.max_bytes and len(self._frames) > 1
            ):
                self._bytes -= self._frames.popleft().cost_bytes

    def frames(self) -> tuple[KeptFrame, ...]:
        """A snapshot of the kept frames, oldest first."""
        with self._lock:
            return tuple(self._frames)

    @property
    def latest(self) -> KeptFrame | None:
        """The newest kept frame, or None before the first."""
        with self._lock:
            return self._frames[-1] if self._frames else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)


def nearest(frames: Sequence[KeptFrame], frame_index: int) -> KeptFrame | None:
    """The kept frame with the index closest to ``frame_index`` (the earlier one on a tie).

    Example:
        >>> frames = [KeptFrame(f"f-{i}", i, b"", 1, 1, {}, {}, ()) for i in (0, 4, 8)]
        >>> nearest(frames, 5).frame_index, nearest(frames, 7).frame_index
        (4, 8)
    """
    if not frames:
        return None
    return min(frames, key=lambda f: (abs(f.frame_index - frame_index), f.frame_index))


class FrameDrawer:
    """Draws chosen plugins' results over a kept frame with each plugin's own ``draw``.

    Plugins come from ``registry`` by name (the built-ins are always there; a plugin registered
    only in the server's process cannot be drawn here: :meth:`can_draw` says so). Each plugin
    is made with the job's options for it (``Plugin.create``, as the job's worker made it), one
    instance per plugin and options, used only for drawing.

    Args:
        registry: Where to find plugin classes by name; by default the default registry.
    """

    def __init__(self, registry: PluginRegistry | None = None) -> None:
        self._registry = registry
        self._plugins: OrderedDict[tuple[str, str], Plugin] = OrderedDict()
        self._lock = threading.Lock()

    def _plugin(self, name: str, options: Mapping[str, Any] | None) -> Plugin | None:
        key = (name, json.dumps(options or {}, sort_keys=True, default=repr))
        with self._lock:
            plugin = self._plugins.get(key)
            if plugin is not None:
                self._plugins.move_to_end(key)
            else:  # failures are not cached: a plugin registered later becomes drawable
                if self._registry is None:
                    # The registry imports every built-in plugin (and OpenCV): loaded on first
                    # use, like the drawing itself.
                    from realtime_nb.vision.plugins.registry import default_registry

                    self._registry = default_registry
                try:
                    plugin = self._plugins[key] = self._registry.get(name).create(options)
                except Exception:  # unknown here, options it does not take, or a constructor
                    return None  # that needs what we lack
                while len(self._plugins) > MAX_DRAWING_PLUGINS:  # a sweep over many options
                    self._plugins.popitem(last=False)
            return plugin

    def can_draw(self, name: str, options: Mapping[str, Any] | None = None) -> bool:
        """True when the plugin ``name`` is known here and takes ``options``, so can be drawn."""
        return self._plugin(name, options) is not None

    def draw(
        self,
        frame: KeptFrame,
        plugins: Iterable[str],
        plugin_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> bytes:
        """The frame's JPEG with ``plugins``' results drawn over it, in the frame's plugin order.

        Args:
            frame: The frame.
            plugins: Whose drawings to show.
            plugin_options: The job's options of each plugin (its ``plugin_options``), which a
                plugin's ``draw`` may read, as in the job's own annotated video.

        Returns ``frame.jpeg`` itself when there is nothing to draw. A plugin whose ``draw``
        raises is left out (logged), never fatal.
        """
        chosen = set(plugins)
        options = plugin_options or {}
        drawers = [
            (name, plugin)
            for name in frame.results
            if name in chosen and (plugin := self._plugin(name, options.get(name))) is not None
        ]
        if not drawers:
            return frame.jpeg
        # OpenCV and numpy load on the first drawing, not with the client: a client that only
        # follows progress (the CLI, a script) never pays for them.
        import cv2
        import numpy as np

        from realtime_nb.vision.plugins.base import draw_results
        from realtime_nb.vision.video_writer import encode_jpeg

        image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            log.warning("frame %s: preview JPEG does not decode", frame.frame_id)
            return frame.jpeg
        canvas = np.ascontiguousarray(image, np.uint8)
        if canvas.shape[1] != frame.width or canvas.shape[0] != frame.height:
            # Results are in the frame's own pixels: draw at that size, then shrink again.
            resized = cv2.resize(
                canvas, (frame.width, frame.height), interpolation=cv2.INTER_LINEAR
            )
            canvas = np.asarray(resized, np.uint8)
        for name, exc in draw_results(canvas, drawers, frame.results):
            log.warning("frame %s: %s.draw failed", frame.frame_id, name, exc_info=exc)
        return encode_jpeg(canvas, quality=75, max_width=image.shape[1])
