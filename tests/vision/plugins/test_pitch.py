"""Tests of realtime_nb.vision.plugins.pitch: the pitch polygon, its corners, and the homography from
the pitch's markings on broadcast-like synthetic clips (checked against their ground truth)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import msgspec
import numpy as np
import pytest

from realtime_nb.vision.plugins import PluginContext, PluginWarning, VideoInfo
from realtime_nb.vision.plugins import pitch as pitch_plugin
from realtime_nb.vision.plugins.grass import hsv_planes
from realtime_nb.vision.plugins.pipeline import run_plugins
from realtime_nb.vision.plugins.pitch import FALLBACK_WARNING, PitchDetection
from realtime_nb.vision.plugins.pitch_model import ACROSS, ALONG, ARCS, project
from realtime_nb.vision.plugins.pitch_registration import PITCH_CORNERS, corner_homography
from realtime_nb.vision.plugins.radar import to_pitch
from realtime_nb.vision.synthetic import FrameTruth, SyntheticMatch, synthetic_match


@dataclass
class Run:
    """pitch_detection over a clip: the truth, the results and the warnings, per frame."""

    clip: SyntheticMatch
    truths: list[FrameTruth]
    results: list[dict[str, Any]]
    warnings: list[PluginWarning]


def run_pitch(clip: SyntheticMatch, frames: list[Any] | None = None) -> Run:
    results, warnings = [], []
    for run in run_plugins([PitchDetection()], list(clip) if frames is None else frames, clip.info):
        results.append(run.results["pitch_detection"])
        warnings.extend(run.outcomes[0].warnings)
    return Run(clip, list(clip.truth)[: len(results)], results, warnings)


@pytest.fixture(scope="module", params=[(640, 360, 0), (320, 180, 3)], ids=["640x360", "320x180"])
def run(request: pytest.FixtureRequest) -> Run:
    width, height, seed = request.param
    return run_pitch(synthetic_match(seconds=2, width=width, height=height, seed=seed))


def position_errors(truth: FrameTruth, homography: list[list[float]], w: int, h: int) -> Any:
    """Metres between the true and the estimated pitch point of a grid of image points that
    lie on the pitch (up to 3 m outside it)."""
    grid = [(x, y) for x in np.linspace(0, w - 1, 12) for y in np.linspace(0, h - 1, 8)]
    true = np.array(to_pitch(facing(truth.homography, (w / 2, h - 1)), grid))
    on_pitch = (true[:, 0] > -3) & (true[:, 0] < 108) & (true[:, 1] > -3) & (true[:, 1] < 71)
    found = np.array(to_pitch(homography, grid))
    # A point on the pitch that the found homography puts behind the camera is a gross error.
    errors = np.where(np.isnan(found).any(axis=1), np.inf, np.linalg.norm(true - found, axis=1))
    return errors[on_pitch]


def facing(h: Any, ground: tuple[float, float]) -> Any:
    """The renderer's homography (defined up to scale, sign included) with the sign that puts
    the image point ``ground`` (on the pitch) in front of the camera."""
    h = np.asarray(h, np.float64)
    return h if np.linalg.inv(h)[2] @ (*ground, 1.0) > 0 else -h


def test_results_are_plain_json(run: Run) -> None:
    for result in run.results:
        assert msgspec.json.decode(msgspec.json.encode(result)) == result


def test_homography_without_four_corners(run: Run) -> None:
    """The broadcast camera sees at most one corner, and the homography comes anyway."""
    assert all(len(t.pitch_corners) < 4 for t in run.truths)
    w, h = run.clip.info.width, run.clip.info.height
    found = [r for r in run.results if r["homography"] is not None]
    assert len(found) >= 0.9 * len(run.results)  # measured 50/50 and 47/50
    errors = np.concatenate(
        [
            position_errors(t, r["homography"], w, h)
            for t, r in zip(run.truths, run.results, strict=True)
            if r["homography"] is not None
        ]
    )
    assert np.median(errors) <= 0.5  # measured 0.02 m at 640x360 and 0.05 m at 320x180
    assert np.percentile(errors, 95) <= 2.0  # measured 0.06 m and 0.24 m
    assert all(not r["fallback"] and r["quality"] >= 0.5 for r in found)


def test_later_frames_are_tracked(run: Run) -> None:
    tracked = [r["tracked"] for r in run.results[1:] if r["homography"] is not None]
    assert sum(tracked) >= 0.9 * len(tracked)


def test_intersections_are_junctions_on_the_image(run: Run) -> None:
    found = [r for r in run.results if r["homography"] is not None]
    assert max(len(r["intersections"]) for r in found) >= 2
    for result in found:
        h = np.array(result["homography"])
        for junction in result["intersections"]:
            x, y = junction["pitch"]
            assert x in (0.0, 5.5, 16.5, 52.5, 88.5, 99.5, 105.0)
            assert y in (0.0, 13.84, 24.84, 43.16, 54.16, 68.0)
            u, v, s = h @ (x, y, 1.0)
            assert np.hypot(u / s - junction["image"][0], v / s - junction["image"][1]) < 0.2


def test_pitch_corners_found_when_visible(run: Run) -> None:
    width, height = run.clip.info.width, run.clip.info.height
    seen = found = 0
    for truth, result in zip(run.truths, run.results, strict=True):
        for u, v in truth.pitch_corners:
            if 8 < u < width - 8 and 8 < v < height - 8:
                seen += 1
                found += any(np.hypot(u - x, v - y) < 8 for x, y in result["detected_corners"])
        assert result["coverage"] > 0.4
    assert seen > 0
    assert found / seen >= 0.8  # measured 1.0


def test_fallback_warns_low_once_per_episode() -> None:
    """Grass with no markings has no homography: fallback, warned at the start of each such
    episode and not on every frame."""
    clip = synthetic_match(seconds=1, seed=4)
    blank = np.zeros((360, 640, 3), np.uint8)
    blank[:] = (50, 135, 60)
    frames = [blank] * 3 + [clip.frame(i) for i in range(3, 8)] + [blank] * 3
    result = run_pitch(clip, frames)
    fallback = [r["fallback"] for r in result.results]
    assert fallback == [True] * 3 + [False] * 5 + [True] * 3
    assert all(r["homography"] is None and len(r["corners"]) == 4 for r in result.results[:3])
    assert [(w.message, w.severity, w.frame_id) for w in result.warnings] == [
        (FALLBACK_WARNING, "low", "f-000000"),
        (FALLBACK_WARNING, "low", "f-000008"),
    ]
    assert FALLBACK_WARNING == "corners not detected, using fallback"


FOUR_CORNERS = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float32)


def four_corner_frame() -> tuple[Any, Any]:
    """A frame of grass with only the outer lines, all four corners in view; and its truth."""
    image = np.array([[60, 330], [580, 330], [500, 60], [140, 60]], np.float32)
    truth = cv2.getPerspectiveTransform(FOUR_CORNERS, image)

    def to_image(points: list[list[float]]) -> Any:
        pts = np.array(points, np.float32).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, truth).reshape(-1, 2).round().astype(np.int32)

    frame = np.full((360, 640, 3), 60, np.uint8)
    cv2.fillConvexPoly(frame, to_image([[-4, -4], [109, -4], [109, 72], [-4, 72]]), (50, 140, 60))
    cv2.polylines(frame, [to_image(FOUR_CORNERS.tolist())], True, (255, 255, 255), 2)
    return frame, truth


def test_homography_from_four_corners() -> None:
    frame, truth = four_corner_frame()
    pitch = FOUR_CORNERS
    ctx = PluginContext(0, "f-000000", {}, {}, VideoInfo(640, 360, 25, 1))
    result = PitchDetection().process(frame, ctx)
    assert not ctx.warnings
    assert not result["fallback"]
    found = np.array(result["homography"])
    for x, y in pitch:
        u, v, w = found @ (x, y, 1)
        expected = cv2.perspectiveTransform(np.array([[[x, y]]], np.float32), truth)[0, 0]
        assert np.hypot(u / w - expected[0], v / w - expected[1]) < 3


def test_four_corners_compete_with_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Four corners found in the wrong places make a candidate like any other: the tracked
    homography that fits the lines better wins, and the frame stays tracked."""
    frame, truth = four_corner_frame()
    state: dict[str, Any] = {}
    info = VideoInfo(640, 360, 25, 1)
    first = PitchDetection().process(frame, PluginContext(0, "f-000000", {}, state, info))
    wrong = [(100.0, 300.0), (540.0, 320.0), (470.0, 90.0), (180.0, 70.0)]
    monkeypatch.setattr(pitch_plugin, "_outer_corners", lambda *_: wrong)
    second = PitchDetection().process(frame, PluginContext(1, "f-000001", {}, state, info))
    assert second["tracked"] and second["quality"] >= first["quality"] - 0.01
    found = np.array(second["homography"])
    for x, y in FOUR_CORNERS:
        u, v, w = found @ (x, y, 1)
        expected = cv2.perspectiveTransform(np.array([[[x, y]]], np.float32), truth)[0, 0]
        assert np.hypot(u / w - expected[0], v / w - expected[1]) < 3


