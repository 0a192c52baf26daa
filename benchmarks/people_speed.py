"""people_detection's default HOG settings against OpenCV's example settings (``hog-classic``):
frames per second on the same 640x360 real-footage frames, one core, the two interleaved frame
by frame so both see the same machine load. Target: a ratio of at least 2 with fewer boxes.

Run: ``.venv/bin/python benchmarks/people_speed.py [frames]`` (needs ``realtime-nb[eval]``).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import cv2

from realtime_nb.vision.plugins import PluginContext
from realtime_nb.vision.plugins.people import PeopleDetection
from realtime_nb.vision.realfootage import COMPRESSIONS, SUBJECTS, real_clip


def main(frames: int = 30) -> int:
    """Print each setting's fps and box count, and the ratio; exit 1 below the target."""
    cv2.setNumThreads(1)
    clips = [real_clip(subject, 11, frames, COMPRESSIONS[1]) for subject in SUBJECTS]
    models = ("hog", "hog-classic")
    spent = dict.fromkeys(models, 0.0)
    boxes = dict.fromkeys(models, 0)
    count = 0
    for clip in clips:
        plugins = {m: PeopleDetection(model=m) for m in models}
        states: dict[str, dict[str, Any]] = {m: {} for m in models}
        for plugin in plugins.values():
            plugin.setup(clip.info)
        for i, frame in enumerate(clip.frames):
            count += 1
            for m, plugin in plugins.items():
                ctx = PluginContext(i, f"f-{i:06d}", {}, states[m], clip.info)
                start = time.perf_counter()
                result = plugin.process(frame, ctx)
                spent[m] += time.perf_counter() - start
                boxes[m] += result["count"]
    for m in models:
        print(f"{m}: {count / spent[m]:.1f} fps, {boxes[m]} boxes in {count} frames")
    ratio = spent["hog-classic"] / spent["hog"]
    ok = ratio >= 2.0 and boxes["hog"] < boxes["hog-classic"]
    print(f"ratio {ratio:.2f} (target >= 2 with fewer boxes): {'pass' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
