"""Tests of player_detection's teams and roles (realtime_nb.vision.plugins.players_teams):
team ids that stay put, and at most two goalkeepers a frame, before and after the vote."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from realtime_nb.vision.plugins.players_teams import (
    _FITTED,
    BALANCED_KITS,
    BLENDED,
    CLASH_SHARE,
    CUT_SHARE,
    GATHERED_WITHIN,
    OFF_THE_MIX,
    PURER,
    REFIT_EVERY,
    SHIRT_ROWS,
    SHORTS_ROWS,
    SMALL_BOX,
    SMALL_SHIRT_END,
    SPLIT_SHARE,
    VALLEY,
    WASHED_PAIR,
    TeamModel,
    _fit_two_clusters,
    _keep_ids,
    _median,
    _medians,
    _off_the_mix,
    _pairwise,
    _two_kits,
    at_most_two_keepers,
    blend_distances,
    jersey_colour,
    kit_cue,
    lab_features,
    person_rows,
    share_near,
    shorts_colour,
    unwashed_distances,
)
from realtime_nb.vision.plugins.players_tracks import Verdict, vote


def test_team_ids_stay_when_the_refitted_centres_come_in_the_other_order() -> None:
    grey, white = [30.0, 0.0, 0.0], [45.0, 1.0, -1.0]
    bgr = np.array([[60, 60, 60], [190, 190, 190]], np.float64)
    centres, colours = _keep_ids(
        (np.array([white, grey]), bgr[::-1]), [[31.0, 0.0, 0.0], [44.0, 0.0, 0.0]]
    )
    assert centres.tolist() == [grey, white]
    assert colours.tolist() == bgr.tolist()
    kept, _ = _keep_ids((np.array([grey, white]), bgr), None)
    assert kept.tolist() == [grey, white]


def test_a_small_shirt_that_took_the_grass_hue_is_nearer_its_own_team() -> None:
    # Lab features read on a 320x180 JPEG 60 tuning clip (random seed 52): a dark grey-green
    # team, a dark blue one, and a far blue player whose shirt kept its lightness and took the
    # grass's hue (JPEG's colour is at half resolution).
    grass = lab_features([[57, 141, 67]])[0]
    centres = np.array([[28.0, -12.0, 8.0], [22.0, 33.0, -52.0]])
    far_blue = np.array([[21.0, 0.0, -16.0]])
    as_blends = blend_distances(centres, far_blue, grass)[0]
    assert as_blends[0] < as_blends[1]  # the full blend moves the lightness: nearer grey-green
    washed = blend_distances(centres, far_blue, grass, np.array([True]))[0]
    assert washed[1] < 5.0 < washed[0]
    # Unmarked rows are read as before, row by row.
    both = np.vstack([far_blue, far_blue])
    mixed = blend_distances(centres, both, grass, np.array([False, True]))
    assert mixed[0].tolist() == as_blends.tolist()
    assert mixed[1].tolist() == washed.tolist()
    # One feature alone takes one flag, and gives one distance a centre.
    alone = blend_distances(centres, far_blue[0], grass, np.array(True))
    assert alone.shape == (2,) and alone.tolist() == washed.tolist()


def test_a_near_players_saturated_kit_joins_the_team_learnt_from_its_washed_far_players() -> None:
    # Read on a 320x180 JPEG 45 tuning clip (random seed 1) while the colours were learnt: a
    # violet team whose far players JPEG washes grey (its centre), a dark one, and near violet
    # players (boxes of 18 rows or more) as saturated as the kit, off both colours: goalkeepers.
    grass = np.array([67.5, -41.0, 38.0])
    centres = np.array([[13.2, 25.0, -20.0], [47.0, 2.0, 5.0]])
    model = TeamModel({"team_centres": centres.tolist(), "team_reach": [23.9, 23.9]})
    near = np.array([[50.0, 53.0, -49.0], [48.5, 44.0, -34.0], [49.5, 43.0, -32.0]])
    assert (blend_distances(centres, near, grass).min(axis=1) > 23.9).all()
    assert (unwashed_distances(centres, near, grass)[:, 1] < 23.9).all()
    assert model.read(near, grass, np.zeros(3, bool)) == [("player", 1, 0.6)] * 3
    # A small box's reading, or one read without its size, is as before: off both colours.
    assert [v[1] for v in model.read(near, grass, np.ones(3, bool))] == [None] * 3
    assert [v[1] for v in model.read(near, grass)] == [None] * 3
    # Goalkeepers of other colours (orange, cyan, red, white) stay off both teams.
    keepers = lab_features([[30, 200, 230], [200, 200, 40], [40, 40, 200], [230, 230, 230]])
    assert [v[0] for v in model.read(keepers, grass, np.zeros(4, bool))] == ["goalkeeper"] * 4


def _assert_fitted_as(samples: np.ndarray, kits: list[np.ndarray], within: float) -> None:
    """Assert that :func:`_fit_two_clusters` finds the two ``kits`` (BGR) in ``samples``, each
    centre under ``within`` Lab units from a kit's feature in every channel."""
    fitted = _fit_two_clusters(samples, TeamModel.radius)
    assert fitted is not None
    want = lab_features([k.tolist() for k in kits])
    found = sorted(fitted[0].tolist())
    assert np.abs(np.array(found) - np.array(sorted(want.tolist()))).max() < within


def test_two_kits_nearer_than_twice_the_radius_are_both_found() -> None:
    # Orange and pale yellow jerseys read on a motion-blurred JPEG tuning clip (random seed 42):
    # 31 Lab units apart, under 2 x 18; a few jerseys blurred half into the other kit lie
    # between them, the densest point, and a goalkeeper and referee far off. Before, the
    # between point and the goalkeeper were the two teams.
    orange, pale = np.array([37, 100, 137]), np.array([108, 160, 174])
    rng = np.random.default_rng(0)

    def kit(colour: np.ndarray) -> list[list[int]]:
        return [list(np.clip(colour + rng.integers(-4, 5, 3), 0, 255)) for _ in range(10)]

    blends = [list((orange + (pale - orange) * t).astype(int)) for t in (0.35, 0.45, 0.55, 0.65)]
    samples = _jerseys(
        kit(orange) + kit(pale) + blends + [[167, 194, 199]] * 3 + [[66, 81, 71]] * 2
    )
    _assert_fitted_as(samples, [orange, pale], within=4)


def test_two_dark_kits_are_found_beside_a_diffuse_spread_of_pale_readings() -> None:
    # As read on a 320x180 JPEG 45 tuning clip (random seed 15): black shirts and maroon ones
    # that JPEG washed to a dark olive, some 20 Lab units apart, and a quarter of the black
    # team's readings taken with their white shorts or a line's paint, spread from dark to pale,
    # with a goalkeeper's pale green. The densest point was a jersey between the two kits and
    # the second team the pale spread (not thin, but diffuse: DIFFUSE_SECOND).
    rng = np.random.default_rng(15)
    black, maroon = np.array([22, 31, 23]), np.array([23, 57, 61])
    pale, keeper = np.array([160, 190, 160]), np.array([82, 146, 132])

    def kit(colour: np.ndarray, n: int) -> np.ndarray:
        return colour + rng.integers(-8, 9, (n, 3))

    spread = (
        black + (pale - black) * rng.uniform(0.35, 1.0, (45, 1)) + rng.integers(-10, 11, (45, 3))
    )
    samples = _jerseys(np.vstack([kit(black, 60), kit(maroon, 50), spread, kit(keeper, 10)]))
    _assert_fitted_as(samples, [black, maroon], within=5)


