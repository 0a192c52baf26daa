"""Straight lines seen in a pitch image: segments merged into lines, their straightness, and the
split into the pitch's two families of lines by vanishing point. Pure geometry, no frames.

Example:
    >>> import numpy as np
    >>> found = merge_segments(np.array([[0, 10, 50, 10], [60, 11, 120, 11], [0, 80, 100, 80]]))
    >>> [round(line.support) for line in found]
    [110, 100]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.pitch_model import line_through

__all__ = ["ImageLine", "group_families", "longest_segments", "merge_segments", "sagitta"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ImageLine:
    """A straight line seen in the image.

    Attributes:
        line: Normalised ``(a, b, c)``.
        support: Pixels of line segments found along it.
        ends: ``(2, 2)`` the extreme points of its segments, projected onto it.
    """

    line: FloatArray
    support: float
    ends: FloatArray

    @property
    def angle(self) -> float:
        """Direction in degrees, -90 to 90, 0 being horizontal (y grows downwards)."""
        a, b = float(self.line[0]), float(self.line[1])
        deg = math.degrees(math.atan2(a, -b))
        return (deg + 90.0) % 180.0 - 90.0

    @property
    def midpoint(self) -> FloatArray:
        """The middle of its segments' extent."""
        out: FloatArray = self.ends.mean(axis=0)
        return out


def longest_segments(segments: FloatArray, most: int) -> FloatArray:
    """The ``most`` longest of ``segments`` ``(n, 4)`` (x1, y1, x2, y2), in their order (the
    first of equally long ones); all of them when there are no more.

    Example:
        >>> import numpy as np
        >>> longest_segments(np.array([[0, 0, 5, 0], [0, 0, 9, 0], [0, 0, 7, 0]]), 2)
        array([[0, 0, 9, 0],
               [0, 0, 7, 0]])
    """
    if len(segments) <= most:
        return segments
    lengths = np.hypot(segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1])
    out: FloatArray = segments[np.sort(np.argsort(-lengths, kind="stable")[:most])]
    return out


def merge_segments(
    segments: FloatArray, angle_tol: float = 2.0, dist_tol: float = 3.0
) -> list[ImageLine]:
    """Merge segments ``(n, 4)`` (x1, y1, x2, y2) lying on one straight line into lines,
    longest support first. Both ends of a segment must be within ``dist_tol`` px of a line, and
    its direction within ``angle_tol`` degrees, for it to join."""
    segs = np.asarray(segments, np.float64).reshape(-1, 4)
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    clusters: list[list[int]] = []
    lines: list[FloatArray] = []
    for i in np.argsort(-lengths):
        p, q = segs[i, :2], segs[i, 2:]
        if lengths[i] < 1:
            continue
        direction = (q - p) / lengths[i]
        for k, line in enumerate(lines):
            if max(abs(line[:2] @ p + line[2]), abs(line[:2] @ q + line[2])) > dist_tol:
                continue
            if abs(direction @ line[:2]) > math.sin(math.radians(angle_tol)):
                continue
            clusters[k].append(int(i))
            lines[k] = _fit_line(segs[clusters[k]], lengths[clusters[k]])
            break
        else:
            clusters.append([int(i)])
            lines.append(line_through(p, q))
    clusters, lines = _merge_parallel(clusters, lines, segs, lengths, angle_tol, 2 * dist_tol)
    out = []
    for members, line in zip(clusters, lines, strict=True):
        pts = segs[members].reshape(-1, 2)
        direction = np.array([-line[1], line[0]])
        t = pts @ direction
        foot = -line[2] * line[:2]
        ends = np.array([foot + t.min() * direction, foot + t.max() * direction])
        out.append(ImageLine(line, float(lengths[members].sum()), ends))
    out.sort(key=lambda found: -found.support)
    return out


def sagitta(line: ImageLine, pixels: FloatArray, band: float) -> float:
    """How far (px) the pixels within ``band`` of a line bow away from it over its extent: a
    quadratic fit of their offsets, evaluated at the ends. Near 0 for a straight marking,
    pixels for a chord of a circle."""
    direction = np.array([-line.line[1], line.line[0]])
    offset = pixels @ line.line[:2] + line.line[2]
    t = pixels @ direction
    t0, t1 = sorted(float(v) for v in line.ends @ direction)
    near = (np.abs(offset) <= band) & (t >= t0) & (t <= t1)
    if near.sum() < 8 or t1 - t0 < 1:
        return 0.0
    centre, half = (t0 + t1) / 2, (t1 - t0) / 2
    u, off = (t[near] - centre) / half, offset[near]
    # The middle of the stroke per stretch (a thick line's pixels spread across it), by the
    # median, so a marking that crosses this one does not bend it.
    bins = np.minimum(((u + 1) * 6).astype(int), 11)
    xs, ys = [], []
    for b in range(12):
        mine = bins == b
        if mine.sum() >= 2:
            xs.append(-1 + (b + 0.5) / 6)
            ys.append(float(np.median(off[mine])))
    if len(xs) < 4:
        return 0.0
    a, _, _ = np.polyfit(xs, ys, 2)
    return float(abs(a))


