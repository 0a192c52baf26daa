"""What ball_detection knows of a frame before it looks: the pitch's geometry and the people.

With ``pitch_detection``'s homography a 0.11 m ball has a known radius in pixels at each image
point, and the pitch's spots and markings are known places; with ``player_detection``'s boxes a
white blob is a person's kit, or at someone's feet, where the ball is played.
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypeVar

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import clip
from realtime_nb.vision.plugins.ball_tracks import Candidate
from realtime_nb.vision.plugins.base import PluginContext
from realtime_nb.vision.plugins.grass import Mask, polygon_mask
from realtime_nb.vision.plugins.pitch_model import (
    FINE_FEATURES,
    OFF_PITCH_M,
    PERSON_HEIGHT_M,
    PITCH_LENGTH,
    PITCH_WIDTH,
    project,
    project_pieces,
)

__all__ = [
    "BALL_RADIUS_M",
    "CROWD",
    "CUT_RATIO",
    "DOUBTFUL_FACTOR",
    "DOUBTFUL_SHARE",
    "FEET_SHARE",
    "FEET_SIDE_SHARE",
    "HEAD_ROOM",
    "JUNCTION_FACTOR",
    "JUNCTION_PX",
    "LEGS_BELOW",
    "LEGS_SHARE",
    "LINE_FLECK_FROM_PX",
    "LINE_FLECK_SHARE",
    "ON_LINE_AT_FEET_FACTOR",
    "ON_LINE_FACTOR",
    "PERSON_HEIGHT_M",
    "SAME_PERSON_OVERLAP",
    "SPOTS_M",
    "TALL_LEAST",
    "TALL_SHARE",
    "BallScene",
    "a_markings_fleck",
    "cut_by_the_top",
    "on_marking",
]

FloatArray = npt.NDArray[np.float64]
_T = TypeVar("_T")
_BatchKey = tuple[tuple[int, ...], bytes]

BALL_RADIUS_M = 0.11
"""A football's radius in metres (FIFA size 5: 68 to 70 cm round)."""
_FEATURES = FINE_FEATURES
_MARKINGS = _FEATURES.ends
"""The pitch's markings as straight pieces in metres."""
ON_LINE_FACTOR = 0.6
"""Confidence kept by a candidate on a pitch marking away from anyone's feet: there it is more
often a fleck of a worn or blurred line than the ball, and a fleck's track took the ball's
place while the ball was hidden (0.75 before; on 18 tuning rows x 30 random seeds, 0.6 here
and :data:`ON_LINE_AT_FEET_FACTOR` at the feet cut wrong reports from 6.8 % to 4.9 % with
found unchanged at 86.0 %)."""
ON_LINE_AT_FEET_FACTOR = 0.75
"""The same at someone's feet, where a ball played over a line is the usual case (0.6 there
too cost the classic look 1.4 points of found on 70 tuning seeds)."""


LINE_FLECK_SHARE = 0.8
"""A candidate on a pitch marking under this share of the ball's expected radius there is a
fleck of the marking, not the ball, where the ball is at least :data:`LINE_FLECK_FROM_PX`
in radius: a marking's end where a player's legs or body cut it is a white blob beside the boots,
as wide as the line and narrower than the ball, and took the ball's place while the ball was
out of view (:meth:`BallScene.plausible`)."""
LINE_FLECK_FROM_PX = 3.0
"""The least expected radius (pixels) at which a candidate's size on a marking tells a fleck
from the ball (:data:`LINE_FLECK_SHARE`): a smaller ball's image is the optics' spread and
anti-aliasing as much as its size."""


def on_marking(marking_px: float, radius: float) -> bool:
    """Whether a candidate ``radius`` pixels in radius whose centre lies ``marking_px`` pixels
    from the nearest pitch marking (through the homography) is on that marking."""
    return marking_px <= 1.5 + 0.5 * radius


def a_markings_fleck(radius: float, want: float) -> bool:
    """Whether a candidate ``radius`` pixels in radius on a marking, where the ball is ``want``
    pixels in radius, is the marking's fleck, not the ball: narrower than the ball
    (:data:`LINE_FLECK_SHARE`) where the ball is :data:`LINE_FLECK_FROM_PX` or more."""
    return want >= LINE_FLECK_FROM_PX and radius < LINE_FLECK_SHARE * want


CUT_RATIO = 0.85
"""A person's box shorter than this share of a person standing there (through the homography) is
cut short and taken down to the feet, unless the frame's top edge cuts it (:func:`cut_by_the_top`:
the feet are then at its bottom; a person whose head touches the first row and whose box white
shorts ended at the waist keeps the short box, a case not measured). People drawn on the tuning
clips are at least 0.9 of that height, and a box ends higher where white shorts or a kit close to
the grass end it, or where motion blur fades the legs into the grass and the kit left at the box's
bottom passes for a ball at the feet (0.65 before; on 15 tuning rows x 20 random seeds, motion blur
6 + JPEG 40 went from 70.3 % found / 13.2 % wrong to 72.1 / 11.9 %, blur 8 + JPEG 30 from 48.5 /
23.0 % to 48.9 / 19.8 %, 352x198 + JPEG 40 from 68.7 / 6.6 % to 68.2 / 5.1 %)."""
CROWD = 40
"""More people than this in a frame is a crowd, more than a pitch holds (22 players, the
referees, a few more at the touchline): :meth:`BallScene.without_kit` then asks each place
where someone's feet lie on another's body about the people who reach it only. The answer is
the same either way; for a pitch's few people asking all of them is quicker."""

