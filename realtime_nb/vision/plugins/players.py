"""People on the pitch with classic OpenCV: blobs unlike the grass, their team from the jersey.

No model downloads: players are blobs on the pitch of pixels neither grass nor line-like, their
team found by clustering jersey colours over the first frames.

Example:
    >>> from realtime_nb.vision.plugins import PluginContext
    >>> from realtime_nb.vision.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=1, seed=1)
    >>> ctx = PluginContext(0, "f-000000", {}, {}, clip.info)
    >>> PlayerDetection().process(clip.frame(0), ctx)["count"] > 5
    True
"""

from __future__ import annotations

import itertools
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.arrays import Buffers, flatnonzero
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.vision.plugins.grass import (
    GREEN_HI,
    GREEN_LO,
    Mask,
    green_mask,
    hsv_planes,
    kernel,
    pitch_region,
)
from realtime_nb.vision.plugins.pitch_model import (
    PERSON_HEIGHT_M,
    beyond_pitch,
    lengths,
    project,
)
from realtime_nb.vision.plugins.players_boxes import (
    GrassDistance,
    as_tall_as_a_person,
    as_wide_as_shoulders,
    every_fourth,
)
from realtime_nb.vision.plugins.players_heights import (
    HeightModel,
    expected_height,
    height_model,
    tall_enough,
)
from realtime_nb.vision.plugins.players_markings import marking_band, on_paint
from realtime_nb.vision.plugins.players_stand import (
    clear_stand_edge,
    region_widths,
    without_stand_rows,
)
from realtime_nb.vision.plugins.players_teams import (
    WASHED_BOX,
    Labels,
    TeamModel,
    at_most_two_keepers,
    jersey_colour,
    kit_cue,
    lab_features,
    shorts_colour,
)
from realtime_nb.vision.plugins.players_tracks import Verdict, link_tracks, track_teams, vote

__all__ = ["PlayerDetection"]

OPENED_FROM = (10.5, 16.0)
"""How tall (px) people must be where the blob mask is opened by 1 x 2, and by 2 x 2 (people
on the far touchline are about 10 px tall at 198 image rows, 11 at 216 and 18 at 360)."""

FILLED = (0.08, 0.2)
"""The least share of a box its own candidate pixels fill, or else its candidates with the
pale parts put back: :func:`_filled`."""

SHORTS_EVERY = 2
"""The shorts' colours are learnt on every second frame of the teams' warm-up (the 1st, 3rd,
5th, ...): a second team model refitted on each of its frames cost player_detection 5 % of its
time over a 100-frame clip at 640x360 (1.054x against bfafd6b). On every third, broadcast
tuning clip 942 (two teams in one shirt) read teams 0.807 (0.888 on every second, 0.934 on
each)."""

FAR_SHARE = 20.0
"""Without a homography or lone people seen yet, people are taken to be the frame's rows over
this tall (a broadcast view's far touchline)."""

Heights = tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None
"""Image rows and how tall (px) a person standing at each is, both growing; None: unknown."""

_TEAM_DRAW = ((60, 60, 230), (230, 120, 40))
_ROLE_DRAW = {"goalkeeper": (0, 220, 255), "referee": (30, 30, 30), "player": (200, 200, 200)}