def _merge_parallel(
    clusters: list[list[int]],
    lines: list[FloatArray],
    segs: FloatArray,
    lengths: FloatArray,
    angle_tol: float,
    dist_tol: float,
) -> tuple[list[list[int]], list[FloatArray]]:
    """Join clusters whose lines nearly coincide (the edges of one thick line, say): every
    segment end of one within ``dist_tol`` of the other's line and directions within tol.

    The first pair in order (by the first cluster, then the second) that may join is joined,
    the second into the first, and the search starts again. Which pairs may join is kept in a
    table, and a join changes only the first cluster's pairs: asking every pair again after
    each join took a second a frame on a goal net's mesh (two hundred segments)."""
    if len(lines) < 2:
        return clusters, lines
    sin_tol = math.sin(math.radians(angle_tol))
    ends = [segs[members].reshape(-1, 2) for members in clusters]
    # joins[a, b], a before b: b's ends lie along a's line, the two lines alike in direction.
    table = np.asarray(lines)
    joins = np.triu(_alike(table, table, sin_tol), 1)
    for a, b in zip(*np.nonzero(joins), strict=True):
        joins[a, b] = _ends_near(lines[a], ends[b], dist_tol)
    while True:
        pairs = np.flatnonzero(joins)
        if len(pairs) == 0:
            return clusters, lines
        a, b = divmod(int(pairs[0]), len(lines))
        clusters[a] += clusters[b]
        lines[a] = _fit_line(segs[clusters[a]], lengths[clusters[a]])
        ends[a] = segs[clusters[a]].reshape(-1, 2)
        del clusters[b], lines[b], ends[b]
        joins = np.delete(np.delete(joins, b, axis=0), b, axis=1)
        alike = _alike(lines[a][None], np.asarray(lines), sin_tol)[0]
        for x in range(len(lines)):
            if x != a:
                first, second = (x, a) if x < a else (a, x)
                near = bool(alike[x]) and _ends_near(lines[first], ends[second], dist_tol)
                joins[first, second] = near


def _alike(first: FloatArray, second: FloatArray, sin_tol: float) -> npt.NDArray[np.bool_]:
    """Which lines of ``first`` (n x 3) run within the angle whose sine is ``sin_tol`` of which
    of ``second`` (m x 3), n x m."""
    cross = first[:, 0, None] * second[None, :, 1] - first[:, 1, None] * second[None, :, 0]
    out: npt.NDArray[np.bool_] = ~(np.abs(cross) > sin_tol)
    return out


def _ends_near(line: FloatArray, ends: FloatArray, dist_tol: float) -> bool:
    """Whether every point of ``ends`` lies within ``dist_tol`` of ``line``."""
    return not bool(np.abs(ends @ line[:2] + line[2]).max() > dist_tol)


def _fit_line(segs: FloatArray, weights: FloatArray) -> FloatArray:
    """Total least squares line through segment end points, weighted by segment length."""
    pts = segs.reshape(-1, 2)
    w = np.repeat(weights, 2)
    centre = (pts * w[:, None]).sum(axis=0) / w.sum()
    d = pts - centre
    cov = (d * w[:, None]).T @ d
    _, vecs = np.linalg.eigh(cov)
    normal = vecs[:, 0]
    out: FloatArray = np.array([normal[0], normal[1], -normal @ centre])
    return out


def group_families(
    lines: Sequence[ImageLine],
    tol_deg: float = 2.0,
    flat_deg: float = 15.0,
    steep_deg: float = 40.0,
) -> tuple[list[int], list[int]]:
    """Split lines into the pitch's two families by vanishing point.

    Lines along the length meet at one vanishing point, lines across at another. The point
    that three or more lines pass near is one family; the rest is the other. Of the two, the
    family closer to horizontal is "along" (a broadcast camera looks across the pitch). With
    fewer than three lines through any point, lines within ``flat_deg`` of horizontal are
    along, lines steeper than ``steep_deg`` across, and lines in between are in both lists
    (to be told apart by fitting); a family that would have fewer than two lines gets them all.

    Returns:
        ``(along, across)``: indices into ``lines``, each list in the order of ``lines``.
    """
    n = len(lines)
    best: list[int] = []
    best_support = 0.0
    for i, j in itertools.combinations(range(n), 2):
        vp = np.cross(lines[i].line, lines[j].line)
        if np.abs(vp).max() < 1e-9:
            continue  # the same line twice
        members = [k for k in range(n) if _passes_near(lines[k], vp, tol_deg)]
        support = sum(lines[k].support for k in members)
        if len(members) >= 3 and support > best_support:
            best, best_support = members, support
    if not best:
        along = [k for k in range(n) if abs(lines[k].angle) <= steep_deg]
        across = [k for k in range(n) if abs(lines[k].angle) > flat_deg]
        # Seen from low down an across line can look flat and an along one steep: with too
        # few to pair, every line may be either.
        return (along if len(along) >= 2 else list(range(n))), (
            across if len(across) >= 2 else list(range(n))
        )
    rest = [k for k in range(n) if k not in best]

    def flatness(group: list[int]) -> float:
        return float(np.median([abs(lines[k].angle) for k in group])) if group else 90.0

    if flatness(best) <= flatness(rest):
        return best, rest
    return rest, best


def _passes_near(line: ImageLine, vp: FloatArray, tol_deg: float) -> bool:
    """True when the line points at the vanishing point ``vp`` (homogeneous) within tol."""
    direction = np.array([-line.line[1], line.line[0]])
    mid = line.midpoint
    if abs(vp[2]) < 1e-9 * max(1.0, abs(vp[0]), abs(vp[1])):
        towards = vp[:2]
    else:
        towards = vp[:2] / vp[2] - mid
    norm = float(np.linalg.norm(towards))
    if norm < 1e-9:
        return True
    sin = abs(float(direction[0] * towards[1] - direction[1] * towards[0])) / norm
    return sin <= math.sin(math.radians(tol_deg))
