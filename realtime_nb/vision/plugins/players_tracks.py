"""A person's role and team voted over the frames they are seen in, not read from one frame.

A far player's jersey is a few pixels that JPEG washes toward the grass: one frame's colour
can put them on the wrong team, or off both team colours (a goalkeeper). Each box is linked to
the box of the frame before that it overlaps most (a box narrower than half its height counted
as that wide: a far player's box 2 to 4 px wide loses or gains a column as they move), and
carries that box's votes: one per frame
for the role and team read from its jersey, weighted by that reading's confidence, older frames
fading. The role and team with the most votes is the box's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from realtime_nb.core.geometry import box_iou_matrix

__all__ = ["Links", "Verdict", "link_tracks", "track_teams", "vote"]

Verdict = tuple[str, int | None, float]
"""Role, team (None for a goalkeeper or the referee) and confidence of one person."""
Links = tuple[list[int], list[int]]
"""Indices into a frame's boxes and into the frame before's tracks of the pairs linked
(:func:`link_tracks`)."""

_KINDS: tuple[tuple[str, int | None], ...] = (
    ("player", 0),
    ("player", 1),
    ("goalkeeper", None),
    ("referee", None),
)
_KIND_INDEX = {kind: k for k, kind in enumerate(_KINDS)}
FADE = 0.95
"""How much of its votes a track keeps from one frame to the next."""
LINK_IOU = 0.2
"""The least overlap (intersection over union) that links a box to one of the frame before."""
LINK_WIDTH = 0.5
"""Boxes narrower than this share of their height are linked as that wide, about their centre
(:func:`link_tracks`)."""


def vote(
    tracks: list[list[float]],
    boxes: list[list[int]],
    verdicts: list[Verdict],
    links: Links | None = None,
) -> tuple[list[list[float]], list[Verdict]]:
    """Each box's role and team by the votes of its track, and the tracks to keep.

    Args:
        tracks: The frame before's boxes, each ``[x1, y1, x2, y2]`` followed by its votes for
            team 0, team 1, goalkeeper and referee (as :func:`vote` returned them; ``[]`` at
            first).
        boxes: This frame's boxes, inclusive pixels.
        verdicts: This frame's reading of each box's jersey.
        links: :func:`link_tracks` of ``tracks`` and ``boxes``, when already worked out.

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
    now, then = link_tracks(tracks, boxes) if links is None else links
    if now:
        votes[now] = FADE * np.asarray(tracks, np.float64)[then, 4:]
    kinds = [_KIND_INDEX.get(verdict[:2], -1) for verdict in verdicts]
    read = [i for i, k in enumerate(kinds) if k >= 0]  # no team colours learnt yet: no vote
    votes[read, [kinds[i] for i in read]] += [verdicts[i][2] for i in read]
    winners = np.argmax(votes, axis=1).tolist()
    out = list(verdicts)
    for i in read:
        if winners[i] != kinds[i]:
            out[i] = (*_KINDS[winners[i]], 0.5)
    kept = np.hstack([np.asarray(boxes, np.float64).reshape(-1, 4), votes]).tolist()
    return kept, out


def _links(
    before: npt.NDArray[np.float64], now: npt.NDArray[np.float64]
) -> tuple[list[int], list[int]]:
    """Indices into ``now`` and ``before`` of linked boxes, most overlapping first, each box in
    one link at most, overlapping by at least :data:`LINK_IOU`."""
    iou = box_iou_matrix(now, before)
    rows, cols = np.nonzero(iou >= LINK_IOU)
    order = np.argsort(-iou[rows, cols], kind="stable")
    linked_now: list[int] = []
    linked_before: list[int] = []
    for i, k in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if i not in linked_now and k not in linked_before:
            linked_now.append(i)
            linked_before.append(k)
    return linked_now, linked_before


def link_tracks(tracks: list[list[float]], boxes: list[list[int]]) -> Links:
    """Which of this frame's ``boxes`` carries on which of the frame before's ``tracks`` (as
    :func:`vote` returned them): pairs overlapping by at least :data:`LINK_IOU` (boxes narrower
    than :data:`LINK_WIDTH` of their height counted as that wide) linked most overlapping
    first, each box and each track in one link at most (a box whose best track was taken by a
    closer box may take its second best)."""
    if not tracks or not boxes:
        return [], []
    before = np.asarray(tracks, np.float64)[:, :4]
    return _links(_widened(before), _widened(np.asarray(boxes, np.float64)))


def _widened(boxes: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``boxes`` (n x 4, inclusive pixels) at least :data:`LINK_WIDTH` of their height wide,
    about their centre."""
    width = boxes[:, 2] - boxes[:, 0] + 1
    grow = np.maximum(LINK_WIDTH * (boxes[:, 3] - boxes[:, 1] + 1) - width, 0.0) / 2
    out = boxes.copy()
    out[:, 0] -= grow
    out[:, 2] += grow
    return out


def track_teams(
    tracks: list[list[float]], boxes: list[list[int]], links: Links | None = None
) -> list[int | None]:
    """The team each box's track has voted for so far: the frame before's ``tracks`` (as
    :func:`vote` returned them) linked to this frame's ``boxes`` as :func:`vote` links them
    (``links``, when already worked out); None for a box with no track, or whose track's
    winner is not a team.

    Example:
        >>> tracks, _ = vote([], [[0, 0, 3, 9], [20, 0, 23, 9]], [("player", 1, 0.9)] * 2)
        >>> track_teams(tracks, [[1, 0, 4, 9], [40, 0, 43, 9]])
        [1, None]
    """
    out: list[int | None] = [None] * len(boxes)
    now, then = link_tracks(tracks, boxes) if links is None else links
    for i, k in zip(now, then, strict=True):
        votes = tracks[k][4:]
        winner = max(range(len(votes)), key=votes.__getitem__)
        if votes[winner] > 0:
            out[i] = _KINDS[winner][1]
    return out
