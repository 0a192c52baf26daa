"""Plugins for any footage, with what OpenCV ships: motion, people (HOG) and faces (Haar).

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

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from cv2 import data as cv2_data

from realtime_nb.core.geometry import box_iou
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, VideoInfo, bgr_metadata

__all__ = ["FaceDetection", "IoUTracker", "MotionDetection", "PeopleDetection"]

Box = list[int]


class IoUTracker:
    """Track ids across frames by box overlap, kept in a plugin's ``ctx.state`` as plain data.

    Args:
        state: The plugin's per-job state dict; the tracks live under ``"tracks"``.
        min_iou: Least overlap for a detection to continue a track.
        max_missed: Frames a track may go undetected before it is dropped.

    Example:
        >>> state = {}
        >>> IoUTracker(state).update([([0, 0, 9, 9], 0.9)])[0]["track_id"]
        1
        >>> IoUTracker(state).update([([1, 0, 10, 9], 0.9)])[0]["track_id"]
        1
    """

    def __init__(self, state: dict[str, Any], min_iou: float = 0.3, max_missed: int = 2) -> None:
        self.state = state
        self.min_iou = min_iou
        self.max_missed = max_missed

    def update(self, detections: list[tuple[Box, float]]) -> list[dict[str, Any]]:
        """Match this frame's ``(box, confidence)`` detections to the tracks.

        Returns:
            One dict per live track (``box``, ``track_id``, ``confidence``, ``predicted``),
            detected ones first; a track missed this frame keeps its last box.
        """
        tracks: list[dict[str, Any]] = self.state.setdefault("tracks", [])
        pairs = sorted(
            (
                (overlap, t, d)
                for t, track in enumerate(tracks)
                for d, (box, _) in enumerate(detections)
                if (overlap := box_iou(track["box"], box)) >= self.min_iou
            ),
            reverse=True,
        )
        taken_t: set[int] = set()
        taken_d: set[int] = set()
        for _, t, d in pairs:
            if t in taken_t or d in taken_d:
                continue
            taken_t.add(t)
            taken_d.add(d)
            box, confidence = detections[d]
            tracks[t].update(box=box, confidence=confidence, missed=0)
        for t, track in enumerate(tracks):
            if t not in taken_t:
                track["missed"] += 1
        for d, (box, confidence) in enumerate(detections):
            if d not in taken_d:
                next_id = self.state.get("next_id", 1)
                self.state["next_id"] = next_id + 1
                tracks.append({"box": box, "confidence": confidence, "missed": 0, "id": next_id})
        tracks[:] = [t for t in tracks if t["missed"] <= self.max_missed]
        live = sorted(tracks, key=lambda t: (t["missed"] > 0, t["id"]))
        return [
            {
                "box": [int(v) for v in t["box"]],
                "track_id": int(t["id"]),
                "confidence": round(float(t["confidence"]), 3),
                "predicted": t["missed"] > 0,
            }
            for t in live
        ]


def _result(tracked: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"detections": tracked, "count": len(tracked), **extra}


def _draw_tracks(frame: Frame, result: dict[str, Any], colour: tuple[int, int, int]) -> None:
    for det in result.get("detections") or []:
        x1, y1, x2, y2 = det["box"]
        shade = (150, 150, 150) if det.get("predicted") else colour
        cv2.rectangle(frame, (x1, y1), (x2, y2), shade, 1)
        label = f"#{det.get('track_id', '?')}"
        cv2.putText(frame, label, (x1, max(8, y1 - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, shade, 1)


def _nms(boxes: list[Box], scores: list[float], threshold: float = 0.4) -> list[int]:
    """Indices of boxes kept by greedy non-maximum suppression, best score first."""
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda k: -scores[k]):
        if all(box_iou(boxes[i], boxes[k]) < threshold for k in kept):
            kept.append(i)
    return kept


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
    """Moving regions, from a MOG2 background model of a downscaled frame.

    Result: the common shape plus ``"motion_fraction"``, the share of the frame that moves.
    The first frames only teach the background, so nothing moves in them.
    """

    name = "motion_detection"
    history_frames = None  # a background model, track ids
    metadata = bgr_metadata("opencv-mog2", 0.5, ["detection", "tracking", "motion"])
    work_width = 320
    """Frames are shrunk to this width first: motion needs no detail, and it is 4x faster."""
    min_area_fraction = 0.001
    warmup_frames = 2
    learning_rate = 0.01
    """Frames that only teach the background model (it sees everything as moving at first)."""

    def __init__(self) -> None:
        self._subtractor: Any = None
        self._seen = 0

    def setup(self, info: VideoInfo) -> None:
        """Start a fresh background model (cv2 objects live on the instance, one per job)."""
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=200, varThreshold=25, detectShadows=False
        )
        self._seen = 0

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Update the background model and box the moving regions."""
        if self._subtractor is None:
            self.setup(ctx.info)
        h, w = frame.shape[:2]
        small, scale = _shrink(frame, self.work_width)
        # The model adapts fast while it warms up, then slowly: at MOG2's automatic rate a
        # plain-coloured object moving a little each frame is learnt as background inside.
        rate = -1.0 if self._seen < self.warmup_frames else self.learning_rate
        moving = np.asarray(self._subtractor.apply(small, learningRate=rate), np.uint8)
        moving = np.asarray(cv2.morphologyEx(moving, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))
        moving = np.asarray(cv2.dilate(moving, np.ones((5, 5), np.uint8)))
        self._seen += 1
        if self._seen <= self.warmup_frames:
            moving[:] = 0
        fraction = float(np.count_nonzero(moving)) / moving.size
        contours, _ = cv2.findContours(moving, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self.min_area_fraction * moving.size
        rects = [cv2.boundingRect(c) for c in contours if cv2.contourArea(c) >= min_area]
        boxes = _to_boxes(rects, scale, w, h)
        tracked = IoUTracker(ctx.state).update([(b, 1.0) for b in boxes])
        return _result(tracked, motion_fraction=round(fraction, 4))

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box moving regions in orange with their track id."""
        _draw_tracks(frame, result, (0, 140, 255))


# --- people -------------------------------------------------------------------------------------


class PeopleDetection(Plugin):
    """Standing people, with OpenCV's HOG + linear SVM people detector (64x128 window).

    People shorter than about 128 px are not found; frames smaller than the window give no
    detections. The confidence is the SVM score squashed into 0..1.
    """

    name = "people_detection"
    history_frames = None  # track ids numbered from the first frame
    metadata = bgr_metadata("opencv-hog-default-people", 0.5, ["detection", "tracking"])
    min_score = 0.3
    """SVM scores below this are mostly background."""

    def __init__(self) -> None:
        self._hog: Any = None

    def setup(self, info: VideoInfo) -> None:
        """Load OpenCV's default people detector."""
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor.getDefaultPeopleDetector())

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Detect people, suppress overlaps, and track them."""
        if self._hog is None:
            self.setup(ctx.info)
        h, w = frame.shape[:2]
        boxes: list[Box] = []
        scores: list[float] = []
        if w >= 64 and h >= 128:
            rects, weights = self._hog.detectMultiScale(
                frame, winStride=(8, 8), padding=(8, 8), scale=1.05
            )
            found = _to_boxes(rects, 1.0, w, h)
            weights = np.asarray(weights, np.float64).reshape(-1)
            for box, score in zip(found, weights, strict=True):
                if score >= self.min_score:
                    boxes.append(box)
                    scores.append(float(score))
        kept = _nms(boxes, scores)
        detections = [(boxes[i], _squash(scores[i])) for i in kept]
        return _result(IoUTracker(ctx.state).update(detections))

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box people in green with their track id."""
        _draw_tracks(frame, result, (0, 200, 0))


