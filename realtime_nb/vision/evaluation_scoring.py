"""Scoring one frame's plugin results against its synthetic ground truth.

:func:`score_frame` compares what ``player_detection``, ``ball_detection``,
``pitch_detection`` and ``radar`` reported for a frame with the frame's truth and returns
:class:`Scores`, which add up over frames and clips. :mod:`realtime_nb.vision.evaluation` runs the
plugins and re-exports these names.

Example:
    >>> from realtime_nb.vision.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=0.04, seed=1)
    >>> scores = score_frame(clip.truth[0], {"player_detection": {"detections": []}}, 640, 360)
    >>> scores.recall
    0.0
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realtime_nb.core.geometry import box_iou
from realtime_nb.vision.plugins.radar import ground_point, to_pitch
from realtime_nb.vision.synthetic import FrameTruth

__all__ = [
    "BALL_MATCH_PX",
    "BALL_WRONG_PX",
    "CORNER_MARGIN_PX",
    "CORNER_MATCH_PX",
    "IOU_THRESHOLD",
    "Scores",
    "score_frame",
]

IOU_THRESHOLD = 0.5
CORNER_MARGIN_PX = 8.0
"""Truth corners closer than this to the frame's edge are not scored (half cut by the edge)."""
CORNER_MATCH_PX = 20.0
"""A detected corner further than this from a truth corner does not count as finding it."""
BALL_MATCH_PX = 6.0
"""A ball reported further than this from the true centre is not counted as found."""
BALL_WRONG_PX = 10.0
"""A ball reported further than this from the true centre is another object (a wrong lock)."""