def test_a_dense_far_kit_stays_a_team_beside_one_lit_and_shaded() -> None:
    # One team's jerseys in two groups, lit and shaded (33 Lab units apart), a few between them
    # (the densest point), and the other team's, white, dense and far off: two close peaks
    # (lit, shaded) lie either side of the first, but the white second is not diffuse (10
    # jerseys within half the radius, the close peaks' 16 each), so the two teams stay.
    lit, shaded, white = np.array([60, 110, 170]), np.array([25, 55, 95]), np.array([230, 235, 235])
    rng = np.random.default_rng(5)
    between = [(lit + (shaded - lit) * t).astype(int) for t in (0.4, 0.5, 0.6)]
    samples = _jerseys(
        np.vstack(
            [
                lit + rng.integers(-3, 4, (16, 3)),
                shaded + rng.integers(-3, 4, (16, 3)),
                between,
                white + rng.integers(-4, 5, (10, 3)),
            ]
        )
    )
    fitted = _fit_two_clusters(samples, TeamModel.radius)
    assert fitted is not None
    assert min(np.abs(fitted[1] - white).max(axis=1)) <= 5


def test_one_team_from_lit_to_shaded_is_not_split_in_two() -> None:
    # One team's jerseys spread evenly from lit to shaded (44 Lab units), the other out of view,
    # a goalkeeper's three far off: two close peaks would halve the team, and explain the
    # jerseys little better than the team and the goalkeeper (CLOSE_KITS_BETTER), which stay.
    lit, shaded = np.array([60, 110, 170]), np.array([20, 45, 70])
    team = [list((lit + (shaded - lit) * t).astype(int)) for t in np.linspace(0, 1, 24)]
    keeper = [200, 60, 220]
    fitted = _fit_two_clusters(_jerseys(np.array(team + [keeper] * 3)), TeamModel.radius)
    assert fitted is not None
    assert [int(v) for v in fitted[1][1]] == keeper or [int(v) for v in fitted[1][0]] == keeper


OLIVE_GRASS = (38, 101, 82)
"""BGR of a broadcast clip's olive grass, on which a dark green shirt after JPEG (below) reads
as the grass darkened."""


def _small_player(shirt: tuple[int, int, int], arm: tuple[int, int, int]) -> np.ndarray:
    """A 5 x 20 px player on olive grass: the shirt in columns 2 and 3 of rows 4 to 8 with an
    arm in column 1, white shorts from row 9 (the shorts' first row is 0.45 of the height
    down), as a far player's few pixels look after blur and JPEG."""
    frame = np.zeros((24, 9, 3), np.uint8)
    frame[:] = OLIVE_GRASS
    frame[4:9, 2:4] = shirt
    frame[4:9, 1] = arm
    frame[9:14, 0:5] = (200, 220, 220)
    return frame


def test_a_kit_close_to_the_grass_is_read_by_its_shirt_not_its_arm_and_shorts() -> None:
    # Dark green after JPEG on olive grass: 28 BGR units off it, the arm's pale pixels 62.
    shirt, arm = (31, 80, 64), (80, 130, 118)
    frame, labels = _small_player(shirt, arm), np.zeros((24, 9), np.int32)
    box, grass = [0, 0, 4, 19], np.asarray(OLIVE_GRASS, np.float32)
    assert round(SHIRT_ROWS[1] * 20) == 9  # the shorts' first row is not read
    # Only a third of the shirt's pixels are clearly unlike the grass: all are read. (Read
    # by those alone, and with the shorts' first row, this was the arm's colour.)
    assert jersey_colour(frame, labels, box, 1, grass) == list(shirt)


def test_a_jersey_is_read_above_the_shorts_first_row() -> None:
    # A shirt whose rows differ in shade: its reading is their middle one, white shorts or
    # grass below it. (Read down to 0.48 of the height, the shorts' first row moved it.)
    frame, labels = _small_player((40, 30, 0), (40, 30, 0)), np.zeros((24, 9), np.int32)
    for row in range(4, 9):
        frame[row, 1:4] = (40, 30, 160 + 10 * (row - 4))
    grass = np.asarray(OLIVE_GRASS, np.float32)
    on_white = jersey_colour(frame, labels, [0, 0, 4, 19], 1, grass)
    frame[9:14, 0:5] = OLIVE_GRASS
    assert on_white == jersey_colour(frame, labels, [0, 0, 4, 19], 1, grass) == [40, 30, 180]


def _cut_person(rows: int, top: int) -> tuple[np.ndarray, np.ndarray]:
    """A 40-row person (white shirt rows 7 to 17 of it, black shorts 18 to 25, skin below)
    whose head is on frame row ``top`` of a ``rows``-row frame, 5 px wide, on olive grass;
    and an empty label image (the shirt is read from pixels of no blob)."""
    frame = np.zeros((rows, 9, 3), np.uint8)
    frame[:] = OLIVE_GRASS
    parts = [(0, 7, (90, 120, 170)), (7, 18, (250, 250, 250)), (18, 26, (25, 25, 25))]
    for start, end, colour in [*parts, (26, 40, (90, 120, 170))]:
        first, last = max(top + start, 0), min(top + end, rows)
        if first < last:
            frame[first:last, 0:5] = colour
    return frame, np.zeros((rows, 9), np.int32)


def test_a_person_the_frames_top_edge_cuts_is_read_at_their_shirt_not_their_shorts() -> None:
    # Head 16 rows above the frame: rows 0 and 1 show the shirt's end, rows 2 to 9 the shorts,
    # the box is rows 0 to 23. Read from the box's own rows 0.18 to 0.45 (4 to 10), it is
    # the shorts' black; from a 40-row person's (rows -9 to 1), the shirt's white.
    frame, labels = _cut_person(30, -16)
    grass, box = np.asarray(OLIVE_GRASS, np.float32), [0, 0, 4, 23]
    assert person_rows(box, 30, 40.0) == (-16, 23)
    assert jersey_colour(frame, labels, box, 1, grass) == [25, 25, 25]
    assert jersey_colour(frame, labels, box, 1, grass, 40.0) == [250, 250, 250]


def test_a_person_the_frames_bottom_edge_cuts_is_read_at_their_shirt_not_their_neck() -> None:
    # Head on row 10 of a 30-row frame: the box is rows 10 to 29, 20 of the person's 40. Its
    # own rows 0.18 to 0.45 (rows 14 to 18) take in the head's skin; a 40-row person's (17
    # to 27) are the shirt's rows.
    frame, labels = _cut_person(30, 10)
    grass, box = np.asarray(OLIVE_GRASS, np.float32), [0, 10, 4, 29]
    assert person_rows(box, 30, 40.0) == (10, 49)
    assert jersey_colour(frame, labels, box, 1, grass) != [250, 250, 250]
    assert jersey_colour(frame, labels, box, 1, grass, 40.0) == [250, 250, 250]


