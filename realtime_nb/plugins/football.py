"""Football plugins with classic OpenCV: the pitch, the players (with teams) and the ball.

No model downloads: the pitch is the largest green region, players are non-green blobs on it
(their team found by clustering jersey colours over the first frames), and the ball is a small,
compact white blob followed by a constant-velocity Kalman filter. Each plugin reads the pitch
polygon from ``pitch_detection`` when it ran first on the same frame, and finds the grass itself
otherwise, so any of them can run alone.

Example:
    >>> from realtime_nb.plugins import PluginContext
    >>> from realtime_nb.synthetic import synthetic_match
    >>> clip = synthetic_match(seconds=1, seed=1)
    >>> ctx = PluginContext(0, "f-000000", {}, {}, clip.info)
    >>> result = PitchDetection().process(clip.frame(0), ctx)
    >>> result["coverage"] > 0.5
    True
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.plugins.base import Frame, Plugin, PluginContext, bgr_metadata
from realtime_nb.protocol import Severity

__all__ = [
    "FALLBACK_WARNING",
    "LOW_CONFIDENCE_WARNING",
    "BallDetection",
    "PitchDetection",
    "PlayerDetection",
    "green_mask",
]

FALLBACK_WARNING = "corners not detected, using fallback"
"""Warning (severity low) of pitch_detection when it cannot see four pitch corners."""
LOW_CONFIDENCE_WARNING = "confidence too low"
"""Warning (severity medium) of ball_detection when it loses the ball."""

Mask = npt.NDArray[np.uint8]
Points = npt.NDArray[np.int32]

_GREEN_LO = np.array([35, 40, 30], np.uint8)
_GREEN_HI = np.array([85, 255, 255], np.uint8)
_PITCH_CORNERS_M = np.array([[0, 0], [105, 0], [105, 68], [0, 68]], np.float32)
_TEAM_DRAW = ((60, 60, 230), (230, 120, 40))
_ROLE_DRAW = {"goalkeeper": (0, 220, 255), "referee": (30, 30, 30), "player": (200, 200, 200)}


def green_mask(hsv: Frame) -> Mask:
    """Grass pixels of an HSV image (OpenCV ranges), as a 0/255 mask."""
    return np.asarray(cv2.inRange(hsv, _GREEN_LO, _GREEN_HI), np.uint8)


def _kernel(width: int, height: int | None = None) -> Mask:
    return np.ones((height or width, width), np.uint8)


def _pitch_hull(green: Mask) -> Points | None:
    """Convex hull of the largest grass region, or None when there is no sizeable one."""
    h, w = green.shape
    size = max(3, round(min(h, w) * 0.03)) | 1
    # Closing swallows lines and players, so the grass is one region with them inside.
    solid = cv2.morphologyEx(green, cv2.MORPH_CLOSE, _kernel(size))
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, _kernel(max(3, size // 2)))
    contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    largest = max(contours, key=cv2.contourArea)
    if cv2.contourArea(largest) < 0.05 * h * w:
        return None
    return np.asarray(cv2.convexHull(largest), np.int32)


def _polygon_mask(shape: tuple[int, int], polygon: Points) -> Mask:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [polygon.reshape(-1, 1, 2)], 255)
    return mask


def _pitch_region(ctx: PluginContext, green: Mask) -> Mask:
    """The pitch as a mask: pitch_detection's polygon when it ran first, else found here."""
    earlier = ctx.results.get("pitch_detection") or {}
    polygon = earlier.get("pitch_polygon") or []
    if len(polygon) >= 3:
        return _polygon_mask(green.shape[:2], np.asarray(polygon, np.int32))
    hull = _pitch_hull(green)
    if hull is None:
        return np.full(green.shape, 255, np.uint8)
    return _polygon_mask(green.shape[:2], hull)


def _warn_once(ctx: PluginContext, key: str, message: str, severity: Severity) -> None:
    """Warn at the start of an episode only; the caller clears ``key`` when it ends."""
    if not ctx.state.get(key):
        ctx.warn(message, severity)
        ctx.state[key] = True


# --- pitch --------------------------------------------------------------------------------------


