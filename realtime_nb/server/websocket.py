"""The server's WebSocket handler, ``WS /v1/realtime``: a client's connection to the hub."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from typing import Any

import msgspec
import tornado.websocket

from realtime_nb import __version__
from realtime_nb.core.protocol import (
    PROTOCOL_VERSION,
    ConnectionPayload,
    ErrorCode,
    ErrorPayload,
    PongMessage,
    ProtocolError,
    SubscribeMessage,
    UnsubscribeMessage,
    decode_client_message,
    encode,
    now_iso,
)
from realtime_nb.server.handlers import AppContext, origin_allowed, token_ok
from realtime_nb.server.hub import ALL_JOBS, CLOSE_POLICY, Connection
from realtime_nb.server.limits import (
    RequestRejected,
    check_subscription_id,
    parse_seq,
)

__all__ = ["RealtimeHandler"]

log = logging.getLogger(__name__)


class RealtimeHandler(tornado.websocket.WebSocketHandler):
    """``WS /v1/realtime``: connection metadata first, then the subscribed jobs' messages.

    Every client message the server cannot use is answered with an ``error`` message (``code``
    and ``message``, no job) and the connection stays open; a client that sends more than
    ``max_bad_messages_per_s`` bad messages, or ``max_client_messages_per_s`` of any kind, in
    one second is closed with 1008 (policy violation).
    """

    def initialize(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.conn: Connection | None = None

    def check_origin(self, origin: str) -> bool:
        return origin_allowed(origin, self.request.host, self.ctx.allowed_origins)

    def _refuse(self, status: int, code: ErrorCode, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(encode({"error": {"code": str(code), "message": message}}))

    async def get(self, *args: Any, **kwargs: Any) -> None:
        if not token_ok(self, self.ctx.token):
            self._refuse(401, ErrorCode.UNAUTHORIZED, "missing or wrong token")
            return
        limits = self.ctx.limits
        if len(self.ctx.hub.connections) >= limits.max_connections:
            self._refuse(
                429,
                ErrorCode.TOO_MANY_CONNECTIONS,
                f"{limits.max_connections} connections are open, the limit; try again later",
            )
            return
        try:
            job_id = self.get_query_argument("job_id", None)
            if job_id is not None:
                check_subscription_id(job_id, limits)
            since = self.get_query_argument("since_seq", None)
            self._since = parse_seq(since) if since is not None else None
        except (ProtocolError, RequestRejected) as exc:
            self._refuse(400, ErrorCode.MSG_INVALID, str(exc))
            return
        self._job_id = job_id
        self._stored_last_seq: int | None = None
        if job_id is not None and job_id != ALL_JOBS:
            self._stored_last_seq = await self._stored_seq(job_id)
        await super().get(*args, **kwargs)

    async def _stored_seq(self, job_id: str) -> int | None:
        """The job's last seq (off the loop: it may read SQLite), or None if there is no job."""
        loop = asyncio.get_running_loop()
        record = await loop.run_in_executor(self.ctx.io_pool, self.ctx.jobs.get, job_id)
        return record.last_seq if record is not None else None

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        hub = self.ctx.hub
        batch = self.get_query_argument("batch", "") in ("1", "true")
        self.conn = hub.connect("c-" + secrets.token_hex(4), self, batch)
        # ``subscribe=none``: the client subscribes itself, job by job, with since_seq; an
        # implicit "*" would let live messages overtake the replay it asks for.
        wanted = self._job_id or ALL_JOBS
        initial = [] if self.get_query_argument("subscribe", "") == "none" else [wanted]
        hub.send(
            self.conn,
            ConnectionPayload(
                connection_id=self.conn.connection_id,
                server_version=__version__,
                protocol_version=PROTOCOL_VERSION,
                subscriptions=initial,
                ping_interval_seconds=hub.ping_interval,
                max_queue=hub.queue_capacity,
            ),
        )
        hub.greet(self.conn)
        for target in initial:
            hub.subscribe(self.conn, target, self._since, self._stored_last_seq or 0)

    def on_message(self, message: str | bytes) -> Awaitable[None] | None:
        conn = self.conn
        if conn is None or conn.closed:
            return None
        hub = self.ctx.hub
        hub.seen(conn)
        try:
            if isinstance(message, bytes):
                raise ProtocolError(
                    ErrorCode.MSG_INVALID_JSON, "binary frames are not accepted: send JSON text"
                )
            msg = decode_client_message(message)
            if msg.timestamp is None:  # clients may leave it out: the time it arrived
                msg = msgspec.structs.replace(msg, timestamp=now_iso())
            if isinstance(msg, SubscribeMessage | UnsubscribeMessage):
                check_subscription_id(msg.payload.job_id, self.ctx.limits)
        except ProtocolError as exc:
            self._bad_message(conn, exc.code, str(exc))
            return None
        if self._over_rate(conn, bad=False):
            return None
        if isinstance(msg, PongMessage):
            hub.pong(conn)
        elif isinstance(msg, SubscribeMessage):
            return self._subscribe(conn, msg.payload.job_id, msg.payload.since_seq)
        elif isinstance(msg, UnsubscribeMessage):
            hub.unsubscribe(conn, msg.payload.job_id)
        return None

    def _subscribe(
        self, conn: Connection, job_id: str, since_seq: int | None
    ) -> Awaitable[None] | None:
        """Subscribe at once when the hub can answer alone ("*", or a job it keeps a replay
        log of); otherwise return a coroutine that first reads the job's stored last seq off
        the loop. Tornado awaits it before handing over the client's next message, so
        messages still apply in order."""
        hub, limit = self.ctx.hub, self.ctx.limits.max_subscriptions_per_connection
        if job_id not in conn.subscriptions and len(conn.subscriptions) >= limit:
            self._error(
                conn,
                ErrorCode.TOO_MANY_SUBSCRIPTIONS,
                f"this connection already has {limit} subscriptions, the limit; "
                "unsubscribe from some first",
                job_id,
            )
            return None
        if job_id == ALL_JOBS or hub.has_log(job_id):
            hub.subscribe(conn, job_id, since_seq)
            return None
        return self._subscribe_stored(conn, job_id, since_seq)

    async def _subscribe_stored(self, conn: Connection, job_id: str, since_seq: int | None) -> None:
        stored = await self._stored_seq(job_id)
        if stored is None:
            self._error(conn, ErrorCode.NOT_FOUND, f"no job {job_id!r}", job_id)
        elif not conn.closed:  # a log the hub started meanwhile wins over the stored seq
            self.ctx.hub.subscribe(conn, job_id, since_seq, stored)

    def _bad_message(self, conn: Connection, code: ErrorCode, message: str) -> None:
        log.info("bad client message on %s: %s", conn.connection_id, message[:200])
        if not self._over_rate(conn, bad=True):
            self._error(conn, code, message[:500])

    def _over_rate(self, conn: Connection, bad: bool) -> bool:
        """Count a message; close the connection with 1008 when it passes a rate limit."""
        limits = self.ctx.limits
        messages, bad_ones = conn.count_message(bad)
        if bad_ones > limits.max_bad_messages_per_s or messages > limits.max_client_messages_per_s:
            what = "bad messages" if bad_ones > limits.max_bad_messages_per_s else "messages"
            log.warning("closing %s: too many %s per second", conn.connection_id, what)
            conn.close(CLOSE_POLICY, f"too many {what} per second")
            self.ctx.hub.disconnect(conn)
            return True
        return False

    def _error(self, conn: Connection, code: ErrorCode, message: str, job_id: str = "") -> None:
        text = f"{message} (job {job_id!r})" if job_id else message
        self.ctx.hub.send(
            conn, ErrorPayload(error=text, code=str(code), message=text, frame_id=None)
        )

    def on_close(self) -> None:
        if self.conn is not None:
            self.ctx.hub.disconnect(self.conn)

    def send(self, data: bytes, binary: bool) -> Awaitable[None]:
        """The hub's :class:`~realtime_nb.server.hub.Sink`: queue a write, return its future."""
        return self.write_message(data, binary=binary)
