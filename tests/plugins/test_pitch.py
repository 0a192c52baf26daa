"""Tests of realtime_nb.plugins.pitch: the pitch polygon, its corners, and the homography from
the pitch's markings on broadcast-like synthetic clips (checked against their ground truth)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import msgspec
import numpy as np
import pytest

from realtime_nb.plugins import PluginContext, PluginWarning, VideoInfo
from realtime_nb.plugins.pitch import FALLBACK_WARNING, PitchDetection
from realtime_nb.plugins.radar import to_pitch
from realtime_nb.synthetic import FrameTruth, SyntheticMatch, synthetic_match


@dataclass
class Run:
    """pitch_detection over a clip: the truth, the results and the warnings, per frame."""

    clip: SyntheticMatch
    truths: list[FrameTruth]
    results: list[dict[str, Any]]
    warnings: list[PluginWarning]


def run_pitch(clip: SyntheticMatch, frames: list[Any] | None = None) -> Run:
    plugin, state = PitchDetection(), {}
    plugin.setup(clip.info)
    results, warnings = [], []
    for index, frame in enumerate(list(clip) if frames is None else frames):
        ctx = PluginContext(index, f"f-{index:06d}", {}, state, clip.info)
        results.append(plugin.process(frame, ctx))
        warnings.extend(ctx.warnings)
    return Run(clip, list(clip.truth)[: len(results)], results, warnings)


@pytest.fixture(scope="module", params=[(640, 360, 0), (320, 180, 3)], ids=["640x360", "320x180"])
def run(request: pytest.FixtureRequest) -> Run:
    width, height, seed = request.param
    return run_pitch(synthetic_match(seconds=2, width=width, height=height, seed=seed))


def position_errors(truth: FrameTruth, homography: list[list[float]], w: int, h: int) -> Any:
    """Metres between the true and the estimated pitch point of a grid of image points that
    lie on the pitch (up to 3 m outside it)."""
    grid = [(x, y) for x in np.linspace(0, w - 1, 12) for y in np.linspace(0, h - 1, 8)]
    true = np.array(to_pitch(truth.homography, grid))
    on_pitch = (true[:, 0] > -3) & (true[:, 0] < 108) & (true[:, 1] > -3) & (true[:, 1] < 71)
    found = np.array(to_pitch(homography, grid))
    return np.linalg.norm(true - found, axis=1)[on_pitch]


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
    result = next(r for r in run.results if r["homography"] is not None)
    assert len(result["intersections"]) >= 2
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


def test_homography_from_four_corners() -> None:
    pitch = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float32)
    image = np.array([[60, 330], [580, 330], [500, 60], [140, 60]], np.float32)
    truth = cv2.getPerspectiveTransform(pitch, image)

    def project(points: list[list[float]]) -> Any:
        pts = np.array(points, np.float32).reshape(-1, 1, 2)
        return cv2.perspectiveTransform(pts, truth).reshape(-1, 2).round().astype(np.int32)

    frame = np.full((360, 640, 3), 60, np.uint8)
    cv2.fillConvexPoly(frame, project([[-4, -4], [109, -4], [109, 72], [-4, 72]]), (50, 140, 60))
    cv2.polylines(frame, [project(pitch.tolist())], True, (255, 255, 255), 2)
    ctx = PluginContext(0, "f-000000", {}, {}, VideoInfo(640, 360, 25, 1))
    result = PitchDetection().process(frame, ctx)
    assert not ctx.warnings
    assert not result["fallback"]
    found = np.array(result["homography"])
    for x, y in pitch:
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
