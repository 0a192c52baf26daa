"""Small numeric helpers the plugins share: numpy's answers on a frame's few points or values,
with fewer calls (each numpy call on a few dozen values costs more than its arithmetic).

Example:
    >>> median(np.array([[7, 1], [4, 250]], np.uint8))
    5.5
    >>> near_along_both(np.array([[0.0, 0.0]]), np.array([[1.0, 0.5], [1.0, 3.0]]), 1.0).tolist()
    [[True, False]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Buffers", "clip", "flatnonzero", "median", "near_along_both", "widened"]


class Buffers:
    """Arrays kept by name from call to call, each taken again while its shape and type stay
    the same: a fresh frame-sized array every frame is, as often as not, given back to the
    system by the allocator and taken again page by page (a page fault each)."""

    def __init__(self) -> None:
        """No array kept yet."""
        self._kept: dict[str, npt.NDArray[Any]] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any = np.uint8) -> npt.NDArray[Any]:
        """The array kept as ``name``, or a new one when there is none of ``shape`` and
        ``dtype``; its values are whatever the last user left."""
        kept = self._kept.get(name)
        if kept is None or kept.shape != shape or kept.dtype != dtype:
            kept = self._kept[name] = np.empty(shape, dtype)
        return kept

    def part(self, shape: tuple[int, int], rows: slice, columns: slice) -> Buffers:
        """These arrays' ``rows`` and ``columns``: a part's array of a name is a view of the
        one of ``shape`` kept here, so that work on a rectangle that moves from frame to frame
        keeps writing into the same memory."""
        return _Part(self, shape, rows, columns)

    def renamed(self, names: dict[str, str]) -> Buffers:
        """These arrays, asked for by other names: ``names`` maps a name to the one kept here.
        An array no longer read can be written over by a later step under its own name, so
        that a frame touches fewer distinct frame-sized arrays (memory still in the cache)."""
        return _Renamed(self, names)


class _Part(Buffers):
    """:meth:`Buffers.part`."""

    def __init__(self, whole: Buffers, shape: tuple[int, int], rows: slice, columns: slice) -> None:
        super().__init__()
        self._whole, self._shape, self._at = whole, shape, (rows, columns)

    def get(self, name: str, shape: tuple[int, ...], dtype: Any = np.uint8) -> npt.NDArray[Any]:
        """The part of the whole's array ``name`` (``shape`` is the part's)."""
        view = self._whole.get(name, self._shape + tuple(shape[2:]), dtype)[self._at]
        if view.shape != shape:
            raise ValueError(f"a part of {view.shape[:2]} asked for {shape}")
        return view


class _Renamed(Buffers):
    """:meth:`Buffers.renamed`."""

    def __init__(self, whole: Buffers, names: dict[str, str]) -> None:
        super().__init__()
        self._whole, self._names = whole, names

    def get(self, name: str, shape: tuple[int, ...], dtype: Any = np.uint8) -> npt.NDArray[Any]:
        """The whole's array of ``name``'s other name (or of ``name``)."""
        return self._whole.get(self._names.get(name, name), shape, dtype)


def clip(values: npt.NDArray[Any], low: Any, high: Any) -> npt.NDArray[Any]:
    """``np.clip(values, low, high)``'s values (NaN stays NaN), as the two ufuncs: np.clip's
    own Python-level checks cost more than the clipping on a frame's few points or a box."""
    out: npt.NDArray[Any] = np.minimum(np.maximum(values, low), high)
    return out


_LANES = np.arange(8)


def flatnonzero(mask: npt.NDArray[np.uint8]) -> npt.NDArray[np.intp]:
    """``np.flatnonzero(mask)`` of an 8-bit ``mask``, read eight pixels at a time: on a mask
    of a few set pixels among some 10^5 (a frame's blobs), the set words are found first, and
    only their pixels are tested (a tenth of np.flatnonzero's time)."""
    flat = np.ascontiguousarray(mask).reshape(-1)
    whole = len(flat) // 8 * 8
    words = np.flatnonzero(flat[:whole].view(np.uint64) != 0)
    at = (words[:, None] * 8 + _LANES).reshape(-1)
    at = at[flat[at] != 0]
    if whole < len(flat):
        at = np.concatenate([at, np.flatnonzero(flat[whole:]) + whole])
    return at


def median(values: npt.NDArray[np.integer] | npt.NDArray[np.floating]) -> float:
    """The median of non-empty, finite ``values`` (of any shape) as ``float(np.median(values))``
    gives it, the mean of the two middle values when they are even in number, found by
    np.partition: np.median's own Python path costs several times as much on a few hundred
    values, and a whole sort twice as much as the partition (6.1 against 2.9 us on the 920
    values of ball_detection's grid over a 640x360 frame, timed alone)."""
    flat = np.ravel(values)
    middle = len(flat) // 2
    if len(flat) % 2:
        return float(np.partition(flat, middle)[middle])
    low, high = np.partition(flat, (middle - 1, middle))[middle - 1 : middle + 1].tolist()
    return (float(low) + float(high)) / 2


def near_along_both(
    first: npt.NDArray[np.number], second: npt.NDArray[np.number], reach: float
) -> npt.NDArray[np.bool_]:
    """``(n, m)``: whether point ``i`` of ``first`` ``(n, 2)`` and point ``j`` of ``second``
    ``(m, 2)`` are within ``reach`` of each other along x and along y. Only such pairs can be
    within ``reach`` in all, so a caller works out distances for those alone. A pair with a NaN
    coordinate, or infinitely far along either axis, is not near."""
    with np.errstate(invalid="ignore"):  # an infinite coordinate less an infinite one
        along_x = np.abs(first[:, None, 0] - second[None, :, 0]) <= reach
        along_y = np.abs(first[:, None, 1] - second[None, :, 1]) <= reach
    near: npt.NDArray[np.bool_] = np.logical_and(along_x, along_y)
    return near


def widened(box: Sequence[int], margin: int, width: int, height: int) -> tuple[slice, slice]:
    """Rows and columns of the rectangle ``box`` ``(x, y, w, h)`` (cv2.boundingRect's) widened
    by ``margin`` px on every side, within an image of ``width`` x ``height``."""
    x, y, bw, bh = box
    rows = slice(max(0, y - margin), min(height, y + bh + margin))
    return rows, slice(max(0, x - margin), min(width, x + bw + margin))
