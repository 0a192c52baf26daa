"""The baseline: a bare Tornado WebSocket server pushing the same frame-message bytes.

No hub, no queues, no store: ``POST /start?n=N`` (optionally ``&hz=RATE&burst=K&stamp=1``)
writes N messages to every connected client, awaiting each connection's last write every
``BATCH`` messages (the same back-pressure our writer uses); with ``hz``, K messages (default 1)
every 1/RATE seconds. Prints ``port <n>`` when listening.

Usage: python bare_server.py PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import tornado.web
import tornado.websocket

from realtime_nb.core.protocol import FramePayload, encode, make_message, now_iso

BATCH = 64
CLIENTS: set[BareSocket] = set()


def frame_bytes(index: int, stamp: bool) -> bytes:
    """A frame message shaped like the product's (same envelope, same plugin result)."""
    data: dict[str, Any] = (
        {"t": time.time(), "pad": "x" * 120} if stamp else {"i": index, "pad": "x" * 160}
    )
    payload = FramePayload(
        frame_id=f"f-{index:06d}",
        plugin="bench_noop_0",
        data=data,
        timing_ms=0.002,
        frame_index=index,
    )
    return encode(make_message(payload, job_id="j-bare0000", seq=index + 1, timestamp=now_iso()))


class BareSocket(tornado.websocket.WebSocketHandler):
    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        CLIENTS.add(self)

    def on_close(self) -> None:
        CLIENTS.discard(self)

    def check_origin(self, origin: str) -> bool:
        return True


class Start(tornado.web.RequestHandler):
    def post(self) -> None:
        n = int(self.get_query_argument("n"))
        hz = float(self.get_query_argument("hz", "0"))
        burst = int(self.get_query_argument("burst", "1"))
        stamp = self.get_query_argument("stamp", "0") == "1"
        asyncio.get_running_loop().create_task(push(n, hz, stamp, burst))
        self.write({"started": n})


async def push(n: int, hz: float, stamp: bool, burst: int = 1) -> None:
    targets = list(CLIENTS)
    t0 = time.perf_counter()
    last: dict[BareSocket, Any] = {}
    for i in range(n):
        if hz and i % burst == 0:
            delay = t0 + (i // burst) / hz - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        data = frame_bytes(i, stamp)
        for ws in targets:
            try:
                last[ws] = ws.write_message(data)
            except tornado.websocket.WebSocketClosedError:
                targets.remove(ws)
        if (hz and i % burst == burst - 1) or i % BATCH == BATCH - 1:
            for fut in last.values():
                with contextlib.suppress(tornado.websocket.WebSocketClosedError):
                    await fut
            last.clear()


async def main(port: int) -> None:
    app = tornado.web.Application([(r"/ws", BareSocket), (r"/start", Start)])
    app.listen(port, address="127.0.0.1")
    print(f"port {port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
