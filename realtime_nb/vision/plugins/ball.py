"""The ball with classic OpenCV: a small, compact white blob followed by a Kalman filter.

Example:
    >>> from realtime_nb.vision.plugins import PluginContext
    >>> from realtime_nb.vision.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=1, seed=1, ball_hidden_fraction=0)
    >>> ctx = PluginContext(0, "f-000000", {}, {}, clip.info)
    >>> "ball" in BallDetection().process(clip.frame(0), ctx)
    True
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.vision.plugins.grass import Mask, green_mask, kernel, pitch_region, warn_once
from realtime_nb.vision.plugins.pitch_model import (
    PITCH_LENGTH,
    model_features,
    project,
    project_pieces,
)

__all__ = ["BALL_RADIUS_M", "LOW_CONFIDENCE_WARNING", "SPOTS_M", "BallDetection"]

LOW_CONFIDENCE_WARNING = "confidence too low"
"""Warning (severity medium) of ball_detection when it loses the ball."""


BALL_RADIUS_M = 0.11
"""A football's radius in metres (FIFA size 5: 68 to 70 cm round)."""
_MARKINGS = model_features(arc_step_deg=10.0).ends
"""The pitch's markings as straight pieces in metres."""
SPOTS_M = ((11.0, 34.0), (PITCH_LENGTH / 2, 34.0), (PITCH_LENGTH - 11.0, 34.0))
"""The penalty and centre spots in pitch metres: white, round and the ball's size."""


class BallDetection(Plugin):
    """The ball: a small, compact, bright white blob on the pitch, tracked by a Kalman filter.

    Result: ``{"ball": {"box": [x1, y1, x2, y2], "center": [x, y], "confidence": c,
    "predicted": bool} | None}``. A missed ball is predicted for a few frames; once the track is
    lost the warning "confidence too low" (medium) is raised once for that episode.

    What tells the ball from other white things, when the plugins that run before it on the
    same frame give it (it runs alone too, with colour and shape only):

    - size: with ``pitch_detection``'s homography, a 0.11 m ball at a candidate's ground point
      has a known radius in pixels; blobs much smaller or larger (white shorts, a near player's
      sock, a piece of line) are dropped, and the centre and penalty spots are never the ball;
    - people: with ``player_detection``'s boxes, a blob inside a person's box is part of the
      kit unless it is at someone's feet (the bottom eighth of a box, where the ball is played;
      a wider zone lets white socks in); a blob on a pitch marking counts for
      less (blur breaks lines into ball-sized flecks);
    - motion: a blob that stays at the same pitch point (image point without a homography)
      for :attr:`static_frames` frames is a fixture, not the ball;
    - doubt: a new track is reported only once it is seen twice within three frames, or at
      once when it is the only candidate left by the checks above (with a homography) or
      clearly the most ball-like (confidence >= :attr:`sure`, no rival within 0.15); until
      then, and whenever the ball is lost, the result is None with the low-confidence warning,
      never a guess.
    """

    name = "ball_detection"
    history_frames = None  # the ball's Kalman track
    metadata = bgr_metadata("opencv-white-blob+geometry+kalman", 0.5, ["detection", "tracking"])
    min_confidence = 0.3
    max_coast = 8
    decay = 0.8
    sure = 0.8
    """Confidence at which a lone, clearly best candidate is reported on first sight; anything
    less waits for a second sighting on the track."""
    static_frames = 12
    """Frames a blob must stay put (within 0.3 m, or 1.5 px without a homography) to count as
    a fixture."""

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find or predict the ball; warn once when it is lost."""
        h, w = frame.shape[:2]
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        green = green_mask(hsv)
        white = _white_mask(hsv, green, pitch_region(ctx, green))
        scene = _Scene.of(ctx)
        max_size = 0.025 * w if scene.homography is None else 0.08 * w
        candidates = scene.plausible(_compact_blobs(white, max_size=max_size))
        candidates = _not_static(candidates, scene, ctx.state, self.static_frames)
        track: _Track | None = ctx.state.get("track")
        predicted = track.predict() if track is not None else None
        found = _choose(candidates, predicted, track, w)
        if found is None and predicted is not None and track is not None:
            on_line = _on_a_line(white, predicted, _gate(track, w))
            found = next(iter(scene.plausible([on_line] if on_line else [])), None)
        restart = False
        if found is None and track is not None and track.hits < 2 and candidates:
            # An unconfirmed track that is not seen again yields to the best candidate now.
            found, restart = max(candidates, key=lambda c: c[2]), True
        if found is not None:
            (cx, cy), radius, confidence = found
            jumped = predicted is not None and math.dist((cx, cy), predicted) > 3 * _gate(track, w)
            if track is None or jumped or restart:
                track = ctx.state["track"] = _Track(cx, cy)
            else:
                track.update(cx, cy)
            track.missed, track.confidence, track.radius = 0, confidence, radius
            track.hits += 1
            rivals = sum(1 for c in candidates if c[2] >= confidence - 0.15)
            alone = len(candidates) == 1 and scene.homography is not None
            if track.hits >= 2 or alone or (confidence >= self.sure and rivals <= 1):
                track.hits = max(track.hits, 2)
                ctx.state["lost_warned"] = False
                return {"ball": _ball(cx, cy, radius, confidence, False)}
            warn_once(ctx, "lost_warned", LOW_CONFIDENCE_WARNING, "medium")
            return {"ball": None}
        if track is not None and track.hits < 2 and track.missed < 2:
            track.missed += 1  # an unconfirmed track waits two frames for its second sighting
            warn_once(ctx, "lost_warned", LOW_CONFIDENCE_WARNING, "medium")
            return {"ball": None}
        if track is not None and predicted is not None and track.hits >= 2:
            track.missed += 1
            track.confidence *= self.decay
            px, py = predicted
            in_view = 0 <= px < w and 0 <= py < h
            alive = track.missed <= self.max_coast and track.confidence >= self.min_confidence
            if in_view and alive:
                return {"ball": _ball(px, py, track.radius, track.confidence, True)}
        ctx.state["track"] = None
        warn_once(ctx, "lost_warned", LOW_CONFIDENCE_WARNING, "medium")
        return {"ball": None}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Circle the ball: white when seen, grey when predicted."""
        ball = result.get("ball")
        if not ball:
            return
        x, y = ball["center"]
        x1, y1, x2, y2 = ball["box"]
        radius = max(4, round(max(x2 - x1, y2 - y1)))
        colour = (160, 160, 160) if ball.get("predicted") else (0, 0, 255)
        cv2.circle(frame, (round(x), round(y)), radius, colour, 1, cv2.LINE_AA)


