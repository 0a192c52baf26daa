"""The pipeline baseline: the built-in football plugins called in a plain loop, no server.

Same frames (the same synthetic source string the job uses), the same plugin classes looked up
in the same registry as the server, the same
``setup``/``process`` calls; no messages, no store, no previews. Prints one JSON line.

A short warm-up clip runs first, untimed, as the server runs one before its timed job: both
sides then have OpenCV and the plugins' first-call costs behind them.

Usage: python pipeline_loop.py SOURCE WARMUP_SOURCE
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from realtime_nb.vision.plugins import PluginContext, default_registry
from realtime_nb.vision.video import open_source
from realtime_nb.worker.runner import frame_id_for

FOOTBALL = ["pitch_detection", "player_detection", "ball_detection"]
"""The pipeline, in the order the job runs it (dependencies first)."""


def loop(source: str) -> int:
    """Run the football plugins over every frame of ``source``; return the frame count."""
    frames = 0
    with open_source(source, []) as frames_in:
        plugins = [default_registry.get(name)() for name in FOOTBALL]
        states: list[dict[str, Any]] = [{} for _ in plugins]
        for plugin in plugins:
            plugin.setup(frames_in.info)
        for index, frame in enumerate(frames_in):
            results: dict[str, dict[str, Any]] = {}
            for plugin, state in zip(plugins, states, strict=True):
                ctx = PluginContext(index, frame_id_for(index), results, state, frames_in.info)
                results[plugin.name] = plugin.process(frame, ctx)
            frames += 1
    return frames


def main(source: str, warmup: str) -> None:
    loop(warmup)
    t0 = time.perf_counter()
    frames = loop(source)
    wall = time.perf_counter() - t0
    print(json.dumps({"frames": frames, "wall_s": wall, "fps": frames / wall}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
