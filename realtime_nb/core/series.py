"""MetricSeries: one metric's latest and best value and a bounded, downsampled history. Pure.

A run may log millions of points; a chart needs a few hundred. The history keeps at most
``max_buckets`` buckets of equal step width, and for each bucket the lowest and the highest
value with their steps, so a spike survives however far the chart is zoomed out. When a new
step falls past the last bucket that fits, the width doubles and neighbouring buckets merge.

Example:
    >>> s = MetricSeries("loss").add([(0, 1.0), (1, 0.5), (2, 0.7)])
    >>> (s.count, s.last_step, s.last_value, s.best_step, s.best_value)
    (3, 2, 0.7, 1, 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_BUCKETS", "Bucket", "MetricSeries", "lower_is_better"]

DEFAULT_MAX_BUCKETS = 256
"""Buckets a series keeps: a chart of it has at most twice as many points."""

_LOWER_IS_BETTER = ("loss", "err", "mse", "mae", "rmse", "nll", "perplexity", "regret", "cost")


def lower_is_better(name: str) -> bool:
    """Whether the best value of metric ``name`` is its lowest: names holding ``loss``,
    ``err`` (error), ``mse``, ``mae``, ``rmse``, ``nll``, ``perplexity``, ``regret`` or
    ``cost``; any other metric's best value is its highest (accuracy, reward, F1...)."""
    lowered = name.lower()
    return any(word in lowered for word in _LOWER_IS_BETTER)


Bucket = tuple[int, int, float, int, float]
"""``(index, step of the lowest value, lowest value, step of the highest, highest value)``;
the bucket covers the steps ``index * width`` to ``(index + 1) * width - 1``."""


def _merge(a: Bucket, b: Bucket, index: int) -> Bucket:
    lo = a if a[2] <= b[2] else b
    hi = a if a[4] >= b[4] else b
    return (index, lo[1], lo[2], hi[3], hi[4])


@dataclass(frozen=True, slots=True)
class MetricSeries:
    """One metric of one job as the overlay shows it. Immutable: :meth:`add` returns a new one.

    Attributes:
        name: The metric's name.
        count: Points received, including those whose value was not finite.
        last_step: Step of the point received last (None before the first).
        last_value: Its value (None if it was not finite).
        best_step: Step of the best finite value so far (None before one).
        best_value: The best finite value (lowest or highest, see :func:`lower_is_better`).
        width: Steps per bucket (a power of two).
        buckets: The downsampled history, ordered by bucket index.
        max_buckets: Most buckets kept.
    """

    name: str
    count: int = 0
    last_step: int | None = None
    last_value: float | None = None
    best_step: int | None = None
    best_value: float | None = None
    width: int = 1
    buckets: tuple[Bucket, ...] = ()
    max_buckets: int = DEFAULT_MAX_BUCKETS

    def add(self, points: Iterable[tuple[int, float | None]]) -> MetricSeries:
        """Return the series with ``points`` (``(step, value)``, in log order) added."""
        lower = lower_is_better(self.name)
        count, last_step, last_value = self.count, self.last_step, self.last_value
        best_step, best_value = self.best_step, self.best_value
        width = self.width
        buckets = {b[0]: b for b in self.buckets}
        for step, value in points:
            count += 1
            last_step, last_value = step, value
            if value is None or not math.isfinite(value):
                last_value = None
                continue
            if (
                best_value is None
                or (lower and value < best_value)
                or (not lower and value > best_value)
            ):
                best_step, best_value = step, value
            index = step // width
            old = buckets.get(index)
            point: Bucket = (index, step, value, step, value)
            buckets[index] = point if old is None else _merge(old, point, index)
            while len(buckets) > self.max_buckets:
                width *= 2
                merged: dict[int, Bucket] = {}
                for b in buckets.values():
                    i = b[0] // 2
                    prev = merged.get(i)
                    merged[i] = (i, *b[1:]) if prev is None else _merge(prev, b, i)
                buckets = merged
        return MetricSeries(
            self.name,
            count,
            last_step,
            last_value,
            best_step,
            best_value,
            width,
            tuple(sorted(buckets.values())),
            self.max_buckets,
        )

    def points(self) -> list[tuple[int, float]]:
        """The history to draw: each bucket's lowest and highest value at their steps, in step
        order (one point for a bucket whose lowest and highest are the same point)."""
        out: list[tuple[int, float]] = []
        for _, lo_step, lo, hi_step, hi in self.buckets:
            if (lo_step, lo) == (hi_step, hi):
                out.append((lo_step, lo))
            elif lo_step <= hi_step:
                out += [(lo_step, lo), (hi_step, hi)]
            else:
                out += [(hi_step, hi), (lo_step, lo)]
        return out