def test_no_pitch_at_all() -> None:
    ctx = PluginContext(0, "f-000000", {}, {}, VideoInfo(64, 48, 25, 1))
    result = PitchDetection().process(np.zeros((48, 64, 3), np.uint8), ctx)
    assert result["pitch_polygon"] == [] and result["coverage"] == 0.0
    assert result["homography"] is None and result["fallback"]
    assert [w.message for w in ctx.warnings] == [FALLBACK_WARNING]


def test_draw_marks_the_frame(run: Run) -> None:
    index = next(i for i, r in enumerate(run.results) if r["homography"] is not None)
    frame = run.clip.frame(index)
    before = frame.copy()
    PitchDetection().draw(frame, run.results[index])
    assert not np.array_equal(frame, before)
    PitchDetection().draw(frame, {})  # an empty result draws nothing and does not fail


def pinhole(centre: tuple[float, float, float], target: tuple[float, float], focal: float) -> Any:
    """Pitch-to-image homography (640x360) of a camera at ``centre`` looking at ``target``."""
    c = np.array(centre)
    forward = np.array([*target, 0.0]) - c
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    rotation = np.stack([right, np.cross(forward, right), forward])
    k = np.array([[focal, 0, 320], [0, focal, 180], [0, 0, 1]])
    return (k @ np.column_stack([rotation, -rotation @ c]))[:, [0, 1, 3]]


