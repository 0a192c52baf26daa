"""Micro-benchmark of ``JobChannel.emit`` for one football frame's batch of messages.

The batch is what the runner emits for a frame of the synthetic match with the built-in
football pipeline: one ``frame`` message per plugin (pitch, players, ball). The store and the
delivery are stubs that keep nothing, so the figure is numbering, encoding and row building
alone. Prints one JSON line: microseconds per batch (best and median of the repeats) and the
sizes of the frame messages.

Usage: python channel_emit.py [NUMBER] [REPEATS]
"""

from __future__ import annotations

import json
import statistics
import sys
import timeit
from typing import Any

from realtime_nb.core.protocol import FramePayload
from realtime_nb.server.channel import JobChannel
from realtime_nb.vision.plugins import PluginContext, default_registry
from realtime_nb.vision.video import open_source
from realtime_nb.worker.runner import frame_id_for

FOOTBALL = ["pitch_detection", "player_detection", "ball_detection"]
FRAME = 30
"""A frame well into the clip, where every plugin has found something."""


class NullStore:
    """Takes rows and keeps none (the real store only queues them for its writer thread)."""

    def save_results(self, rows: Any) -> None:
        pass

    def save_events(self, rows: Any) -> None:
        pass


def football_batch(source: str = "synthetic://match?seconds=2&seed=7") -> list[FramePayload]:
    """The frame payloads the football pipeline produces for frame :data:`FRAME`."""
    with open_source(source, []) as frames:
        plugins = [default_registry.get(name)() for name in FOOTBALL]
        states: list[dict[str, Any]] = [{} for _ in plugins]
        for plugin in plugins:
            plugin.setup(frames.info)
        for index, frame in enumerate(frames):
            results: dict[str, dict[str, Any]] = {}
            batch = []
            for plugin, state in zip(plugins, states, strict=True):
                ctx = PluginContext(index, frame_id_for(index), results, state, frames.info)
                results[plugin.name] = data = plugin.process(frame, ctx)
                batch.append(
                    FramePayload(
                        frame_id=frame_id_for(index),
                        plugin=plugin.name,
                        data=data,
                        timing_ms=1.25,
                        frame_index=index,
                    )
                )
            if index == FRAME:
                return batch
    raise ValueError(f"{source} has fewer than {FRAME + 1} frames")


def main(number: int = 2000, repeats: int = 7) -> None:
    batch = football_batch()
    sizes: list[int] = []
    probe = JobChannel(
        "j-bench", NullStore(), lambda job_id, items: sizes.extend(len(i.data) for i in items)
    )
    probe.emit(batch)
    channel = JobChannel("j-bench", NullStore(), lambda job_id, items: None)
    times = timeit.repeat(lambda: channel.emit(batch), number=number, repeat=repeats)
    per_batch_us = [t / number * 1e6 for t in times]
    print(
        json.dumps(
            {
                "messages_per_batch": len(batch),
                "message_bytes": sizes,
                "best_us": round(min(per_batch_us), 2),
                "median_us": round(statistics.median(per_batch_us), 2),
                "number": number,
                "repeats": repeats,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
