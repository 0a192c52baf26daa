"""What a plugin is handed: a frame as a numpy array, and what is known of its video.

Shared by the video readers, the synthetic match, the plugins and the runner, so none of them
imports another for these two names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Frame", "VideoInfo"]

Frame = npt.NDArray[np.uint8]
"""A BGR image, shape (height, width, 3), dtype uint8 (OpenCV's layout)."""


@dataclass(frozen=True)
class VideoInfo:
    """What a plugin knows about the video before the first frame."""

    width: int
    height: int
    fps: float
    frame_count: int | None
