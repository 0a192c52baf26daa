"""Run every benchmark, each beside a raw baseline measured in the same run.

Servers and measurement clients are separate processes on 127.0.0.1 (ephemeral ports); every
child is started in its own session and killed on exit, also when something fails. Every step is
bounded in message count and in time.

Usage: python benchmarks/run.py [--size small|full] [--json PATH] [--png PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NOOPS = 50
"""Frame messages per frame in the throughput jobs (the bench_noop_* plugins)."""
TINY = "synthetic://match?seconds={seconds}&fps=100&width=64&height=64&noise=0&players_per_team=0"
FOOTBALL = ["pitch_detection", "player_detection", "ball_detection"]
ENDED = {"completed", "failed", "cancelled", "interrupted"}


@dataclass(frozen=True)
class Size:
    """How much each benchmark does."""

    throughput_frames: int  # x NOOPS messages
    fanout_processes: int
    fanout_connections: int  # per process
    fanout_frames: int  # x NOOPS messages to every connection
    latency_messages: int
    memory_frames: int  # x NOOPS messages
    pipeline_seconds: float  # of 25 fps 1280x720 video
    timeout: float  # per step
    widget_frames: int  # x 21 messages fed to the overlay's client


SIZES = {
    "small": Size(40, 2, 5, 10, 300, 200, 0.4, 60, 1000),
    "full": Size(4000, 4, 25, 200, 10_000, 20_000, 4.0, 300, 10_000),
}


@dataclass
class Row:
    """One line of the table."""

    figure: str
    unit: str
    ours: float | None
    baseline: float | None
    target: str
    passed: bool | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline


# --- processes ---------------------------------------------------------------------------------


class Children:
    """Every child process of the run; :meth:`kill_all` ends their whole process groups.

    Their stderr (access logs, tracebacks) goes to one file, shown only when the run fails.
    """

    def __init__(self, log_path: Path) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.log_path = log_path
        self._log = log_path.open("ab")

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=HERE,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()

    def kill_all(self) -> None:
        for proc in self.procs:
            self.kill(proc)
        self.procs.clear()
        self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the children wrote to stderr, access logs left out."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join([line for line in text if "tornado.access" not in line][-lines:])


def read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The next stdout line of ``proc``, waiting at most ``timeout`` seconds."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError(f"no output from {proc.args!r} in {timeout} s")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{proc.args!r} exited with {proc.wait(10)}")
    return line.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def http(url: str, method: str = "GET", body: Any = None, token: str | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"token {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


class OurServer:
    """``realtime-nb serve`` with the bench plugins, in a child process."""

    def __init__(self, children: Children, data_dir: Path, timeout: float) -> None:
        self.port, self.token = free_port(), "bench-token"
        self.url = f"http://127.0.0.1:{self.port}"
        pythonpath = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
        self.proc = children.start(
            [
                sys.executable, "-m", "realtime_nb.cli", "serve",
                "--port", str(self.port), "--token", self.token,
                "--data-dir", str(data_dir), "--plugins-from", "bench_plugins",
            ],
            env={"PYTHONPATH": pythonpath, "BENCH_PACE_HZ": "1000"},
        )  # fmt: skip
        wait_until(self._up, timeout, "our server")

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError("our server exited")
        try:
            return bool(http(self.url + "/v1/health", token=self.token))
        except OSError:
            return False

    @property
    def ws_url(self) -> str:
        # batch=1, as realtime_nb's own client asks: several messages per WebSocket frame
        return f"ws://127.0.0.1:{self.port}/v1/realtime?token={self.token}&batch=1"

    def submit(self, source: str, plugins: list[str]) -> str:
        record = http(
            self.url + "/v1/jobs", "POST", {"source": source, "plugins": plugins}, self.token
        )
        job_id: str = record["job_id"]
        return job_id

    def status(self, job_id: str) -> str:
        status: str = http(f"{self.url}/v1/jobs/{job_id}", token=self.token)["status"]
        return status

    def stored_end(self, job_id: str) -> str | None:
        """The job's final status once its terminal ``job`` message is in the store, else None.

        REST reports a job completed before the store has written its backlog; the terminal
        message is emitted only after that flush, so this is when the job's work is all done.
        """
        url = f"{self.url}/v1/jobs/{job_id}/events?since_seq=0&limit=10000"
        for event in reversed(http(url, token=self.token)["events"]):
            if event["type"] == "job" and event["payload"]["status"] in ENDED:
                status: str = event["payload"]["status"]
                return status
        return None

    def wait_job(
        self, job_id: str, timeout: float, sample: Callable[[], object] | None = None
    ) -> None:
        """Wait for the job's stored end, calling ``sample`` (if given) every poll."""

        def ended() -> str | None:
            if sample is not None:
                sample()
            return self.stored_end(job_id)

        status = wait_until(ended, timeout, job_id)
        if status != "completed":
            raise RuntimeError(f"job {job_id} ended {status}")