def drawn_pitch(h: Any) -> Any:
    """A frame of a plain pitch (grass, 12 cm lines drawn from above at 10 px/m) seen
    through ``h``: no synthetic.py involved, so no camera or texture of its own."""
    scale, margin = 10, 10
    top = np.zeros(((68 + 2 * margin) * scale, (105 + 2 * margin) * scale, 3), np.uint8)
    top[:] = (45, 120, 55)

    def px(x: float, y: float) -> tuple[int, int]:
        return round((x + margin) * scale * 16), round((y + margin) * scale * 16)

    white = (235, 235, 235)
    for y, x0, x1 in ALONG:
        cv2.line(top, px(x0, y), px(x1, y), white, 2, cv2.LINE_AA, shift=4)
    for x, y0, y1 in ACROSS:
        cv2.line(top, px(x, y0), px(x, y1), white, 2, cv2.LINE_AA, shift=4)
    for cx, cy, r, a0, a1 in ARCS:
        angles = np.radians(np.linspace(a0, a1, 90))
        pts = np.array([px(cx + r * math.cos(a), cy + r * math.sin(a)) for a in angles])
        cv2.polylines(top, [pts], False, white, 2, cv2.LINE_AA, shift=4)
    to_pitch_m = np.array([[1 / scale, 0, -margin], [0, 1 / scale, -margin], [0, 0, 1]])
    frame = cv2.warpPerspective(
        top, h @ to_pitch_m, (640, 360), flags=cv2.INTER_AREA, borderValue=(70, 60, 60)
    )
    return np.asarray(frame, np.uint8)