SAME_PERSON_OVERLAP = 0.5
"""Two boxes sharing at least this share of the narrower one's width are taken for pieces of
one person (motion blur and JPEG split a person's box), whose upper piece's feet zone lies on
the person's own kit, not for a farther person whose feet are seen inside a nearer one's box
(:meth:`BallScene.places`). Letting every feet zone win (not only another person's) gained
as much found on the hard tuning matches but sent motion blur 6 + JPEG 35 and 40 tuning rows
over 5 % wrong (20 random seeds x 2 s: 2.7 -> 5.4 %, 3.7 -> 5.2 %), a piece's feet on its
own socks; only 0.5 was measured."""
HEAD_ROOM = 0.15
"""The share of a person's box height above it that still counts as the person (a head the
box missed), and with a good homography no more than the box lacks of a person standing at
its bottom, and a pixel (:meth:`BallScene.head_rooms`): above a box as tall as a person there,
the box missed no head, and the ball rolling just past a near player's head was taken for it
(a near camera 9 m up, 14 m back, 28 degrees, random seeds 0-40 x 4 s: found 2,015 -> 2,019
of 2,120 visible frames, wrong reports 19 as before; 14 m up, 18 m back, 30 degrees, seeds
0-29: 1,600 -> 1,601 of 1,659, 8 wrong as before; 12 m up, 10 m back, 23 degrees, seeds
0-40, and nine other tuning looks, broadcast clips 300-311 among them, the same frames)."""
FEET_SHARE = 0.14
"""How far above and below a person's box bottom the feet zone reaches, as a share of the
box's height (at least 3 px; of a person standing there for a box the frame's top edge cuts,
:meth:`BallScene._feet_heights`). 0.12 before: a ball half behind a leg sat above that, on the
kit (on 26 tuning rows x 20 random seeds, one clip of the classic look lost 10 of 50 frames
to it); the white socks and shorts a deeper zone lets in are told by what lies under them
(:func:`~realtime_nb.vision.plugins.ball_candidates.inside_a_body`, and a sock on its boot
counts for half). Not 0.16: with the possession hold, that let near players' socks
in (28 tuning rows x 20 random seeds x 2 s, found / wrong: 0.12 86.2 / 2.4 %, 0.14 86.3 /
2.5 %, 0.16 86.5 / 2.7 %, near rows' wrong up to 6.0 % at 0.16 against 3.4-4.9 %; four motion
blur + JPEG and 1600x900 rows x 10 random seeds x 4 s: 85.2 / 2.2, 85.5 / 2.4, 85.4 / 3.1 %)."""
FEET_SIDE_SHARE = 0.12
"""How far beside a person's box (a share of its height as :data:`FEET_SHARE` reads it, plus a
pixel) the feet zone reaches: a ball being played beside the boot has its centre outside the box,
by about its own radius and a boot's reach, 0.2 to 0.3 m for a person of 1.8 m (0.12 of one is 0.22
m). Before, such a ball was not at the feet: no leniency for a ball against a leg, no possession
hold. The synthetic match always plays the ball 0.3 m to the side of the feet, so its figures show
this case and not how far real balls stray: of 3,722 visible frames with the ball at a player's
feet on tuning clips, 2,294 had it beside the box, most 2 to 3 px out. Only 0.12 was measured, and
it costs some wrong reports (28 tuning rows x 20 random seeds x 2 s, found / wrong 86.5 / 2.5 %
before, 87.5 / 2.8 % at 0.12; three motion blur + JPEG rows x 10 random seeds x 4 s: 81.5 / 2.8 ->
82.2 / 3.3 %)."""
LEGS_SHARE = 0.25
"""How far above a person's box bottom, as a share of its height, :meth:`BallScene.by_feet`'s
zone reaches at least (the feet zone, :data:`FEET_SHARE`, widened by :data:`FEET_SIDE_SHARE`
either side, reaching higher): a striding leg stretched out past the box's side puts its sock
and boot there, above the feet zone. A track first seen there was taken for one seen away
from everyone's feet, and a white sock's track then kept the ball over the real one. On
broadcast tuning clips of random seeds 300-311 (100 frames each): found 559 -> 605 of 1158
visible frames, wrong reports 447 -> 400; seeds 312-319 134 -> 142 of 759 (542 -> 510); 15
synthetic tuning looks x 8 random seeds x 4 s found the same frames. 0.2: 601 and 404; 0.3 to
0.5 as 0.25; the side reach widened to 0.2 of the height as well: 581 and 426."""
LEGS_BELOW = 0.5
"""How far below a person's box bottom, as a share of its height, :meth:`BallScene.by_feet`'s
zone reaches at least (the feet zone reaching lower): a box that ends above the feet (white
socks and boots taken for line paint, boots faded into the grass) leaves a sock under it, past
the feet zone (0.14). A track first seen there counted as seen away from everyone's feet. On
broadcast tuning clips of random seeds 300-311 (100 frames each): found 656 -> 670 of 1158
visible frames, wrong reports while visible 351 -> 337; seeds 312-319 147 -> 180 of 759 (486
-> 450); 0.3 and 0.4: 669 and 180 (338 and 459 wrong); 0.7 as 0.5."""
TALL_LEAST = 1.1
"""A box taller than this many people standing where it ends reaches below the feet by the
excess: the ball at a far person's feet, just below them, made boxes 1.1 to 1.3 of a person
on 352x198 tuning clips, and the ball sat above a 3 px feet zone as kit. 1.0 let in white
socks above their boots of boxes 1.07 of a person (motion blur 6 + JPEG 40)."""
TALL_SHARE = 0.3
"""At most this share of a box's height is added to its feet zone's reach above the bottom
when the box is taller than a person standing there (:meth:`BallScene.feet_zones`)."""
DOUBTFUL_SHARE = 0.9
"""A box player_detection calls a goalkeeper (a jersey of neither team's colour) shorter than this
share of a person standing where it ends, through a good homography, is left out of the people
(:attr:`BallScene.doubtful`: no kit, no feet zone, no holder of the ball): the ball with a line
or a sock it touches, at 320 to 392 px wide, made such a box, and the kit test then took the
ball out of the search. Counted by cause on four small JPEG tuning looks x random seeds 30-41,
27 missed frames were a ball in such a box and not at anyone's feet. With
:data:`DOUBTFUL_FACTOR`, on 13 tuning looks x random seeds 30-41 x 4 s found 11,698 -> 11,740 of
12,847 visible frames (392x221 JPEG 45 +11, 320x180 JPEG 60 +9, none fewer), wrong reports 116
-> 112; fresh random seeds 80-91 on six looks 5,264 -> 5,281 of 5,764 (wrong 130 -> 117);
broadcast clips 300-319 876 -> 874 of 1,917 (wrong 818 -> 819). Left out with no factor: 0.7
found +30 frames on seven looks; 0.9 more, but broadcast 876 -> 870 (wrong 818 -> 831:
goalkeepers' white parts). Every goalkeeper's box: wrong reports at 320x180 JPEG 45 8 -> 57 and
376x212 JPEG 55 8 -> 94."""
DOUBTFUL_FACTOR = 0.75
"""Confidence kept by a candidate in a :attr:`BallScene.doubtful` box: the ball's track goes on
through it, but a goalkeeper's white sock is not the one clear ball of its frame at first
sight (0.5: seven tuning looks +29 frames, broadcast 874 found, 821 wrong)."""
JUNCTION_PX = 2.0
"""How near (pixels, beyond the ball's radius) to where two markings meet (a corner, a T,
an arc on a line) a candidate counts as there: the lines' ends make a round white fleck."""
JUNCTION_FACTOR = 0.4
"""Confidence kept by a candidate where two markings meet. Such a fleck took the ball's
place while it was hidden on a near tuning row; on 5 tuning rows x 20 random seeds, dropping
them cut wrong reports with worn wide lines from 3.2 % to 1.0 % but cost the classic look
with light 1.4 and a 40 degree pan 1.7 points of found (a ball played over one); 0.4 keeps
1.0 % and costs 0.5."""
SPOTS_M = ((11.0, 34.0), (PITCH_LENGTH / 2, 34.0), (PITCH_LENGTH - 11.0, 34.0))
"""The penalty and centre spots in pitch metres: white, round and the ball's size."""


