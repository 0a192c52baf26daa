"""A measurement client process: holds K WebSocket connections and reads frame messages.

Every message is decoded and validated with :func:`realtime_nb.core.protocol.decode_server_message`
(the client's own decoder), whichever server sent it. Modes:

- ``count``: read until each connection has ``--expect`` frame messages or the job ended;
  report counts and the first/last receive times (``time.time()``, comparable across processes
  on one machine).
- ``latency``: one connection; also apply each message with :func:`realtime_nb.core.state.reduce`
  and take ``time.time() - data["t"]`` once the reducer has it.
- ``stall``: connect, then never read (the kernel buffers fill and the server's writes stall).

Prints ``ready`` once connected, then one JSON line with the results. Exits non-zero on timeout.

Usage: python clients.py URL --mode count --connections 25 --expect 10000 --timeout 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from tornado.websocket import WebSocketClientConnection, websocket_connect

from realtime_nb.core.protocol import (
    FrameMessage,
    JobMessage,
    PingMessage,
    PongPayload,
    decode_server_message,
    encode,
    is_terminal,
    make_message,
    now_iso,
)
from realtime_nb.core.state import MessageReceived, RealtimeState, reduce


async def read_frames(
    ws: WebSocketClientConnection, expect: int, out: dict[str, Any], latency: bool
) -> None:
    """Read until ``expect`` frame messages or the job's end (a terminal ``job`` message: the
    server may shed frame messages a client is too slow for, by design). ``out`` is kept up to
    date as messages arrive, so a timeout still reports what was read."""
    state = RealtimeState(job_id="")
    lat: list[float] = []
    out.update(count=0, first=0.0, last=0.0)
    if latency:
        out["latency_ms"] = lat
    count = 0
    pending: list[str] = []
    while count < expect:
        if not pending:
            raw = await ws.read_message()
            if raw is None:
                break
            if isinstance(raw, bytes):
                continue  # a binary preview
            pending = raw.split("\n")[::-1]  # batch=1 frames hold several messages
        msg = decode_server_message(pending.pop())
        if isinstance(msg, PingMessage):
            ws.write_message(encode(make_message(PongPayload(timestamp=now_iso()))))
            continue
        if isinstance(msg, JobMessage) and is_terminal(msg.payload.status):
            break
        if not isinstance(msg, FrameMessage):
            continue
        if latency:
            state = reduce(state, MessageReceived(msg))
            applied = state.current_frame
            assert applied is not None
            lat.append((time.time() - applied.data["t"]) * 1000.0)
        now = time.time()
        if count == 0:
            out["first"] = now
        out["last"] = now
        count += 1
        out["count"] = count


async def main(args: argparse.Namespace) -> int:
    conns = [
        await websocket_connect(args.url, max_message_size=64 << 20)
        for _ in range(args.connections)
    ]
    if args.settle:
        await asyncio.sleep(args.settle)  # let the server register and subscribe every socket
    print("ready", flush=True)
    if args.mode == "stall":
        await asyncio.sleep(args.timeout)
        return 0
    results: list[dict[str, Any]] = [{} for _ in conns]
    tasks = [
        read_frames(ws, args.expect, out, args.mode == "latency")
        for ws, out in zip(conns, results, strict=True)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), args.timeout)
        ok = True
    except TimeoutError:
        ok = False
    for ws in conns:
        ws.close()
    report: dict[str, Any] = {
        "ok": ok,
        "count": sum(r.get("count", 0) for r in results),
        "first": min((r["first"] for r in results if r.get("count")), default=0.0),
        "last": max((r["last"] for r in results if r.get("count")), default=0.0),
    }
    if args.mode == "latency":
        report["latency_ms"] = [x for r in results for x in r.get("latency_ms", [])]
    print(json.dumps(report), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--mode", choices=["count", "latency", "stall"], default="count")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--settle", type=float, default=0.2)
    sys.exit(asyncio.run(main(parser.parse_args())))
