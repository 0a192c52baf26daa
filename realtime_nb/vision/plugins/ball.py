"""The ball with classic OpenCV: small round white peaks, judged by the pitch's geometry and
the people around them, followed as several Kalman tracks of which one is elected the ball.

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

from realtime_nb.vision.plugins.ball_candidates import (
    BallCandidate,
    above_something_dark,
    find_candidates,
    streak_of,
    under_something_dark,
    whiteness,
)
from realtime_nb.vision.plugins.ball_tracks import Candidate, TrackSet
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.vision.plugins.grass import (
    Mask,
    green_mask,
    pitch_region,
    polygon_mask,
    warn_once,
)
from realtime_nb.vision.plugins.pitch_model import (
    PITCH_LENGTH,
    model_features,
    project,
    project_pieces,
)

__all__ = [
    "BALL_RADIUS_M",
    "LOW_CONFIDENCE_WARNING",
    "ON_LINE_AT_FEET_FACTOR",
    "ON_LINE_FACTOR",
    "SPOTS_M",
    "BallDetection",
]

LOW_CONFIDENCE_WARNING = "confidence too low"
"""Warning (severity medium) of ball_detection when it loses the ball."""


BALL_RADIUS_M = 0.11
"""A football's radius in metres (FIFA size 5: 68 to 70 cm round)."""
_MARKINGS = model_features(arc_step_deg=10.0).ends
"""The pitch's markings as straight pieces in metres."""
PERSON_HEIGHT_M = 1.8
"""A person's height in metres, for how tall a box should be at a place on the pitch."""
ON_LINE_FACTOR = 0.6
"""Confidence kept by a candidate on a pitch marking away from anyone's feet: there it is more
often a fleck of a worn or blurred line than the ball, and a fleck's track took the ball's
place while the ball was hidden (0.75 before; on 18 tuning rows x 30 random seeds, 0.6 here
and :data:`ON_LINE_AT_FEET_FACTOR` at the feet cut wrong reports from 6.8 % to 4.9 % with
found unchanged at 86.0 %)."""
ON_LINE_AT_FEET_FACTOR = 0.75
"""The same at someone's feet, where a ball played over a line is the usual case (0.6 there
too cost the classic look 1.4 points of found on 70 tuning seeds)."""
CUT_RATIO = 0.85
"""A person's box shorter than this share of a person standing there (through the homography)
is cut short and taken down to the feet. People drawn on the tuning clips are at least 0.9 of
that height, and a box ends higher where white shorts or a kit close to the grass end it, or
where motion blur fades the legs into the grass and the kit left at the box's bottom passes
for a ball at the feet (0.65 before; on 15 tuning rows x 20 random seeds, motion blur 6 +
JPEG 40 went from 70.3 % found / 13.2 % wrong to 72.1 / 11.9 %, blur 8 + JPEG 30 from
48.5 / 23.0 % to 48.9 / 19.8 %, 352x198 + JPEG 40 from 68.7 / 6.6 % to 68.2 / 5.1 %)."""
HEAD_ROOM = 0.15
"""The share of a person's box height above it that still counts as the person (a head the
box missed)."""
SPOTS_M = ((11.0, 34.0), (PITCH_LENGTH / 2, 34.0), (PITCH_LENGTH - 11.0, 34.0))
"""The penalty and centre spots in pitch metres: white, round and the ball's size."""


