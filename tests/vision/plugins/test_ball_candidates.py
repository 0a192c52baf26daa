"""Tests of how ball_detection picks its candidates (realtime_nb.vision.plugins.ball_candidates
and the search in realtime_nb.vision.plugins.ball): kit of a body no box covers, and a faint
ball among many brighter flecks."""

from __future__ import annotations

import itertools
import math

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from realtime_nb.vision.plugins import PluginContext, VideoInfo, ball_candidates
from realtime_nb.vision.plugins import ball as ball_module
from realtime_nb.vision.plugins.arrays import Buffers
from realtime_nb.vision.plugins.ball import _candidates, _scored, _search
from realtime_nb.vision.plugins.ball_candidates import (
    _DIRECTION_X,
    _DIRECTION_Y,
    BODY_SHARE,
    BallCandidate,
    _around,
    _crowded,
    _nonzero_xy,
    _steps_out,
    body_around,
    brighter_in_every_channel,
    find_candidates,
    inside_a_body,
    over_someone_cut_off,
    raised_reach,
    whiteness,
    whiteness_and_brightness,
)
from realtime_nb.vision.plugins.ball_scene import BallScene

GRASS = (50, 140, 60)
SHADOW = (30, 84, 36)  # the grass at 0.6 of its light: the same hue
WHITE = (245, 245, 245)


def person(img: np.ndarray, x: int, feet: int, shorts: tuple[int, int, int]) -> None:
    """A 5-px-wide person of 20 px standing at ``(x, feet)``: red shirt, shorts, skin legs,
    dark boots."""
    cv2.rectangle(img, (x - 2, feet - 20), (x + 2, feet - 11), (40, 40, 200), -1)  # shirt
    cv2.rectangle(img, (x - 2, feet - 10), (x + 2, feet - 7), shorts, -1)
    cv2.rectangle(img, (x - 2, feet - 6), (x + 2, feet - 2), (150, 180, 230), -1)  # legs
    cv2.rectangle(img, (x - 2, feet - 1), (x + 2, feet), (30, 30, 30), -1)  # boots


@pytest.mark.parametrize("grass", [GRASS, SHADOW], ids=["lit", "in a shadow"])
def test_white_shorts_of_a_body_are_inside_it_and_a_ball_is_not(
    grass: tuple[int, int, int],
) -> None:
    img = np.full((80, 120, 3), grass, np.uint8)
    person(img, 30, 50, WHITE)
    cv2.circle(img, (70, 40), 2, WHITE, -1)  # a ball on the grass
    person(img, 100, 50, (200, 40, 40))
    cv2.circle(img, (103, 50), 2, WHITE, -1)  # a ball at the feet: legs over it, grass under
    assert inside_a_body(img, (30.0, 41.5), 2.0)
    assert not inside_a_body(img, (70.0, 40.0), 2.0)
    assert not inside_a_body(img, (103.0, 50.0), 2.0)
    # Right under a person's boots: the body over it, but grass under it, so a ball.
    cv2.circle(img, (30, 53), 2, WHITE, -1)
    assert not inside_a_body(img, (30.0, 53.0), 2.0)


def test_a_body_over_a_blob_is_read_over_it_and_under_it() -> None:
    img = np.full((80, 120, 3), GRASS, np.uint8)
    person(img, 30, 50, WHITE)
    cv2.circle(img, (70, 40), 2, WHITE, -1)  # a ball on the grass
    cv2.circle(img, (30, 53), 2, WHITE, -1)  # a ball right under the boots
    shorts, grass, boots = (
        body_around(img, c, 2.0) for c in ((30.0, 41.5), (70.0, 40.0), (30.0, 53.0))
    )
    assert min(shorts) >= BODY_SHARE  # kit over and under: inside the body
    assert grass == (0.0, 0.0)
    assert boots[0] >= BODY_SHARE > boots[1]  # a leg over it, grass under it
    assert body_around(img, (3.0, 40.0), 2.0) == (0.0, 0.0)  # no room beside it


def test_a_body_smeared_by_a_pan_still_holds_its_shorts() -> None:
    img = np.full((80, 120, 3), GRASS, np.uint8)
    person(img, 30, 50, WHITE)
    kernel = np.full((1, 7), 1 / 7, np.float32)  # a 7-px pan mixes the body with the grass
    smeared = np.asarray(cv2.filter2D(img, -1, kernel), np.uint8)
    assert inside_a_body(smeared, (30.0, 41.5), 2.0)


