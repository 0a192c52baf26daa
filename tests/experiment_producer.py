"""A plain script that reports an experiment, as a user's training loop would (no Jupyter).

Run by the experiment tests in a process of its own::

    python experiment_producer.py URL TOKEN STEPS [--pause-every N --pause-s S]
        [--heartbeat-timeout S] [--hang-at STEP]

It prints ``JOB <job_id>`` as soon as the run exists, then logs 5 metrics per step at full
speed (or pausing ``pause_s`` every ``pause_every`` steps), and prints ``DONE <dropped>`` after
the run ended. With ``--hang-at`` it stops logging at that step and sleeps (to be killed).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import realtime_nb as rt

METRICS = ("loss", "acc", "lr", "grad_norm", "val_loss")


def values(step: int) -> dict[str, float]:
    """The 5 metric values the script logs at ``step`` (tests recompute them)."""
    return {
        "loss": 1.0 / (step + 1),
        "acc": step / (step + 10),
        "lr": 0.1 * 0.999**step,
        "grad_norm": math.sin(step) + 2.0,
        "val_loss": 2.0 / (step + 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("steps", type=int)
    parser.add_argument("--pause-every", type=int, default=0)
    parser.add_argument("--pause-s", type=float, default=0.0)
    parser.add_argument("--heartbeat-timeout", type=float, default=None)
    parser.add_argument("--hang-at", type=int, default=-1)
    args = parser.parse_args()
    client = rt.connect(args.url, token=args.token)
    run = client.experiment(
        "producer-script",
        total=args.steps,
        config={"steps": args.steps},
        heartbeat_timeout_s=args.heartbeat_timeout,
        close_timeout=120.0,
    )
    print("JOB", run.job_id, flush=True)
    with run:
        for step in range(args.steps):
            if step == args.hang_at:
                print("HANG", flush=True)
                time.sleep(3600)
            run.log(values(step), step=step)
            if step % 100 == 0:
                run.progress(step + 1, stage=f"step {step + 1}")
            if args.pause_every and step % args.pause_every == 0:
                time.sleep(args.pause_s)
    client.close()
    print("DONE", run.dropped, flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
