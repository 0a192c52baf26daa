"""The ``realtime-nb`` command: ``serve``, ``run``, ``demo``, ``eval``, ``bench``.

realtime-nb serve [--host 127.0.0.1] [--port 8765] [--token T] [--data-dir DIR]
                  [--allow-root DIR]... [--plugins-from MODULE|FILE.py]...
                  [--executor process|thread|dask] [--workers N] [--worker-memory 2GB]
                  [--frame-timeout 30] [--resume-interrupted]
                  [--max-waiting-jobs 1000] [--max-store-size 10GB]
                  [--dask-scheduler tcp://host:8786 | --dask-workers N] [--dask-server-url URL]
                  [--dask-chunk-frames N] [--limit NAME=N]...
realtime-nb run SOURCE --plugins a,b [--server URL --token T] [--output out.mp4]
                [--data-dir DIR]
realtime-nb demo [--dir DIR]
realtime-nb eval [--seeds 101,202,303] [--seconds 4] [--width 640] [--height 360]
                 [--knobs JSON]... [--no-held-out | --tuning] [--row LABEL]... [--no-fps] [--json]
realtime-nb eval --broadcast [1,2,...] [--seconds 4] [--no-fps] [--json]
realtime-nb eval --broadcast-tuning 300-319 [--like CLIP] [--jobs N] [--seconds 4]
                 [--no-fps] [--json]
realtime-nb eval --real [--real-seeds 11,12] [--json]
realtime-nb bench [--size small|full] [--only throughput,fanout,...] [--json F] [--png F]

Ctrl-C during ``run`` cancels the job (on a remote server too) and exits with status 130.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from realtime_nb.bench import add_bench_parser, run_bench_command
from realtime_nb.notebook.client import ApiError, Job, RealtimeClient
from realtime_nb.server.app import EmbeddedServer, ServerConfig, default_data_dir, start_server
from realtime_nb.server.jobs import DEFAULT_MAX_WAITING
from realtime_nb.server.limits import Limits, exposure_problem
from realtime_nb.server.store import StoreUnavailable
from realtime_nb.vision.evaluation import add_eval_parser, run_eval_command
from realtime_nb.vision.plugins.registry import PluginLoadError, load_plugin_module
from realtime_nb.vision.synthetic import synthetic_match
from realtime_nb.vision.video_writer import write_video
from realtime_nb.worker.dask_executor import DaskUnavailableError
from realtime_nb.worker.executors import DEFAULT_FRAME_TIMEOUT_S

__all__ = ["main"]

DEMO_SOURCE = "synthetic://match?seconds=4&fps=25&width=640&height=360&seed=1"
DEMO_PLUGINS = "pitch_detection,player_detection,ball_detection"
CANCEL_WAIT_S = 5.0
"""How long Ctrl-C on ``run`` waits for the cancelled job to stop before exiting."""


_SIZE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_SIZE_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "K": 2**10, "M": 2**20}
_SIZE_UNITS |= {"G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """A size like ``2GB``, ``512MiB`` or ``1073741824``, in bytes.

    Raises:
        argparse.ArgumentTypeError: Not a size.

    Example:
        >>> parse_size("2GB"), parse_size("512MiB"), parse_size("1.5G")
        (2000000000, 536870912, 1610612736)
    """
    number = text.strip().upper().rstrip()
    unit = number.lstrip("0123456789.").strip()
    digits = number[: len(number) - len(unit)].strip() if unit else number
    try:
        value = float(digits) * _SIZE_UNITS[unit]
    except (KeyError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a size; write it like 2GB, 512MB or 1.5GiB"
        ) from None
    if value < 64 * 2**20:
        raise argparse.ArgumentTypeError(f"{text!r} is too small for a worker (64 MiB at least)")
    return int(value)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="realtime-nb", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--token", default=os.environ.get("REALTIME_NB_TOKEN"))
    serve.add_argument("--data-dir", type=Path, default=None)
    serve.add_argument("--allow-root", type=Path, action="append", default=[])
    serve.add_argument("--ping-interval", type=float, default=30.0)
    serve.add_argument(
        "--plugins-from",
        action="append",
        default=[],
        metavar="MODULE_OR_FILE",
        help="load plugins first: a module name (looked up in the current directory, then "
        "on the Python path) or a .py file; its @register_plugin classes are offered; "
        "repeatable",
    )
    serve.add_argument(
        "--resume-interrupted",
        action="store_true",
        help="resume jobs that were running when the server last stopped",
    )

    serve.add_argument(
        "--executor",
        choices=["process", "thread", "dask"],
        default="process",
        help="where jobs run: a worker process each (default), threads in the server "
        "(debugging; a crashing or hanging plugin then takes the server down), or chunks on "
        "a Dask cluster (pip install 'realtime-nb[dask]'; see docs/scaling.md)",
    )
    serve.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="ADDRESS",
        help="with --executor dask: attach to this running scheduler, e.g. tcp://host:8786",
    )
    serve.add_argument(
        "--dask-workers",
        type=int,
        default=None,
        metavar="N",
        help="with --executor dask: start a local cluster of N worker processes "
        "(default: the number of cores)",
    )
    serve.add_argument(
        "--dask-server-url",
        default=None,
        metavar="URL",
        help="with --executor dask: where workers reach this server (default: its own URL)",
    )
    serve.add_argument(
        "--dask-chunk-frames",
        type=int,
        default=None,
        metavar="N",
        help="with --executor dask: frames per chunk (default: about two chunks per worker)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 2,
        metavar="N",
        help="jobs that run at once (default: the number of cores); more wait as queued",
    )
    serve.add_argument(
        "--worker-memory",
        type=parse_size,
        default=None,
        metavar="SIZE",
        help="memory limit of each worker process, e.g. 2GB or 512MB; a job over it fails",
    )
    serve.add_argument(
        "--frame-timeout",
        type=float,
        default=DEFAULT_FRAME_TIMEOUT_S,
        metavar="SECONDS",
        help="longest one plugin call on one frame may take before its worker is killed "
        "(default %(default)g; a job's frame_timeout_s option overrides it)",
    )
    serve.add_argument(
        "--max-waiting-jobs",
        type=int,
        default=DEFAULT_MAX_WAITING,
        metavar="N",
        help="jobs that may wait for a worker; past it new jobs are refused with 429 "
        "(default %(default)d)",
    )
    serve.add_argument(
        "--max-store-size",
        type=parse_size,
        default=None,
        metavar="SIZE",
        help="largest size of the SQLite store, e.g. 10GB; past it new jobs are refused with "
        "507, as on a full disk (default: no limit)",
    )
    serve.add_argument(
        "--limit",
        action="append",
        default=[],
        type=parse_limit,
        metavar="NAME=N",
        help="change one limit on what clients send (repeatable), e.g. max_connections=64; "
        f"names: {', '.join(f.name for f in dataclasses.fields(Limits))}",
    )

    run = sub.add_parser("run", help="run one job and watch it in the terminal")
    run.add_argument("source", help="video path or synthetic://match?seconds=..")
    run.add_argument("--plugins", required=True, help="comma-separated plugin names")
    run.add_argument("--server", default=None, help="http://host:port (default: embedded)")
    run.add_argument("--token", default=os.environ.get("REALTIME_NB_TOKEN"))
    run.add_argument("--output", type=Path, default=None, help="write the annotated video here")
    run.add_argument("--data-dir", type=Path, default=None, help="embedded server's data dir")

    demo = sub.add_parser("demo", help="generate a football clip and run the pipeline on it")
    demo.add_argument("--dir", type=Path, default=Path("demo-output"))

    add_eval_parser(sub)
    add_bench_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``realtime-nb`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(dash_values_joined(sys.argv[1:] if argv is None else argv, parser))
    if args.command == "serve":
        return _serve(args)
    if args.command == "bench":
        return run_bench_command(args)
    if args.command == "eval":
        return run_eval_command(args)
    if args.command == "run":
        return _run(args.source, args.plugins, args.server, args.token, args.output, args.data_dir)
    return _demo(args.dir)


SECRET_OPTIONS = ("--token",)
"""Options whose value may start with ``-``: one ``secrets.token_urlsafe`` token in 64 does."""


def dash_values_joined(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """``--token -x`` written as ``--token=-x``, which argparse reads as the value.

    argparse takes a word that starts with ``-`` for an option, so ``--token -x`` fails with
    "expected one argument". The word after a :data:`SECRET_OPTIONS` option is its value
    unless it is an option of this command itself, so a forgotten value still gets that error.

    Example:
        >>> parser = _build_parser()
        >>> dash_values_joined(["serve", "--token", "-Zk3", "--port", "1"], parser)
        ['serve', '--token=-Zk3', '--port', '1']
        >>> dash_values_joined(["run", "x", "--token", "--server", "u"], parser)
        ['run', 'x', '--token', '--server', 'u']
    """
    options = {
        option
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for sub in action.choices.values()
        for option in sub._option_string_actions
    }
    joined: list[str] = []
    words = iter(argv)
    for word in words:
        if word in SECRET_OPTIONS:
            value = next(words, None)
            if value is not None and value.startswith("-") and value not in options:
                joined.append(f"{word}={value}")
                continue
            joined.append(word)
            if value is not None:
                joined.append(value)
            continue
        joined.append(word)
    return joined


def parse_limit(text: str) -> tuple[str, int]:
    """``NAME=N`` of ``--limit``: a field of :class:`Limits` and a whole number >= 0.

    Raises:
        argparse.ArgumentTypeError: Another name, or not a whole number.
    """
    name, _, value = text.partition("=")
    names = {f.name for f in dataclasses.fields(Limits)}
    if name not in names:
        raise argparse.ArgumentTypeError(f"no limit {name!r}; limits: {', '.join(sorted(names))}")
    if not (value.isascii() and value.isdigit()):
        raise argparse.ArgumentTypeError(f"{name} must be a whole number, got {value!r}")
    return name, int(value)


def _serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    problem = exposure_problem(args.host, args.token)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr, flush=True)
        return 2
    for spec in args.plugins_from:
        try:
            names = load_plugin_module(spec)
        except PluginLoadError as exc:
            print(f"error: --plugins-from: {exc}", file=sys.stderr)
            return 2
        added = ", ".join(names) if names else "none new (were they registered already?)"
        print(f"plugins from {spec}: {added}", flush=True)
    config = ServerConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        data_dir=args.data_dir or default_data_dir(),
        allowed_roots=list(args.allow_root),
        ping_interval=args.ping_interval,
        resume_interrupted=args.resume_interrupted,
        executor=args.executor,
        max_workers=max(1, args.workers),
        worker_memory_bytes=args.worker_memory,
        frame_timeout_s=args.frame_timeout,
        max_waiting_jobs=max(0, args.max_waiting_jobs),
        store_max_bytes=args.max_store_size,
        dask_scheduler=args.dask_scheduler,
        dask_workers=args.dask_workers,
        dask_server_url=args.dask_server_url,
        dask_chunk_frames=args.dask_chunk_frames,
        limits=dataclasses.replace(Limits(), **dict(args.limit)),
    )
    dask_flags = (
        args.dask_scheduler,
        args.dask_workers,
        args.dask_server_url,
        args.dask_chunk_frames,
    )
    if args.executor != "dask" and any(flag is not None for flag in dask_flags):
        print("realtime-nb serve: the --dask-* options need --executor dask", file=sys.stderr)
        return 2
    if args.dask_scheduler is not None and args.dask_workers is not None:
        print(
            "realtime-nb serve: give --dask-scheduler (attach) or --dask-workers (start a "
            "local cluster), not both",
            file=sys.stderr,
        )
        return 2

    async def serve() -> None:
        try:
            server = await start_server(config)
        except (StoreUnavailable, DaskUnavailableError) as exc:
            print(f"realtime-nb serve: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None
        # The link opens GET /, which lists the API (the access log hides the token).
        print(f"realtime_nb serving at {server.url}/?token={server.token}", flush=True)
        print(f"  token: {server.token}", flush=True)
        print(f"  data dir: {Path(config.data_dir).resolve()}", flush=True)
        print(f"  allowed roots: {', '.join(map(str, config.resolved_roots()))}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("shutting down", flush=True)
        await server.stop()

    asyncio.run(serve())
    return 0


def _run(
    source: str,
    plugins: str,
    server_url: str | None,
    token: str | None,
    output: Path | None,
    data_dir: Path | None,
) -> int:
    embedded: EmbeddedServer | None = None
    if server_url is None:
        config = ServerConfig(port=0, data_dir=data_dir or default_data_dir())
        embedded = EmbeddedServer(config).start()
        server_url, token = embedded.url, embedded.token
    if not token:
        print("error: --token (or REALTIME_NB_TOKEN) is needed with --server", file=sys.stderr)
        return 2
    job: Job | None = None
    try:
        with RealtimeClient(server_url, token).start() as client:
            names = [p.strip() for p in plugins.split(",") if p.strip()]
            options: dict[str, Any] = {"annotate_video": output is not None}
            try:
                job = client.submit(source, names, options)
            except ApiError as exc:
                print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
                return 2
            # The id first: whatever happens next, the user can find the job again.
            print(f"job {job.job_id} submitted to {server_url}", flush=True)
            record = _watch(job)
            saved = _save_output(client, record, output) if output is not None else None
            print(_summary(job, record, saved))
            return 0 if record["status"] == "completed" else 1
    except KeyboardInterrupt:
        return _interrupted(job)
    finally:
        if embedded is not None:
            embedded.stop()


def _interrupted(job: Job | None) -> int:
    """Ctrl-C: cancel the job rather than leave it running unwatched, say so, status 130."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup
    print(file=sys.stderr)
    if job is None:
        print("interrupted before a job was submitted", file=sys.stderr)
        return 130
    rest = job.client.rest
    try:
        rest.cancel_job(job.job_id)
        # Wait (briefly) for the job to stop, so an embedded server is not shut down under it.
        deadline = time.monotonic() + CANCEL_WAIT_S
        while rest.get_job(job.job_id)["status"] in ("queued", "running"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        print(f"interrupted: cancelled job {job.job_id}", file=sys.stderr)
    except ApiError as exc:
        print(f"interrupted: job {job.job_id} not cancelled: {exc.message}", file=sys.stderr)
    return 130


def _watch(job: Job) -> dict[str, Any]:
    """Print progress until the job ends; return its final record."""
    tty = sys.stdout.isatty()
    last_line = ""
    while not job.state.finished:
        s = job.state
        line = f"{job.job_id}  {s.progress:5.1f}%  {s.stage or 'waiting'}  [{s.connection.lower()}]"
        if tty:
            print("\r" + line.ljust(len(last_line)), end="", flush=True)
        elif int(s.progress) // 10 != int(_progress_of(last_line)) // 10:
            print(line, flush=True)
        last_line = line
        with contextlib.suppress(TimeoutError):
            job.client.wait_for(job.job_id, timeout=0.2)
    if tty:
        print()
    return job.record()


def _progress_of(line: str) -> float:
    try:
        return float(line.split()[1].rstrip("%"))
    except (IndexError, ValueError):
        return -1.0


def _save_output(client: RealtimeClient, record: dict[str, Any], output: Path) -> Path | None:
    """Copy (local server) or download the annotated video to ``output``."""
    path = record.get("output_path")
    output.parent.mkdir(parents=True, exist_ok=True)
    if path and Path(path).is_file():
        shutil.copyfile(path, output)
        return output
    req = urllib.request.Request(f"{client.url}/v1/jobs/{record['job_id']}/video")
    req.add_header("Authorization", f"token {client.token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            output.write_bytes(resp.read())
    except OSError as exc:
        print(f"warning: could not fetch the annotated video: {exc}", file=sys.stderr)
        return None
    return output


def _summary(job: Job, record: dict[str, Any], output: Path | None) -> str:
    """One screen: frames, plugins and their timings, warnings, errors, output."""
    s = job.state
    frames, total = record.get("frames_done", 0), record.get("frames_total")
    short = record["status"] == "completed" and total is not None and frames < total
    note = f"  (only {frames} of the {total} announced frames decoded)" if short else ""
    lines = [
        "",
        f"job {record['job_id']}: {record['status']}",
        f"  source   {record['source']}",
        f"  frames   {frames}/{total}{note}",
        f"  messages {s.messages_received} received (last seq {s.last_seq}), dropped {s.dropped}",
        "  plugins",
    ]
    for name in record["plugins"]:
        stats = s.frame_timings.get(name)
        total = s.plugin_timings.get(name, 0.0)
        mean = stats.mean_ms if stats else 0.0
        fps = 1000.0 / mean if mean else 0.0
        lines.append(
            f"    {name:<20} {s.plugin_status.get(name, '?'):<10} total {total:8.1f} ms  "
            f"mean {mean:6.2f} ms/frame  ({fps:6.1f} fps)"
        )
    lines.append(f"  warnings {s.warnings_count}")
    by_kind: dict[tuple[str, str, str], int] = {}
    for w in s.warnings:
        key = (w.plugin, w.severity, w.message)
        by_kind[key] = by_kind.get(key, 0) + 1
    for (plugin, severity, message), n in sorted(by_kind.items()):
        lines.append(f"    {plugin} [{severity}] {message} x{n}")
    lines.append(f"  errors   {s.errors_count}")
    for e in s.errors[-5:]:
        lines.append(f"    {e.plugin or 'job'}: {e.error}")
    if record.get("error"):
        lines.append(f"  failure  {record['error']}")
    lines.append(f"  video    {output.resolve() if output else '(not written)'}")
    return "\n".join(lines)


def _demo(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    clip = directory / "match.mp4"
    t0 = time.perf_counter()
    write_video(synthetic_match(seconds=4, fps=25, width=640, height=360, seed=1), clip, 25)
    print(f"wrote a 4 s synthetic football clip to {clip} ({time.perf_counter() - t0:.1f} s)")
    return _run(
        str(clip.resolve()),
        DEMO_PLUGINS,
        None,
        None,
        directory / "annotated.mp4",
        directory,
    )


if __name__ == "__main__":
    raise SystemExit(main())
