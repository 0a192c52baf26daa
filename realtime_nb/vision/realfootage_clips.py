"""The real-footage clips: real photographs moved through clips whose boxes we know.

No video with ground truth can be downloaded here, but registry packages ship real photographs:
scikit-image's sample data (the astronaut Eileen Collins and the "cameraman", NASA and MIT
photos) and matplotlib's sample data (Grace Hopper, US Navy). Each clip pastes one portrait over
another real photograph (a background), and moves it as a hand-held camera would: it drifts,
zooms in and out (the face goes from about 40 to 160 px high at 640x360), rotates up to
+-20 degrees, squeezes sideways (a head turning), and for a stretch a block of another photo
sweeps across part of the face (occlusion). The face and person boxes of each photo were drawn
by hand once (:data:`SUBJECTS`); the same transform that moves the photo moves them, so every
frame's truth is exact. The clip is then compressed as a video would be: JPEG at several
qualities, or H.264 (through PyAV's FFmpeg) at several CRFs.

:mod:`realtime_nb.vision.realfootage` scores detectors on these clips (``realtime-nb eval
--real``).

Example:
    >>> clip = real_clip(SUBJECTS[0], seed=1, frames=3, compression=COMPRESSIONS[0])
    >>> len(clip.frames), clip.frames[0].shape, len(clip.faces[0])
    (3, (360, 640, 3), 1)
"""

from __future__ import annotations

import importlib.util
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from realtime_nb.core.frame import VideoInfo
from realtime_nb.vision.plugins.base import Frame

__all__ = [
    "COMPRESSIONS",
    "SUBJECTS",
    "Box",
    "Compression",
    "MissingPhotoError",
    "RealClip",
    "Subject",
    "load_photo",
    "real_clip",
]

Box = list[float]
"""A box as ``[x1, y1, x2, y2]`` in pixels."""


class MissingPhotoError(RuntimeError):
    """A package that ships a photograph of the set is not installed."""


@dataclass(frozen=True)
class Subject:
    """A portrait photograph and its hand-drawn boxes, in the photo's own pixels.

    Attributes:
        name: Short name.
        package: The installed package that ships the photo.
        path: The photo's path inside that package.
        face: The face, ``[x1, y1, x2, y2]`` (brows to chin, ear to ear).
        person: The visible person (the part inside the photo).
        credit: Who took it and under which terms.
    """

    name: str
    package: str
    path: str
    face: tuple[float, float, float, float]
    person: tuple[float, float, float, float]
    credit: str


SUBJECTS = (
    Subject(
        "astronaut",
        "skimage",
        "data/astronaut.png",
        (178, 70, 272, 176),
        (10, 30, 400, 511),
        "Eileen Collins, NASA (public domain), in scikit-image's sample data",
    ),
    Subject(
        "hopper",
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        (168, 122, 366, 342),
        (20, 20, 500, 599),
        "Grace Hopper, US Navy (public domain), in matplotlib's sample data",
    ),
    Subject(
        "cameraman",
        "skimage",
        "data/camera.png",
        (190, 112, 266, 204),
        (0, 70, 340, 511),
        "the cameraman, MIT (free to use), in scikit-image's sample data",
    ),
)
"""The portraits: a frontal face, a frontal face in glasses and cap, a face half turned."""

BACKGROUNDS = (
    ("skimage", "data/coffee.png"),
    ("skimage", "data/motorcycle_left.png"),
    ("skimage", "data/brick.png"),
    ("skimage", "data/rocket.jpg"),
)
"""Real photographs the portraits are pasted over (no faces or people in them)."""
OCCLUDER = ("skimage", "data/gravel.png")


@dataclass(frozen=True)
class Compression:
    """How a clip is compressed.

    Attributes:
        name: Label in tables (``"jpeg q30"``).
        codec: ``"none"``, ``"jpeg"`` (each frame on its own) or ``"h264"`` (a real video).
        level: JPEG quality (0..100) or H.264 CRF (0..51, higher is worse).
        severity: ``"none"``, ``"mild"``, ``"medium"`` or ``"heavy"``, which target applies.
    """

    name: str
    codec: str
    level: int
    severity: str