class BareServer:
    """The bare Tornado baseline server, in a child process."""

    def __init__(self, children: Children, timeout: float) -> None:
        self.port = free_port()
        self.proc = children.start([sys.executable, str(HERE / "bare_server.py"), str(self.port)])
        read_line(self.proc, timeout)
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"

    def start(self, n: int, hz: float = 0, stamp: bool = False) -> None:
        query = f"n={n}&hz={hz}&stamp={int(stamp)}"
        http(f"http://127.0.0.1:{self.port}/start?{query}", "POST", {})


@contextlib.contextmanager
def clients(
    children: Children, url: str, processes: int, timeout: float, *args: str
) -> Iterator[list[subprocess.Popen[str]]]:
    """Start measurement client processes and wait until each is connected."""
    procs = [
        children.start(
            [sys.executable, str(HERE / "clients.py"), url, "--timeout", str(timeout), *args]
        )
        for _ in range(processes)
    ]
    for proc in procs:
        line = read_line(proc, timeout)
        if line != "ready":
            raise RuntimeError(f"client said {line!r}")
    yield procs


def collect(procs: list[subprocess.Popen[str]], timeout: float) -> dict[str, Any]:
    """Merge the reports of client processes: total count, first and last receive times."""
    reports = [json.loads(read_line(proc, timeout + 10)) for proc in procs]
    if not all(r["ok"] and r["count"] for r in reports):
        raise RuntimeError(f"a client timed out or got nothing: {[r['count'] for r in reports]}")
    merged: dict[str, Any] = {
        "count": sum(r["count"] for r in reports),
        "first": min(r["first"] for r in reports),
        "last": max(r["last"] for r in reports),
        "latency_ms": [x for r in reports for x in r.get("latency_ms", [])],
    }
    merged["rate"] = merged["count"] / max(merged["last"] - merged["first"], 1e-9)
    return merged


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --- benchmarks --------------------------------------------------------------------------------


def _noop_plugins() -> list[str]:
    return [f"bench_noop_{i}" for i in range(NOOPS)]


def fan(
    children: Children,
    ours: OurServer,
    bare: BareServer,
    size: Size,
    procs: int,
    conns: int,
    frames: int,
) -> tuple[float, float, float]:
    """Deliveries/s of ``frames`` x NOOPS frame messages to procs x conns connections, ours and
    bare, and the fraction of ours that was delivered (the rest was shed for slow readers)."""
    n = frames * NOOPS
    args = ("--connections", str(conns), "--expect", str(n))
    with clients(children, ours.ws_url, procs, size.timeout, *args) as ps:
        job_id = ours.submit(TINY.format(seconds=frames / 100), _noop_plugins())
        got = collect(ps, size.timeout)
    ours.wait_job(job_id, size.timeout)
    with clients(children, bare.ws_url, procs, size.timeout, *args) as ps:
        bare.start(n)
        bare_rate = collect(ps, size.timeout)["rate"]
    return got["rate"], bare_rate, got["count"] / (n * procs * conns)


def bench_throughput(children: Children, ours: OurServer, bare: BareServer, size: Size) -> Row:
    o, b, got = fan(children, ours, bare, size, 1, 1, size.throughput_frames)
    n = size.throughput_frames * NOOPS
    note = f"{n:,} msgs, {got:.0%} delivered"
    return Row("throughput, 1 client", "msgs/s", o, b, ">= 0.6x bare", o >= 0.6 * b, note)


def bench_fanout(children: Children, ours: OurServer, bare: BareServer, size: Size) -> Row:
    procs, conns = size.fanout_processes, size.fanout_connections
    o, b, got = fan(children, ours, bare, size, procs, conns, size.fanout_frames)
    n = size.fanout_frames * NOOPS
    return Row(
        f"fan-out, {procs * conns} clients",
        "deliveries/s",
        o,
        b,
        ">= 0.5x bare",
        o >= 0.5 * b,
        f"{n:,} msgs x {procs * conns} ({procs} procs), {got:.0%} delivered",
    )


def bench_latency(children: Children, ours: OurServer, bare: BareServer, size: Size) -> list[Row]:
    n = size.latency_messages
    args = ("--mode", "latency", "--expect", str(n))
    with clients(children, ours.ws_url, 1, size.timeout, *args) as ps:
        job_id = ours.submit(TINY.format(seconds=n / 100), ["bench_pace"])
        mine = collect(ps, size.timeout)["latency_ms"]
    ours.wait_job(job_id, size.timeout)
    with clients(children, bare.ws_url, 1, size.timeout, *args) as ps:
        bare.start(n, hz=1000, stamp=True)
        theirs = collect(ps, size.timeout)["latency_ms"]
    rows = []
    for q, limit in ((50, None), (95, 5.0), (99, 15.0)):
        o, b = percentile(mine, q), percentile(theirs, q)
        rows.append(
            Row(
                f"latency p{q}, 1,000 msgs/s",
                "ms",
                o,
                b,
                f"<= {limit:g} ms" if limit else "-",
                o <= limit if limit else None,
                f"{n:,} msgs, event -> reduce()",
            )
        )
    return rows