def test_a_cut_persons_shirt_out_of_view_is_read_from_the_boxs_own_rows() -> None:
    # Head 30 rows above the frame: the shirt ends above it. Nothing of the shirt to read, so
    # the box's rows are read, as without a height: a 10-row box is small, read to 0.48 of
    # it, rows 2 to 4 (one white, two black: black); to 0.45, rows 2 and 3 would give grey.
    frame, labels = _cut_person(30, -30)
    frame[2, 0:5], frame[3:5, 0:5] = (250, 250, 250), (25, 25, 25)
    grass, box = np.asarray(OLIVE_GRASS, np.float32), [0, 0, 4, 9]
    assert round(SMALL_SHIRT_END * 10) == 5 and round(SHIRT_ROWS[1] * 10) == 4
    assert jersey_colour(frame, labels, box, 1, grass) == [25, 25, 25]
    assert jersey_colour(frame, labels, box, 1, grass, 40.0) == [25, 25, 25]


def test_only_a_box_the_frames_edge_cuts_by_a_fifth_or_more_is_read_as_part_of_a_person() -> None:
    assert person_rows([0, 0, 4, 39], 60, 40.0) == (0, 39)  # as tall as a person
    assert person_rows([0, 3, 4, 20], 60, 40.0) == (3, 20)  # not cut: its own rows
    # Cut by less than a fifth of the height (or a person's height measured a little over):
    # the box's own rows, which still show the shirt.
    assert CUT_SHARE == 0.8
    assert person_rows([0, 0, 4, 32], 60, 40.0) == (0, 32)
    assert person_rows([0, 0, 4, 30], 60, 40.0) == (-9, 30)
    assert person_rows([0, 28, 4, 59], 60, 40.0) == (28, 59)
    assert person_rows([0, 30, 4, 59], 60, 40.0) == (30, 69)


def test_a_small_boxs_jersey_is_read_a_row_lower() -> None:
    # A 12-row box: read to 0.48 of its height, rows 2 to 5; to 0.45 it would be rows 2 to 4.
    assert SMALL_BOX > 12 and round(SMALL_SHIRT_END * 12) == 6 and round(SHIRT_ROWS[1] * 12) == 5
    frame = np.zeros((14, 9, 3), np.uint8)
    frame[:] = OLIVE_GRASS
    for row in range(2, 6):
        frame[row, 1:4] = (40, 30, 150 + 10 * (row - 2))
    grass = np.asarray(OLIVE_GRASS, np.float32)
    labels = np.zeros((14, 9), np.int32)
    # The median of the four rows' reds (150, 160, 170, 180): the middle two's mean, 165.
    assert jersey_colour(frame, labels, [0, 0, 4, 11], 1, grass) == [40, 30, 165]


def test_a_small_players_grass_edge_pixels_are_left_out_of_its_jersey() -> None:
    # A red shirt in two shades with a column of grass inside the box: two thirds of the
    # pixels are clearly unlike the grass, and the grass's third is not read. (Read with it,
    # the blue and green medians would be 40 and 50.)
    frame, labels = _small_player((40, 30, 200), OLIVE_GRASS), np.zeros((24, 9), np.int32)
    frame[4:9, 3] = (60, 50, 220)
    grass = np.asarray(OLIVE_GRASS, np.float32)
    assert jersey_colour(frame, labels, [0, 0, 4, 19], 1, grass) == [50, 40, 210]


def test_a_blob_over_half_its_region_is_read_without_pixels_of_no_blob() -> None:
    # The shirt (two shades) is blob 1; the pale column beside it is in no blob (an arm the
    # mask left out, as it leaves out what looks like line paint). Blob 1 covers two thirds of
    # the region, so only its pixels are read. (Read with the arm's, the medians would be
    # 60, 50 and 200.)
    frame = _small_player((40, 30, 200), (200, 200, 200))
    frame[4:9, 3] = (60, 50, 220)
    labels = np.zeros((24, 9), np.int32)
    labels[4:9, 2:4] = 1
    grass = np.asarray(OLIVE_GRASS, np.float32)
    assert jersey_colour(frame, labels, [0, 0, 4, 19], 1, grass) == [50, 40, 210]


def test_a_far_jersey_blended_with_the_grass_goes_to_the_team_it_blends_from() -> None:
    grass = np.array([45.0, -40.0, 40.0])
    purple, grey = np.array([25.0, 50.0, -40.0]), np.array([30.0, 0.0, -20.0])
    centres = np.array([grey, purple])
    washed = purple + 0.45 * (grass - purple)  # a far purple shirt, nearly half grass
    assert np.linalg.norm(washed - grey) < np.linalg.norm(washed - purple)  # by colour alone
    assert blend_distances(centres, washed, grass).argmin() == 1
    state: dict[str, Any] = {"team_centres": centres.tolist(), "team_reach": [20.0, 20.0]}
    assert TeamModel(state).classify(washed, grass)[:2] == ("player", 1)
    assert TeamModel(state).classify(washed)[:2] == ("player", 0)


def test_blending_stops_at_its_share_each_way_from_the_centre() -> None:
    grass = np.array([45.0, -40.0, 40.0])
    centres = np.array([[30.0, 0.0, -20.0], [25.0, 50.0, -40.0]])
    toward = grass - centres[1]
    purer = centres[1] - 0.3 * toward  # the clean colour of a centre learnt a little blended
    assert np.isclose(blend_distances(centres, purer, grass)[1], 0.0)
    assert blend_distances(centres, purer, None)[1] > 10.0
    # Past PURER the distance is from the line's end, as the plain distance is from a centre.
    beyond = centres[1] - (PURER + 0.2) * toward
    assert np.isclose(blend_distances(centres, beyond, grass)[1], 0.2 * np.linalg.norm(toward))
    # All grass is no team's jersey: it is as far from each as the share allows.
    far = blend_distances(centres, grass, grass)
    assert np.allclose(far, (1 - BLENDED) * np.linalg.norm(grass - centres, axis=1))


def test_a_near_players_clean_jersey_is_its_team_when_the_centre_was_learnt_blended() -> None:
    grass = np.array([55.0, -24.0, 33.0])
    washed_blue, white = np.array([42.0, 0.0, -16.0]), np.array([77.0, -8.0, 1.0])
    clean_blue = np.array([38.0, 10.0, -39.0])  # a near player of the washed-blue team
    state: dict[str, Any] = {
        "team_centres": [white.tolist(), washed_blue.tolist()],
        "team_reach": [20.0, 20.0],
    }
    assert np.linalg.norm(clean_blue - washed_blue) > 20.0  # out of reach by colour alone
    assert TeamModel(state).classify(clean_blue)[:2] == ("goalkeeper", None)
    assert TeamModel(state).classify(clean_blue, grass)[:2] == ("player", 1)


def test_a_teams_grass_blended_jerseys_do_not_make_the_second_team() -> None:
    # One team fills the view: its far players' jerseys, a third to half grass, are the
    # densest colour, its near players' clean red the next densest; the other team is rarer.
    rng = np.random.default_rng(5)
    grass, red, blue = (
        np.array([45.0, -40.0, 40.0]),
        np.array([25.0, 50.0, 30.0]),
        np.array([22.0, -5.0, -30.0]),
    )
    blended = red + rng.uniform(0.3, 0.5, (60, 1)) * (grass - red)
    clean = red + rng.normal(0.0, 2.0, (30, 3))
    others = blue + rng.normal(0.0, 2.0, (20, 3))
    features = np.vstack([blended, clean, others])
    samples = np.hstack([features, np.zeros((len(features), 3))])
    radius = TeamModel.radius
    plain = _fit_two_clusters(samples, radius)
    assert plain is not None
    # By density alone, both centres are red (the test below would pass without the grass).
    assert all(np.linalg.norm(c - blue) > 2 * radius for c in plain[0])
    fitted = _fit_two_clusters(samples, radius, grass)
    assert fitted is not None
    nearest_blue = min(np.linalg.norm(c - blue) for c in fitted[0])
    assert nearest_blue < 5.0
    # The other centre is the red team's, somewhere along its blend with the grass.
    red_centre = max(fitted[0], key=lambda c: float(np.linalg.norm(c - blue)))
    assert blend_distances(red[None], red_centre, grass)[0] < radius


