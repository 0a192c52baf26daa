"""Shared fixtures: a real server on an ephemeral 127.0.0.1 port, per test."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tornado.websocket import WebSocketClientConnection

from realtime_nb.core.protocol import (
    TERMINAL_STATUSES,
    PluginMetadata,
    PongPayload,
    encode,
    make_message,
    now_iso,
)
from realtime_nb.server.app import EmbeddedServer, ServerConfig
from realtime_nb.vision.plugins.registry import PluginRegistry

TEST_METADATA = PluginMetadata(
    version="1",
    model="test",
    input_shape=[None, None, 3],
    output_format="json",
    confidence_default=1.0,
    capabilities=["test"],
)
"""Metadata for the small plugins tests define."""

TESTS = Path(__file__).parent


@dataclass
class Http:
    """A tiny real-HTTP helper bound to one server."""

    url: str
    token: str

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = "default",
        raw: bytes | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token == "default":
            token = self.token
        if token is not None:
            req.add_header("Authorization", f"token {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, json.loads(exc.read() or b"null")


async def close_ws(ws: WebSocketClientConnection) -> None:
    """Close a client WebSocket and wait for the closing handshake, so no socket outlives the
    event loop (an unclosed one is a ResourceWarning, an error under our pytest settings)."""
    stream = getattr(ws, "stream", None)
    peer_closed = stream is None or stream.closed()
    ws.close()
    if peer_closed:
        return  # its None was already delivered; another read would wait forever
    deadline = asyncio.get_running_loop().time() + 30
    while await asyncio.wait_for(ws.read_message(), 10) is not None:  # drain what is queued
        assert asyncio.get_running_loop().time() < deadline, "socket did not close"


def pong() -> bytes:
    """A client's ``pong`` message, as the real client answers each ``ping``."""
    return encode(make_message(PongPayload(timestamp=now_iso())))


def ws_url(url: str, token: str, **params: str) -> str:
    """The realtime WebSocket URL of a server at ``url``, with query ``params``."""
    query = "&".join(f"{k}={v}" for k, v in {"token": token, **params}.items())
    return url.replace("http", "ws") + "/v1/realtime?" + query


async def read_json(ws: WebSocketClientConnection, timeout: float) -> dict[str, Any] | None:
    """Next text message (previews skipped), or None when the socket closed."""
    while True:
        raw = await asyncio.wait_for(ws.read_message(), timeout)
        if raw is None:
            return None
        if isinstance(raw, str):
            msg: dict[str, Any] = json.loads(raw)
            return msg


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[EmbeddedServer] = []

    def start(registry: PluginRegistry | None = None, **config: Any) -> EmbeddedServer:
        config.setdefault("data_dir", tmp_path / "data")
        config.setdefault("allowed_roots", [tmp_path])
        config.setdefault("port", 0)
        server = EmbeddedServer(ServerConfig(**config), registry).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(server_factory: Any) -> EmbeddedServer:
    return server_factory(ping_interval=0.5)


@pytest.fixture
def http(server: EmbeddedServer) -> Http:
    return Http(server.url, server.token)


def wait_until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServeProcess:
    """``realtime-nb serve`` in a subprocess (so it can be killed like a crash)."""

    def __init__(
        self, data: Path, port: int, token: str, *extra: str, prefix: Sequence[str] = ()
    ) -> None:
        """Start it on ``port`` (0: any free port, see :attr:`port`) and wait for health;
        ``prefix`` goes before the command (e.g. ``setpriv`` dropping capabilities)."""
        env = {**os.environ, "PYTHONPATH": str(TESTS)}
        self.log_path = data.parent / f"serve-{port}-{time.monotonic_ns()}.log"
        data.parent.mkdir(parents=True, exist_ok=True)
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                *prefix,
                sys.executable,
                "-m",
                "realtime_nb.cli",
                "serve",
                "--port",
                str(port),
                "--token",
                token,
                "--data-dir",
                str(data),
                "--plugins-from",
                "noop_plugins",
                *extra,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # port 0: the server picks a free port and prints it, so no other test can take it
        # between our choosing and its binding.
        self.port = wait_until(self._printed_port, 30, "server start")
        self.http = Http(f"http://127.0.0.1:{self.port}", token)
        wait_until(self._up, 30, "server health")

    def _printed_port(self) -> int | None:
        assert self.proc.poll() is None, self.log_path.read_text()
        match = re.search(r"serving at http://127\.0\.0\.1:(\d+)/", self.log_path.read_text())
        return int(match.group(1)) if match else None

    def _up(self) -> bool:
        assert self.proc.poll() is None, self.log_path.read_text()
        try:
            return self.http.call("GET", "/v1/health")[0] == 200
        except OSError:
            return False

    def submit(self, source: str, plugins: list[str], **options: Any) -> str:
        """Create a job (asserting 201) and return its id."""
        status, body = self.http.call(
            "POST", "/v1/jobs", {"source": source, "plugins": plugins, "options": options}
        )
        assert status == 201, body
        job_id: str = body["job_id"]
        return job_id

    def record(self, job_id: str) -> dict[str, Any]:
        """The job's record from ``GET /v1/jobs/{id}``."""
        record: dict[str, Any] = self.http.call("GET", f"/v1/jobs/{job_id}")[1]
        return record

    def ended(self, job_id: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until the job ends; its final record."""

        def check() -> dict[str, Any] | None:
            record = self.record(job_id)
            return record if record["status"] in TERMINAL_STATUSES else None

        record: dict[str, Any] = wait_until(check, timeout, f"job {job_id} to end")
        return record

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(30)
        self.log.close()


@pytest.fixture
def serve_processes() -> Iterator[list[ServeProcess]]:
    procs: list[ServeProcess] = []
    yield procs
    for proc in procs:
        proc.kill()