def _squash(score: float) -> float:
    return float(1 / (1 + np.exp(-score)))


# --- faces --------------------------------------------------------------------------------------


class FaceDetection(Plugin):
    """Frontal faces, with the Haar cascade that OpenCV ships (``cv2.data.haarcascades``).

    The confidence is the cascade's final-stage weight for the hit, squashed into 0..1.
    """

    name = "face_detection"
    history_frames = None  # track ids numbered from the first frame
    metadata = bgr_metadata("opencv-haar-frontalface-default", 0.5, ["detection", "tracking"])
    cascade_file = "haarcascade_frontalface_default.xml"
    min_size = 24

    def __init__(self) -> None:
        self._cascade: Any = None

    def setup(self, info: VideoInfo) -> None:
        """Load the cascade.

        Raises:
            RuntimeError: The cascade file is missing (an OpenCV build without it).
        """
        path = str(Path(cv2_data.haarcascades) / self.cascade_file)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")
        self._cascade = cascade

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Detect faces on the grey frame and track them."""
        if self._cascade is None:
            self.setup(ctx.info)
        h, w = frame.shape[:2]
        detections: list[tuple[Box, float]] = []
        if min(h, w) >= self.min_size:
            # No equalizeHist: on textured scenes (grass) it multiplies the candidate windows
            # and made this plugin 5x slower than the bare cascade.
            grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            # The score comes from detectMultiScale2's neighbour counts.
            rects, neighbours = self._cascade.detectMultiScale2(
                grey,
                scaleFactor=1.1,
                minNeighbors=5,
                minSize=(self.min_size, self.min_size),
            )
            scores: npt.NDArray[np.float64] = np.asarray(neighbours, np.float64).reshape(-1) / 5
            for box, score in zip(_to_boxes(rects, 1.0, w, h), scores, strict=True):
                detections.append((box, _squash(float(score))))
        return _result(IoUTracker(ctx.state).update(detections))

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box faces in magenta with their track id."""
        _draw_tracks(frame, result, (255, 0, 255))