class PitchDetection(Plugin):
    """The pitch: the largest green region's polygon, its white lines, and its corners.

    Result::

        {"pitch_polygon": [[x, y], ...], "corners": [[x, y], ...], "detected_corners": [...],
         "fallback": bool, "coverage": 0.87, "homography": [[...], [...], [...]] | None}

    ``detected_corners`` are corners of the outermost white lines found in the image. With all
    four, ``homography`` maps pitch metres (0..105, 0..68) to pixels. With fewer (a broadcast
    camera rarely sees four), ``corners`` falls back to the pitch polygon's bounding quad and the
    warning "corners not detected, using fallback" (low) is raised once per such episode.
    """

    name = "pitch_detection"
    metadata = bgr_metadata(
        "opencv-hsv-green-mask", 0.5, ["pitch_polygon", "pitch_lines", "pitch_corners"]
    )

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find the pitch polygon, its corners and, with four corners, the homography."""
        h, w = frame.shape[:2]
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        green = green_mask(hsv)
        hull = _pitch_hull(green)
        if hull is None:
            _warn_once(ctx, "fallback_warned", FALLBACK_WARNING, "low")
            return {
                "pitch_polygon": [],
                "corners": [],
                "detected_corners": [],
                "fallback": True,
                "coverage": 0.0,
                "homography": None,
            }
        polygon = cv2.approxPolyDP(hull, 0.004 * cv2.arcLength(hull, True), True).reshape(-1, 2)
        inside = np.asarray(
            cv2.erode(_polygon_mask((h, w), hull), _kernel(max(3, w // 100))), np.uint8
        )
        detected = _outer_corners(_line_mask(hsv, green, inside), w, h)
        homography = None
        if len(detected) == 4:
            ctx.state["fallback_warned"] = False
            corners = detected
            homography = _homography(detected)
        else:
            _warn_once(ctx, "fallback_warned", FALLBACK_WARNING, "low")
            corners = _bounding_quad(hull, w, h)
        return {
            "pitch_polygon": [[int(x), int(y)] for x, y in polygon],
            "corners": [[round(x, 1), round(y, 1)] for x, y in corners],
            "detected_corners": [[round(x, 1), round(y, 1)] for x, y in detected],
            "fallback": homography is None,
            "coverage": round(float(cv2.contourArea(hull)) / (w * h), 4),
            "homography": homography,
        }

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Outline the pitch polygon; mark detected corners red and fallback corners orange."""
        polygon = result.get("pitch_polygon") or []
        if len(polygon) >= 3:
            pts = np.asarray(polygon, np.int32).reshape(-1, 1, 2)
            cv2.polylines(frame, [pts], True, (0, 255, 255), 2, cv2.LINE_AA)
        colour = (0, 140, 255) if result.get("fallback") else (0, 0, 255)
        for x, y in result.get("corners") or []:
            cv2.circle(frame, (round(x), round(y)), 6, colour, 2, cv2.LINE_AA)


def _line_mask(hsv: Frame, green: Mask, inside: Mask) -> Mask:
    """White line pixels on the pitch, without specks and the ball (line pieces are long).

    A far line is thinner than a pixel and only lightens the grass, so a pixel counts when it is
    brighter than its surroundings and paler than the grass, not when it is pure white.
    """
    value, saturation = hsv[:, :, 2], hsv[:, :, 1]
    _, grass_s, grass_v, _ = cv2.mean(hsv, mask=green)
    brighter = cv2.subtract(value, cv2.morphologyEx(value, cv2.MORPH_OPEN, _kernel(9)))
    paler = cv2.inRange(saturation, 0, 0.85 * grass_s)
    grass_or_white = cv2.bitwise_or(green, cv2.inRange(hsv, (0, 0, grass_v + 30), (180, 60, 255)))
    white = cv2.bitwise_and(cv2.inRange(brighter, 18, 255), paler)
    white = cv2.bitwise_and(cv2.bitwise_and(white, grass_or_white), inside)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(white, connectivity=8)
    min_len = max(10, hsv.shape[1] // 60)
    keep = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) >= min_len
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _outer_corners(lines: Mask, w: int, h: int) -> list[tuple[float, float]]:
    """Corners of the outermost lines: vertices of the lines' convex hull that are not on the
    frame's border (where a line merely leaves the view), make a real turn, and have white line
    along both hull edges (a curve's extreme point, say the centre circle's, has grass there)."""
    pts = cv2.findNonZero(lines)
    if pts is None or len(pts) < 30:
        return []
    hull = cv2.convexHull(pts)
    approx = cv2.approxPolyDP(hull, max(2.0, 0.008 * w), True).reshape(-1, 2).astype(float)
    margin = max(3.0, 0.01 * w)
    near_lines = np.asarray(cv2.dilate(lines, _kernel(5)), np.uint8)
    corners = []
    for i, (x, y) in enumerate(approx):
        if not (margin < x < w - 1 - margin and margin < y < h - 1 - margin):
            continue
        a, b = approx[i - 1] - (x, y), approx[(i + 1) % len(approx)] - (x, y)
        cos = float(a @ b) / (float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0)
        if math.degrees(math.acos(max(-1.0, min(1.0, cos)))) > 165:
            continue
        if min(_support(near_lines, (x, y), a), _support(near_lines, (x, y), b)) >= 0.5:
            corners.append((float(x), float(y)))
    return corners


