"""Shared fixtures: a real server on an ephemeral 127.0.0.1 port, per test."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tornado.websocket import WebSocketClientConnection

from realtime_nb.plugins.registry import PluginRegistry
from realtime_nb.server import EmbeddedServer, ServerConfig


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
