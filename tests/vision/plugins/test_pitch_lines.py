"""Tests of realtime_nb.vision.plugins.pitch_lines: merging segments into lines, their straightness,
and grouping lines into the pitch's two families, on made-up segments with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_nb.vision.plugins.pitch_lines import (
    ImageLine,
    _fit_line,
    _merge_parallel,
    group_families,
    longest_segments,
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


def _merge_parallel_plainly(
    clusters: list[list[int]],
    lines: list[np.ndarray],
    segs: np.ndarray,
    lengths: np.ndarray,
    angle_tol: float,
    dist_tol: float,
) -> tuple[list[list[int]], list[np.ndarray]]:
    """The rule _merge_parallel keeps, asked of every pair again after each join."""
    sin_tol = math.sin(math.radians(angle_tol))
    joined = True
    while joined:
        joined = False
        for a in range(len(lines)):
            for b in range(a + 1, len(lines)):
                if abs(lines[a][0] * lines[b][1] - lines[a][1] * lines[b][0]) > sin_tol:
                    continue
                ends = segs[clusters[b]].reshape(-1, 2)
                if np.abs(ends @ lines[a][:2] + lines[a][2]).max() > dist_tol:
                    continue
                clusters[a] += clusters[b]
                lines[a] = _fit_line(segs[clusters[a]], lengths[clusters[a]])
                del clusters[b], lines[b]
                joined = True
                break
            if joined:
                break
    return clusters, lines


@settings(max_examples=400, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 12), st.floats(-1.5, 1.5), st.floats(-1.5, 1.5),
            st.floats(0, 300), st.floats(5, 200), st.floats(-0.03, 0.03),
        ),
        min_size=2,
        max_size=40,
    ),
    tol=st.floats(1.0, 8.0),
)  # fmt: skip
def test_joining_parallel_clusters_by_a_table_joins_what_asking_every_pair_joins(
    rows: list[tuple[int, float, float, float, float, float]], tol: float
) -> None:
    # Segments near a few rows 6 px apart, nearly level: many pairs may join, in chains.
    segs = np.array(
        [[x, 6 * k + d1, x + n, 6 * k + d2 + slope * n] for k, d1, d2, x, n, slope in rows]
    )
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    start = [[i] for i in range(len(segs))]
    lines = [_fit_line(segs[[i]], lengths[[i]]) for i in range(len(segs))]
    got = _merge_parallel([list(c) for c in start], list(lines), segs, lengths, 2.0, tol)
    want = _merge_parallel_plainly([list(c) for c in start], list(lines), segs, lengths, 2.0, tol)
    assert got[0] == want[0]
    assert all(np.array_equal(g, w) for g, w in zip(got[1], want[1], strict=True))


@pytest.mark.parametrize(
    ("third_y", "clusters"),
    [(3.9, [[0, 1, 2]]), (-2.9, [[0, 1], [2]])],
)  # fmt: skip
def test_a_join_asks_the_joined_lines_pairs_again(
    third_y: float, clusters: list[list[int]]
) -> None:
    # Level segments at y 0 and 2.7 join (3 px apart at most) into a line at 1.35: a third at
    # 3.9, too far from the first, is near enough to the joined line; one at -2.9, near the
    # first, is too far from it.
    segs = np.array([[0, 0, 100, 0], [0, 2.7, 100, 2.7], [0, third_y, 100, third_y]])
    lengths = np.full(3, 100.0)
    lines = [_fit_line(segs[[i]], lengths[[i]]) for i in range(3)]
    got, _ = _merge_parallel([[0], [1], [2]], lines, segs, lengths, 2.0, 3.0)
    assert got == clusters


def test_the_first_joinable_pair_is_taken_by_the_first_line_then_the_second() -> None:
    # Lines 0 and 3 may join, and so may 1 and 2: (0, 3) comes first, then the joined line
    # takes 1, and 2 is left alone; taking (1, 2) first would leave two pairs.
    segs = np.array(
        [[98.8, 3.3, 18.3, 6.3], [27.2, 4.5, 64.6, 1.6], [3.4, 7.9, 81.7, 1.0],
         [84.8, 2.1, 24.7, 6.2]]
    )  # fmt: skip
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    lines = [_fit_line(segs[[i]], lengths[[i]]) for i in range(4)]
    want = _merge_parallel_plainly([[0], [1], [2], [3]], list(lines), segs, lengths, 2.0, 3.0)
    got = _merge_parallel([[0], [1], [2], [3]], list(lines), segs, lengths, 2.0, 3.0)
    assert got[0] == want[0] == [[0, 3, 1], [2]]


def test_a_join_asks_the_pairs_of_the_lines_before_it_again() -> None:
    # The first line is too steep beside the second to join it; the third joins the second,
    # and the line they make is level enough for the first to join it (a search found this).
    segs = np.array([[11.2, 5.2, 72.3, 1.1], [61.2, 1.1, 39.8, 1.0], [30.1, 3.6, 55.7, 3.2]])
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    lines = [_fit_line(segs[[i]], lengths[[i]]) for i in range(3)]
    got, _ = _merge_parallel([[0], [1], [2]], lines, segs, lengths, 2.0, 3.0)
    assert got == [[0, 1, 2]]


def test_the_longest_segments_are_kept_in_their_order() -> None:
    segs = np.array([[0, 0, 3, 4], [0, 0, 10, 0], [0, 0, 0, 5], [0, 0, 1, 0], [0, 0, 6, 8]], float)
    assert longest_segments(segs, 2).tolist() == [[0, 0, 10, 0], [0, 0, 6, 8]]
    # Of equally long ones the first; all of them when there are no more than asked.
    assert longest_segments(segs, 3).tolist() == [[0, 0, 3, 4], [0, 0, 10, 0], [0, 0, 6, 8]]
    assert longest_segments(segs, 5) is segs
    # Forty segments, thirty of one length: the first of them are kept, in order.
    many = np.array([[0, i, 5 if i % 4 else 9, i] for i in range(40)], float)
    kept = longest_segments(many, 20)
    ties = [i for i in range(40) if i % 4][:10]
    assert np.array_equal(kept, many[sorted([i for i in range(40) if i % 4 == 0] + ties)])