def _junctions(ends: FloatArray, feature: npt.NDArray[np.int64]) -> FloatArray:
    """Where pieces ``(f, 2, 2)`` of different markings (``feature``) meet or cross, pitch
    metres ``(k, 2)``: within 5 cm of both, at most one point per 10 cm."""
    a, d = ends[:, 0], ends[:, 1] - ends[:, 0]
    i, j = np.triu_indices(len(ends), 1)
    cross = d[i, 0] * d[j, 1] - d[i, 1] * d[j, 0]
    pairs = (feature[i] != feature[j]) & (np.abs(cross) > 1e-9)
    i, j, cross = i[pairs], j[pairs], cross[pairs]
    r = a[j] - a[i]
    t = (r[:, 0] * d[j, 1] - r[:, 1] * d[j, 0]) / cross
    u = (r[:, 0] * d[i, 1] - r[:, 1] * d[i, 0]) / cross
    slack_i, slack_j = 0.05 / np.linalg.norm(d[i], axis=1), 0.05 / np.linalg.norm(d[j], axis=1)
    hit = (-slack_i <= t) & (t <= 1 + slack_i) & (-slack_j <= u) & (u <= 1 + slack_j)
    out: list[FloatArray] = []
    for point in a[i[hit]] + t[hit, None] * d[i[hit]]:
        if all(np.hypot(*(point - q)) > 0.1 for q in out):
            out.append(point)
    return np.asarray(out, np.float64)


_JUNCTIONS_M = _junctions(_MARKINGS, _FEATURES.feature)
"""Where two of the pitch's markings meet or cross, in metres."""


_METRE_STEPS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
_PIXEL_STEPS = np.array([[1.0, 0.0], [0.0, 1.0]])


