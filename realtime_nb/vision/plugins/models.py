"""Running detection networks: shipped models, a user's own ONNX/TFLite file, their metadata.

:class:`Network` runs a model file with OpenCV's ``cv2.dnn`` (no TensorFlow or PyTorch needed),
or with onnxruntime when it is installed and asked for. :class:`ModelDetector` adds the
pre-processing (letterbox, scale, channel order) and an output decoder
(:mod:`realtime_nb.vision.plugins.decoders`), so every detector plugin can take
``model="path/to/file.onnx"``. :class:`ModelInfo` is what a plugin says about its model in its
``metadata`` message.

Example:
    >>> opts = ModelOptions.parse({"model": "yolo.onnx", "class_names": ["person"]})
    >>> opts.layout, opts.input_size
    ('yolov8', (640, 640))
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar, cast

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.vision.plugins.decoders import LAYOUTS, Detection, Layout, decode, letterbox, nms

__all__ = [
    "BACKENDS",
    "ModelDetector",
    "ModelError",
    "ModelInfo",
    "ModelOptions",
    "Network",
    "configured_subclass",
    "packaged_file",
]

BACKENDS = ("opencv", "onnxruntime")
"""Who runs a model file: OpenCV's dnn module (always there) or onnxruntime (if installed)."""


class ModelError(ValueError):
    """A model that cannot be used: a missing file, a bad option, outputs that do not decode."""


@dataclass(frozen=True)
class ModelInfo:
    """What a plugin tells about the model it runs.

    Attributes:
        name: The model's name (``"mediapipe-blazeface-short-range"``).
        version: The model's (or its package's) version.
        input_shape: The network's input, ``[N, C, H, W]``.
        licence: The weights' licence.
        source: Where the weights come from (a package, or the user's file).
    """

    name: str
    version: str
    input_shape: list[int | None]
    licence: str
    source: str

    def metadata(self, confidence: float, capabilities: list[str]) -> PluginMetadata:
        """The plugin metadata for this model: the licence and the weights' origin go into
        ``capabilities`` as ``licence:...`` and ``weights:...`` entries (the message has no
        other free-text field)."""
        return PluginMetadata(
            version=self.version,
            model=self.name,
            input_shape=self.input_shape,
            output_format="json",
            confidence_default=confidence,
            capabilities=[*capabilities, f"licence:{self.licence}", f"weights:{self.source}"],
        )


P = TypeVar("P", bound=type[Any])


def configured_subclass(
    cls: P, name: str | None, metadata: PluginMetadata, options: dict[str, Any]
) -> P:
    """A subclass of the plugin class ``cls`` whose instances are made with ``options`` and
    whose class metadata describes their model (register it to use it in jobs)."""
    cls(**options)  # checks the options now, not in the first job
    attrs = {
        "name": name or cls.name,
        "metadata": metadata,
        "__init__": lambda self: cls.__init__(self, **options),
    }
    return cast(P, type(f"{cls.__name__}_{name or 'configured'}", (cls,), attrs))


def packaged_file(package: str, path: str) -> Path:
    """A file shipped inside an installed package, found without importing the package (so a
    wheel installed without its declared dependencies still serves its data files).

    Raises:
        ModelError: The package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the {package!r} package, which ships {path}, is not installed")
    file = Path(next(iter(spec.submodule_search_locations))) / path
    if not file.is_file():
        raise ModelError(f"{file} is missing from the installed {package!r} package")
    return file


def package_version(distribution: str) -> str:
    """The installed version of a distribution, or ``"unknown"``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