def _jerseys(colours: np.ndarray) -> np.ndarray:
    """Samples as :meth:`TeamModel.learn` keeps them: each jersey's Lab feature, then its BGR."""
    bgr = np.clip(np.rint(colours), 0, 255).astype(int)
    return np.hstack([lab_features(bgr.tolist()), bgr.astype(np.float64)])


def test_a_dark_grey_team_is_not_taken_for_a_dark_blue_teams_blend_with_the_grass() -> None:
    rng = np.random.default_rng(47)
    grass, navy, grey, referee = (
        np.array(c, np.float64)
        for c in ([60, 140, 85], [133, 37, 59], [68, 68, 68], [218, 121, 233])
    )
    samples = _jerseys(
        np.vstack(
            [
                navy + rng.normal(0.0, 2.0, (60, 3)),
                grey + rng.normal(0.0, 2.0, (50, 3)),
                referee + rng.normal(0.0, 2.0, (8, 3)),
            ]
        )
    )
    grass_feature = lab_features([grass.astype(int).tolist()])[0]
    navy_f, grey_f = lab_features([navy.astype(int).tolist(), grey.astype(int).tolist()])
    radius = TeamModel.radius
    # In Lab (lightness halved), the grey kit is near the blue kit's line through the grass,
    # and the two kits are far enough apart to be two teams.
    assert blend_distances(navy_f[None], grey_f, grass_feature)[0] < radius
    assert np.linalg.norm(navy_f - grey_f) > 2 * radius
    lab_only = _fit_two_clusters(samples, radius, grass_feature)
    assert lab_only is not None
    assert min(np.linalg.norm(c - grey_f) for c in lab_only[0]) > radius  # the referee won
    fitted = _fit_two_clusters(samples, radius, grass_feature, grass)
    assert fitted is not None
    for kit in (navy_f, grey_f):
        assert min(np.linalg.norm(c - kit) for c in fitted[0]) < 3.0
    # No mix of the blue kit and the grass in BGR is the grey kit.
    assert _off_the_mix(grey - navy, grass - navy) > OFF_THE_MIX


SMALL_GRASS = np.array([57.0, 143.0, 67.0])
"""Grass as read on a 320x180 JPEG 30 tuning clip (BGR)."""
VIOLET = np.array([150.0, 60.0, 129.0])
"""A violet kit near players' reading there (BGR)."""
WASHED_GREY = np.array([89.0, 92.0, 96.0])
"""The violet kit's far players' reading, washed grey by JPEG (BGR)."""


def _around(seed: int, *kits: tuple[np.ndarray, int]) -> np.ndarray:
    """Samples (:func:`_jerseys`) of so many jerseys around each BGR colour, noise 2 a channel,
    drawn in order from random ``seed``."""
    rng = np.random.default_rng(seed)
    return _jerseys(np.vstack([colour + rng.normal(0.0, 2.0, (n, 3)) for colour, n in kits]))


def test_one_kit_washed_and_clean_is_not_taken_for_both_teams() -> None:
    # Read on a 320x180 JPEG 30 tuning clip (random seed 1, skin tones) while the colours were
    # learnt: a violet team's far players, washed grey by JPEG, are the densest jerseys; its near
    # players' clean violet outnumbers the dark purple team's near players, and its far ones
    # are too near the grey to be a peak. Violet lies on the grey's line away from the grass's
    # hue, but off the grey's mix with the grass in BGR, so it is not taken for a blend.
    grass, violet, grey, purple = SMALL_GRASS, VIOLET, WASHED_GREY, np.array([55.0, 15.0, 44.0])
    samples = _around(1, (grey, 50), (violet, 34), (purple, 30))
    grass_f, violet_f, grey_f, purple_f = lab_features(
        [c.astype(int).tolist() for c in (grass, violet, grey, purple)]
    )
    radius = TeamModel.radius
    # The premises: one kit by its line away from the grass's hue, not by its blend with the
    # grass in BGR; the purple kit far enough from the grey to be the other team, and fewer.
    assert unwashed_distances(grey_f[None], violet_f[None], grass_f)[0, 0] < WASHED_PAIR * radius
    assert _off_the_mix(grey - violet, grass - violet, True) > OFF_THE_MIX
    assert np.linalg.norm(purple_f - grey_f) > 2 * radius
    assert np.linalg.norm(violet_f - grey_f) > 2 * radius
    density = (_pairwise(samples[:, :3], samples[:, :3]) < radius).sum(axis=1)
    assert density[50:84].max() > density[84:].max()
    fitted = _fit_two_clusters(samples, radius, grass_f, grass)
    assert fitted is not None
    for kit in (grey_f, purple_f):
        assert min(np.linalg.norm(c - kit) for c in fitted[0]) < 3.0


def test_a_grey_team_and_a_violet_one_stay_two_teams_beside_a_referee() -> None:
    # The colours of the test above as two teams' kits: the violet lies on the grey's line away
    # from the grass's hue as a washed kit's clean self would, but looked for again away from
    # it, the second peak is the referee's few black jerseys (thin): the pair stays.
    grass, violet, grey = SMALL_GRASS, VIOLET, WASHED_GREY
    samples = _around(2, (grey, 40), (violet, 36), (np.array([20.0, 20.0, 20.0]), 6))
    grass_f, violet_f, grey_f = lab_features(
        [c.astype(int).tolist() for c in (grass, violet, grey)]
    )
    radius = TeamModel.radius
    assert unwashed_distances(grey_f[None], violet_f[None], grass_f)[0, 0] < WASHED_PAIR * radius
    fitted = _fit_two_clusters(samples, radius, grass_f, grass)
    assert fitted is not None
    for kit in (grey_f, violet_f):
        assert min(np.linalg.norm(c - kit) for c in fitted[0]) < 3.0


def test_two_close_peaks_are_two_kits_when_alike_in_number_with_a_valley_between() -> None:
    # Jersey features along one axis: two kits 24 Lab units apart, each 30 jerseys, and a few
    # blurred half into the other between them.
    rng = np.random.default_rng(3)
    a, b = np.array([30.0, -10.0, 5.0]), np.array([30.0, 14.0, 5.0])
    radius = TeamModel.radius
    kits = np.vstack([a + rng.normal(0.0, 1.5, (30, 3)), b + rng.normal(0.0, 1.5, (30, 3))])
    between = (a + b) / 2 + rng.normal(0.0, 1.5, (6, 3))
    centres = np.vstack([a, b])
    assert _two_kits(np.vstack([kits, between]), centres, np.array([30, 30]), radius / 2)
    # Unalike in number (one kit's lit and shaded halves seldom split evenly): not two kits.
    assert not _two_kits(kits, centres, np.array([30, round(30 * BALANCED_KITS) - 1]), radius / 2)
    # One kit spread evenly from one end to the other: as many between as at either end.
    spread = a + np.linspace(0.0, 1.0, 60)[:, None] * (b - a) + rng.normal(0.0, 0.5, (60, 3))
    near = (_pairwise(spread, np.vstack([centres, centres.mean(axis=0)])) < radius / 2).sum(axis=0)
    assert near[2] > VALLEY * near[:2].min()
    assert not _two_kits(spread, centres, np.array([30, 30]), radius / 2)


