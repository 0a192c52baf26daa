"""The stand beyond the far touchline, cleared from player_detection's candidate pixels.

The pitch's outline reaches a little past the grass at its far edge, so the stand's bottom
edge is inside it: a strip of non-green pixels along the outline's top edge, which would join
the far players standing near it into one blob too wide to be anybody. Where the stand fills
rows, they are cleared (:func:`without_stand_rows`); where its edge slants across the image,
the strip is cleared down to its depth read across the image, not per blob
(:func:`without_stand_edge`).

Example:
    >>> import numpy as np
    >>> region = np.zeros((40, 60), np.uint8); region[5:] = 255
    >>> candidates = np.zeros_like(region); candidates[5:8] = 255  # the strip
    >>> candidates[5:25, 30:33] = 255  # a player standing at it
    >>> cleared = without_stand_edge(candidates, region)
    >>> int(cleared[5:9].sum()), bool(cleared[9:25, 30:33].all())  # the strip and its fringe
    (0, True)
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import clip
from realtime_nb.vision.plugins.grass import Mask

__all__ = [
    "STAND_DEPTH",
    "STAND_ROWS",
    "STAND_SPAN",
    "clear_stand_edge",
    "region_widths",
    "without_stand_edge",
    "without_stand_rows",
]

STAND_DEPTH = 0.06
"""The deepest (as a share of the frame's rows) the stand's strip is read below the outline's
top edge."""

STAND_ROWS = 0.2
"""How far below the pitch outline's first row (as a share of the frame's rows) its top edge
is looked for."""

STAND_SPAN = 0.08
"""The columns (as a share of the frame's width) over which the strip's depth is a running
median: wide enough that a player or two standing at the strip do not deepen it."""


def region_widths(region: Mask) -> npt.NDArray[np.int32]:
    """Each row's sum of the 0/255 ``region`` (255 times its width in the row), which
    :func:`without_stand_rows` and :func:`clear_stand_edge` both read: worked out once."""
    widths = cv2.reduce(region, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    return np.asarray(widths, np.int32)


def without_stand_rows(
    candidates: Mask, region: Mask, widths: npt.NDArray[np.int32] | None = None
) -> Mask:
    """``candidates`` with the rows cleared where they fill more than half of ``region``'s
    width: the stand beyond the far touchline, inside the pitch's outline at its edge, which
    would join the players standing on the line into one blob too wide to be anybody
    (``widths``: :func:`region_widths`, when already worked out)."""
    filled = cv2.reduce(candidates, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    width = region_widths(region) if widths is None else widths
    stand = (2 * filled > width) & (width > 0.3 * 255 * candidates.shape[1])
    if not stand.any():
        return candidates
    cleared = candidates.copy()
    cleared[stand] = 0
    return cleared


def without_stand_edge(candidates: Mask, region: Mask) -> Mask:
    """``candidates`` without the stand's strip along ``region``'s top edge.

    In each column, the strip is the run of candidate pixels from the region's top row down
    (at most :data:`STAND_DEPTH` of the frame's rows); its depth is the running median of the
    runs over :data:`STAND_SPAN` of the frame's width, and one row more (the strip's blurred
    fringe). A player reaching into the strip loses only the rows of it, and a player below
    it nothing.
    """
    cleared = candidates.copy()
    clear_stand_edge(cleared, region)
    return cleared


def clear_stand_edge(
    candidates: Mask, region: Mask, widths: npt.NDArray[np.int32] | None = None
) -> None:
    """Clear the stand's strip along ``region``'s top edge from ``candidates`` in place, as
    :func:`without_stand_edge` returns it (without the copy of a frame-sized mask;
    ``widths``: :func:`region_widths`, when already worked out)."""
    h, w = candidates.shape
    top = _top_edge(region, widths)
    if top is None:
        return
    has = top < h
    # Runs are kept as 8-bit (cv2.medianBlur's kernels past 5 take nothing else): at most 255.
    deepest = min(255, max(3, round(STAND_DEPTH * h)))
    # The runs from every other column: the running median over them is as good for a strip
    # that changes slowly across, at a quarter of the work.
    y0 = int(top[has].min())
    y1 = min(h, int(top[has].max()) + deepest + 1)
    # Rows and top rows as 16-bit numbers where they fit (frames under 32,768 rows): the
    # tests below over a strip of the frame cost less on them than on 64-bit ones.
    signed, unsigned = (np.int16, np.uint16) if h < 2**15 else (np.int64, np.uint64)
    rows = np.arange(y0, y1, dtype=signed)[:, None]
    top_rows = top.astype(signed)
    gap = (rows >= top_rows[::2]) & (candidates[y0:y1, ::2] == 0)
    ends = np.where(gap.any(axis=0), np.argmax(gap, axis=0) + y0, y1)
    runs = clip(ends - top[::2], 0, deepest).astype(np.uint8)
    # cv2.medianBlur takes kernels past 5 on 8-bit images only; on one row, replicated at its
    # border, its square kernel is the running median along the row.
    span = max(3, round(STAND_SPAN * w / 2)) | 1
    half = cv2.medianBlur(np.ascontiguousarray(runs[None, :]), span).ravel()
    depth = np.repeat(np.where(half > 0, half.astype(np.int64) + 1, 0), 2)[:w]
    if not depth.any():
        return
    y1 = min(h, int((top + depth)[has].max()))
    rows = rows[: y1 - y0]
    # top <= row < top + depth in one test: a row above the top is negative from it, and
    # as an unsigned number larger than any depth.
    strip = (rows - top_rows).view(unsigned) < depth.astype(unsigned)
    np.putmask(candidates[y0:y1], strip, 0)


def _top_edge(
    region: Mask, widths: npt.NDArray[np.int32] | None = None
) -> npt.NDArray[np.int64] | None:
    """Each column's top row in ``region`` near its first row (the frame's rows where the
    column has none there), or None when the region is empty (``widths``:
    :func:`region_widths`, when already worked out).

    The far touchline is near the region's first row: the top edge is looked for in the rows
    down to :data:`STAND_ROWS` of the frame below it (a side line slanting lower meets no
    stand).
    """
    h = region.shape[0]
    # The rows with any of the region: a row's sum (``widths``) is over 0 exactly where its
    # largest value is, the mask being 0 or more.
    rows_in = np.flatnonzero(region_widths(region) if widths is None else widths)
    if not len(rows_in):
        return None
    first = int(rows_in[0])
    looked = region[first : first + max(3, round(STAND_ROWS * h))]
    # The outline is convex: a column inside it down to the rows' last is inside from its top
    # edge on, which its count of rows inside tells (a sum is much faster than an argmax
    # down the columns). A column whose inside ends sooner (a corner) is left alone.
    inside = cv2.reduce(looked, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255
    has = (inside > 0) & (looked[-1] > 0)
    if not has.any():
        return None
    return np.where(has, first + len(looked) - inside, h).astype(np.int64)