class Network:
    """A model file run by ``cv2.dnn`` or onnxruntime, one input, outputs by name.

    Args:
        path: An ``.onnx`` or ``.tflite`` file.
        backend: ``"opencv"`` or ``"onnxruntime"`` (ONNX files only).

    Raises:
        ModelError: The file is missing, of another kind, or does not load; onnxruntime is
            asked for but not installed.
    """

    def __init__(self, path: str | Path, backend: str = "opencv") -> None:
        self.path = Path(path)
        self.backend = backend
        if backend not in BACKENDS:
            raise ModelError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
        if not self.path.is_file():
            raise ModelError(f"model file {str(self.path)!r} does not exist")
        suffix = self.path.suffix.lower()
        if suffix not in (".onnx", ".tflite"):
            raise ModelError(f"model file {self.path.name!r} is not .onnx or .tflite")
        self._session: Any = None
        self._net: Any = None
        self.input_shape: list[int | None] = [1, 3, None, None]
        if backend == "onnxruntime":
            if suffix != ".onnx":
                raise ModelError("onnxruntime runs .onnx files only; use backend 'opencv'")
            try:
                import onnxruntime
            except ImportError as exc:
                raise ModelError("backend 'onnxruntime' needs: pip install onnxruntime") from exc
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            try:
                self._session = onnxruntime.InferenceSession(
                    str(self.path), options, providers=["CPUExecutionProvider"]
                )
            except Exception as exc:
                raise ModelError(f"onnxruntime cannot load {self.path.name}: {exc}") from exc
            first = self._session.get_inputs()[0]
            self._input_name = first.name
            self.output_names = [o.name for o in self._session.get_outputs()]
            self.input_shape = [d if isinstance(d, int) else None for d in first.shape]
            return
        try:
            if suffix == ".tflite":
                self._net = cv2.dnn.readNetFromTFLite(str(self.path))
            else:
                self._net = cv2.dnn.readNetFromONNX(str(self.path))
        except cv2.error as exc:
            raise ModelError(f"OpenCV cannot load {self.path.name}: {exc}") from exc
        self.output_names = list(self._net.getUnconnectedOutLayersNames())
        if suffix == ".onnx":
            self.input_shape = _onnx_input_shape(self.path)

    def run(self, blob: npt.NDArray[np.float32]) -> list[npt.NDArray[np.float32]]:
        """Feed one NCHW (or the model's own layout) blob; the outputs in declared order."""
        if self._session is not None:
            outs = self._session.run(None, {self._input_name: blob})
            return [np.asarray(o, np.float32) for o in outs]
        self._net.setInput(blob)
        return [np.asarray(o, np.float32) for o in self._net.forward(self.output_names)]


def _onnx_input_shape(path: Path) -> list[int | None]:
    """The first input's shape read from the ONNX graph (needs the ``onnx`` package; unknown
    dimensions, or no ``onnx``, give ``None``)."""
    try:
        import onnx
    except ImportError:
        return [1, 3, None, None]
    try:
        model = onnx.load(str(path), load_external_data=False)
        dims = model.graph.input[0].type.tensor_type.shape.dim
    except Exception:
        return [1, 3, None, None]
    return [d.dim_value if d.dim_value > 0 else None for d in dims]


@dataclass(frozen=True)
class ModelOptions:
    """How to run and decode a user's model file.

    Attributes:
        model: Path to an ``.onnx`` or ``.tflite`` file.
        layout: Output layout: ``"yolov8"``, ``"yolov5"`` or ``"ssd"``.
        input_size: ``(width, height)`` of the network input (read from the file when fixed).
        class_names: Names of the classes, in the model's order (labels in the results).
        classes: Only keep these class names (default: the plugin's own, e.g. ``person``).
        backend: ``"opencv"`` (cv2.dnn), or ``"onnxruntime"``.
        threshold: Least score kept.
        nms_iou: Overlap above which the weaker of two same-class boxes is dropped.
        scale: Multiplies pixel values (1/255 gives 0..1).
        mean: Subtracted from pixel values before scaling, per channel.
        rgb: Feed RGB (most models) rather than BGR.
        class_offset: Subtracted from SSD class ids (1 for TensorFlow's, background first).
    """

    model: str
    layout: Layout = "yolov8"
    input_size: tuple[int, int] = (640, 640)
    class_names: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    backend: str = "opencv"
    threshold: float = 0.4
    nms_iou: float = 0.45
    scale: float = 1 / 255
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rgb: bool = True
    class_offset: int = 0

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> ModelOptions:
        """Options from plain data (as a job or a notebook gives them), checked.

        Raises:
            ModelError: An unknown option or a value out of range.
        """
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise ModelError(f"unknown model options {unknown}; known: {sorted(known)}")
        values = dict(options)
        if "model" not in values:
            raise ModelError("model options need 'model', the path to an .onnx or .tflite file")
        if values.get("layout", "yolov8") not in LAYOUTS:
            raise ModelError(f"layout must be one of {', '.join(LAYOUTS)}")
        if values.get("backend", "opencv") not in BACKENDS:
            raise ModelError(f"backend must be one of {', '.join(BACKENDS)}")
        size = values.get("input_size", (640, 640))
        if isinstance(size, int):
            size = (size, size)
        if len(size) != 2 or min(int(size[0]), int(size[1])) < 8:
            raise ModelError(f"input_size must be (width, height), each >= 8, got {size!r}")
        values["input_size"] = (int(size[0]), int(size[1]))
        for key in ("class_names", "classes"):
            values[key] = tuple(str(v) for v in values.get(key, ()))
        values["mean"] = tuple(float(v) for v in values.get("mean", (0.0, 0.0, 0.0)))
        if not 0.0 <= float(values.get("threshold", 0.4)) <= 1.0:
            raise ModelError("threshold must be in 0..1")
        if not 0.0 < float(values.get("nms_iou", 0.45)) <= 1.0:
            raise ModelError("nms_iou must be in (0, 1]")
        return cls(**values)