@pytest.mark.parametrize(
    ("centre", "target", "focal"),
    [
        ((30.0, -40.0, 25.0), (25.0, 34.0), 700.0),  # higher, further back, left half
        ((70.0, -20.0, 12.0), (88.0, 40.0), 1000.0),  # low and zoomed on the right box
        ((52.5, -35.0, 20.0), (52.5, 34.0), 650.0),  # the centre, wide
    ],
)
def test_any_broadcast_camera(
    centre: tuple[float, float, float], target: tuple[float, float], focal: float
) -> None:
    """Cameras unlike the synthetic match's (height, distance, focal length, aim): the
    homography is found from the frame alone."""
    truth = pinhole(centre, target, focal)
    info = VideoInfo(640, 360, 25, 1)
    ctx = PluginContext(0, "f-000000", {}, {}, info)
    result = PitchDetection().process(drawn_pitch(truth), ctx)
    assert result["homography"] is not None, result["quality"]
    grid = [(x, y) for x in np.linspace(0, 639, 12) for y in np.linspace(0, 359, 8)]
    true = np.array(to_pitch(truth.tolist(), grid))
    on_pitch = (true[:, 0] > 0) & (true[:, 0] < 105) & (true[:, 1] > 0) & (true[:, 1] < 68)
    found = np.array(to_pitch(result["homography"], grid))
    errors = np.linalg.norm(true - found, axis=1)[on_pitch]
    # Measured: median 0.01, 0.02 and 0.06 m; p95 0.02, 0.06 and 0.09 m.
    assert np.median(errors) < 0.5 and np.percentile(errors, 95) < 2.0, errors.max()


@pytest.mark.parametrize("lighting", [0.3, 2.5])
def test_dim_and_glaring_light(lighting: float) -> None:
    """In glare the grass is as bright as the lines (only less saturated); in dim light the
    lines are faint."""
    clip = synthetic_match(seconds=1, width=320, height=180, seed=4, lighting=lighting)
    result = run_pitch(clip)
    found = [
        (t, r["homography"])
        for t, r in zip(result.truths, result.results, strict=True)
        if r["homography"] is not None
    ]
    # Measured 22/25 in dim light (the first three frames, whose only fits are wrong, are
    # refused) and 25/25 in glare.
    assert len(found) >= 0.8 * len(clip)
    per_frame = [position_errors(t, h, 320, 180) for t, h in found]
    assert max(np.median(e) for e in per_frame) < 1.0  # no wrong fit reported
    assert np.median(np.concatenate(per_frame)) < 0.5  # measured 0.03 m and 0.02 m


def test_corner_homography_from_corners_in_any_order() -> None:
    image = [(500.0, 60.0), (60.0, 330.0), (140.0, 60.0), (580.0, 330.0)]
    h = corner_homography(image)
    assert h is not None
    mapped = project(h, PITCH_CORNERS)
    np.testing.assert_allclose(mapped, [[60, 330], [580, 330], [500, 60], [140, 60]], atol=1e-6)
    assert corner_homography([(0.0, 0.0), (10.0, 10.0), (20.0, 20.0), (30.0, 30.0)]) is None


NEAR_VIEWS = {
    # (camera height, distance behind the near touchline, field of view, random seed): clips
    # where a wrong fit was reported before (the first two) or nothing found (the third).
    "arc and touchline, drifting before": (9.0, 10.0, 22.0, 3),
    "penalty arc taken for the circle before": (12.0, 9.0, 28.0, 2),
    "circle and halfway line only": (11.0, 11.0, 24.0, 6),
}


def feet_errors(truth: FrameTruth, homography: list[list[float]]) -> Any:
    """Metres between where each visible person stands and where the homography puts their
    feet (the evaluation's homography error)."""
    feet = [((p.box[0] + p.box[2]) / 2, float(p.box[3])) for p in truth.players]
    true = np.array(to_pitch(facing(truth.homography, feet[0]), feet))
    return np.linalg.norm(true - np.array(to_pitch(homography, feet)), axis=1)