def _ball(x: float, y: float, radius: float, confidence: float, predicted: bool) -> dict[str, Any]:
    r = max(1.0, radius)
    return {
        "box": [round(x - r), round(y - r), round(x + r), round(y + r)],
        "center": [round(x, 1), round(y, 1)],
        "confidence": round(confidence, 3),
        "predicted": predicted,
    }


Candidate = tuple[tuple[float, float], float, float]  # centre, radius, confidence
FloatArray = npt.NDArray[np.float64]


def _white_mask(hsv: Frame, green: Mask, region: Mask) -> Mask:
    """Bright white pixels on the pitch: the ball, and the lines (long and thin)."""
    grass_v = cv2.mean(hsv[:, :, 2], mask=green)[0]
    white = cv2.inRange(hsv, (0, 0, min(230.0, grass_v * 1.3)), (180, 70, 255))
    return np.asarray(cv2.bitwise_and(white, region), np.uint8)


def _on_a_line(white: Mask, predicted: tuple[float, float], gate: float) -> Candidate | None:
    """The tracked ball where it lies on a line, so the two are one blob: near the prediction,
    an opening by a 3x3 square removes the thinner line and leaves the ball. Only used near a
    prediction, because the same opening leaves pieces of the thick near lines elsewhere."""
    h, w = white.shape
    px, py = predicted
    r = round(gate) + 3
    x0, y0 = max(0, round(px) - r), max(0, round(py) - r)
    x1, y1 = min(w, round(px) + r + 1), min(h, round(py) + r + 1)
    if x1 - x0 < 5 or y1 - y0 < 5:
        return None
    window = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)  # a border keeps blobs uncut
    window[1:-1, 1:-1] = cv2.morphologyEx(white[y0:y1, x0:x1], cv2.MORPH_OPEN, kernel(3))
    near = []
    for (cx, cy), radius, confidence in _compact_blobs(window, 4, 0.025 * w):
        x, y = cx + x0 - 1, cy + y0 - 1
        if math.dist((x, y), predicted) <= gate:
            near.append(((x, y), max(radius, 2.0), 0.9 * confidence))
    return min(near, key=lambda c: math.dist(c[0], predicted), default=None)


