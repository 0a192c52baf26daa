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
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import Buffers, median, near_along_both, widened
from realtime_nb.vision.plugins.ball_candidates import (
    BODY_SHARE,
    BallCandidate,
    above_something_dark,
    body_around,
    brighter_in_every_channel,
    find_candidates,
    grass_tint,
    over_someone_cut_off,
    raised_reach,
    search_reach,
    streak_of,
    under_something_dark,
    warmth,
    whiteness_and_brightness,
    width_across_a_line,
)
from realtime_nb.vision.plugins.ball_possession import Possession, feet_of
from realtime_nb.vision.plugins.ball_scene import (
    BALL_RADIUS_M,
    LINE_FLECK_FROM_PX,
    ON_LINE_AT_FEET_FACTOR,
    ON_LINE_FACTOR,
    SPOTS_M,
    BallScene,
    a_markings_fleck,
    on_marking,
)
from realtime_nb.vision.plugins.ball_tracks import Candidate, TrackSet
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.vision.plugins.grass import (
    POLYGON_IMAGE,
    Mask,
    green_mask,
    pitch_region,
    polygon_mask,
    warn_once,
)

__all__ = [
    "BALL_RADIUS_M",
    "FIXTURE_REACH_M",
    "FIXTURE_REACH_PX",
    "LOW_CONFIDENCE_WARNING",
    "ON_LINE_AT_FEET_FACTOR",
    "ON_LINE_FACTOR",
    "SPOTS_M",
    "BallDetection",
]

LOW_CONFIDENCE_WARNING = "confidence too low"
"""Warning (severity medium) of ball_detection when it loses the ball."""

FIXTURE_REACH_M = 0.3
"""How far (metres on the ground) a blob away from anyone's feet may move from where it was
first seen and still be staying put (:attr:`BallDetection.static_frames`), or as far as one
pixel reaches on the ground there when that is farther: at the far touchline seen from a low
camera a pixel spans a metre, and a board's letters beyond it, their ground points wandering
by that much with the homography and the blob's centre from frame to frame, had never stayed
within 0.3 m long enough. On tuning clips of a camera 11 to 13.5 m up with a 30 to 33 degree
view (broadcast random seeds 930 to 939, 60 frames each), the ball on one (931) had been a
board's letter from its third frame on: found 226 -> 256 of the visible frames, wrong reports
301 -> 260 (931 1 -> 26 and 59 -> 33); broadcast tuning clips 300 to 311 as before, synthetic
tuning looks within a frame. The pixel's span is not capped: near the horizon it is metres, but
candidates beyond the pitch's margin are dropped before (unless the ball's own track is there),
and on the pitch of the clips measured a pixel spans about a metre at most."""

FIXTURE_REACH_PX = 1.5
""":data:`FIXTURE_REACH_M` without a homography, in pixels."""


