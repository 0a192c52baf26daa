"""Pure geometry of pitch registration: the pitch's markings, straight lines, homographies.

No frames and no plugin state: arrays in, arrays out, so every step can be tested on made-up
inputs. Conventions: pitch points are metres ``(x, y)`` on a 105 x 68 m pitch, origin at a
corner, x along the length, y across; image points are pixels; a homography ``H`` maps pitch
to image (``G = inv(H)`` maps back); a line is homogeneous ``(a, b, c)`` with ``a x + b y + c = 0``
and ``a**2 + b**2 == 1``.

Example:
    >>> import numpy as np
    >>> h = np.array([[4.0, 0, 110], [0, -4.0, 316], [0, 0, 1]])  # seen from straight above
    >>> project(h, np.array([[52.5, 34.0]])).round(1).tolist()
    [[320.0, 180.0]]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACROSS",
    "ACROSS_X",
    "ALONG",
    "ALONG_Y",
    "ARCS",
    "PITCH_LENGTH",
    "PITCH_WIDTH",
    "ImageLine",
    "ModelFeatures",
    "batch_homographies",
    "group_families",
    "homography_from_points",
    "in_view",
    "intersect",
    "line_through",
    "merge_segments",
    "model_features",
    "model_intersections",
    "model_samples",
    "project",
    "refit",
    "sagitta",
    "segment_distance",
]

FloatArray = npt.NDArray[np.float64]

PITCH_LENGTH = 105.0
PITCH_WIDTH = 68.0
_BOX_HALF, _GOAL_AREA_HALF, _CIRCLE_R = 20.16, 9.16, 9.15
_MID_Y = PITCH_WIDTH / 2

ALONG: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, PITCH_LENGTH),
    (PITCH_WIDTH, 0.0, PITCH_LENGTH),
    *(
        (_MID_Y + s * half, x0, x0 + depth)
        for half, depth in ((_BOX_HALF, 16.5), (_GOAL_AREA_HALF, 5.5))
        for s in (-1, 1)
        for x0 in (0.0, PITCH_LENGTH - depth)
    ),
)
"""Markings along the length, ``(y, x_from, x_to)``: touchlines, penalty and goal-area sides."""
ACROSS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, PITCH_WIDTH),
    (PITCH_LENGTH / 2, 0.0, PITCH_WIDTH),
    (PITCH_LENGTH, 0.0, PITCH_WIDTH),
    *(
        (x, _MID_Y - half, _MID_Y + half)
        for half, depth in ((_BOX_HALF, 16.5), (_GOAL_AREA_HALF, 5.5))
        for x in (depth, PITCH_LENGTH - depth)
    ),
)
"""Markings across the pitch, ``(x, y_from, y_to)``: goal lines, halfway line, box fronts."""
ARCS: tuple[tuple[float, float, float, float, float], ...] = (
    (PITCH_LENGTH / 2, _MID_Y, _CIRCLE_R, 0.0, 360.0),
    (11.0, _MID_Y, _CIRCLE_R, -53.13, 53.13),
    (PITCH_LENGTH - 11.0, _MID_Y, _CIRCLE_R, 126.87, 233.13),
)
"""Circles, ``(cx, cy, r, degrees_from, degrees_to)``: centre circle and penalty arcs."""
ALONG_Y = tuple(sorted({y for y, _, _ in ALONG}))
"""The distinct y of the markings along the length, near touchline (0) first."""
ACROSS_X = tuple(sorted({x for x, _, _ in ACROSS}))
"""The distinct x of the markings across the pitch, left goal line (0) first."""


# --- model --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFeatures:
    """The markings as short pieces for fitting.

    Attributes:
        ends: ``(F, 2, 2)`` pitch end points of each piece (arcs are cut into short chords).
        feature: ``(F,)`` which marking each piece belongs to (pieces of one arc share it).
        lines: ``(F, 3)`` the piece's pitch line for straight markings; NaN for arc pieces.
        circles: ``(F, 3)`` ``(cx, cy, r)`` for arc pieces; NaN for straight ones.
    """

    ends: FloatArray
    feature: npt.NDArray[np.int64]
    lines: FloatArray
    circles: FloatArray


def model_features(arc_step_deg: float = 20.0) -> ModelFeatures:
    """Every marking of the pitch as pieces: one per straight line, chords for the arcs."""
    ends, feature, lines, circles = [], [], [], []
    nan3 = [math.nan] * 3
    for k, (y, x0, x1) in enumerate(ALONG):
        ends.append([[x0, y], [x1, y]])
        feature.append(k)
        lines.append([0.0, 1.0, -y])
        circles.append(nan3)
    for k, (x, y0, y1) in enumerate(ACROSS, start=len(ALONG)):
        ends.append([[x, y0], [x, y1]])
        feature.append(k)
        lines.append([1.0, 0.0, -x])
        circles.append(nan3)
    for k, (cx, cy, r, a0, a1) in enumerate(ARCS, start=len(ALONG) + len(ACROSS)):
        n = max(2, math.ceil((a1 - a0) / arc_step_deg))
        angles = np.radians(np.linspace(a0, a1, n + 1))
        pts = np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)])
        for a, b in itertools.pairwise(pts):
            ends.append([a, b])
            feature.append(k)
            lines.append(nan3)
            circles.append([cx, cy, r])
    return ModelFeatures(
        np.asarray(ends, np.float64),
        np.asarray(feature, np.int64),
        np.asarray(lines, np.float64),
        np.asarray(circles, np.float64),
    )


def model_intersections() -> FloatArray:
    """Pitch points where an along marking meets an across marking (corners, T- and
    L-junctions), shape ``(n, 2)``."""
    points = {
        (x, y)
        for y, ax0, ax1 in ALONG
        for x, ay0, ay1 in ACROSS
        if ax0 - 1e-6 <= x <= ax1 + 1e-6 and ay0 - 1e-6 <= y <= ay1 + 1e-6
    }
    return np.asarray(sorted(points), np.float64)


def model_samples(spacing: float) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Points along every marking about ``spacing`` metres apart, and for each whether the
    next point continues the same marking (so their image distance is a length of line)."""
    pts: list[FloatArray] = []
    chained: list[npt.NDArray[np.bool_]] = []

    def add(p: FloatArray) -> None:
        pts.append(p)
        link = np.ones(len(p), bool)
        link[-1] = False
        chained.append(link)

    for y, x0, x1 in ALONG:
        xs = np.linspace(x0, x1, max(2, round((x1 - x0) / spacing) + 1))
        add(np.column_stack([xs, np.full_like(xs, y)]))
    for x, y0, y1 in ACROSS:
        ys = np.linspace(y0, y1, max(2, round((y1 - y0) / spacing) + 1))
        add(np.column_stack([np.full_like(ys, x), ys]))
    for cx, cy, r, a0, a1 in ARCS:
        n = max(3, round(math.radians(a1 - a0) * r / spacing) + 1)
        a = np.radians(np.linspace(a0, a1, n))
        add(np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)]))
    return np.concatenate(pts), np.concatenate(chained)


