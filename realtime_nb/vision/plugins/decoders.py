"""Turning a detection network's raw output tensors into boxes on the frame.

Three layouts are understood:

- **YOLOv5-style**: one tensor ``(1, N, 5 + C)`` (or transposed ``(1, 5 + C, N)``) of
  ``cx, cy, w, h, objectness, class scores...`` in input pixels.
- **YOLOv8-style**: one tensor ``(1, 4 + C, N)`` (or ``(1, N, 4 + C)``) of ``cx, cy, w, h, class
  scores...``, no objectness.
- **SSD-style**: the TensorFlow/OpenCV detection output ``(1, 1, K, 7)`` of ``image_id, class,
  score, x1, y1, x2, y2`` with corners in 0..1; or a pair of tensors, boxes ``(1, N, 4)`` as
  ``x1, y1, x2, y2`` in 0..1 and scores ``(1, N, C)``.

plus MediaPipe's BlazeFace anchors (:func:`blazeface_anchors`, :func:`decode_blazeface`).

Every decoder returns :class:`Detection` objects in the coordinates of the network's input
(pixels); :func:`Letterbox.to_frame` maps them back onto the frame.

Example:
    >>> import numpy as np
    >>> out = np.zeros((1, 1, 7), np.float32)
    >>> out[0, 0] = [32, 32, 16, 16, 0.9, 0.1, 0.8]  # one box, objectness 0.9, class 1 wins
    >>> [(d.class_id, round(d.score, 2)) for d in decode_yolo([out], "yolov5", 0.25)]
    [(1, 0.72)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = [
    "LAYOUTS",
    "Detection",
    "Layout",
    "Letterbox",
    "blazeface_anchors",
    "decode",
    "decode_blazeface",
    "decode_ssd",
    "decode_yolo",
    "letterbox",
    "nms",
]

Layout = Literal["yolov5", "yolov8", "ssd"]
LAYOUTS: tuple[Layout, ...] = ("yolov5", "yolov8", "ssd")
"""The output layouts :func:`decode` understands."""
Floats = npt.NDArray[np.float32]


@dataclass
class Detection:
    """One detected object.

    Attributes:
        box: ``[x1, y1, x2, y2]`` (floats; network-input pixels until mapped to the frame).
        score: Confidence in 0..1.
        class_id: Index of the class (0 for single-class models).
        keypoints: ``[[x, y], ...]`` when the model gives landmarks.
    """

    box: list[float]
    score: float
    class_id: int = 0
    keypoints: list[list[float]] = field(default_factory=list)


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into a square-or-not network input, to map boxes back.

    Attributes:
        scale: Input pixels per frame pixel.
        pad_x: Columns of padding on the left of the input.
        pad_y: Rows of padding on top of the input.
    """

    scale: float
    pad_x: float
    pad_y: float

    def to_frame(self, det: Detection, width: int, height: int) -> Detection:
        """``det`` in frame pixels, its box clipped to the frame."""
        x1, y1, x2, y2 = det.box
        box = [
            min(max((x1 - self.pad_x) / self.scale, 0.0), width - 1.0),
            min(max((y1 - self.pad_y) / self.scale, 0.0), height - 1.0),
            min(max((x2 - self.pad_x) / self.scale, 0.0), width - 1.0),
            min(max((y2 - self.pad_y) / self.scale, 0.0), height - 1.0),
        ]
        points = [
            [(x - self.pad_x) / self.scale, (y - self.pad_y) / self.scale] for x, y in det.keypoints
        ]
        return Detection(box, det.score, det.class_id, points)


