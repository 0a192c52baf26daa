"""A second baseline: python-websockets pushing the same frame-message bytes with its
``broadcast()`` (one write per connection, no waiting for slow readers: it never sheds, it
buffers).

Reads commands on stdin, one per line: ``start N HZ BURST`` pushes N messages, BURST of them
every 1/HZ seconds, to every connected client. Prints ``port <n>`` when listening and
``done`` after each push.

Usage: python broadcast_server.py PORT
"""

from __future__ import annotations

import asyncio
import sys
import time

from bare_server import frame_bytes
from websockets.asyncio.server import ServerConnection, broadcast, serve

CLIENTS: set[ServerConnection] = set()


async def handler(ws: ServerConnection) -> None:
    CLIENTS.add(ws)
    try:
        await ws.wait_closed()
    finally:
        CLIENTS.discard(ws)


async def push(n: int, hz: float, burst: int) -> None:
    t0 = time.perf_counter()
    for tick, start in enumerate(range(0, n, burst)):
        delay = t0 + tick / hz - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        for i in range(start, min(n, start + burst)):
            broadcast(CLIENTS, frame_bytes(i, False).decode())


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        print(f"port {port}", flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            _, n, hz, burst = line.split()
            await push(int(n), float(hz), int(burst))
            print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