# --- points, lines, homographies ----------------------------------------------------------------


def project(h: FloatArray, points: FloatArray) -> FloatArray:
    """Map ``(n, 2)`` points with a 3x3 homography; points that land at infinity or behind the
    camera (w <= 0) come out as NaN."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    mapped = pts @ h[:, :2].T + h[:, 2]
    w = mapped[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(w > 1e-9, mapped[:, :2] / w, np.nan)
    return out


def line_through(p: Sequence[float] | FloatArray, q: Sequence[float] | FloatArray) -> FloatArray:
    """The normalised line through two points."""
    line = np.cross([p[0], p[1], 1.0], [q[0], q[1], 1.0])
    norm = math.hypot(line[0], line[1])
    if norm == 0:
        raise ValueError("the two points are the same")
    out: FloatArray = line / norm
    return out


def intersect(l1: FloatArray, l2: FloatArray) -> FloatArray | None:
    """Where two lines meet, or None for (nearly) parallel lines."""
    x, y, w = np.cross(l1, l2)
    if abs(w) < 1e-9 * max(1.0, abs(x), abs(y)):
        return None
    return np.array([x / w, y / w])


def homography_from_points(src: FloatArray, dst: FloatArray) -> FloatArray | None:
    """Least-squares homography mapping ``src`` to ``dst`` (``(n, 2)`` each, n >= 4) by the
    normalised DLT, or None when the points are degenerate (three of four on a line, say)."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if len(src) < 4 or len(src) != len(dst):
        return None
    ts, td = _normaliser(src), _normaliser(dst)
    s = src @ ts[:2, :2].T + ts[:2, 2]
    d = dst @ td[:2, :2].T + td[:2, 2]
    zero, one = np.zeros(len(s)), np.ones(len(s))
    x, y, u, v = s[:, 0], s[:, 1], d[:, 0], d[:, 1]
    rows = np.concatenate(
        [
            np.column_stack([x, y, one, zero, zero, zero, -u * x, -u * y, -u]),
            np.column_stack([zero, zero, zero, x, y, one, -v * x, -v * y, -v]),
        ]
    )
    _, sv, vt = np.linalg.svd(rows)
    if sv[-2] < 1e-9 * sv[0]:
        return None
    h = np.linalg.inv(td) @ vt[-1].reshape(3, 3) @ ts
    if abs(h[2, 2]) < 1e-12:
        return None
    out: FloatArray = h / h[2, 2]
    return out