def test_no_body_is_told_without_grass_beside_it() -> None:
    img = np.full((80, 120, 3), (120, 120, 120), np.uint8)  # no green anywhere
    person(img, 30, 50, WHITE)
    assert not inside_a_body(img, (30.0, 41.5), 2.0)


def test_a_head_on_a_shirt_cut_off_by_the_bottom_edge_is_someone_not_a_ball() -> None:
    img = np.full((80, 120, 3), GRASS, np.uint8)
    cv2.circle(img, (40, 74), 3, (190, 215, 250), -1)  # a pale head...
    cv2.rectangle(img, (35, 77), (45, 79), (200, 120, 40), -1)  # ...over a shirt, cut off
    cv2.circle(img, (80, 75), 3, WHITE, -1)  # a ball on the grass near the edge
    cv2.circle(img, (60, 40), 3, (190, 215, 250), -1)  # the same head far from the edge
    cv2.rectangle(img, (55, 43), (65, 60), (200, 120, 40), -1)
    assert over_someone_cut_off(img, (40.0, 74.0), 3.0)
    assert not over_someone_cut_off(img, (80.0, 75.0), 3.0)
    assert not over_someone_cut_off(img, (60.0, 40.0), 3.0)  # a body goes on below: its box
    assert not over_someone_cut_off(np.full_like(img, 120), (40.0, 74.0), 3.0)  # no grass
    # Someone near, coming in at the bottom corner: the grass beside the blob is their shirt,
    # and there is none on the frame's side; it is farther out.
    cv2.rectangle(img, (96, 66), (119, 79), (150, 150, 150), -1)
    assert over_someone_cut_off(img, (112.0, 68.0), 3.0)
    # A ball near the edge over its own shadow (the grass at 0.45 of its light, its tint kept).
    shade = tuple(round(0.45 * c) for c in GRASS)
    cv2.ellipse(img, (20, 76), (6, 4), 0.0, 0, 360, shade, -1)
    cv2.circle(img, (20, 71), 3, WHITE, -1)
    assert not over_someone_cut_off(img, (20.0, 71.0), 3.0)
    assert not over_someone_cut_off(img, (40.0, 74.0), float("nan"))