COMPRESSIONS = (
    Compression("none", "none", 0, "none"),
    Compression("jpeg q80", "jpeg", 80, "mild"),
    Compression("h264 crf23", "h264", 23, "mild"),
    Compression("jpeg q30", "jpeg", 30, "medium"),
    Compression("h264 crf35", "h264", 35, "medium"),
    Compression("jpeg q10", "jpeg", 10, "heavy"),
    Compression("h264 crf45", "h264", 45, "heavy"),
)
"""From none to heavy; mild and heavy are the levels the targets name."""


def load_photo(package: str, path: str) -> Frame:
    """A photo shipped inside an installed package, as BGR (found without importing it).

    Raises:
        MissingPhotoError: The package is not installed, or the file is not in it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingPhotoError(
            f"the real-footage set needs the {package!r} package for {path}; "
            "install it with: pip install 'realtime-nb[eval]'"
        )
    file = Path(next(iter(spec.submodule_search_locations))) / path
    image = cv2.imread(str(file), cv2.IMREAD_COLOR)
    if image is None:
        raise MissingPhotoError(f"{file} is missing or unreadable")
    return np.asarray(image, np.uint8)


@dataclass
class RealClip:
    """A clip of the real-footage set.

    Attributes:
        name: ``subject/seed/compression``.
        frames: The frames, BGR, compressed as told.
        faces: The true face boxes of each frame.
        people: The true person boxes of each frame.
        info: Size and rate.
    """

    name: str
    frames: list[Frame]
    faces: list[list[Box]]
    people: list[list[Box]]
    info: VideoInfo


PERIOD_S = 6.0
"""Seconds of one swing of the path: at 25 fps the face moves up to about 10 px a frame."""


def _path(seed: int, frames: int, fps: float) -> list[tuple[float, float, float, float, float]]:
    """Per frame: centre x, y (0..1 of the frame), face height (px), angle (deg), squeeze."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * math.pi, 5)
    speed = rng.uniform(0.6, 1.4, 5)
    out = []
    for i in range(frames):
        t = (i / fps + phase[0]) / PERIOD_S * 2 * math.pi
        cx = 0.5 + 0.28 * math.sin(speed[0] * t + phase[0])
        cy = 0.5 + 0.12 * math.sin(speed[1] * t + phase[1])
        height = 100 + 60 * math.sin(speed[2] * t + phase[2])
        angle = 20 * math.sin(speed[3] * t + phase[3])
        squeeze = 0.85 + 0.15 * math.sin(speed[4] * t + phase[4])
        out.append((cx, cy, height, angle, squeeze))
    return out


def _transform(
    subject: Subject,
    cx: float,
    cy: float,
    height: float,
    angle: float,
    squeeze: float,
    w: int,
    h: int,
) -> npt.NDArray[np.float64]:
    """The 2x3 affine taking the photo to the frame: the face centred at (cx, cy), ``height``
    px high, rotated by ``angle``, squeezed sideways by ``squeeze``."""
    fx1, fy1, fx2, fy2 = subject.face
    scale = height / (fy2 - fy1)
    rot = cv2.getRotationMatrix2D((0.0, 0.0), angle, 1.0)[:, :2]
    linear = rot @ np.diag([scale * squeeze, scale])
    face_centre = np.array([(fx1 + fx2) / 2, (fy1 + fy2) / 2])
    offset = np.array([cx * w, cy * h]) - linear @ face_centre
    return np.hstack([linear, offset[:, None]])


def _ellipse_box(box: Sequence[float], m: npt.NDArray[np.float64], w: int, h: int) -> Box:
    """The frame box of the ellipse inscribed in ``box`` once moved by ``m`` (a rotated face's
    box grows like its outline, not like its corners)."""
    x1, y1, x2, y2 = box
    t = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    pts = np.stack(
        [(x1 + x2) / 2 + (x2 - x1) / 2 * np.cos(t), (y1 + y2) / 2 + (y2 - y1) / 2 * np.sin(t)]
    )
    moved = m[:, :2] @ pts + m[:, 2:]
    return _clip_box([moved[0].min(), moved[1].min(), moved[0].max(), moved[1].max()], w, h)


def _rect_box(box: Sequence[float], m: npt.NDArray[np.float64], w: int, h: int) -> Box:
    x1, y1, x2, y2 = box
    pts = np.array([[x1, x2, x2, x1], [y1, y1, y2, y2]], np.float64)
    moved = m[:, :2] @ pts + m[:, 2:]
    return _clip_box([moved[0].min(), moved[1].min(), moved[0].max(), moved[1].max()], w, h)