class BallDetection(Plugin):
    """The ball: a small, round, bright white peak on the pitch, followed by Kalman tracks.

    Result: ``{"ball": {"box": [x1, y1, x2, y2], "center": [x, y], "confidence": c,
    "predicted": bool} | None}``. A missed ball is predicted for a few frames; when there is
    no ball it is sure of, the result is None and the warning "confidence too low" (medium) is
    raised once for that episode.

    Candidates (:mod:`~realtime_nb.vision.plugins.ball_candidates`) are peaks of a white
    top-hat, kept when round (not a line or a line's corner) and scored by roundness and
    contrast; under a pan's motion blur, whose streak is measured on each frame, a blob is
    also judged with a longer step along the streak. When the plugins that run before it on
    the same frame give it (it runs alone too, with colour and shape only, and then asks for
    more before it names a ball):

    - geometry: with ``pitch_detection``'s homography, a 0.11 m ball at a candidate's ground
      point has a known radius in pixels: it sets the filters' scale (the search runs on a
      shrunk frame when the ball is large), candidates much larger are dropped, the centre and
      penalty spots are never the ball, and one on a marking counts for less;
    - people: with ``player_detection``'s boxes, a blob inside a person's box is kit unless it
      is at the feet of someone no farther away; a box shorter than a person standing there
      (cut at white shorts, or legs faded by motion blur) is taken down to the feet; a white
      blob standing on something dark is a sock on its boot and counts for half;
    - motion: a blob that stays at one pitch point for :attr:`static_frames` frames, away from
      anyone's feet, is a fixture; the tracks (:mod:`~realtime_nb.vision.plugins.ball_tracks`)
      score each hypothesis by how often and how ball-like it was seen, gate a track by how
      far a kicked ball goes in a frame (:attr:`reach_m`), and switch the ball to another
      track only when that one is clearly better;
    - doubt: a new track becomes the ball after three sightings, two when very ball-like, or
      at once when it is the one clear ball of its frame; until then, and whenever the ball
      is lost, the result is None, never a guess.
    """

    name = "ball_detection"
    history_frames = None  # the Kalman tracks
    metadata = bgr_metadata("opencv-tophat-blob+geometry+kalman", 0.5, ["detection", "tracking"])
    min_confidence = 0.3
    max_coast = 8
    decay = 0.8
    reach_m = 1.2
    """How far (metres) the ball may go from where its track predicts it in one frame: a
    kick takes it from rest to 30 m/s, 1.2 m a frame at 25 fps."""
    static_frames = 12
    """Frames a blob away from anyone's feet must stay put (within 0.3 m, or 1.5 px without a
    homography) to count as a fixture."""

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find or predict the ball; warn once when it is lost."""
        h, w = frame.shape[:2]
        scene = _Scene.of(ctx)
        candidates = scene.plausible(_candidates(frame, ctx, scene))
        candidates = _not_static(candidates, scene, ctx.state, self.static_frames)
        tracks: TrackSet = ctx.state.setdefault("tracks", TrackSet())
        tracks.gate_px = max(
            12.0 * w / 640, self.reach_m * scene.typical_radius(w, h) / BALL_RADIUS_M
        )
        # Without the pitch's geometry a line's corner can look like a ball: ask for more.
        tracks.least_quality = 0.45 if scene.homography is not None else 0.65
        ball, seen = tracks.step(candidates)
        if ball is not None and seen is not None:
            (cx, cy), radius, _ = seen
            ctx.state["lost_warned"], ctx.state["unsure"] = False, 0
            return {"ball": _ball(cx, cy, radius, ball.quality, False)}
        if ball is not None:
            px, py = ball.centre
            confidence = ball.quality * self.decay**ball.missed
            in_view = 0 <= px < w and 0 <= py < h
            if in_view and ball.missed <= self.max_coast and confidence >= self.min_confidence:
                return {"ball": _ball(px, py, ball.radius, confidence, True)}
        # A new track needs a few sightings before it is the ball: no warning while it may be.
        ctx.state["unsure"] = ctx.state.get("unsure", 0) + 1
        if ctx.state["unsure"] >= tracks.confirm:
            warn_once(ctx, "lost_warned", LOW_CONFIDENCE_WARNING, "medium")
        return {"ball": None}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Circle the ball: red when seen, grey when predicted."""
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


FloatArray = npt.NDArray[np.float64]