class BallScene:
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
        self._zones: tuple[list[list[float]], float, FloatArray, FloatArray] | None = None
        # The markings through the homography, asked about several times a frame.
        self._pieces: _Pieces | None = None
        self._junction_places: FloatArray | None = None
        self._typical: tuple[list[list[float]], int, int, float] | None = None
        # Answers already given this frame: the same candidates are asked about by several
        # steps. Pitch points by the whole batch (a homography's matrix product may round a
        # point differently in a batch of another size), the rest point by point (each
        # point's answer is worked out on its own); see _per_point.
        self._grounds: dict[_BatchKey, FloatArray] = {}
        self._radii: dict[_BatchKey, FloatArray] = {}
        self._markings_px: dict[tuple[float, float], float] = {}
        self._places: tuple[list[list[float]], float, dict[tuple[float, float], tuple[bool, bool]]]
        self._places = (people, self.quality, {})
        self._win: tuple[list[list[float]], npt.NDArray[np.bool_]] | None = None
        self._edges: tuple[list[list[float]], float, _Edges] | None = None
        self.doubtful: list[list[float]] = []
        """Boxes left out of :attr:`people`: a goalkeeper's (an off-colour jersey) shorter than
        a person there (:meth:`short`), the ball and what it touches taken for someone. A
        candidate in one is scaled by :data:`DOUBTFUL_FACTOR` (:meth:`plausible`)."""
        self.under_bodies: set[tuple[float, float]] = set()
        """The centres of this frame's candidates, off the markings, with a body over them
        (a leg: a sock, or a ball at the feet of someone no box covers), as ball_detection's
        judging found them (:func:`~realtime_nb.vision.plugins.ball_candidates.body_around`)."""
        self.ball_next: tuple[tuple[float, float], float] | None = None
        """Where the ball's track is predicted this frame and how far (pixels) from there
        it may be seen, when there is one: a candidate there may lie beyond the pitch's
        margin (a ball in the air, whose ground point runs far past where it is)."""

    @classmethod
    def of(cls, ctx: PluginContext) -> BallScene:
        """Read the scene from ``ctx.results``."""
        raw = (ctx.results.get("pitch_detection") or {}).get("homography")
        homography = None
        if raw is not None:
            matrix = np.asarray(raw, np.float64)
            if matrix.shape == (3, 3) and abs(np.linalg.det(matrix)) > 1e-12:
                homography = matrix
        detections = (ctx.results.get("player_detection") or {}).get("detections") or []
        # The part of each person that stands out ("body", where player_detection widened
        # the box over arms it could not see), as the kit and feet tests were made for.
        present = [(d, list(b)) for d in detections if (b := d.get("body") or d.get("box"))]
        scene = cls(homography, [b for _, b in present])
        scene.quality = float((ctx.results.get("pitch_detection") or {}).get("quality") or 0.0)
        keepers = [k for k, (d, _) in enumerate(present) if _keeper(d)]
        if keepers and homography is not None and scene.quality >= 0.8:
            short = scene.short([present[k][1] for k in keepers])
            cut = {k for k, yes in zip(keepers, short, strict=True) if yes}
            if cut:
                scene.people = [b for k, (_, b) in enumerate(present) if k not in cut]
                scene.doubtful = [present[k][1] for k in sorted(cut)]
        scene.people = scene.whole_people()
        return scene

    def short(self, boxes: list[list[float]]) -> list[bool]:
        """Whether each box is under :data:`DOUBTFUL_SHARE` of a person's height standing at
        its bottom through the homography (False where no height is known)."""
        tall = self._standing_heights(np.asarray(boxes, np.float64).reshape(-1, 4)).tolist()
        return [
            math.isfinite(t) and b[3] - b[1] < DOUBTFUL_SHARE * t
            for b, t in zip(boxes, tall, strict=True)
        ]

    def whole_people(self) -> list[list[float]]:
        """The people's boxes, each at least as tall as a person standing where its bottom
        is (with a homography): a box cut at the waist, where white shorts or a kit close to
        the grass ended it, is extended down to the feet, so the kit is not taken for a ball
        at the feet. A box the frame's top edge cuts (:func:`cut_by_the_top`) is short because
        the frame hides the rest of the person, whose feet are at its bottom: it stays."""
        if self.homography is None or not self.people or self.quality < 0.8:
            return self.people  # a rough homography's scale would cut real feet off
        boxes = np.asarray(self.people, np.float64).reshape(-1, 4)
        tall = self._standing_heights(boxes).tolist()
        at_top = cut_by_the_top(boxes[:, 1]).tolist()
        out = []
        for (x1, y1, x2, y2), height, top_cut in zip(self.people, tall, at_top, strict=True):
            if math.isfinite(height) and y2 - y1 < CUT_RATIO * height and not top_cut:
                y2 = y1 + 0.9 * height
            out.append([x1, y1, x2, y2])
        return out

    def _feet_heights(self, boxes: FloatArray) -> FloatArray:
        """The height (pixels) each person's feet zone is sized by (``boxes`` an (n, 4)
        array): the box's, or, for a box the frame's top edge cuts (:func:`cut_by_the_top`)
        with a good homography, a person's standing at its bottom where that is taller. The
        frame hides the rest of such a person, and their feet and stride are a whole
        person's: a ball at the boots of a player running along the top edge of a close
        camera's frame lay above a feet zone sized by the boots and socks alone. The legs'
        reach (:data:`LEGS_SHARE`, :data:`LEGS_BELOW`) stays the box's: not measured."""
        height: FloatArray = boxes[:, 3] - boxes[:, 1]
        if self.homography is None or self.quality < 0.8 or not len(boxes):
            return height
        cut = cut_by_the_top(boxes[:, 1])
        if not cut.any():
            return height
        tall = self._standing_heights(boxes)
        return np.where(cut & np.isfinite(tall) & (tall > height), tall, height)

    def _standing_heights(self, boxes: FloatArray) -> FloatArray:
        """Pixels tall a person standing at each box's bottom middle (``boxes`` an (n, 4)
        array), through the homography: NaN where it gives no size."""
        bottoms = np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]])
        return PERSON_HEIGHT_M / BALL_RADIUS_M * self.expected_radius(bottoms)

    def typical_radius(self, width: int, height: int) -> float:
        """The ball's radius in pixels at the middle of the frame: :meth:`measured_radius`,
        without a homography at least a 640 px wide frame's usual 2 px scaled with the width,
        and that guess where nothing measures it."""
        known = self._typical
        if known is None or known[0] is not self.people or known[1:3] != (width, height):
            known = self._typical = (
                self.people,
                width,
                height,
                self._radius_at_middle(width, height),
            )
        return known[3]

    def measured_radius(self, width: int, height: int) -> float:
        """The ball's radius in pixels at the middle of the frame as something in it measures
        it: the homography, else (without one) the median height of three or more people;
        NaN where neither does, or gives no positive size (:meth:`typical_radius` then
        guesses from the width)."""
        if self.homography is None:
            # Without the pitch's scale the people's height gives it (a near view's ball is
            # far larger than the usual 2 px); a few boxes, as a crowd's may be cut or merged.
            if len(self.people) >= 3:
                tall = float(np.median([b[3] - b[1] for b in self.people]))
                return BALL_RADIUS_M / PERSON_HEIGHT_M * tall if tall > 0 else math.nan
            return math.nan
        expected = self.expected_radius(np.array([[width / 2, height / 2]], np.float64))
        value = float(expected[0])
        return value if math.isfinite(value) and value > 0 else math.nan

    def _radius_at_middle(self, width: int, height: int) -> float:
        fallback = 2.0 * width / 640
        measured = self.measured_radius(width, height)
        if not math.isfinite(measured):
            return fallback
        # Without a homography, never under the usual 2 px a 640 px width (the optics spread
        # even a far ball that wide).
        return max(fallback, measured) if self.homography is None else measured

    def expected_radius(self, points: FloatArray) -> FloatArray:
        """A 0.11 m ball's radius in pixels on the ground at each image point (NaN above the
        horizon or without a homography): 0.11 times the longest a metre on the ground there
        looks in any direction (the one across the line of sight, which the camera does not
        foreshorten), as large as a sphere at that distance looks."""
        if self.inverse is None or self.homography is None:
            return np.full(len(points), np.nan)
        key = _batch_key(points)
        known = self._radii.get(key)
        if known is None:
            pitch = self._ground(points, key)
            known = self._radii[key] = self._radius_on_ground(pitch)
            known.flags.writeable = False
        return known

    def _radius_on_ground(self, pitch: FloatArray) -> FloatArray:
        """:meth:`expected_radius` of image points whose pitch points are ``pitch``."""
        assert self.homography is not None
        n = len(pitch)
        # The point, a metre along the pitch and a metre across, projected in one call.
        around = (pitch[None] + _METRE_STEPS[:, None]).reshape(-1, 2)
        if n <= _FEW:
            rows = _homogeneous(self.homography, around).tolist()
            radii = [_radius_of(rows[k], rows[n + k], rows[2 * n + k]) for k in range(n)]
            return np.array(radii, np.float64)
        mapped = project(self.homography, around)
        steps = mapped[n:].reshape(2, n, 2) - mapped[:n]
        # A sphere looks about as large as a metre on the ground seen square on: the ground
        # direction across the line of sight, which the camera does not foreshorten. That is
        # the longest image of a metre in any ground direction, the larger singular value of
        # the map's local matrix [[a, c], [b, d]] (steps[0] is (a, b), steps[1] is (c, d));
        # a metre along or across the pitch is shorter where the pitch's axes run slantwise
        # to the line of sight. Each product for all points in one call, summed in the order
        # a * a + b * b + c * c + d * d and a * d - b * c: a frame's few points cost numpy
        # calls, not arithmetic.
        square = steps * steps
        squares = square[0, :, 0] + square[0, :, 1]
        squares += square[1, :, 0]
        squares += square[1, :, 1]
        cross = steps[0] * steps[1, :, ::-1]  # a * d, b * c
        twice_area = 2.0 * (cross[:, 0] - cross[:, 1])
        spread = squares * squares
        spread -= twice_area * twice_area
        spread = np.sqrt(np.maximum(spread, 0.0))
        spread += squares
        spread *= 0.5
        out: FloatArray = BALL_RADIUS_M * np.sqrt(spread)
        return out

    def ground(self, points: FloatArray) -> FloatArray | None:
        """Pitch metres of image points (NaN above the horizon), or None without a homography."""
        if self.inverse is None:
            return None
        return self._ground(points, _batch_key(points))

    def pixel_ground(self, points: FloatArray) -> FloatArray:
        """How far (metres) one pixel at each image point reaches on the ground: the farther
        of one pixel to the right and one down (NaN above the horizon or without a
        homography)."""
        if self.inverse is None:
            return np.full(len(points), np.nan)
        n = len(points)
        base = self.ground(points)
        assert base is not None
        steps = project(
            self.inverse, np.vstack([points + _PIXEL_STEPS[0], points + _PIXEL_STEPS[1]])
        )
        right = np.hypot(*(steps[:n] - base).T)
        down = np.hypot(*(steps[n:] - base).T)
        spans: FloatArray = np.fmax(right, down)
        return spans

    def _ground(self, points: FloatArray, key: _BatchKey) -> FloatArray:
        """:meth:`ground` of a batch whose :func:`_batch_key` is ``key``, with a homography."""
        assert self.inverse is not None
        known = self._grounds.get(key)
        if known is None:
            if len(points) <= _FEW:
                rows = _homogeneous(self.inverse, points).tolist()
                known = np.array([_divided(*row) for row in rows], np.float64).reshape(-1, 2)
            else:
                known = project(self.inverse, points)
            self._grounds[key] = known
            known.flags.writeable = False
        return known

    def plausible(self, candidates: list[Candidate]) -> list[Candidate]:
        """Drop candidates of the wrong size for their place, on a spot, or beyond the
        pitch's margin (:func:`~realtime_nb.vision.plugins.pitch_model.beyond_pitch`) away
        from :attr:`ball_next`, or on a marking and narrower than the ball
        (:data:`LINE_FLECK_SHARE`); scale the rest's confidence by how well their size fits,
        and down on a marking or where two meet."""
        if not candidates or self.homography is None:
            return list(candidates)  # nothing known of their places
        centres = np.array([c[0] for c in candidates], np.float64)
        pitch = self.ground(centres)
        assert pitch is not None
        # By batch: _judged asked about these same points when it kept all it judged.
        expected = self.expected_radius(centres)
        # Python numbers: a frame's few candidates, judged one by one (a numpy call costs more
        # than the arithmetic on them).
        places, wants = pitch.tolist(), expected.tolist()
        lines = self.near_markings_listed(centres)
        junctions = self.near_junctions(centres).tolist()
        feet = self.places_listed(centres)[1]
        away: list[bool] | None = None  # from the ball's predicted place, beyond its gate
        if self.ball_next is not None:
            (bx, by), gate = self.ball_next
            away = (np.hypot(centres[:, 0] - bx, centres[:, 1] - by) > gate).tolist()
        kept = []
        for k, (centre, radius, confidence) in enumerate(candidates):
            x, y = places[k]
            want = max(2.0, wants[k])  # optics spread even a far ball
            if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(want)):
                continue
            if _beyond_pitch(x, y) and (away is None or away[k]):
                continue
            # Within 0.6 m of a spot along both axes first: only there can it be less than
            # 0.6 m away.
            if any(
                abs(x - sx) <= 0.6 and abs(y - sy) <= 0.6 and math.dist((x, y), (sx, sy)) < 0.6
                for sx, sy in SPOTS_M
            ):
                continue
            if junctions[k] <= JUNCTION_PX + want:
                confidence *= JUNCTION_FACTOR
            if not 0.45 * want - 1.0 <= radius <= 1.6 * want + 2.0:  # blur and AA add ~1 px a side
                continue
            confidence *= 1.0 - 0.3 * min(1.0, abs(radius - want) / max(want, 1.0))
            if on_marking(lines[k], radius):
                if a_markings_fleck(radius, want):
                    continue  # the marking's own fleck, narrower than the ball
                confidence *= ON_LINE_AT_FEET_FACTOR if feet[k] else ON_LINE_FACTOR
            if self.doubtful and _in_any(centre, self.doubtful):
                confidence *= DOUBTFUL_FACTOR
            kept.append((centre, radius, confidence))
        return kept

    def pitch_area(self, shape: tuple[int, ...], out: Mask | None = None) -> Mask | None:
        """0/255 mask, in an image of ``shape``, of the pitch and
        :data:`~realtime_nb.vision.plugins.pitch_model.OFF_PITCH_M` around it through the
        homography, and of the gate around :attr:`ball_next` (the ball's track may be
        followed beyond the margin). None without a homography, or when a corner of that
        area is not in front of the camera (its outline would not be the area's) or is more
        than a million pixels away. ``out``: an array of ``shape[:2]`` to write it into."""
        if self.homography is None:
            return None
        # project's values of the four corners, in Python numbers after its matrix product.
        image = [_divided(*row) for row in _homogeneous(self.homography, _AREA_CORNERS).tolist()]
        if not all(math.isfinite(v) for point in image for v in point):
            return None
        if max(abs(v) for point in image for v in point) > 1e6:
            return None
        corners = np.array([[round(x), round(y)] for x, y in image], np.int32)  # half to even
        out = polygon_mask((shape[0], shape[1]), corners, out)
        if self.ball_next is not None:
            (bx, by), gate = self.ball_next
            if math.isfinite(bx) and math.isfinite(by) and abs(bx) + abs(by) < 1e6:
                cv2.circle(out, (round(bx), round(by)), math.ceil(gate), 255, -1)
        return out

    def near_junctions(self, centres: FloatArray) -> FloatArray:
        """Pixels from each point to the nearest place where two markings meet or cross,
        through the homography (inf without one)."""
        if self.homography is None:
            return np.full(len(centres), np.inf)
        if self._junction_places is None:
            self._junction_places = project(self.homography, _JUNCTIONS_M)
        places = self._junction_places
        # x and y apart, as in _markings_px_of: the same arithmetic as lengths' sum over a
        # last axis of two, which numpy does slowly.
        dx = centres[:, :1] - places[None, :, 0]
        dy = centres[:, 1:] - places[None, :, 1]
        dx *= dx
        dy *= dy
        dx += dy
        return _root_of_least(dx)

    def near_markings(self, centres: FloatArray) -> FloatArray:
        """Pixels from each point to the nearest pitch marking through the homography (inf
        without one)."""
        if self.homography is None:
            return np.full(len(centres), np.inf)
        return np.array(self.near_markings_listed(centres), np.float64).reshape(len(centres))

    def near_markings_listed(self, centres: FloatArray) -> list[float]:
        """:meth:`near_markings` as Python numbers (what a caller judging a frame's few
        candidates one by one reads)."""
        if self.homography is None:
            return [math.inf] * len(centres)
        memo = self._markings_px
        keys, missing = _per_point(memo, centres)
        if missing:
            for i, px in zip(missing, self._markings_px_of(centres[missing]).tolist(), strict=True):
                memo[keys[i]] = px
        return [memo[k] for k in keys]

    def _markings_px_of(self, centres: FloatArray) -> FloatArray:
        """:meth:`near_markings`, worked out."""
        assert self.homography is not None
        if self._pieces is None:
            self._pieces = _Pieces.of(project_pieces(self.homography, _MARKINGS))
        ax, ay, abx, aby, length2 = self._pieces
        # x and y apart, (points, pieces) each: sums over a last axis of two are slow in
        # numpy, and the arithmetic is the same. In place, two (points, pieces) arrays in
        # all: t = clip(((cx - ax) * abx + (cy - ay) * aby) / length2, 0, 1), then
        # dx = cx - (ax + t * abx) and dy = cy - (ay + t * aby); the root after the least
        # (it keeps the order). 27 us a call against 32, on seed 7's 640x360 frames' calls
        # (some 24 points and 75 pieces) timed alone.
        cx, cy = centres[:, :1], centres[:, 1:]
        t = cx - ax
        t *= abx
        dy = cy - ay
        dy *= aby
        t += dy
        t /= length2
        np.maximum(t, 0.0, out=t)
        np.minimum(t, 1.0, out=t)
        dx = np.multiply(t, abx, out=dy)
        dx += ax
        np.subtract(cx, dx, out=dx)
        dy = np.multiply(t, aby, out=t)
        dy += ay
        np.subtract(cy, dy, out=dy)
        dx *= dx
        dy *= dy
        dx += dy
        return _root_of_least(dx)

    def at_feet(self, points: FloatArray) -> npt.NDArray[np.bool_]:
        """``[n, k]``: whether each of ``(n, 2)`` points is in person ``k``'s feet zone
        (:meth:`feet_zones`, across the box's width and :data:`FEET_SIDE_SHARE` of its height,
        a person's for a box the frame's top edge cuts (:meth:`_feet_heights`), and a pixel
        either side)."""
        if not self.people or not len(points):
            return np.zeros((len(points), len(self.people)), bool)
        edges = self._people_edges()
        return _in_zones(points, edges, edges.feet_top, edges.feet_bottom)

    def by_feet(self, points: FloatArray) -> npt.NDArray[np.bool_]:
        """``(n,)``: whether each of ``(n, 2)`` points is at someone's feet, beside their legs
        or under a box that ends above them: in a feet zone (:meth:`at_feet`) reaching at
        least :data:`LEGS_SHARE` of the box's height above its bottom and
        :data:`LEGS_BELOW` under it."""
        if not self.people or not len(points):
            return np.zeros(len(points), bool)
        edges = self._people_edges()
        inside = _in_zones(points, edges, edges.legs_top, edges.legs_bottom)
        return np.asarray(inside.any(axis=1), bool)

    def places(self, points: FloatArray) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Whether each of ``(n, 2)`` points is on a person's kit, and whether it is at
        someone's feet (in a feet zone, :meth:`feet_zones`).

        A point in a box above its feet zone is kit unless it is at the feet of someone
        else, or of a box no farther away (ending no higher). A nearer person's box, a
        rectangle, takes in the grass between and beside their legs, where a farther one's
        feet and the ball they play are seen (a ball the near one's body hides is not seen at
        all); but two boxes sharing at least half the narrower one's width
        (:data:`SAME_PERSON_OVERLAP`) are pieces of one person, and the upper one's "feet"
        are on the lower one's kit. A point just above a box (room for a head the box missed,
        :meth:`head_rooms`) is kit unless it is at anyone's feet: a far one's feet are seen
        there, over the near one's head.
        """
        kit, feet = self.places_listed(points)
        return np.array(kit, bool).reshape(len(kit)), np.array(feet, bool).reshape(len(feet))

    def places_listed(self, points: FloatArray) -> tuple[list[bool], list[bool]]:
        """:meth:`places` as Python lists (what a caller judging a frame's few candidates one
        by one reads)."""
        if not self.people or not len(points):
            return [False] * len(points), [False] * len(points)
        people, quality, memo = self._places
        if people is not self.people or quality != self.quality:
            memo = {}
            self._places = (self.people, self.quality, memo)
        keys, missing = _per_point(memo, points)
        if missing:
            kit, feet = self._places_of(points[missing])
            for i, answer in zip(
                missing, zip(kit.tolist(), feet.tolist(), strict=True), strict=True
            ):
                memo[keys[i]] = answer
        answers = [memo[k] for k in keys]
        return [kit for kit, _ in answers], [feet for _, feet in answers]

    def _places_of(
        self, points: FloatArray, among: npt.NDArray[np.intp] | None = None
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """:meth:`places`, worked out; ``among``: the only people who can reach the points
        (every other person's feet zone, body and head room lie clear of them), else all."""
        edges = self._people_edges()
        if among is None:
            at_feet = self.at_feet(points)
        else:
            edges = edges._replace(
                **{name: getattr(edges, name)[:, among] for name in _ROWS},
                wins=edges.wins[np.ix_(among, among)],
            )
            at_feet = _in_zones(points, edges, edges.feet_top, edges.feet_bottom)
        x, y = points[:, :1], points[:, 1:]
        across = (edges.across_left <= x) & (x <= edges.across_right)
        body = across & (edges.top <= y) & (y < edges.body_bottom)
        above = across & (edges.head_top <= y) & (y < edges.top)
        # Whether any feet zone the point is in wins over each body: a count of such zones,
        # as a float32 matrix product (BLAS; whole counts are exact in float32), at any
        # number of points faster than an int32 product or a boolean one.
        held = (at_feet.astype(np.float32) @ edges.wins) > 0
        feet = at_feet.any(axis=1)
        kit = (body & ~held).any(axis=1) | (above.any(axis=1) & ~feet)
        return np.asarray(kit, bool), np.asarray(feet, bool)

    def _people_edges(self) -> _Edges:
        """The people's feet zones and bodies as :class:`_Edges`, worked out once for the
        scene's people and quality (every kit and feet test of a frame reads them)."""
        known = self._edges
        if known is None or known[0] is not self.people or known[1] != self.quality:
            known = self._edges = (self.people, self.quality, self._people_edges_of())
        return known[2]

    def _people_edges_of(self) -> _Edges:
        boxes = np.asarray(self.people, np.float64).reshape(-1, 4)
        x1, y1, x2, y2 = (boxes[:, i][None] for i in range(4))
        up, down = (r[None] for r in self.feet_zones())
        side = 1.0 + FEET_SIDE_SHARE * self._feet_heights(boxes)[None]
        legs_top = np.minimum(y2 - up, y2 - LEGS_SHARE * (y2 - y1))
        legs_bottom = np.maximum(y2 + down, y2 + LEGS_BELOW * (y2 - y1))
        # One row each, in the order of _Edges.pixels.
        rows = np.concatenate(
            [
                x1 - 1,
                x2 + 1,
                y1 - self.head_rooms()[None],
                y1,
                y2 - up,
                x1 - side,
                x2 + side,
                y2 + down,
            ]
        )
        whole = np.where(_FLOORED, np.floor(rows) + 1, np.ceil(rows))
        return _Edges(
            feet_left=rows[5:6],
            feet_right=rows[6:7],
            feet_top=rows[4:5],
            feet_bottom=rows[7:8],
            legs_top=legs_top,
            legs_bottom=legs_bottom,
            across_left=rows[0:1],
            across_right=rows[1:2],
            top=rows[3:4],
            body_bottom=rows[4:5],
            head_top=rows[2:3],
            wins=self._feet_win().astype(np.float32),
            pixels=np.maximum(whole, 0).astype(np.int64).T.tolist(),
        )

    def _feet_win(self) -> npt.NDArray[np.bool_]:
        """``[j, k]``: whether person ``j``'s feet zone wins over ``k``'s body (:meth:`places`)."""
        if self._win is None or self._win[0] is not self.people:
            self._win = (self.people, self._feet_win_of())
        return self._win[1]

    def _feet_win_of(self) -> npt.NDArray[np.bool_]:
        boxes = np.asarray(self.people, np.float64).reshape(-1, 4)
        x1, x2, y2 = boxes[:, 0], boxes[:, 2], boxes[:, 3]
        shared = np.minimum(x2[:, None], x2[None]) - np.maximum(x1[:, None], x1[None])
        narrower = np.maximum(np.minimum((x2 - x1)[:, None], (x2 - x1)[None]), 1.0)
        other = shared < SAME_PERSON_OVERLAP * narrower
        return np.asarray(other | (y2[:, None] >= y2[None]), bool)

    def without_kit(self, region: Mask, out: Mask | None = None) -> Mask:
        """``region`` less the people's kit (:meth:`places`), so that people's whites do not
        crowd the ball out of a frame's most contrasted peaks. ``out``: an array of
        ``region``'s shape to write it into, ``region`` itself too (then changed in place: no
        copy of the whole mask)."""
        if not self.people:
            return region
        if out is None:
            out = region.copy()
        elif out is not region:
            out[:] = region
        bodies, zones = [], []
        # Every person's rectangles in whole pixels, worked out once a scene.
        for xa, xb, top, ya, yb, za, zb, zy in self._people_edges().pixels:
            bodies.append((xa, xb, ya, yb, top))
            zones.append((za, zb, yb, zy))
        # The feet zones as they are in region, before any body is taken out of it.
        kept = [region[ya:yb, za:zb].copy() for za, zb, ya, yb in zones]
        for xa, xb, _, yb, top in bodies:
            out[top:yb, xa:xb] = 0  # the body, and a head the box missed
        for (za, zb, ya, yb), zone in zip(zones, kept, strict=True):  # at_feet's reach
            out[ya:yb, za:zb] = zone
        # Where a feet zone lies on the body of someone it does not win over, ask places; in
        # a crowd, of the people whose reach meets that rectangle only: the others are
        # hundreds, and each would be asked about every pixel of every such rectangle (on a
        # pitch's few people, picking them out costs more than it saves).
        crowd = len(self.people) > CROWD
        if crowd:
            reach_left, reach_right, reach_top, reach_bottom = self._reaches()
        for j, k in np.argwhere(~self._feet_win()).tolist():
            xa, xb = max(zones[j][0], bodies[k][0]), min(zones[j][1], bodies[k][1], out.shape[1])
            ya, yb = max(zones[j][2], bodies[k][2]), min(zones[j][3], bodies[k][3], out.shape[0])
            if xa < xb and ya < yb:
                ys, xs = np.mgrid[ya:yb, xa:xb]
                points = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float64)
                among = (
                    np.flatnonzero(
                        (reach_left <= xb - 1)
                        & (reach_right >= xa)
                        & (reach_top <= yb - 1)
                        & (reach_bottom >= ya)
                    )
                    if crowd
                    else None
                )
                kit = self._places_of(points, among)[0].reshape(ys.shape)
                out[ya:yb, xa:xb][kit] = 0
        return out

    def _reaches(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Each person's left, right, top and bottom edge of all :meth:`places` reads of them
        (feet zone, body and head room), as ``(k,)`` arrays: a point outside is none of
        theirs. The feet zone can reach above the head room (a box a few pixels tall, whose
        zone reaches at least 3 px up)."""
        e = self._people_edges()
        left = np.minimum(e.feet_left, e.across_left)[0]
        right = np.maximum(e.feet_right, e.across_right)[0]
        top = np.minimum(e.head_top, e.feet_top)[0]
        bottom = np.maximum(e.feet_bottom, e.body_bottom)[0]
        return left, right, top, bottom

    def head_rooms(self) -> FloatArray:
        """How far above each person's box (pixels) still counts as the person, a head the
        box missed: :data:`HEAD_ROOM` of the box's height, and with a good homography at most
        what the box lacks of a person standing at its bottom, and a pixel."""
        boxes = np.asarray(self.people, np.float64).reshape(-1, 4)
        height = boxes[:, 3] - boxes[:, 1]
        room: FloatArray = HEAD_ROOM * height
        if self.homography is None or self.quality < 0.8 or not len(boxes):
            return room
        lacking = self._standing_heights(boxes) - height
        # Where no height is known (NaN), the whole share.
        return np.where(np.isnan(lacking), room, clip(lacking + 1.0, 0.0, room))

    def feet_zones(self) -> tuple[FloatArray, FloatArray]:
        """How far above and below each person's box bottom the feet zone reaches, pixels.

        Below, and above for a box no taller than a person standing there: :data:`FEET_SHARE`
        of the box's height (a person's for a box the frame's top edge cuts:
        :meth:`_feet_heights`), at least 3 px, as a far ball is as tall as the feet zone. A box
        clearly taller than a person standing there (:data:`TALL_LEAST` of one, through a
        good homography) most often holds the ball at the feet below them, or its lower
        part: the zone reaches that much higher, up to :data:`TALL_SHARE` of the box more.
        Worked out once for the scene's people and quality (every kit and feet test of a
        frame asks), and read-only.
        """
        zones = self._zones
        if zones is None or zones[0] is not self.people or zones[1] != self.quality:
            up, down = self._feet_zones()
            up.flags.writeable = down.flags.writeable = False
            zones = self._zones = (self.people, self.quality, up, down)
        return zones[2], zones[3]

    def _feet_zones(self) -> tuple[FloatArray, FloatArray]:
        boxes = np.asarray(self.people, np.float64).reshape(-1, 4)
        height = boxes[:, 3] - boxes[:, 1]
        down: FloatArray = np.maximum(FEET_SHARE * self._feet_heights(boxes), 3.0)
        if self.homography is None or self.quality < 0.8 or not len(boxes):
            return down, down.copy()
        tall = self._standing_heights(boxes)
        # Where no height is known (NaN), nothing is added; an infinite excess is clipped
        # to the bounds as np.nan_to_num's largest float was. np.clip and np.nan_to_num as
        # ufuncs: their Python wrappers cost more than the arithmetic on a frame's boxes.
        excess = height - TALL_LEAST * tall
        excess = np.where(np.isnan(excess), 0.0, excess)
        over = clip(excess, 0.0, TALL_SHARE * height)
        up: FloatArray = down + over
        return up, down


def cut_by_the_top(tops: FloatArray) -> npt.NDArray[np.bool_]:
    """Whether each box whose top row is in ``tops`` is cut by the frame's top edge: its top
    on the frame's first row, or above it."""
    return np.asarray(tops <= 0.0, np.bool_)


