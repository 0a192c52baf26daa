"""JobChannel: numbers one job's messages, wraps them in envelopes, queues them for the store
and hands them to the event loop, in order.

Used on a job's supervising thread (or a producer's handler) so the loop does no per-message
encoding; see :mod:`realtime_nb.server.jobs`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import msgspec

from realtime_nb.core.delivery import Outgoing
from realtime_nb.core.protocol import (
    FramePayload,
    encode,
    make_message,
    message_type_of,
    now_iso,
    priority_of,
)
from realtime_nb.server.store import EventRow, JobStore, ResultRow

__all__ = ["JobChannel"]

log = logging.getLogger(__name__)


class JobChannel:
    """Numbers, wraps in envelopes, queues for the store and forwards one job's messages.
    Thread-safe.

    Args:
        job_id: The job.
        store: Where results (frame messages) and events (all other messages) are queued to
            be written (by the store's writer thread, in order).
        deliver: Called with each batch of :class:`Outgoing` (from the producing thread).
        on_payload: Called with every payload, before it is sent.
        start_seq: The last seq already used (a resumed job continues after it).
    """

    def __init__(
        self,
        job_id: str,
        store: JobStore,
        deliver: Callable[[str, list[Outgoing]], None],
        on_payload: Callable[[Any], None] | None = None,
        start_seq: int = 0,
    ) -> None:
        self.job_id = job_id
        self.seq = start_seq
        self._store = store
        self._deliver = deliver
        self._on_payload = on_payload
        self._lock = threading.Lock()

    def emit(self, payloads: list[Any], durable: bool = False) -> None:
        """Number, encode, queue for the store and send a batch of payload structs, in order.

        With ``durable``, the batch is committed to the store before anyone is sent it (a job's
        last message: a client that hears the job ended can fetch it, and all before it).
        """
        if not payloads:
            return
        items: list[Outgoing] = []
        results: list[ResultRow] = []
        events: list[EventRow] = []
        with self._lock:
            timestamp = now_iso()
            for payload in payloads:
                self.seq += 1
                wire, result_data = payload, b""
                if isinstance(payload, FramePayload):
                    # The plugin's data is encoded once: the results row stores these bytes
                    # and the message embeds them verbatim (msgspec.Raw), so both stay exactly
                    # what encoding the data twice gave.
                    result_data = encode(payload.data)
                    wire = msgspec.structs.replace(payload, data=msgspec.Raw(result_data))
                msg = make_message(wire, job_id=self.job_id, seq=self.seq, timestamp=timestamp)
                kind = message_type_of(msg)
                data = encode(msg)
                items.append(Outgoing(data, priority_of(kind), self.job_id, self.seq, kind))
                if isinstance(payload, FramePayload):
                    results.append(
                        (
                            self.job_id,
                            payload.frame_index or 0,
                            payload.plugin,
                            payload.frame_id,
                            payload.timing_ms,
                            result_data,
                            self.seq,
                        )
                    )
                else:
                    events.append((self.job_id, self.seq, kind, data))
                if self._on_payload is not None:
                    self._on_payload(payload)
            # Queued for the store, not yet committed: the store's one writer thread commits
            # in this order, a batch behind at most, and the job's end waits for the flush, so
            # once a client hears a job ended every result of it can be fetched.
            self._store.save_results(results)
            self._store.save_events(events)
            if durable and not self._store.flush():
                log.error("store did not commit the last messages of %s in time", self.job_id)
            self._deliver(self.job_id, items)
