"""Box arithmetic shared by the plugins, the evaluation and the tests.

Boxes are inclusive pixel boxes ``(x1, y1, x2, y2)``: a box from 0 to 9 is 10 pixels wide.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["box_iou", "box_iou_matrix"]


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two inclusive pixel boxes; 0.0 when both are empty.

    Example:
        >>> box_iou((0, 0, 9, 9), (5, 0, 14, 9))
        0.3333333333333333
    """
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    union = (a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - inter
    return float(inter / union) if union > 0 else 0.0


def box_iou_matrix(a: npt.ArrayLike, b: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """:func:`box_iou` of every box of ``a`` (n x 4) with every box of ``b`` (m x 4), as an
    n x m array; 0.0 where a pair's union is empty.

    Example:
        >>> box_iou_matrix([(0, 0, 9, 9)], [(5, 0, 14, 9), (20, 20, 29, 29)]).round(3).tolist()
        [[0.333, 0.0]]
    """
    ax1, ay1, ax2, ay2 = np.asarray(a, np.float64).reshape(-1, 4).T
    bx1, by1, bx2, by2 = np.asarray(b, np.float64).reshape(-1, 4).T
    ix = np.maximum(np.minimum.outer(ax2, bx2) - np.maximum.outer(ax1, bx1) + 1, 0.0)
    iy = np.maximum(np.minimum.outer(ay2, by2) - np.maximum.outer(ay1, by1) + 1, 0.0)
    inter = ix * iy
    union = np.add.outer((ax2 - ax1 + 1) * (ay2 - ay1 + 1), (bx2 - bx1 + 1) * (by2 - by1 + 1))
    union -= inter
    out: npt.NDArray[np.float64] = np.divide(
        inter, union, out=np.zeros_like(inter), where=union > 0
    )
    return out