def _compact_blobs(
    white: Mask, min_area: int = 5, max_size: float | None = None
) -> list[Candidate]:
    """Blobs of ``white`` that could be a ball: round enough, filled enough, not cut by the
    frame's edge, at most ``max_size`` px (default 2.5 % of the width) across."""
    h, w = white.shape
    n, _, stats, centroids = cv2.connectedComponentsWithStats(white, connectivity=8)
    max_size = max(6, round(0.025 * w if max_size is None else max_size))
    found = []
    for k in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[k])
        if area < min_area or bw > max_size or bh > max_size:
            continue
        if x <= 0 or y <= 0 or x + bw >= w or y + bh >= h:
            continue  # cut by the frame: most often the end of a line leaving the view
        aspect = max(bw, bh) / min(bw, bh)
        fill = area / (bw * bh)
        if aspect > 2.0 or fill < 0.45:
            continue
        score = (1.0 / aspect) * min(1.0, fill / 0.75)
        radius = max(bw, bh) / 2
        found.append(((float(centroids[k][0]), float(centroids[k][1])), radius, 0.5 + 0.45 * score))
    return found


def _choose(
    candidates: list[Candidate],
    predicted: tuple[float, float] | None,
    track: _Track | None,
    width: int,
) -> Candidate | None:
    """Near the prediction when tracking; the most ball-like blob otherwise."""
    if not candidates:
        return None
    if predicted is None or track is None:
        return max(candidates, key=lambda c: c[2])
    gate = _gate(track, width)
    px, py = predicted
    near = [c for c in candidates if math.hypot(c[0][0] - px, c[0][1] - py) <= gate]
    if near:
        return min(near, key=lambda c: math.hypot(c[0][0] - px, c[0][1] - py))
    # Far from the prediction: re-acquire only after a couple of misses, so a spot on the
    # pitch does not steal a track that is briefly occluded.
    return max(candidates, key=lambda c: c[2]) if track.missed >= 2 else None


def _gate(track: _Track | None, width: int) -> float:
    """How far (pixels) from the prediction a blob may be and still be the tracked ball."""
    missed = track.missed if track is not None else 0
    return (12 + 6 * missed) * max(1.0, width / 640)


class _Track:
    """Constant-velocity Kalman filter on the ball centre, in pixels per frame.

    The same model as ``cv2.KalmanFilter(4, 2)`` but in numpy, because a cv2 filter cannot be
    pickled and the plugin's state may have to cross a process boundary.
    """

    transition = np.array([[1.0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]])
    measure = np.array([[1.0, 0, 0, 0], [0, 1, 0, 0]])
    process_noise = np.diag([0.5, 0.5, 1.0, 1.0])
    measurement_noise = np.eye(2) * 2.0

    def __init__(self, x: float, y: float) -> None:
        self.state = np.array([x, y, 0.0, 0.0])
        self.cov = np.diag([4.0, 4.0, 100.0, 100.0])
        self.missed = 0
        self.hits = 0
        self.confidence = 0.0
        self.radius = 2.0

    def predict(self) -> tuple[float, float]:
        """Advance one frame; return the predicted centre."""
        f = self.transition
        self.state = f @ self.state
        self.cov = f @ self.cov @ f.T + self.process_noise
        return float(self.state[0]), float(self.state[1])

    def update(self, x: float, y: float) -> None:
        """Correct the prediction with a measured centre."""
        m = self.measure
        innovation = np.array([x, y]) - m @ self.state
        s = m @ self.cov @ m.T + self.measurement_noise
        gain = self.cov @ m.T @ np.linalg.inv(s)
        self.state = self.state + gain @ innovation
        self.cov = (np.eye(4) - gain @ m) @ self.cov


