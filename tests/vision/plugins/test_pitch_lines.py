"""Tests of realtime_nb.vision.plugins.pitch_lines: merging segments into lines, their straightness,
and grouping lines into the pitch's two families, on made-up segments with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime_nb.vision.plugins.pitch_lines import (
    ImageLine,
    group_families,
    merge_segments,
    sagitta,
)
from realtime_nb.vision.plugins.pitch_model import ACROSS, ALONG, line_through, project

# A camera behind the near touchline, looking at the pitch's left half (pitch -> image).
H = np.array(
    [[7.1, 3.8, -205.0], [0.0, -2.1, 366.0], [0.0, 0.0123, 1.0]]
)  # fmt: skip


def segment(p: tuple[float, float], q: tuple[float, float]) -> list[float]:
    return [p[0], p[1], q[0], q[1]]


def test_pieces_of_one_line_merge_and_parallel_lines_do_not() -> None:
    segs = [
        segment((0, 100), (80, 104)),
        segment((100, 105), (200, 110)),  # the same line, after a gap
        segment((20, 102.5), (70, 104.5)),  # the other edge of a thick line
        segment((0, 130), (200, 140)),  # parallel, 30 px below
        segment((50, 0), (60, 200)),  # across
    ]
    lines = merge_segments(np.array(segs, float), 2.0, 3.0)
    assert len(lines) == 3
    top = next(ln for ln in lines if abs(ln.angle) < 5 and ln.midpoint[1] < 120)
    assert top.support == pytest.approx(80.1 + 100.1 + 50.0, abs=0.5)
    assert top.ends[:, 0].min() == pytest.approx(0, abs=0.5)
    assert top.ends[:, 0].max() == pytest.approx(200, abs=0.5)
    assert [ln.support for ln in lines] == sorted((ln.support for ln in lines), reverse=True)


@pytest.mark.parametrize(
    ("p", "q", "angle"),
    [((0, 0), (10, 0), 0.0), ((0, 0), (10, 10), 45.0), ((0, 10), (10, 0), -45.0),
     ((0, 0), (0, 10), 90.0)],
)  # fmt: skip
def test_angle_is_from_horizontal_with_y_down(
    p: tuple[float, float], q: tuple[float, float], angle: float
) -> None:
    line = ImageLine(line_through(p, q), 10.0, np.array([p, q], float))
    assert abs((line.angle - angle + 90) % 180 - 90) < 1e-6


def test_sagitta_tells_a_chord_of_a_circle_from_a_line() -> None:
    xs = np.linspace(0, 100, 201)
    straight = np.column_stack([xs, 50 + 0.1 * xs])
    theta = np.linspace(-0.5, 0.5, 201)
    arc = np.column_stack([50 + 120 * np.sin(theta), 150 - 120 * np.cos(theta)])
    for pixels, bow in ((straight, 0.0), (arc, 120 * (1 - math.cos(0.5)))):
        ends = pixels[[0, -1]]
        line = ImageLine(line_through(ends[0], ends[1]), 100.0, ends)
        found = sagitta(line, pixels, band=20.0)
        assert found == pytest.approx(bow, abs=0.3)


def projected_lines() -> tuple[list[ImageLine], list[bool]]:
    """Image lines of the markings seen through H, and whether each runs along the pitch."""
    lines, along = [], []
    for y, x0, x1 in ALONG:
        p, q = project(H, np.array([[x0, y], [x1, y]], float))
        lines.append(ImageLine(line_through(p, q), float(np.linalg.norm(q - p)), np.array([p, q])))
        along.append(True)
    for x, y0, y1 in ACROSS:
        p, q = project(H, np.array([[x, y0], [x, y1]], float))
        lines.append(ImageLine(line_through(p, q), float(np.linalg.norm(q - p)), np.array([p, q])))
        along.append(False)
    return lines, along


def test_families_by_vanishing_point() -> None:
    lines, along = projected_lines()
    found_along, found_across = group_families(lines)
    assert sorted(found_along) == [k for k, a in enumerate(along) if a]
    assert sorted(found_across) == [k for k, a in enumerate(along) if not a]


def test_few_lines_fall_back_to_their_angle() -> None:
    lines = [
        ImageLine(line_through((0, 100), (600, 90)), 600.0, np.array([[0, 100], [600, 90]])),
        ImageLine(line_through((300, 0), (280, 300)), 300.0, np.array([[300, 0], [280, 300]])),
        ImageLine(line_through((400, 100), (600, 200)), 200.0, np.array([[400, 100], [600, 200]])),
    ]  # flat, steep, and 27 degrees: could be either
    along, across = group_families(lines)
    assert along == [0, 2] and across == [1, 2]