def _support(lines: Mask, start: tuple[float, float], direction: npt.NDArray[np.float64]) -> float:
    """Share of the first stretch from ``start`` along ``direction`` that lies on a line."""
    length = float(np.linalg.norm(direction))
    steps = np.arange(2.0, min(length, 40.0))
    if len(steps) < 3:
        return 1.0
    xs = np.clip(np.round(start[0] + steps * direction[0] / length), 0, lines.shape[1] - 1)
    ys = np.clip(np.round(start[1] + steps * direction[1] / length), 0, lines.shape[0] - 1)
    return float(np.mean(lines[ys.astype(int), xs.astype(int)] > 0))


def _homography(corners: list[tuple[float, float]]) -> list[list[float]]:
    """Pitch (metres) to image homography from four corners, the nearer two being lower."""
    by_y = sorted(corners, key=lambda p: p[1])
    far_left, far_right = sorted(by_y[:2])
    near_left, near_right = sorted(by_y[2:])
    image = np.array([near_left, near_right, far_right, far_left], np.float32)
    matrix = cv2.getPerspectiveTransform(_PITCH_CORNERS_M, image)
    return [[round(float(v), 6) for v in row] for row in matrix]


def _bounding_quad(hull: Points, w: int, h: int) -> list[tuple[float, float]]:
    box = cv2.boxPoints(cv2.minAreaRect(hull))
    return [(float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1))) for x, y in box]


# --- players ------------------------------------------------------------------------------------


