"""Run every benchmark, each beside a raw baseline measured in the same run.

Servers and measurement clients are separate processes on 127.0.0.1 (ephemeral ports); every
child is started in its own session and killed on exit, also when something fails. Every step is
bounded in message count and in time.

Usage: python benchmarks/run.py [--size small|full] [--json PATH] [--png PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ is not a package
from delivery_rows import (
    bench_crowd_latency,
    bench_fanout,
    bench_latency,
    bench_throughput,
    bench_zero_loss,
)
from harness import HERE, SIZES, BareServer, Children, OurServer, Row, Size
from job_rows import (
    bench_dask,
    bench_experiment,
    bench_memory,
    bench_pipeline,
    bench_readers,
    bench_widget,
)

# --- output ------------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def table(rows: list[Row]) -> str:
    head = ("figure", "unit", "ours", "baseline", "ratio", "target", "result", "note")
    lines = [
        (
            r.figure,
            r.unit,
            _fmt(r.ours),
            _fmt(r.baseline),
            f"{r.ratio:.2f}" if r.ratio is not None else "-",
            r.target,
            {True: "PASS", False: "FAIL", None: "n/a"}[r.passed],
            r.note,
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]
    out = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)) + " |"]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    return "\n".join(out)


def chart(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.ours is not None]
    cols = 3
    fig, axes = plt.subplots(
        (len(shown) + cols - 1) // cols, cols, figsize=(12, 3.2 * ((len(shown) + 2) // 3))
    )
    for ax, row in zip(axes.flat, shown, strict=False):
        labels = ["ours"] + (["baseline"] if row.baseline is not None else [])
        values = [row.ours] + ([row.baseline] if row.baseline is not None else [])
        colour = {True: "tab:green", False: "tab:red", None: "tab:blue"}[row.passed]
        ax.bar(labels, values, color=[colour, "tab:gray"][: len(values)])
        ax.set_title(f"{row.figure}\n({row.target})", fontsize=9)
        ax.set_ylabel(row.unit, fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --- main --------------------------------------------------------------------------------------


def run(size: Size, only: set[str] | None = None) -> list[Row]:
    """Run the benchmarks (all, or those named in ``only``) and return the table rows."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="realtime-nb-bench-") as tmp:
        children = Children(Path(tmp) / "children.log")
        try:
            ours = OurServer(children, Path(tmp) / "data", size.timeout)
            bare = BareServer(children, size.timeout)
            steps: list[tuple[str, Callable[[], Row | list[Row]]]] = [
                ("throughput", lambda: bench_throughput(children, ours, bare, size)),
                ("fanout", lambda: bench_fanout(children, ours, bare, size)),
                ("zero_loss", lambda: bench_zero_loss(children, ours, bare, size)),
                ("latency", lambda: bench_latency(children, ours, bare, size)),
                ("crowd", lambda: bench_crowd_latency(children, ours, size)),
                ("memory", lambda: bench_memory(children, Path(tmp) / "memory", size)),
                ("pipeline", lambda: bench_pipeline(children, ours, size)),
                ("readers", lambda: bench_readers(children, Path(tmp) / "readers", size)),
                ("widget", lambda: bench_widget(children, size)),
                ("experiment", lambda: bench_experiment(children, ours, size)),
                ("dask", lambda: bench_dask(children, size)),
            ]
            for name, step in steps:
                if only and name not in only:
                    continue
                print(f"... {name}", file=sys.stderr, flush=True)
                result = step()
                rows.extend(result if isinstance(result, list) else [result])
        except Exception:
            print("child processes' stderr (tail):\n" + children.log_tail(), file=sys.stderr)
            raise
        finally:
            children.kill_all()
    return rows


def _commit() -> str:
    """The checkout's commit, with ``+`` when the working tree has changes; ``?`` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=HERE, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"
    return (head + ("+" if dirty else "")) or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--json", type=Path, default=None, help="write the rows here")
    parser.add_argument("--png", type=Path, default=None, help="write a bar chart here")
    parser.add_argument("--only", default="", help="comma-separated subset of benchmarks")
    args = parser.parse_args(argv)

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)  # unwinds through run()'s finally: children are killed

    signal.signal(signal.SIGTERM, on_term)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loadavg = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    only = set(filter(None, args.only.split(","))) or None
    rows = run(SIZES[args.size], only)
    print(table(rows))
    if args.json is not None:
        report = {
            "date": started,
            "commit": _commit(),
            "loadavg": loadavg,
            "command": " ".join(
                ["realtime-nb bench", *(argv if argv is not None else sys.argv[1:])]
            ),
            "size": args.size,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    if args.png is not None:
        chart(rows, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