def test_real_grass_blends_of_a_team_stay_blends_with_the_grass_colour_given() -> None:
    # As in test_a_teams_grass_blended_jerseys_do_not_make_the_second_team, a low camera: one
    # team's far players, its red jersey mixed in BGR with a third to half of the grass,
    # outnumber the other team; the colour test keeps them a blend.
    rng = np.random.default_rng(5)
    grass, red, blue = (
        np.array(c, np.float64) for c in ([50, 150, 70], [40, 40, 200], [160, 90, 40])
    )
    blended = red + rng.uniform(0.3, 0.5, (60, 1)) * (grass - red) + rng.normal(0.0, 3.0, (60, 3))
    samples = _jerseys(
        np.vstack(
            [blended, red + rng.normal(0.0, 2.0, (30, 3)), blue + rng.normal(0.0, 2.0, (20, 3))]
        )
    )
    grass_feature = lab_features([grass.astype(int).tolist()])[0]
    blue_f = lab_features([blue.astype(int).tolist()])[0]
    plain = _fit_two_clusters(samples, TeamModel.radius)
    assert plain is not None
    assert all(np.linalg.norm(c - blue_f) > 2 * TeamModel.radius for c in plain[0])
    fitted = _fit_two_clusters(samples, TeamModel.radius, grass_feature, grass)
    assert fitted is not None
    assert min(np.linalg.norm(c - blue_f) for c in fitted[0]) < 5.0


def test_far_players_lightened_by_their_white_shorts_stay_a_blend_of_their_team() -> None:
    # A red team with white shorts fills the view: its far players' readings are red mixed
    # with a third to half of the grass and a little of the shorts, lighter than any mix of
    # red and grass; they must not become the second team in place of the blue one.
    rng = np.random.default_rng(11)
    grass, red, blue, white = (
        np.array(c, np.float64)
        for c in ([50, 150, 70], [40, 40, 200], [160, 90, 40], [240, 240, 240])
    )
    far = (
        red
        + rng.uniform(0.3, 0.5, (60, 1)) * (grass - red)
        + rng.uniform(0.08, 0.18, (60, 1)) * (white - red)
        + rng.normal(0.0, 2.0, (60, 3))
    )
    samples = _jerseys(
        np.vstack([far, red + rng.normal(0.0, 2.0, (30, 3)), blue + rng.normal(0.0, 2.0, (20, 3))])
    )
    grass_feature = lab_features([grass.astype(int).tolist()])[0]
    red_f, blue_f = lab_features([red.astype(int).tolist(), blue.astype(int).tolist()])
    # The premise: blends in Lab, but off the red kit's BGR mix with the grass, all lighter.
    assert (blend_distances(red_f[None], samples[:60, :3], grass_feature)[:, 0] < 18).all()
    off = _off_the_mix(samples[:60, 3:] - red, grass - red)
    assert (off > OFF_THE_MIX).all()
    assert np.median(_off_the_mix(samples[:60, 3:] - red, grass - red, True)) < OFF_THE_MIX
    fitted = _fit_two_clusters(samples, TeamModel.radius, grass_feature, grass)
    assert fitted is not None
    assert min(np.linalg.norm(c - blue_f) for c in fitted[0]) < 5.0


def test_only_a_lighter_offset_from_the_mix_goes_free() -> None:
    # Kit and grass equally bright: a shift in every channel is all off the mix.
    kit, grass = np.array([100.0, 60.0, 80.0]), np.array([60.0, 100.0, 80.0])
    mix = kit + 0.3 * (grass - kit)
    for shift in (20.0, -20.0):
        point = mix + shift
        full = _off_the_mix(point - kit, grass - kit)
        free = _off_the_mix(point - kit, grass - kit, True)
        assert np.isclose(full, 20.0 * np.sqrt(3)) and full > OFF_THE_MIX
        # A lighter point's equal shift in every channel is not counted; a darker one's is.
        assert np.isclose(free, 0.0) if shift > 0 else np.isclose(free, full)


_GRASS, _BLUE, _RED = (
    np.array(c, np.float64) for c in ([50, 150, 70], [170, 70, 20], [40, 40, 200])
)


def _warmed_up(
    rng: np.random.Generator, grass: np.ndarray, *kits: tuple[np.ndarray, int]
) -> tuple[TeamModel, np.ndarray]:
    """A team model after a 15-frame warm-up on ``kits`` (each a BGR colour and how many of
    its jerseys a frame), and the grass's feature."""
    grass_feature = lab_features([grass.astype(int).tolist()])[0]
    teams = TeamModel({})
    for _ in range(15):
        jerseys = _jerseys(np.vstack([c + rng.normal(0, 3, (n, 3)) for c, n in kits]))
        teams.learn(jerseys[:, :3], jerseys[:, 3:].astype(int).tolist(), grass_feature, grass)
    return teams, grass_feature


def test_a_team_out_of_view_while_the_colours_were_learnt_is_missed_and_learnt_later() -> None:
    # Only the blue team is in view at first: its jerseys and a washed-out blue-grey (in Lab
    # near a blend of blue, but off its BGR mix with the grass, so not taken for one) become the
    # two "teams". Then red players come into view.
    rng = np.random.default_rng(3)
    grass, blue, red, washed = _GRASS, _BLUE, _RED, np.array([120, 110, 100], np.float64)
    teams, grass_feature = _warmed_up(rng, grass, (blue, 5), (washed, 4))
    state = teams.state
    red_f = lab_features([red.astype(int).tolist()])[0]
    assert min(np.linalg.norm(np.asarray(state["team_centres"]) - red_f, axis=1)) > 40
    frames = 0
    while True:
        frame = _jerseys(
            np.vstack([red + rng.normal(0, 3, (4, 3)), blue + rng.normal(0, 3, (4, 3))])
        )
        features, colours = frame[:, :3], frame[:, 3:].astype(int).tolist()
        readings = teams.read(features, grass_feature)
        if not teams.missing_a_team(readings):
            break
        if frames == 0:  # before any is learnt, every red is off both colours
            assert [role for role, _, _ in readings[:4]] == ["goalkeeper"] * 4
            assert not teams.missing_a_team(readings[:2] + readings[4:])  # two: goalkeepers
        kept = [list(state[k]) for k in _FITTED]
        again = teams.relearn(features, colours, readings, grass_feature, grass)
        if again is readings:  # no refit on this frame, or one that did not explain it
            assert [state[k] for k in _FITTED] == kept
        frames += 1
        assert frames <= 25
    # The reds are one team and the blues the other, and it took the frames it should: as many
    # as make the reds denser than the washed blues (60 of them, four reds a frame).
    reds, blues = {v[:2] for v in readings[:4]}, {v[:2] for v in readings[4:]}
    assert len(reds) == len(blues) == 1 and reds != blues
    assert all(role == "player" for role, _, _ in readings)
    assert min(np.linalg.norm(np.asarray(state["team_centres"]) - red_f, axis=1)) < 5
    assert 10 <= frames <= 20