class _Edges(NamedTuple):
    """Each person's feet zone (:meth:`BallScene.at_feet`) and body (:meth:`BallScene.places`)
    as ``(1, k)`` rows of pixels, and ``wins``, :meth:`BallScene._feet_win` as float32."""

    feet_left: FloatArray
    feet_right: FloatArray
    feet_top: FloatArray
    feet_bottom: FloatArray
    legs_top: FloatArray
    """The top of each feet zone as :meth:`BallScene.by_feet` reaches it (beside the legs)."""
    legs_bottom: FloatArray
    """The bottom of each feet zone as :meth:`BallScene.by_feet` reaches it (under the box)."""
    across_left: FloatArray
    across_right: FloatArray
    top: FloatArray
    body_bottom: FloatArray
    head_top: FloatArray
    wins: npt.NDArray[np.float32]
    pixels: list[list[int]]
    """Each person's body, head room and feet zone in whole pixels (none negative), as
    :meth:`BallScene.without_kit` takes them out of a mask and keeps them: the body's first
    and last-plus-one columns, the head room's top row, the body's first and last-plus-one
    rows, and the feet zone's first and last-plus-one columns and last-plus-one row (its first
    is the body's last-plus-one)."""


def _keeper(detection: dict[str, object]) -> bool:
    """Whether player_detection called ``detection`` a goalkeeper (an off-colour jersey)."""
    return detection.get("class") == "goalkeeper"