def bench_memory(children: Children, data_dir: Path, size: Size) -> list[Row]:
    """Server RSS while a job emits ``memory_frames`` x 50 messages to one stalled client, and
    the job's duration beside the same job with no client at all (a job never waits for one)."""
    server = OurServer(children, data_dir, size.timeout)
    source = TINY.format(seconds=size.memory_frames / 100)
    warm = server.submit(TINY.format(seconds=0.2), _noop_plugins())  # load what a job loads
    server.wait_job(warm, size.timeout)
    t0 = time.monotonic()
    server.wait_job(server.submit(source, _noop_plugins()), 3 * size.timeout)
    alone_s = time.monotonic() - t0
    with clients(children, server.ws_url, 1, 3 * size.timeout, "--mode", "stall"):
        before = rss_mb(server.proc.pid)
        peaks = [before]
        t0 = time.monotonic()
        job_id = server.submit(source, _noop_plugins())
        server.wait_job(job_id, 3 * size.timeout, lambda: peaks.append(rss_mb(server.proc.pid)))
        stalled_s = time.monotonic() - t0
        peak = max(peaks)
    children.kill(server.proc)
    n = size.memory_frames * NOOPS
    growth = peak - before
    return [
        Row(
            "server RSS growth, 1 stalled client",
            "MB",
            growth,
            None,
            "< 50 MB",
            growth < 50,
            f"{n:,} msgs; {before:.0f} -> {peak:.0f} MB",
        ),
        Row(
            "job time with a stalled client",
            "s",
            stalled_s,
            alone_s,
            "<= 1.25x no client",
            stalled_s <= 1.25 * alone_s,
            f"{n:,} msgs; baseline: the same job with no client",
        ),
    ]


def bench_pipeline(children: Children, ours: OurServer, size: Size) -> Row:
    """Frames/s of the football pipeline through the system and in a plain loop: best of two
    interleaved rounds each, so a neighbour's burst on a shared machine does not pick a side."""
    seconds = size.pipeline_seconds
    clip = "synthetic://match?seconds={}&fps=25&width=1280&height=720&seed=1"
    source, warmup = clip.format(seconds), clip.format(0.12)
    ours.wait_job(ours.submit(warmup, FOOTBALL), size.timeout)
    frames = round(seconds * 25)
    expect = frames * len(FOOTBALL)
    ours_fps, loop_fps = 0.0, 0.0
    for _ in range(2):
        with clients(children, ours.ws_url, 1, size.timeout, "--expect", str(expect)) as ps:
            t0 = time.time()
            job_id = ours.submit(source, FOOTBALL)
            got = collect(ps, size.timeout)
        ours.wait_job(job_id, size.timeout)
        if got["count"] != expect:
            raise RuntimeError(f"pipeline client got {got['count']} of {expect} frame messages")
        ours_fps = max(ours_fps, frames / (got["last"] - t0))
        loop = children.start([sys.executable, str(HERE / "pipeline_loop.py"), source, warmup])
        loop_fps = max(loop_fps, json.loads(read_line(loop, size.timeout))["fps"])
    return Row(
        "football pipeline, 1280x720",
        "frames/s",
        ours_fps,
        loop_fps,
        ">= 0.9x loop",
        ours_fps >= 0.9 * loop_fps,
        f"{frames} frames, {len(FOOTBALL)} plugins, best of 2",
    )


def bench_widget(children: Children, size: Size) -> Row:
    """iopub comm messages per second from a real kernel while its overlay's client takes in
    more than 20,000 messages per second from a real server (benchmarks/widget_budget.py). The
    intake is judged by its busiest second: the mean includes the job's start and end, and on
    this shared machine the kernel's share of the CPU sets the rate."""
    child = children.start(
        [sys.executable, str(HERE / "widget_budget.py"), str(size.widget_frames)]
    )
    got = json.loads(read_line(child, size.timeout))
    return Row(
        "widget budget, 20,000 msgs/s in",
        "comm msgs/s",
        float(got["comm_per_s_peak"]),
        None,
        "<= 100/s with >= 20,000 msgs/s in its busiest second",
        got["comm_per_s_peak"] <= 100 and got["peak_1s"] >= 20_000,
        f"{got['messages']:,} msgs through the server, {got['rate']:,.0f}/s mean, "
        f"{got['peak_1s']:,}/s busiest second, {got['shed']:,} shed; mean "
        f"{got['comm_per_s_mean']:.0f} comm msgs/s",
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
                ("latency", lambda: bench_latency(children, ours, bare, size)),
                ("memory", lambda: bench_memory(children, Path(tmp) / "memory", size)),
                ("pipeline", lambda: bench_pipeline(children, ours, size)),
                ("widget", lambda: bench_widget(children, size)),
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
    only = set(filter(None, args.only.split(","))) or None
    rows = run(SIZES[args.size], only)
    print(table(rows))
    if args.json is not None:
        report = {
            "date": started,
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
