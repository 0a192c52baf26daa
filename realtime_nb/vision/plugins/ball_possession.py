"""The ball at a player's feet: whose feet it was last seen at, and where it is while hidden there.

A ball being dribbled or received is often lost in the boots and legs (motion blur, JPEG, small
frames): no candidate is found for longer than a constant-velocity guess holds. Such a ball is
most likely still at the same person's feet, moving with them. :class:`Possession` keeps the
box of the person whose feet held the ball's last sighting and the ball's place relative to that
box (from the box's bottom centre, in box heights, so that it scales as the person comes nearer).
Player boxes carry no ids: the holder's box is linked from frame to frame by overlap, and the
possession ends when no box overlaps it enough or a second box overlaps it almost as well (two
people crossing, a box split in two).

No image: boxes and points only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from realtime_nb.core.geometry import box_iou_matrix
from realtime_nb.vision.plugins.ball_scene import BallScene

__all__ = ["Possession", "feet_of"]

Box = tuple[float, float, float, float]


@dataclass
class Possession:
    """The person holding the ball, and where at their feet the ball is.

    Attributes:
        box: The holder's box (x1, y1, x2, y2) on the last frame it was linked.
        offset: The ball's centre from the box's bottom centre, in box heights.
        frames: Frames since the ball was last seen.
        least_overlap: Least IoU of this frame's box with the holder's last one to be the holder.
        ambiguity: A second box overlapping the holder's last one by this share of the best
            overlap or more makes the holder ambiguous, and the possession ends.

    Example:
        >>> p = Possession.at((52.0, 99.0), [[40.0, 20.0, 60.0, 100.0]])
        >>> p.follow([[44.0, 20.0, 64.0, 100.0]])
        (56.0, 99.0)
    """

    box: Box
    offset: tuple[float, float]
    frames: int = 0
    least_overlap: float = 0.3
    ambiguity: float = 0.7

    @classmethod
    def at(cls, centre: tuple[float, float], feet: list[list[float]]) -> Possession | None:
        """The possession of a ball seen at ``centre``, held by the one of ``feet`` (the boxes
        of the people at whose feet it is) whose bottom centre is nearest, in box heights;
        None when there is none."""
        best: Possession | None = None
        nearest = math.inf
        for x1, y1, x2, y2 in feet:
            height = max(y2 - y1, 1.0)
            dx, dy = (centre[0] - (x1 + x2) / 2) / height, (centre[1] - y2) / height
            if math.hypot(dx, dy) < nearest:
                nearest = math.hypot(dx, dy)
                best = cls((x1, y1, x2, y2), (dx, dy))
        return best

    def follow(self, people: list[list[float]]) -> tuple[float, float] | None:
        """Link the holder to one of this frame's ``people`` and return where the ball is
        at their feet; None (and the possession should end) when the holder is lost or
        ambiguous. Counts a frame without a sighting."""
        if not people:
            return None
        overlap = box_iou_matrix([self.box], people)[0]
        order = np.argsort(-overlap)
        best = float(overlap[order[0]])
        if best < self.least_overlap:
            return None
        if len(order) > 1 and float(overlap[order[1]]) >= self.ambiguity * best:
            return None
        x1, y1, x2, y2 = (float(v) for v in people[int(order[0])])
        self.box = (x1, y1, x2, y2)
        self.frames += 1
        height = max(y2 - y1, 1.0)
        return (x1 + x2) / 2 + self.offset[0] * height, y2 + self.offset[1] * height


def feet_of(scene: BallScene, centre: tuple[float, float]) -> list[list[float]]:
    """The boxes of ``scene``'s people at whose feet (:meth:`BallScene.places`) ``centre`` is."""
    hits = scene.at_feet(np.array([centre], np.float64))[0]
    return [box for box, hit in zip(scene.people, hits, strict=True) if hit]