class ModelDetector:
    """A user's detection model: letterbox, run, decode, NMS, map back to the frame.

    Args:
        options: How to run and decode it.
        default_classes: Class names kept when ``options.classes`` is empty (a plugin's own
            kind, e.g. ``("person",)``); with no class names either, every class is kept.

    Raises:
        ModelError: The model does not load, or a kept class is not among its class names.
    """

    def __init__(self, options: ModelOptions, default_classes: Sequence[str] = ()) -> None:
        self.network = Network(options.model, options.backend)
        shape = self.network.input_shape
        if len(shape) == 4 and isinstance(shape[2], int) and isinstance(shape[3], int):
            if shape[1] in (1, 3):
                options = replace(options, input_size=(shape[3], shape[2]))
            elif isinstance(shape[1], int):  # NHWC, as TFLite models are
                options = replace(options, input_size=(shape[2], shape[1]))
        self.options = options
        self.nhwc = len(shape) == 4 and shape[-1] == 3 and shape[1] != 3
        wanted = options.classes or (tuple(default_classes) if options.class_names else ())
        missing = [c for c in wanted if c not in options.class_names]
        if missing and options.class_names:
            raise ModelError(
                f"classes {missing} are not in class_names {list(options.class_names)}"
            )
        self.keep_ids = {options.class_names.index(c) for c in wanted} if wanted else None
        w, h = options.input_size
        self.info = ModelInfo(
            name=Path(options.model).name,
            version="user",
            input_shape=[1, 3, h, w],
            licence="the user's",
            source=str(options.model),
        )

    def label(self, class_id: int) -> str:
        """The class's name, or its index as text."""
        names = self.options.class_names
        return names[class_id] if 0 <= class_id < len(names) else str(class_id)

    def detect(self, frame: npt.NDArray[np.uint8]) -> list[Detection]:
        """Detections on ``frame`` in frame pixels, NMS applied, kept classes only.

        Raises:
            ModelError: The outputs do not fit the layout.
        """
        opts = self.options
        w, h = opts.input_size
        fitted, box = letterbox(frame, w, h, fill=114)
        blob = cv2.dnn.blobFromImage(
            fitted, opts.scale, (w, h), cast(Any, opts.mean), swapRB=opts.rgb
        )
        if self.nhwc:
            blob = np.ascontiguousarray(blob.transpose(0, 2, 3, 1))
        outputs = self.network.run(np.asarray(blob, np.float32))
        n_classes = len(opts.class_names) or None
        try:
            found = decode(outputs, opts.layout, opts.threshold, w, h, n_classes, opts.class_offset)
        except ValueError as exc:
            raise ModelError(f"{Path(opts.model).name}: {exc}") from exc
        if self.keep_ids is not None:
            found = [d for d in found if d.class_id in self.keep_ids]
        fh, fw = frame.shape[:2]
        return [box.to_frame(d, fw, fh) for d in nms(found, opts.nms_iou)]