@dataclass
class Scores:
    """Counts and errors accumulated over frames (``+=`` adds another one).

    Attributes:
        true_pos: Detections matched one-to-one to a truth person at IoU >= 0.5.
        false_pos: Detections matched to no truth person.
        false_neg: Truth persons matched by no detection.
        team_pairs: ``(truth team, detected team)`` of matched outfield players, per clip.
        ball_visible: Frames where the ball is visible.
        ball_found: Of those, frames with a ball reported within 6 px of the truth.
        ball_errors: Centre error (px) on every visible-ball frame with a ball reported.
        ball_reported: Frames with a ball reported, seen or predicted, whether or not the
            ball is visible.
        ball_wrong: Of those, reports of another object: more than 10 px from the visible
            ball, or a ball seen (not predicted) while the true ball is hidden or off-frame.
        corners_visible: Truth pitch corners in the frame (away from its edge).
        corners_found: Of those, corners with a detected corner within 20 px.
        corner_errors: Distance (px) to the nearest detected corner, for the found ones.
        pitch_frames: Frames pitch_detection ran on.
        homography_frames: Of those, frames with a homography.
        homography_errors: Metres between the true pitch position of each visible person's
            feet and the one through the found homography (the homography's own error).
        radar_errors: Metres between radar's position of each detected person matched to a
            truth person and that person's true position (detection error included).
        frames: Frames scored.
    """

    true_pos: int = 0
    false_pos: int = 0
    false_neg: int = 0
    team_pairs: list[list[tuple[int, int | None]]] = field(default_factory=list)
    ball_visible: int = 0
    ball_found: int = 0
    ball_errors: list[float] = field(default_factory=list)
    ball_reported: int = 0
    ball_wrong: int = 0
    corners_visible: int = 0
    corners_found: int = 0
    corner_errors: list[float] = field(default_factory=list)
    pitch_frames: int = 0
    homography_frames: int = 0
    homography_errors: list[float] = field(default_factory=list)
    radar_errors: list[float] = field(default_factory=list)
    frames: int = 0

    def __iadd__(self, other: Scores) -> Scores:
        self.true_pos += other.true_pos
        self.false_pos += other.false_pos
        self.false_neg += other.false_neg
        self.team_pairs.extend(other.team_pairs)
        self.ball_visible += other.ball_visible
        self.ball_found += other.ball_found
        self.ball_errors.extend(other.ball_errors)
        self.ball_reported += other.ball_reported
        self.ball_wrong += other.ball_wrong
        self.corners_visible += other.corners_visible
        self.corners_found += other.corners_found
        self.corner_errors.extend(other.corner_errors)
        self.pitch_frames += other.pitch_frames
        self.homography_frames += other.homography_frames
        self.homography_errors.extend(other.homography_errors)
        self.radar_errors.extend(other.radar_errors)
        self.frames += other.frames
        return self

    @property
    def precision(self) -> float:
        """Share of detections that match a truth person (1.0 with no detections)."""
        return _ratio(self.true_pos, self.true_pos + self.false_pos)

    @property
    def recall(self) -> float:
        """Share of truth persons found (1.0 with none to find)."""
        return _ratio(self.true_pos, self.true_pos + self.false_neg)

    @property
    def team_accuracy(self) -> float:
        """Share of matched outfield players given their team, the two ids being allowed to be
        swapped once per clip (a plugin names teams 0 and 1 in its own order). A player given
        no team counts as wrong."""
        right = total = 0
        for pairs in self.team_pairs:
            same = sum(t == d for t, d in pairs)
            swapped = sum(d is not None and t == 1 - d for t, d in pairs)
            right += max(same, swapped)
            total += len(pairs)
        return _ratio(right, total)

    @property
    def ball_rate(self) -> float:
        """Share of visible-ball frames where the ball was found."""
        return _ratio(self.ball_found, self.ball_visible)

    @property
    def ball_median_error(self) -> float | None:
        """Median centre error (px) where the ball is visible and reported, or None."""
        return statistics.median(self.ball_errors) if self.ball_errors else None

    @property
    def ball_wrong_rate(self) -> float:
        """Share of reported balls that are another object (0.0 with no reports)."""
        return self.ball_wrong / self.ball_reported if self.ball_reported else 0.0

    @property
    def corner_rate(self) -> float:
        """Share of visible pitch corners found."""
        return _ratio(self.corners_found, self.corners_visible)

    @property
    def corner_median_error(self) -> float | None:
        """Median error (px) of the found pitch corners, or None when none was."""
        return statistics.median(self.corner_errors) if self.corner_errors else None

    @property
    def homography_rate(self) -> float:
        """Share of frames where pitch_detection found a homography."""
        return _ratio(self.homography_frames, self.pitch_frames)

    @property
    def homography_median_error(self) -> float | None:
        """Median position error (m) through the found homographies, or None."""
        return statistics.median(self.homography_errors) if self.homography_errors else None

    @property
    def homography_p95_error(self) -> float | None:
        """95th percentile of the position error (m) through the found homographies."""
        if not self.homography_errors:
            return None
        return float(np.percentile(self.homography_errors, 95))

    @property
    def radar_median_error(self) -> float | None:
        """Median error (m) of radar's player positions, or None when it placed nobody."""
        return statistics.median(self.radar_errors) if self.radar_errors else None


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _match_boxes(
    truths: Sequence[Sequence[float]], found: Sequence[Sequence[float]]
) -> list[tuple[int, int]]:
    """One-to-one (truth, detection) pairs at IoU >= 0.5, best overlaps first."""
    pairs = sorted(
        (
            (iou, i, j)
            for i, t in enumerate(truths)
            for j, d in enumerate(found)
            if (iou := box_iou(t, d)) >= IOU_THRESHOLD
        ),
        reverse=True,
    )
    used_t: set[int] = set()
    used_d: set[int] = set()
    matched = []
    for _, i, j in pairs:
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            matched.append((i, j))
    return matched


def score_frame(
    truth: FrameTruth, results: Mapping[str, Mapping[str, Any]], width: int, height: int
) -> Scores:
    """Score one frame's plugin results against its truth.

    Args:
        truth: The frame's ground truth.
        results: Plugin name to that plugin's result for the frame; missing plugins score
            nothing for their part.
        width: Frame width, to skip corners at the frame's edge.
        height: Frame height.

    Returns:
        The frame's :class:`Scores`; its ``team_pairs`` holds one list (this frame's pairs).
    """
    scores = Scores(frames=1)
    matched = _score_players(scores, truth, results)
    _score_ball(scores, truth, results)
    feet = [ground_point(p.box) for p in truth.players]
    true_feet = to_pitch(_facing(truth.homography, feet), feet)
    _score_homography(scores, results, feet, true_feet)
    radar = results.get("radar") or {}
    placed = radar.get("players")
    if placed is not None:
        for i, j in matched:
            if j < len(placed) and placed[j].get("position") is not None:
                x, y = placed[j]["position"]
                scores.radar_errors.append(math.dist((x, y), true_feet[i]))
    _score_corners(scores, truth, results, width, height)
    return scores