class BallDetection(Plugin):
    """The ball: a small, round, bright white peak on the pitch, followed by Kalman tracks.

    Result: ``{"ball": {"box": [x1, y1, x2, y2], "center": [x, y], "confidence": c,
    "predicted": bool} | None}``. A missed ball is predicted for a few frames (at its track's
    score on the first, a miss of one frame being common under blur and JPEG, then fading by
    :attr:`decay` a frame), or while a player holds it (below); when there is no ball it is
    sure of, the result is None and the warning "confidence too low" (medium) is raised once
    for that episode.

    Candidates (:mod:`~realtime_nb.vision.plugins.ball_candidates`) are peaks of a white
    top-hat, kept when round (not a line or a line's corner) and scored by roundness and
    contrast; under a pan's motion blur, whose streak is measured on each frame, a blob is
    also judged with a longer step along the streak. When the plugins that run before it on
    the same frame give it (it runs alone too, with colour and shape only, and then asks for
    more before it names a ball):

    - geometry: with ``pitch_detection``'s homography, a 0.11 m ball at a candidate's ground
      point has a known radius in pixels (that of a metre on the ground seen square on,
      across the line of sight, whichever way the pitch's lines run): it sets the filters'
      scale (the search runs on a shrunk frame when the ball is large), candidates much larger
      are dropped, the centre and penalty spots are never the ball, one on a marking counts
      for less and one where two markings meet for less still; where the ball is 3 px or more
      in radius (at the candidate through the homography, else at the frame's middle; on a
      frame without one, by three or more people's heights), a candidate clearly redder than
      blue (light skin, fair hair) is not it;
    - people: with ``player_detection``'s boxes, a blob inside a person's box is kit unless it
      is at the feet of someone else (a nearer one's box takes in the grass between their
      legs, where a farther one's feet are seen) or of a box no farther away; a box shorter than a
      person standing there (cut at white shorts, or legs faded by motion blur) is taken
      down to the feet, and the feet zone of one clearly taller reaches higher (the ball it
      holds at its bottom); a white blob standing on something dark is a sock on its boot
      and counts for half; a blob at someone's feet is not marked down for bright parts over
      it (the legs and socks come down onto a ball there), only for those beside and below;
    - both (with a homography, boxes or not): a white blob with something not grass both over
      and under it, away from the markings, is the kit of a person no box covers (a ball on
      the ground has grass under it);
    - motion: a blob that stays at one pitch point for :attr:`static_frames` frames, away from
      anyone's feet, is a fixture; the tracks (:mod:`~realtime_nb.vision.plugins.ball_tracks`)
      score each hypothesis by how often and how ball-like it was seen (up to two misses
      running of a ball-like one last seen at someone's feet, where the legs hide a ball, do
      not count), gate a track by how far a kicked ball goes in a frame (:attr:`reach_m`),
      and switch the ball to another track only when that one is clearly better, or seen
      free, away from anyone's feet (not beside their legs, where a striding leg outside its
      box shows a sock, nor under a box that ends above the feet, nor under the leg of someone
      no box covers, nor before pitch_detection's homography) and off the pitch's markings,
      where the ball's track was seen only at them (and back once that one is missed); a
      ball's track seen again where it was predicted, ball-like, stays the ball however
      seldom it was seen lately, and one seen every frame right where it said, away from the
      feet, however faint (down to a smoothed confidence of 0.15);
    - possession: a ball last seen at a player's feet, by a track seen at least
      :attr:`~realtime_nb.vision.plugins.ball_tracks.TrackSet.confirm` times and scoring at
      least :attr:`hold_quality` (and the score to become the ball), and then lost (in the boots
      and legs, under blur, JPEG or a small frame) is predicted at the same place relative
      to that player's box, linked from frame to frame by overlap
      (:mod:`~realtime_nb.vision.plugins.ball_possession`), for up to :attr:`hold_seconds`,
      with a confidence that fades over the hold; a candidate within the gate there is the
      ball again at once (the nearest, or a more ball-like one away from everyone's feet: a
      ball leaving them, not the holder's sock). The hold ends when the holder's box is lost
      or ambiguous, the guess leaves the frame or its confidence falls under
      :attr:`min_confidence`, or when
      another track is seen and confirmed (or is the one clear ball of its frame, within a
      kick's reach of the hold);
    - doubt: a new track becomes the ball after three sightings, two when very ball-like, or
      at once when it is the one clear ball of its frame, and one never seen free (only at
      someone's feet, where socks and boots look like a ball, or away from them only on a
      pitch marking, where a line's fleck does) needs a higher score; until then, and once the
      ball is lost (past its coast or hold), the result is None, never a guess.
    """

    name = "ball_detection"
    history_frames = None  # the Kalman tracks
    _kept: tuple[Buffers, Buffers] | None = None  # a frame's images (:func:`_candidates`)
    metadata = bgr_metadata("opencv-tophat-blob+geometry+kalman", 0.5, ["detection", "tracking"])
    min_confidence = 0.3
    max_coast = 8
    decay = 0.8
    """How much of its confidence a predicted ball keeps for each frame it is missed after the
    first: a ball missed for one frame (a small, compressed or blurred ball fades for a frame)
    is reported at its track's score. With the first miss decayed too, on tuning looks at
    320x180 to 392x221 with JPEG (some 5,600 frames with the ball in view), a ball reported the
    frame before was not reported in 118 frames, in 89 of them within 6 px of where it had
    been."""
    reach_m = 1.2
    """How far (metres) the ball may go from where its track predicts it in one frame: a
    kick takes it from rest to 30 m/s, 1.2 m a frame at 25 fps."""
    static_frames = 12
    """Frames a blob away from anyone's feet must stay put (within :data:`FIXTURE_REACH_M`, or
    the ground one pixel spans there when farther, or :data:`FIXTURE_REACH_PX` without a
    homography) to count as a fixture."""
    hold_seconds = 2.0
    """How long a ball last seen at a player's feet is predicted there, moving with them,
    while it is not seen (a dribble's touches hide it for a second or more)."""
    hold_quality = 0.5
    """Least score of the ball's track, when last seen at someone's feet, for it to be held
    there: a sock or a boot taken for the ball scores lower, and holding it kept it alive. The
    track must also have been seen :attr:`~realtime_nb.vision.plugins.ball_tracks.TrackSet.confirm`
    times: a sock named the ball on its first sighting scores as high (on 10 tuning looks x 12
    random seeds x 4 s, held only once confirmed: found 90.0 -> 89.8 %, wrong reports 164 ->
    111, motion blur 8 + JPEG 40 6.4 -> 3.4 %, 400x225 JPEG 40 2.5 -> 0.9 %)."""

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find or predict the ball; warn once when it is lost."""
        h, w = frame.shape[:2]
        scene = BallScene.of(ctx)
        tracks: TrackSet = ctx.state.setdefault("tracks", TrackSet())
        tracks.gate_px = max(
            12.0 * w / 640, self.reach_m * scene.typical_radius(w, h) / BALL_RADIUS_M
        )
        if tracks.ball is not None:
            # A ball kicked up leaves the ground: its ground point runs past the pitch's
            # margin, and only the track it came from may follow it there.
            scene.ball_next = (tracks.ball.ahead(), tracks.gate(tracks.ball))
        if self._kept is None:
            self._kept = (Buffers(), Buffers())
        candidates = scene.plausible(_candidates(frame, ctx, scene, self._kept))
        candidates = _not_static(candidates, scene, ctx.state, self.static_frames)
        # Without the pitch's geometry a line's corner can look like a ball: ask for more.
        tracks.least_quality = 0.45 if scene.homography is not None else 0.65
        possession: Possession | None = ctx.state.get("possession")
        held = None if possession is None else possession.follow(scene.people)
        if held is None or possession is None or possession.frames > self._hold_frames(ctx):
            held = possession = None
        # pitch_detection ran but found no homography: no kit test of someone no box covers.
        blind = scene.homography is None and "pitch_detection" in ctx.results
        ball, seen = tracks.step(
            candidates,
            held,
            _feet_test(scene),
            _feet_test(scene, legs=True, blind=blind),
            _ScenePitch(scene),
        )
        if ball is not None and seen is not None:
            (cx, cy), radius, _ = seen
            ctx.state["lost_warned"], ctx.state["unsure"] = False, 0
            # A ball named on its first sighting (the one clear ball of its frame) is not held
            # before its track is seen TrackSet.confirm times in all: a sock taken for it was
            # held for up to two seconds.
            sure = ball.quality >= max(self.hold_quality, tracks.least_quality)
            sure = sure and ball.hits >= tracks.confirm
            ctx.state["possession"] = (
                Possession.at((cx, cy), feet_of(scene, (cx, cy))) if sure else None
            )
            return {"ball": _ball(cx, cy, radius, ball.quality, False)}
        ctx.state["possession"] = possession if ball is not None and ball.held else None
        if ball is not None and ball.held and possession is not None:
            px, py = ball.centre
            fade = 1.0 - possession.frames / (self._hold_frames(ctx) + 1)
            confidence = ball.quality * self.decay * fade
            if 0 <= px < w and 0 <= py < h and confidence >= self.min_confidence:
                return {"ball": _ball(px, py, ball.radius, confidence, True)}
        elif ball is not None:
            px, py = ball.centre
            confidence = ball.quality * self.decay ** max(ball.missed - 1, 0)
            in_view = 0 <= px < w and 0 <= py < h
            if in_view and ball.missed <= self.max_coast and confidence >= self.min_confidence:
                return {"ball": _ball(px, py, ball.radius, confidence, True)}
        # A new track needs a few sightings before it is the ball: no warning while it may be.
        ctx.state["unsure"] = ctx.state.get("unsure", 0) + 1
        if ctx.state["unsure"] >= tracks.confirm:
            warn_once(ctx, "lost_warned", LOW_CONFIDENCE_WARNING, "medium")
        return {"ball": None}

    def _hold_frames(self, ctx: PluginContext) -> float:
        fps = ctx.info.fps
        # A rate not known (0, NaN, inf from a hand-made VideoInfo) is taken as 25: a NaN
        # hold hid the held ball at once, an infinite one held it for ever.
        return self.hold_seconds * (fps if math.isfinite(fps) and fps > 0 else 25.0)

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


def _feet_test(
    scene: BallScene, legs: bool = False, blind: bool = False
) -> Callable[[list[tuple[float, float]]], list[bool]]:
    """Which of some points are at someone's feet in ``scene``.

    With ``legs``, the test that tells a track seen away from everyone's feet (its sightings
    there make it one, :attr:`~realtime_nb.vision.plugins.ball_tracks.Track.off_feet`): at
    someone's feet or beside their legs (:meth:`BallScene.by_feet`), or under a body no box
    covers (:attr:`BallScene.under_bodies`); and, when ``blind`` (pitch_detection ran but
    found no homography), every point. The kit of someone no box covers is told only away
    from the markings, which need the homography: a track born on it before
    pitch_detection's first homography kept the ball over the real one for the rest of a
    broadcast tuning clip (random seed 303: 52 frames). Without pitch_detection in the
    pipeline, boxes alone say where the feet are.
    """

    def test(points: list[tuple[float, float]]) -> list[bool]:
        if legs and blind:
            return [True] * len(points)
        array = np.array(points, np.float64).reshape(-1, 2)
        hits = scene.by_feet(array) if legs else scene.at_feet(array).any(axis=1)
        flags: list[bool] = np.asarray(hits, bool).tolist()
        if legs and scene.under_bodies:
            flags = [f or p in scene.under_bodies for f, p in zip(flags, points, strict=True)]
        return flags

    return test


class _ScenePitch:
    """:class:`~realtime_nb.vision.plugins.ball_tracks.PitchView` of a frame's
    :class:`BallScene` (NaN without a homography)."""

    def __init__(self, scene: BallScene) -> None:
        """Read places through ``scene``'s homography."""
        self._scene = scene

    def places(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Pitch metres of each image point (NaN without a homography or above the horizon)."""
        pitch = self._scene.ground(np.array(points, np.float64).reshape(-1, 2))
        if pitch is None:
            return [(math.nan, math.nan)] * len(points)
        return [(x, y) for x, y in pitch.tolist()]

    def on_markings(self, candidates: list[Candidate]) -> list[bool]:
        """Whether each candidate lies on a pitch marking, as :meth:`BallScene.plausible`
        judges it (none without a homography)."""
        centres = np.array([c[0] for c in candidates], np.float64).reshape(-1, 2)
        lines = self._scene.near_markings_listed(centres)
        return [on_marking(px, c[1]) for px, c in zip(lines, candidates, strict=True)]

    def metres_a_pixel(self, point: tuple[float, float]) -> float:
        """The ball's radius in metres over its expected radius in pixels at ``point``: the
        metres a pixel spans across the line of sight (the expected radius is a metre's
        longest image there); NaN where there is none."""
        radius = float(self._scene.expected_radius(np.array([point], np.float64))[0])
        return BALL_RADIUS_M / radius if radius > 0 else math.nan


def _ball(x: float, y: float, radius: float, confidence: float, predicted: bool) -> dict[str, Any]:
    r = max(1.0, radius)
    return {
        "box": [round(x - r), round(y - r), round(x + r), round(y + r)],
        "center": [round(x, 1), round(y, 1)],
        "confidence": round(confidence, 3),
        "predicted": predicted,
    }


FloatArray = npt.NDArray[np.float64]


def _candidates(
    frame: Frame,
    ctx: PluginContext,
    scene: BallScene,
    kept: tuple[Buffers, Buffers] | None = None,
) -> list[Candidate]:
    """Blob-like bright peaks of the ball's size on the pitch, in full-frame pixels.
    ``kept``: arrays kept from frame to frame to write the images into, the frame's and the
    first search's, and the second search's (its own: it may run on a smaller image);
    fresh arrays without them. A fresh full-frame array every frame costs more than its
    arithmetic: the allocator gives the last frame's memory back to the system, and
    touching it again page-faults (on seed 7 at 640x360, some 360 faults and 0.4 ms a frame).

    The search runs on the white channel shrunk by a whole factor, when the ball is large
    enough, so that it keeps at least 3 px of radius there (:data:`_SHRUNK_PX`): smaller
    merges a ball with a white sock it touches, larger costs time. When the ball at the
    bottom of the frame is much larger than at its middle (a near, low camera), a second
    search shrunk for that size (to 2 px or more) finds it: the filters sized for the middle
    read a ball twice their size as flat-topped and touching.

    The whiteness is raised by how much brighter a pixel is in every channel (for a small
    ball) only where the searches read it: around the region's bounding rectangle.
    """
    h, w = frame.shape[:2]
    typical = scene.typical_radius(w, h)
    into, second = (Buffers(), Buffers()) if kept is None else kept
    pitch = _region(frame, ctx, scene, into)
    region = scene.without_kit(pitch, pitch)
    box = cv2.boundingRect(region)
    if box[2] == 0:
        return []  # nowhere to look
    kept_planes = [into.get(f"channel {k}", (h, w)) for k in range(3)]
    # Written into the kept planes for a uint8 frame; any other is split into new ones.
    channels = [np.asarray(c, np.uint8) for c in cv2.split(frame, kept_planes)]
    # The whiteness and brightness of the whole frame: the brightness is read under and over
    # a candidate as far as its measured size, which may reach past any margin. The value
    # plane pitch_detection shares is the brightness (OpenCV's V is max(B, G, R)).
    value = ctx.shared_image("value", (h, w))
    brightness = None if value is None else np.asarray(value, np.uint8)
    white, bright = whiteness_and_brightness(frame, channels, into, brightness)
    streak = streak_of(channels[1])
    near = scene.expected_radius(np.array([[w / 2, h - 1.0]], np.float64))[0]
    both = math.isfinite(near) and near > max(_NEAR_RATIO * typical, _NEAR_LEAST_PX)
    if typical < _MIXED_PX:
        reach = max(_reach(typical, streak), _reach(float(near), streak, 1) if both else 0)
        rows, columns = widened(box, reach + raised_reach(typical), w, h)
        # Over the darkest channel, not read after the whiteness (as the planes are not after
        # this): fewer distinct frame-sized arrays a frame, and memory still in the cache.
        part = into.renamed(_OVER_LOW).part((h, w), rows, columns)
        planes = [c[rows, columns] for c in channels]
        mixed = brighter_in_every_channel(frame[rows, columns], typical, planes, part)
        cv2.max(white[rows, columns], mixed, white[rows, columns])
    # Over the planes only at full size: a shrunk search's images are smaller, and writing
    # them there would make the planes new arrays of the wrong size every frame.
    first = into.renamed(_OVER_PLANES) if _scale(typical, streak)[0] == 1 else into
    found = _search(white, region, typical, streak, 0, first, box)
    if both:
        found += _search(white, region, float(near), streak, 1, second)
    # The frame's whitest pixel, its whiteness raised only where the searches read it (on
    # 1,000 tuning frames of 10 looks, every result is the one the whole frame raised gave).
    # The whitest of the region's rectangle alone (not a scoreboard's) changed broadcast
    # tuning clips 300-311 from 544 found of 1158 and 458 wrong to 556 and 471: not taken.
    top = max(max((c.contrast for c, _, _ in found), default=1.0), 0.8 * float(white.max()))
    # A pan's blur mixes a boot's colour with the grass's: only a sharp frame's tint tells a
    # shadow from a boot.
    scored = _scored(found, scene, typical, top)
    return _judged(frame, bright, scored, scene, typical, not any(streak))


_OVER_LOW = {"raised 0": "low"}
"""brighter_in_every_channel's result written over whiteness_and_brightness's darkest channel,
which :func:`_candidates` does not read after. With :data:`_OVER_PLANES`, ball_detection's CPU
time a frame in four paired runs of football_speed's comparison: 0.990 to 0.999 of before at
640x360, 0.96 to 1.01 at 1280x720 (a small gain, near the runs' noise); the same results."""

_OVER_PLANES = {"tophat": "channel 0", "smooth": "channel 2"}
"""The first search's images written over the frame's blue and red planes, which
:func:`_candidates` does not read after the whiteness and the mixed top-hats (see
:data:`_OVER_LOW`); only when the search runs at full size, the planes' size."""


def _scored(
    found: list[tuple[BallCandidate, int, int]], scene: BallScene, typical: float, top: float
) -> list[tuple[float, tuple[float, float], float, int]]:
    """``(confidence, centre, radius, search)`` of the candidates off the kit, by roundness
    and contrast (over ``top``, the frame's highest), the most ball-like first."""
    centres = np.array([_full(c, f) for c, f, _ in found], np.float64).reshape(-1, 2)
    kit, held = scene.places_listed(centres)
    # The second search only where the ball is too large for the first one's filters.
    large = np.zeros(len(found), bool)
    if any(search for _, _, search in found):
        large = scene.expected_radius(centres) > _LARGE_RATIO * typical
    scored = []
    for (c, factor, search), (x, y), on_kit, at_feet, big in zip(
        found, centres.tolist(), kit, held, large.tolist(), strict=True
    ):
        if on_kit or (search and not big):
            continue
        # At someone's feet a ball half behind a leg or against a sock is less round, and the
        # legs come down onto it: there only what it touches beside and below it counts.
        least = 0.3 if at_feet else 0.45
        touching = c.touching - c.touching_above if at_feet else c.touching
        shape = min(1.0, max(0.0, c.roundness - least) / 0.4) * (1.0 - 0.2 * touching)
        confidence = 0.3 + 0.65 * shape * min(1.0, c.contrast / (0.7 * top))
        scored.append(
            (
                confidence,
                (x, y),
                c.radius * factor / _SIZE_BIAS,
                search,
            )
        )
    scored.sort(key=lambda s: -s[0])
    return scored


def _judged(
    frame: Frame,
    bright: Mask,
    scored: list[tuple[float, tuple[float, float], float, int]],
    scene: BallScene,
    typical: float,
    sharp: bool = False,
) -> list[Candidate]:
    """The :data:`_MOST` best of ``scored`` (:func:`_scored`) that are neither a blob found by both
    searches, nor kit by what lies around it: a sock on its boot counts for half, a face under dark
    hair (but not a ball under the boots at someone's feet), a white part of a body whose box is
    missing, a head on someone cut off by the frame's bottom edge, where the ball is measured
    :data:`_SKIN_FROM_PX` or more in radius, a blob clearly redder than blue
    (:data:`_SKIN_WARMTH`: light skin, fair hair), and, on a marking (anywhere without a
    homography) where the ball is
    :data:`~realtime_nb.vision.plugins.ball_scene.LINE_FLECK_FROM_PX` or more, a piece of a line
    no wider than the line (:data:`_LINE_PIECE_SHARE`) or a marking's fleck narrower than the
    ball (:func:`~realtime_nb.vision.plugins.ball_scene.a_markings_fleck`) are dropped; those kept
    with a body over them only (off the markings) are added to ``scene``'s
    :attr:`~BallScene.under_bodies`. On a ``sharp`` frame (no motion streak) a dark strip under a
    blob as green as the grass is a shadow, not a boot (:func:`grass_tint`). ``bright`` is the
    frame's brightest channel."""
    if not scored:
        return []
    centres = np.array([s[1] for s in scored], np.float64).reshape(-1, 2)
    sized = scene.expected_radius(centres).tolist()  # NaN without a homography or above its horizon
    want = [r if math.isfinite(r) else typical for r in sized]
    # Where colour is read (_SKIN_FROM_PX), the size must be measured, not the width's guess.
    if not all(math.isfinite(r) for r in sized):
        measured = scene.measured_radius(frame.shape[1], frame.shape[0])
        sized = [r if math.isfinite(r) else measured for r in sized]
    on_line = scene.near_markings_listed(centres)
    ground = median(bright[::16, ::16])
    both = any(search for _, _, _, search in scored)
    tint: float | None = None  # worked out once, when first needed
    out: list[Candidate] = []
    searches: list[int] = []
    for (confidence, centre, radius, search), r, size, line_px in zip(
        scored, want, sized, on_line, strict=True
    ):
        if both and any(
            s != search and math.dist(centre, o[0]) < max(radius, o[1])
            for o, s in zip(out, searches, strict=True)
        ):
            continue  # the same blob found by both searches
        if size >= _SKIN_FROM_PX and warmth(frame, centre) > _SKIN_WARMTH:
            continue  # skin or fair hair: a face or an arm no box covers, not the ball
        marked = on_marking(line_px, radius)
        if (
            size >= LINE_FLECK_FROM_PX
            # Without a homography no marking is known: any candidate may lie on one.
            and (marked or scene.homography is None)
            # The marking's fleck, narrower than the ball (BallScene.plausible drops it too),
            # or a piece of a line as long as the ball but no wider than the line.
            and (
                (marked and a_markings_fleck(radius, size))
                or width_across_a_line(frame, centre, size) < _LINE_PIECE_SHARE * 2.0 * size
            )
        ):
            continue
        # A face under dark hair, of someone cut off by the frame's bottom, has no box; a
        # ball at a boxed player's feet has their boots over it.
        if (
            search
            and under_something_dark(frame, centre, radius, ground, bright)
            and not scene.places_listed(np.array([centre], np.float64))[1][0]
        ):
            continue
        # Off the markings (a line is not grass either; without a homography they are
        # nowhere known), a blob with no grass over and under it is the kit of someone
        # player detection missed; with a body over it only, it is at someone's feet.
        if line_px < math.inf and line_px > 3.0 * r + 4.0:
            over, under = body_around(frame, centre, r)
            if min(over, under) >= BODY_SHARE or over_someone_cut_off(frame, centre, r):
                continue
            if over >= BODY_SHARE:
                scene.under_bodies.add(centre)
        dark = above_something_dark(frame, centre, radius, ground, brightness=bright)
        if dark and sharp:
            tint = grass_tint(frame) if tint is None else tint
            dark = above_something_dark(frame, centre, radius, ground, tint, bright)
        if dark:
            confidence *= 0.5
        out.append((centre, radius, confidence))
        searches.append(search)
        if len(out) == _MOST:
            break
    return out


_SKIN_WARMTH = 40.0
""":func:`~realtime_nb.vision.plugins.ball_candidates.warmth` (R - B) over which a candidate is
skin or fair hair, not the ball, where the ball is measured at least :data:`_SKIN_FROM_PX` in
radius (:func:`_judged`). The ball is white: at its middle R and B are alike, and the grass
it is blended with is about as blue as red. Light skin is 40 to 90 redder than blue, and its
whiteness (``2 min - max``) is still half a white ball's: on a close camera the face of a
fair-haired player cut off by the frame's bottom edge (no box; the dark-hair test does not see
fair hair) was taken for the ball and followed while the ball was out of view (11 m up, 11 m
back, 24 degrees, random seed 21: frames 25 to 33). Measured first, over every candidate kept on
eight tuning looks (close cameras 11 and 12 m up, a 20 m camera with skin tones, a true-size
ball with white shorts, the classic look, 320x180 JPEG 45, motion blur 5 + JPEG 45, broadcast
clips 300-311): the true ball's R - B was at most 3 on the close cameras (where the homography's
ball is 3.5 to 6 px), at most 38 elsewhere wherever the candidate measured 2.5 px or more in
radius (JPEG's half-resolution colour and blur bleed a kit's red into a small ball) and up to 60
under that (a broadcast clip's ball of a pixel blended with its grass), so the rule holds only
where the ball is measured :data:`_SKIN_FROM_PX` or more. A ball that is not white (an
orange winter ball), or light that tints every white warm, would be dropped as skin where it is
that large; neither renderer draws either. On close cameras' tuning clips wrong reports went
from 89 to 76 (11 m up, random seeds 0 to 79; found 3,181 -> 3,193 of 3,343), 93 to 83 (12 m)
and 19 to 16 (9 m); no other tuning look changed."""

_LINE_PIECE_SHARE = 0.75
"""A candidate on a pitch marking whose white runs on along the marking and is narrower across
it than this share of the ball's diameter
(:func:`~realtime_nb.vision.plugins.ball_candidates.width_across_a_line`) is a piece of the
line, not the ball, where the ball is
:data:`~realtime_nb.vision.plugins.ball_scene.LINE_FLECK_FROM_PX` or more in radius
(:func:`_judged`). Without a homography no marking is known, and any candidate is asked, where
three or more people's heights measure the ball that large
(:meth:`~realtime_nb.vision.plugins.ball_scene.BallScene.measured_radius`): close cameras lose
their homography on some frames, and there too pieces of lines were reported. A ball on a line
hides the line under it and is as wide as the ball across it; a line (0.08 to 0.25 m wide, the
ball 0.22 to 0.26 m across) is narrower, except the widest. What shows of a ball half hidden
by someone in front can be as narrow, and is dropped too (seen once, on a fresh tuning clip
without a homography)."""

_SKIN_FROM_PX = 3.0
"""Least radius (pixels) of the ball at a candidate for the candidate's colour to be read
(:data:`_SKIN_WARMTH`): a smaller ball has no pixel of its own, only its blend with what is
around it. The radius is measured: through the homography, else by the heights of the
people seen (:meth:`~realtime_nb.vision.plugins.ball_scene.BallScene.measured_radius`; close
cameras lose their homography on some frames, and there too a face was reported); never the
guess from the frame's width alone."""


def _full(c: BallCandidate, factor: int) -> tuple[float, float]:
    """A candidate's centre in full-frame pixels."""
    shift = (factor - 1) / 2
    return (c.x * factor + shift, c.y * factor + shift)


_MIXED_PX = 1.45
"""Radius (px) of the ball at the frame's middle under which its whiteness is also read as
how much brighter than its surroundings it is in every channel
(:func:`~realtime_nb.vision.plugins.ball_candidates.brighter_in_every_channel`): a ball this
small covers no pixel whole, and blur mixes it with the grass, whose strong green drives
``2 min - max`` to zero long before the excess over the grass fades. On broadcast tuning clips
of random seeds 300-311 (640x360, balls drawn at 0.9 to 1.9 px) the ball's whiteness peak was
a median 11 on a 1.1 px ball (under the 28 a peak needs) and its excess 43; found (within
10 px) went from 340 to 406 of 1158 visible frames (18 m camera 2 -> 39 %, 26 m 37 -> 73 %),
frames with a wrong ball 531 -> 548, and no clip with a ball of 1.45 px or more changed; on
fresh seeds 320-325, 137 -> 149 of 577. On 10 tuning looks x 12 random seeds x 4 s of the
synthetic match: found 89.8 -> 89.9 %, wrong reports 111 -> 84 (a 20 m camera 31 -> 8);
336x189 JPEG 45 lost 6 frames."""

_NEAR_RATIO = 1.25
"""How much larger the ball at the bottom of the frame must be than at its middle for the second
search: as much larger as the second search's candidates must be to count (:data:`_LARGE_RATIO`).
The first search's filters are sized for the middle's ball; where the frame's bottom has a ball
up to 1.45 times as large (as the homography gives them), a ball there (drawn 0.13 m in radius on
these looks, not the homography's 0.11 m) was bright a step beyond its own edge where the first
search reads whether a peak touches something (``ball_candidates``' ``_touching``), and was
dropped as part of something larger. At 1.45 (before): on a close camera 12 m up, 10 m back, 23
degrees (by the homography 3.5 px at the middle and 5.0 px on the bottom row, 1.44; the ball
drawn 5.9 to 6.2 px there), the ball rolling near the bottom edge was missed for frames on end
(random seed 40: frames 0 to 2 and 10 to 18). 1.25, on harness tuning looks (pitch, player and
ball detection on cached clips, scored as ``realtime-nb eval`` scores them): that camera, random
seeds 0 to 23 and 30 to 53, found 1,596 -> 1,616 of 1,719 visible frames, wrong reports 75 -> 75;
the 9 m and 14 m close cameras, 1280x720 JPEG 55 with a true-size ball, 1920x1080, motion blur 5
with JPEG 45 at 960x540 and broadcast tuning clips 300 to 319: every figure as before. A second
search costs some of a first search's time, only on frames where the ball's size varies this
much."""

_NEAR_LEAST_PX = 4.0
"""Least radius (px) of the ball at the bottom of the frame for the second search: below it
the first search's filters still fit, and small frames' JPEG blocks pass the second's."""

_LARGE_RATIO = 1.25
"""How much larger than at the frame's middle the ball must be where the second search's
candidates count."""


_SHRUNK_PX = (3.0, 2.0)
"""By search (the first, then the second), the least radius (px) the ball keeps in
:func:`_search`'s shrunk image (a ball under it is searched for at full size). The first
search kept 2 px before: a ball touching a white sock, on a frame 1760 px wide, shrank into one
blob with the sock, neither round nor alone. With 3 px, 1760x990 (seeds 80-85) went from 413
to 464 found of 487 visible (wrong 1 to 6, wrong while hidden 2 to 5), seeds 13-20 from 581 to
583 of 589 (wrong 1 to 2), and a near camera at 1280x720 (12 m up, 14 m back, 28 degrees;
seeds 80-85) from 392 to 409 of 424 (wrong 3 and 3, while hidden 6 to 8). The factor changes
only where the ball is 4 px or more at the frame's middle (1760x990 and larger, near cameras
at 1280x720, and 1280x720 and larger without a homography, whose guess is 2 px per 640 px of
width), and there it costs time: ball_detection at 1760x990 some a quarter more CPU a
frame. The filters are sized for at most 8 px (:func:`_scale`), which a ball of 5 to 6 px at
the middle now reaches. The second search, for a near camera's larger ball at the frame's
bottom, keeps 2 px: at 3 px it found that ball as before (near brackets of 9.5 to 10.5 m up,
11 to 12.5 m back, 24 to 26 degrees, 68 seeds: 2820 and 2821 of 2982) but ran at full size on
1280x720 classic frames too (their ball is some 5.4 px at the bottom), where ball_detection
took 1.28x 1c00b38's CPU time a frame instead of 0.87x."""


def _scale(
    typical: float, streak: tuple[int, int], search: int = 0
) -> tuple[int, float, tuple[int, int]]:
    """:func:`_search`'s shrink factor, the largest radius it searches for (px, shrunk) and
    the streak shrunk, for a ball of ``typical`` px radius in search ``search`` (0 or 1)."""
    if typical < _SUBPIXEL_PX:
        typical = _SUBPIXEL_SEARCH_PX
    factor = max(1, int(typical / _SHRUNK_PX[search]))
    largest = min(max(1.5, 1.6 * typical / factor), 8.0)
    return factor, largest, (round(streak[0] / factor), round(streak[1] / factor))


def _reach(typical: float, streak: tuple[int, int], search: int = 0) -> int:
    """How far (full-frame px) around the region's bounding rectangle :func:`_search` reads
    the white image: the search's own reach, shrunk pixels, and a few more for the shrinking
    (a shrunk pixel stands for a little more than ``factor`` px when the frame's size is not
    a whole multiple of it)."""
    factor, largest, shrunk = _scale(typical, streak, search)
    return (search_reach(largest, shrunk) + 3) * factor


def _search(
    white: Mask,
    region: Mask,
    typical: float,
    streak: tuple[int, int],
    search: int,
    buffers: Buffers | None = None,
    box: Sequence[int] | None = None,
) -> list[tuple[BallCandidate, int, int]]:
    """find_candidates on ``white`` shrunk for a ball of ``typical`` px radius, each with the
    shrink factor and ``search`` (which search found it). A ball the homography puts under
    :data:`_SUBPIXEL_PX` is searched for at :data:`_SUBPIXEL_SEARCH_PX`. ``buffers``: where
    find_candidates writes its images; ``box``: ``region``'s bounding rectangle, when known."""
    factor, largest, shrunk = _scale(typical, streak, search)
    if factor > 1:
        size = (white.shape[1] // factor, white.shape[0] // factor)
        white = np.asarray(cv2.resize(white, size, interpolation=cv2.INTER_AREA), np.uint8)
        region = np.asarray(cv2.resize(region, size, interpolation=cv2.INTER_NEAREST), np.uint8)
        box = None  # the shrunk region's is not the region's shrunk
    found = find_candidates(
        white, region, largest, limit=_LIMIT, streak=shrunk, buffers=buffers, box=box
    )
    return [(c, factor, search) for c in found]


_SUBPIXEL_PX = 1.0
"""Radius (px) through the homography under which the ball's image is the optics' spread, not
its size (on frames 320 to 416 px wide the homography gives 0.7 to 0.9 px)."""

_SUBPIXEL_SEARCH_PX = 1.6
"""The radius (px) the search's filters are sized for where the homography's ball is under
:data:`_SUBPIXEL_PX`, a tuned value below the some 2 px of radius the optics spread even a far
ball over (:meth:`BallScene.plausible` wants at least 2.0; JPEG smears it wider): filters sized
for the homography's radius found no candidate at the ball, or read it as broad and touching.
The step at 1 px is deliberate (a ball of 1 to 1.6 px keeps filters of its own size): see
below for what a floor on every search cost. On
320x180 (JPEG 40, 45, 60), 352x198 JPEG 45, 336x189 JPEG 55 and 416x234 JPEG 45 tuning rows x
random seeds 30-49 x 2 s, found / wrong went from 70.3-75.7 % / 1.3-5.9 % to 77.2-84.5 % /
0.3-1.9 %, and a far camera at 640x360 (26 m up, 55 degrees) from 95.9 / 1.3 % to 97.0 / 1.3 %.
Sizing every search for at least 1.6 px instead (not only under a pixel) cost motion blur +
JPEG rows at 640x360 1.6 to 2.8 points of found, and white shorts 3.8 points of wrong."""

_LIMIT = 64
"""Peaks of a search kept, the most contrasted first: under heavy motion blur and JPEG the
ball's contrast falls to a third of the frame's best, below some 40 round flecks."""

_MOST = 16
"""Candidates of a frame judged further, the most ball-like first."""


_SIZE_BIAS = 1.7
"""Measured over drawn radius of find_candidates' size (the smoothing widens a blob)."""


def _region(frame: Frame, ctx: PluginContext, scene: BallScene, into: Buffers) -> Mask:
    """Where to look: pitch_detection's pitch polygon (the grass's outline, which takes in a
    green board or stand beside the pitch), else the grass found here; with a homography,
    only on the pitch and a few metres around it (:meth:`BallScene.pitch_area`)."""
    shape = frame.shape[:2]
    polygon = (ctx.results.get("pitch_detection") or {}).get("pitch_polygon") or []
    drawn = ctx.shared_image(POLYGON_IMAGE, shape) if len(polygon) >= 3 else None
    if drawn is not None:
        region = np.asarray(drawn, np.uint8)  # read-only: read, never written
    elif len(polygon) >= 3:
        region = polygon_mask(shape, np.asarray(polygon, np.int32), into.get("region", shape))
    else:
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        region = pitch_region(ctx, green_mask(hsv))
    area = scene.pitch_area(shape, into.get("pitch area", shape))
    if area is not None:
        return np.asarray(cv2.bitwise_and(region, area, area), np.uint8)
    if drawn is None:
        return region
    # A copy of the shared mask: the caller takes the kit out of it in place.
    copy: Mask = into.get("region", shape)
    copy[:] = region
    return copy


def _not_static(
    candidates: list[Candidate], scene: BallScene, state: dict[str, Any], frames: int
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
    if pitch is None:
        places, unit, reaches = centres, 0.0, np.full(len(centres), FIXTURE_REACH_PX)
    else:
        # Where a pixel spans more of the ground than the reach (the far touchline seen from
        # a low camera, the boards beyond it), a fixture's ground point wanders by that span
        # from frame to frame with the homography and the blob's centre.
        places, unit = pitch, 1.0
        reaches = np.fmax(FIXTURE_REACH_M, scene.pixel_ground(centres))
    kept: list[Candidate] = []
    touched: set[int] = set()
    held = scene.places_listed(centres)[1]
    near = _fixtures_near(seen, places, unit, float(reaches.max()))
    known = len(seen)
    for k, (candidate, (x, y), at_feet, reach) in enumerate(
        zip(candidates, places.tolist(), held, reaches.tolist(), strict=True)
    ):
        if at_feet:
            kept.append(candidate)  # a ball kept at a player's feet stays put, and is the ball
            continue
        # The first fixture within reach: of those known before this frame, only the ones
        # near along both axes can be; then those this frame's candidates have added.
        match = next(
            (
                i
                for i in [*near.get(k, ()), *range(known, len(seen))]
                if seen[i][3] == unit and math.hypot(seen[i][0] - x, seen[i][1] - y) <= reach
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


def _fixtures_near(
    seen: list[list[float]], places: FloatArray, unit: float, reach: float
) -> dict[int, list[int]]:
    """For each of ``places`` (by index), the fixtures of ``seen`` (``[x, y, frames, unit]``,
    by index, in order) in ``unit`` within ``reach`` of it along both x and y: a fixture
    farther along either is farther in all (what :func:`_not_static` tests), and one
    comparison for all pairs costs less than a distance for each."""
    if not seen or not len(places):
        return {}
    table = np.array(seen, np.float64).reshape(-1, 4)
    close = near_along_both(places, table[:, :2], reach)
    close &= table[None, :, 3] == unit
    out: dict[int, list[int]] = {}
    for k, i in zip(*(index.tolist() for index in np.nonzero(close)), strict=True):
        out.setdefault(k, []).append(i)
    return out