@pytest.mark.parametrize(
    ("alike_before", "alike_after", "kept"),
    [((0, 5), (0, 5), False), ((0, 1), (0, 1), True), ((0, 1), (2, 5), False)],
    ids=["a new pair", "the pair before", "the pair before gone, a new one"],
)
def test_a_refit_is_kept_only_if_it_makes_no_new_pair_of_alike_goalkeepers(
    alike_before: tuple[int, int], alike_after: tuple[int, int], kept: bool
) -> None:
    # Before: five goalkeepers (jerseys 0 to 4, more than a match has) and five players (5 to
    # 9); the jerseys ``alike_before`` are of one colour (a player among them is no
    # goalkeeper then). After the refit only the jerseys ``alike_after`` are goalkeepers, also
    # of one colour when the pair is new. A pair the refit made (a team's player read off both
    # colours) is not kept; a pair of goalkeepers alike before too (a referee and an assistant
    # in one kit) does not count against it. (Two goalkeepers and at most one player moved is
    # fewer than the five before: kept by that test alone.)
    keeper: Verdict = ("goalkeeper", None, 0.6)
    before: list[Verdict] = [keeper] * 5 + [("player", 0, 0.9)] * 5
    features = np.arange(30.0).reshape(10, 3) * 40
    features[alike_before[1]] = features[alike_before[0]] + 1.0
    features[alike_after[1]] = features[alike_after[0]] + 1.0
    after: list[Verdict] = [("player", 1, 0.9)] * 5 + [("player", 0, 0.9)] * 5
    for k in alike_after:
        after[k] = keeper
    teams = _ScriptedRefit({"team_centres": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]}, after)
    assert teams.missing_a_team(before)
    read = teams.relearn(features, [[0, 0, 0]] * 10, before)
    assert (read is after) == kept


def test_two_goalkeepers_of_one_colour_are_a_team_missed_and_learnt_again() -> None:
    # One team was learnt from a very dark blue (its far players, washed darker; three a frame)
    # beside a red one; later its near players, in the kit's own blue, read off both colours,
    # two a frame. Two goalkeepers wear kits unlike each other's: two jerseys of one colour off
    # both teams' say a team is missed, and a refit with their jerseys kept reads them as one
    # team's players.
    rng = np.random.default_rng(11)
    grass, dark_blue = _GRASS, np.array([60, 30, 10], np.float64)
    teams, grass_feature = _warmed_up(rng, grass, (dark_blue, 3), (_RED, 6))
    readings: list[Verdict] = []
    for frames in range(40):
        frame = _jerseys(
            np.vstack([_BLUE + rng.normal(0, 3, (2, 3)), _RED + rng.normal(0, 3, (6, 3))])
        )
        features, colours = frame[:, :3], frame[:, 3:].astype(int).tolist()
        readings = teams.read(features, grass_feature)
        if not teams.missing_a_team(readings, features):
            break
        assert [role for role, _, _ in readings] == ["goalkeeper"] * 2 + ["player"] * 6
        assert not teams.missing_a_team(readings)  # two goalkeepers: as many as a match has
        if frames == 0:
            # A goalkeeper of another colour beside one of them: two, as a match has.
            pink = _jerseys(np.array([[200, 40, 170]], np.float64))[:, :3]
            other = np.vstack([pink, features[1:]])
            other_readings = teams.read(other, grass_feature)
            assert [role for role, _, _ in other_readings[:2]] == ["goalkeeper"] * 2
            assert not teams.missing_a_team(other_readings, other)
        teams.relearn(features, colours, readings, grass_feature, grass)
    assert 1 <= frames < 40  # learnt after refits, not at once
    assert [role for role, _, _ in readings] == ["player"] * 8
    assert readings[0][1] == readings[1][1] != readings[2][1]
    assert len({team for _, team, _ in readings[2:]}) == 1


def test_a_refit_that_reads_the_frame_no_better_is_dropped_but_its_jerseys_are_kept() -> None:
    # Two teams learnt; then a frame of three goalkeeper-coloured jerseys (more than a match
    # has) that are no team's: a refit leaves them off both colours, so it is not kept.
    rng = np.random.default_rng(5)
    grass, blue, red, pink = _GRASS, _BLUE, _RED, np.array([200, 40, 170], np.float64)
    teams, grass_feature = _warmed_up(rng, grass, (blue, 6), (red, 6))
    state = teams.state
    fitted = {k: state[k] for k in _FITTED}
    samples = len(state["team_samples"])
    frame = _jerseys(np.vstack([pink + rng.normal(0, 3, (3, 3)), blue, red]))
    features, colours = frame[:, :3], frame[:, 3:].astype(int).tolist()
    readings = teams.read(features, grass_feature)
    assert teams.missing_a_team(readings)
    assert teams.relearn(features, colours, readings, grass_feature, grass) is readings
    assert {k: state[k] for k in fitted} == fitted
    assert len(state["team_samples"]) == samples + 5  # the frame's jerseys were learnt


class _ScriptedRefit(TeamModel):
    """A model whose refit moves the centres (and fits a reach it had none of) and whose
    reading after it is given."""

    def __init__(self, state: dict[str, Any], after: list[Verdict]) -> None:
        super().__init__(state)
        self.after = after

    def _refit(self, *args: Any, **kwargs: Any) -> None:
        """The refit: new centres, and a reach."""
        self.state["team_centres"] = [[9.0, 9.0, 9.0], [-9.0, -9.0, -9.0]]
        self.state["team_reach"] = [20.0, 20.0]

    def read(self, *args: Any, **kwargs: Any) -> list[Verdict]:
        """The scripted reading."""
        return self.after


@pytest.mark.parametrize(
    ("keepers_after", "flipped", "refereed", "kept"),
    [
        (2, 0, 0, True),
        (0, 4, 0, True),
        (0, 0, 4, True),
        (3, 0, 0, False),
        (1, 4, 0, False),
        (2, 3, 0, False),
        (1, 0, 4, False),
    ],
)
def test_a_refit_is_kept_only_if_it_explains_the_frame(
    keepers_after: int, flipped: int, refereed: int, kept: bool
) -> None:
    # Before: five goalkeepers (more than a match has) and five players of team 0. After:
    # ``keepers_after`` of the first five still goalkeepers, ``flipped`` of the players moved to
    # team 1 and ``refereed`` read as referees (off both colours, dark). Kept only with at most
    # two goalkeepers left and fewer than before by more than the players moved.
    keeper: Verdict = ("goalkeeper", None, 0.6)
    before: list[Verdict] = [keeper] * 5 + [("player", 0, 0.9)] * 5
    after: list[Verdict] = [keeper] * keepers_after
    after += [("player", 1, 0.9)] * (5 - keepers_after)
    after += [("player", 1, 0.9)] * flipped + [("referee", None, 0.7)] * refereed
    after += [("player", 0, 0.9)] * (5 - flipped - refereed)
    centres = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    state: dict[str, Any] = {"team_centres": centres}
    teams = _ScriptedRefit(state, after)
    assert teams.missing_a_team(before)
    # Ten jerseys of ten colours, far apart (some 100 Lab units): no two goalkeepers of one.
    features = np.arange(30.0).reshape(10, 3) * 20
    read = teams.relearn(features, [[0, 0, 0]] * 10, before)
    assert (read is after) == kept and (read is before) != kept
    assert state["team_centres"] == ([[9.0, 9.0, 9.0], [-9.0, -9.0, -9.0]] if kept else centres)
    assert ("team_reach" in state) == kept  # a dropped refit's new key goes with it


