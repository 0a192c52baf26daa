"""Tests of what ball_detection knows before it looks (realtime_nb.vision.plugins.ball_scene):
the ball's size from the homography or the people, markings and spots, kit and feet."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime_nb.vision.plugins import PluginContext, VideoInfo
from realtime_nb.vision.plugins.ball_scene import (
    CROWD,
    DOUBTFUL_FACTOR,
    FEET_SIDE_SHARE,
    JUNCTION_FACTOR,
    LEGS_BELOW,
    LEGS_SHARE,
    LINE_FLECK_FROM_PX,
    LINE_FLECK_SHARE,
    ON_LINE_AT_FEET_FACTOR,
    ON_LINE_FACTOR,
    BallScene,
    a_markings_fleck,
)

TOP_DOWN = [[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 1.0]]  # 10 px per metre, from above


def _one_box_scene(box: list[int], quality: float) -> BallScene:
    """The scene of one person's ``box`` on a 1050x680 frame seen from above (:data:`TOP_DOWN`),
    through a homography of ``quality``."""
    results = {"pitch_detection": {"homography": TOP_DOWN, "quality": quality},
               "player_detection": {"detections": [{"box": box}]}}  # fmt: skip
    return BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))


@pytest.mark.parametrize(
    ("box", "quality", "bottom"),
    [
        ([100, 100, 104, 108], 0.99, 100 + 0.9 * 18),  # a shirt alone: taken to the feet
        # 14 of 18 px: a person ends no higher than 0.9 of one standing there, and motion
        # blur fades the legs of a box into the grass.
        ([100, 100, 104, 114], 0.99, 100 + 0.9 * 18),
        ([100, 100, 104, 116], 0.99, 116),  # a whole person (16 of 18 px): kept
        ([100, 100, 104, 108], 0.5, 108),  # a rough homography: kept
        ([100, 0, 104, 8], 0.99, 8),  # cut by the frame's top edge: its feet are at its bottom
    ],
)
def test_boxes_cut_at_the_waist_reach_the_feet(
    box: list[int], quality: float, bottom: float
) -> None:
    scene = _one_box_scene(box, quality)
    assert scene.people[0][3] == pytest.approx(bottom)


def test_a_box_the_frames_top_edge_cuts_has_a_whole_persons_feet_zone() -> None:
    # 40 px a metre: a person is 72 px tall. A player running along the top edge of a close
    # camera's frame shows only their legs, 24 rows: the ball at their boots, 8 px above the
    # box's bottom or 6 px beside it, is at their feet (a zone sized by the 72 px person, not
    # by the 24 rows). A box as short away from the edge is a person cut at the waist: taken
    # down to the feet, and the first point there is their kit, the second not at their feet.
    scale = [[40.0, 0.0, 0.0], [0.0, 40.0, 0.0], [0.0, 0.0, 1.0]]

    def scene_of(box: list[int]) -> BallScene:
        results = {"pitch_detection": {"homography": scale, "quality": 0.99},
                   "player_detection": {"detections": [{"box": box}]}}  # fmt: skip
        info = VideoInfo(1920, 1080, 25, None)
        return BallScene.of(PluginContext(0, "f-000000", results, {}, info))

    cut = scene_of([100, 0, 110, 24])
    assert cut.people == [[100, 0, 110, 24]]
    at_the_boots = np.array([[105.0, 16.0], [116.0, 22.0]])
    assert cut.at_feet(at_the_boots).all()
    kit, feet = cut.places(at_the_boots)
    assert feet.all() and not kit.any()
    lower = scene_of([100, 300, 110, 324])
    assert lower.people[0][3] == pytest.approx(300 + 0.9 * 72)
    kit, feet = lower.places(at_the_boots + np.array([0.0, 300.0]))
    assert kit[0] and not feet.any()


def test_the_people_are_the_part_that_stands_out_where_a_box_was_widened() -> None:
    # player_detection widens a narrow body to a person's shoulders and gives the body too:
    # the kit and feet tests read the body.
    results = {"player_detection": {"detections": [
        {"box": [98, 100, 106, 126], "body": [100, 100, 104, 126]}, {"box": [200, 100, 208, 126]}]}}  # fmt: skip
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(640, 360, 25, None)))
    assert scene.people == [[100, 100, 104, 126], [200, 100, 208, 126]]
    kit, _ = scene.places(np.array([[98.0, 110.0], [106.0, 110.0], [102.0, 110.0]]))
    assert kit.tolist() == [False, False, True]


def test_a_goalkeeper_shorter_than_a_person_is_doubtful_not_kit() -> None:
    # 10 px a metre: a person is 18 px tall. The ball and a line it touches, taken for an
    # off-colour jersey, make a short goalkeeper's box: a candidate there is not kit, and
    # counts for less; a goalkeeper as tall as a person, and a short player, are people.
    short_keeper, keeper, short_player = (
        [400, 200, 403, 206],
        [500, 200, 504, 217],
        [300, 200, 303, 206],
    )
    results = {"pitch_detection": {"homography": TOP_DOWN, "quality": 0.99},
               "player_detection": {"detections": [
                   {"box": short_keeper, "class": "goalkeeper"}, {"box": keeper, "class": "goalkeeper"},
                   {"box": short_player, "class": "player"}]}}  # fmt: skip
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    assert scene.doubtful == [short_keeper]
    assert [b[:2] for b in scene.people] == [keeper[:2], short_player[:2]]
    kit, _ = scene.places(np.array([[401.5, 203.0], [502.0, 205.0], [301.5, 203.0]]))
    assert kit.tolist() == [False, True, True]
    in_box, open_grass = ((401.5, 203.0), 2.0, 0.8), ((420.0, 203.0), 2.0, 0.8)
    kept = scene.plausible([in_box, open_grass])
    assert kept[0][2] == pytest.approx(DOUBTFUL_FACTOR * kept[1][2])
    # Through a rough homography no person's height is trusted: every box is kit as before.
    results["pitch_detection"]["quality"] = 0.5  # type: ignore[index]
    rough = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    assert rough.doubtful == [] and len(rough.people) == 3


def test_a_candidate_on_a_marking_counts_for_less() -> None:
    results = {"pitch_detection": {"homography": TOP_DOWN, "quality": 0.99}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    on_halfway, open_grass = ((525.0, 200.0), 2.0, 0.8), ((400.0, 200.0), 2.0, 0.8)
    kept = scene.plausible([on_halfway, open_grass])
    assert [c[0] for c in kept] == [on_halfway[0], open_grass[0]]
    assert kept[0][2] == pytest.approx(ON_LINE_FACTOR * kept[1][2])
    assert ON_LINE_FACTOR < ON_LINE_AT_FEET_FACTOR < 1.0
    # At someone's feet, a ball played over the line is the usual case: it counts for more.
    results["player_detection"] = {"detections": [{"box": [520, 150, 530, 200]}]}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    at_feet = ((525.0, 199.0), 2.0, 0.8)
    kept = scene.plausible([at_feet, open_grass])
    assert kept[0][2] == pytest.approx(ON_LINE_AT_FEET_FACTOR * kept[1][2])


def test_a_candidate_on_a_marking_narrower_than_the_ball_is_the_markings_fleck() -> None:
    # 40 px a metre from above: a 0.11 m ball is 4.4 px in radius. The penalty area's line
    # (16.5 m from the goal line) runs down the frame at x = 660 px.
    scale = 40.0
    results = {"pitch_detection": {"homography": [[scale, 0.0, 0.0], [0.0, scale, 0.0],
                                                  [0.0, 0.0, 1.0]], "quality": 0.99}}  # fmt: skip
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    want = 0.11 * scale
    assert scene.expected_radius(np.array([[660.0, 640.0]]))[0] == pytest.approx(want)
    assert want >= LINE_FLECK_FROM_PX
    narrow, ball = LINE_FLECK_SHARE * want - 0.3, LINE_FLECK_SHARE * want + 0.3
    on_line, open_grass = (660.0, 640.0), (600.0, 640.0)
    kept = scene.plausible(
        [(on_line, narrow, 0.8), (on_line, ball, 0.8), (open_grass, narrow, 0.8)]
    )
    # The narrow one on the line is gone; as wide as a ball it is kept, scaled as on a line;
    # off the markings its size only scales it.
    assert [(c[0], c[1]) for c in kept] == [(on_line, ball), (open_grass, narrow)]
    alone = scene.plausible([(open_grass, ball, 0.8)])
    assert kept[0][2] == pytest.approx(ON_LINE_FACTOR * alone[0][2])
    # Where the ball is under LINE_FLECK_FROM_PX (10 px a metre: 1.1 px, taken as 2), a
    # small candidate on a marking stays: there the size does not tell.
    results["pitch_detection"]["homography"] = TOP_DOWN
    small = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(1050, 680, 25, None)))
    on_halfway = (525.0, 200.0)
    assert [c[0] for c in small.plausible([(on_halfway, 1.0, 0.8)])] == [on_halfway]


def test_without_a_homography_the_people_give_the_ball_size() -> None:
    tall = [[10.0 * k, 50.0, 10.0 * k + 30.0, 50.0 + 160.0] for k in range(4)]  # 160 px people
    assert BallScene(None, tall).typical_radius(640, 360) == pytest.approx(160 * 0.11 / 1.8)
    assert BallScene(None, tall[:2]).typical_radius(640, 360) == 2.0  # too few to trust
    small = [[10.0 * k, 50.0, 10.0 * k + 5.0, 50.0 + 20.0] for k in range(4)]
    assert BallScene(None, small).typical_radius(640, 360) == 2.0  # never below the usual 2 px


def test_kit_is_taken_out_of_the_search_region_but_not_the_feet() -> None:
    results = {"player_detection": {"detections": [{"box": [40, 10, 50, 50]}]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    region = scene.without_kit(np.full((80, 120), 255, np.uint8))
    assert region[30, 45] == 0  # the shirt
    assert region[49, 45] == 255  # the feet, where the ball is played
    assert region[30, 80] == 255  # the grass beside


def test_a_ball_beside_the_boots_is_at_the_feet() -> None:
    # A box 40 px tall (y2 - y1): the feet zone reaches 1 + FEET_SIDE_SHARE x 40 px beside
    # the box's sides, where a ball played beside the boot has its centre.
    results = {"player_detection": {"detections": [{"box": [40, 10, 50, 50]}]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    reach = 1 + FEET_SIDE_SHARE * 40
    near, far = 50 + 0.6 * reach, 50 + reach + 1.5
    points = np.array([[near, 48], [40 - 0.6 * reach, 48], [far, 48], [near, 30]], np.float64)
    kit, at_feet = scene.places(points)
    assert at_feet.tolist() == [True, True, False, False]
    assert not kit.any()  # beside the box is never kit


def test_a_sock_beside_a_striding_leg_is_by_the_feet_not_at_them() -> None:
    # A box 40 px tall whose bottom is y 50: its feet zone reaches FEET_SHARE x 40 px above
    # the bottom; beside the box, by_feet reaches LEGS_SHARE x 40 px (10 px) above it, where a
    # leg stretched out past the box's side shows its sock.
    results = {"player_detection": {"detections": [{"box": [40, 10, 50, 50]}]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    beside = 50 + 0.5 * (1 + FEET_SIDE_SHARE * 40)
    low, high = 50 - 0.8 * LEGS_SHARE * 40, 50 - 1.2 * LEGS_SHARE * 40
    points = np.array(
        [[beside, low], [40 - (beside - 50), low], [beside, high], [beside, 49], [beside, 30]],
        np.float64,
    )
    assert scene.by_feet(points).tolist() == [True, True, False, True, False]
    assert scene.at_feet(points).any(axis=1).tolist() == [False, False, False, True, False]
    assert not scene.places(points)[0].any()  # beside the box: not kit either way
    assert scene.by_feet(np.zeros((0, 2))).tolist() == []


def test_a_sock_under_a_box_that_ends_above_the_feet_is_by_them() -> None:
    # A box 40 px tall ending at y 50, above its person's white socks: under it, by_feet
    # reaches LEGS_BELOW x 40 px (20 px), the feet zone FEET_SHARE x 40 px.
    results = {"player_detection": {"detections": [{"box": [40, 10, 50, 50]}]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    near, far = 50 + 0.8 * LEGS_BELOW * 40, 50 + 1.2 * LEGS_BELOW * 40
    points = np.array([[45, near], [45, far], [45, 52]], np.float64)
    assert scene.by_feet(points).tolist() == [True, False, True]
    assert scene.at_feet(points).any(axis=1).tolist() == [False, False, True]


def test_nothing_is_by_the_feet_without_people() -> None:
    scene = BallScene.of(PluginContext(0, "f-000000", {}, {}, VideoInfo(120, 80, 25, None)))
    assert scene.by_feet(np.array([[10.0, 10.0]])).tolist() == [False]


def test_a_farther_persons_feet_inside_a_nearer_ones_box_are_feet() -> None:
    # A far person (box ends at y 40) whose feet, and the room beside them, are inside a near
    # one's box (ends at y 60): the ball played there is seen between or beside the near
    # one's legs, so it is not kit; the near one's shirt away from any feet is.
    boxes = [[30, 10, 40, 40], [38, 25, 52, 60]]
    results = {"player_detection": {"detections": [{"box": b} for b in boxes]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    points = np.array([[39, 39], [43, 38], [47, 40], [45, 59], [33, 39]], np.float64)
    kit, at_feet = scene.places(points)
    assert kit.tolist() == [False, False, True, False, False]
    assert at_feet.tolist() == [True, True, False, True, True]
    region = scene.without_kit(np.full((80, 120), 255, np.uint8))
    assert [region[round(y), round(x)] for x, y in points] == [255, 255, 0, 255, 255]


def test_the_feet_of_a_persons_upper_piece_are_on_its_kit() -> None:
    # A person's box split in two (shirt at x 80-90 above the legs at x 80-95): the upper
    # piece's "feet" are the lower piece's kit; a piece sharing little of the width is
    # someone else, whose feet are feet.
    boxes = [[80, 20, 90, 38], [80, 30, 95, 50], [92, 10, 100, 38]]
    results = {"player_detection": {"detections": [{"box": b} for b in boxes]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    points = np.array([[84, 37], [94, 37], [85, 49]], np.float64)
    kit, at_feet = scene.places(points)
    assert kit.tolist() == [True, False, False]
    assert at_feet.tolist() == [True, True, True]
    region = scene.without_kit(np.full((80, 120), 255, np.uint8))
    assert [region[round(y), round(x)] for x, y in points] == [0, 255, 255]


def _mask_and_kit(
    boxes: list[list[float]], width: int, height: int
) -> tuple[BallScene, np.ndarray, np.ndarray]:
    """The scene of ``boxes`` on a ``width`` x ``height`` frame, the mask ``without_kit`` leaves
    of a full region, and what ``places`` calls kit at every pixel (both flat, row by row)."""
    results = {"player_detection": {"detections": [{"box": b} for b in boxes]}}
    info = VideoInfo(width, height, 25, None)
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, info))
    region = scene.without_kit(np.full((height, width), 255, np.uint8))
    ys, xs = np.mgrid[0:height, 0:width]
    kit = scene.places(np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float64))[0]
    return scene, region.ravel(), kit


def test_the_mask_is_what_places_calls_kit() -> None:
    # Overlapping boxes of all kinds: every pixel the mask takes out is kit, and every kit
    # pixel is taken out.
    boxes = [
        [30, 10, 40, 40],
        [38, 25, 52, 60],
        [80, 20, 90, 38],
        [80, 30, 90, 50],
        [44, 5, 47, 30],
        [112, 40, 119, 62],  # a person cut in two at the frame's right and bottom edges
        [112, 55, 120, 80],
    ]
    _, region, kit = _mask_and_kit(boxes, 120, 80)
    assert kit.any()
    assert ((region == 0) == kit).all()


def test_the_mask_of_a_crowd_is_what_places_calls_kit() -> None:
    # A crowd of 150 overlapping boxes: without_kit asks each overlap about the people who
    # reach it only; places asks every person about every pixel. They must agree.
    rng = np.random.default_rng(7)
    boxes = []
    for _ in range(150):
        x, y, h = int(rng.integers(0, 310)), int(rng.integers(0, 165)), int(rng.integers(6, 24))
        boxes.append([x, y, x + max(2, h // 3), y + h])
    scene, region, kit = _mask_and_kit(boxes, 320, 180)
    assert len(boxes) > CROWD  # a crowd: the overlaps ask the people who reach them only
    assert (~scene._feet_win()).sum() > 150  # many pairs whose overlaps are asked about
    assert ((region == 0) == kit).all()


def test_the_mask_of_a_crowd_keeps_a_tiny_boxs_feet_above_its_head() -> None:
    # A box 1 px tall, whose feet zone reaches 3 px up, above its head room: it must be asked
    # about the overlap of the two people beside it (a near one and one above them) even
    # though its head room starts below that overlap. 41 boxes far away make it a crowd.
    people = [
        [200.0, 100.0, 230.0, 160.0],
        [205.0, 60.0, 225.0, 110.0],
        [229.6, 118.0, 231.6, 119.0],
    ]
    far = [[5.0 + 7 * i, 5.0, 8.0 + 7 * i, 20.0] for i in range(41)]
    boxes = people + far
    _, region, kit = _mask_and_kit(boxes, 320, 180)
    assert len(boxes) > CROWD
    assert not kit.reshape(180, 320)[116:118, 229:232].any()  # the tiny box's feet
    assert ((region == 0) == kit).all()


def test_a_farther_persons_feet_above_a_nearer_ones_head_are_feet() -> None:
    # A far person (box ends at y 40) stands just above a near one's head (box from y 42 to
    # 82, whose room for a missed head reaches up to y 36): the ball at the far one's feet is
    # seen there, over the near one's head, so it is not kit; above the near one's head away
    # from anyone's feet it is.
    boxes = [[30, 10, 40, 40], [30, 42, 40, 82]]
    results = {"player_detection": {"detections": [{"box": b} for b in boxes]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 100, 25, None)))
    points = np.array([[35, 39], [35, 41]], np.float64)
    kit, at_feet = scene.places(points)
    assert kit.tolist() == [False, False]
    assert at_feet.tolist() == [True, True]
    region = scene.without_kit(np.full((100, 120), 255, np.uint8))
    assert [region[round(y), round(x)] for x, y in points] == [255, 255]
    lone = BallScene.of(
        PluginContext(0, "f-000000", {"player_detection": {"detections": [{"box": boxes[1]}]}},
                      {}, VideoInfo(120, 100, 25, None))
    )  # fmt: skip
    assert lone.places(points)[0].tolist() == [True, True]
    assert lone.without_kit(np.full((100, 120), 255, np.uint8))[39, 35] == 0


def test_of_boxes_ending_on_one_row_the_mask_keeps_the_feet_places_keeps() -> None:
    # Two boxes end on row 40: the tall one's feet zone reaches above the short one's, into
    # the short one's body; a point there is at the tall one's feet, whatever the list order.
    boxes = [[30, 0, 40, 40], [35, 20, 50, 40]]
    point = np.array([[38, 36]], np.float64)
    for order in (boxes, boxes[::-1]):
        results = {"player_detection": {"detections": [{"box": b} for b in order]}}
        scene = BallScene.of(
            PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None))
        )
        kit, at_feet = scene.places(point)
        assert (kit.tolist(), at_feet.tolist()) == ([False], [True])
        assert scene.without_kit(np.full((80, 120), 255, np.uint8))[36, 38] == 255


@pytest.mark.parametrize(
    ("box", "at_the_feet"),
    [
        # 24 px where a person standing there is 18: the box holds the ball below the feet,
        # and the feet zone reaches 4.2 px higher than for a person's box.
        ([100, 100, 104, 124], True),
        ([100, 106, 104, 124], False),  # a person's height (18 px): 7 px up is the shorts
    ],
)
def test_a_box_taller_than_a_person_holds_the_ball_at_its_bottom(
    box: list[int], at_the_feet: bool
) -> None:
    scene = _one_box_scene(box, 0.99)
    kit, at_feet = scene.places(np.array([[102.0, 117.0]]))
    assert (kit.tolist(), at_feet.tolist()) == ([not at_the_feet], [at_the_feet])
    region = scene.without_kit(np.full((680, 1050), 255, np.uint8))
    assert (region[117, 102] == 255) == at_the_feet


@pytest.mark.parametrize(
    ("box", "quality", "kit"),
    [
        # A person standing at row 58 is 18 px tall (10 px a metre, from above): 2 px over a
        # box of that height is not their head, but the ball rolling past it.
        ([30, 40, 40, 58], 0.99, False),
        ([30, 42, 40, 58], 0.99, True),  # 2 px short of a person: room (2.4 px) for a head
        ([30, 40, 40, 58], 0.5, True),  # a rough homography: the whole share, as before
    ],
)
def test_above_a_box_as_tall_as_a_person_is_no_missed_head(
    box: list[int], quality: float, kit: bool
) -> None:
    scene = _one_box_scene(box, quality)
    point = np.array([[35.0, box[1] - 2.0]])
    assert scene.places(point)[0].tolist() == [kit]
    region = scene.without_kit(np.full((680, 1050), 255, np.uint8))
    assert (region[box[1] - 2, 35] == 0) == kit


def test_where_no_persons_height_is_known_the_head_room_is_the_whole_share() -> None:
    # A box whose bottom the homography gives no height for (beyond the horizon: NaN) keeps
    # HEAD_ROOM of its height, not NaN (which would blank the column above it in without_kit).
    from realtime_nb.vision.plugins.ball_scene import HEAD_ROOM

    scene = BallScene(np.asarray(TOP_DOWN, np.float64), [[30.0, 40.0, 40.0, 58.0]])
    scene.quality = 0.99
    scene._standing_heights = lambda boxes: np.full(len(boxes), np.nan)  # type: ignore[method-assign]
    assert scene.head_rooms().tolist() == [HEAD_ROOM * 18.0]


def test_where_two_markings_meet_a_candidate_counts_for_less() -> None:
    scene = BallScene(np.asarray(TOP_DOWN, np.float64), [])
    corner = (165.0, 138.4)  # the penalty box's corner, (16.5, 13.84) m
    on_its_line = (80.0, 138.4)  # the same line, 8.5 m from the corner
    kept = scene.plausible([(corner, 1.1, 0.9), (on_its_line, 1.1, 0.9)])
    assert [c[0] for c in kept] == [corner, on_its_line]
    assert kept[0][2] == pytest.approx(JUNCTION_FACTOR * kept[1][2])


def _pinhole(pan_deg: float, tilt_deg: float = 25.0, height: float = 10.0, focal: float = 900.0):
    """A camera ``height`` m over the pitch's point (0, -12), looking down ``tilt_deg`` and
    turned ``pan_deg`` from the pitch's y axis: its ground homography, its rotation and
    position, and its focal length in pixels (principal point 640, 360)."""
    pan, tilt = math.radians(pan_deg), math.radians(tilt_deg)
    forward = np.array([math.sin(pan) * math.cos(tilt), math.cos(pan) * math.cos(tilt),
                        -math.sin(tilt)])  # fmt: skip
    right = np.array([math.cos(pan), -math.sin(pan), 0.0])
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])
    centre = np.array([0.0, -12.0, height])
    shift = -rotation @ centre
    k = np.array([[focal, 0.0, 640.0], [0.0, focal, 360.0], [0.0, 0.0, 1.0]])
    homography = k @ np.c_[rotation[:, 0], rotation[:, 1], shift]
    return homography / homography[2, 2], rotation, centre, focal


@pytest.mark.parametrize("pan", [0.0, 25.0, 45.0])
def test_the_expected_radius_is_a_balls_size_seen_from_the_camera(pan: float) -> None:
    # A sphere's image is about focal * radius / depth whichever way the pitch's axes run;
    # a metre along or across the pitch, the longer of the two, falls short of it where
    # they run slantwise to the line of sight.
    homography, rotation, centre, focal = _pinhole(pan)
    scene = BallScene(homography, [])
    points = np.array([[640.0, 360.0], [500.0, 420.0], [780.0, 300.0]])
    pitch = scene.ground(points)
    assert pitch is not None
    depth = (np.c_[pitch, np.zeros(len(pitch))] - centre) @ rotation[2]
    seen = focal * 0.11 / depth
    assert scene.expected_radius(points) == pytest.approx(seen, rel=0.03)

    def image(p: np.ndarray) -> np.ndarray:
        q = np.c_[p, np.ones(len(p))] @ homography.T
        return np.asarray(q[:, :2] / q[:, 2:], np.float64)

    along = np.linalg.norm(image(pitch + np.array([1.0, 0.0])) - image(pitch), axis=1)
    across = np.linalg.norm(image(pitch + np.array([0.0, 1.0])) - image(pitch), axis=1)
    squared = 0.11 * np.maximum(along, across)
    if pan == 45.0:  # the pitch's axes at 45 degrees: both foreshortened
        assert (squared < 0.9 * seen).all()


def test_the_scene_answers_again_the_same_and_follows_new_people() -> None:
    scene = BallScene(np.asarray(TOP_DOWN), [])
    centres = np.array([[525.0, 200.0], [400.0, 330.0], [10.0, 10.0]])
    first = (scene.near_markings(centres), scene.near_junctions(centres))
    again = (scene.near_markings(centres), scene.near_junctions(centres))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert first[0][0] == pytest.approx(0.0, abs=1e-9)  # on the halfway line
    assert scene.typical_radius(1050, 680) == pytest.approx(1.1)  # 0.11 m at 10 px a metre
    without = BallScene(None, [])
    assert without.typical_radius(640, 360) == 2.0
    # Four people of 160 px: the size now comes from them, not from what was asked before.
    without.people = [[10.0 * k, 50.0, 10.0 * k + 30.0, 210.0] for k in range(4)]
    assert without.typical_radius(640, 360) == pytest.approx(160 * 0.11 / 1.8)
    assert without.typical_radius(1280, 720) == pytest.approx(160 * 0.11 / 1.8)


def test_no_ball_is_looked_for_beyond_the_pitch() -> None:
    results = {"pitch_detection": {"homography": TOP_DOWN, "quality": 0.99}}
    info = VideoInfo(1150, 760, 25, None)
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, info))
    on_pitch, just_out, on_a_board = ((400.0, 200.0), 1.1, 0.8), ((400.0, 695.0), 1.1, 0.8), (
        (400.0, 730.0), 1.1, 0.8)  # fmt: skip
    assert [c[0] for c in scene.plausible([on_pitch, just_out, on_a_board])] == [
        on_pitch[0],
        just_out[0],
    ]
    area = scene.pitch_area((760, 1150))
    assert area is not None
    # 3 m (30 px) around the 1050 x 680 px pitch.
    assert area[695, 400] == 255 and area[715, 400] == 0 and area[400, 1075] == 255
    assert area[400, 1085] == 0 and area[5, 5] == 255  # the corner's margin reaches -30 px
    assert BallScene(None, []).pitch_area((760, 1150)) is None


def test_the_balls_own_track_may_follow_it_beyond_the_pitch() -> None:
    # A ball in the air: its ground point runs past the margin; only where its track is
    # predicted, within the gate, is it looked for and kept there.
    results = {"pitch_detection": {"homography": TOP_DOWN, "quality": 0.99}}
    scene = BallScene.of(PluginContext(0, "f", results, {}, VideoInfo(1150, 760, 25, None)))
    up_in_the_air, on_a_board = ((400.0, 730.0), 1.1, 0.8), ((700.0, 730.0), 1.1, 0.8)
    scene.ball_next = ((402.0, 726.0), 12.0)
    assert [c[0] for c in scene.plausible([up_in_the_air, on_a_board])] == [up_in_the_air[0]]
    area = scene.pitch_area((760, 1150))
    assert area is not None and area[730, 400] == 255 and area[730, 700] == 0


@pytest.mark.parametrize("seed", range(5))
def test_near_junctions_is_the_least_length_to_a_projected_junction(seed: int) -> None:
    # The plain form: lengths of the differences to every junction through the homography,
    # NaN (behind the camera) counted as infinitely far; equal to the last bit.
    from realtime_nb.vision.plugins.ball_scene import _JUNCTIONS_M
    from realtime_nb.vision.plugins.pitch_model import lengths, project

    rng = np.random.default_rng(seed)
    homography = np.array([[8.0, 1.0, 100.0], [0.5, -3.0, 300.0], [0.001, 0.01, 1.0]])
    homography += rng.normal(0, [[0.5, 0.5, 5], [0.5, 0.5, 5], [0.002, 0.002, 0]])
    centres = rng.uniform(-50, 700, (17, 2))
    places = project(homography, _JUNCTIONS_M)
    plain = lengths(centres[:, None, :] - places[None])
    expected = np.where(np.isnan(plain), np.inf, plain).min(axis=1)
    found = BallScene(homography, []).near_junctions(centres)
    assert found.tolist() == expected.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_without_kit_in_place_is_without_kit_into_another_array(seed: int) -> None:
    # Overlapping people (feet zones on others' bodies, some won over and some not), some
    # past the frame's edges, on a region with holes: the mask changed in place is the same.
    rng = np.random.default_rng(seed)
    boxes = []
    for _ in range(12):
        x, y = rng.uniform(-10, 110), rng.uniform(-10, 70)
        boxes.append([x, y, x + rng.uniform(3, 15), y + rng.uniform(8, 30)])
    results = {"player_detection": {"detections": [{"box": b} for b in boxes]}}
    scene = BallScene.of(PluginContext(0, "f-000000", results, {}, VideoInfo(120, 80, 25, None)))
    region = np.where(rng.random((80, 120)) < 0.9, 255, 0).astype(np.uint8)
    expected = scene.without_kit(region, np.empty_like(region))
    assert (expected == 0).sum() > (region == 0).sum()  # some kit taken out
    changed = region.copy()
    assert scene.without_kit(changed, changed) is changed
    assert np.array_equal(changed, expected)


def _random_scene(seed: int) -> tuple[BallScene, np.ndarray]:
    """A scene of a slanted camera's homography and 12 overlapping people, and 40 points."""
    rng = np.random.default_rng(seed)
    homography = np.array([[8.0, 1.0, 100.0], [0.5, -3.0, 300.0], [0.001, 0.01, 1.0]])
    homography += rng.normal(0, [[0.5, 0.5, 5], [0.5, 0.5, 5], [0.002, 0.002, 0]])
    boxes = []
    for _ in range(12):
        x, y = rng.uniform(0, 300), rng.uniform(0, 200)
        boxes.append([x, y, x + rng.uniform(3, 30), y + rng.uniform(8, 60)])
    scene = BallScene(homography, boxes)
    scene.quality = 0.9
    return scene, rng.uniform(-10, 330, (40, 2))