def _clip_box(box: Sequence[float], w: int, h: int) -> Box:
    x1, y1, x2, y2 = box
    return [max(0.0, x1), max(0.0, y1), min(w - 1.0, x2), min(h - 1.0, y2)]


def _render(
    subject: Subject, seed: int, frames: int, width: int, height: int, fps: float
) -> tuple[list[Frame], list[list[Box]], list[list[Box]]]:
    photo = load_photo(subject.package, subject.path)
    bg_package, bg_path = BACKGROUNDS[seed % len(BACKGROUNDS)]
    background = cv2.resize(load_photo(bg_package, bg_path), (width, height))
    occluder = load_photo(*OCCLUDER)
    mask = np.full(photo.shape[:2], 255, np.uint8)
    out_frames, faces, people = [], [], []
    occluded = range(frames // 3, frames // 3 + max(1, frames // 5))
    for i, (cx, cy, face_h, angle, squeeze) in enumerate(_path(seed, frames, fps)):
        m = _transform(subject, cx, cy, face_h, angle, squeeze, width, height)
        warped = cv2.warpAffine(photo, m, (width, height), flags=cv2.INTER_AREA)
        inside = cv2.warpAffine(mask, m, (width, height), flags=cv2.INTER_NEAREST) > 0
        frame = background.copy()
        frame[inside] = warped[inside]
        face = _ellipse_box(subject.face, m, width, height)
        if i in occluded:
            # a block of gravel sweeps across the lower side of the face, covering up to 30 %
            fx1, fy1, fx2, fy2 = face
            fw, fh = fx2 - fx1, fy2 - fy1
            k = (i - occluded.start) / max(1, len(occluded) - 1)
            ox = int(fx1 - 0.4 * fw + k * 1.3 * fw)
            oy, ow, oh = int(fy1 + 0.55 * fh), int(0.45 * fw), int(0.65 * fh)
            x0, y0 = max(0, ox), max(0, oy)
            x1, y1 = min(width, ox + ow), min(height, oy + oh)
            if x1 > x0 and y1 > y0:
                frame[y0:y1, x0:x1] = occluder[: y1 - y0, : x1 - x0]
        out_frames.append(np.asarray(frame, np.uint8))
        faces.append([face])
        people.append([_rect_box(subject.person, m, width, height)])
    return out_frames, faces, people


def _jpeg(frames: list[Frame], quality: int) -> list[Frame]:
    out = []
    for frame in frames:
        ok, data = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out.append(np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8))
    return out


def _h264(frames: list[Frame], crf: int, fps: float) -> list[Frame]:
    """The frames through a real H.264 encode and decode (libx264 in PyAV's FFmpeg)."""
    try:
        import av
    except ImportError as exc:
        raise MissingPhotoError(
            "H.264 levels of the real-footage set need PyAV: pip install 'realtime-nb[eval]'"
        ) from exc
    h, w = frames[0].shape[:2]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")))
        container.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        decoded = [
            np.asarray(f.to_ndarray(format="bgr24"), np.uint8) for f in container.decode(video=0)
        ]
    if len(decoded) != len(frames):
        raise RuntimeError(f"H.264 round trip gave {len(decoded)} frames of {len(frames)}")
    return decoded


def real_clip(
    subject: Subject,
    seed: int,
    frames: int = 60,
    compression: Compression = COMPRESSIONS[0],
    width: int = 640,
    height: int = 360,
    fps: float = 25.0,
) -> RealClip:
    """Render one clip of the set: ``subject`` moved along the path of ``seed``, compressed.

    Raises:
        MissingPhotoError: scikit-image or matplotlib (the photos) or PyAV (H.264) is missing.
    """
    rendered, faces, people = _render(subject, seed, frames, width, height, fps)
    if compression.codec == "jpeg":
        rendered = _jpeg(rendered, compression.level)
    elif compression.codec == "h264":
        rendered = _h264(rendered, compression.level, fps)
    elif compression.codec != "none":
        raise ValueError(f"unknown codec {compression.codec!r}")
    name = f"{subject.name}/{seed}/{compression.name}"
    return RealClip(name, rendered, faces, people, VideoInfo(width, height, fps, frames))