@pytest.mark.parametrize("view", list(NEAR_VIEWS))
def test_near_low_views_never_report_a_wrong_fit(view: str) -> None:
    """A camera close to the pitch and low sees no corner and few markings: the homography
    is found in most frames, and never a wrong one (better none)."""
    height, distance, fov, seed = NEAR_VIEWS[view]
    clip = synthetic_match(
        seconds=2, seed=seed, kits=1, spots=True, camera_height=height,
        camera_distance=distance, fov=fov,
    )  # fmt: skip
    result = run_pitch(clip)
    found = [
        (t, r["homography"])
        for t, r in zip(result.truths, result.results, strict=True)
        if r["homography"] is not None and t.players
    ]
    errors = [feet_errors(t, h) for t, h in found]
    # Measured 49, 49 and 50 of 50 frames; p95 0.28, 0.12 and 1.38 m (the circle and the
    # halfway line alone leave the fit 0.4 to 1 m off); no frame's median above 1.02 m.
    assert len(found) >= 45
    assert max(np.median(e) for e in errors) < 1.5  # no wrong fit reported
    assert np.percentile(np.concatenate(errors), 95) < (2.0 if "only" in view else 0.5)


NARROW_VIEWS = {
    # (camera height, distance, field of view, random seed), 22 degrees across: clips where a
    # wrong fit found first (0.88 and 0.82) was tracked to the end (or lost and, its camera
    # position remembered, never found again), the right one scoring 0.95.
    "wrong fit tracked until searched again": (11.0, 14.0, 22.0, 13),
    "wrong camera position remembered": (11.0, 14.0, 22.0, 22),
}


@pytest.mark.parametrize("view", list(NARROW_VIEWS))
def test_narrow_views_end_on_the_right_fit(view: str) -> None:
    """On a narrow view of a penalty box or the centre circle the right camera is reported by
    the second half of the clip, whatever was found first."""
    height, distance, fov, seed = NARROW_VIEWS[view]
    clip = synthetic_match(
        seconds=2, seed=seed, kits=1, spots=True, skin_tones=True, camera_height=height,
        camera_distance=distance, fov=fov,
    )  # fmt: skip
    result = run_pitch(clip)
    late = list(zip(result.truths, result.results, strict=True))[25:]
    found = [(t, r["homography"]) for t, r in late if r["homography"] is not None and t.players]
    errors = np.concatenate([feet_errors(t, h) for t, h in found])
    # Measured 25 of 25 frames, p95 0.30 and 0.27 m (before: p95 3.6 m on 25, 3.0 m on 13).
    assert len(found) >= 23
    assert np.percentile(errors, 95) < 1.0


def test_corners_on_lines_come_from_the_homography() -> None:
    """A pitch corner the homography puts on white line, with line along both of its lines,
    is a detected corner; none is added where the line mask has no line."""
    h = pinhole((52.5, -30.0, 15.0), (15.0, 40.0), 700.0)  # the far left corner at (320, 143)
    frame = drawn_pitch(h)
    lines = cv2.inRange(frame, (200, 200, 200), (255, 255, 255))
    near = cv2.dilate(lines, np.ones((7, 7), np.uint8)) > 0
    found = pitch_plugin._with_corners_on_lines([], h, near)
    assert len(found) == 1 and math.dist(found[0], (320.0, 143.2)) < 1.0
    assert pitch_plugin._with_corners_on_lines([(321.0, 143.0)], h, near) == [(321.0, 143.0)]
    assert pitch_plugin._with_corners_on_lines([], h, np.zeros_like(near)) == []


def test_a_wrong_remembered_camera_position_is_dropped() -> None:
    """A camera position remembered from a wrong fit does not block the right one: searched
    from anywhere, it is found and the position forgotten."""
    truth = pinhole((52.5, -35.0, 20.0), (52.5, 34.0), 650.0)
    wrong = [[10.0, -90.0, 40.0]]
    state: dict[str, Any] = {"centres": list(wrong)}
    ctx = PluginContext(0, "f-000000", {}, state, VideoInfo(640, 360, 25, 1))
    result = PitchDetection().process(drawn_pitch(truth), ctx)
    assert result["homography"] is not None
    grid = [(x, y) for x in np.linspace(100, 539, 6) for y in np.linspace(100, 299, 4)]
    errors = np.linalg.norm(
        np.array(to_pitch(truth.tolist(), grid)) - np.array(to_pitch(result["homography"], grid)),
        axis=1,
    )
    assert np.percentile(errors, 95) < 0.5
    assert wrong[0] not in state.get("centres", [])