def _in_any(point: tuple[float, float], boxes: list[list[float]]) -> bool:
    """Whether ``point`` lies in any of ``boxes``, or within a pixel of one."""
    x, y = point
    return any(b[0] - 1 <= x <= b[2] + 1 and b[1] - 1 <= y <= b[3] + 1 for b in boxes)


def _in_zones(
    points: FloatArray, edges: _Edges, top: FloatArray, bottom: FloatArray
) -> npt.NDArray[np.bool_]:
    """``[n, k]``: whether each of ``(n, 2)`` points is in person ``k``'s feet zone of
    ``edges`` (its sides), from ``top`` to ``bottom`` (``(1, k)`` rows)."""
    x, y = points[:, :1], points[:, 1:]
    inside = (edges.feet_left <= x) & (x <= edges.feet_right)
    inside &= top <= y
    inside &= y <= bottom
    return inside


_ROWS = tuple(name for name in _Edges._fields if name not in ("wins", "pixels"))
"""The fields of :class:`_Edges` that are ``(1, k)`` rows, one column a person."""

_FLOORED = np.array([False, True, False, False, False, False, True, True])[:, None]
"""Which rows of :attr:`_Edges.pixels` end a range (the pixel past the edge rounded down,
plus one); the others start one (the edge rounded up)."""