def test_a_faint_ball_is_found_among_many_brighter_flecks() -> None:
    img = np.full((200, 320, 3), GRASS, np.uint8)
    # 48 brighter round flecks, as heavy blur and JPEG leave them: more than the 32 a search
    # kept before, which left the ball out.
    for k in range(48):
        cv2.circle(img, (12 + 20 * (k % 14), 12 + 20 * (k // 14)), 2, WHITE, -1)
    cv2.circle(img, (160, 180), 2, (150, 175, 155), -1)  # a faint, blurred ball
    region = np.full(img.shape[:2], 255, np.uint8)
    found = _search(whiteness(img), region, 2.0, (0, 0), 0)
    assert any(abs(c.x - 160) <= 1 and abs(c.y - 180) <= 1 for c, _, _ in found)


BROADCAST_BALL = [
    [[30, 112, 60], [34, 114, 61], [28, 109, 54], [33, 111, 57], [34, 112, 59], [35, 108, 62],
     [36, 108, 66], [43, 111, 76], [61, 122, 94]],
    [[36, 115, 66], [37, 114, 63], [37, 115, 62], [34, 109, 57], [34, 109, 58], [37, 109, 63],
     [38, 108, 67], [44, 113, 76], [47, 108, 80]],
    [[37, 116, 67], [36, 113, 62], [38, 116, 63], [34, 109, 57], [44, 119, 68], [46, 118, 72],
     [37, 107, 66], [40, 109, 72], [37, 99, 69]],
    [[28, 107, 58], [27, 104, 53], [27, 104, 53], [31, 106, 54], [63, 138, 87], [65, 137, 90],
     [35, 106, 63], [37, 107, 67], [43, 105, 75]],
    [[18, 97, 48], [16, 92, 44], [13, 90, 39], [26, 101, 50], [80, 154, 106], [81, 153, 107],
     [34, 105, 62], [37, 107, 67], [53, 118, 86]],
    [[22, 101, 52], [10, 86, 38], [2, 77, 31], [18, 91, 45], [47, 119, 73], [47, 116, 73],
     [23, 91, 50], [28, 95, 56], [56, 123, 84]],
    [[25, 107, 55], [23, 99, 51], [17, 92, 46], [23, 95, 49], [33, 104, 61], [32, 100, 59],
     [19, 87, 46], [20, 86, 45], [29, 98, 55]],
    [[28, 110, 58], [31, 108, 57], [29, 105, 57], [28, 100, 54], [24, 96, 50], [28, 97, 54],
     [32, 101, 58], [31, 97, 55], [24, 93, 50]],
    [[28, 110, 57], [33, 110, 59], [32, 109, 58], [30, 102, 55], [27, 99, 53], [34, 103, 58],
     [41, 110, 65], [42, 108, 66], [33, 102, 57]],
]  # fmt: skip
"""9x9 BGR pixels around a ball of 1 px radius (at the middle) on a 640x360 broadcast frame."""


def test_a_one_pixel_ball_is_brighter_in_every_channel_but_not_white() -> None:
    img = cv2.copyMakeBorder(np.array(BROADCAST_BALL, np.uint8), 8, 8, 8, 8, cv2.BORDER_REPLICATE)
    assert int(whiteness(img).max()) < 28  # the search's least contrast
    assert int(brighter_in_every_channel(img, 1.1)[12, 12]) >= 28


def test_a_coloured_kit_is_not_brighter_in_every_channel() -> None:
    img = np.full((40, 40, 3), (35, 110, 38), np.uint8)
    cv2.circle(img, (20, 20), 1, (20, 220, 245), -1)  # yellow: no blue over the grass's
    assert int(brighter_in_every_channel(img, 1.0).max()) == 0


@pytest.mark.parametrize(("typical", "found"), [(1.1, True), (2.0, False)])
def test_a_one_pixel_ball_is_a_candidate_only_where_the_ball_is_that_small(
    monkeypatch: pytest.MonkeyPatch, typical: float, found: bool
) -> None:
    """ball_detection's search finds the broadcast frame's 1 px ball when the ball at the
    frame's middle is 1.1 px, under 1.45 px (its whiteness alone is under the search's least
    contrast); where the ball should be 2 px, the search sized for that does not take the
    blob."""
    patch = np.array(BROADCAST_BALL, np.uint8)
    frame = np.tile(patch[6:9, :3], (120, 214, 1))[:360, :640].copy()  # its plain grass, tiled
    frame[200:209, 300:309] = patch
    scene = BallScene(None, [])
    monkeypatch.setattr(scene, "typical_radius", lambda width, height: typical)
    ctx = PluginContext(0, "f-000000", {}, {}, VideoInfo(640, 360, 25.0, 1))
    near = [c for c in _candidates(frame, ctx, scene) if math.dist(c[0], (304, 204)) <= 2]
    assert bool(near) is found


@given(
    hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
        elements=st.sampled_from([0, 0, 0, 1, 255]),
    )
)
def test_nonzero_xy_is_find_non_zero(mask: np.ndarray) -> None:
    # Sizes that are and are not a multiple of the eight pixels read at a time.
    found = cv2.findNonZero(mask)
    expected = np.zeros((0, 2), np.int64) if found is None else found.reshape(-1, 2)
    assert _nonzero_xy(mask).tolist() == expected.tolist()


@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=3, max_dims=3, min_side=3, max_side=3)))
def test_whiteness_is_twice_the_darkest_channel_less_the_brightest(frame: np.ndarray) -> None:
    wide = frame.astype(np.int32)
    white, bright = whiteness_and_brightness(frame)
    assert white.tolist() == np.clip(2 * wide.min(axis=2) - wide.max(axis=2), 0, 255).tolist()
    assert bright.tolist() == frame.max(axis=2).tolist()


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=30),
    st.floats(1.0, 6.0),
)
def test_crowded_is_an_earlier_peak_within_reach(
    points: list[tuple[int, int]], reach: float
) -> None:
    x = np.array([p[0] for p in points], np.int64)
    y = np.array([p[1] for p in points], np.int64)
    expected = [
        any(abs(qx - px) <= reach and abs(qy - py) <= reach for qx, qy in points[:i])
        for i, (px, py) in enumerate(points)
    ]
    assert _crowded(x, y, reach) == expected