@pytest.mark.parametrize("seed", range(4))
def test_the_feet_and_kit_tests_are_the_plain_per_box_arithmetic(seed: int) -> None:
    # Each person's edges are worked out once a scene; the answers are the plain form's, and
    # follow new people and a new quality (no answer kept from before).
    from realtime_nb.vision.plugins.ball_scene import HEAD_ROOM

    scene, points = _random_scene(seed)
    for step in range(3):
        boxes = np.asarray(scene.people, np.float64)
        x1, y1, x2, y2 = (boxes[:, i][None] for i in range(4))
        up, down = (r[None] for r in scene.feet_zones())
        side = 1.0 + FEET_SIDE_SHARE * (y2 - y1)
        x, y = points[:, :1], points[:, 1:]
        feet = (x1 - side <= x) & (x <= x2 + side) & (y2 - up <= y) & (y <= y2 + down)
        across = (x1 - 1 <= x) & (x <= x2 + 1)
        body = across & (y1 <= y) & (y < y2 - up)
        room = HEAD_ROOM * (y2 - y1)
        if scene.quality >= 0.8:
            lacking = scene._standing_heights(boxes)[None] - (y2 - y1)
            room = np.where(np.isnan(lacking), room, np.clip(lacking + 1, 0, room))
        above = across & (y1 - room <= y) & (y < y1)
        held = (feet.astype(int) @ scene._feet_win().astype(int)) > 0
        kit = (body & ~held).any(axis=1) | (above.any(axis=1) & ~feet.any(axis=1))
        assert np.array_equal(scene.at_feet(points), feet)
        found_kit, found_feet = scene.places(points)
        assert np.array_equal(found_kit, kit) and np.array_equal(found_feet, feet.any(axis=1))
        if step == 0:  # new people and a new quality, then a new quality alone
            scene.people = [[b[0] + 7.0, b[1], b[2] + 7.0, b[3] + 5.0] for b in scene.people]
        scene.quality = 0.5 if step == 0 else 0.9


