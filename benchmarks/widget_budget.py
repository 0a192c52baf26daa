"""Widget budget: iopub comm messages per second from a real kernel while the overlay's client
takes in a flood from a real server.

``realtime-nb serve`` (a child process, the bench plugins) runs a job of 50 ``bench_noop_*``
plugins over a 64x64 synthetic clip: 50 frame messages and a progress message per frame. A
kernel from the venv runs only the client, as a user would: ``rt.connect()``, ``client.submit``,
``display(job.overlay())``, ``job.wait()``, and counts the messages its client takes in
(``message`` events). This process reads every iopub message and counts ``comm_msg`` per second
of the kernel's send time (the header's ``date``).

Usage: python benchmarks/widget_budget.py FRAMES   (prints one JSON line)

FRAMES keeps the meaning it had when this fed the client directly (FRAMES x 20 frame messages):
the clip has FRAMES x 20 / 50 frames, so the job emits as many frame messages as before.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager

HERE = Path(__file__).resolve().parent
SOURCE = "synthetic://match?seconds={seconds}&fps=100&width=64&height=64&noise=0&players_per_team=0"
PLUGINS = [f"bench_noop_{i}" for i in range(50)]
SERVING = re.compile(r"serving at (http://127\.0\.0\.1:\d+)/")

CODE = """
import bisect, json, time
import realtime_nb as rt
from IPython.display import display
client = rt.connect()
arrivals = []
client.on("message", lambda msg: arrivals.append(time.perf_counter()))
job = client.submit({source!r}, plugins={plugins!r})
overlay = job.overlay()
display(overlay)
record = job.wait(timeout={timeout})
time.sleep(0.5)  # a few render ticks after the end
peak = max(bisect.bisect_left(arrivals, t + 1.0) - i for i, t in enumerate(arrivals))
print(json.dumps({{"status": record["status"], "messages": len(arrivals),
                  "seconds": arrivals[-1] - arrivals[0], "peak_1s": peak,
                  "frames": job.state.frames_received}}))
client.close()
"""


@contextmanager
def serve(data_dir: str, timeout: float = 30.0) -> Iterator[tuple[str, str]]:
    """``realtime-nb serve`` with the bench plugins on a free port; yields (url, token)."""
    token = secrets.token_hex(16)
    pythonpath = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    log_path = Path(data_dir) / "serve.log"
    with log_path.open("wb") as log:
        # A file, not a pipe: nobody reads the server's output once it has started.
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "realtime_nb.cli", "serve", "--port", "0",
                "--token", token, "--data-dir", data_dir, "--plugins-from", "bench_plugins",
            ],
            env={**os.environ, "PYTHONPATH": pythonpath},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while not (match := SERVING.search(log_path.read_text())):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log_path.read_text()}")
            time.sleep(0.05)
        yield match.group(1), token
    finally:
        proc.terminate()
        proc.wait(30)


def read_iopub(client: Any, msg_id: str, timeout: float) -> tuple[list[float], str]:
    """Every comm_msg's kernel send time, and the cell's stdout, until the cell is idle."""
    comm_times: list[float] = []
    out: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        kind, parent = msg["msg_type"], msg["parent_header"].get("msg_id")
        if kind == "comm_msg":
            date = msg["header"].get("date")
            comm_times.append(date.timestamp() if isinstance(date, datetime) else time.time())
        elif kind == "stream" and parent == msg_id:
            out.append(msg["content"]["text"])
        elif kind == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))
        elif kind == "status" and parent == msg_id and msg["content"]["execution_state"] == "idle":
            return comm_times, "".join(out)
    raise TimeoutError(f"the cell did not finish in {timeout} s")


def run(frames: int, timeout: float = 240.0) -> dict[str, Any]:
    """Measure; return the messages the kernel's client took in (mean and peak rate), the
    frame messages the server shed, and comm_msg per second (mean and peak)."""
    data_dir = tempfile.mkdtemp(prefix="rnb-widget-bench-")
    with serve(data_dir) as (url, token):
        manager = KernelManager(kernel_name="python3")
        env = {**os.environ, "REALTIME_NB_URL": url, "REALTIME_NB_TOKEN": token}
        manager.start_kernel(env=env)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            seconds = frames * 20 / len(PLUGINS) / 100
            code = CODE.format(
                source=SOURCE.format(seconds=seconds), plugins=PLUGINS, timeout=timeout
            )
            msg_id = client.execute(textwrap.dedent(code))
            comm_times, out = read_iopub(client, msg_id, timeout + 30)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    facts: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    if facts["status"] != "completed":
        raise RuntimeError(f"the job ended {facts['status']}")
    per_second: dict[int, int] = {}
    for t in comm_times:
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    span = (comm_times[-1] - comm_times[0]) if len(comm_times) > 1 else 1.0
    return {
        "messages": facts["messages"],
        "rate": facts["messages"] / facts["seconds"],
        "peak_1s": facts["peak_1s"],
        "shed": frames * 20 - facts["frames"],
        "comm_msgs": len(comm_times),
        "comm_per_s_mean": len(comm_times) / max(span, 1.0),
        "comm_per_s_peak": max(per_second.values(), default=0),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]))), flush=True)