def test_peaks_past_those_compared_at_once_are_checked_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Many blobs, some of them two peaks close together: the same candidates whether the
    # pairwise comparison covers all ranked peaks or only the first few.
    rng = np.random.default_rng(3)
    img = np.full((120, 160, 3), GRASS, np.uint8)
    for x, y in rng.integers(8, 112, (60, 2)):
        cv2.circle(img, (int(x), int(y)), 2, WHITE, -1)
        cv2.circle(img, (int(x) + 3, int(y)), 1, WHITE, -1)
    white = whiteness(img)
    whole = find_candidates(white, None, 3.0)
    monkeypatch.setattr(ball_candidates, "_CROWDED_AT_ONCE", 4)
    assert len(whole) > 4
    assert find_candidates(white, None, 3.0) == whole


def test_a_search_written_into_the_arrays_of_an_earlier_frame_finds_what_fresh_ones_find() -> None:
    """ball_detection's search writes its full-frame images into arrays kept from frame to
    frame: what is left there from another frame changes nothing, with a homography (the
    pitch area) and people (the kit taken out of the region), and a near camera's frames
    (a second search, on a shrunk image, with arrays of its own) between the others'."""
    from realtime_nb.vision.plugins.pipeline import run_plugins
    from realtime_nb.vision.plugins.registry import default_registry
    from realtime_nb.vision.synthetic import synthetic_match

    near = {"camera_height": 9.5, "camera_distance": 11.0, "fov": 24.0}
    cases = []
    for knobs in ({}, near):
        clip = synthetic_match(0.12, 25, 640, 360, seed=5, kits=1, **knobs)
        plugins = [default_registry.get(n)() for n in ("pitch_detection", "player_detection")]
        frames = list(clip)
        for run in run_plugins(plugins, frames, clip.info):
            ctx = PluginContext(run.index, "f-0", run.results, {}, clip.info)
            cases.append((frames[run.index], ctx, BallScene.of(ctx)))
    kept = (Buffers(), Buffers())
    searches = []
    for frame, ctx, scene in [cases[k] for k in (0, 3, 1, 4, 2, 5)]:  # the looks in turn
        assert scene.homography is not None and scene.people
        fresh = _candidates(frame, ctx, scene)
        searches.append({s for _, _, s in _search_log(frame, ctx, scene)})
        assert _candidates(frame, ctx, scene, kept) == fresh
    assert {0} in searches and {0, 1} in searches  # the near look's frames ran both


def test_a_shrunk_first_search_leaves_the_kept_planes_at_the_frames_size() -> None:
    # A near camera at 1920x1080: the ball is some 8 px at the middle, so the first search
    # runs on a frame shrunk by 2. Its images must not take the planes' buffers (each frame
    # would then make the planes anew, at two sizes by turns).
    from realtime_nb.vision.plugins.pipeline import run_plugins
    from realtime_nb.vision.plugins.registry import default_registry
    from realtime_nb.vision.synthetic import synthetic_match

    knobs = {"camera_height": 12.0, "camera_distance": 14.0, "fov": 28.0}
    clip = synthetic_match(0.12, 25, 1920, 1080, seed=5, kits=1, **knobs)
    plugins = [default_registry.get(n)() for n in ("pitch_detection", "player_detection")]
    frames = list(clip)
    kept = (Buffers(), Buffers())
    planes = []
    for run in run_plugins(plugins, frames, clip.info):
        ctx = PluginContext(run.index, "f-0", run.results, {}, clip.info)
        scene = BallScene.of(ctx)
        assert ball_module._scale(scene.typical_radius(1920, 1080), (0, 0))[0] > 1
        _candidates(frames[run.index], ctx, scene, kept)
        planes.append([kept[0].get(f"channel {k}", (1080, 1920)) for k in range(3)])
    for before, after in itertools.pairwise(planes):
        assert all(a is b for a, b in zip(before, after, strict=True))