@pytest.mark.parametrize("seed", range(4))
def test_the_expected_radius_is_the_plain_arithmetic_to_the_last_bit(seed: int) -> None:
    # The metre's image along and across the pitch, a * a + b * b + c * c + d * d and
    # a * d - b * c in that order, NaN kept (a point behind the camera).
    from realtime_nb.vision.plugins.ball_scene import BALL_RADIUS_M
    from realtime_nb.vision.plugins.pitch_model import project

    scene, points = _random_scene(seed)
    points[3] = [np.nan, 5.0]
    assert scene.homography is not None
    pitch = scene.ground(points)
    assert pitch is not None
    n = len(pitch)
    steps = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    mapped = project(scene.homography, (pitch[None] + steps[:, None]).reshape(-1, 2))
    (a, b), (c, d) = (mapped[n:2 * n] - mapped[:n]).T, (mapped[2 * n:] - mapped[:n]).T  # fmt: skip
    squares = a * a + b * b + c * c + d * d
    twice_area = 2.0 * (a * d - b * c)
    spread = np.sqrt(np.maximum(squares * squares - twice_area * twice_area, 0.0))
    plain = BALL_RADIUS_M * np.sqrt(0.5 * (squares + spread))
    found = scene.expected_radius(points)
    assert found.tobytes() == plain.tobytes() and np.isnan(found[3])


