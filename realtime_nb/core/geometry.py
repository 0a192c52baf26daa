"""Box arithmetic shared by the plugins, the evaluation and the tests.

Boxes are inclusive pixel boxes ``(x1, y1, x2, y2)``: a box from 0 to 9 is 10 pixels wide.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["box_iou"]


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