def test_a_ball_against_a_white_sock_on_a_large_frame_is_a_candidate() -> None:
    # A player's white sock with the ball against its foot, drawn at 1760x990 where the ball
    # is some 4 px at the frame's middle: shrunk by 2 (the search's rule before), the ball and
    # the sock were one blob, found nowhere or at the sock some 8 px off.
    from realtime_nb.vision.synthetic import synthetic_match

    clip = synthetic_match(0.24, 25, 1760, 990, seed=82, kits=1, spots=True, skin_tones=True)
    frames = list(clip)
    for index in (0, 3, 5):
        ball = clip.truth[index].ball
        assert ball is not None
        x0, y0 = int(ball.center[0]) - 64, int(ball.center[1]) - 64
        crop = frames[index][y0 : y0 + 128, x0 : x0 + 128]
        region = np.full(crop.shape[:2], 255, np.uint8)
        found = _search(whiteness(crop), region, 4.1, (0, 0), 0)
        at = (ball.center[0] - x0, ball.center[1] - y0)
        assert any(math.dist(ball_module._full(c, f), at) <= 3.0 for c, f, _ in found)


def _search_log(frame: np.ndarray, ctx: PluginContext, scene: BallScene) -> list:
    """What each search of _candidates found on ``frame``, (candidate, factor, search)."""
    found: list = []
    original = ball_module._search

    def logged(*args: object, **kwargs: object) -> list:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        found.extend(result)
        return result

    ball_module._search = logged  # type: ignore[assignment]
    try:
        _candidates(frame, ctx, scene)
    finally:
        ball_module._search = original  # type: ignore[assignment]
    return found


@given(hnp.arrays(np.uint8, (12, 16, 3)), hnp.arrays(np.uint8, (12, 16, 3)))
def test_whiteness_into_used_buffers_is_whiteness(first: np.ndarray, second: np.ndarray) -> None:
    buffers = Buffers()
    whiteness_and_brightness(first, None, buffers)
    brighter_in_every_channel(first, 1.0, None, buffers)
    white, bright = whiteness_and_brightness(second, None, buffers)
    fresh_white, fresh_bright = whiteness_and_brightness(second)
    assert np.array_equal(white, fresh_white) and np.array_equal(bright, fresh_bright)
    assert np.array_equal(
        brighter_in_every_channel(second, 1.0, None, buffers),
        brighter_in_every_channel(second, 1.0),
    )


@pytest.mark.parametrize("radius", [1.5, 3.2, 6.0])
@pytest.mark.parametrize("streak", [(0, 0), (9, 0), (0, 13)])
@pytest.mark.parametrize("corner", [(5, 4), (0, 30)])
def test_peaks_filtered_around_the_region_alone_are_those_of_the_whole_image(
    radius: float, streak: tuple[int, int], corner: tuple[int, int]
) -> None:
    # The filters run on the region's bounding rectangle and a margin only; a region that
    # also holds the image's two corners (too near the border for any peak) makes them run
    # on the whole image. Arrays left full of another frame's values outside the rectangle
    # change nothing. Regions inside the image and against its left side.
    rng = np.random.default_rng(5)
    img = np.full((150, 200, 3), GRASS, np.uint8)
    for x, y in rng.integers(0, 200, (160, 2)):
        cv2.circle(img, (int(x), int(y) % 150), int(rng.integers(1, 5)), WHITE, -1)
    for x, y in rng.integers(0, 150, (6, 2)):
        cv2.line(img, (int(x), int(y)), (int(x) + 40, int(y) + 9), WHITE, 1)
    white = whiteness(img)
    region = np.zeros(white.shape, np.uint8)
    x0, y0 = corner
    region[y0:100, x0:120] = 255  # its whole outline on its bounding rectangle
    whole = region.copy()
    whole[0, 0] = whole[-1, -1] = 255
    stale = Buffers()
    for name in ("tophat", "smooth"):
        stale.get(name, white.shape).fill(255)
    expected = find_candidates(white, whole, radius, streak=streak)
    assert len(expected) > 3
    assert find_candidates(white, region, radius, streak=streak, buffers=stale) == expected


@pytest.mark.parametrize("radius", [1.0, 1.4])
def test_brighter_in_every_channel_on_a_rectangle_is_the_whole_frames_within_its_reach(
    radius: float,
) -> None:
    # Any less reach, and the rectangle's border shows (checked by hand at one pixel less).
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (60, 80, 3), np.uint8)
    reach = raised_reach(radius)
    whole = brighter_in_every_channel(img, radius)
    part = brighter_in_every_channel(img[10:50, 5:70], radius)
    inner = (slice(10 + reach, 50 - reach), slice(5 + reach, 70 - reach))
    assert np.array_equal(part[reach:-reach, reach:-reach], whole[inner])


