"""``realtime-nb bench``: run the performance harness in ``benchmarks/`` of the checkout.

The harness lives beside the package, not inside it (it starts servers and client processes
and needs the source tree), so this module only finds it and runs it in a child process.
See docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_bench_parser", "benchmarks_dir", "run_bench_command"]


def benchmarks_dir() -> Path | None:
    """The ``benchmarks/`` folder of the checkout this package runs from, or None."""
    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    return folder if (folder / "run.py").is_file() else None


def add_bench_parser(subparsers: Any) -> None:
    """Add the ``bench`` command to the ``realtime-nb`` parser's subcommands.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.
    """
    bench: argparse.ArgumentParser = subparsers.add_parser(
        "bench", help="measure throughput, fan-out, latency, memory and pipeline overhead"
    )
    bench.add_argument(
        "--size",
        choices=["small", "full"],
        default="full",
        help="small runs in seconds (a smoke test); full gives the published figures",
    )
    bench.add_argument("--json", type=Path, default=None, help="write the results here")
    bench.add_argument("--png", type=Path, default=None, help="write a bar chart here")
    bench.add_argument(
        "--only",
        default="",
        help=(
            "comma-separated subset: throughput, fanout, zero_loss, latency, crowd, memory, "
            "pipeline, readers, widget, experiment, dask"
        ),
    )


def run_bench_command(args: argparse.Namespace) -> int:
    """Run the harness with the parsed ``bench`` arguments; return its exit status.

    Args:
        args: Parsed arguments with ``size``, ``json``, ``png`` and ``only``.
    """
    folder = benchmarks_dir()
    if folder is None:
        print(
            "realtime-nb bench needs the source checkout (its benchmarks/ folder); "
            "it is not part of the installed package",
            file=sys.stderr,
        )
        return 2
    argv = [sys.executable, str(folder / "run.py"), "--size", args.size]
    if args.json is not None:
        argv += ["--json", str(Path(args.json).resolve())]
    if args.png is not None:
        argv += ["--png", str(Path(args.png).resolve())]
    if args.only:
        argv += ["--only", args.only]
    return subprocess.call(argv)