def _score_players(
    scores: Scores, truth: FrameTruth, results: Mapping[str, Mapping[str, Any]]
) -> list[tuple[int, int]]:
    """Add player_detection's counts and this frame's team pairs; return the matched
    ``(truth, detection)`` pairs (none without player_detection)."""
    pairs: list[tuple[int, int | None]] = []
    matched: list[tuple[int, int]] = []
    players = results.get("player_detection")
    if players is not None:
        detections = players.get("detections") or []
        matched = _match_boxes([p.box for p in truth.players], [d["box"] for d in detections])
        scores.true_pos = len(matched)
        scores.false_neg = len(truth.players) - len(matched)
        scores.false_pos = len(detections) - len(matched)
        for i, j in matched:
            person = truth.players[i]
            if person.role == "player" and person.team is not None:
                pairs.append((person.team, detections[j].get("team")))
    scores.team_pairs.append(pairs)
    return matched


def _score_ball(
    scores: Scores, truth: FrameTruth, results: Mapping[str, Mapping[str, Any]]
) -> None:
    """Add ball_detection's figures: found or not where the ball is visible, and whether a
    reported ball is the ball."""
    ball_result = results.get("ball_detection")
    if ball_result is None:
        return
    ball = ball_result.get("ball")
    if ball is not None:
        scores.ball_reported = 1
    if truth.ball is None:
        # Seen while hidden is another object, unless it is the ball whose centre a person
        # covers: the rest of it shows, and a report there is the ball, not another object.
        covered = truth.ball_covered
        on_covered = (
            ball is not None
            and covered is not None
            and float(np.hypot(*np.subtract(ball["center"], covered.center))) <= BALL_WRONG_PX
        )
        scores.ball_wrong = int(ball is not None and not ball.get("predicted") and not on_covered)
        return
    scores.ball_visible = 1
    if ball is not None:
        error = float(np.hypot(*np.subtract(ball["center"], truth.ball.center)))
        scores.ball_errors.append(error)
        scores.ball_found = int(error <= BALL_MATCH_PX)
        scores.ball_wrong = int(error > BALL_WRONG_PX)


def _score_corners(
    scores: Scores,
    truth: FrameTruth,
    results: Mapping[str, Mapping[str, Any]],
    width: int,
    height: int,
) -> None:
    """Add pitch_detection's detected corners against the truth corners away from the
    frame's edge."""
    pitch = results.get("pitch_detection")
    if pitch is None:
        return
    detected = pitch.get("detected_corners") or []
    for u, v in truth.pitch_corners:
        inside = CORNER_MARGIN_PX < u < width - CORNER_MARGIN_PX
        if not (inside and CORNER_MARGIN_PX < v < height - CORNER_MARGIN_PX):
            continue
        scores.corners_visible += 1
        nearest = min((float(np.hypot(u - x, v - y)) for x, y in detected), default=np.inf)
        if nearest <= CORNER_MATCH_PX:
            scores.corners_found += 1
            scores.corner_errors.append(nearest)


def _score_homography(
    scores: Scores,
    results: Mapping[str, Mapping[str, Any]],
    feet: list[tuple[float, float]],
    true_feet: list[tuple[float, float]],
) -> None:
    """Add pitch_detection's homography figures: found or not, and the error it makes at the
    visible people's feet."""
    pitch = results.get("pitch_detection")
    if pitch is None:
        return
    scores.pitch_frames = 1
    homography = pitch.get("homography")
    if homography is None:
        return
    scores.homography_frames = 1
    try:
        found = to_pitch(homography, feet)
    except np.linalg.LinAlgError:
        return
    errors = (math.dist(a, b) for a, b in zip(found, true_feet, strict=True))
    # A person the homography puts behind the camera (NaN) is not placed, as radar does.
    scores.homography_errors.extend(e for e in errors if math.isfinite(e))


def _facing(homography: Sequence[Sequence[float]], feet: list[tuple[float, float]]) -> Any:
    """The truth homography with the sign that puts the people's feet in front of the camera
    (the renderer's matrix is only defined up to scale, sign included), which :func:`to_pitch`
    needs to tell points behind the camera."""
    h = np.asarray(homography, np.float64)
    if not feet:
        return h
    w = np.column_stack([feet, np.ones(len(feet))]) @ np.linalg.inv(h)[2]
    return h if np.median(w) >= 0 else -h