class _Scene:
    """What the plugins before ball_detection said about this frame: the homography and the
    people's boxes (either may be missing)."""

    def __init__(self, homography: FloatArray | None, people: list[list[float]]) -> None:
        self.homography = homography
        self.inverse: FloatArray | None = (
            None if homography is None else np.asarray(np.linalg.inv(homography), np.float64)
        )
        self.people = people

    @classmethod
    def of(cls, ctx: PluginContext) -> _Scene:
        """Read the scene from ``ctx.results``."""
        raw = (ctx.results.get("pitch_detection") or {}).get("homography")
        homography = None
        if raw is not None:
            matrix = np.asarray(raw, np.float64)
            if matrix.shape == (3, 3) and abs(np.linalg.det(matrix)) > 1e-12:
                homography = matrix
        detections = (ctx.results.get("player_detection") or {}).get("detections") or []
        return cls(homography, [list(d["box"]) for d in detections if "box" in d])

    def ground(self, points: FloatArray) -> FloatArray | None:
        """Pitch metres of image points (NaN above the horizon), or None without a homography."""
        if self.inverse is None:
            return None
        return project(self.inverse, points)

    def plausible(self, candidates: list[Candidate]) -> list[Candidate]:
        """Drop candidates of the wrong size for their place, on a spot, or on a person's kit;
        scale the rest's confidence by how well their size fits."""
        if not candidates:
            return candidates
        centres = np.array([c[0] for c in candidates], np.float64)
        pitch = self.ground(centres)
        expected = None
        if pitch is not None and self.homography is not None:
            step = np.column_stack([pitch[:, 0] + 1.0, pitch[:, 1]])
            ahead = project(self.homography, step)
            across = project(self.homography, np.column_stack([pitch[:, 0], pitch[:, 1] + 1.0]))
            base = project(self.homography, pitch)
            per_m = np.maximum(
                np.linalg.norm(ahead - base, axis=1), np.linalg.norm(across - base, axis=1)
            )
            expected = BALL_RADIUS_M * per_m
        on_line = self._near_markings(centres)
        kept = []
        for k, (centre, radius, confidence) in enumerate(candidates):
            if pitch is not None and expected is not None:
                x, y = pitch[k]
                want = float(expected[k])
                if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(want)):
                    continue
                if any(math.dist((x, y), spot) < 0.6 for spot in SPOTS_M):
                    continue
                if (
                    not 0.45 * want - 1.0 <= radius <= 1.6 * want + 2.0
                ):  # blur and AA add ~1 px a side
                    continue
                confidence *= 1.0 - 0.3 * min(1.0, abs(radius - want) / max(want, 1.0))
                if on_line[k] <= 1.5 + 0.5 * radius:
                    confidence *= 0.75  # more often a fleck of a blurred line than the ball
            if self._on_kit(centre):
                continue
            kept.append((centre, radius, confidence))
        return kept

    def _near_markings(self, centres: FloatArray) -> FloatArray:
        """Pixels from each point to the nearest pitch marking through the homography (inf
        without one)."""
        if self.homography is None:
            return np.full(len(centres), np.inf)
        pieces = project_pieces(self.homography, _MARKINGS)  # (f, 2, 2), NaN behind
        a, b = pieces[:, 0], pieces[:, 1]
        ab = b - a
        length2 = np.maximum((ab**2).sum(axis=1), 1e-9)
        rel = centres[:, None, :] - a[None]
        t = np.clip((rel * ab[None]).sum(axis=2) / length2[None], 0.0, 1.0)
        nearest = a[None] + t[:, :, None] * ab[None]
        dist = np.linalg.norm(centres[:, None, :] - nearest, axis=2)
        out: FloatArray = np.nanmin(np.where(np.isnan(dist), np.inf, dist), axis=1)
        return out

    def _on_kit(self, centre: tuple[float, float]) -> bool:
        """True when the point lies in a person's box above their feet and at nobody's feet
        (with people one behind the other, the far one's feet are inside the near one's box)."""
        x, y = centre
        inside = at_feet = False
        for x1, y1, x2, y2 in self.people:
            if not x1 - 1 <= x <= x2 + 1:
                continue
            feet = y2 - 0.12 * (y2 - y1)
            at_feet = at_feet or feet <= y <= y2 + 0.12 * (y2 - y1)
            inside = inside or y1 - 1 <= y < feet
        return inside and not at_feet


def _not_static(
    candidates: list[Candidate], scene: _Scene, state: dict[str, Any], frames: int
) -> list[Candidate]:
    """Drop candidates that have stayed at one place for ``frames`` frames (a spot, a
    sprinkler, a logo): the ball moves, or sits at a moving player's feet. Places are pitch
    metres with a homography (a panning camera moves fixtures in the image), pixels without."""
    seen: list[list[float]] = state.setdefault("fixtures", [])  # [x, y, frames, unit]
    if not candidates:
        for entry in seen:
            entry[2] = max(0.0, entry[2] - 1)
        seen[:] = [e for e in seen if e[2] > 0]
        return candidates
    centres = np.array([c[0] for c in candidates], np.float64)
    pitch = scene.ground(centres)
    places, unit, reach = (centres, 0.0, 1.5) if pitch is None else (pitch, 1.0, 0.3)
    kept: list[Candidate] = []
    touched: set[int] = set()
    for candidate, (x, y) in zip(candidates, places, strict=True):
        match = next(
            (
                i
                for i, e in enumerate(seen)
                if e[3] == unit and math.hypot(e[0] - x, e[1] - y) <= reach
            ),
            None,
        )
        if match is None:
            seen.append([float(x), float(y), 1.0, unit])
            touched.add(len(seen) - 1)
            kept.append(candidate)
            continue
        entry = seen[match]
        entry[2] += 1
        touched.add(match)
        if entry[2] < frames:
            kept.append(candidate)
    for i, entry in enumerate(seen):
        if i not in touched:
            entry[2] -= 2
    seen[:] = [e for e in seen if e[2] > 0][-64:]
    return kept
