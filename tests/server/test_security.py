"""Hostile input against a real server: nothing a client sends can stop it, read outside its
roots, leak its token or go unanswered. Each test is one finding of a hostile pass, through
real HTTP and WebSocket connections."""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import TEST_METADATA, Http, close_ws, read_json, wait_until, ws_url
from tornado.httpclient import HTTPClientError
from tornado.websocket import websocket_connect

from realtime_nb.core import protocol as p
from realtime_nb.server.app import EmbeddedServer
from realtime_nb.server.limits import Limits
from realtime_nb.server.store import JobStore
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PluginRegistry
from realtime_nb.vision.video_writer import write_video

SHORT = "synthetic://match?seconds=0.4&fps=10&width=160&height=90&seed=1"


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def raw_request(server: EmbeddedServer, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, no blank line) and ``body`` on a fresh socket;
    return the status and the response body."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode() + b"\r\n\r\n" + body)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    status_line, _, rest = data.partition(b"\r\n")
    _, _, content = rest.partition(b"\r\n\r\n")
    return int(status_line.split()[1]), content


def post(
    server: EmbeddedServer, body: bytes, headers: dict[str, str] | None = None, path: str = ""
) -> tuple[int, Any]:
    port = int(server.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        sent = {"Authorization": f"token {server.token}", "Content-Type": "application/json"}
        sent.update(headers or {})
        conn.request("POST", path or "/v1/jobs", body=body, headers=sent)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


# --- 1. deeply nested options ---------------------------------------------------------------


def test_deeply_nested_options_are_refused_and_the_server_keeps_answering(
    server: EmbeddedServer, http: Http
) -> None:
    body = f'{{"source": "{SHORT}", "plugins": ["motion_detection"], '
    for options in (
        f'{{"plugin_options": {{"motion_detection": {{"x": {deep(1000)}}}}}}}',
        f'{{"plugin_options": {{"motion_detection": {{"x": {deep(40)}}}}}}}',
        f'{{"annotate_video": {deep(3000)}}}',
    ):
        status, reply = post(server, (body + f'"options": {options}}}').encode())
        assert status == 400, reply
        assert reply["error"]["code"] in ("OPTION_INVALID", "MSG_INVALID")
    assert http.call("GET", "/v1/jobs")[0] == 200


def _plant_deep_record(data: Path, status: str) -> str:
    """A job record as an older server could store it: options nested 3,000 levels."""
    data.mkdir(parents=True, exist_ok=True)
    JobStore(data / "realtime_nb.sqlite3").close()
    job_id = "j-0ld0ld0ld0ld"
    record = (
        f'{{"job_id": "{job_id}", "status": "{status}", "created_at": "2026-01-01T00:00:00.000Z",'
        f' "source": "{SHORT}", "plugins": ["motion_detection"], "options": {{"x": {deep(3000)}}}}}'
    )
    with closing(sqlite3.connect(data / "realtime_nb.sqlite3")) as conn, conn:
        conn.execute(
            "INSERT INTO jobs VALUES (?, ?, ?, ?)",
            (job_id, status, "2026-01-01T00:00:00.000Z", record.encode()),
        )
    return job_id


@pytest.mark.parametrize("resume", [False, True])
def test_a_stored_record_with_deep_options_does_not_stop_a_restart(
    server_factory: Any, tmp_path: Path, resume: bool
) -> None:
    data = tmp_path / "old"
    job_id = _plant_deep_record(data, "running")
    server = server_factory(data_dir=data, resume_interrupted=resume, executor="thread")
    http = Http(server.url, server.token)
    status, body = http.call("GET", "/v1/jobs")
    assert status == 200 and [j["job_id"] for j in body["jobs"]] == [job_id]
    wanted = {"completed"} if resume else {"interrupted"}
    record = wait_until(
        lambda: (r := http.call("GET", f"/v1/jobs/{job_id}")[1])["status"] in wanted and r,
        60,
        "the old job to settle",
    )
    assert record["job_id"] == job_id
    # The value nested past what can be read is cut, not the record.
    assert isinstance(record["options"]["x"], list)


# --- 2. duplicate check ----------------------------------------------------------------------


def test_a_long_plugins_list_is_answered_at_once_and_health_keeps_answering(
    server_factory: Any,
) -> None:
    server = server_factory(limits=Limits(max_plugins_per_job=1_000_000))
    names = [f"p{i}" for i in range(60_000)] + ["p1"]
    status, body = post(server, msgspec.json.encode({"source": SHORT, "plugins": names}))
    # 60,000 names: a quadratic check would take minutes; a linear one answers in milliseconds.
    assert status == 400 and "duplicate plugins" in body["error"]["message"]
    limited = server_factory()
    status, body = post(limited, msgspec.json.encode({"source": SHORT, "plugins": names}))
    assert status == 400 and body["error"]["code"] == "PIPELINE_INVALID"
    assert "the limit is 64" in body["error"]["message"]


# --- 3. bounded memory -----------------------------------------------------------------------


def test_options_over_the_size_limit_are_refused(server: EmbeddedServer) -> None:
    options = {"plugin_options": {"motion_detection": {"blob": "x" * (70 << 10)}}}
    body = msgspec.json.encode(
        {"source": SHORT, "plugins": ["motion_detection"], "options": options}
    )
    status, reply = post(server, body)
    assert status == 400 and reply["error"]["code"] == "OPTION_INVALID"
    assert "bytes" in reply["error"]["message"]


def test_a_synthetic_source_over_the_size_limit_is_refused(server: EmbeddedServer) -> None:
    for query, what in (("width=3840&height=3840", "pixels"), ("seconds=3600&fps=120", "frames")):
        body = {"source": f"synthetic://match?{query}", "plugins": ["motion_detection"]}
        status, reply = post(server, msgspec.json.encode(body))
        assert status == 400 and reply["error"]["code"] == "SOURCE_INVALID", reply
        assert what in reply["error"]["message"]


def test_subscriptions_are_bounded_and_forgotten_on_disconnect(server_factory: Any) -> None:
    server = server_factory(limits=Limits(max_subscriptions_per_connection=2))
    http = Http(server.url, server.token)
    jobs = [
        http.call("POST", "/v1/jobs", {"source": SHORT, "plugins": ["motion_detection"]})[1][
            "job_id"
        ]
        for _ in range(3)
    ]

    def subscribe(job_id: str) -> bytes:
        return p.encode(p.make_message(p.SubscribePayload(job_id=job_id)))

    async def scenario() -> None:
        ws = await websocket_connect(ws_url(server.url, server.token, subscribe="none"))
        for job_id in ["x" * 60_000, "no-such-job", *jobs]:
            await ws.write_message(subscribe(job_id))
        answers: list[dict[str, Any]] = []
        while len([a for a in answers if a["type"] in ("error", "subscribed")]) < 5:
            msg = await read_json(ws, 30)
            assert msg is not None
            answers.append(msg)
        kinds = [
            (a["type"], a["payload"].get("code"))
            for a in answers
            if a["type"] in ("error", "subscribed")
        ]
        assert [k for k in kinds if k[0] == "error"] == [
            ("error", "MSG_INVALID"),
            ("error", "NOT_FOUND"),
            ("error", "TOO_MANY_SUBSCRIPTIONS"),
        ]
        assert sum(k[0] == "subscribed" for k in kinds) == 2
        stats = http.call("GET", "/v1/health")[1]["stats"]
        assert stats["subscribed_jobs"] == 2
        await close_ws(ws)

    asyncio.run(scenario())
    wait_until(
        lambda: http.call("GET", "/v1/health")[1]["stats"]["subscribed_jobs"] == 0,
        10,
        "the subscriber map to empty",
    )


def test_connections_are_bounded(server_factory: Any) -> None:
    server = server_factory(limits=Limits(max_connections=2))

    async def scenario() -> None:
        url = ws_url(server.url, server.token)
        first, second = await websocket_connect(url), await websocket_connect(url)
        with pytest.raises(HTTPClientError) as info:
            await websocket_connect(url)
        assert info.value.code == 429
        assert info.value.response is not None
        assert json.loads(info.value.response.body)["error"]["code"] == "TOO_MANY_CONNECTIONS"
        await close_ws(first)
        await close_ws(second)

    asyncio.run(scenario())


# --- 4 and 5. sources that refer to other files; the probe off the loop -----------------------


def test_a_playlist_inside_a_root_cannot_read_a_video_outside_it(
    server_factory: Any, tmp_path: Path
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    import numpy as np

    frames = [np.full((48, 64, 3), i * 20, np.uint8) for i in range(5)]
    secret = write_video(frames, outside / "secret.mp4", fps=5)
    playlist = (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n"
        f"#EXTINF:1.0,\nfile://{secret}\n#EXTINF:1.0,\n{secret}\n#EXT-X-ENDLIST\n"
    )
    (root / "list.m3u8").write_text(playlist)
    (root / "disguised.mp4").write_text(playlist)  # FFmpeg goes by content, not by name
    (root / "concat.txt").write_text(f"ffconcat version 1.0\nfile '{secret}'\n")
    server = server_factory(allowed_roots=[root])
    for name in ("list.m3u8", "disguised.mp4", "concat.txt"):
        body = {"source": str(root / name), "plugins": ["motion_detection"]}
        status, reply = post(server, msgspec.json.encode(body))
        assert status == 400 and reply["error"]["code"] == "SOURCE_INVALID", (name, reply)
        assert "playlist" in reply["error"]["message"]
    # The same video inside the root is fine.
    inside = write_video(frames, root / "ok.mp4", fps=5)
    status, reply = post(
        server, msgspec.json.encode({"source": str(inside), "plugins": ["motion_detection"]})
    )
    assert status == 201, reply


def test_a_playlist_pointing_at_a_fifo_stalls_nothing(server_factory: Any, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "stall.m3u8").write_text(f"#EXTM3U\n#EXTINF:1.0,\n{fifo}\n#EXT-X-ENDLIST\n")
    server = server_factory()
    http = Http(server.url, server.token)
    results: list[tuple[int, Any]] = []

    import threading

    thread = threading.Thread(
        target=lambda: results.append(
            post(
                server,
                msgspec.json.encode({"source": "stall.m3u8", "plugins": ["motion_detection"]}),
            )
        )
    )
    thread.start()
    assert http.call("GET", "/v1/health", token=None)[0] == 200
    thread.join(30)
    assert not thread.is_alive(), "the submit hung on the FIFO"
    assert results[0][0] == 400 and results[0][1]["error"]["code"] == "SOURCE_INVALID"
    status, reply = post(
        server, msgspec.json.encode({"source": str(fifo), "plugins": ["motion_detection"]})
    )
    assert status == 400 and reply["error"]["code"] == "SOURCE_NOT_FOUND"


# --- 6 and 7. tokens, the root page, cross-site requests -------------------------------------


def test_the_token_never_reaches_the_log(
    server: EmbeddedServer, http: Http, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tornado.access"):
        assert http.call("GET", f"/v1/plugins?token={server.token}", token=None)[0] == 200
        assert http.call("GET", f"/v1/jobs?limit=1&token={server.token}", token=None)[0] == 200
        assert http.call("GET", "/v1/jobs?token=wrong-guess", token=None)[0] == 401

        async def connect() -> None:
            ws = await websocket_connect(ws_url(server.url, server.token))
            await read_json(ws, 10)
            await close_ws(ws)

        asyncio.run(connect())
        wait_until(lambda: "/v1/realtime" in caplog.text, 10, "the access log line")
    assert "token=***" in caplog.text
    assert server.token not in caplog.text and "wrong-guess" not in caplog.text


def test_the_root_answers_with_links(server: EmbeddedServer, http: Http) -> None:
    status, body = http.call("GET", f"/?token={server.token}", token=None)
    assert status == 200 and body["links"]["openapi"] == "/v1/openapi.json"
    assert http.call("GET", "/", token=None)[0] == 200


def test_cross_site_job_creation_is_refused(server: EmbeddedServer, http: Http) -> None:
    body = msgspec.json.encode({"source": SHORT, "plugins": ["motion_detection"]})
    query = f"/v1/jobs?token={server.token}"
    for headers, status, code in (
        ({"Content-Type": "text/plain", "Origin": "http://evil.example"}, 403, "FORBIDDEN_ORIGIN"),
        ({"Content-Type": "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ({"Origin": "http://evil.example"}, 403, "FORBIDDEN_ORIGIN"),
        ({"Origin": "null"}, 403, "FORBIDDEN_ORIGIN"),
        ({"Origin": "http://127.0.0.1.evil.example"}, 403, "FORBIDDEN_ORIGIN"),
    ):
        got, reply = post(server, body, {"Authorization": "", **headers}, path=query)
        assert (got, reply["error"]["code"]) == (status, code), headers
    assert http.call("GET", "/v1/jobs")[1]["jobs"] == []
    host = server.url.removeprefix("http://")
    got, reply = post(server, body, {"Origin": f"http://{host}"})
    assert got == 201, reply
    status, reply = http.call("DELETE", f"/v1/jobs/{reply['job_id']}")
    assert status in (202, 409)


# --- 8. wrong codes and silence --------------------------------------------------------------


@pytest.mark.parametrize("since", ["²", "١٢", str(2**63), "9" * 40, "-1", "1e3"])
def test_a_bad_since_seq_is_400_over_rest_and_websocket(
    server: EmbeddedServer, http: Http, since: str
) -> None:
    job = http.call("POST", "/v1/jobs", {"source": SHORT, "plugins": ["motion_detection"]})[1]
    from urllib.parse import quote

    status, body = http.call("GET", f"/v1/jobs/{job['job_id']}/events?since_seq={quote(since)}")
    assert status == 400 and "since_seq" in body["error"]["message"]

    async def connect() -> None:
        with pytest.raises(HTTPClientError) as info:
            await websocket_connect(
                ws_url(server.url, server.token, job_id=job["job_id"], since_seq=quote(since))
            )
        assert info.value.code == 400

    asyncio.run(connect())
    assert not server.running.context.hub.connections


def test_a_body_over_the_limit_is_413_with_the_json_error(server: EmbeddedServer) -> None:
    head = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {server.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {100 << 20}"
    )
    status, content = raw_request(server, head, b"{" * 1000)
    assert status == 413 and json.loads(content)["error"]["code"] == "MSG_TOO_LARGE"
    chunk = b"x" * (256 << 10)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
    head = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {server.token}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked"
    )
    status, content = raw_request(server, head, chunked)
    assert status == 413 and json.loads(content)["error"]["code"] == "MSG_TOO_LARGE"


def test_a_body_a_little_over_the_limit_is_read_before_the_413(server: EmbeddedServer) -> None:
    """Answering before the body is read makes a client that is still sending see a reset."""
    body = b"x" * (2 << 20)  # twice the 1 MiB limit: read and dropped, then answered
    head = (
        f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: token {server.token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):  # no answer while the body is still to come
            sock.recv(1)
        sock.settimeout(10)
        sock.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == b"413", answer[:200]
    content = rest.split(b"\r\n\r\n", 1)[1]
    assert json.loads(content)["error"]["code"] == "MSG_TOO_LARGE"


def test_plugins_as_a_string_is_a_sentence(server: EmbeddedServer) -> None:
    status, body = post(server, b'{"source": "x", "plugins": "motion_detection"}')
    assert status == 400
    assert body["error"]["message"].startswith("invalid job request: plugins must be a list")


class Tunable(Plugin):
    """A plugin that declares options."""

    name = "tunable"
    metadata = TEST_METADATA

    class Options(msgspec.Struct, forbid_unknown_fields=True):
        level: int = 3
        mode: str = "fast"

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        return {}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"preview_interval_s": "abc"}, "preview_interval_s"),
        ({"frame_timeout_s": -1}, "frame_timeout_s"),
        ({"annotate_video": "yes"}, "annotate_video"),
        ({"colour": "red"}, "colour"),
        ({"plugin_options": {"tunable": {"level": "high"}}}, "plugin_options.tunable.level"),
        ({"plugin_options": {"tunable": {"speed": 1}}}, "speed"),
        ({"plugin_options": {"motion_detection": {"x": 1}}}, "motion_detection"),
        ({"plugin_options": {"ghost": {}}}, "ghost"),
    ],
)
def test_a_bad_option_is_a_400_that_names_it(
    server_factory: Any, options: dict[str, Any], named: str
) -> None:
    registry = PluginRegistry()
    registry.register(Tunable)
    for name in ("motion_detection",):
        from realtime_nb.vision.plugins.registry import default_registry

        registry.register(default_registry.get(name))
    server = server_factory(registry)
    body = {"source": SHORT, "plugins": ["tunable", "motion_detection"], "options": options}
    status, reply = post(server, msgspec.json.encode(body))
    assert status == 400, reply
    assert reply["error"]["code"] == "OPTION_INVALID"
    assert named in reply["error"]["message"]
    good = {"plugin_options": {"tunable": {"level": 5}}, "preview_interval_s": 0.5}
    status, reply = post(server, msgspec.json.encode({**body, "options": good}))
    assert status == 201, reply


async def _expect_error(ws: Any, code: str) -> dict[str, Any]:
    while True:
        msg = await read_json(ws, 10)
        assert msg is not None, "the connection closed"
        if msg["type"] == "error":
            assert msg["payload"]["code"] == code, msg
            assert msg["payload"]["message"]
            p.decode_server_message(json.dumps(msg))
            return msg


def test_every_bad_websocket_message_is_answered_and_the_connection_stays_usable(
    server: EmbeddedServer, http: Http
) -> None:
    job = http.call("POST", "/v1/jobs", {"source": SHORT, "plugins": ["motion_detection"]})[1]

    async def scenario() -> None:
        ws = await websocket_connect(ws_url(server.url, server.token, subscribe="none"))
        for data, code in (
            ("{not json", "MSG_INVALID_JSON"),
            (b"\x00\x01binary", "MSG_INVALID_JSON"),
            ('{"type": "launch"}', "MSG_UNKNOWN_TYPE"),
            ('{"payload": {}}', "MSG_MISSING_FIELD"),
            ('{"type": "subscribe", "payload": {}}', "MSG_MISSING_FIELD"),
            ('{"type": "subscribe"}', "MSG_MISSING_FIELD"),
            ('{"type": "subscribe", "payload": {"job_id": 5}}', "MSG_INVALID"),
            (
                f'{{"type": "subscribe", "payload": {{"job_id": "a", "since_seq": {2**64}}}}}',
                "MSG_INVALID",
            ),
            ("[" * 5000, "MSG_INVALID"),
        ):
            await ws.write_message(data, binary=isinstance(data, bytes))
            await _expect_error(ws, code)
        # No timestamp: the server stamps it; the subscription works.
        await ws.write_message(
            json.dumps({"type": "subscribe", "payload": {"job_id": job["job_id"]}})
        )
        while (msg := await read_json(ws, 30)) is not None and msg["type"] != "subscribed":
            pass
        assert msg is not None and msg["payload"]["job_id"] == job["job_id"]
        await close_ws(ws)

    asyncio.run(scenario())


def test_a_flood_of_bad_messages_closes_with_1008(server: EmbeddedServer) -> None:
    async def scenario() -> None:
        ws = await websocket_connect(ws_url(server.url, server.token))
        for _ in range(150):
            await ws.write_message("{nope")
        while await asyncio.wait_for(ws.read_message(), 10) is not None:
            pass
        assert ws.close_code == 1008
        await close_ws(ws)
        good = await websocket_connect(ws_url(server.url, server.token))
        assert (await read_json(good, 10) or {})["type"] == "connection"
        await close_ws(good)

    asyncio.run(scenario())
    deadline = time.monotonic() + 10
    while server.running.context.hub.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.running.context.hub.connections


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "REALTIME_NB_TOKEN"}
    command = [sys.executable, "-m", "realtime_nb.cli", "serve", "--port", "0"]
    command += ["--data-dir", str(tmp_path / "data"), *args]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.mark.parametrize(
    "args", [("--host", "0.0.0.0"), ("--host", "0.0.0.0", "--token", "short-but-explicit")]
)
def test_serve_refuses_a_public_host_without_a_long_explicit_token(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    proc = _serve(tmp_path, *args)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out
    assert "at least 32 characters" in out


def test_serve_starts_on_a_public_host_with_a_long_token(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--host", "0.0.0.0", "--token", "t" * 32)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "serving at" not in line:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "serve exited"
        assert "serving at http://0.0.0.0:" in line
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_the_notebook_client_sends_its_token_in_a_header(
    server: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    from realtime_nb.notebook.client import RealtimeClient

    with (
        caplog.at_level(logging.INFO, logger="tornado.access"),
        RealtimeClient(server.url, server.token).start() as client,
    ):
        client.plugins()
        wait_until(lambda: "/v1/realtime" in caplog.text, 10, "the WebSocket handshake")
        # Close only once the opening ping exchange is over: the client answers a ping it
        # reads while closing with a write that raises on its thread.
        wait_until(lambda: client.latency_ms is not None, 10, "the first round trip")
        time.sleep(0.3)
    lines = [r.getMessage() for r in caplog.records if r.name == "tornado.access"]
    assert any("/v1/realtime" in line for line in lines)
    assert not any("token=" in line for line in lines), lines
