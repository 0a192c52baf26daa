"""Plugins for any footage: motion (here), people (:mod:`.people`) and faces (:mod:`.faces`).

Each detector is followed by a light tracker (:class:`IoUTracker`): a detection takes over the
track of the previous frame it overlaps most, and a track missed for a frame or two is kept
(reported with ``"predicted": true``) so a flicker of the detector does not lose it.

Every result has the same shape::

    {"detections": [{"box": [x1, y1, x2, y2], "track_id": 3, "confidence": 0.8,
                     "predicted": false}, ...],
     "count": 1}

Example:
    >>> import numpy as np
    >>> from realtime_nb.vision.plugins import PluginContext, VideoInfo
    >>> plugin = MotionDetection()
    >>> info = VideoInfo(160, 120, 25, None)
    >>> plugin.setup(info)
    >>> ctx = PluginContext(0, "f-000000", {}, {}, info)
    >>> plugin.process(np.zeros((120, 160, 3), np.uint8), ctx)["count"]
    0
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, VideoInfo, bgr_metadata
from realtime_nb.vision.plugins.faces import FaceDetection
from realtime_nb.vision.plugins.people import PeopleDetection
from realtime_nb.vision.plugins.tracking import IoUTracker, draw_tracks

__all__ = ["FaceDetection", "IoUTracker", "MotionDetection", "PeopleDetection"]

Box = list[int]


def _result(tracked: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"detections": tracked, "count": len(tracked), **extra}


def _to_boxes(rects: Any, scale: float, width: int, height: int) -> list[Box]:
    """``(x, y, w, h)`` rectangles found on a frame resized by ``scale`` to inclusive boxes."""
    boxes = []
    for x, y, w, h in np.asarray(rects, np.float64).reshape(-1, 4):
        x1, y1 = max(0, round(x / scale)), max(0, round(y / scale))
        x2 = max(x1, min(width - 1, round((x + w) / scale) - 1))
        y2 = max(y1, min(height - 1, round((y + h) / scale) - 1))
        boxes.append([min(x1, width - 1), min(y1, height - 1), x2, y2])
    return boxes


def _shrink(frame: Frame, max_width: int) -> tuple[Frame, float]:
    """The frame at most ``max_width`` wide (area-averaged), and the scale applied."""
    w = frame.shape[1]
    if w <= max_width:
        return frame, 1.0
    scale = max_width / w
    size = (max_width, max(1, round(frame.shape[0] * scale)))
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), np.uint8), scale


# --- motion -------------------------------------------------------------------------------------


class MotionDetection(Plugin):
    """Moving regions, from a MOG2 background model of a downscaled, camera-steadied frame.

    The camera's own motion is estimated between frames (corners tracked by pyramidal
    Lucas-Kanade, a similarity transform fitted by RANSAC) and each frame is warped into the
    background model's coordinates before it is compared, so a pan or a shake is not taken for
    motion; what the warp brings in from outside the model's view is not scored. When the view
    has drifted too far from the model (over a third of it is new), or at a scene cut (too few
    corners follow and the colours change), the model and the tracks start afresh.

    Result: the common shape plus ``"motion_fraction"`` (the share of the frame that moves),
    ``"camera_motion"`` (``{"dx", "dy", "rotation_deg", "scale"}`` of this frame against the
    previous one, in frame pixels, or ``null`` when it could not be estimated) and
    ``"scene_cut"``. The first frames after a start or a cut only teach the background.
    """

    name = "motion_detection"
    history_frames = None  # a background model, track ids
    metadata = bgr_metadata("opencv-mog2+lk-ransac", 0.5, ["detection", "tracking", "motion"])
    work_width = 320
    """Frames are shrunk to this width first: motion needs no detail, and it is 4x faster."""
    min_area_fraction = 0.001
    warmup_frames = 2
    """Frames that only teach the background model (it sees everything as moving at first)."""
    learning_rate = 0.01
    max_new_view = 0.33
    """Share of the view that may lie outside the model before the model is started afresh."""

    def __init__(self) -> None:
        self._subtractor: Any = None
        self._seen = 0
        self._previous: npt.NDArray[np.uint8] | None = None
        self._to_model = np.eye(3)

    def setup(self, info: VideoInfo) -> None:
        """Start a fresh background model (cv2 objects live on the instance, one per job)."""
        self._reset()
        self._previous = None

    def _reset(self) -> None:
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=200, varThreshold=25, detectShadows=False
        )
        self._seen = 0
        self._to_model = np.eye(3)

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Steady the frame, update the background model and box the moving regions."""
        if self._subtractor is None:
            self.setup(ctx.info)
        h, w = frame.shape[:2]
        small, scale = _shrink(frame, self.work_width)
        grey = np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8)
        camera: dict[str, float] | None = None
        cut = False
        if self._previous is not None and self._previous.shape == grey.shape:
            step, cut = _camera_step(self._previous, grey)
            if step is not None:
                camera = _describe(step, scale)
                self._to_model = self._to_model @ np.vstack([step, [0, 0, 1]])
        self._previous = grey
        sh, sw = grey.shape
        if cut:
            self._reset()
            ctx.state["tracks"] = []
        valid = np.full((sh, sw), 255, np.uint8)
        if not np.allclose(self._to_model, np.eye(3), atol=1e-3):
            self._correct_drift(grey)
            matrix = self._to_model[:2]
            valid = np.asarray(cv2.warpAffine(valid, matrix, (sw, sh)), np.uint8)
            if np.count_nonzero(valid) < (1 - self.max_new_view) * valid.size:
                self._reset()
                valid[:] = 255
            else:
                small = np.asarray(cv2.warpAffine(small, matrix, (sw, sh)), np.uint8)
        # The model adapts fast while it warms up, then slowly: at MOG2's automatic rate a
        # plain-coloured object moving a little each frame is learnt as background inside.
        rate = -1.0 if self._seen < self.warmup_frames else self.learning_rate
        moving = np.asarray(self._subtractor.apply(small, learningRate=rate), np.uint8)
        moving[cv2.erode(valid, np.ones((5, 5), np.uint8)) == 0] = 0
        moving = np.asarray(cv2.morphologyEx(moving, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
        moving = np.asarray(cv2.dilate(moving, np.ones((5, 5), np.uint8)))
        self._seen += 1
        if self._seen <= self.warmup_frames:
            moving[:] = 0
        fraction = float(np.count_nonzero(moving)) / moving.size
        contours, _ = cv2.findContours(moving, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self.min_area_fraction * moving.size
        rects: list[Any] = [cv2.boundingRect(c) for c in contours if cv2.contourArea(c) >= min_area]
        if not np.allclose(self._to_model, np.eye(3), atol=1e-3):
            rects = _unwarp_rects(
                rects, np.asarray(np.linalg.inv(self._to_model), np.float64), sw, sh
            )
        boxes = _to_boxes(rects, scale, w, h)
        tracked = IoUTracker(ctx.state).update([(b, 1.0) for b in boxes])
        return _result(
            tracked, motion_fraction=round(fraction, 4), camera_motion=camera, scene_cut=cut
        )

    def _correct_drift(self, grey: npt.NDArray[np.uint8]) -> None:
        """Register the frame, as the chained steps place it, against the model's background
        image, and fold the residual in: errors of frame-to-frame steps add up otherwise."""
        if self._seen < self.warmup_frames:
            return
        background = self._subtractor.getBackgroundImage()
        if background is None:
            return
        reference = np.asarray(cv2.cvtColor(background, cv2.COLOR_BGR2GRAY), np.uint8)
        sh, sw = grey.shape
        placed = np.asarray(cv2.warpAffine(grey, self._to_model[:2], (sw, sh)), np.uint8)
        residual, _ = _camera_step(reference, placed)
        if residual is not None:
            self._to_model = np.vstack([residual, [0, 0, 1]]) @ self._to_model

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box moving regions in orange with their track id."""
        draw_tracks(frame, result, (0, 140, 255))


def _camera_step(
    previous: npt.NDArray[np.uint8], current: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.float64] | None, bool]:
    """The similarity transform taking ``current`` onto ``previous`` (2x3), and whether the
    two frames look like a scene cut. ``None`` when too few corners follow to tell."""
    corners = cv2.goodFeaturesToTrack(previous, maxCorners=200, qualityLevel=0.01, minDistance=7)
    if corners is None or len(corners) < 12:
        return None, _colours_changed(previous, current)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(previous, current, corners, None)  # type: ignore[call-overload]
    ok = status.reshape(-1) == 1
    if ok.sum() < max(12, 0.3 * len(corners)):
        return None, _colours_changed(previous, current)
    src, dst = moved[ok].reshape(-1, 2), corners[ok].reshape(-1, 2)
    matrix, inliers = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=1.5
    )
    if matrix is None or inliers is None or int(inliers.sum()) < max(10, 0.3 * ok.sum()):
        return None, _colours_changed(previous, current)
    spread = np.ptp(dst[inliers.reshape(-1) == 1], axis=0)
    h, w = previous.shape
    if spread[0] < 0.3 * w or spread[1] < 0.3 * h:
        return None, False  # one object moving, not the whole view
    return np.asarray(matrix, np.float64), False


def _colours_changed(previous: npt.NDArray[np.uint8], current: npt.NDArray[np.uint8]) -> bool:
    """Whether the grey-level histograms of two frames differ like two different scenes."""
    a = cv2.calcHist([previous], [0], None, [32], [0, 256])
    b = cv2.calcHist([current], [0], None, [32], [0, 256])
    return bool(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA) > 0.4)


def _describe(step: npt.NDArray[np.float64], scale: float) -> dict[str, float]:
    """The camera's move from the previous frame to this one, in frame pixels."""
    # ``step`` maps this frame onto the previous one: the scene moved by minus its shift.
    a, b = step[0, 0], step[1, 0]
    return {
        "dx": round(float(-step[0, 2] / scale), 2),
        "dy": round(float(-step[1, 2] / scale), 2),
        "rotation_deg": round(float(np.degrees(np.arctan2(b, a))), 3),
        "scale": round(float(np.hypot(a, b)), 4),
    }


def _unwarp_rects(
    rects: list[Any], from_model: npt.NDArray[np.float64], width: int, height: int
) -> list[tuple[int, int, int, int]]:
    """Rectangles found in model coordinates, as ``(x, y, w, h)`` in the frame's."""
    out = []
    for x, y, rw, rh in rects:
        pts = np.array([[x, y, 1], [x + rw, y, 1], [x, y + rh, 1], [x + rw, y + rh, 1]], float)
        moved = (from_model @ pts.T)[:2]
        x1, y1 = max(0.0, moved[0].min()), max(0.0, moved[1].min())
        x2, y2 = min(float(width), moved[0].max()), min(float(height), moved[1].max())
        if x2 > x1 and y2 > y1:
            out.append((round(x1), round(y1), round(x2 - x1), round(y2 - y1)))
    return out
