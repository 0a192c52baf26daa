"""The client without sockets, threads or clocks: what :class:`RealtimeClient` knows.

Like python-websockets' ``Protocol``, :class:`ClientCore` takes what arrived
(:meth:`~ClientCore.receive_text`, :meth:`~ClientCore.receive_preview`) and says what to do
next (:class:`Received`: a pong to send, a job to resync). It holds every job's reduced
:class:`~realtime_nb.core.state.RealtimeState`, a version per job that grows with each change
(the render clock redraws a job whose version moved), the previewed frames kept per job, the
jobs followed and the live messages buffered while a job resyncs. It is not thread-safe: the
glue in :mod:`realtime_nb.notebook.client` calls it under one lock.

Example:
    >>> from realtime_nb.core import protocol as p
    >>> core = ClientCore()
    >>> core.follow("j-1")
    0
    >>> msg = p.make_message(p.ProgressPayload(job_id="j-1", progress=40), job_id="j-1", seq=1)
    >>> _ = core.receive_text(p.encode(msg).decode())
    >>> core.state("j-1").progress, core.version("j-1")
    (40.0, 1)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from realtime_nb.core.protocol import (
    PREVIEW_PREFIX_BYTES,
    SERVER_MESSAGE_TYPES,
    ConnectionMessage,
    JobMessage,
    PingMessage,
    PongPayload,
    ProtocolError,
    ServerMessage,
    SubscribedMessage,
    decode_preview,
    decode_server_message,
    encode,
    is_terminal,
    make_message,
    now_iso,
    peek_type,
)
from realtime_nb.core.state import (
    ConnectionChanged,
    MessageReceived,
    PreviewReceived,
    RealtimeState,
    reduce,
)
from realtime_nb.notebook.frames import DEFAULT_MAX_FRAMES, FrameStore, KeptFrame

__all__ = ["MAX_JOBS_WITH_FRAMES", "ClientCore", "Received", "decode_stored_events"]

log = logging.getLogger(__name__)

MAX_JOBS_WITH_FRAMES = 8
"""Jobs whose previewed frames a client keeps at once (each bounded by ``max_frames``)."""


@dataclass(frozen=True)
class Received:
    """What one text message asks of the I/O glue.

    Attributes:
        message: The decoded message, or None when it was skipped (malformed, unknown type).
        reply: Text to send back at once (the pong to a ping), or None.
        connected: The server's connection metadata arrived: the handshake is complete.
        resync: ``(job_id, since_seq)`` when the server could not replay a gap: fetch the
            job's stored events after ``since_seq`` and hand them to
            :meth:`ClientCore.finish_resync`; live messages are buffered until then.
        ended: A job reached a terminal status (wake anyone waiting for it).
    """

    message: ServerMessage | None = None
    reply: str | None = None
    connected: bool = False
    resync: tuple[str, int] | None = None
    ended: bool = False


class ClientCore:
    """Per-job state, versions, kept frames and subscriptions of one client.

    Args:
        max_frames: Previewed frames kept per job (see :class:`FrameStore`).
    """

    def __init__(self, max_frames: int = DEFAULT_MAX_FRAMES) -> None:
        self.max_frames = max_frames
        self.connection = "IDLE"
        self.reconnect_attempt = 0
        """The reconnect attempt under way or next while RECONNECTING, else 0."""
        self.latency_ms: float | None = None
        self.connection_id: str | None = None
        self._states: dict[str, RealtimeState] = {}
        self._versions: dict[str, int] = {}
        self._frames: dict[str, FrameStore] = {}  # least recently previewed job first
        self._followed: set[str] = set()
        self._resyncing: dict[str, list[ServerMessage]] = {}

    # --- reading ----------------------------------------------------------------------------

    def state(self, job_id: str) -> RealtimeState:
        """The latest reduced state of a job (an empty state before its first message)."""
        state = self._states.get(job_id)
        if state is None:
            state = RealtimeState(
                job_id=job_id,
                connection=self.connection,
                is_connected=self.connection == "CONNECTED",
                latency_ms=self.latency_ms,
            )
        return state

    def version(self, job_id: str) -> int:
        """How many times the job's state changed here (0 before its first message)."""
        return self._versions.get(job_id, 0)

    def frames(self, job_id: str) -> tuple[KeptFrame, ...]:
        """The previewed frames kept for a job, oldest first."""
        store = self._frames.get(job_id)
        return store.frames() if store is not None else ()

    def latest_frame(self, job_id: str) -> KeptFrame | None:
        """The newest previewed frame of a job, or None before one."""
        store = self._frames.get(job_id)
        return store.latest if store is not None else None

    def followed(self) -> dict[str, int]:
        """Every followed job with the last ``seq`` applied: what to resubscribe with after a
        reconnect, so the server replays only what was missed."""
        return {job_id: self.state(job_id).last_seq for job_id in sorted(self._followed)}

    def resyncing(self, job_id: str) -> bool:
        """True while the job's stored events are being fetched (live messages wait)."""
        return job_id in self._resyncing

    # --- changes ----------------------------------------------------------------------------

    def follow(self, job_id: str) -> int:
        """Follow a job (also after every reconnect); return the ``since_seq`` to subscribe
        with."""
        self._followed.add(job_id)
        return self.state(job_id).last_seq

    def set_connection(self, connection: str, attempt: int | None = None) -> bool:
        """Record the connection state (and the reconnect attempt); every job's state shows
        it. Returns True if anything changed."""
        changed = connection != self.connection
        self.connection = connection
        if attempt is not None:
            changed = changed or attempt != self.reconnect_attempt
            self.reconnect_attempt = attempt
        elif connection != "RECONNECTING":
            self.reconnect_attempt = 0
        if changed:
            self._reduce_every_job(
                ConnectionChanged(self.connection, self.latency_ms, self.reconnect_attempt)
            )
        return changed

    def receive_text(self, raw: str) -> Received:
        """Decode and apply one text message; say what the glue must do about it.

        A message that does not decode is logged and skipped (an unknown type quietly: a newer
        server may send types this client does not know). Never raises.
        """
        try:
            msg = decode_server_message(raw)
        except ProtocolError as exc:
            kind = peek_type(raw)
            if kind is None:
                log.warning("skipping malformed message (%s): %.200s", exc, raw)
            elif kind not in SERVER_MESSAGE_TYPES:
                log.debug("ignoring message of unknown type %r", kind)
            else:
                log.warning("skipping invalid %s message: %s", kind, exc)
            return Received()
        reply = None
        connected = False
        resync = None
        if isinstance(msg, PingMessage):
            reply = encode(make_message(PongPayload(timestamp=now_iso()))).decode()
            if msg.payload.latency_ms is not None:
                self.latency_ms = msg.payload.latency_ms
        elif isinstance(msg, ConnectionMessage):
            self.connection_id = msg.payload.connection_id
            connected = True
        elif isinstance(msg, SubscribedMessage) and not msg.payload.recovered:
            resync = self._begin_resync(msg.payload.job_id)
        job_id = msg.job_id
        ended = False
        if job_id is None:
            if isinstance(msg, PingMessage):  # latency and drops show in every job's overlay
                self._reduce_every_job(MessageReceived(msg))
        elif job_id in self._resyncing:
            self._resyncing[job_id].append(msg)  # applied after the fetched stored events
        else:
            ended = self._apply(job_id, [msg])
        return Received(msg, reply, connected, resync, ended)

    def receive_preview(self, raw: bytes) -> str | None:
        """Keep one binary preview; return its job id, or None if it does not decode."""
        try:
            header, jpeg = decode_preview(raw)
        except ProtocolError as exc:
            log.warning("skipping bad preview: %s", exc)
            return None
        kept = KeptFrame.from_preview(header, jpeg, len(raw) - len(jpeg) - PREVIEW_PREFIX_BYTES)
        self._frame_store(header.job_id).add(kept)
        state = reduce(self.state(header.job_id), PreviewReceived(kept.frame_id))
        self._set_state(header.job_id, state)
        return header.job_id

    def finish_resync(self, job_id: str, stored: list[ServerMessage]) -> bool:
        """Apply the fetched stored events, then the live messages buffered meanwhile, and stop
        buffering. Call it whatever happened to the fetch (with ``[]`` when it failed), or the
        job's live messages stay buffered. Returns True if the job ended."""
        buffered = self._resyncing.pop(job_id, [])
        # In seq order: the stored events (non-frame only) reach past the replayed frames, and
        # the reducer ignores any seq at or below the last applied, so frames applied after a
        # later stored event would be lost.
        merged = sorted(stored + buffered, key=lambda m: m.seq or 0)
        return self._apply(job_id, merged)

    def apply_record(self, job_id: str, record: Mapping[str, Any]) -> bool:
        """Take a job's terminal status from its REST record (used while the socket is down).
        Returns True if the state changed."""
        if not is_terminal(record["status"]):
            return False
        state = self.state(job_id)
        new = replace(
            state,
            job_status=record["status"],
            progress=max(state.progress, float(record.get("progress") or 0)),
            stage=record["status"].capitalize(),
        )
        if new == state:
            return False
        self._set_state(job_id, new)
        return True

    # --- internals --------------------------------------------------------------------------

    def _begin_resync(self, job_id: str) -> tuple[str, int] | None:
        if job_id in self._resyncing:
            return None  # a fetch is already under way; it covers this gap too
        self._resyncing[job_id] = []
        return job_id, self.state(job_id).last_seq

    def _apply(self, job_id: str, messages: list[ServerMessage]) -> bool:
        state = before = self.state(job_id)
        ended = False
        for msg in messages:
            state = reduce(state, MessageReceived(msg))
            ended = ended or (isinstance(msg, JobMessage) and is_terminal(msg.payload.status))
        if state is not before:
            self._set_state(job_id, state)
        return ended

    def _set_state(self, job_id: str, state: RealtimeState) -> None:
        self._states[job_id] = state
        self._versions[job_id] = self._versions.get(job_id, 0) + 1

    def _reduce_every_job(self, action: MessageReceived | ConnectionChanged) -> None:
        for job_id, state in list(self._states.items()):
            new = reduce(state, action)
            if new is not state:
                self._set_state(job_id, new)

    def _frame_store(self, job_id: str) -> FrameStore:
        """The job's store, now the most recently previewed; the frames of the job previewed
        longest ago go past :data:`MAX_JOBS_WITH_FRAMES` (an overlay keeps what it was given)."""
        store = self._frames.pop(job_id, None) or FrameStore(self.max_frames)
        self._frames[job_id] = store
        while len(self._frames) > MAX_JOBS_WITH_FRAMES:
            del self._frames[next(iter(self._frames))]
        return store


def decode_stored_events(events: list[Any]) -> list[ServerMessage]:
    """Decode the ``events`` list of ``GET /v1/jobs/{id}/events`` into messages.

    Raises:
        ProtocolError: An event is not a valid server message.
    """
    return [decode_server_message(json.dumps(raw)) for raw in events]