_MARGIN_M = OFF_PITCH_M
_AREA_CORNERS = np.array(
    [[-_MARGIN_M, -_MARGIN_M], [PITCH_LENGTH + _MARGIN_M, -_MARGIN_M],
     [PITCH_LENGTH + _MARGIN_M, PITCH_WIDTH + _MARGIN_M],
     [-_MARGIN_M, PITCH_WIDTH + _MARGIN_M]]
)  # fmt: skip
"""The corners of :meth:`BallScene.pitch_area` in pitch metres: the pitch and
:data:`~realtime_nb.vision.plugins.pitch_model.OFF_PITCH_M` around it."""

_FEW = 4
"""Points up to which :meth:`BallScene.ground` and :meth:`BallScene.expected_radius` divide
and measure in Python numbers after the matrix product (a frame asks about one point twice):
a numpy call costs more than the arithmetic on so few."""


def _homogeneous(h: FloatArray, points: FloatArray) -> FloatArray:
    """``(n, 3)``: :func:`~realtime_nb.vision.plugins.pitch_model.project`'s product of
    ``(n, 2)`` points with ``h`` before its division, the same numpy expression (the matrix
    product's rounding depends on the batch's shape and layout)."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    out: FloatArray = pts @ h[:, :2].T + h[:, 2]
    return out


def _divided(x: float, y: float, w: float) -> tuple[float, float]:
    """``(x / w, y / w)``, NaN where ``w`` is not safely positive (behind the camera or at
    the horizon): project's division, for one point."""
    return (x / w, y / w) if w > 1e-9 else (math.nan, math.nan)