class PlayerDetection(Plugin):
    """People on the pitch: blobs unlike the grass and the lines, with role and team from the
    jersey.

    Result::

        {"detections": [{"box": [x1, y1, x2, y2], "class": "player", "team": 0,
                         "confidence": 0.9}, ...],
         "count": n, "team_colors": [[b, g, r], [b, g, r]]}

    A box is the whole person, from the top of the head (hair included) to the soles, and across
    the arms: the same definition as the synthetic match's truth. Where what stands out is
    shorter than :data:`~realtime_nb.vision.plugins.players_boxes.SHORT_SHARE` of a person
    standing at its feet (blur or JPEG faded the head or the boots into the grass), the box
    grows to that person's height, above and below by how far the rows there differ from the
    grass; where it is narrower than a person's shoulders (the arms faded), it is widened
    evenly to :data:`~realtime_nb.vision.plugins.players_boxes.SHOULDERS_SHARE` of a person's
    height there; neither where the frame's edge cuts it. A person's height there is the
    homography's across the frame's middle column (else the height model's). What stands out
    is given too, as ``"body": [x1, y1, x2, y2]`` (what ball_detection reads as the person's
    kit, and radar as where the feet are).
    An upper and a lower part of one person (a kit whose middle looks like the grass) are
    joined; a fitted box takes in arms held out beside it. A dark green kit of the grass's own
    hue is the grass darkened, as a shadow is: it is told from the grass by the grass around
    it and by its colour (a green pixel under :data:`DARKER_THAN_AROUND` of the grass's mean
    brightness within a tenth of the frame's height, :func:`_least_grass_value`, and
    :data:`OFF_SHADE` or more off the grass darkened to its brightness is not grass,
    :func:`_without_dark_kits`). A shadow over a wide area is measured against itself, and a
    player's shadow, as dark as such a kit, is the grass with less light and stays grass; where
    the kit is no darker than that (or stands on a shadow's edge) the person is found by their
    head, shorts and legs, or missed. Through a homography pitch_detection tracks
    (quality :data:`BAND_QUALITY` or more), pale pixels off every projected marking are not
    paint but a person's: a white kit, pale from face to socks, is found wherever it stands off
    the lines (:func:`~realtime_nb.vision.plugins.players_markings.marking_band`), and a box
    made mostly of such pixels must stand upright once fitted and, unless the frame's last row
    cuts it, be most of a person tall (a ball is as pale). Elsewhere
    white shorts and socks, which look like line paint, are kept where they lie between parts of
    a person, and a white kit's thick pale parts are taken back from the line mask within reach
    of the person's own pixels (but not long vertical runs of paint); what blur or JPEG fades
    into the grass (hair, thin boots) is added back, and a motion streak's halo and a line under
    the feet cut, by each box's colour distance from the grass (a shadow on the grass is not a
    person's) (:class:`~realtime_nb.vision.plugins.players_boxes.GrassDistance`), by how tall a
    lone person stands at the box's feet: through the homography when there is one, else by a
    height-for-row line fitted to earlier lone boxes. The stand inside the pitch's outline is
    cleared first: rows of candidate pixels filling more than half the pitch's width, and the
    strip along the outline's top edge (:mod:`~realtime_nb.vision.plugins.players_stand`). A box
    its candidate pixels fill too little (JPEG ringing beside a line, grown to a person's
    height) is dropped, and so is one that is line paint: through a good homography, nearly all
    its pixels that stand out from the grass lie on a projected marking and have paint's colour
    (:mod:`~realtime_nb.vision.plugins.players_markings`; on small compressed frames a crossing
    of lines or an upright stretch of arc washes into blotches of pale green).

    Team colours are learnt over the first frames (the two densest jersey colours, the second
    not the first's blended with the grass, nor the first the second's; when the second is only
    a goalkeeper's, two kits close together, found at half the radius, if they explain the
    jerseys far better, and when it is a diffuse spread of off-colour readings, two such kits
    dense where it is not, with the first colour between them), and again on every second later
    frame with more jerseys off both colours than a match has goalkeepers, or two of one colour
    (a team out of view while they were learnt, or learnt from its far players' washed
    jerseys: the two goalkeepers' kits differ), kept if they explain that frame's jerseys
    (:meth:`TeamModel.relearn`). A jersey is read between the shoulders and the shorts; of a
    box the frame's top or bottom edge cuts to under four fifths of a person standing there,
    where a whole person's shirt would be, not on the shorts of a player whose head is above
    the frame (:func:`~realtime_nb.vision.plugins.players_teams.person_rows`). It is compared
    with each colour as blended with up to half of the grass (a far player's few pixels take in
    the grass around them under blur and JPEG), or as up to half again further from the grass
    (a colour learnt from far players is itself blended, and a near player's jersey is clean),
    and a small player's (a box under 16 rows) also as taking the grass's hue alone with its own
    lightness (JPEG keeps colour at half resolution, so a shirt a few pixels wide takes the hue
    of the grass around it); one far
    from both is a ``referee`` when dark and grey, else a ``goalkeeper`` (team None), unless a
    larger player's lies within a team's reach of its line away from the grass's hue (a team
    learnt from its far players' washed jerseys, and a near player's shirt as saturated as the
    kit). A frame has at most two goalkeepers, one at each goal: of more off-colour jerseys,
    the two furthest from their nearer team stay goalkeepers and the rest join their nearer
    team with confidence 0.5 (far players whose jersey compression washed toward the grass). A
    box's role and team are then voted over the frames it is seen in
    (:mod:`~realtime_nb.vision.plugins.players_tracks`; a box narrower than half its height is
    linked as that wide): one washed frame does not move a player off their team; and when
    three or more players read the other team than their tracks voted for, and more than read
    their own, a refit gave the teams each other's ids, which are swapped back
    (:meth:`TeamModel.follow_tracks`). The shorts' colours (below the waistband of a person
    standing at the box's feet) are learnt too, on every second frame of the warm-up; when one
    shirt colour gathers nearly every jersey and the shorts split in two
    (:func:`~realtime_nb.vision.plugins.players_teams.kit_cue`, asked on those frames and fixed
    after the warm-up: both teams wear one shirt), a player's team is that of their shorts (its
    ids following the tracks as the shirts' do), the roles staying the shirts'.
    People who overlap make one blob: a blob as wide as two or three people, or as tall as
    people one behind the other (by a height-for-row line fitted to lone players), is split;
    one less than half as tall as a lone person there (a ball, a piece of paint) is dropped.
    """

    name = "player_detection"
    history_frames = None  # team colours fitted on the first frames, teams voted over frames
    metadata = bgr_metadata(
        "opencv-hsv-blobs+lab-jersey-clustering",
        0.6,
        ["detection", "team_classification", "role_classification"],
    )
    warmup_frames = 15
    _hsv: Frame | None = None  # this job's HSV buffer (:meth:`_hsv_of`)
    _planes: list[Mask] | None = None  # and its planes' (:meth:`_planes_of`)
    _kept: Buffers | None = None  # and its masks' (:meth:`_buffers`)

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Detect people on the pitch and classify role and team."""
        hsv, planes = self._hsv_and_planes(frame, ctx)
        # The grass's mean colour from every fourth pixel; the grass mask at full size only
        # with bounds that follow that mean. Every fourth pixel of the frame is converted
        # (each pixel's HSV is its own): one sample of the frame for both.
        frame_sample = every_fourth(frame)
        sample = np.asarray(cv2.cvtColor(frame_sample, cv2.COLOR_BGR2HSV), np.uint8)
        sample_green = green_mask(sample)
        away = GrassDistance.of(frame, sample_green, frame_sample)
        _, grass_s, grass_v, _ = cv2.mean(sample, mask=sample_green)
        kept = self._buffers()
        grass, line = _grass_and_line(hsv, grass_s, grass_v, planes, kept)
        least = _least_grass_value(sample, sample_green, grass_v, frame.shape[:2], kept)
        _without_dark_kits(grass, planes[2], least, away, kept)
        previous = ctx.state.get("height_model")
        measured = _homography_heights(ctx)
        heights = measured if measured is not None else _model_heights(previous, frame.shape[0])
        homography = _good_homography(ctx, BAND_QUALITY)
        paint = (
            None
            if homography is None or heights is None
            else marking_band(
                grass.shape[:2], homography, *heights, out=kept.get("paint", grass.shape)
            )
        )
        boxes, labels, ids, masks, pale = _person_blobs(
            line, (grass, pitch_region(ctx, grass)), heights, paint, kept
        )
        # The homography's height where there is one (the height model, fitted to earlier
        # boxes, can stay too tall from boxes it grew itself).
        tall = _lone_heights(boxes, measured, previous)
        boxes = [away.fit(box, expected) for box, expected in zip(boxes, tall, strict=True)]
        boxes, ids = _person_shaped(boxes, ids)
        boxes, ids = _upright(boxes, ids, pale, measured, frame.shape[0] - 1)
        boxes, ids = tall_enough(boxes, ids, previous)
        model = height_model(boxes, ctx.state)
        ctx.state["height_model"] = model
        fitted = {id(box) for box in boxes}
        boxes, ids = _split_side_by_side(boxes, ids, labels, model)
        boxes, ids = _split_stacked(boxes, ids, labels, model)
        # The splits pass a box they leave whole through as the same list. A side-by-side
        # piece's rows are the blob's, which may reach the grass below the feet; a stacked
        # piece's bottom is the height model's or the fitted one, and the cut leaves it.
        boxes = [box if id(box) in fitted else away.cut_below(box) for box in boxes]
        boxes, ids = _filled(boxes, ids, masks)
        boxes, ids = _on_pitch(boxes, ids, ctx)
        # Boxes of grass first: the paint test reads the standing-out pixels again.
        boxes, ids, standing = _standing_out_masks(boxes, ids, away)
        boxes, ids = _not_paint(frame, boxes, ids, ctx, away, heights, standing)
        grass_bgr = np.asarray(away.grass[:3], np.float32)
        # Heights measured across the frame's middle column (a panned camera sees the pitch's
        # length obliquely); by this frame's model without a homography. They place the shirt
        # of a person the frame's edge cuts, and size the reported boxes.
        across = _homography_heights(ctx, frame.shape[1] / 2)
        tall = _lone_heights(boxes, measured if across is None else across, model)
        colours = [
            jersey_colour(frame, labels, b, k, grass_bgr, person)
            for b, k, person in zip(boxes, ids, tall, strict=True)
        ]
        # The grass's feature is read with the jerseys': one colour conversion for all.
        features = lab_features([*colours, [int(v) for v in away.grass[:3]]])
        features, grass_feature = features[:-1], features[-1]
        teams = TeamModel(ctx.state)
        learning = ctx.state.get("team_frames", 0) < self.warmup_frames
        if learning:
            teams.learn(features, colours, grass_feature, grass_bgr)
        # The shorts are learnt on every SHORTS_EVERY-th frame of the warm-up (the cue asked
        # again each time, and fixed after it), and read after only where both teams wear one
        # shirt (kit_cue).
        shorts = TeamModel(ctx.state.setdefault("shorts_model", {}))
        cue = ctx.state.get("kit_cue")
        shorts_turn = learning and (ctx.state["team_frames"] - 1) % SHORTS_EVERY == 0
        shorts_features = None
        if shorts_turn or ctx.state.get("warm_cue") == "shorts" or cue == "shorts":
            shorts_colours = _shorts_colours(frame, boxes, tall, colours, grass_bgr)
            shorts_features = lab_features(shorts_colours)
            if shorts_turn:
                shorts.learn(shorts_features, shorts_colours, grass_feature, grass_bgr)
                ctx.state["warm_cue"] = kit_cue(ctx.state, shorts.state)
        if learning:
            cue = ctx.state.get("warm_cue")
        elif cue is None:
            cue = ctx.state["kit_cue"] = kit_cue(ctx.state, shorts.state)
        # A shirt a few pixels wide may have taken the grass's hue (blend_distances).
        washed = np.array([y2 - y1 + 1 < WASHED_BOX for _, y1, _, y2 in boxes], bool)
        readings = teams.read(features, grass_feature, washed)
        if not learning and teams.missing_a_team(readings, features):
            readings = teams.relearn(features, colours, readings, grass_feature, grass_bgr, washed)
        # A refit may have given each team the other's id; the players' tracks remember them.
        # Asked on every frame: a swap one frame's readings could not show stays until one can.
        before = ctx.state.get("team_tracks", [])
        links = link_tracks(before, boxes)
        tracked = track_teams(before, boxes, links)
        if cue == "shorts" and shorts_features is not None:
            by_shorts = shorts.read(shorts_features, grass_feature, washed)
            by_shorts = shorts.follow_tracks(
                by_shorts, tracked, shorts_features, grass_feature, washed
            )
            readings = _teams_from_shorts(readings, by_shorts)
        else:
            readings = teams.follow_tracks(readings, tracked, features, grass_feature, washed)
        readings = at_most_two_keepers(readings, teams, features)
        tracks, verdicts = vote(before, boxes, readings, links)
        ctx.state["team_tracks"] = tracks
        # The vote can bring back a goalkeeper the frame's reading demoted.
        verdicts = at_most_two_keepers(verdicts, teams, features)
        detections = []
        for box, person, (role, team, confidence) in zip(boxes, tall, verdicts, strict=True):
            detection: dict[str, Any] = {
                "box": box,
                "class": role,
                "team": team,
                "confidence": round(confidence, 3),
            }
            # As tall as a person and as wide as their shoulders at least (head, boots and
            # arms faded into the grass), the part that stands out kept as "body"; the team
            # votes follow the fitted boxes.
            whole = as_tall_as_a_person(box, frame.shape[0], person, away)
            whole = as_wide_as_shoulders(whole, frame.shape[1], person, away)
            if whole != box:
                detection["box"], detection["body"] = whole, box
            detections.append(detection)
        return {
            "detections": detections,
            "count": len(detections),
            "team_colors": ctx.state.get("team_bgr") or [],
        }

    def _buffers(self) -> Buffers:
        """This job's masks, written into the same buffers frame after frame (as
        :meth:`_hsv_of`'s); none of them outlives a frame's :meth:`process`."""
        if self._kept is None:
            self._kept = Buffers()
        return self._kept

    def _hsv_and_planes(
        self, frame: Frame, ctx: PluginContext
    ) -> tuple[Frame, tuple[Mask, Mask, Mask]]:
        """``frame`` in HSV and its hue, saturation and value planes: those pitch_detection
        shared for this frame (``ctx.images``), else worked out here (:meth:`_hsv_of`,
        :meth:`_planes_of`)."""
        hsv = ctx.shared_image("hsv", frame.shape)
        names = ("hue", "saturation", "value")
        hue, saturation, value = (ctx.shared_image(name, frame.shape[:2]) for name in names)
        if hsv is None:
            hsv = self._hsv_of(frame)
        elif hue is not None and saturation is not None and value is not None:
            return hsv, (hue, saturation, value)
        return hsv, self._planes_of(hsv)

    def _hsv_of(self, frame: Frame) -> Frame:
        """``frame`` in HSV, written into the same buffer frame after frame: a new 2.8 MB one
        every frame at 1280x720 is, as often as not, given back to the system by the allocator
        and taken again page by page (a page fault each)."""
        if self._hsv is None or self._hsv.shape != frame.shape:
            self._hsv = np.empty(frame.shape, np.uint8)
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV, dst=self._hsv), np.uint8)

    def _planes_of(self, hsv: Frame) -> tuple[Mask, Mask, Mask]:
        """The hue, saturation and value planes of ``hsv`` (as
        :func:`~realtime_nb.vision.plugins.grass.hsv_planes`), written into the same three
        buffers frame after frame: cv2.split into fresh planes every frame costs more (about
        0.2 against 0.12 ms at 640x360)."""
        if self._planes is None or self._planes[0].shape != hsv.shape[:2]:
            self._planes = [np.empty(hsv.shape[:2], np.uint8) for _ in range(3)]
        hue, saturation, value = (np.asarray(p, np.uint8) for p in cv2.split(hsv, self._planes))
        return hue, saturation, value

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box every person in its team's colour, with a short label."""
        palette = [tuple(c) for c in result.get("team_colors") or []] or list(_TEAM_DRAW)
        for det in result.get("detections") or []:
            x1, y1, x2, y2 = det["box"]
            team, role = det.get("team"), det.get("class", "player")
            colour = palette[team] if team is not None and team < len(palette) else None
            colour = colour or _ROLE_DRAW.get(role, (255, 255, 255))
            label = (
                f"T{team}"
                if team is not None
                else {"goalkeeper": "GK", "referee": "REF"}.get(role, "?")
            )
            cv2.rectangle(frame, (x1, y1), (x2, y2), colour, 1)
            cv2.putText(
                frame, label, (x1, max(8, y1 - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, colour, 1
            )


def _shorts_colours(
    frame: Frame,
    boxes: list[list[int]],
    tall: list[float | None],
    colours: list[list[int]],
    grass_bgr: npt.NDArray[np.float32],
) -> list[list[int]]:
    """Each person's shorts' BGR (:func:`shorts_colour`; the shirt's, ``colours``, where the
    shorts are out of the frame)."""
    read = [
        shorts_colour(frame, box, grass_bgr, person)
        for box, person in zip(boxes, tall, strict=True)
    ]
    return [c if c is not None else s for c, s in zip(read, colours, strict=True)]


def _teams_from_shorts(readings: list[Verdict], by_shorts: list[Verdict]) -> list[Verdict]:
    """``readings`` (the shirts') with each player's team that of its shorts
    (``by_shorts``), where the shorts read as a team's; roles stay the shirts'."""
    out = []
    for (role, team, confidence), (s_role, s_team, s_confidence) in zip(
        readings, by_shorts, strict=True
    ):
        if role == "player" and s_role == "player" and s_team is not None:
            team, confidence = s_team, s_confidence
        out.append((role, team, confidence))
    return out


def _grass_and_line(
    hsv: Frame,
    grass_s: float,
    grass_v: float,
    planes: tuple[Mask, Mask, Mask] | None = None,
    buffers: Buffers | None = None,
) -> tuple[Mask, Mask]:
    """The grass and the line-like pixels for the blob mask, the grass's mean saturation and
    value being ``grass_s`` and ``grass_v`` (``planes``: those of ``hsv``, when already
    taken; ``buffers``: where the masks are written, else new arrays).

    Grass: green-hued, at least 0.55 times as saturated and half as bright as the grass's
    mean. JPEG bleeds the grass's hue into a small kit, which the fixed green range then takes
    for grass, while its saturation or brightness stays off the grass's; a shadow (at most
    half as bright) stays grass.

    Line-like: white or a white-grass blend, paler (saturation up to 0.8 of the grass's) and
    brighter (by 12) than the grass, and green-hued or grey (saturation up to 60). Absolute
    thresholds would miss lines in dim light.
    """
    # Each range is tested on one channel at a time and the tests are combined: the same
    # masks as cv2.inRange over the three channels, for less (:func:`hsv_planes`), and the
    # hue and brightness tests are shared.
    hue, saturation, value = hsv_planes(hsv) if planes is None else planes
    kept = Buffers() if buffers is None else buffers
    shape = hue.shape
    # Each mask is written in place into its buffer (dst=).
    green_hue = kept.get("green_hue", shape)
    cv2.inRange(hue, int(GREEN_LO[0]), int(GREEN_HI[0]), dst=green_hue)
    grass = _at_least(saturation, max(int(GREEN_LO[1]), 0.55 * grass_s), kept.get("grass", shape))
    cv2.bitwise_and(grass, green_hue, dst=grass)
    scratch = kept.get("grass_and_line", shape)
    cv2.bitwise_and(
        grass, _at_least(value, max(int(GREEN_LO[2]), 0.5 * grass_v), scratch), dst=grass
    )
    bright = _at_least(value, grass_v + 12, scratch)  # the dim test is used up
    line = _at_most(saturation, 0.8 * grass_s, kept.get("line", shape))  # pale
    cv2.bitwise_and(line, green_hue, dst=line)  # and green: a white-grass blend
    grey = _at_most(saturation, min(60.0, 0.8 * grass_s), green_hue)  # the hue is used up
    cv2.bitwise_or(line, grey, dst=line)
    cv2.bitwise_and(line, bright, dst=line)
    return grass, line


DARKER_THAN_AROUND = 0.65
"""A green pixel under this share of the grass's mean brightness around it (and
:data:`OFF_SHADE` or more off the grass darkened to its brightness) is not grass
(:func:`_least_grass_value`): a far player's dark green shirt, blended with the grass beside
it, was 0.55 to 0.65 as bright as that grass; mowing stripes differ by about a tenth."""


def _least_grass_value(
    sample: Frame,
    sample_green: Mask,
    grass_v: float,
    shape: tuple[int, int],
    buffers: Buffers | None = None,
) -> Mask:
    """The least brightness (HSV value) a grass pixel may have at each pixel of a frame of
    ``shape``: :data:`DARKER_THAN_AROUND` of the mean brightness of the grass around it, and
    never under half the grass's mean ``grass_v`` (nor the green range's floor).

    The grass around a pixel is read from ``sample`` (every fourth pixel of the frame each
    way, in HSV) where ``sample_green`` is set, shrunk by half again, over a square a tenth
    as wide as that is tall (40 px of a 360-row frame), then scaled back up to the frame; a
    square with under a quarter of grass in it (a stand along the frame's edge) leaves the
    floor alone. A shadow dark over a wide area is measured against itself; a pixel on a
    shadow's edge against a blend of both sides. Written into ``buffers`` when given, else a
    new array.
    """
    # The grass's mean brightness changes slowly across the frame: worked out on an eighth of
    # the frame each way, and scaled up to it once (which costs the most here).
    h, w = shape
    small = (max(1, sample.shape[1] // 2), max(1, sample.shape[0] // 2))
    value = cv2.bitwise_and(cv2.extractChannel(sample, 2), sample_green)
    side = max(3, round(small[1] / 10)) | 1

    def summed(plane: Mask) -> npt.NDArray[np.float32]:
        shrunk = np.asarray(cv2.resize(plane, small, interpolation=cv2.INTER_AREA), np.float32)
        return np.asarray(cv2.boxFilter(shrunk, -1, (side, side), normalize=False), np.float32)

    total, count = summed(np.asarray(value, np.uint8)), summed(sample_green)
    around = np.divide(
        255.0 * total, count, out=np.zeros_like(total), where=count >= 255.0 * side * side / 4
    )
    floor = max(int(GREEN_LO[2]), 0.5 * grass_v)
    least = np.rint(np.clip(np.maximum(DARKER_THAN_AROUND * around, floor), 0, 255))
    out = (Buffers() if buffers is None else buffers).get("least_grass_value", shape)
    return np.asarray(
        cv2.resize(least.astype(np.uint8), (w, h), dst=out, interpolation=cv2.INTER_LINEAR),
        np.uint8,
    )


OFF_SHADE = 6
"""How far (largest channel difference) a green pixel darker than the grass around it must be
from the grass darkened to its own brightness to be a kit and not a shadow
(:func:`_without_dark_kits`). A shadow is the grass with less light: 1 to 3 levels off the
darkened grass on the synthetic match's players' shadows over textured grass, 2 (median) on
the broadcast renderer's roof shadow; a far player's dark green shirt 7 to 24 (median 12),
its hue and saturation a little off the grass's."""


def _without_dark_kits(
    grass: Mask,
    value: Mask,
    least_value: Mask,
    away: GrassDistance,
    buffers: Buffers | None = None,
) -> None:
    """Clear from ``grass`` (in place) its pixels darker than ``least_value`` says
    (:func:`_least_grass_value`; ``value``: the frame's HSV value plane) that are not the grass
    darkened: :data:`OFF_SHADE` or more from it (``away``: the frame's
    :class:`~realtime_nb.vision.plugins.players_boxes.GrassDistance`). A dark green kit is
    then a person's; a player's shadow on the grass, as dark, stays grass. Only the few dark
    pixels are measured; ``buffers`` keeps the mask of them."""
    kept = Buffers() if buffers is None else buffers
    dark = kept.get("dark", grass.shape)
    cv2.compare(value, least_value, cv2.CMP_LT, dst=dark)
    cv2.bitwise_and(dark, grass, dst=dark)
    if not cv2.countNonZero(dark):
        return
    ys, xs = np.divmod(flatnonzero(dark), grass.shape[1])
    off = away.off_shade(ys, xs) >= OFF_SHADE
    grass[ys[off], xs[off]] = 0


def _at_least(plane: Mask, bound: float, dst: Mask | None = None) -> Mask:
    """``cv2.inRange(plane, bound, 255)`` of an 8-bit ``plane`` (``bound`` rounded to the
    nearest whole number, ties to even, as cv2.inRange rounds it), by cv2.threshold: about a
    third of the cost. Written into ``dst`` when given."""
    level = min(255, max(-1, round(bound) - 1))
    return np.asarray(cv2.threshold(plane, level, 255, cv2.THRESH_BINARY, dst=dst)[1], np.uint8)


def _at_most(plane: Mask, bound: float, dst: Mask | None = None) -> Mask:
    """``cv2.inRange(plane, 0, bound)`` of an 8-bit ``plane``, as :func:`_at_least`."""
    level = min(255, max(-1, round(bound)))
    return np.asarray(cv2.threshold(plane, level, 255, cv2.THRESH_BINARY_INV, dst=dst)[1], np.uint8)


def _lone_heights(
    boxes: list[list[int]], measured: Heights, model: HeightModel | None
) -> list[float | None]:
    """A lone person's height (px) at each box's feet: through the homography (``measured``,
    :func:`_homography_heights`) where there is one, else by the height ``model`` (None
    without one)."""
    if measured is None:
        return [expected_height(model, box) for box in boxes]
    return list(_heights_at(boxes, measured))


def _heights_at(
    boxes: list[list[int]], heights: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
) -> list[float]:
    """A person's height (px) at each box's bottom row, interpolated in ``heights`` (rows and
    heights), in one np.interp call for the frame's boxes."""
    bottoms = np.array([box[3] for box in boxes], np.float64)
    out: list[float] = np.interp(bottoms, *heights).tolist()
    return out


def _person_blobs(
    line: Mask,
    masks: tuple[Mask, Mask],
    heights: Heights,
    paint: Mask | None = None,
    buffers: Buffers | None = None,
) -> tuple[list[list[int]], Labels, list[int], tuple[Mask, Mask], set[int]]:
    """Boxes (inclusive pixels) of person-shaped blobs, the label image and their labels: the
    pixels neither grass nor ``line``-like (:func:`_grass_and_line`), within the pitch
    (``masks``: the grass and the pitch), an upper and a lower part of one
    person joined (:func:`_join_stacked_parts`), people standing at each row being
    ``heights`` tall. Given ``paint`` (where the markings are, through a good homography:
    :func:`~realtime_nb.vision.plugins.players_markings.marking_band`), line-like pixels
    outside it are a person's (a white kit is as pale as a line from head to socks), unless
    less than :data:`BAND_COVERAGE` of them are inside it; the last value returned is the
    set of labels of blobs made mostly of them (for :func:`_upright`). The masks are written
    into ``buffers`` when given, else into new arrays."""
    grass, region = masks
    h, w = grass.shape
    kept = Buffers() if buffers is None else buffers
    off_markings = None
    if paint is not None:
        # A homography off by more than the band leaves the lines outside it: then the band
        # is not used.
        on_markings = cv2.bitwise_and(line, paint, dst=kept.get("on_markings", (h, w)))
        if cv2.countNonZero(on_markings) >= BAND_COVERAGE * cv2.countNonZero(line):
            off_markings = np.asarray(
                cv2.subtract(line, paint, dst=kept.get("off_markings", (h, w))), np.uint8
            )
            line = np.asarray(on_markings, np.uint8)
    # The region less the grass and the line (0/255 masks, so a saturating subtraction): one
    # pass over the frame fewer than the region and not either.
    own = cv2.bitwise_or(grass, line, dst=kept.get("own", (h, w)))
    own = cv2.subtract(region, own, dst=own)
    widths = region_widths(region)
    own = without_stand_rows(np.asarray(own, np.uint8), region, widths)
    clear_stand_edge(own, region, widths)  # own is this function's
    pale_too = _with_pale_parts(own, line, region, kept)
    n, labels, stats, (window, ys, xs, ks) = _blob_labels_and_pixels(pale_too, heights, kept)
    # Each blob's own pixels counted at once from its pixels' places, for the tests below:
    # one count over a box's window for each blob costs more.
    owned = np.bincount(ks[own[window][ys, xs] != 0], minlength=n)
    _join_stacked_parts(labels, stats, heights, owned)
    min_area = max(8.0, 4e-5 * h * w)
    boxes, ids = [], []
    pale: set[int] = set()
    for k, (x, y, bw, bh, area) in enumerate(stats.tolist()[1:n], start=1):
        # A small far player's blob can be its shirt alone (blur and JPEG fade its head and
        # legs into the grass): 3 rows are enough here, the box is grown and judged after. A
        # flat blob is not grown: beside a line it would grow into a person's height.
        if area < min_area or bh < 3 or bw > 0.2 * w or bh > 0.5 * h:
            continue
        if not 0.7 <= bh / bw <= 6.0 or area < 0.2 * bw * bh:
            continue
        # At least a tenth of the blob's own (not line-like) pixels: a piece of line is none.
        if not _mostly_own(stats, k, owned):
            continue
        boxes.append([x, y, x + bw - 1, y + bh - 1])
        ids.append(k)
        # Most blobs have no pale pixel off the markings within their rectangle at all.
        if (
            off_markings is not None
            and 2 * cv2.countNonZero(off_markings[y : y + bh, x : x + bw]) >= area
            and 2 * _count_in(labels, stats, off_markings, k) >= area
        ):
            pale.add(k)
    return boxes, labels, ids, (own, pale_too), pale


def _join_stacked_parts(
    labels: Labels,
    stats: npt.NDArray[np.int32],
    heights: Heights,
    owned: npt.NDArray[np.intp],
) -> None:
    """Join blobs that are the upper and lower part of one person, in ``labels`` and
    ``stats`` (of :func:`_blob_labels`; the lower part's label becomes the upper's, its area
    0), people standing at each row being ``heights`` tall, and in ``owned``, each blob's count
    of its own pixels (not line-like; the lower part's added to the upper's).

    A kit's middle can look like the grass (dark green shorts between a white shirt and
    white socks), leaving a person two blobs, each too short for one. Two are joined when
    they overlap in at least half the narrower one's columns, the gap between them is at most
    :data:`PART_GAP` of a person's height (2 rows at least), each is 0.15 to 0.8 of a person's
    height and together they are 0.6 to 1.15 of it, and each has a tenth of its pixels not
    line-like (a piece of line under a person is not their legs). Nearest gaps first; a blob
    joins once.
    """
    if heights is None or len(stats) < 3:
        return
    x, y, bw, bh, area = (stats[1:, k].astype(np.float64) for k in range(5))
    bottom = y + bh - 1
    person = np.interp(bottom, *heights)
    # Parts at least 0.15 of a person tall: specks of noise take no part (nor quadratic room).
    index = np.flatnonzero((area >= 3) & (bh >= 0.15 * person) & (bh < 0.8 * person))
    if len(index) < 2:
        return
    x, y, bw, bottom, person = x[index], y[index], bw[index], bottom[index], person[index]
    # Upper part i over lower part j, for every pair at once.
    overlap = np.minimum((x + bw)[:, None], (x + bw)[None, :]) - np.maximum(x[:, None], x[None, :])
    gap = y[None, :] - bottom[:, None] - 1
    tall = bottom[None, :] - y[:, None] + 1
    lower = person[None, :]
    pairs = (
        (overlap >= 0.5 * np.minimum(bw[:, None], bw[None, :]))
        & (gap >= 0)
        & (gap <= np.maximum(2.0, PART_GAP * lower))
        & (tall >= 0.6 * lower)
        & (tall <= 1.15 * lower)
    )
    upper_of, lower_of = np.nonzero(pairs)
    # Nearest gaps first; a blob joins once (two joins could make a blob taller than 1.15 of
    # a person).
    joined: set[int] = set()
    for i, j in sorted(
        zip(upper_of.tolist(), lower_of.tolist(), strict=True), key=lambda p: gap[p]
    ):
        upper, below = int(index[i]) + 1, int(index[j]) + 1
        if upper in joined or below in joined:
            continue
        if not (_mostly_own(stats, upper, owned) and _mostly_own(stats, below, owned)):
            continue
        _relabel(labels, stats, below, upper)
        owned[upper] += owned[below]
        owned[below] = 0
        joined.update((upper, below))


PART_GAP = 0.3
"""Most rows between the upper and the lower part of a person, as a share of a person's
height there (:func:`_join_stacked_parts`)."""


def _mostly_own(stats: npt.NDArray[np.int32], k: int, owned: npt.NDArray[np.intp]) -> bool:
    """Whether at least a tenth of blob ``k``'s pixels are its own (not line-like): ``owned``
    is each blob's count of them."""
    area = int(stats[k, cv2.CC_STAT_AREA])
    if area <= 0:
        return False
    return 10 * int(owned[k]) >= area


def _count_in(labels: Labels, stats: npt.NDArray[np.int32], mask: Mask, k: int) -> int:
    """How many of blob ``k``'s pixels are set in ``mask``."""
    x, y, bw, bh, _ = stats[k].tolist()
    window = np.s_[y : y + bh, x : x + bw]
    # Both tests and one count: a boolean index copies the blob's pixels first.
    return int(np.count_nonzero((labels[window] == k) & (mask[window] != 0)))


def _upright(
    boxes: list[list[int]],
    ids: list[int],
    pale: set[int],
    heights: Heights,
    last_row: int | None = None,
) -> tuple[list[list[int]], list[int]]:
    """The boxes (with their labels ``ids``) but those of ``pale`` blobs (mostly pale pixels
    off the markings) that once fitted are less than :data:`UPRIGHT` times as tall as wide,
    or (given people's ``heights`` at each row: the homography's, when it gives them) less
    than :data:`PALE_TALL` of a person tall: white shorts grow into the person standing in
    them, a ball (as pale) stays as wide as tall when JPEG blurs it and short when motion
    blur streaks it.

    A box that reaches the frame's last row, ``last_row``, is not held to a person's height:
    the frame cuts the person there (a near player's head and white shirt, the rest below
    the frame), and how much of them is below is not known. Such a box is judged by its shape
    here and, as every box, by :func:`tall_enough` later. Dropped, its white shirt was taken
    for the ball (near camera, 9 m up, 11 m back, 23 degrees, random seeds 42-53, 4 s: wrong
    ball reports 19 -> 15 of some 530; players P / R 0.983 / 0.968 the same, 4 people more)."""
    dropped = []
    for box, k in zip(boxes, ids, strict=True):
        tall = box[3] - box[1] + 1
        cut = last_row is not None and box[3] >= last_row
        dropped.append(
            k in pale
            and (
                tall < UPRIGHT * (box[2] - box[0] + 1)
                or (
                    heights is not None
                    and not cut
                    and tall < PALE_TALL * float(np.interp(box[3], *heights))
                )
            )
        )
    return _without(boxes, ids, dropped)


PALE_TALL = 0.6
"""Least height of a fitted box whose blob is mostly pale pixels off the markings, as a share
of a lone person's height at its feet (:func:`_upright`)."""


UPRIGHT = 1.5
"""Least height over width of a fitted box whose blob is mostly pale pixels off the markings
(:func:`_upright`)."""


def _relabel(labels: Labels, stats: npt.NDArray[np.int32], k: int, into: int) -> None:
    """Blob ``k`` becomes part of blob ``into`` in ``labels`` and ``stats`` (its area 0)."""
    x, y, bw, bh, area = (int(v) for v in stats[k])
    window = labels[y : y + bh, x : x + bw]
    window[window == k] = into
    x0, y0, bw0, bh0, area0 = (int(v) for v in stats[into])
    left, top = min(x, x0), min(y, y0)
    right, bottom = max(x + bw, x0 + bw0), max(y + bh, y0 + bh0)
    stats[into] = (left, top, right - left, bottom - top, area + area0)
    stats[k, cv2.CC_STAT_AREA] = 0


def _filled(
    boxes: list[list[int]], ids: list[int], masks: tuple[Mask, Mask]
) -> tuple[list[list[int]], list[int]]:
    """The boxes (with their labels ``ids``) that a person's pixels fill enough: the
    candidate pixels in the box (a neighbour's included) fill at least :data:`FILLED`'s first
    share of it, or its second share with the pale parts put back (``masks``: those two
    candidate masks).

    A box is grown from its blob by what blur or JPEG faded into the grass; a few pixels of
    JPEG ringing beside a line grow so into a person's height, while a far person, however
    faded, keeps their shirt and shorts.
    """
    own, pale_too = masks
    kept = []
    for box, k in zip(boxes, ids, strict=True):
        x1, y1, x2, y2 = box
        area = (x2 - x1 + 1) * (y2 - y1 + 1)
        window = np.s_[y1 : y2 + 1, x1 : x2 + 1]
        if cv2.countNonZero(own[window]) >= FILLED[0] * area or (
            cv2.countNonZero(pale_too[window]) >= FILLED[1] * area
        ):
            kept.append((box, k))
    return [b for b, _ in kept], [k for _, k in kept]


def _blob_labels(
    mask: Mask, heights: Heights, buffers: Buffers | None = None
) -> tuple[int, Labels, npt.NDArray[np.int32]]:
    """The blobs of ``mask`` once opened (by :func:`_opening`, people being ``heights`` tall)
    and closed: their count (the background included), the label image (written into
    ``buffers`` when given, else a new array) and ``cv2.connectedComponentsWithStats``' stats
    (the background's row is of the bounding rectangle worked on, not of the frame)."""
    n, labels, stats, _ = _blob_labels_and_pixels(mask, heights, buffers)
    return n, labels, stats


Pixels = tuple[
    tuple[slice, slice], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.integer[Any]]
]
"""The window of the frame worked on, and the rows, columns (in the window) and labels of the
blobs' pixels, row by row: :func:`_blob_labels_and_pixels`."""


def _blob_labels_and_pixels(
    mask: Mask, heights: Heights, buffers: Buffers | None = None
) -> tuple[int, Labels, npt.NDArray[np.int32], Pixels]:
    """:func:`_blob_labels`' count, label image and stats, and the blobs' pixels
    (:data:`Pixels`)."""
    h, w = mask.shape
    # Only the bounding rectangle of the mask's pixels, 6 px wider each way, is worked on (the
    # pitch leaves out the stand and sky): the opening and closing below reach 2 px from a
    # pixel, so no pixel beyond it would be set. Its corner is on even rows and columns, so the
    # labelling, which scans 2 x 2 blocks, numbers the blobs in the frame's order.
    x, y, bw, bh = cv2.boundingRect(mask)
    x0, y0 = max(0, x - 6) & ~1, max(0, y - 6) & ~1
    y1, x1 = min(h, y + bh + 6), min(w, x + bw + 6)
    window = np.s_[y0:y1, x0:x1]
    opening = _opening(heights, y)
    closing = kernel(3, 5)
    if opening is not None:
        # The opening's dilation (anchored at (0, 0): an even kernel's opening by
        # cv2.morphologyEx would shift the mask a pixel right and down) and the closing's,
        # one after the other, are one dilation by a kernel as much larger (a 2 x 2 or 1 x 2
        # and a 3 x 5 anchored at the middle: a 4 x 6 or 4 x 5 anchored at (1, 2)), one pass
        # over the window fewer. The same at the window's edges: what the first dilation
        # would push past the window's first row or column is a step from a pixel it keeps,
        # whose growth by the closing's kernel covers it (no difference on 120,000 random
        # windows of 1 to 29 px, both openings).
        rows, cols = opening.shape
        both = kernel(closing.shape[1] + cols - 1, closing.shape[0] + rows - 1)
        grown = cv2.dilate(cv2.erode(mask[window], opening), both, anchor=(1, 2))
        candidates = cv2.erode(grown, closing)
    else:
        candidates = cv2.morphologyEx(mask[window], cv2.MORPH_CLOSE, closing)
    # 16-bit labels are three times as fast; after the opening and closing above a blob and
    # its gap take at least 4 x 6 pixels (counted as 2 x 2 without the opening, to be safe),
    # so they suffice up to 65535 blobs of that size.
    small = h * w < (4 if opening is None else 24) * 65535
    depth = np.uint16 if small else np.int32
    labels = (Buffers() if buffers is None else buffers).get(
        f"labels {depth.__name__}", (h, w), depth
    )
    # The labelling writes every pixel of the frame-sized label image's window itself: only
    # the rest is cleared. The stats are read from the blobs' pixels alone
    # (:func:`_blob_stats`): cv2's own pass over every pixel of the window costs more than
    # the labelling.
    ltype = cv2.CV_16U if small else cv2.CV_32S
    n, inside = cv2.connectedComponents(candidates, labels[window], connectivity=8, ltype=ltype)
    if not np.may_share_memory(inside, labels):
        labels[window] = inside
    labels[:y0] = 0
    labels[y1:] = 0
    labels[y0:y1, :x0] = 0
    labels[y0:y1, x1:] = 0
    found, ys, xs, ks = _stats_and_pixels(cast(Labels, inside), np.asarray(candidates, np.uint8), n)
    if found is None:  # no background pixel: cv2's stats of the empty label
        found = np.asarray(
            cv2.connectedComponentsWithStats(candidates, connectivity=8, ltype=ltype)[2], np.int32
        )
    found[:, :2] += (x0, y0)
    return n, cast(Labels, labels), found, (window, ys, xs, ks)


def _blob_stats(labels: Labels, mask: Mask, n: int) -> npt.NDArray[np.int32] | None:
    """``cv2.connectedComponentsWithStats``' stats (left, top, width, height, area per
    label) of the ``n`` labels (the background 0 included) of ``labels``, the labelling of
    the 8-bit ``mask`` (set where a label is not 0), from its set pixels alone; None when
    every pixel is set (no background)."""
    return _stats_and_pixels(labels, mask, n)[0]


def _stats_and_pixels(
    labels: Labels, mask: Mask, n: int
) -> tuple[
    npt.NDArray[np.int32] | None,
    npt.NDArray[np.intp],
    npt.NDArray[np.intp],
    npt.NDArray[np.integer[Any]],
]:
    """:func:`_blob_stats`, and the rows, columns and labels of ``mask``'s set pixels, row
    by row."""
    h, w = mask.shape
    at = flatnonzero(mask)
    ys, xs = np.divmod(at, w)
    ks = labels[ys, xs]
    if len(at) == h * w:
        return None, ys, xs, ks
    area = np.bincount(ks, minlength=n)
    # Each blob's pixels together, in the mask's order (row by row): its first and last are
    # on its top and bottom rows.
    order = np.argsort(ks, kind="stable")
    ends = np.cumsum(area)
    starts = ends - area
    stats = np.empty((n, 5), np.int32)
    if n > 1:
        first, last = starts[1:], ends[1:] - 1
        across, down = xs[order], ys[order]
        left = np.minimum.reduceat(across, first)
        stats[1:, 0] = left
        stats[1:, 1] = down[first]
        stats[1:, 2] = np.maximum.reduceat(across, first) - left + 1
        stats[1:, 3] = down[last] - down[first] + 1
        stats[1:, 4] = area[1:]
    # The background's rectangle: the rows and columns not wholly set.
    rows = np.flatnonzero(np.bincount(ys, minlength=h) < w)
    cols = np.flatnonzero(np.bincount(xs, minlength=w) < h)
    stats[0] = (cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1, h * w - len(at))
    return stats, ys, xs, ks


def _opening(heights: Heights, top: int) -> Mask | None:
    """The opening for the blob mask, by how tall people are at its ``top`` row (by
    ``heights``), the smallest: 2 x 2 when they are at least ``OPENED_FROM[1]`` px, two rows
    when at least ``OPENED_FROM[0]`` px, else (or when unknown) none.

    Opening drops the 1-px fringes of anti-aliased lines, but where people are a few pixels
    tall, blur or JPEG leaves rows of them one pixel thick: there the opening erased faded
    heads and legs and whole players.
    """
    if heights is None:
        return None
    smallest = float(np.interp(top, *heights))
    if smallest >= OPENED_FROM[1]:
        return kernel(2)
    return kernel(1, 2) if smallest >= OPENED_FROM[0] else None


def _on_pitch(
    boxes: list[list[int]], ids: list[int], ctx: PluginContext
) -> tuple[list[list[int]], list[int]]:
    """The boxes whose feet (bottom middle) stand on the pitch or near it, through a good
    homography of pitch_detection (quality :data:`ON_PITCH_QUALITY` or more): a box is dropped
    when its feet, and its feet moved :data:`ON_PITCH_SLACK_PX` pixels any way, are all
    beyond :func:`~realtime_nb.vision.plugins.pitch_model.beyond_pitch`'s margin (at the far
    touchline of a small frame a metre is a pixel or less). All of them without such a
    homography. Advertising boards and the stand beyond the far touchline, green or not, are
    no one."""
    homography = _good_homography(ctx)
    if homography is None or not boxes:
        return boxes, ids
    inverse = _inverse(homography)
    feet = np.array([[(b[0] + b[2]) / 2, b[3]] for b in boxes], np.float64)
    # The feet and the feet moved each way, projected in one call: (5, boxes, 2).
    moved = feet[None] + ON_PITCH_SLACK_PX * _STEPS[:, None]
    beyond = beyond_pitch(project(inverse, moved.reshape(-1, 2))).reshape(len(_STEPS), -1)
    dropped = [bool(v) for v in np.logical_and.reduce(beyond, axis=0).tolist()]
    return _without(boxes, ids, dropped)


_STEPS = np.array([(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)], np.float64)
"""Where :func:`_on_pitch` looks at a box's feet: where they are, and a step each way."""


def _not_paint(
    frame: Frame,
    boxes: list[list[int]],
    ids: list[int],
    ctx: PluginContext,
    away: GrassDistance,
    heights: Heights,
    standing: list[npt.NDArray[np.bool_]],
) -> tuple[list[list[int]], list[int]]:
    """The boxes that are not line paint (:func:`on_paint`), through a homography of
    pitch_detection of quality :data:`ON_PITCH_QUALITY` or more, with people's ``heights``
    at each row (:func:`_homography_heights`, or :func:`_model_heights` where the
    homography's are not usable) for the scale of a metre; all of them without such a
    homography. ``standing``: each box's pixels that stand out from the grass
    (:func:`_standing_out_masks`)."""
    homography = _good_homography(ctx)
    # The type allows no heights; _model_heights always gives them.
    if homography is None or not boxes or heights is None:
        return boxes, ids
    found = {id(box): mask for box, mask in zip(boxes, standing, strict=True)}

    def stand_out(box: list[int]) -> npt.NDArray[np.bool_]:
        return found[id(box)]

    paint = on_paint(
        frame,
        boxes,
        stand_out,
        homography,
        np.asarray(away.grass[:3], np.float64),
        _heights_at(boxes, heights),
    )
    return _without(boxes, ids, paint)


def _standing_out(
    boxes: list[list[int]], ids: list[int], away: GrassDistance
) -> tuple[list[list[int]], list[int]]:
    """The boxes at least :data:`STANDING_OUT_SHARE` of whose pixels stand out from the grass
    (:meth:`~realtime_nb.vision.plugins.players_boxes.GrassDistance.standing_out`): a blob of
    grass the grass test missed (shaded and paler than the grass's mean, or a line across
    such a shade, neither grass nor paint to the masks) has none that do."""
    return _standing_out_masks(boxes, ids, away)[:2]


def _standing_out_masks(
    boxes: list[list[int]], ids: list[int], away: GrassDistance
) -> tuple[list[list[int]], list[int], list[npt.NDArray[np.bool_]]]:
    """:func:`_standing_out`, and which pixels of each box kept stand out (for
    :func:`_not_paint`, which reads them again)."""
    kept_boxes, kept_ids, masks = [], [], []
    for box, k in zip(boxes, ids, strict=True):
        mask = away.standing_out(box)
        # The share as np.mean gives it (the count over the size, in float64), without its
        # Python-level path; a box of no pixel (NaN to np.mean) is kept.
        if mask.size and np.count_nonzero(mask) / mask.size < STANDING_OUT_SHARE:
            continue
        kept_boxes.append(box)
        kept_ids.append(k)
        masks.append(mask)
    return kept_boxes, kept_ids, masks


STANDING_OUT_SHARE = 0.05
"""Least share of a box's pixels that stand out from the grass for it to be someone
(:func:`_standing_out`). On broadcast tuning clips (random seeds 300-319), 702 of the 1,332
boxes over no one had under 5 % of such pixels (most none: a stadium's shade over the far
half of the pitch, and the lines across it), and 64 of 19,460 boxes over someone. Player
P / R on clips 300-309 went from 0.796 / 0.765 to 0.849 / 0.760, on 310-319 from 0.924 /
0.892 to 0.928 / 0.892; on eight synthetic tuning looks no row fell and two rose by 0.001
to 0.002 (P). 0.03 gave 0.844 / 0.763 on 300-309, 0.08 0.857 / 0.755."""


def _good_homography(
    ctx: PluginContext, least: float | None = None
) -> npt.NDArray[np.float64] | None:
    """pitch_detection's homography when its quality is ``least`` or more (by default
    :data:`ON_PITCH_QUALITY`)."""
    found = ctx.results.get("pitch_detection") or {}
    raw = found.get("homography")
    least = ON_PITCH_QUALITY if least is None else least
    if raw is None or float(found.get("quality") or 0.0) < least:
        return None
    return np.asarray(raw, np.float64)


def _without(
    boxes: list[list[int]], ids: list[int], dropped: list[bool]
) -> tuple[list[list[int]], list[int]]:
    """``boxes`` and their blob ``ids`` but those ``dropped``."""
    kept = [k for k in range(len(boxes)) if not dropped[k]]
    return [boxes[k] for k in kept], [ids[k] for k in kept]


ON_PITCH_QUALITY = 0.8
"""Least quality of pitch_detection's homography for :func:`_on_pitch` to drop anyone: a
rough one's scale at the far touchline is off by metres."""

BAND_QUALITY = 0.6
"""Least quality of pitch_detection's homography for line-like pixels off every marking
(:func:`~realtime_nb.vision.plugins.players_markings.marking_band`) to count as a person's."""

BAND_COVERAGE = 0.25
"""Least share of the line-like pixels inside the markings' band for the band to be used: the
lines are most of them wherever markings are in view, white kits the rest."""

ON_PITCH_SLACK_PX = 3.0
"""Pixels a box's feet may be off (the box's bottom row, blur) in :func:`_on_pitch`."""


_ALONG_THE_MIDDLE = np.concatenate(
    [np.column_stack([np.full(9, x), np.linspace(68.0, 0.0, 9)]) for x in (52.5, 53.5)]
)
"""Nine points across the pitch's middle, far touchline to near, then the same a metre on:
where :func:`_homography_heights` measures a metre."""


def _homography_heights(ctx: PluginContext, column: float | None = None) -> Heights:
    """How tall people standing at image rows are through pitch_detection's homography, as
    (rows, heights in px), both growing: a :data:`PERSON_HEIGHT_M` person along the pitch's
    middle, from the far touchline to the near; None without a homography, or where it does
    not give rows growing toward the near touchline (or finite heights).

    A metre is measured along the pitch's length there, or, given an image ``column``, across
    the image at that column on the same rows (the ground between two pixels side by side). A
    camera panned toward one goal sees the pitch's length obliquely: a metre along it runs
    partly away from the camera, and its image takes in a step across rows as well, longer
    than a metre across the image at that depth. On the synthetic match panned 40 m (random
    seed 14, its truth homography) the pitch's length said people were 1.15 to 1.18 times as
    tall as drawn (head to soles), across the image 0.99 to 1.00 times; on the default 25 m
    pan 1.04 to 1.06 and 0.97 to 0.98. Without roll every pixel of a row is at the same
    depth, so the column matters little; the frame's middle one keeps the rows in view."""
    raw = (ctx.results.get("pitch_detection") or {}).get("homography")
    if raw is not None:
        homography = np.asarray(raw, np.float64)
        middle = _middle_through(homography)
        if middle is None:
            return None
        base, ahead = middle
        rows = base[:, 1]
        # Rows growing: each after the one before (np.diff's test, without its wrapper).
        if not (rows[1:] > rows[:-1]).all():
            return None
        sizes = (
            PERSON_HEIGHT_M * lengths(ahead - base)
            if column is None
            else _across(homography, rows, column)
        )
        if sizes is not None and np.isfinite(sizes).all():
            return rows, sizes
    return None


_last_middle: tuple[bytes, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None] = (
    b"",
    None,
)
"""The last homography :func:`_middle_through` was given (its bytes), and what it gave."""


def _middle_through(
    homography: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """:data:`_ALONG_THE_MIDDLE` through ``homography``: the nine points, then the nine a
    metre on (read-only); None when the homography is not finite. Kept for the last
    homography: :func:`_homography_heights` is asked twice a frame (along the pitch, then
    across the image)."""
    global _last_middle
    key = homography.tobytes()
    last = _last_middle  # read once: another thread may replace it meanwhile
    if last[0] == key:
        return last[1]
    found = None
    if np.isfinite(homography).all():
        projected = project(homography, _ALONG_THE_MIDDLE)
        projected.setflags(write=False)
        base, ahead = projected.reshape(2, 9, 2)
        found = base, ahead
    _last_middle = key, found
    return found


_last_inverse: tuple[bytes, npt.NDArray[np.float64] | None] = (b"", None)
"""The last homography :func:`_inverse` was given (its bytes), and its inverse."""


def _inverse(homography: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The inverse of ``homography`` (read-only; np.linalg.LinAlgError when it has none),
    kept for the last homography: :func:`_on_pitch` and :func:`_across` both ask for it."""
    global _last_inverse
    key = homography.tobytes()
    last = _last_inverse  # read once: another thread may replace it meanwhile
    if last[0] == key and last[1] is not None:
        return last[1]
    inverse = np.asarray(np.linalg.inv(homography), np.float64)
    inverse.setflags(write=False)
    _last_inverse = key, inverse
    return inverse


def _across(
    homography: npt.NDArray[np.float64], rows: npt.NDArray[np.float64], column: float
) -> npt.NDArray[np.float64] | None:
    """A :data:`PERSON_HEIGHT_M` person's height (px) at image ``column`` on each of ``rows``:
    metres between the ground under the pixels half a pixel either side (through the inverse
    of ``homography``), per pixel. None when the homography has no inverse; a row beyond the
    horizon gives a height that is not finite."""
    try:
        inverse = _inverse(homography)
    except np.linalg.LinAlgError:
        return None
    # The pixels half a pixel left of the column on every row, then right of it.
    sides = np.empty((2, len(rows), 2))
    sides[0, :, 0], sides[1, :, 0] = column - 0.5, column + 0.5
    sides[:, :, 1] = rows
    left, right = project(inverse, sides).reshape(2, len(rows), 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        sizes: npt.NDArray[np.float64] = PERSON_HEIGHT_M / lengths(right - left)
    return sizes


def _model_heights(model: HeightModel | None, rows: int) -> Heights:
    """How tall people standing at image rows are by the height model of earlier frames' lone
    people over the frame's ``rows``, else as in a broadcast view (:data:`FAR_SHARE`)."""
    ends = np.array([0.0, rows - 1.0])
    if model is None:
        # Before either, a broadcast view's: people at the far touchline are about a
        # twentieth of the frame's rows tall (18 px at 360 rows, 9 at 180).
        return ends, np.full(2, rows / FAR_SHARE)
    return ends, model[0] * ends + model[1]


def _with_pale_parts(
    candidates: Mask, line: Mask, region: Mask, buffers: Buffers | None = None
) -> Mask:
    """``candidates`` with the ``line``-like pixels within ``region`` that belong to people
    put back: white shorts and socks between parts of a person, and white kits (written into
    ``buffers`` when given, else into a new array)."""
    h, w = candidates.shape
    # White shorts and socks look like line pixels; they are put back where they lie between
    # parts of a person above and below (shirt and legs, legs and boots), which a line seldom
    # does.
    # Every other row is enough to find them, at a quarter of the cost of a full-size closing.
    reach = max(3, round(0.03 * h)) | 1
    half = np.ascontiguousarray(candidates[::2])
    # The closing's dilation, kept: a dilation by a rectangle is one by its column and then
    # by its row, so the 3-column one below starts from it.
    tall = cv2.dilate(half, kernel(1, reach))
    sandwiched = cv2.erode(tall, kernel(1, reach))
    # A white kit is line-like from head to boots under motion blur; unlike a line it is as
    # thick as several rows and columns at once, and short: what stays of the line mask after
    # a thick opening, away from long vertical runs of it (a near-vertical line), goes back
    # where it lies within the reach above of pixels of a person (a face, boots); a curved line
    # that a player stands on would otherwise join the player and pass for another person.
    pale = np.ascontiguousarray(line[::2])
    thick = cv2.morphologyEx(
        pale, cv2.MORPH_OPEN, kernel(max(3, round(w / 128)), max(2, round(0.012 * h)))
    )
    thick = cv2.bitwise_and(thick, cv2.dilate(tall, kernel(3, 1)))
    # Most frames have no thick pale parts near a person: the long runs are looked for only
    # when there are.
    if cv2.countNonZero(thick):
        # Long runs from every fourth row: half the work of every other row, as sure for a
        # line.
        quarter = np.ascontiguousarray(line[::4])
        runs = cv2.morphologyEx(quarter, cv2.MORPH_OPEN, kernel(1, max(2, round(0.03 * h))))
        long = np.ascontiguousarray(np.repeat(runs, 2, axis=0)[: pale.shape[0]])
        thick = cv2.subtract(thick, cv2.dilate(long, kernel(7, 9)))
        sandwiched = cv2.bitwise_or(sandwiched, thick)
    # The masks below are worked in place: fewer frame-sized buffers taken and given back.
    # Each row of every other one twice (np.repeat's rows), into the kept buffer.
    put_back = (Buffers() if buffers is None else buffers).get("pale_too", (h, w))
    if h % 2 == 0:
        # Both rows of each pair in one broadcast copy, not a copy for each.
        np.copyto(put_back.reshape(h // 2, 2, w), sandwiched[:, None, :])
    else:
        put_back[0::2] = sandwiched
        put_back[1::2] = sandwiched[: h // 2]
    put_back = cv2.bitwise_and(put_back, line, dst=put_back)
    put_back = cv2.bitwise_and(put_back, region, dst=put_back)
    return np.asarray(cv2.bitwise_or(candidates, put_back, dst=put_back), np.uint8)


PEOPLE_TALLEST_SHAPE = 8.0
"""The most times as tall as wide a fitted box of people may be (:func:`_person_shaped`). A
lone person is some 3 to 4 times, more with arms in or cut by the frame's side; two far people
one above the other at 320x180, once the fit has cut a blob's halo off its sides (the blob as
found is at most 6 times as tall as wide, :func:`_person_blobs`), are 6 to 8 times, and
:func:`_split_stacked` parts them later. It was 6, which dropped such pairs whole, the most
common way far people were lost at 320x180 on tuning clips (2 s, random seeds 13-20, JPEG 45:
P / R 0.932 / 0.935 -> 0.932 / 0.940; broadcast clips 300-309 0.891 / 0.816 -> 0.890 /
0.826). 10 kept the same people as 8 and a few more boxes of nobody; 7 fewer people. The same
8 for blobs as found too raised recall on tuning clips but moved the ball's wrong rate on six
held-out rows the wrong way (docs/accuracy.md), and was taken back."""


def _person_shaped(boxes: list[list[int]], ids: list[int]) -> tuple[list[list[int]], list[int]]:
    """The boxes shaped like people once grown: at least 6 px tall, 0.7 to
    :data:`PEOPLE_TALLEST_SHAPE` times as tall as wide."""
    kept = [
        (box, k)
        for box, k in zip(boxes, ids, strict=True)
        if box[3] - box[1] >= 5
        and 0.7 <= (box[3] - box[1] + 1) / (box[2] - box[0] + 1) <= PEOPLE_TALLEST_SHAPE
    ]
    return [b for b, _ in kept], [k for _, k in kept]


def _split_stacked(
    boxes: list[list[int]],
    ids: list[int],
    labels: Labels,
    model: HeightModel | None,
) -> tuple[list[list[int]], list[int]]:
    """Split each blob taller than 1.45 lone people into the nearest person and one behind.

    The nearest person's feet are the blob's bottom and their height comes from ``model``; the
    person behind stands where a lone person's height reaches the blob's top. That person is
    at most one tall, so a blob is cut once: of three people one behind another, the middle
    one gets no box of their own.
    """
    if model is None:
        return boxes, ids
    a, b, _ = model
    out_boxes, out_ids = [], []
    for box, label in zip(boxes, ids, strict=True):
        _, y1, _, y2 = box
        expected = a * y2 + b
        if y2 - y1 + 1 <= 1.45 * expected or expected < 6:
            out_boxes.append(box)
            out_ids.append(label)
            continue
        pieces = _stacked_pieces(box, label, labels, model)
        out_boxes.extend(pieces)
        out_ids.extend([label] * len(pieces))
    return out_boxes, out_ids


def _stacked_pieces(
    box: list[int], label: int, labels: Labels, model: HeightModel
) -> list[list[int]]:
    """The boxes of the nearest person of a blob taller than one (feet on the blob's bottom,
    as tall as ``model`` says there) and of the one behind (standing where a lone person's
    height reaches the blob's top), nearest first, each over the blob's columns in its rows;
    a piece under 6 rows or with no pixel of the blob is left out."""
    a, b, _ = model
    x1, y1, x2, y2 = box
    expected = a * y2 + b
    near_top = round(y2 - expected + 1)
    # The far person's feet: the row where a lone person standing there reaches y1,
    # which may lie above the nearer person's head (grass between the two), never below
    # the nearer person's waist (it covers their feet otherwise), and at least a few rows
    # under y1 (a height model under zero up there would put it above). A person with
    # feet at row f spans rows f - (a * f + b) + 1 to f.
    feet = (y1 + b - 1) / (1 - a)
    spans = [(near_top, y2), (y1, round(min(max(feet, y1 + 5), near_top + 0.6 * expected)))]
    blob = labels[:, x1 : x2 + 1] == label
    pieces = []
    for top, bottom in spans:
        cols = np.flatnonzero(blob[top : bottom + 1].any(axis=0))
        if len(cols) == 0 or bottom - top < 5:
            continue
        pieces.append([x1 + int(cols[0]), top, x1 + int(cols[-1]), bottom])
    return pieces


def _split_side_by_side(
    boxes: list[list[int]],
    ids: list[int],
    labels: Labels,
    model: HeightModel | None,
) -> tuple[list[list[int]], list[int]]:
    """Split blobs as wide as two or three people at the emptiest columns near the even cuts."""
    if model is None:
        return boxes, ids
    a, b, ratio = model
    out_boxes, out_ids = [], []
    for box, label in zip(boxes, ids, strict=True):
        x1, y1, x2, y2 = box
        bw = x2 - x1 + 1
        expected = ratio * (a * y2 + b)
        if expected < 3 or bw <= 1.7 * expected:
            out_boxes.append(box)
            out_ids.append(label)
            continue
        n = min(3, max(2, round(bw / expected)))
        blob = labels[y1 : y2 + 1, x1 : x2 + 1] == label
        counts = blob.sum(axis=0)
        reach = max(1, round(expected / 3))
        cuts = [0]
        for k in range(1, n):
            even = round(k * bw / n)
            lo, hi = max(cuts[-1] + 2, even - reach), min(bw - 2, even + reach)
            if lo >= hi:
                continue
            cuts.append(lo + int(np.argmin(counts[lo:hi])))
        if len(cuts) == 1:  # no room for a cut: the box stays as it was grown
            out_boxes.append(box)
            out_ids.append(label)
            continue
        cuts.append(bw)
        for left, right in itertools.pairwise(cuts):
            rows = np.flatnonzero(blob[:, left:right].any(axis=1))
            if right - left < 2 or len(rows) < 6:
                continue
            out_boxes.append([x1 + left, y1 + int(rows[0]), x1 + right - 1, y1 + int(rows[-1])])
            out_ids.append(label)
    return out_boxes, out_ids
