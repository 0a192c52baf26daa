"""Where a person's box ends: top of the head and soles of the boots, from the colour distance to
the grass around them.

The blob mask of :mod:`realtime_nb.vision.plugins.players` keeps pixels clearly unlike the grass,
so on blurred or compressed footage it loses what fades into the grass: a few pixels of hair, a
dark boot one pixel tall, white socks that look like line paint. Each box's rows are grown up and
down over rows where some pixel within its columns stands out from the local grass by more than
the grass's own spread, and no further than a person's height allows.
"""

from __future__ import annotations

import numpy as np

from realtime_nb.vision.plugins.base import Frame
from realtime_nb.vision.plugins.grass import Mask

__all__ = ["grow_rows"]


def grow_rows(
    frame: Frame,
    green: Mask,
    box: list[int],
    expected: float | None,
) -> list[int]:
    """``box`` with its top and bottom grown over the rows of the person that the blob missed.

    Args:
        frame: The BGR frame.
        green: Its grass mask.
        box: ``[x1, y1, x2, y2]``, inclusive pixels.
        expected: A lone person's height (px) standing at the box's bottom, when known.

    Returns:
        ``[x1, y1, x2, y2]`` with ``y1`` and ``y2`` moved.
    """
    h, w = green.shape
    x1, y1, x2, y2 = box
    bh = y2 - y1 + 1
    reach = max(2, round(0.45 * (expected or bh)))
    top, bottom = max(0, y1 - reach), min(h - 1, y2 + reach)
    margin = max(2, (x2 - x1 + 1) // 2)
    left, right = max(0, x1 - margin), min(w - 1, x2 + margin)
    window = frame[top : bottom + 1, left : right + 1].astype(np.float32)
    grass_px = green[top : bottom + 1, left : right + 1] > 0
    if grass_px.sum() < 8:
        return box
    grass = np.median(window[grass_px], axis=0)
    distance = np.sqrt(((window - grass) ** 2).sum(axis=2))
    inside = np.zeros(distance.shape, bool)
    inside[:, x1 - left : x2 - left + 1] = True
    outside = distance[~inside]
    threshold = max(22.0, float(np.percentile(outside, 90)) + 12.0) if outside.size else 22.0
    rows = distance[:, x1 - left : x2 - left + 1].max(axis=1) >= threshold
    # A row that stands out beyond the person's columns on both sides is a line, not a person.
    sides = np.zeros(len(rows), bool)
    if x1 - left > 0 and right - x2 > 0:
        sides = (distance[:, : x1 - left].max(axis=1) >= threshold) & (
            distance[:, x2 - left + 1 :].max(axis=1) >= threshold
        )
    rows &= ~sides
    limit = None if expected is None else 1.15 * expected
    new_top, new_bottom = y1, y2
    while new_top - 1 >= top and rows[new_top - 1 - top]:
        if limit is not None and new_bottom - new_top + 2 > limit:
            break
        new_top -= 1
    while new_bottom + 1 <= bottom and rows[new_bottom + 1 - top]:
        if limit is not None and new_bottom - new_top + 2 > limit:
            break
        new_bottom += 1
    return [x1, new_top, x2, new_bottom]