def _radius_of(point: list[float], along: list[float], across: list[float]) -> float:
    """:meth:`BallScene._radius_on_ground` of one point from the homogeneous images
    (:func:`_homogeneous`) of its pitch point and a metre along and across the pitch from it:
    the same operations in the same order, in Python numbers."""
    x0, y0 = _divided(*point)
    x1, y1 = _divided(*along)
    x2, y2 = _divided(*across)
    a, b, c, d = x1 - x0, y1 - y0, x2 - x0, y2 - y0
    squares = a * a + b * b + c * c + d * d
    twice_area = 2.0 * (a * d - b * c)
    spread = squares * squares - twice_area * twice_area
    # np.maximum's: NaN stays NaN (a negative zero's sign cannot reach the result).
    spread = math.sqrt(spread if spread > 0.0 or spread != spread else 0.0)
    return BALL_RADIUS_M * math.sqrt(0.5 * (squares + spread))


def _beyond_pitch(x: float, y: float) -> bool:
    """:func:`~realtime_nb.vision.plugins.pitch_model.beyond_pitch` of one finite pitch point,
    in Python numbers."""
    margin = OFF_PITCH_M
    return x < -margin or x > PITCH_LENGTH + margin or y < -margin or y > PITCH_WIDTH + margin


def _root_of_least(squares: FloatArray) -> FloatArray:
    """The root of each row's least of ``(n, m)`` squared lengths, NaN (behind the camera)
    counted as infinitely far: np.fmin passes NaN over, and a row of NaN alone is set to inf
    after, on ``n`` values rather than ``n * m``. The root of the least is the least of the
    roots (a correctly rounded root keeps the order), on ``n`` values too."""
    out: FloatArray = np.fmin.reduce(squares, axis=1)
    out[np.isnan(out)] = np.inf
    return np.sqrt(out, out=out)


class _Pieces(NamedTuple):
    """A homography's image of the pitch's markings as :meth:`BallScene.near_markings` reads
    them: each piece's start, its run from there to its end and that run's squared length
    (at least 1e-9), as ``(1, f)`` rows (NaN for a piece behind the camera)."""

    ax: FloatArray
    ay: FloatArray
    abx: FloatArray
    aby: FloatArray
    length2: FloatArray

    @classmethod
    def of(cls, pieces: FloatArray) -> _Pieces:
        """The rows of ``(f, 2, 2)`` projected pieces."""
        ax, ay = pieces[None, :, 0, 0], pieces[None, :, 0, 1]
        abx, aby = pieces[None, :, 1, 0] - ax, pieces[None, :, 1, 1] - ay
        return cls(ax, ay, abx, aby, np.maximum(abx * abx + aby * aby, 1e-9))


def _per_point(
    memo: dict[tuple[float, float], _T], points: FloatArray
) -> tuple[list[tuple[float, float]], list[int]]:
    """The ``(x, y)`` key of each of ``(n, 2)`` points in ``memo``, and the indices of those
    it has no answer for yet."""
    keys = [(x, y) for x, y in np.asarray(points, np.float64).reshape(-1, 2).tolist()]
    return keys, [i for i, key in enumerate(keys) if key not in memo]


def _batch_key(points: FloatArray) -> _BatchKey:
    """A key telling batches of ``(n, 2)`` image points apart: their shape and bytes."""
    points = np.asarray(points, np.float64)
    return points.shape, points.tobytes()
