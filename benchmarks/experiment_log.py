"""Experiment logging: what ``run.log`` costs a loop, and how fast points reach the server.

1. Overhead: a loop whose body takes 100 µs (10,000 iterations a second) runs ITERATIONS times
   bare, with ``run.log({"loss", "acc"})`` every iteration (10,000 logs/s), and with
   tensorboardX's ``SummaryWriter.add_scalar`` for the same two values (TensorBoard event
   records to a local file). Rounds are interleaved and the best of 5 of each counts, so a
   neighbour's burst on a shared machine does not pick a side; the process's CPU time (every
   thread's, so the sender's work too) is reported beside the wall time.
2. Ingest: POINTS points (5 metrics a step) logged at full speed, timed until the run ended
   (every batch acknowledged, so committed to the server's SQLite); beside the same points
   written with ``add_scalar`` and flushed to disk.

Usage: python experiment_log.py URL TOKEN ITERATIONS POINTS   (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import realtime_nb as rt

BODY_S = 100e-6
ROUNDS = 5
METRICS = ("loss", "acc", "lr", "grad_norm", "val_loss")


def spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def timed_loop(iterations: int, record: Callable[[int], None] | None) -> tuple[float, float]:
    """Wall time and this process's CPU time (every thread's) of the loop."""
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(iterations):
        spin(BODY_S)
        if record is not None:
            record(i)
    return time.perf_counter() - t0, time.process_time() - c0


def tensorboard_writer(folder: str) -> Any:
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(folder)


def main() -> None:
    url, token, iterations, points = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = rt.connect(url, token=token)
    out: dict[str, Any] = {"iterations": iterations, "points": points}
    with tempfile.TemporaryDirectory() as folder:
        writer = tensorboard_writer(folder)
        out["baseline"] = "tensorboardX SummaryWriter" if writer is not None else None
        bare, logged, tb = [], [], []
        with client.experiment("bench-overhead") as run:

            def log(i: int) -> None:
                run.log({"loss": 1.0 / (i + 1), "acc": i * 1e-6}, step=i)

            def write(i: int) -> None:
                writer.add_scalar("loss", 1.0 / (i + 1), i)
                writer.add_scalar("acc", i * 1e-6, i)

            for _ in range(ROUNDS):
                bare.append(timed_loop(iterations, None))
                logged.append(timed_loop(iterations, log))
                if writer is not None:
                    tb.append(timed_loop(iterations, write))
        out["bare_s"], out["logged_s"] = min(w for w, _ in bare), min(w for w, _ in logged)
        out["logs_per_s"] = iterations / out["logged_s"]
        out["overhead"] = out["logged_s"] / out["bare_s"] - 1.0
        # CPU time counts the sender's thread too, and is less moved by other processes.
        cpu_bare, cpu_logged = min(c for _, c in bare), min(c for _, c in logged)
        out["cpu_overhead"] = cpu_logged / cpu_bare - 1.0
        out["tensorboard_s"] = min(w for w, _ in tb) if tb else None
        out["dropped"] = run.dropped

        steps = points // len(METRICS)
        t0 = time.perf_counter()
        with client.experiment("bench-ingest", close_timeout=600) as run:
            for step in range(steps):
                run.log({name: step * 0.5 for name in METRICS}, step=step)
        out["ingest_s"] = time.perf_counter() - t0
        out["ingest_points_per_s"] = steps * len(METRICS) / out["ingest_s"]
        stored = client.request("GET", f"/v1/jobs/{run.job_id}/metrics?summary=1")["summary"]
        out["stored_points"] = sum(s["count"] for s in stored.values())
        if writer is not None:
            t0 = time.perf_counter()
            for step in range(steps):
                for name in METRICS:
                    writer.add_scalar(f"ingest/{name}", step * 0.5, step)
            writer.flush()
            out["tensorboard_points_per_s"] = steps * len(METRICS) / (time.perf_counter() - t0)
            writer.close()
        else:
            out["tensorboard_points_per_s"] = None
    client.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