@given(st.integers(1, 4), st.integers(0, 3), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_around_reads_each_step_clipped_to_the_image(
    margin: int, longer_x: int, longer_y: int, seed: int
) -> None:
    # Points at least margin px from the border; steps of margin px (read with no clipping)
    # and longer ones that may leave the image (clipped), against plain 2-D indexing.
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 256, (13, 17), np.uint8)
    xy = np.column_stack(
        [rng.integers(margin, 17 - margin, 20), rng.integers(margin, 13 - margin, 20)]
    ).astype(np.int64)
    for sx, sy in ((margin, margin), (margin + longer_x, margin + longer_y)):
        expected = [
            [values[min(max(y + oy * sy, 0), 12), min(max(x + ox * sx, 0), 16)] for x, y in xy]
            for ox, oy in (
                (0, 0),
                (-1, 0),
                (1, 0),
                (0, -1),
                (0, 1),
                (-1, -1),
                (1, 1),
                (1, -1),
                (-1, 1),
            )
        ]
        assert _around(values, xy, (sx, sy), margin).tolist() == expected


@pytest.mark.parametrize("reach", range(1, 40))
def test_steps_out_are_where_a_whole_point_plus_the_exact_step_rounds_to(reach: int) -> None:
    # _touching adds these whole steps where it rounded each point plus the exact step.
    x = np.arange(0, 4096)[None]
    ox, oy = _steps_out(reach)
    assert (x + ox).tolist() == np.round(x + _DIRECTION_X * reach).astype(np.int64).tolist()
    assert (x + oy).tolist() == np.round(x + _DIRECTION_Y * reach).astype(np.int64).tolist()


def test_a_ball_against_a_sock_above_touches_only_upward() -> None:
    img = np.full((80, 80, 3), GRASS, np.uint8)
    img[20:37, 38:42] = WHITE  # a sock coming down onto the ball
    cv2.circle(img, (40, 40), 4, WHITE, -1)
    img[38:60, 64:68] = WHITE  # a post beside and under another ball
    cv2.circle(img, (60, 40), 4, WHITE, -1)
    found = find_candidates(whiteness(img), None, 4.0)
    under = next(c for c in found if abs(c.x - 40) <= 1.5 and abs(c.y - 40) <= 2.0)
    beside = next(c for c in found if abs(c.x - 60) <= 1.5 and abs(c.y - 40) <= 2.0)
    assert under.touching >= 1 and under.touching_above == under.touching
    assert beside.touching >= 1 and beside.touching_above == 0


def test_at_someone_s_feet_only_touching_to_the_sides_or_below_lowers_the_score() -> None:
    # The same blob twice, once at a player's feet: the legs above a ball at the feet are
    # expected there, and only there.
    blob = BallCandidate(40.0, 60.0, 3.0, 200.0, 0.7, 2, 2)
    side = BallCandidate(40.0, 60.0, 3.0, 200.0, 0.7, 2, 0)
    feet = BallScene(None, [[34.0, 20.0, 46.0, 59.0]])
    away = BallScene(None, [])
    assert bool(feet.places(np.array([[40.0, 60.0]]))[1][0])
    at_feet = [s[0] for s in _scored([(c, 1, 0) for c in (blob, side)], feet, 3.0, 200.0)]
    assert at_feet[0] > at_feet[1]
    free = [s[0] for s in _scored([(c, 1, 0) for c in (blob, side)], away, 3.0, 200.0)]
    assert free[0] == free[1]


def test_opencvs_hsv_value_is_the_brightest_channel_of_every_colour() -> None:
    # What lets ball_detection read pitch_detection's shared value plane as the brightness.
    levels = np.arange(256, dtype=np.uint8)
    colours = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(
        4096, 4096, 3
    )
    value = cv2.cvtColor(colours, cv2.COLOR_BGR2HSV)[:, :, 2]
    assert np.array_equal(value, colours.max(axis=2))