def test_an_audit_that_keeps_the_tracked_fit_waits_twice_as_long_for_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from realtime_nb.vision.plugins import pitch_registration as reg

    searched_at: list[int] = []
    frames = iter(range(1, 10_000))
    now = 0
    monkeypatch.setattr(reg, "_search", lambda img: searched_at.append(now) or [])
    tracked = reg._Fit(0.9, None, np.eye(3), True, True)  # type: ignore[arg-type]
    state: dict[str, Any] = {}
    for now in frames:
        assert reg._audited(None, state, tracked, None) == (tracked, None)  # type: ignore[arg-type]
        if now == 200:
            break
    # Gaps of 5, 10, 20, 40 and 80 frames while no search wins; every 5 frames would be 40.
    assert searched_at == [5, 15, 35, 75, 155]
    confident = reg._Fit(0.98, None, np.eye(3), True, True)  # type: ignore[arg-type]
    searched_at.clear()
    for _ in range(20):
        reg._audited(None, state, confident, None)  # type: ignore[arg-type]
    assert searched_at == []


def test_line_mask_keeps_lines_and_drops_specks_past_16_bit_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 1280x720 mask of one-pixel specks on every other row and column (more blobs than
    # 16-bit labels can number) with one long line: the line stays, the specks go. The specks
    # leave no solid grass, so the amid-grass test is switched off to reach the labelling.
    monkeypatch.setattr(pitch_plugin, "_amid_grass", lambda value, *_: np.full_like(value, 255))
    h, w = 720, 1280
    hsv = np.zeros((h, w, 3), np.uint8)
    hsv[:, :] = (60, 200, 100)  # grass
    hsv[::2, ::2] = (60, 20, 200)  # pale, bright specks
    hsv[300:302, 100:900] = (60, 20, 200)  # a line 800 px long
    green = cv2.inRange(hsv, (50, 150, 50), (70, 255, 150))
    inside = np.full((h, w), 255, np.uint8)
    grass = cv2.mean(hsv, mask=green)
    lines = pitch_plugin._line_mask(hsv, hsv_planes(hsv), green, inside, grass)
    assert lines[300:302, 100:900].all()
    assert not lines[:290].any() and not lines[310:].any()


def grass_scene() -> Any:
    """A 320x120 HSV image of plain grass to paint on."""
    hsv = np.zeros((120, 320, 3), np.uint8)
    hsv[...] = (45, 150, 120)
    return hsv


def line_mask_of(hsv: Any, hull_from: int = 0, hue_boards: bool = True) -> Any:
    """pitch_detection's line mask of an HSV image (through BGR, as a frame would come), the
    pitch's hull starting at row ``hull_from``."""
    hsv = np.asarray(cv2.cvtColor(cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR), cv2.COLOR_BGR2HSV))
    planes = hsv_planes(hsv)
    green = pitch_plugin.green_of_planes(*planes)
    inside = np.full(hsv.shape[:2], 255, np.uint8)
    inside[:hull_from] = 0
    grass = cv2.mean(hsv, mask=green)
    return pitch_plugin._line_mask(hsv, planes, green, inside, grass, hue_boards)


def test_line_mask_drops_a_bright_green_board_and_keeps_a_shaded_line() -> None:
    """White lettering on a green board beyond the grass is no marking; a line in shade, as
    much brighter than its grass as the shade is darker, is one."""
    hsv = grass_scene()
    hsv[10:22] = (45, 90, 220)  # a board in a bright green livery
    hsv[14:18, 40:280] = (0, 0, 255)  # its white lettering
    hsv[60:, :, 2] = 75  # shade over the near half
    hsv[90:92, 20:300] = (45, 120, 90)  # a faint line in the shade (15 brighter)
    mask = line_mask_of(hsv)
    assert not mask[8:24].any()
    assert mask[89:93, 40:280].mean() > 100