_APART = [[30.0, 30.0, 30.0], [-30.0, 30.0, 30.0]]
"""Two team centres far from :class:`_ScriptedRefit`'s refitted ones."""
_EITHER_SIDE = [[24.0, 9.0, 9.0], [-6.0, 9.0, 9.0]]
"""Two team centres 15 Lab units either side of a refitted one, (9, 9, 9)."""


@pytest.mark.parametrize(
    ("centres_before", "round_before", "kept"),
    [
        (_APART, 40, False),
        (_APART, 0, True),
        (_APART, 20, True),
        (_EITHER_SIDE, 40, False),
    ],
    ids=[
        "round the centres before",
        "round the refitted ones",
        "as many round each",
        "a refitted centre between two kits",
    ],
)
def test_a_refit_is_kept_only_if_it_gathers_the_jerseys_as_tightly(
    centres_before: list[list[float]], round_before: int, kept: bool
) -> None:
    # The refit explains the frame (five goalkeepers before, two after, none moved), so only the
    # kept jerseys decide: ``round_before`` of 40 within 3 Lab units of a centre before, the
    # rest of a refitted one. A refit whose centres gather a smaller share within half the
    # radius is dropped; as large a share keeps it. In the last case the two kits before lie
    # 15 either side of a refitted centre: within the radius of it, not within half of it.
    rng = np.random.default_rng(7)
    centres_after = [[9.0, 9.0, 9.0], [-9.0, -9.0, -9.0]]  # _ScriptedRefit's
    near = [
        np.asarray(centres_before[k % 2]) + rng.uniform(-1.7, 1.7, 3) for k in range(round_before)
    ] + [
        np.asarray(centres_after[k % 2]) + rng.uniform(-1.7, 1.7, 3)
        for k in range(40 - round_before)
    ]
    keeper: Verdict = ("goalkeeper", None, 0.6)
    before: list[Verdict] = [keeper] * 5 + [("player", 0, 0.9)] * 5
    after: list[Verdict] = [keeper] * 2 + [("player", 1, 0.9)] * 3 + [("player", 0, 0.9)] * 5
    state: dict[str, Any] = {
        "team_centres": centres_before,
        "team_samples": [[*f.tolist(), 0, 0, 0] for f in near],
    }
    teams = _ScriptedRefit(state, after)
    features = np.arange(30.0).reshape(10, 3) * 20 + 100  # far from every centre
    read = teams.relearn(features, [[0, 0, 0]] * 10, before)
    assert (read is after) == kept
    assert state["team_centres"] == (centres_after if kept else centres_before)
    # The shares compared: of the 40 and the frame's ten jerseys, added before the refit.
    samples = np.asarray(state["team_samples"])[:, :3]
    assert len(samples) == 50
    tight, loose = teams.radius * GATHERED_WITHIN, teams.radius
    shares = [share_near(samples, c, tight) for c in (centres_before, centres_after)]
    assert shares == [round_before / 50, (40 - round_before) / 50]
    if centres_before is _EITHER_SIDE:  # all within the radius of the centre between them
        assert share_near(samples, centres_after, loose) == 40 / 50


def test_share_near_counts_the_features_within_reach_of_the_nearer_centre() -> None:
    features = np.array([[0.0, 0, 0], [0, 0, 9], [0, 0, 9.5], [20, 0, 0], [31, 0, 0]])
    assert share_near(features, [[0.0, 0, 0], [30.0, 0, 0]], 9.0) == 3 / 5  # 9 is within
    assert share_near(features, None, 9.0) == 0.0
    assert share_near(features, [], 9.0) == 0.0
    assert share_near(features, [[31.0, 0, 0]], 9.0) == 1 / 5  # one centre: the last only
    assert share_near(np.zeros((0, 3)), [[0.0, 0, 0], [1.0, 0, 0]], 9.0) == 0.0


def test_a_frame_that_misses_a_team_adds_its_jerseys_and_every_second_refits() -> None:
    class Counting(_ScriptedRefit):
        refits = 0

        def _refit(self, *args: Any, **kwargs: Any) -> None:
            self.refits += 1

    keeper: Verdict = ("goalkeeper", None, 0.6)
    fitted: dict[str, Any] = {
        "team_centres": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
        "team_bgr": [[1, 2, 3]] * 2,
    }
    state: dict[str, Any] = {k: list(v) for k, v in fitted.items()}
    teams = Counting(state, [keeper] * 3)  # the refits never explain the frame
    for frame in range(1, 12):
        readings = [keeper] * 3
        assert teams.relearn(np.zeros((3, 3)), [[frame, 0, 0]] * 3, readings) is readings
        assert {k: state[k] for k in fitted} == fitted
        assert len(state["team_samples"]) == 3 * frame
        assert teams.refits == 1 + (frame - 1) // REFIT_EVERY  # frames 1, 3, 5, ...


def _read(state: dict[str, Any], features: np.ndarray) -> list[Verdict]:
    """Each jersey's reading on its own, before the goalkeeper cap."""
    return [TeamModel(state).classify(f) for f in features]


def test_at_most_two_keepers_sends_the_nearest_off_colour_jerseys_to_their_team() -> None:
    state: dict[str, Any] = {"team_centres": [[30.0, 40.0, 20.0], [30.0, -40.0, -20.0]]}
    state["team_reach"] = [20.0, 20.0]
    features = np.array(
        [
            [30.0, 40.0, 22.0],  # team 0
            [30.0, 40.0, 70.0],  # off both, 50 from team 0
            [30.0, -40.0, -65.0],  # off both, 45 from team 1
            [80.0, 0.0, 90.0],  # far off both
            [0.0, 10.0, -90.0],  # far off both
        ]
    )
    out = at_most_two_keepers(_read(state, features), TeamModel(state), features)
    assert [(role, team) for role, team, _ in out] == [
        ("player", 0),
        ("player", 0),
        ("player", 1),
        ("goalkeeper", None),
        ("goalkeeper", None),
    ]
    assert out[1][2] == 0.5
    # Two off both teams stay goalkeepers.
    two = at_most_two_keepers(
        _read(state, features[[0, 3, 4]]), TeamModel(state), features[[0, 3, 4]]
    )
    assert [role for role, _, _ in two] == ["player", "goalkeeper", "goalkeeper"]


def test_an_extra_off_colour_jersey_goes_to_the_nearer_team_by_its_reach() -> None:
    # 30 Lab units from team 0, whose jerseys fall within 10, and 50 from team 1, whose
    # jerseys spread to 40: nearer team 1 for its reach.
    state: dict[str, Any] = {"team_centres": [[30.0, 20.0, 0.0], [30.0, -20.0, 0.0]]}
    state["team_reach"] = [10.0, 40.0]
    features = np.array([[30.0, 20.0, 30.0], [80.0, 0.0, 90.0], [0.0, 10.0, -90.0]])
    out = at_most_two_keepers(_read(state, features), TeamModel(state), features)
    assert [(role, team) for role, team, _ in out] == [
        ("player", 1),
        ("goalkeeper", None),
        ("goalkeeper", None),
    ]


