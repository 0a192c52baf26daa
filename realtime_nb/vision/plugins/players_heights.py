"""How tall a lone person stands at each image row: a line fitted to blobs shaped like one
person over recent frames (on a flat pitch a person's height in the image grows linearly with
the row of their feet), and what player detection does with it.

Example:
    >>> expected_height((0.1, 4.0, 0.3), [10, 21, 13, 50])
    9.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import median

__all__ = ["HeightModel", "expected_height", "height_model", "line_fit", "tall_enough"]

HeightModel = tuple[float, float, float]
"""``(a, b, r)``: a person standing at image row y is ``a * y + b`` px tall and ``r`` times
that wide."""


def height_model(boxes: list[list[int]], state: dict[str, Any]) -> HeightModel | None:
    """How tall (px) a person standing at image row y is, as ``(a, b, r)``: ``h = a * y + b``,
    and the person is ``r * h`` wide.

    On a flat pitch a person's height in the image grows linearly with the row of their feet,
    so a line fitted to blobs shaped like one person (over recent frames, in ``state``) tells
    how tall a lone person is anywhere, and a blob much taller is people one behind another.
    The samples (foot row, height, width) are kept in ``state["height_samples"]`` as one
    array, the last 300.
    """
    # A frame's dozen boxes in Python's numbers: the same sizes and shares as in float64
    # (whole numbers; one division, correctly rounded either way), for less than a dozen
    # numpy calls on them.
    lone = []
    for x1, y1, x2, y2 in boxes:
        tall, wide = y2 - y1 + 1, x2 - x1 + 1
        if 2.6 <= tall / max(wide, 1.0) <= 4.4:
            lone.append((y2, tall, wide))
    new = np.array(lone, np.float64).reshape(-1, 3)
    data = np.concatenate([state.get("height_samples", np.zeros((0, 3))), new])[-300:]
    state["height_samples"] = data
    if len(data) < 8:
        return None
    a, b = line_fit(data[:, 0], data[:, 1])
    fitted = a * data[:, 0] + b
    inliers = np.abs(data[:, 1] - fitted) <= 0.2 * np.maximum(fitted, 1.0)
    if np.count_nonzero(inliers) >= 8:
        a, b = line_fit(data[inliers, 0], data[inliers, 1])
    if a <= 0 or a >= 1:
        return None
    return float(a), float(b), median(data[:, 2] / data[:, 1])


def line_fit(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> tuple[float, float]:
    """Slope and intercept of the least-squares line through ``(x, y)``: ``np.polyfit``'s first
    degree at a fifth of its cost, except when every ``x`` is the same, where no slope can be
    told: polyfit warns and returns its minimum-norm line, this one is flat through the mean
    ``y``."""
    if len(x):
        # np.mean's own sum and division, without its Python-level path.
        x_mean, y_mean = float(np.add.reduce(x)) / len(x), float(np.add.reduce(y)) / len(y)
    else:  # NaN, as np.mean warns
        x_mean, y_mean = float(x.mean()), float(y.mean())
    dx = x - x_mean
    spread = float(dx @ dx)
    slope = float(dx @ (y - y_mean)) / spread if spread > 0 else 0.0
    return slope, y_mean - slope * x_mean


def tall_enough(
    boxes: list[list[int]], ids: list[int], model: HeightModel | None
) -> tuple[list[list[int]], list[int]]:
    """The boxes at least half as tall as a lone person standing at their bottom, by ``model``
    (all of them without one): a ball, a head or boots cut off by a line, or a piece of paint,
    is not."""
    if model is None:
        return boxes, ids
    kept = [
        (box, k)
        for box, k in zip(boxes, ids, strict=True)
        if box[3] - box[1] + 1 >= 0.5 * (model[0] * box[3] + model[1])
    ]
    return [b for b, _ in kept], [k for _, k in kept]


def expected_height(model: HeightModel | None, box: list[int]) -> float | None:
    """A lone person's height (px) with feet at the box's bottom, by ``model``, if any."""
    return None if model is None else model[0] * box[3] + model[1]