def _candidates(frame: Frame, ctx: PluginContext, scene: _Scene) -> list[Candidate]:
    """Blob-like bright peaks of the ball's size on the pitch, in full-frame pixels.

    The search runs on the white channel shrunk by a whole factor so that the ball is about
    2 px in radius there: smaller is below what the filters resolve, larger costs time. When
    the ball at the bottom of the frame is much larger than at its middle (a near, low
    camera), a second search shrunk for that size finds it there: the filters sized for the
    middle read a ball twice their size as flat-topped and touching.
    """
    h, w = frame.shape[:2]
    typical = scene.typical_radius(w, h)
    white = whiteness(frame)
    region = scene.without_kit(_region(frame, ctx))
    streak = streak_of(frame[:, :, 1])
    ground = float(np.median(frame[::16, ::16].max(axis=2)))
    found = _search(white, region, typical, streak, 0)
    near = scene.expected_radius(np.array([[w / 2, h - 1.0]], np.float64))[0]
    if math.isfinite(near) and near > max(_NEAR_RATIO * typical, _NEAR_LEAST_PX):
        found += _search(white, region, float(near), streak, 1)
    top = max(max((c.contrast for c, _, _ in found), default=1.0), 0.8 * float(white.max()))
    centres = np.array([_full(c, f) for c, f, _ in found], np.float64).reshape(-1, 2)
    kit, held = scene.places(centres)
    # The second search only where the ball is too large for the first one's filters.
    large = np.zeros(len(found), bool)
    if any(search for _, _, search in found):
        large = scene.expected_radius(centres) > _LARGE_RATIO * typical
    scored = []
    for (c, factor, search), on_kit, at_feet, big in zip(found, kit, held, large, strict=True):
        if on_kit or (search and not big):
            continue
        # At someone's feet a ball half behind a leg or against a sock is less round.
        least = 0.3 if at_feet else 0.45
        shape = min(1.0, max(0.0, c.roundness - least) / 0.4) * (1.0 - 0.2 * c.touching)
        confidence = 0.3 + 0.65 * shape * min(1.0, c.contrast / (0.7 * top))
        scored.append((confidence, c, factor, search))
    scored.sort(key=lambda s: -s[0])
    out: list[Candidate] = []
    searches: list[int] = []
    for confidence, c, factor, search in scored:
        centre = _full(c, factor)
        radius = c.radius * factor / _SIZE_BIAS
        if any(
            s != search and math.dist(centre, o[0]) < max(radius, o[1])
            for o, s in zip(out, searches, strict=True)
        ):
            continue  # the same blob found by both searches
        if above_something_dark(frame, centre, radius, ground):
            confidence *= 0.5
        if search and under_something_dark(frame, centre, radius, ground):
            continue
        out.append((centre, radius, confidence))
        searches.append(search)
        if len(out) == _MOST:
            break
    return out


def _full(c: BallCandidate, factor: int) -> tuple[float, float]:
    """A candidate's centre in full-frame pixels."""
    shift = (factor - 1) / 2
    return (c.x * factor + shift, c.y * factor + shift)


_NEAR_RATIO = 1.45
"""How much larger the ball at the bottom of the frame must be than at its middle for the
second search."""

_NEAR_LEAST_PX = 4.0
"""Least radius (px) of the ball at the bottom of the frame for the second search: below it
the first search's filters still fit, and small frames' JPEG blocks pass the second's."""

_LARGE_RATIO = 1.25
"""How much larger than at the frame's middle the ball must be where the second search's
candidates count."""