def test_a_point_with_every_marking_behind_the_camera_is_infinitely_far() -> None:
    from realtime_nb.vision.plugins.ball_scene import _root_of_least

    squares = np.array([[9.0, np.nan, 4.0], [np.nan, np.nan, np.nan], [np.inf, 16.0, np.nan]])
    assert _root_of_least(squares).tolist() == [2.0, math.inf, 4.0]


def test_the_root_of_the_least_square_is_the_least_root() -> None:
    from realtime_nb.vision.plugins.ball_scene import _root_of_least

    rng = np.random.default_rng(0)
    squares = rng.uniform(0.0, 1e4, (50, 40)) ** 2
    squares[rng.random((50, 40)) < 0.2] = np.nan
    roots = np.fmin.reduce(np.sqrt(squares), axis=1)
    assert _root_of_least(squares).tobytes() == np.where(np.isnan(roots), np.inf, roots).tobytes()


def test_one_point_beyond_the_pitch_is_beyond_pitchs_answer() -> None:
    from realtime_nb.vision.plugins.ball_scene import _beyond_pitch
    from realtime_nb.vision.plugins.pitch_model import OFF_PITCH_M, PITCH_LENGTH, beyond_pitch

    rng = np.random.default_rng(0)
    points = rng.uniform(-10, 120, (300, 2))
    edges = [-OFF_PITCH_M, PITCH_LENGTH + OFF_PITCH_M, 34.0]
    points = np.vstack([points, [[x, y] for x in edges for y in (-OFF_PITCH_M, 71.0, 30.0)]])
    expected = beyond_pitch(points).tolist()
    assert [_beyond_pitch(x, y) for x, y in points.tolist()] == expected
    assert any(expected) and not all(expected)


