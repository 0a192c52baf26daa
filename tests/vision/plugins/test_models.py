"""A user's own detection model: tiny ONNX detectors built here with the ``onnx`` helpers (never
downloaded), in YOLOv8, YOLOv5 and SSD layouts, run by cv2.dnn and by onnxruntime through every
detector plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from realtime_nb.vision.plugins import PluginContext, VideoInfo
from realtime_nb.vision.plugins.decoders import (
    blazeface_anchors,
    decode,
    decode_blazeface,
    letterbox,
)
from realtime_nb.vision.plugins.faces import FaceDetection
from realtime_nb.vision.plugins.models import ModelError, ModelOptions, Network, packaged_file
from realtime_nb.vision.plugins.people import PeopleDetection

SIZE = 64
CELL = 16
CELLS = (SIZE // CELL) ** 2


def _cell_boxes() -> np.ndarray:
    """cx, cy, w, h of each 16 px cell of the 64x64 input, as (4, 16)."""
    n = SIZE // CELL
    ys, xs = np.mgrid[0:n, 0:n]
    cx = (xs.reshape(-1) + 0.5) * CELL
    cy = (ys.reshape(-1) + 0.5) * CELL
    return np.stack([cx, cy, np.full(CELLS, CELL), np.full(CELLS, CELL)]).astype(np.float32)


def build_detector(path: Path, layout: str) -> Path:
    """A 'detector' whose class-0 score is each 16 px cell's brightness (0..1) and whose class-1
    score is 0.05: a bright square on a dark frame is found where it is."""
    nodes = [
        helper.make_node(
            "Conv",
            ["images", "mean_w"],
            ["bright"],
            kernel_shape=[CELL, CELL],
            strides=[CELL, CELL],
        ),
        helper.make_node("Reshape", ["bright", "shape_1n"], ["score0"]),
        helper.make_node("Mul", ["score0", "zero"], ["zeros"]),
        helper.make_node("Add", ["zeros", "low"], ["score1"]),
    ]
    mean_w = np.full((1, 3, CELL, CELL), 1 / (3 * CELL * CELL), np.float32)
    inits = [
        numpy_helper.from_array(mean_w, "mean_w"),
        numpy_helper.from_array(np.array([1, 1, CELLS], np.int64), "shape_1n"),
        numpy_helper.from_array(np.zeros((1, 1, 1), np.float32), "zero"),
        numpy_helper.from_array(np.full((1, 1, 1), 0.05, np.float32), "low"),
    ]
    boxes = _cell_boxes()[None]  # (1, 4, N)
    if layout in ("yolov8", "yolov5"):
        inits.append(numpy_helper.from_array(boxes, "boxes"))
        parts = ["boxes", "score0", "score1"]
        if layout == "yolov5":
            inits.append(numpy_helper.from_array(np.ones((1, 1, CELLS), np.float32), "objectness"))
            parts = ["boxes", "objectness", "score0", "score1"]
        nodes.append(helper.make_node("Concat", parts, ["stacked"], axis=1))
        if layout == "yolov5":  # v5 exports rows of (N, 5 + C)
            nodes.append(helper.make_node("Transpose", ["stacked"], ["output"], perm=[0, 2, 1]))
        else:
            nodes.append(helper.make_node("Identity", ["stacked"], ["output"]))
        width = 4 + (1 if layout == "yolov5" else 0) + 2
        shape = [1, CELLS, width] if layout == "yolov5" else [1, width, CELLS]
    else:  # SSD detection output (1, 1, K, 7): image_id, class (background first), score, corners
        cx, cy, w, h = _cell_boxes()
        corners = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) / SIZE
        inits += [
            numpy_helper.from_array(np.zeros((1, 1, CELLS), np.float32), "image_id"),
            numpy_helper.from_array(np.ones((1, 1, CELLS), np.float32), "class1"),
            numpy_helper.from_array(corners[None].astype(np.float32), "corners"),
        ]
        nodes += [
            helper.make_node(
                "Concat", ["image_id", "class1", "score0", "corners"], ["rows"], axis=1
            ),
            helper.make_node("Transpose", ["rows"], ["rows_t"], perm=[0, 2, 1]),
            helper.make_node("Unsqueeze", ["rows_t", "axis0"], ["output"]),
        ]
        inits.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
        shape = [1, 1, CELLS, 7]
    graph = helper.make_graph(
        nodes,
        f"tiny_{layout}",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def bright_square(width: int = 320, height: int = 160) -> tuple[np.ndarray, list[float]]:
    """A dark frame with a white square exactly over one cell of the letterboxed input."""
    frame = np.zeros((height, width, 3), np.uint8)
    # letterbox: scale 64/320 = 0.2, 16 rows of padding on top; input cell (1, 2)
    # (x 16..32, y 32..48) is frame x 80..160, y 80..160
    frame[80:160, 80:160] = 255
    return frame, [80, 80, 159, 159]


def _ctx(frame: np.ndarray, state: dict[str, Any] | None = None) -> PluginContext:
    info = VideoInfo(frame.shape[1], frame.shape[0], 25, None)
    return PluginContext(0, "f-000000", {}, state if state is not None else {}, info)


@pytest.mark.parametrize("layout", ["yolov8", "yolov5", "ssd"])
@pytest.mark.parametrize("backend", ["opencv", "onnxruntime"])
def test_own_model_finds_the_square_in_every_layout_and_backend(
    tmp_path: Path, layout: str, backend: str
) -> None:
    path = build_detector(tmp_path / f"{layout}.onnx", layout)
    frame, truth = bright_square()
    options: dict[str, Any] = {"layout": layout, "backend": backend, "threshold": 0.5}
    options["class_names"] = ["person", "bicycle"]
    if layout == "ssd":
        options["class_offset"] = 1
    plugin = PeopleDetection(model=str(path), **options)
    plugin.setup(_ctx(frame).info)
    state: dict[str, Any] = {}
    plugin.process(frame, _ctx(frame, state))  # a new track needs two sightings
    result = plugin.process(frame, _ctx(frame, state))
    assert result["count"] == 1, result
    det = result["detections"][0]
    assert np.allclose(det["box"], truth, atol=2), (det["box"], truth)
    assert det["confidence"] == pytest.approx(1.0, abs=0.01)
    assert det.get("label", "person") == "person"


def test_same_detections_from_both_backends(tmp_path: Path) -> None:
    path = build_detector(tmp_path / "v8.onnx", "yolov8")
    blob = np.random.default_rng(1).random((1, 3, SIZE, SIZE), dtype=np.float32)
    a = Network(path, "opencv").run(blob)[0]
    b = Network(path, "onnxruntime").run(blob)[0]
    assert a.shape == b.shape == (1, 6, CELLS)
    assert np.allclose(a, b, atol=1e-5)


def test_face_plugin_takes_an_own_model_and_reads_its_input_size(tmp_path: Path) -> None:
    path = build_detector(tmp_path / "faces.onnx", "yolov8")
    plugin = FaceDetection(model=str(path), threshold=0.5, class_names=["face", "other"])
    frame, truth = bright_square()
    state: dict[str, Any] = {}
    plugin.setup(_ctx(frame).info)
    assert plugin._detector.detector.options.input_size == (SIZE, SIZE)  # from the file
    plugin.process(frame, _ctx(frame, state))
    result = plugin.process(frame, _ctx(frame, state))
    [det] = result["detections"]
    assert np.allclose(det["box"], truth, atol=2)


def test_configured_plugin_carries_its_model_in_metadata(tmp_path: Path) -> None:
    path = build_detector(tmp_path / "mine.onnx", "yolov8")
    Mine = PeopleDetection.configured("my_people", model=str(path), class_names=["person", "x"])
    assert Mine.name == "my_people"
    assert Mine.metadata.model == "mine.onnx"
    assert f"weights:{path}" in Mine.metadata.capabilities
    assert Mine().model == str(path)
    default = FaceDetection.metadata
    assert default.model.startswith("mediapipe-blazeface")
    assert default.input_shape == [1, 3, 128, 128]
    assert any(c.startswith("licence:Apache-2.0") for c in default.capabilities)
    assert any(c.startswith("weights:") for c in default.capabilities)


def test_bad_models_and_options_fail_with_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        PeopleDetection(model=str(tmp_path / "missing.onnx")).setup(VideoInfo(8, 8, 25, None))
    (tmp_path / "weights.pt").write_bytes(b"x")
    with pytest.raises(ModelError, match=r"not \.onnx or \.tflite"):
        Network(tmp_path / "weights.pt")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        Network(tmp_path / "junk.onnx")
    with pytest.raises(ModelError, match="unknown model options"):
        ModelOptions.parse({"model": "x.onnx", "layuot": "ssd"})
    with pytest.raises(ModelError, match="layout must be"):
        ModelOptions.parse({"model": "x.onnx", "layout": "detr"})
    with pytest.raises(ModelError, match="apply to your own model"):
        FaceDetection(model="haar", layout="ssd")
    path = build_detector(tmp_path / "v8.onnx", "yolov8")
    with pytest.raises(ModelError, match=r"classes \['person'\] are not in class_names"):
        PeopleDetection(model=str(path), class_names=["cat", "dog"]).setup(
            VideoInfo(8, 8, 25, None)
        )
    wrong = PeopleDetection(model=str(path), layout="ssd")
    with pytest.raises(ModelError, match="SSD output"):
        wrong.process(np.zeros((64, 64, 3), np.uint8), _ctx(np.zeros((64, 64, 3), np.uint8)))


def test_decode_reads_transposed_yolo_outputs_and_rejects_wrong_shapes() -> None:
    rows = np.array([[32, 32, 16, 16, 0.1, 0.9]], np.float32)  # one box, class 1
    for tensor in (rows[None], rows.T[None]):
        [det] = decode([tensor], "yolov8", 0.5, 64, 64, classes=2)
        assert det.class_id == 1 and det.box == [24, 24, 40, 40]
    with pytest.raises(ValueError, match="no axis of length"):
        decode([np.zeros((1, 9, 9), np.float32)], "yolov8", 0.5, 64, 64, classes=2)


def test_letterbox_maps_boxes_back_to_the_frame() -> None:
    from realtime_nb.vision.plugins.decoders import Detection

    img, box = letterbox(np.zeros((100, 300, 3), np.uint8), 150, 150)
    assert img.shape == (150, 150, 3) and box.pad_y == 50
    back = box.to_frame(Detection([0, 50, 75, 100], 1.0, 0, [[75, 75]]), 300, 100)
    assert back.box == [0, 0, 150, 99] and back.keypoints == [[150, 50]]


def test_blazeface_tflite_runs_on_cv2_dnn_and_finds_a_real_face() -> None:
    import importlib.util

    import cv2

    if importlib.util.find_spec("skimage") is None:
        pytest.fail("scikit-image (a dev dependency) is needed for its astronaut photograph")
    net = Network(packaged_file("realtime_nb.vision.models", "face_detection_short_range.tflite"))
    assert net.output_names == ["classificators", "regressors"]
    from realtime_nb.vision.realfootage import load_photo

    photo = load_photo("skimage", "data/astronaut.png")
    fitted, box = letterbox(photo, 128, 128)
    blob = cv2.dnn.blobFromImage(fitted, 1 / 127.5, (128, 128), (127.5,) * 3, swapRB=True)
    scores, regressors = net.run(blob)
    found = decode_blazeface(scores, regressors, blazeface_anchors(128, [8, 16], [2, 6]), 128, 0.8)
    best = max(found, key=lambda d: d.score)
    x1, y1, x2, y2 = box.to_frame(best, 512, 512).box
    assert 160 < x1 < 200 and 60 < y1 < 100 and 250 < x2 < 290 and 160 < y2 < 200
    assert len(best.keypoints) == 6