class PlayerDetection(Plugin):
    """People on the pitch: non-green, non-white blobs, with role and team from the jersey.

    Result::

        {"detections": [{"box": [x1, y1, x2, y2], "class": "player", "team": 0,
                         "confidence": 0.9}, ...],
         "count": n, "team_colors": [[b, g, r], [b, g, r]]}

    Team colours are learnt over the first frames (the two densest jersey colours); a jersey
    far from both is a ``referee`` when dark and grey, else a ``goalkeeper`` (team None).
    People who overlap make one blob: a blob as wide as two or three people, or as tall as
    people one behind the other (by a height-for-row line fitted to lone players), is split.
    """

    name = "player_detection"
    metadata = bgr_metadata(
        "opencv-hsv-blobs+lab-jersey-clustering",
        0.6,
        ["detection", "team_classification", "role_classification"],
    )
    warmup_frames = 15

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Detect people on the pitch and classify role and team."""
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        green = green_mask(hsv)
        boxes, labels, ids = _person_blobs(hsv, green, _pitch_region(ctx, green))
        model = _height_model(boxes, ctx.state)
        boxes, ids = _split_side_by_side(boxes, ids, labels, model)
        boxes, ids = _split_stacked(boxes, ids, labels, model)
        grass = np.asarray(cv2.mean(frame, mask=green)[:3])
        colours = [
            _jersey_colour(frame, labels, b, k, grass) for b, k in zip(boxes, ids, strict=True)
        ]
        features = _lab_features(colours)
        teams = _TeamModel(ctx.state)
        if ctx.state.get("team_frames", 0) < self.warmup_frames:
            teams.learn(features, colours)
        detections = []
        for box, feature in zip(boxes, features, strict=True):
            role, team, confidence = teams.classify(feature)
            detections.append(
                {"box": box, "class": role, "team": team, "confidence": round(confidence, 3)}
            )
        return {
            "detections": detections,
            "count": len(detections),
            "team_colors": ctx.state.get("team_bgr") or [],
        }

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box every person in its team's colour, with a short label."""
        palette = [tuple(c) for c in result.get("team_colors") or []] or list(_TEAM_DRAW)
        for det in result.get("detections") or []:
            x1, y1, x2, y2 = det["box"]
            team, role = det.get("team"), det.get("class", "player")
            colour = palette[team] if team is not None and team < len(palette) else None
            colour = colour or _ROLE_DRAW.get(role, (255, 255, 255))
            label = (
                f"T{team}"
                if team is not None
                else {"goalkeeper": "GK", "referee": "REF"}.get(role, "?")
            )
            cv2.rectangle(frame, (x1, y1), (x2, y2), colour, 1)
            cv2.putText(
                frame, label, (x1, max(8, y1 - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, colour, 1
            )


def _person_blobs(
    hsv: Frame, green: Mask, region: Mask
) -> tuple[list[list[int]], npt.NDArray[np.int32], list[int]]:
    """Boxes (inclusive pixels) of person-shaped blobs, the label image and their labels."""
    h, w = green.shape
    candidates = cv2.bitwise_not(cv2.bitwise_or(green, _line_like(hsv, green)))
    candidates = cv2.bitwise_and(candidates, region)
    # Opening drops the 1-px fringes of anti-aliased lines; the tall closing rejoins head,
    # torso and legs split by a row of grass-coloured pixels.
    candidates = cv2.morphologyEx(candidates, cv2.MORPH_OPEN, _kernel(2))
    candidates = cv2.morphologyEx(candidates, cv2.MORPH_CLOSE, _kernel(3, 5))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(candidates, connectivity=8)
    min_area = max(8.0, 4e-5 * h * w)
    boxes, ids = [], []
    for k in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[k])
        if area < min_area or bh < 6 or bw > 0.2 * w or bh > 0.5 * h:
            continue
        if not 0.7 <= bh / bw <= 6.0 or area < 0.2 * bw * bh:
            continue
        boxes.append([x, y, x + bw - 1, y + bh - 1])
        ids.append(k)
    return boxes, np.asarray(labels, np.int32), ids


def _height_model(
    boxes: list[list[int]], state: dict[str, Any]
) -> tuple[float, float, float] | None:
    """How tall (px) a person standing at image row y is, as ``(a, b, r)``: ``h = a * y + b``,
    and the person is ``r * h`` wide.

    On a flat pitch a person's height in the image grows linearly with the row of their feet,
    so a line fitted to blobs shaped like one person (over recent frames, in ``state``) tells
    how tall a lone person is anywhere, and a blob much taller is people one behind another.
    """
    samples: list[list[float]] = state.setdefault("height_samples", [])
    for x1, y1, x2, y2 in boxes:
        bw, bh = x2 - x1 + 1, y2 - y1 + 1
        if 2.6 <= bh / bw <= 4.4:
            samples.append([float(y2), float(bh), float(bw)])
    del samples[:-300]
    if len(samples) < 8:
        return None
    data = np.asarray(samples)
    a, b = np.polyfit(data[:, 0], data[:, 1], 1)
    fitted = a * data[:, 0] + b
    inliers = np.abs(data[:, 1] - fitted) <= 0.2 * np.maximum(fitted, 1.0)
    if inliers.sum() >= 8:
        a, b = np.polyfit(data[inliers, 0], data[inliers, 1], 1)
    if a <= 0 or a >= 1:
        return None
    return float(a), float(b), float(np.median(data[:, 2] / data[:, 1]))


def _split_stacked(
    boxes: list[list[int]],
    ids: list[int],
    labels: npt.NDArray[np.int32],
    model: tuple[float, float, float] | None,
) -> tuple[list[list[int]], list[int]]:
    """Split blobs that are two or three people one behind the other into one box each.

    The nearest person's feet are the blob's bottom and their height comes from ``model``; the
    person above stands where a lone person's height reaches the blob's top.
    """
    if model is None:
        return boxes, ids
    a, b, _ = model
    out_boxes, out_ids = [], []
    for box, label in zip(boxes, ids, strict=True):
        x1, y1, x2, y2 = box
        pieces: list[tuple[int, int]] = []
        bottom = y2
        while len(pieces) < 3:
            expected = a * bottom + b
            if bottom - y1 + 1 <= 1.45 * expected or expected < 6:
                break
            top = round(bottom - expected + 1)
            pieces.append((top, bottom))
            # The next person's feet: the row where a lone person standing there reaches y1,
            # but never below the nearer person's waist (it covers their feet otherwise).
            feet = (y1 + b) / (1 - a)
            bottom = round(min(max(feet, top + 2), top + 0.6 * expected))
        if not pieces:
            out_boxes.append(box)
            out_ids.append(label)
            continue
        pieces.append((y1, bottom))
        blob = labels[:, x1 : x2 + 1] == label
        for top, bot in pieces:
            cols = np.flatnonzero(blob[top : bot + 1].any(axis=0))
            if len(cols) == 0 or bot - top < 5:
                continue
            out_boxes.append([x1 + int(cols[0]), top, x1 + int(cols[-1]), bot])
            out_ids.append(label)
    return out_boxes, out_ids


def _split_side_by_side(
    boxes: list[list[int]],
    ids: list[int],
    labels: npt.NDArray[np.int32],
    model: tuple[float, float, float] | None,
) -> tuple[list[list[int]], list[int]]:
    """Split blobs as wide as two or three people at the emptiest columns near the even cuts."""
    if model is None:
        return boxes, ids
    a, b, ratio = model
    out_boxes, out_ids = [], []
    for box, label in zip(boxes, ids, strict=True):
        x1, y1, x2, y2 = box
        bw = x2 - x1 + 1
        expected = ratio * (a * y2 + b)
        if expected < 3 or bw <= 1.7 * expected:
            out_boxes.append(box)
            out_ids.append(label)
            continue
        n = min(3, max(2, round(bw / expected)))
        blob = labels[y1 : y2 + 1, x1 : x2 + 1] == label
        counts = blob.sum(axis=0)
        reach = max(1, round(expected / 3))
        cuts = [0]
        for k in range(1, n):
            even = round(k * bw / n)
            lo, hi = max(cuts[-1] + 2, even - reach), min(bw - 2, even + reach)
            if lo >= hi:
                continue
            cuts.append(lo + int(np.argmin(counts[lo:hi])))
        cuts.append(bw)
        for left, right in itertools.pairwise(cuts):
            rows = np.flatnonzero(blob[:, left:right].any(axis=1))
            if right - left < 2 or len(rows) < 6:
                continue
            out_boxes.append([x1 + left, y1 + int(rows[0]), x1 + right - 1, y1 + int(rows[-1])])
            out_ids.append(label)
    return out_boxes, out_ids


def _line_like(hsv: Frame, green: Mask) -> Mask:
    """Pixels that are white or a white-grass blend: paler and brighter than the grass, and
    green-hued or grey. Absolute thresholds would miss lines in dim light."""
    _, grass_s, grass_v, _ = cv2.mean(hsv, mask=green)
    pale = cv2.inRange(hsv, (0, 0, grass_v + 12), (180, 0.8 * grass_s, 255))
    greenish = cv2.inRange(hsv, (int(_GREEN_LO[0]), 0, 0), (int(_GREEN_HI[0]), 255, 255))
    grey = cv2.inRange(hsv, (0, 0, 0), (180, 60, 255))
    return np.asarray(cv2.bitwise_and(pale, cv2.bitwise_or(greenish, grey)), np.uint8)


def _jersey_colour(
    frame: Frame,
    labels: npt.NDArray[np.int32],
    box: list[int],
    label: int,
    grass: npt.NDArray[np.float64],
) -> list[int]:
    """Median BGR of the blob's upper body (below the head, above the shorts), over the half of
    its pixels least like grass: a small player's edge pixels are half grass."""
    x1, y1, x2, y2 = box
    bh = y2 - y1 + 1
    top, bottom = y1 + round(0.18 * bh), y1 + max(round(0.48 * bh), round(0.18 * bh) + 1)
    pixels = frame[top:bottom, x1 : x2 + 1][labels[top:bottom, x1 : x2 + 1] == label]
    if len(pixels) == 0:
        pixels = frame[y1 : y2 + 1, x1 : x2 + 1][labels[y1 : y2 + 1, x1 : x2 + 1] == label]
    away = np.linalg.norm(pixels.astype(np.float64) - grass, axis=1)
    keep = pixels[away >= np.median(away)]
    return [int(v) for v in np.median(keep, axis=0)]


def _lab_features(colours: list[list[int]]) -> npt.NDArray[np.float64]:
    """(L/2, a, b) per colour: lightness counts half so shade matters less than hue."""
    if not colours:
        return np.zeros((0, 3))
    lab = cv2.cvtColor(np.asarray(colours, np.uint8).reshape(-1, 1, 3), cv2.COLOR_BGR2LAB)
    features = lab.reshape(-1, 3).astype(np.float64) - (0.0, 128.0, 128.0)
    features[:, 0] *= 0.5
    return features


class _TeamModel:
    """Team jersey colours kept in the plugin's state as plain lists."""

    radius = 18.0  # Lab units: one team's jerseys fall within this of its centre
    assign = 30.0

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state

    def learn(self, features: npt.NDArray[np.float64], colours: list[list[int]]) -> None:
        """Add one frame's jerseys and refit the two team centres."""
        samples = self.state.setdefault("team_samples", [])
        samples.extend([*f, *c] for f, c in zip(features.tolist(), colours, strict=True))
        del samples[:-400]
        self.state["team_frames"] = self.state.get("team_frames", 0) + 1
        fitted = _fit_two_clusters(np.asarray(samples, np.float64), self.radius)
        if fitted is not None:
            self.state["team_centres"] = fitted[0].tolist()
            self.state["team_bgr"] = [[int(v) for v in c] for c in fitted[1]]

    def classify(self, feature: npt.NDArray[np.float64]) -> tuple[str, int | None, float]:
        """Role, team and confidence of one jersey feature."""
        centres = self.state.get("team_centres")
        if not centres:
            return "player", None, 0.5
        distances = np.linalg.norm(np.asarray(centres) - feature, axis=1)
        team = int(np.argmin(distances))
        if distances[team] <= self.assign:
            return "player", team, 0.6 + 0.39 * (1 - float(distances[team]) / self.assign)
        lightness, chroma = feature[0] * 2 / 2.55, math.hypot(feature[1], feature[2])
        if lightness < 25 and chroma < 20:
            return "referee", None, 0.7
        return "goalkeeper", None, 0.6


def _fit_two_clusters(
    samples: npt.NDArray[np.float64], radius: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """The two densest colour clusters (density peaks, so a few goalkeepers and referees do not
    drag them), ordered by hue angle so team ids are stable. Returns (Lab centres, BGR)."""
    if len(samples) < 4:
        return None
    feats = samples[:, :3]
    dist = np.linalg.norm(feats[:, None, :] - feats[None, :, :], axis=2)
    density = (dist < radius).sum(axis=1)
    first = int(np.argmax(density))
    far = dist[first] > 2 * radius
    if not far.any():
        return None
    second = int(np.argmax(np.where(far, density, -1)))
    if density[second] < 2:
        return None
    centres = feats[[first, second]]
    for _ in range(2):
        near = np.linalg.norm(feats[:, None, :] - centres[None], axis=2)
        owner = np.argmin(near, axis=1)
        close = near[np.arange(len(feats)), owner] < 1.5 * radius
        centres = np.array([np.median(feats[(owner == k) & close], axis=0) for k in (0, 1)])
    near = np.linalg.norm(feats[:, None, :] - centres[None], axis=2)
    owner = np.argmin(near, axis=1)
    bgr = np.array([np.median(samples[owner == k, 3:], axis=0) for k in (0, 1)])
    order = np.argsort(np.mod(np.degrees(np.arctan2(centres[:, 2], centres[:, 1])), 360))
    return centres[order], bgr[order]


# --- ball ---------------------------------------------------------------------------------------


class BallDetection(Plugin):
    """The ball: a small, compact, bright white blob on the pitch, tracked by a Kalman filter.

    Result: ``{"ball": {"box": [x1, y1, x2, y2], "center": [x, y], "confidence": c,
    "predicted": bool} | None}``. A missed ball is predicted for a few frames; once the track is
    lost the warning "confidence too low" (medium) is raised once for that episode.
    """

    name = "ball_detection"
    metadata = bgr_metadata("opencv-white-blob+kalman", 0.5, ["detection", "tracking"])
    min_confidence = 0.3
    max_coast = 8
    decay = 0.8

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Find or predict the ball; warn once when it is lost."""
        h, w = frame.shape[:2]
        hsv = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2HSV), np.uint8)
        green = green_mask(hsv)
        white = _white_mask(hsv, green, _pitch_region(ctx, green))
        track: _Track | None = ctx.state.get("track")
        predicted = track.predict() if track is not None else None
        found = _choose(_compact_blobs(white), predicted, track, w)
        if found is None and predicted is not None and track is not None:
            found = _on_a_line(white, predicted, _gate(track, w))
        if found is not None:
            (cx, cy), radius, confidence = found
            jumped = predicted is not None and math.dist((cx, cy), predicted) > 3 * _gate(track, w)
            if track is None or jumped:
                track = ctx.state["track"] = _Track(cx, cy)
            else:
                track.update(cx, cy)
            track.missed, track.confidence, track.radius = 0, confidence, radius
            ctx.state["lost_warned"] = False
            return {"ball": _ball(cx, cy, radius, confidence, False)}
        if track is not None and predicted is not None:
            track.missed += 1
            track.confidence *= self.decay
            px, py = predicted
            in_view = 0 <= px < w and 0 <= py < h
            alive = track.missed <= self.max_coast and track.confidence >= self.min_confidence
            if in_view and alive:
                return {"ball": _ball(px, py, track.radius, track.confidence, True)}
        ctx.state["track"] = None
        _warn_once(ctx, "lost_warned", LOW_CONFIDENCE_WARNING, "medium")
        return {"ball": None}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Circle the ball: white when seen, grey when predicted."""
        ball = result.get("ball")
        if not ball:
            return
        x, y = ball["center"]
        x1, y1, x2, y2 = ball["box"]
        radius = max(4, round(max(x2 - x1, y2 - y1)))
        colour = (160, 160, 160) if ball.get("predicted") else (0, 0, 255)
        cv2.circle(frame, (round(x), round(y)), radius, colour, 1, cv2.LINE_AA)


def _ball(x: float, y: float, radius: float, confidence: float, predicted: bool) -> dict[str, Any]:
    r = max(1.0, radius)
    return {
        "box": [round(x - r), round(y - r), round(x + r), round(y + r)],
        "center": [round(x, 1), round(y, 1)],
        "confidence": round(confidence, 3),
        "predicted": predicted,
    }


Candidate = tuple[tuple[float, float], float, float]  # centre, radius, confidence


def _white_mask(hsv: Frame, green: Mask, region: Mask) -> Mask:
    """Bright white pixels on the pitch: the ball, and the lines (long and thin)."""
    grass_v = cv2.mean(hsv[:, :, 2], mask=green)[0]
    white = cv2.inRange(hsv, (0, 0, min(230.0, grass_v * 1.3)), (180, 70, 255))
    return np.asarray(cv2.bitwise_and(white, region), np.uint8)


def _on_a_line(white: Mask, predicted: tuple[float, float], gate: float) -> Candidate | None:
    """The tracked ball where it lies on a line, so the two are one blob: near the prediction,
    an opening by a 3x3 square removes the thinner line and leaves the ball. Only used near a
    prediction, because the same opening leaves pieces of the thick near lines elsewhere."""
    h, w = white.shape
    px, py = predicted
    r = round(gate) + 3
    x0, y0 = max(0, round(px) - r), max(0, round(py) - r)
    x1, y1 = min(w, round(px) + r + 1), min(h, round(py) + r + 1)
    if x1 - x0 < 5 or y1 - y0 < 5:
        return None
    window = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)  # a border keeps blobs uncut
    window[1:-1, 1:-1] = cv2.morphologyEx(white[y0:y1, x0:x1], cv2.MORPH_OPEN, _kernel(3))
    near = []
    for (cx, cy), radius, confidence in _compact_blobs(window, 4, 0.025 * w):
        x, y = cx + x0 - 1, cy + y0 - 1
        if math.dist((x, y), predicted) <= gate:
            near.append(((x, y), max(radius, 2.0), 0.9 * confidence))
    return min(near, key=lambda c: math.dist(c[0], predicted), default=None)


def _compact_blobs(
    white: Mask, min_area: int = 5, max_size: float | None = None
) -> list[Candidate]:
    h, w = white.shape
    n, _, stats, centroids = cv2.connectedComponentsWithStats(white, connectivity=8)
    max_size = max(6, round(0.025 * w if max_size is None else max_size))
    found = []
    for k in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[k])
        if area < min_area or bw > max_size or bh > max_size:
            continue
        if x <= 0 or y <= 0 or x + bw >= w or y + bh >= h:
            continue  # cut by the frame: most often the end of a line leaving the view
        aspect = max(bw, bh) / min(bw, bh)
        fill = area / (bw * bh)
        if aspect > 2.0 or fill < 0.45:
            continue
        score = (1.0 / aspect) * min(1.0, fill / 0.75)
        radius = max(bw, bh) / 2
        found.append(((float(centroids[k][0]), float(centroids[k][1])), radius, 0.5 + 0.45 * score))
    return found


