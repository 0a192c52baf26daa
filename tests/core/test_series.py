"""MetricSeries: latest and best values, and a bounded history that keeps spikes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb.core.series import MetricSeries, lower_is_better


@pytest.mark.parametrize(
    ("name", "lower"),
    [
        ("loss", True),
        ("val_loss", True),
        ("error_rate", True),
        ("MSE", True),
        ("acc", False),
        ("reward", False),
    ],
)
def test_best_direction_follows_the_name(name: str, lower: bool) -> None:
    assert lower_is_better(name) is lower


def test_latest_and_best_with_steps() -> None:
    loss = MetricSeries("loss").add([(0, 3.0), (1, 1.0), (2, 2.0)])
    assert (loss.last_step, loss.last_value, loss.best_step, loss.best_value) == (2, 2.0, 1, 1.0)
    acc = MetricSeries("acc").add([(0, 0.1), (1, 0.9), (2, 0.5)])
    assert (acc.best_step, acc.best_value) == (1, 0.9)


def test_non_finite_values_count_but_are_not_drawn() -> None:
    s = MetricSeries("loss").add([(0, 1.0), (1, None), (2, math.inf), (3, math.nan)])
    assert s.count == 4 and s.last_step == 3 and s.last_value is None
    assert s.points() == [(0, 1.0)] and s.best_value == 1.0


def test_add_leaves_the_old_series_unchanged() -> None:
    a = MetricSeries("loss").add([(0, 1.0)])
    b = a.add([(1, 0.5)])
    assert a.count == 1 and b.count == 2 and a.points() == [(0, 1.0)]


def test_a_million_points_stay_bounded_and_keep_their_spike() -> None:
    values = [(s, 1.0) for s in range(1_000_000)]
    values[777_777] = (777_777, 50.0)
    values[123_456] = (123_456, -7.0)
    s = MetricSeries("x", max_buckets=128)
    for start in range(0, len(values), 100_000):
        s = s.add(values[start : start + 100_000])
    assert len(s.buckets) <= 128 and len(s.points()) <= 256
    drawn = dict(s.points())
    assert drawn[777_777] == 50.0 and drawn[123_456] == -7.0
    assert s.count == 1_000_000 and s.last_step == 999_999


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.floats(-1e6, 1e6)), min_size=1, max_size=400),
    st.integers(2, 16),
)
def test_history_holds_the_extremes_in_step_order_within_its_bound(
    points: list[tuple[int, float]], max_buckets: int
) -> None:
    s = MetricSeries("m", max_buckets=max_buckets).add(points)
    drawn = s.points()
    assert len(s.buckets) <= max_buckets
    assert [x for x, _ in drawn] == sorted(x for x, _ in drawn)
    ys = [y for _, y in drawn]
    assert min(ys) == min(v for _, v in points) and max(ys) == max(v for _, v in points)
    assert all(p in points for p in drawn)