def test_without_a_homography_every_candidate_is_plausible_as_it_is() -> None:
    scene = BallScene(None, [[10.0, 10.0, 20.0, 40.0]])
    candidates = [((15.0, 41.0), 2.0, 0.8), ((300.0, 200.0), 40.0, 0.5)]
    assert scene.plausible(candidates) == candidates


@pytest.mark.parametrize("seed", range(6))
def test_a_few_points_measured_in_python_numbers_are_numpys_to_the_last_bit(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of one to four points, some behind the camera or above the horizon, some not a
    # number: the pitch points and radii of the Python path are the numpy path's.
    import realtime_nb.vision.plugins.ball_scene as ball_scene

    rng = np.random.default_rng(seed)
    homography = np.array([[8.0, 1.0, 100.0], [0.5, -3.0, 300.0], [0.001, 0.01, 1.0]])
    homography += rng.normal(0, [[2, 2, 50], [2, 2, 50], [0.004, 0.004, 0]])
    batches = [rng.uniform(-3000, 3000, (int(rng.integers(1, 5)), 2)) for _ in range(40)]
    batches.append(np.array([[np.nan, 3.0], [1.0, 2.0]]))
    answers = []
    for few in (ball_scene._FEW, 0):
        monkeypatch.setattr(ball_scene, "_FEW", few)
        scene = BallScene(homography, [])
        answers.append([(scene.ground(b), scene.expected_radius(b)) for b in batches])
    python, plain = answers
    for (ground, radius), (ground_plain, radius_plain) in zip(python, plain, strict=True):
        assert ground is not None and ground_plain is not None
        assert ground.tobytes() == ground_plain.tobytes()
        assert radius.tobytes() == radius_plain.tobytes()
    assert any(np.isnan(r).any() for _, r in python) and any(
        np.isfinite(r).any() for _, r in python
    )


@pytest.mark.parametrize("seed", range(3))
def test_the_listed_answers_are_the_arrays_answers(seed: int) -> None:
    scene, points = _random_scene(seed)
    kit, feet = scene.places_listed(points)
    assert [kit, feet] == [a.tolist() for a in scene.places(points)] and any(feet)
    assert scene.near_markings_listed(points) == scene.near_markings(points).tolist()
    alone = BallScene(None, [])
    assert alone.places_listed(points) == ([False] * len(points), [False] * len(points))
    assert alone.near_markings_listed(points[:2]) == [math.inf, math.inf]


@pytest.mark.parametrize("seed", range(6))
def test_the_pitch_area_is_the_projected_corners_rounded_half_to_even(seed: int) -> None:
    # The corners divided in Python numbers after project's product: the same whole pixels as
    # project and np.round, or None where project's are not finite or are too far away.
    from realtime_nb.vision.plugins.grass import polygon_mask
    from realtime_nb.vision.plugins.pitch_model import (
        OFF_PITCH_M,
        PITCH_LENGTH,
        PITCH_WIDTH,
        project,
    )

    rng = np.random.default_rng(seed)
    homography = np.array([[8.0, 1.0, 100.0], [0.5, -3.0, 300.0], [0.001, 0.01, 1.0]])
    homography += rng.normal(0, [[2, 2, 50], [2, 2, 50], [0.01, 0.01, 0]])
    m = OFF_PITCH_M
    corners = np.array(
        [
            [-m, -m],
            [PITCH_LENGTH + m, -m],
            [PITCH_LENGTH + m, PITCH_WIDTH + m],
            [-m, PITCH_WIDTH + m],
        ]
    )
    image = project(homography, corners)
    found = BallScene(homography, []).pitch_area((300, 500))
    if not np.isfinite(image).all() or np.abs(image).max() > 1e6:
        assert found is None
    else:
        assert found is not None
        assert np.array_equal(found, polygon_mask((300, 500), np.round(image).astype(np.int32)))


def test_a_markings_fleck_is_narrower_than_a_ball_with_pixels_of_its_own() -> None:
    want = LINE_FLECK_FROM_PX + 1.0
    assert a_markings_fleck(LINE_FLECK_SHARE * want - 0.01, want)
    assert not a_markings_fleck(LINE_FLECK_SHARE * want + 0.01, want)
    # Under LINE_FLECK_FROM_PX the ball's image is the optics' spread: no size tells a fleck.
    assert not a_markings_fleck(0.5, LINE_FLECK_FROM_PX - 0.01)
    assert a_markings_fleck(0.5, LINE_FLECK_FROM_PX)


def test_a_pixel_reaches_farther_on_the_ground_the_farther_and_more_slanted_it_is() -> None:
    # From above at 10 px a metre a pixel reaches 0.1 m each way; from a pinhole camera a
    # pixel near the horizon reaches farther than one at the frame's bottom (seen slantwise,
    # along the line of sight); without a homography, nothing is known.
    top_down = BallScene(np.array(TOP_DOWN), [])
    points = np.array([[100.0, 50.0], [300.0, 200.0]])
    assert top_down.pixel_ground(points) == pytest.approx([0.1, 0.1])
    homography, _, _, _ = _pinhole(0.0)
    slanted = BallScene(homography, [])
    far, near = slanted.pixel_ground(np.array([[640.0, 300.0], [640.0, 700.0]]))
    assert far > 2 * near > 0
    assert np.isnan(BallScene(None, []).pixel_ground(points)).all()
    assert len(top_down.pixel_ground(np.zeros((0, 2)))) == 0