def _search(
    white: Mask, region: Mask, typical: float, streak: tuple[int, int], search: int
) -> list[tuple[BallCandidate, int, int]]:
    """find_candidates on ``white`` shrunk for a ball of ``typical`` px radius, each with the
    shrink factor and ``search`` (which search found it)."""
    factor = max(1, int(typical / 2.0))
    if factor > 1:
        size = (white.shape[1] // factor, white.shape[0] // factor)
        white = np.asarray(cv2.resize(white, size, interpolation=cv2.INTER_AREA), np.uint8)
        region = np.asarray(cv2.resize(region, size, interpolation=cv2.INTER_NEAREST), np.uint8)
    largest = min(max(1.5, 1.6 * typical / factor), 8.0)
    shrunk = (round(streak[0] / factor), round(streak[1] / factor))
    found = find_candidates(white, region, largest, limit=32, streak=shrunk)
    return [(c, factor, search) for c in found]


_MOST = 16
"""Candidates of a frame judged further, the most ball-like first."""


_SIZE_BIAS = 1.7
"""Measured over drawn radius of find_candidates' size (the smoothing widens a blob)."""


def _region(frame: Frame, ctx: PluginContext) -> Mask:
    """Where to look: pitch_detection's pitch polygon, else the grass found here."""
    polygon = (ctx.results.get("pitch_detection") or {}).get("pitch_polygon") or []
    if len(polygon) >= 3:
        return polygon_mask(frame.shape[:2], np.asarray(polygon, np.int32))
    hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
    return pitch_region(ctx, green_mask(hsv))


class _Scene:
    """What the plugins before ball_detection said about this frame: the homography and the
    people's boxes (either may be missing)."""

    def __init__(self, homography: FloatArray | None, people: list[list[float]]) -> None:
        self.homography = homography
        self.inverse: FloatArray | None = (
            None if homography is None else np.asarray(np.linalg.inv(homography), np.float64)
        )
        self.people = people
        self.quality = 0.0
        """pitch_detection's quality of the homography, 0 to 1."""

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
        scene = cls(homography, [list(d["box"]) for d in detections if "box" in d])
        scene.quality = float((ctx.results.get("pitch_detection") or {}).get("quality") or 0.0)
        scene.people = scene.whole_people()
        return scene

    def whole_people(self) -> list[list[float]]:
        """The people's boxes, each at least as tall as a person standing where its bottom
        is (with a homography): a box cut at the waist, where white shorts or a kit close to
        the grass ended it, is extended down to the feet, so the kit is not taken for a ball
        at the feet."""
        if self.homography is None or not self.people or self.quality < 0.8:
            return self.people  # a rough homography's scale would cut real feet off
        bottoms = np.array([[(b[0] + b[2]) / 2, b[3]] for b in self.people], np.float64)
        tall = PERSON_HEIGHT_M / BALL_RADIUS_M * self.expected_radius(bottoms)
        out = []
        for (x1, y1, x2, y2), height in zip(self.people, tall, strict=True):
            if math.isfinite(height) and y2 - y1 < CUT_RATIO * height:
                y2 = y1 + 0.9 * height
            out.append([x1, y1, x2, y2])
        return out

    def typical_radius(self, width: int, height: int) -> float:
        """The ball's radius in pixels at the middle of the frame (a 640 px wide frame's
        usual 2 px, scaled with the width, without a homography or where it is undefined)."""
        fallback = 2.0 * width / 640
        if self.homography is None:
            # Without the pitch's scale the people's height gives it (a near view's ball is
            # far larger than the usual 2 px); a few boxes, as a crowd's may be cut or merged.
            if len(self.people) >= 3:
                tall = float(np.median([b[3] - b[1] for b in self.people]))
                return max(fallback, BALL_RADIUS_M / PERSON_HEIGHT_M * tall)
            return fallback
        expected = self.expected_radius(np.array([[width / 2, height / 2]], np.float64))
        value = float(expected[0])
        return value if math.isfinite(value) and value > 0 else fallback

    def expected_radius(self, points: FloatArray) -> FloatArray:
        """A 0.11 m ball's radius in pixels on the ground at each image point (NaN above the
        horizon or without a homography)."""
        pitch = self.ground(points)
        if pitch is None or self.homography is None:
            return np.full(len(points), np.nan)
        base = project(self.homography, pitch)
        ahead = project(self.homography, np.column_stack([pitch[:, 0] + 1.0, pitch[:, 1]]))
        across = project(self.homography, np.column_stack([pitch[:, 0], pitch[:, 1] + 1.0]))
        per_m = np.maximum(
            np.linalg.norm(ahead - base, axis=1), np.linalg.norm(across - base, axis=1)
        )
        out: FloatArray = BALL_RADIUS_M * per_m
        return out

    def ground(self, points: FloatArray) -> FloatArray | None:
        """Pitch metres of image points (NaN above the horizon), or None without a homography."""
        if self.inverse is None:
            return None
        return project(self.inverse, points)

    def plausible(self, candidates: list[Candidate]) -> list[Candidate]:
        """Drop candidates of the wrong size for their place or on a spot;
        scale the rest's confidence by how well their size fits."""
        if not candidates:
            return candidates
        centres = np.array([c[0] for c in candidates], np.float64)
        pitch = self.ground(centres)
        expected = None if pitch is None else self.expected_radius(centres)
        on_line = self._near_markings(centres)
        at_feet = self.places(centres)[1]
        kept = []
        for k, (centre, radius, confidence) in enumerate(candidates):
            if pitch is not None and expected is not None:
                x, y = pitch[k]
                want = max(2.0, float(expected[k]))  # optics spread even a far ball
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
                    confidence *= ON_LINE_AT_FEET_FACTOR if at_feet[k] else ON_LINE_FACTOR
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

    def places(self, points: FloatArray) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Whether each of ``(n, 2)`` points is on a person's kit, and whether it is at
        someone's feet.

        A point in a box above the feet is kit unless it is at the feet of someone no
        farther away (whose box ends no higher): with people one behind the other, the far
        one's feet are inside the near one's box, but where they overlap the near one is in
        front. A person cut into two boxes, one above the other, puts the upper one's
        "feet" on the kit; it is kit. A point just above a box (room for a head the box
        missed) is kit unless it is at anyone's feet: the far one's feet are seen there,
        over the near one's head.
        """
        if not self.people or not len(points):
            return np.zeros(len(points), bool), np.zeros(len(points), bool)
        boxes = np.asarray(self.people, np.float64)
        x1, y1, x2, y2 = (boxes[:, i][None] for i in range(4))
        reach = _feet_reach(y2 - y1)
        x, y = points[:, :1], points[:, 1:]
        across = (x1 - 1 <= x) & (x <= x2 + 1)
        at_feet = across & (y2 - reach <= y) & (y <= y2 + reach)
        body = across & (y1 <= y) & (y < y2 - reach)
        above = across & (y1 - HEAD_ROOM * (y2 - y1) <= y) & (y < y1)
        nearer = (y2 <= y2.T).astype(np.int32)  # [j, k]: j's box ends at or below k's
        held = (at_feet.astype(np.int32) @ nearer) > 0  # [n, k]: at the feet of one as near
        feet = at_feet.any(axis=1)
        kit = (body & ~held).any(axis=1) | (above.any(axis=1) & ~feet)
        return np.asarray(kit, bool), np.asarray(feet, bool)

    def without_kit(self, region: Mask) -> Mask:
        """``region`` less the people's kit (:meth:`places`), so that people's whites do not
        crowd the ball out of a frame's most contrasted peaks."""
        if not self.people:
            return region
        out = region.copy()
        # Of boxes ending on one row, the shorter first: its body may cover the taller one's
        # feet zone (which reaches higher), never the reverse.
        people = sorted(self.people, key=lambda box: (box[3], box[3] - box[1]))
        for x1, y1, x2, y2 in people:  # the room above each head, which any feet win over
            xa, xb = max(0, math.ceil(x1 - 1)), max(0, math.floor(x2 + 1) + 1)
            out[max(0, math.ceil(y1 - HEAD_ROOM * (y2 - y1))) : max(0, math.ceil(y1)), xa:xb] = 0
        # Farthest first: a nearer person's kit covers a farther one's feet, not the reverse.
        for x1, y1, x2, y2 in people:
            reach = float(_feet_reach(y2 - y1))
            xa, xb = max(0, math.ceil(x1 - 1)), max(0, math.floor(x2 + 1) + 1)
            out[max(0, math.ceil(y1)) : max(0, math.ceil(y2 - reach)), xa:xb] = 0
            ya, yb = max(0, math.ceil(y2 - reach)), max(0, math.floor(y2 + reach) + 1)
            out[ya:yb, xa:xb] = region[ya:yb, xa:xb]
        return out


def _feet_reach(height: Any) -> Any:
    """How far above and below a person's box bottom (``height`` px tall; a number or an
    array) the feet zone reaches: 0.12 of the height, at least 3 px, as a far ball is as tall
    as the feet zone."""
    return np.maximum(0.12 * np.asarray(height, np.float64), 3.0)


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
    held = scene.places(centres)[1]
    for candidate, (x, y), at_feet in zip(candidates, places, held, strict=True):
        if at_feet:
            kept.append(candidate)  # a ball kept at a player's feet stays put, and is the ball
            continue
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