def _normaliser(points: FloatArray) -> FloatArray:
    """Similarity moving points to their centroid and scaling them to mean distance sqrt(2)."""
    centre = points.mean(axis=0)
    scale = math.sqrt(2) / max(float(np.linalg.norm(points - centre, axis=1).mean()), 1e-9)
    return np.array([[scale, 0, -scale * centre[0]], [0, scale, -scale * centre[1]], [0, 0, 1]])


def batch_homographies(src: FloatArray, dst: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Exact homographies for many sets of four correspondences at once.

    Args:
        src: ``(n, 4, 2)`` source points.
        dst: ``(n, 4, 2)`` destination points.

    Returns:
        ``(homographies (m, 3, 3), kept (m,))``: the indices of the sets that were not
        degenerate, and their homographies.
    """
    n = len(src)
    if n == 0:
        return np.zeros((0, 3, 3)), np.zeros(0)
    ts = _normaliser(np.asarray(src, np.float64).reshape(-1, 2))
    td = _normaliser(np.asarray(dst, np.float64).reshape(-1, 2))
    src = src @ ts[:2, :2].T + ts[:2, 2]
    dst = dst @ td[:2, :2].T + td[:2, 2]
    a = np.zeros((n, 8, 8))
    b = np.zeros((n, 8))
    x, y = src[:, :, 0], src[:, :, 1]
    u, v = dst[:, :, 0], dst[:, :, 1]
    a[:, 0::2, 0], a[:, 0::2, 1], a[:, 0::2, 2] = x, y, 1
    a[:, 0::2, 6], a[:, 0::2, 7] = -u * x, -u * y
    a[:, 1::2, 3], a[:, 1::2, 4], a[:, 1::2, 5] = x, y, 1
    a[:, 1::2, 6], a[:, 1::2, 7] = -v * x, -v * y
    b[:, 0::2], b[:, 1::2] = u, v
    ok = np.abs(np.linalg.det(a)) > 1e-9
    kept = np.flatnonzero(ok)
    sol = np.linalg.solve(a[ok], b[ok][:, :, None])[:, :, 0]
    hn = np.concatenate([sol, np.ones((len(sol), 1))], axis=1).reshape(-1, 3, 3)
    hs = np.linalg.inv(td) @ hn @ ts
    hs /= hs[:, 2:3, 2:3]
    return hs, kept.astype(np.float64)


# --- image lines --------------------------------------------------------------------------------


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
    u = (t[near] - centre) / half
    a, _, _ = np.polyfit(u, offset[near], 2)
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
    segment end of one within ``dist_tol`` of the other's line and directions within tol."""
    merged = True
    while merged:
        merged = False
        for a, b in itertools.combinations(range(len(lines)), 2):
            if abs(lines[a][0] * lines[b][1] - lines[a][1] * lines[b][0]) > math.sin(
                math.radians(angle_tol)
            ):
                continue
            pts = segs[clusters[b]].reshape(-1, 2)
            if np.abs(pts @ lines[a][:2] + lines[a][2]).max() > dist_tol:
                continue
            clusters[a] += clusters[b]
            lines[a] = _fit_line(segs[clusters[a]], lengths[clusters[a]])
            del clusters[b], lines[b]
            merged = True
            break
    return clusters, lines


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
    (to be told apart by fitting).

    Returns:
        ``(along, across)``: indices into ``lines``, each list in the order of ``lines``.
    """
    n = len(lines)
    best: list[int] = []
    best_support = 0.0
    for i, j in itertools.combinations(range(n), 2):
        vp = np.cross(lines[i].line, lines[j].line)
        members = [k for k in range(n) if _passes_near(lines[k], vp, tol_deg)]
        support = sum(lines[k].support for k in members)
        if len(members) >= 3 and support > best_support:
            best, best_support = members, support
    if not best:
        along = [k for k in range(n) if abs(lines[k].angle) <= steep_deg]
        across = [k for k in range(n) if abs(lines[k].angle) > flat_deg]
        return along, across
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


# --- refinement ---------------------------------------------------------------------------------


def refit(
    h: FloatArray,
    pixels: FloatArray,
    features: ModelFeatures,
    radius: float,
    stiffness: float = 1e-3,
) -> tuple[FloatArray, int]:
    """One step of model-to-image fitting (ICP with point-to-line distances).

    Every line pixel within ``radius`` px of exactly one projected marking is paired with it;
    the new homography makes the pixels, mapped to the pitch, lie on their markings (arcs by
    their tangent at the nearest point). The constraints are linear in ``inv(h)``, so one
    weighted least-squares solve does it; ``stiffness`` keeps it near ``h`` along directions
    the pixels leave free (only lines of one family in view, say).

    Args:
        h: Current pitch-to-image homography.
        pixels: ``(n, 2)`` line pixels.
        features: The markings (:func:`model_features`).
        radius: Pairing distance in pixels.
        stiffness: Weight of staying near ``h``.

    Returns:
        ``(new h, pixels paired)``; ``h`` unchanged when fewer than 8 pixels pair.
    """
    ends = project(h, features.ends.reshape(-1, 2)).reshape(-1, 2, 2)
    idx = np.flatnonzero(in_view(ends, pixels, radius))
    if len(idx) == 0 or len(pixels) < 8:
        return h, 0
    dist = segment_distance(pixels, ends[idx])  # (n, f)
    nearest = np.argmin(dist, axis=1)
    d_near = dist[np.arange(len(pixels)), nearest]
    own = features.feature[idx][nearest]
    other = np.where(features.feature[idx][None, :] == own[:, None], np.inf, dist).min(axis=1)
    keep = (d_near <= radius) & (other > radius)
    if keep.sum() < 8:
        return h, 0
    pts = pixels[keep]
    piece = idx[nearest[keep]]
    g = np.asarray(np.linalg.inv(h), np.float64)
    pitch_pts = project(g, pts)
    lines = features.lines[piece].copy()
    arc = np.isnan(lines[:, 0])
    if arc.any():
        c = features.circles[piece[arc]]
        normal = pitch_pts[arc] - c[:, :2]
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
        lines[arc] = np.column_stack([normal, -(normal * c[:, :2]).sum(axis=1) - c[:, 2]])
    # Pixels per metre across each marking, so residuals are in pixels, not metres.
    step = project(h, pitch_pts + 0.1 * lines[:, :2])
    px_per_m = np.nan_to_num(np.linalg.norm(step - pts, axis=1) / 0.1, nan=0.0)
    ti = _normaliser(pts)
    tp = np.array([[1 / 50, 0, -1.05], [0, 1 / 50, -0.68], [0, 0, 1]])
    pn = pts @ ti[:2, :2].T + ti[:2, 2]
    ph = np.column_stack([pn, np.ones(len(pn))])
    ln = lines @ np.linalg.inv(tp)  # a line m in pitch coords is m @ inv(tp) in normalised ones
    gn = tp @ g @ np.linalg.inv(ti)
    gn /= np.linalg.norm(gn)
    w0 = ph @ gn[2]
    weight = px_per_m / np.maximum(np.abs(w0), 1e-12)
    rows = (ln[:, :, None] * ph[:, None, :]).reshape(-1, 9) * weight[:, None]
    normal_eq = rows.T @ rows
    g0 = gn.reshape(9)
    mu = stiffness * np.trace(normal_eq)
    normal_eq += mu * (np.eye(9) - np.outer(g0, g0))
    _, vecs = np.linalg.eigh(normal_eq)
    g_new = vecs[:, 0].reshape(3, 3)
    g_pitch = np.linalg.inv(tp) @ g_new @ ti
    try:
        h_new = np.linalg.inv(g_pitch)
    except np.linalg.LinAlgError:
        return h, 0
    if abs(h_new[2, 2]) < 1e-12:
        return h, 0
    return h_new / h_new[2, 2], int(keep.sum())


def in_view(ends: FloatArray, pixels: FloatArray, margin: float) -> npt.NDArray[np.bool_]:
    """Which projected pieces ``(f, 2, 2)`` are finite and overlap the pixels' bounding box
    grown by ``margin``."""
    ok: npt.NDArray[np.bool_] = np.asarray(np.isfinite(ends).all(axis=(1, 2)))
    if len(pixels) == 0:
        return np.zeros(len(ends), bool)
    lo, hi = pixels.min(axis=0) - margin, pixels.max(axis=0) + margin
    safe = np.where(ok[:, None, None], ends, 0.0)
    ok &= (safe.max(axis=1) >= lo).all(axis=1) & (safe.min(axis=1) <= hi).all(axis=1)
    return ok


def segment_distance(points: FloatArray, ends: FloatArray) -> FloatArray:
    """Distances ``(n, f)`` from n points to f segments ``(f, 2, 2)``."""
    ax = points[:, 0:1] - ends[None, :, 0, 0]
    ay = points[:, 1:2] - ends[None, :, 0, 1]
    abx = ends[:, 1, 0] - ends[:, 0, 0]
    aby = ends[:, 1, 1] - ends[:, 0, 1]
    length2 = np.maximum(abx * abx + aby * aby, 1e-12)
    t = np.clip((ax * abx + ay * aby) / length2, 0.0, 1.0)
    ax -= t * abx
    ay -= t * aby
    out: FloatArray = np.sqrt(ax * ax + ay * ay)
    return out
