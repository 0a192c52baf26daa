"""Labels and a legend for the annotated video: which plugin found each box, and what it is.

A plugin's own ``draw`` shows what it found in its own style (a box, a track number); in a
video shared with someone else that is not enough to tell which plugin drew what. After the
plugins have drawn, :func:`label_frame` writes under every box that any plugin's result holds
``plugin: class #track`` in that plugin's colour, and a legend of the job's plugins in the
top right corner, with how many boxes each found in this frame.

A box is any mapping with a ``"box": [x1, y1, x2, y2]`` in a plugin's result, at any depth
(``{"detections": [{"box": ..., "class": "player"}]}``, ``{"ball": {"box": ...}}``); its class is
its ``"class"`` (or ``"label"``), else the key it was found under (``ball``).

Example:
    >>> import numpy as np
    >>> canvas = np.zeros((120, 200, 3), np.uint8)
    >>> found = label_frame(canvas, ["people"], {"people": {"detections": [
    ...     {"box": [20, 20, 60, 80], "class": "person", "track_id": 7}]}})
    >>> found
    {'people': 1}
    >>> box_label("people", {"class": "person", "track_id": 7}, "detections")
    'people: person #7'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import cv2

from realtime_nb.core.frame import Frame

__all__ = ["PLUGIN_COLOURS", "box_label", "find_boxes", "label_frame", "plugin_colour"]

PLUGIN_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 200, 255),  # amber
    (255, 160, 0),  # azure
    (80, 220, 80),  # green
    (255, 80, 200),  # violet
    (60, 60, 255),  # red
    (255, 255, 80),  # cyan
    (200, 200, 200),  # grey
    (0, 140, 255),  # orange
)
"""BGR colours given to the job's plugins in pipeline order (then round again)."""

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_MAX_DEPTH = 4


def plugin_colour(index: int) -> tuple[int, int, int]:
    """The colour of the job's ``index``-th plugin (pipeline order)."""
    return PLUGIN_COLOURS[index % len(PLUGIN_COLOURS)]


def find_boxes(result: Any, key: str = "", depth: int = 0) -> Iterator[tuple[list[int], Any, str]]:
    """Every ``(box, the mapping holding it, the key it was found under)`` in a result."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(result, Mapping):
        box = result.get("box")
        if isinstance(box, list | tuple) and len(box) == 4:
            if all(isinstance(v, int | float) for v in box):
                yield [int(v) for v in box], result, key
            return
        for name, value in result.items():
            yield from find_boxes(value, str(name), depth + 1)
    elif isinstance(result, list | tuple):
        for item in result:
            yield from find_boxes(item, key, depth + 1)


def box_label(plugin: str, holder: Mapping[str, Any], key: str) -> str:
    """``plugin: class #track`` for one box (class from ``class``/``label``, else the key)."""
    what = holder.get("class") or holder.get("label") or key.rstrip("s") or "object"
    track = holder.get("track_id")
    return f"{plugin}: {what}" + (f" #{track}" if track is not None else "")


def label_frame(
    canvas: Frame, plugins: Sequence[str], results: Mapping[str, dict[str, Any]]
) -> dict[str, int]:
    """Label every box of every plugin's result and draw the legend (top right), in place.

    Args:
        canvas: The frame, already drawn by the plugins.
        plugins: The job's plugins in pipeline order (the legend's rows, and their colours).
        results: Each plugin's result for this frame (a plugin without one has no boxes).

    Returns:
        How many boxes each plugin's result held.
    """
    height, width = canvas.shape[:2]
    scale = max(0.3, min(0.6, width / 2400))
    thickness = 1
    counts: dict[str, int] = {}
    for index, plugin in enumerate(plugins):
        colour = plugin_colour(index)
        counts[plugin] = 0
        for box, holder, key in find_boxes(results.get(plugin)):
            counts[plugin] += 1
            x1, _, _, y2 = box
            text = box_label(plugin, holder, key)
            (tw, th), base = cv2.getTextSize(text, _FONT, scale, thickness)
            x = max(0, min(x1, width - tw - 2))
            y = min(height - 1, y2 + th + base + 2)  # under the box: the plugin's own label
            cv2.rectangle(canvas, (x, y - th - base - 1), (x + tw + 2, y), colour, cv2.FILLED)
            cv2.putText(
                canvas, text, (x + 1, y - base), _FONT, scale, (0, 0, 0), thickness, cv2.LINE_AA
            )
    _legend(canvas, plugins, counts, scale)
    return counts


def _legend(canvas: Frame, plugins: Sequence[str], counts: Mapping[str, int], scale: float) -> None:
    rows = [f"{name} ({counts[name]})" if counts[name] else name for name in plugins]
    if not rows:
        return
    sizes = [cv2.getTextSize(row, _FONT, scale, 1) for row in rows]
    line = max(th + base for (_, th), base in sizes) + 4
    swatch = line - 4
    width = max(tw for (tw, _), _ in sizes) + swatch + 12
    # Top right: the top left is where a plugin's own text usually goes, radar's map sits
    # bottom right, and a browser's video controls cover the bottom while they show.
    x0, y0 = max(0, canvas.shape[1] - 4 - width), 4
    x1 = min(canvas.shape[1] - 1, x0 + width)
    y1 = min(canvas.shape[0] - 1, y0 + line * len(rows) + 4)
    region = canvas[y0:y1, x0:x1]
    region[:] = region // 3  # darken behind the legend so it reads on any footage
    for index, (row, ((_, th), _)) in enumerate(zip(rows, sizes, strict=True)):
        top = y0 + 4 + index * line
        cv2.rectangle(
            canvas,
            (x0 + 4, top),
            (x0 + 4 + swatch, top + swatch),
            plugin_colour(index),
            cv2.FILLED,
        )
        cv2.putText(
            canvas,
            row,
            (x0 + swatch + 8, top + th),
            _FONT,
            scale,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