def _choose(
    candidates: list[Candidate],
    predicted: tuple[float, float] | None,
    track: _Track | None,
    width: int,
) -> Candidate | None:
    """Near the prediction when tracking; the most ball-like blob otherwise."""
    if not candidates:
        return None
    if predicted is None or track is None:
        return max(candidates, key=lambda c: c[2])
    gate = _gate(track, width)
    px, py = predicted
    near = [c for c in candidates if math.hypot(c[0][0] - px, c[0][1] - py) <= gate]
    if near:
        return min(near, key=lambda c: math.hypot(c[0][0] - px, c[0][1] - py))
    # Far from the prediction: re-acquire only after a couple of misses, so a spot on the
    # pitch does not steal a track that is briefly occluded.
    return max(candidates, key=lambda c: c[2]) if track.missed >= 2 else None


def _gate(track: _Track | None, width: int) -> float:
    """How far (pixels) from the prediction a blob may be and still be the tracked ball."""
    missed = track.missed if track is not None else 0
    return (12 + 6 * missed) * max(1.0, width / 640)


class _Track:
    """Constant-velocity Kalman filter on the ball centre, in pixels per frame.

    The same model as ``cv2.KalmanFilter(4, 2)`` but in numpy, because a cv2 filter cannot be
    pickled and the plugin's state may have to cross a process boundary.
    """

    transition = np.array([[1.0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]])
    measure = np.array([[1.0, 0, 0, 0], [0, 1, 0, 0]])
    process_noise = np.diag([0.5, 0.5, 1.0, 1.0])
    measurement_noise = np.eye(2) * 2.0

    def __init__(self, x: float, y: float) -> None:
        self.state = np.array([x, y, 0.0, 0.0])
        self.cov = np.diag([4.0, 4.0, 100.0, 100.0])
        self.missed = 0
        self.confidence = 0.0
        self.radius = 2.0

    def predict(self) -> tuple[float, float]:
        """Advance one frame; return the predicted centre."""
        f = self.transition
        self.state = f @ self.state
        self.cov = f @ self.cov @ f.T + self.process_noise
        return float(self.state[0]), float(self.state[1])

    def update(self, x: float, y: float) -> None:
        """Correct the prediction with a measured centre."""
        m = self.measure
        innovation = np.array([x, y]) - m @ self.state
        s = m @ self.cov @ m.T + self.measurement_noise
        gain = self.cov @ m.T @ np.linalg.inv(s)
        self.state = self.state + gain @ innovation
        self.cov = (np.eye(4) - gain @ m) @ self.cov