def letterbox(
    frame: npt.NDArray[np.uint8], width: int, height: int, fill: int = 0
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """``frame`` resized to fit ``width`` x ``height`` with its aspect kept, padded evenly.

    Example:
        >>> img, lb = letterbox(np.zeros((50, 100, 3), np.uint8), 64, 64)
        >>> img.shape, lb
        ((64, 64, 3), Letterbox(scale=0.64, pad_x=0.0, pad_y=16.0))
    """
    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(frame, (new_w, new_h), interpolation=interpolation)
    pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
    canvas = np.full((height, width, *frame.shape[2:]), fill, np.uint8)
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized
    return canvas, Letterbox(scale, float(pad_x), float(pad_y))


def nms(dets: list[Detection], iou: float = 0.45, per_class: bool = True) -> list[Detection]:
    """Greedy non-maximum suppression, best score first (per class unless told otherwise)."""
    if not dets:
        return []
    boxes = [[d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]] for d in dets]
    scores = [d.score for d in dets]
    if per_class:
        keep = cv2.dnn.NMSBoxesBatched(boxes, scores, [d.class_id for d in dets], 0.0, iou)
    else:
        keep = cv2.dnn.NMSBoxes(boxes, scores, 0.0, iou)
    kept = [dets[int(i)] for i in np.asarray(keep, np.int64).reshape(-1)]
    return sorted(kept, key=lambda d: -d.score)


def _rows(output: npt.NDArray[np.floating], width: int) -> Floats:
    """A ``(1, N, width)`` or ``(1, width, N)`` tensor as ``N`` rows of ``width`` values."""
    flat = np.asarray(output, np.float32).reshape(-1)
    dims = [int(d) for d in np.shape(output)] or [1]
    rows, cols = (dims[-2], dims[-1]) if len(dims) >= 2 else (1, dims[-1])
    arr: Floats = flat.reshape(rows, cols)
    if cols != width and rows == width:
        arr = arr.T
    if int(np.shape(arr)[1]) != width:
        raise ValueError(f"output of shape {output.shape} has no axis of length {width}")
    return arr


def _guess_width(output: npt.NDArray[np.floating], layout: Layout, classes: int | None) -> int:
    """The per-box row length of a YOLO output: from ``classes``, or the shorter axis."""
    if classes is not None:
        return classes + (5 if layout == "yolov5" else 4)
    a, b = (int(d) for d in np.shape(output)[-2:])
    least = 6 if layout == "yolov5" else 5  # box, (objectness,) at least one class
    short, long = min(a, b), max(a, b)
    return short if short >= least else long


def decode_yolo(
    outputs: Sequence[npt.NDArray[np.floating]],
    layout: Literal["yolov5", "yolov8"],
    threshold: float,
    classes: int | None = None,
) -> list[Detection]:
    """Boxes from a YOLOv5- or YOLOv8-style output, before NMS, in input pixels.

    Args:
        outputs: The network's outputs; the first is read.
        layout: ``"yolov5"`` (with an objectness column) or ``"yolov8"`` (without).
        threshold: Least score (objectness x class score for v5) to keep a box.
        classes: Number of classes, when the tensor's shape alone is ambiguous.
    """
    rows = _rows(outputs[0], _guess_width(outputs[0], layout, classes))
    if layout == "yolov5":
        class_scores = rows[:, 5:] * rows[:, 4:5] if rows.shape[1] > 5 else rows[:, 4:5]
    else:
        class_scores = rows[:, 4:]
    if class_scores.shape[1] == 0:
        raise ValueError(f"a {layout} output needs at least one class column")
    class_ids = np.argmax(class_scores, axis=1)
    scores = class_scores[np.arange(len(rows)), class_ids]
    keep = np.nonzero(scores >= threshold)[0]
    out = []
    for i in keep:
        cx, cy, w, h = (float(v) for v in rows[i, :4])
        box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        out.append(Detection(box, float(scores[i]), int(class_ids[i])))
    return out