def test_line_mask_drops_lettering_on_a_green_board_at_the_pitch_s_edge() -> None:
    """At the frame's top, where one side of grass would do, lettering on a board in a bright
    green livery is still no marking: board green is near."""
    hsv = grass_scene()
    hsv[:8] = (45, 90, 220)  # a bright green board at the top of the frame
    hsv[3:6, 40:280] = (0, 0, 255)  # its white lettering, a few pixels above the grass
    assert not line_mask_of(hsv)[:8].any()


def wide_grass_scene() -> Any:
    """A 640x240 HSV image of plain grass to paint on (the boards' hue test starts at 640
    wide)."""
    hsv = np.zeros((240, 640, 3), np.uint8)
    hsv[...] = (45, 150, 120)
    return hsv


def test_line_mask_takes_green_off_the_grass_s_hue_for_a_board_from_640_wide() -> None:
    """A teal board counts as green, but 35 hue levels off the grass's: its pale lower edge,
    where the livery blends into the grass, is no far touchline. Counted as grass, the board
    gave that edge grass on both sides (broadcast tuning clip 306: the far touchline fitted
    there, 5 px above the true one)."""
    hsv = wide_grass_scene()
    hsv[:20] = (80, 200, 150)  # a teal board
    hsv[20:22, 20:620] = (60, 60, 190)  # its pale lower edge
    bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    planes = hsv_planes(np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)))
    assert pitch_plugin.green_of_planes(*planes)[5, 300] > 0
    assert not line_mask_of(hsv)[18:24].any()
    assert line_mask_of(hsv, hue_boards=False)[20:22, 40:600].all()


def test_line_mask_reads_the_grass_s_hue_where_most_green_is_and_keeps_shaded_lines() -> None:
    """The grass's hue is the commonest of the green pixels: a teal board over nearly half the
    frame does not take the grass for a board (the mean hue of the green, 61, would). A shade
    that shifts the grass's hue by less than _BOARD_HUE keeps its lines."""
    hsv = wide_grass_scene()
    hsv[:110] = (80, 200, 150)  # a teal board over nearly half the frame
    hsv[180:182, 20:620] = (45, 30, 230)  # a line on the grass below it
    assert line_mask_of(hsv)[180:182, 40:600].all()
    hsv = wide_grass_scene()
    hsv[:, :] = (40, 150, 140)  # lit grass
    hsv[150:, :] = (50, 150, 80)  # a quarter of it in shade, its hue shifted by 10
    hsv[200:202, 20:620] = (50, 60, 110)  # a line in the shade
    assert line_mask_of(hsv)[200:202, 40:600].mean() > 200


def test_line_mask_keeps_a_far_touchline_right_under_a_board_of_another_colour() -> None:
    """Grass on one side only is enough at the pitch's edge when no green board is near: the far
    touchline with a red board right behind it stays."""
    hsv = grass_scene()
    hsv[:10] = (0, 200, 200)  # a red board
    hsv[10:12, 10:310] = (45, 30, 230)  # the far touchline, right under it
    assert line_mask_of(hsv, hull_from=10)[10:12, 30:290].mean() > 200


def test_a_far_touchline_under_a_teal_board_is_fitted_where_it_is() -> None:
    """A broadcast tuning clip (random seed 306, 2 s at 640x360): a teal board right behind a
    far touchline too faint for the line mask. The board's pale lower edge was taken for the
    touchline, 5 px above it, in every frame: a homography in 45 frames of 50, 3 of them within
    1 m at the players' feet (median). Measured 45 of 45 with the board's hue told from the
    grass's."""
    from realtime_nb.vision.broadcast import BroadcastMatch, ClipConfig
    from realtime_nb.vision.evaluation_scoring import score_frame

    clip = BroadcastMatch(ClipConfig(seed=306, frames=50))
    errors = [
        score_frame(clip.truth[run.index], run.results, 640, 360).homography_errors
        for run in run_plugins([PitchDetection()], clip, clip.info)
    ]
    found = [float(np.median(e)) for e in errors if e]
    assert len(found) >= 40
    assert sum(e <= 1.0 for e in found) >= 0.9 * len(found)