def test_the_cap_holds_after_the_vote_brings_goalkeepers_back() -> None:
    # Three boxes whose tracks read goalkeeper for frames: each frame's cap demotes one, and
    # the vote would bring it back; the cap after the vote keeps two, the furthest off.
    state: dict[str, Any] = {"team_centres": [[30.0, 40.0, 20.0], [30.0, -40.0, -20.0]]}
    state["team_reach"] = [20.0, 20.0]
    features = np.array([[30.0, 40.0, 70.0], [80.0, 0.0, 90.0], [0.0, 10.0, -90.0]])
    boxes = [[10, 10, 18, 36], [100, 10, 108, 36], [200, 10, 208, 36]]
    tracks: list[Any] = []
    for _ in range(5):
        tracks, _ = vote(tracks, boxes, [("goalkeeper", None, 0.9)] * 3)
    readings = at_most_two_keepers(_read(state, features), TeamModel(state), features)
    assert [role for role, _, _ in readings] == ["player", "goalkeeper", "goalkeeper"]
    _, voted = vote(tracks, boxes, readings)
    assert [role for role, _, _ in voted] == ["goalkeeper"] * 3  # what the cap must undo
    capped = at_most_two_keepers(voted, TeamModel(state), features)
    assert [(role, team) for role, team, _ in capped] == [
        ("player", 0),
        ("goalkeeper", None),
        ("goalkeeper", None),
    ]


def test_median_is_numpys_rounded_down_at_odd_and_even_counts() -> None:
    rng = np.random.default_rng(5)
    for count in (1, 2, 3, 4, 17, 40):
        pixels = rng.integers(0, 256, (count, 3), dtype=np.uint8)
        assert _median(pixels) == [int(v) for v in np.median(pixels, axis=0)]
    assert _median(np.array([[1, 2, 3], [2, 5, 255]], np.uint8)) == [1, 3, 129]


def test_pairwise_distances_are_numpys_norm_to_the_last_bit() -> None:
    rng = np.random.default_rng(9)
    for rows in (1, 4, 57, 400):
        first = rng.normal(0.0, 40.0, (rows, 3))
        for second in (first, rng.normal(0.0, 40.0, (2, 3))):
            expected = np.linalg.norm(first[:, None, :] - second[None], axis=2)
            assert np.array_equal(_pairwise(first, second), expected)


@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 30), st.integers(1, 3)),
        elements=st.floats(-200, 200, allow_nan=False),
    )
)
def test_medians_are_numpys_median_per_column(values: np.ndarray) -> None:
    assert _medians(values).tolist() == np.median(values, axis=0).tolist()


@given(hnp.arrays(np.uint8, st.tuples(st.integers(1, 30), st.just(3))))
def test_median_is_numpys_median_rounded_down(pixels: np.ndarray) -> None:
    expected = np.floor(np.median(pixels, axis=0)).astype(int).tolist()
    assert _median(pixels.copy()) == expected


def test_a_refit_that_swapped_the_teams_ids_is_swapped_back_by_the_tracks() -> None:
    # Three players' tracks voted team 0 and one's team 1; the refitted centres read them the
    # other way round: the ids are swapped back and the jerseys read again.
    dark, light = [20.0, 0.0, 20.0], [70.0, 20.0, -30.0]
    state: dict[str, Any] = {
        "team_centres": [light, dark],
        "team_bgr": [[190, 120, 130], [10, 40, 60]],
        "team_reach": [25.0, 20.0],
    }
    teams = TeamModel(state)
    features = np.array([dark, dark, dark, light])
    readings = teams.read(features)
    assert [team for _, team, _ in readings] == [1, 1, 1, 0]
    again = teams.follow_tracks(readings, [0, 0, 0, 1], features)
    assert [team for _, team, _ in again] == [0, 0, 0, 1]
    assert state["team_centres"] == [dark, light]
    assert state["team_bgr"] == [[10, 40, 60], [190, 120, 130]]
    assert state["team_reach"] == [20.0, 25.0]
    # Two players off their tracks' team (a washed frame), or no more off than on: kept.
    assert teams.follow_tracks(again, [1, 1, 0, None], features) is again
    seven = np.array([dark] * 4 + [light] * 3)
    readings = teams.read(seven)
    assert teams.follow_tracks(readings, [0] * 7, seven) is readings
    assert state["team_centres"] == [dark, light]


def _kit_person(shirt: tuple[int, int, int], shorts: tuple[int, int, int]) -> np.ndarray:
    """A 40-row person on olive grass in a 60-row frame, head on row 10: skin to row 6 of them,
    the ``shirt`` to row 18, the ``shorts`` to row 28, skin below; 6 px wide."""
    frame = np.zeros((60, 12, 3), np.uint8)
    frame[:] = OLIVE_GRASS
    for start, end, colour in [(0, 7, (90, 120, 170)), (7, 18, shirt), (18, 29, shorts)]:
        frame[10 + start : 10 + end, 3:9] = colour
    frame[39:50, 3:9] = (90, 120, 170)
    return frame


def test_shorts_are_read_below_the_waistband_of_a_person_standing_at_the_boxs_feet() -> None:
    white, green = (240, 240, 240), (20, 80, 40)
    frame, grass = _kit_person(white, green), np.asarray(OLIVE_GRASS, np.float32)
    assert round(SHORTS_ROWS[0] * 40) == 20 and round(SHORTS_ROWS[1] * 40) == 26
    assert shorts_colour(frame, [3, 10, 8, 49], grass) == list(green)
    assert shorts_colour(_kit_person(white, white), [3, 10, 8, 49], grass) == list(white)
    # A box half a person tall (the shirt faded into the grass) is read at a person's height
    # from its feet; by its own rows, below the shorts.
    assert shorts_colour(frame, [3, 30, 8, 49], grass, tall=40.0) == list(green)
    assert shorts_colour(frame, [3, 30, 8, 49], grass) == [90, 120, 170]


def test_shorts_out_of_the_frame_are_not_read() -> None:
    frame, grass = _kit_person((240, 240, 240), (20, 80, 40)), np.asarray(OLIVE_GRASS, np.float32)
    # Feet on row 12 of a person 60 rows tall: the shorts' rows are above the frame.
    assert shorts_colour(frame, [3, 0, 8, 12], grass, tall=60.0) is None


def _state(centres: list[list[float]], counts: list[int]) -> dict[str, Any]:
    """A TeamModel state with two colours ``centres`` (reach 10) and ``counts`` samples at each
    (a BGR of zeros beside each feature)."""
    samples = [[*c, 0, 0, 0] for c, n in zip(centres, counts, strict=True) for _ in range(n)]
    return {"team_centres": centres, "team_reach": [10.0, 10.0], "team_samples": samples}


def test_the_shorts_tell_the_teams_apart_when_one_shirt_colour_gathers_nearly_all() -> None:
    white, keeper = [100.0, 0.0, 10.0], [60.0, 40.0, 0.0]
    green, pale = [40.0, -15.0, 20.0], [100.0, -8.0, 15.0]
    one_shirt = _state([white, keeper], [90, 10])
    assert CLASH_SHARE <= 90 / 100
    assert kit_cue(one_shirt, _state([green, pale], [50, 50])) == "shorts"
    # Two teams' shirts, or shorts of one colour (the second a keeper's), or two shorts'
    # colours too close: the shirts.
    assert kit_cue(_state([white, keeper], [50, 50]), _state([green, pale], [50, 50])) == "shirts"
    assert SPLIT_SHARE > 10 / 100
    assert kit_cue(one_shirt, _state([green, pale], [90, 10])) == "shirts"
    near_pale = [pale[0] - 2 * TeamModel.radius, pale[1], pale[2]]
    assert kit_cue(one_shirt, _state([near_pale, pale], [50, 50])) == "shirts"
    assert kit_cue({}, _state([green, pale], [50, 50])) == "shirts"