def decode_ssd(
    outputs: Sequence[npt.NDArray[np.floating]],
    threshold: float,
    input_width: int,
    input_height: int,
    class_offset: int = 0,
) -> list[Detection]:
    """Boxes from an SSD-style output, before NMS, in input pixels.

    Args:
        outputs: Either one ``(1, 1, K, 7)`` detection-output tensor (``image_id, class, score,
            x1, y1, x2, y2``, corners in 0..1), or a boxes ``(1, N, 4)`` tensor (``x1, y1, x2,
            y2`` in 0..1) and a scores ``(1, N, C)`` tensor, in either order.
        threshold: Least score to keep a box.
        input_width: Width of the network input (the 0..1 corners are scaled by it).
        input_height: Height of the network input.
        class_offset: Subtracted from the class column of a detection-output tensor (1 for
            TensorFlow's models, whose class 0 is the background).
    """
    arrays = [np.asarray(o, np.float32) for o in outputs]
    if len(arrays) == 1 and arrays[0].shape[-1] == 7:
        rows = arrays[0].reshape(-1, 7)
        boxes, best = rows[:, 3:7], rows[:, 2]
        class_ids = rows[:, 1].astype(np.int64) - class_offset
    elif len(arrays) == 2:
        boxes, scores = arrays if arrays[0].shape[-1] == 4 else arrays[::-1]
        boxes = boxes.reshape(-1, 4)
        scores = scores.reshape(boxes.shape[0], -1)
        class_ids = np.argmax(scores, axis=1)
        best = scores[np.arange(len(scores)), class_ids]
    else:
        raise ValueError(
            f"an SSD output is one (1, 1, K, 7) tensor or boxes + scores, got {len(arrays)}"
        )
    scale = np.array([input_width, input_height, input_width, input_height], np.float32)
    return [
        Detection([float(v) for v in boxes[i] * scale], float(best[i]), int(class_ids[i]))
        for i in np.nonzero(best >= threshold)[0]
    ]


def decode(
    outputs: Sequence[npt.NDArray[np.floating]],
    layout: Layout,
    threshold: float,
    input_width: int,
    input_height: int,
    classes: int | None = None,
    class_offset: int = 0,
) -> list[Detection]:
    """Decode ``outputs`` of the given ``layout`` (see the module doc), before NMS.

    Raises:
        ValueError: An unknown layout, or outputs whose shapes do not fit it.
    """
    if layout == "ssd":
        return decode_ssd(outputs, threshold, input_width, input_height, class_offset)
    if layout in ("yolov5", "yolov8"):
        return decode_yolo(outputs, layout, threshold, classes)
    raise ValueError(f"unknown output layout {layout!r}; use one of {', '.join(LAYOUTS)}")


# --- BlazeFace ----------------------------------------------------------------------------------


def blazeface_anchors(input_size: int, strides: Sequence[int], per_cell: Sequence[int]) -> Floats:
    """Anchor centres ``(N, 2)`` in 0..1 of MediaPipe's SSD anchor generator with fixed size.

    Layers that share a stride are merged, as MediaPipe does: ``per_cell`` is the anchors per
    cell of each distinct stride (short-range: strides 8, 16 with 2 and 6; full-range: 4 with 1).

    Example:
        >>> blazeface_anchors(128, [8, 16], [2, 6]).shape
        (896, 2)
    """
    centres = []
    for stride, count in zip(strides, per_cell, strict=True):
        cells = int(np.ceil(input_size / stride))
        ys, xs = np.mgrid[0:cells, 0:cells]
        grid = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, count, axis=0))
    return np.concatenate(centres).astype(np.float32)


def decode_blazeface(
    scores: npt.NDArray[np.floating],
    regressors: npt.NDArray[np.floating],
    anchors: Floats,
    input_size: int,
    threshold: float,
) -> list[Detection]:
    """Faces from BlazeFace's ``classificators`` and ``regressors`` (before NMS), input pixels.

    Each regressor row is ``dx, dy, w, h`` then six keypoints (right eye, left eye, nose tip,
    mouth, right ear, left ear), in input pixels relative to the anchor's centre.
    """
    logits = np.clip(np.asarray(scores, np.float64).reshape(-1), -80, 80)
    probs = 1 / (1 + np.exp(-logits))
    raw = np.asarray(regressors, np.float32).reshape(len(probs), -1)
    out = []
    for i in np.nonzero(probs >= threshold)[0]:
        ax, ay = anchors[i] * input_size
        cx, cy, w, h = raw[i, 0] + ax, raw[i, 1] + ay, raw[i, 2], raw[i, 3]
        points = [
            [float(raw[i, 4 + 2 * k] + ax), float(raw[i, 5 + 2 * k] + ay)]
            for k in range((raw.shape[1] - 4) // 2)
        ]
        box = [float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2)]
        out.append(Detection(box, float(probs[i]), 0, points))
    return out
