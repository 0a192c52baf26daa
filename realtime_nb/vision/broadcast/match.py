"""Broadcast clips as scored clips: a fixed, named set and an adapter the evaluation runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.vision.broadcast.clip import Clip
from realtime_nb.vision.broadcast.scene import FPS, ClipConfig
from realtime_nb.vision.synthetic.truth import FrameTruth, TruthTrack

__all__ = [
    "BROADCAST_CLIPS",
    "BroadcastMatch",
    "TuningClipError",
    "broadcast_match",
    "check_tuning_clip",
    "tuning_match",
]

BROADCAST_CLIPS: dict[int, ClipConfig] = {
    1: ClipConfig(seed=11, kits=("red/white", "blue"), stripes="x"),
    2: ClipConfig(seed=12, kits=("yellow/black", "white/dkgreen")),
    3: ClipConfig(seed=13, kits=("skyblue/white", "claret"), stripes="y"),
    4: ClipConfig(seed=14, kits=("black/white", "orange"), stripes="diag", shadow=True),
    5: ClipConfig(seed=15, kits=("dkgreen", "white"), stripes="none"),
    6: ClipConfig(seed=16, cam_height=27.0, hfov=50.0),
    7: ClipConfig(seed=17, width=1280, height=720, kits=("red/white", "yellow/black")),
    8: ClipConfig(seed=18, width=1280, height=720, kits=("blue", "white/dkgreen")),
    # The second set, fixed before any of it was rendered: settings the first set lacks.
    9: ClipConfig(seed=19, width=320, height=180),
    10: ClipConfig(seed=20, width=1920, height=1080),
    11: ClipConfig(seed=21, cam_height=10.0, hfov=30.0),
    12: ClipConfig(seed=22, cam_height=30.0, hfov=60.0),
    13: ClipConfig(seed=23, kits=("white", "skyblue/white")),
    14: ClipConfig(seed=24, blur=1.5, noise=6.0, jpeg=40),
    15: ClipConfig(seed=25, width=960, height=540, stripes="diag", shadow=True),
    16: ClipConfig(
        seed=26, width=1280, height=720, kits=("claret", "white/dkgreen"), cam_height=12.0
    ),
}
"""The scored broadcast clips by number, 100 frames each; knobs not set are drawn from the clip's
seed. ``realtime-nb eval --broadcast`` scores them. Clips 1 to 8 are the first set; 9 to 16, the
second, add what the first lacks: 320x180 (9) and 1920x1080 (10), a camera 10 m up with a 30
degree view (11) and 30 m up with a 60 degree view (12), two pale kits, white against sky blue
with white shorts (13), blur 1.5 with noise 6 and JPEG 40 (14), 960x540 with diagonal stripes
and a roof shadow (15), and 1280x720 from 12 m up (16)."""


class BroadcastMatch:
    """A broadcast :class:`Clip` shaped like a synthetic match: iterate it for frames, index
    ``truth`` for each frame's :class:`FrameTruth`.

    Attributes:
        clip: The renderer's clip.
        info: Size, rate and frame count.
        truth: Per-frame truth; a frame's truth is kept once the frame was rendered.
    """

    def __init__(self, cfg: ClipConfig) -> None:
        self.clip = Clip(cfg)
        self.info = VideoInfo(cfg.width, cfg.height, FPS, cfg.frames)
        self.truth: Sequence[FrameTruth] = TruthTrack(self)
        self._truths: dict[int, FrameTruth] = {}

    def __len__(self) -> int:
        return len(self.clip)

    def render(self, index: int) -> tuple[Frame, FrameTruth]:
        """Frame ``index`` and its truth (the truth is kept)."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        frame, truth = self.clip.render(index)
        self._truths[index] = truth
        return frame, truth

    def frame_truth(self, index: int) -> FrameTruth:
        """Frame ``index``'s truth: kept from its rendering, else rendered now."""
        known = self._truths.get(index)
        return known if known is not None else self.render(index)[1]

    def __getitem__(self, index: int) -> Frame:
        return self.render(index)[0]

    def __iter__(self) -> Iterator[Frame]:
        for i in range(len(self)):
            yield self.render(i)[0]

    def label(self, number: int | None = None) -> str:
        """The clip's setting in words, e.g. ``"640x360 red/white v blue, camera 14 m"``
        (prefixed ``"broadcast N: "`` with a number)."""
        c = self.clip
        text = (
            f"{c.cfg.width}x{c.cfg.height} {c.kit_names[0]} v {c.kit_names[1]}, "
            f"camera {c.cam_height:.0f} m"
        )
        return text if number is None else f"broadcast {number}: {text}"


def broadcast_match(number: int, frames: int | None = None) -> BroadcastMatch:
    """Broadcast clip ``number`` of :data:`BROADCAST_CLIPS`, ``frames`` long if given.

    The play is the same for any length, but the camera's placement is drawn after the play,
    so a clip of another length is filmed from a slightly different spot.

    Raises:
        KeyError: No such clip.
    """
    cfg = BROADCAST_CLIPS[number]
    if frames is not None:
        cfg = dataclasses.replace(cfg, frames=frames)
    return BroadcastMatch(cfg)


def check_tuning_clip(seed: int, like: int | None = None) -> None:
    """Check that ``seed`` (with clip ``like``'s knobs, if given) makes a clip to tune on.

    The numbered clips are held out of tuning, so their seeds are refused: clip ``like``'s
    knobs with its own seed would be that clip.

    Raises:
        TuningClipError: ``seed`` is one of :data:`BROADCAST_CLIPS`' seeds, is negative or
            is over 2**32 - 1, or ``like`` is not a clip number.
    """
    if like is not None and like not in BROADCAST_CLIPS:
        known = ", ".join(map(str, BROADCAST_CLIPS))
        raise TuningClipError(f"no broadcast clip {like}: the clips are {known}")
    if not 0 <= seed < 2**32:
        raise TuningClipError(f"seed {seed} is out of range (0 to 2**32 - 1)")
    held_out = sorted(c.seed for c in BROADCAST_CLIPS.values())
    if seed in held_out:
        raise TuningClipError(
            f"seed {seed} is a numbered broadcast clip's, held out of tuning "
            f"(the held-out seeds are {', '.join(map(str, held_out))})"
        )


class TuningClipError(ValueError):
    """A broadcast clip to tune on was asked for with a held-out or out-of-range seed, or
    with an unknown clip's knobs."""


def tuning_match(seed: int, like: int | None = None, frames: int | None = None) -> BroadcastMatch:
    """A broadcast clip to tune on: the knobs clip ``like`` sets (of clip 4: kits, stripes and
    the roof's shadow; of clip 6: the camera's height and view) with another random ``seed``
    for the rest (the play, the knobs it leaves open, the noise); without ``like``, every knob
    but the size (640x360) drawn at random from ``seed``. ``frames`` long if given.

    Raises:
        TuningClipError: :func:`check_tuning_clip` refuses ``seed`` or ``like``.
    """
    check_tuning_clip(seed, like)
    cfg = ClipConfig(seed=seed) if like is None else BROADCAST_CLIPS[like]
    cfg = dataclasses.replace(cfg, seed=seed)
    if frames is not None:
        cfg = dataclasses.replace(cfg, frames=frames)
    return BroadcastMatch(cfg)
