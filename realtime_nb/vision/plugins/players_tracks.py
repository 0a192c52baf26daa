"""A person's role and team voted over the frames they are seen in, not read from one frame.

A far player's jersey is a few pixels that JPEG washes toward the grass: one frame's colour
can put them on the wrong team, or off both team colours (a goalkeeper). Each box is linked to
the box of the frame before that it overlaps most, and carries that box's votes: one per frame
for the role and team read from its jersey, weighted by that reading's confidence, older frames
fading. The role and team with the most votes is the box's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Verdict", "vote"]

Verdict = tuple[str, int | None, float]
"""Role, team (None for a goalkeeper or the referee) and confidence of one person."""

_KINDS: tuple[tuple[str, int | None], ...] = (
    ("player", 0),
    ("player", 1),
    ("goalkeeper", None),
    ("referee", None),
)
FADE = 0.95
"""How much of its votes a track keeps from one frame to the next."""
LINK_IOU = 0.2
"""The least overlap (intersection over union) that links a box to one of the frame before."""


def vote(
    tracks: list[list[float]], boxes: list[list[int]], verdicts: list[Verdict]
) -> tuple[list[list[float]], list[Verdict]]:
    """Each box's role and team by the votes of its track, and the tracks to keep.

    Args:
        tracks: The frame before's boxes, each ``[x1, y1, x2, y2]`` followed by its votes for
            team 0, team 1, goalkeeper and referee (as :func:`vote` returned them; ``[]`` at
            first).
        boxes: This frame's boxes, inclusive pixels.
        verdicts: This frame's reading of each box's jersey.

    Returns:
        This frame's tracks (to pass in with the next frame) and each box's verdict: its own
        when the track's votes agree (or when it is a player of no team: none are learnt
        yet), else the track's winner at confidence 0.5.

    Example:
        >>> tracks, out = vote([], [[0, 0, 3, 9]], [("player", 1, 0.9)])
        >>> out
        [('player', 1, 0.9)]
        >>> vote(tracks, [[1, 0, 4, 9]], [("goalkeeper", None, 0.6)])[1]
        [('player', 1, 0.5)]
    """
    votes = np.zeros((len(boxes), len(_KINDS)))
    if tracks and boxes:
        before = np.asarray(tracks, np.float64)
        links = _links(before[:, :4], np.asarray(boxes, np.float64))
        for i, k in links:
            votes[i] = FADE * before[k, 4:]
    out: list[Verdict] = []
    for i, verdict in enumerate(verdicts):
        if verdict[:2] not in _KINDS:  # no team colours learnt yet
            out.append(verdict)
            continue
        votes[i, _KINDS.index(verdict[:2])] += verdict[2]
        role, team = _KINDS[int(np.argmax(votes[i]))]
        out.append(verdict if (role, team) == verdict[:2] else (role, team, 0.5))
    kept = [[*map(float, box), *row] for box, row in zip(boxes, votes.tolist(), strict=True)]
    return kept, out


def _links(before: npt.NDArray[np.float64], now: npt.NDArray[np.float64]) -> list[tuple[int, int]]:
    """``(now index, before index)`` pairs, most overlapping first, each box in one pair at
    most, overlapping by at least :data:`LINK_IOU`."""
    ix = np.minimum(now[:, None, 2], before[None, :, 2]) - np.maximum(
        now[:, None, 0], before[None, :, 0]
    )
    iy = np.minimum(now[:, None, 3], before[None, :, 3]) - np.maximum(
        now[:, None, 1], before[None, :, 1]
    )
    inter = np.clip(ix + 1, 0, None) * np.clip(iy + 1, 0, None)
    area_now = (now[:, 2] - now[:, 0] + 1) * (now[:, 3] - now[:, 1] + 1)
    area_before = (before[:, 2] - before[:, 0] + 1) * (before[:, 3] - before[:, 1] + 1)
    iou: Any = inter / (area_now[:, None] + area_before[None, :] - inter)
    pairs = []
    for flat in np.argsort(-iou, axis=None):
        i, k = divmod(int(flat), iou.shape[1])
        if iou[i, k] < LINK_IOU:
            break
        pairs.append((i, k))
    used_now: set[int] = set()
    used_before: set[int] = set()
    links = []
    for i, k in pairs:
        if i not in used_now and k not in used_before:
            used_now.add(i)
            used_before.add(k)
            links.append((i, k))
    return links
