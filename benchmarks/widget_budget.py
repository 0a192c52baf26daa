"""Widget budget: iopub comm messages per second from a real kernel while the overlay's client
takes in more than 20,000 messages per second.

A kernel from the venv runs ``rt.connect()`` (the embedded server) and an overlay on a job of
its own; a thread in the kernel feeds the client's message path (``RealtimeClient._apply``:
reduce, then bump the version the render clock watches) as fast as it goes — the server alone
cannot reach 20,000 msgs/s on this 2-core machine (its synthetic source renders too slowly).
This process reads every iopub message and counts ``comm_msg`` per wall-clock second.

Usage: python benchmarks/widget_budget.py FRAMES   (prints one JSON line)
"""

from __future__ import annotations

import json
import os
import queue
import sys
import tempfile
import textwrap
import time
from typing import Any

from jupyter_client.manager import KernelManager

CODE = """
import json, threading, time
import realtime_nb as rt
from realtime_nb.protocol import FramePayload, JobPayload, ProgressPayload, make_message
from realtime_nb.widgets import RealtimeOverlay
from IPython.display import display
client = rt.connect()
PLUGINS = [f"p{{i}}" for i in range(20)]
JID, FRAMES = "bench", {frames}
msgs, seq = [], 0
for i in range(FRAMES):
    for p in PLUGINS:
        seq += 1
        msgs.append(make_message(FramePayload(frame_id=f"f-{{i:06d}}", plugin=p, data={{"i": i}},
                                              timing_ms=0.1 + i % 7), job_id=JID, seq=seq))
    seq += 1
    msgs.append(make_message(ProgressPayload(job_id=JID, progress=100 * i / FRAMES,
                                             stage="Running"), job_id=JID, seq=seq))
msgs.append(make_message(JobPayload(job_id=JID, status="completed"), job_id=JID, seq=seq + 1))
overlay = RealtimeOverlay(job_id=JID, plugins=PLUGINS)
client.attach_overlay(JID, overlay)
display(overlay)
t0 = time.perf_counter()
for m in msgs:
    client._apply(JID, [m])
seconds = time.perf_counter() - t0
time.sleep(0.5)
print(json.dumps({{"messages": len(msgs), "seconds": seconds}}))
client.close()
"""


def run(frames: int, timeout: float = 120.0) -> dict[str, Any]:
    """Measure; return messages fed, their rate, and comm_msg per second (mean and peak)."""
    data_dir = tempfile.mkdtemp(prefix="rnb-widget-bench-")
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env={**os.environ, "REALTIME_NB_DATA_DIR": data_dir})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        msg_id = client.execute(textwrap.dedent(CODE.format(frames=frames)))
        comm_times: list[float] = []
        out: list[str] = []
        deadline = time.monotonic() + timeout
        idle = False
        while time.monotonic() < deadline:
            try:
                msg = client.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            kind = msg["msg_type"]
            if kind == "comm_msg":
                comm_times.append(time.time())
            elif kind == "stream" and msg["parent_header"].get("msg_id") == msg_id:
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            elif kind == "status" and msg["parent_header"].get("msg_id") == msg_id:
                idle = msg["content"]["execution_state"] == "idle"
            if idle:
                break
        facts: dict[str, Any] = json.loads("".join(out).strip().splitlines()[-1])
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    per_second: dict[int, int] = {}
    for t in comm_times:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    span = (comm_times[-1] - comm_times[0]) if len(comm_times) > 1 else 1.0
    return {
        "messages": facts["messages"],
        "rate": facts["messages"] / facts["seconds"],
        "comm_msgs": len(comm_times),
        "comm_per_s_mean": len(comm_times) / max(span, 1.0),
        "comm_per_s_peak": max(per_second.values(), default=0),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))), flush=True)
