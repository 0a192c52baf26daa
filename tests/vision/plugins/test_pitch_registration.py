"""Pitch registration's scoring of a fit against one frame's evidence."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from realtime_nb.core.frame import VideoInfo
from realtime_nb.vision.plugins import pitch_registration
from realtime_nb.vision.plugins.pipeline import run_plugins
from realtime_nb.vision.plugins.pitch import PitchDetection
from realtime_nb.vision.plugins.pitch_camera import Camera
from realtime_nb.vision.plugins.pitch_evidence import LineEvidence
from realtime_nb.vision.plugins.pitch_model import project
from realtime_nb.vision.plugins.pitch_registration import (
    _MOST_LINE_SHARE,
    _SPARSE_AFTER,
    _SPARSE_EVERY,
    FEATURES,
    PITCH_CORNERS,
    _as_camera,
    _cameras,
    _on_grass,
    _quality,
    _search,
    pitch_on_grass,
)

_SEARCH = pitch_registration._search
"""The search itself, before any test wraps it."""
CAMERA = Camera.looking_at((52.5, -30.0, 15.0), (52.5, 40.0), 700.0, 640, 360)
"""A broadcast-like camera 15 m up, 30 m behind the near touchline, on the halfway line."""


def _evidence(hom: np.ndarray, skip_far_touchline: bool = False) -> LineEvidence:
    """The markings drawn 2 px wide under ``hom``, the grass the pitch and 3 m around it."""
    lines = np.zeros((360, 640), np.uint8)
    for (xa, ya), (xb, yb) in FEATURES.ends:
        if skip_far_touchline and ya == yb == 68.0:
            continue
        (pa, pb) = project(hom, np.array([[xa, ya], [xb, yb]]))
        if np.isfinite([*pa, *pb]).all():
            cv2.line(lines, (round(pa[0]), round(pa[1])), (round(pb[0]), round(pb[1])), 255, 2)
    inside = np.zeros_like(lines)
    corners = project(hom, PITCH_CORNERS + np.array([[-3, -3], [3, -3], [3, 3], [-3, 3]]))
    cv2.fillPoly(inside, [corners.round().astype(np.int32)], 255)
    return LineEvidence(lines & inside, inside)


def test_quality_discounts_a_marking_thinner_than_a_pixel() -> None:
    """A right fit keeps most of its quality when only a line too thin to see (the far
    touchline seen at a grazing angle) is missing from the line mask."""
    hom = CAMERA.homography()
    assert _quality(hom, _evidence(hom, skip_far_touchline=True)) > 0.85


def _along(hom: np.ndarray, metres: float) -> np.ndarray:
    """``hom`` for a view ``metres`` further along the pitch."""
    out: np.ndarray = hom @ np.array([[1.0, 0.0, -metres], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    return out


def test_a_fit_that_puts_the_grass_far_beyond_the_pitch_is_off_the_grass() -> None:
    """The right fit has the pitch on the grass and the grass on the pitch. The same view
    taken for one 80 m along the pitch maps most of the grass beyond the pitch and its run-off;
    one 20 m along does not (the test is for gross errors, the quality for the rest)."""
    hom = CAMERA.homography()
    img = _evidence(hom)
    assert min(pitch_on_grass(hom, img)) > 0.95 and _on_grass(hom, img)
    assert pitch_on_grass(_along(hom, 80), img)[1] < 0.3 and not _on_grass(_along(hom, 80), img)
    assert _on_grass(_along(hom, 20), img)


def test_a_camera_off_the_grass_is_no_candidate() -> None:
    """A fit that is a camera, only 80 m from where it looks, is dropped from the candidates
    (and not kept to be refitted); the right one stays."""
    hom = CAMERA.homography()
    img = _evidence(hom)
    off = _along(hom, 80)
    assert _as_camera(off, img, None, True) is not None
    raw: list[tuple[float, np.ndarray]] = []
    fits = _cameras([(off, True), (hom, True)], img, None, raw)
    assert len(fits) == 1 and raw == []
    assert _on_grass(fits[0].homography, img)


def test_a_singular_homography_maps_no_grass_onto_the_pitch() -> None:
    hom = CAMERA.homography()
    flat = hom.copy()
    flat[:, 1] = flat[:, 0]  # every pitch point onto one image line
    assert pitch_on_grass(flat, _evidence(hom))[1] == 0.0


def test_the_search_skips_a_frame_whose_line_pixels_are_a_mesh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The markings alone are searched (and the view is among the hypotheses); the same frame
    with a net's mesh over the pitch, line pixels over :data:`_MOST_LINE_SHARE` of it, is not
    searched at all: no line finding, no hypotheses."""
    hom = CAMERA.homography()
    img = _evidence(hom)
    calls: list[Any] = []
    hough = cv2.HoughLinesP

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return hough(*args, **kwargs)

    monkeypatch.setattr(cv2, "HoughLinesP", counted)
    found = _search(img)
    assert len(calls) == 1 and found
    spots = np.array([[11.0, 34.0], [52.5, 34.0], [52.5, 0.0]])
    assert min(np.abs(project(h, spots) - project(hom, spots)).max() for h in found) < 5.0
    mesh = img.mask.copy()
    mesh[::4] = 255
    mesh[:, ::5] = 255
    assert cv2.countNonZero(mesh) > _MOST_LINE_SHARE * mesh.size
    assert _search(LineEvidence(mesh, img.inside)) == []
    assert len(calls) == 1