def test_a_known_brightness_is_read_not_worked_out_again() -> None:
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 256, (40, 60, 3)).astype(np.uint8)
    value = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)[:, :, 2])
    value.flags.writeable = False  # as shared: read-only
    white, bright = whiteness_and_brightness(frame, None, Buffers(), value)
    plain_white, plain_bright = whiteness_and_brightness(frame)
    assert bright is value and np.array_equal(bright, plain_bright)
    assert np.array_equal(white, plain_white)


@pytest.mark.parametrize("homography", [True, False])
def test_the_region_from_player_detections_drawn_polygon_is_the_one_drawn_here(
    homography: bool,
) -> None:
    # player_detection shares the pitch polygon's mask (grass.pitch_region); ball_detection
    # reads it, and copies it where it takes the kit out in place (no homography, no area).
    from realtime_nb.vision.plugins.ball import _region
    from realtime_nb.vision.plugins.grass import POLYGON_IMAGE, pitch_region

    frame = np.full((90, 160, 3), GRASS, np.uint8)
    polygon = [[10, 20], [150, 15], [155, 85], [5, 88]]
    pitch: dict[str, object] = {"pitch_polygon": polygon}
    if homography:
        pitch |= {"homography": [[4.0, 0.0, -20.0], [0.0, 4.0, -60.0], [0.0, 0.0, 1.0]]}
    results = {"pitch_detection": pitch}
    info = VideoInfo(160, 90, 25.0, 1)
    shared = PluginContext(0, "f", results, {}, info)
    pitch_region(shared, np.zeros((90, 160), np.uint8))
    assert POLYGON_IMAGE in shared.images
    alone = PluginContext(0, "f", results, {}, info)
    drawn = _region(frame, alone, BallScene.of(alone), Buffers())
    read = _region(frame, shared, BallScene.of(shared), Buffers())
    assert np.array_equal(read, drawn) and read.flags.writeable
    assert 0 < int((read == 0).sum()) < read.size


@pytest.mark.parametrize("degrees", [0.0, 14.0, 25.0, 45.0, 71.0, 90.0])
def test_a_piece_of_a_line_is_as_wide_as_the_line_and_a_ball_on_it_as_the_ball(
    degrees: float,
) -> None:
    # A line 3 px wide at any slant, a dark leg cutting it (the piece runs on one way only),
    # and a ball 4.5 px in radius lying on it further along.
    img = np.full((120, 160, 3), GRASS, np.uint8)
    dx, dy = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    start, end = (80 - 70 * dx, 60 - 70 * dy), (80 + 70 * dx, 60 + 70 * dy)
    shift = 4
    line = [(round(x * 2**shift), round(y * 2**shift)) for x, y in (start, end)]
    cv2.line(img, line[0], line[1], WHITE, 3, cv2.LINE_AA, shift)
    leg = (80 - 8 * dx, 60 - 8 * dy)
    cv2.circle(img, (round(leg[0]), round(leg[1])), 4, (30, 30, 30), -1)
    piece = (80 + 0.5 * dx, 60 + 0.5 * dy)  # beside the leg
    on = (80 + 40 * dx, 60 + 40 * dy)
    cv2.circle(img, (round(on[0]), round(on[1])), 4, WHITE, -1, cv2.LINE_AA)
    assert ball_candidates.width_across_a_line(img, piece, 4.5) < 0.75 * 9.0
    assert ball_candidates.width_across_a_line(img, on, 4.5) >= 0.9 * 9.0
    # Further along, away from the leg and the ball, the line runs on both ways: as narrow.
    along = (80 + 20 * dx, 60 + 20 * dy)
    assert ball_candidates.width_across_a_line(img, along, 4.5) < 0.75 * 9.0


def test_a_ball_away_from_any_line_does_not_run_on() -> None:
    img = np.full((60, 80, 3), GRASS, np.uint8)
    cv2.circle(img, (40, 30), 4, WHITE, -1)
    assert ball_candidates.width_across_a_line(img, (40.0, 30.0), 4.5) == math.inf
    # Nor does grass, or a ball at the frame's corner (read from the pixels the frame has).
    assert ball_candidates.width_across_a_line(img, (10.0, 10.0), 4.5) == math.inf
    cv2.circle(img, (0, 0), 4, WHITE, -1)
    assert ball_candidates.width_across_a_line(img, (0.0, 0.0), 4.5) == math.inf
    assert ball_candidates.width_across_a_line(img[:1, :1], (0.0, 0.0), 4.5) == math.inf
