"""What every benchmark shares: sizes, table rows, child processes, servers and clients.

Servers and measurement clients are separate processes on 127.0.0.1 (ephemeral ports); every
child is started in its own session and killed on exit (:class:`Children`). Every step is
bounded in message count and in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

NOOPS = 50
"""Frame messages per frame in the throughput jobs (the bench_noop_* plugins)."""
TINY = "synthetic://match?seconds={seconds}&fps=100&width=64&height=64&noise=0&players_per_team=0"
FOOTBALL = ["pitch_detection", "player_detection", "ball_detection"]
ENDED = {"completed", "failed", "cancelled", "interrupted"}
PACED_MSGS = 10
"""Frame messages per frame in the paced jobs (``bench_pace_<F>`` and 9 noops)."""


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
    paced_seconds: float  # of each rate tried by the zero-loss search
    ladder_rungs: int  # most rates the zero-loss search tries
    experiment_iterations: int  # of a 100 µs loop body, per round
    experiment_points: int  # logged at full speed for the ingest rate


SIZES = {
    "small": Size(40, 2, 5, 10, 300, 200, 0.4, 60, 1000, 0.5, 2, 2_000, 20_000),
    "full": Size(4000, 4, 25, 200, 10_000, 20_000, 4.0, 300, 10_000, 3.0, 12, 10_000, 500_000),
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

    def start_with_stdin(self, argv: list[str]) -> subprocess.Popen[str]:
        """Like :meth:`start`, with a pipe to the child's stdin (for commands)."""
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
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


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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

    def __init__(self, children: Children, data_dir: Path, timeout: float, *extra: str) -> None:
        self.port, self.token = free_port(), "bench-token"
        self.url = f"http://127.0.0.1:{self.port}"
        pythonpath = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
        self.proc = children.start(
            [
                sys.executable, "-m", "realtime_nb.cli", "serve",
                "--port", str(self.port), "--token", self.token,
                "--data-dir", str(data_dir), "--plugins-from", "bench_plugins", *extra,
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

    def start(self, n: int, hz: float = 0, stamp: bool = False, burst: int = 1) -> None:
        query = f"n={n}&hz={hz}&stamp={int(stamp)}&burst={burst}"
        http(f"http://127.0.0.1:{self.port}/start?{query}", "POST", {})


class BroadcastServer:
    """The python-websockets ``broadcast()`` baseline server, in a child process."""

    def __init__(self, children: Children, timeout: float) -> None:
        self.port = free_port()
        self.proc = children.start_with_stdin(
            [sys.executable, str(HERE / "broadcast_server.py"), str(self.port)]
        )
        read_line(self.proc, timeout)
        self.ws_url = f"ws://127.0.0.1:{self.port}/"

    def start(self, n: int, hz: float, burst: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"start {n} {hz} {burst}\n")
        self.proc.stdin.flush()


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


def collect(
    procs: list[subprocess.Popen[str]], timeout: float, strict: bool = True
) -> dict[str, Any]:
    """Merge the reports of client processes: total count, first and last receive times; with
    ``strict``, fail unless every client finished in time and got something."""
    reports = [json.loads(read_line(proc, timeout + 10)) for proc in procs]
    if strict and not all(r["ok"] and r["count"] for r in reports):
        raise RuntimeError(f"a client timed out or got nothing: {[r['count'] for r in reports]}")
    merged: dict[str, Any] = {
        "ok": all(r["ok"] for r in reports),
        "count": sum(r["count"] for r in reports),
        "first": min(r["first"] for r in reports),
        "last": max(r["last"] for r in reports),
        "latency_ms": [x for r in reports for x in r.get("latency_ms", [])],
    }
    merged["rate"] = merged["count"] / max(merged["last"] - merged["first"], 1e-9)
    for proc in procs:
        proc.wait(10)
    return merged


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]