def test_the_search_finds_straight_lines_in_the_mask_with_the_boards_built_when_it_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A far touchline too faint for the line mask is often seen only beside the boards, which
    the mask leaves out: the search finds its straight lines in the mask with them
    (:attr:`LineEvidence.straight_mask`), built only when a search runs."""
    img = _evidence(CAMERA.homography())
    built: list[int] = []
    with_boards = img.mask.copy()
    with_boards[5:8, 5:60] = 255  # a board's edge the line mask leaves out
    evidence = LineEvidence(img.mask, img.inside, straight=lambda: built.append(1) or with_boards)
    assert built == []
    seen: list[Any] = []
    hough = cv2.HoughLinesP

    def counted(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[0])
        return hough(*args, **kwargs)

    monkeypatch.setattr(cv2, "HoughLinesP", counted)
    assert _search(evidence)
    assert built == [1] and len(seen) == 1 and seen[0] is with_boards
    assert len(evidence.straight_pixels) == len(evidence.all_pixels) + 3 * 55
    assert LineEvidence(img.mask, img.inside).straight_mask is img.mask


def _searches_and_first_found(
    monkeypatch: pytest.MonkeyPatch, grass_frames: int, sparse_after: int
) -> tuple[list[int], int]:
    """Frames searched, and the first frame with a homography, when pitch_detection sees plain
    grass for ``grass_frames`` frames and then the synthetic match."""
    from realtime_nb.vision.synthetic import synthetic_match

    match = list(synthetic_match(0.4, 25, width=320, height=180, seed=7))
    grass = np.full_like(match[0], (40, 140, 50))
    frames = [grass] * grass_frames + match
    searched: list[int] = []
    now = [0]

    def counted(img: LineEvidence) -> list[np.ndarray]:
        searched.append(now[0])
        return _SEARCH(img)

    monkeypatch.setattr(pitch_registration, "_search", counted)
    monkeypatch.setattr(pitch_registration, "_SPARSE_AFTER", sparse_after)
    found = None
    info = VideoInfo(320, 180, 25.0, len(frames))
    for run in run_plugins([PitchDetection()], frames, info):
        if found is None and run.results["pitch_detection"].get("homography") is not None:
            found = run.index
        now[0] = run.index + 1
    assert found is not None
    return searched, found


def test_the_search_runs_on_every_fourth_frame_once_the_pitch_is_long_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a homography for _SPARSE_AFTER frames, the search runs every _SPARSE_EVERY-th
    frame; the match that comes back after it is found within that many frames, as it is at
    once while the search still runs on every frame."""
    grass = _SPARSE_AFTER + 10
    searched, found = _searches_and_first_found(monkeypatch, grass, _SPARSE_AFTER)
    lost = [i for i in searched if i < grass]
    assert lost[:_SPARSE_AFTER] == list(range(_SPARSE_AFTER))
    first_sparse = -(-_SPARSE_AFTER // _SPARSE_EVERY) * _SPARSE_EVERY
    assert lost[_SPARSE_AFTER:] == list(range(first_sparse, grass, _SPARSE_EVERY))
    assert grass <= found < grass + _SPARSE_EVERY
    searched, found = _searches_and_first_found(monkeypatch, grass, 10**9)
    assert [i for i in searched if i < grass] == list(range(grass)) and found == grass
