"""What producers send the server and what it answers: an experiment's event batches on the
ingest socket or ``POST /v1/jobs/{id}/events``, and a chunk task's frames on
``POST /v1/jobs/{id}/frames``, with their decoders. Pure: no I/O.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from realtime_nb.core.protocol_payloads import (
    ErrorPayload,
    FramePayload,
    MetricPayload,
    ProgressPayload,
    RunEndPayload,
    WarningPayload,
)
from realtime_nb.core.protocol_types import JobStatus, decode_with

__all__ = [
    "MAX_EVENTS_PER_BATCH",
    "MAX_FRAMES_PER_BATCH",
    "IngestAck",
    "IngestBatch",
    "IngestFrames",
    "IngestFramesAck",
    "IngestHeartbeat",
    "IngestReady",
    "IngestRejected",
    "ProducedEnd",
    "ProducedError",
    "ProducedEvent",
    "ProducedFrame",
    "ProducedFrameEvents",
    "ProducedMetric",
    "ProducedProgress",
    "ProducedWarning",
    "ProducerMessage",
    "decode_ingest_batch",
    "decode_ingest_frames",
    "decode_producer_message",
]


class _Produced(msgspec.Struct, tag_field="type", forbid_unknown_fields=True):
    """An event as a producer sends it: a type and a payload. The server adds ``seq``,
    ``job_id`` and ``timestamp``."""


class ProducedMetric(_Produced, tag="metric"):
    """Metric points from a producer."""

    payload: MetricPayload


class ProducedProgress(_Produced, tag="progress"):
    """Progress from a producer."""

    payload: ProgressPayload


class ProducedWarning(_Produced, tag="warning"):
    """A warning from a producer."""

    payload: WarningPayload


class ProducedError(_Produced, tag="error"):
    """An error from a producer (the run goes on until it ends)."""

    payload: ErrorPayload


class ProducedEnd(_Produced, tag="end"):
    """The producer's run ended; the server ends the job with this status."""

    payload: RunEndPayload


ProducedEvent = ProducedMetric | ProducedProgress | ProducedWarning | ProducedError | ProducedEnd

MAX_EVENTS_PER_BATCH = 10_000


class IngestBatch(msgspec.Struct, tag_field="type", tag="batch", forbid_unknown_fields=True):
    """Producer to server: events of one job, applied all or nothing, once.

    ``batch`` numbers a producer's batches from 1. The server applies a batch only if its
    number is above the last one it applied for the job, so a producer that resends a batch
    after a lost acknowledgement never doubles anything.
    """

    batch: Annotated[int, msgspec.Meta(ge=1)]
    events: Annotated[list[ProducedEvent], msgspec.Meta(max_length=MAX_EVENTS_PER_BATCH)]


class IngestHeartbeat(msgspec.Struct, tag_field="type", tag="heartbeat"):
    """Producer to server: still alive, nothing to send."""


ProducerMessage = IngestBatch | IngestHeartbeat


class IngestReady(msgspec.Struct, tag_field="type", tag="ready", kw_only=True):
    """Server to producer, first on the ingest socket: where the job stands."""

    job_id: str
    status: JobStatus
    last_batch: int
    heartbeat_timeout_s: float


class IngestAck(msgspec.Struct, tag_field="type", tag="ack", kw_only=True):
    """Server to producer: batch ``batch`` is committed to the store (``applied`` False: it
    had been applied before, and was ignored this time)."""

    batch: int
    applied: bool
    last_seq: int
    status: JobStatus


class IngestRejected(msgspec.Struct, tag_field="type", tag="rejected", kw_only=True):
    """Server to producer: a message that was not valid, with why; nothing of it was applied."""

    code: str
    message: str
    batch: int | None = None


class ProducedFrame(_Produced, tag="frame"):
    """One plugin's result for one frame, from a chunk task."""

    payload: FramePayload


class ProducedFrameEvents(msgspec.Struct, forbid_unknown_fields=True):
    """Everything one frame gave a chunk task, in order: each plugin's ``frame`` result and
    the ``warning`` and ``error`` events of that frame. Applied whole, at most once per job
    and frame, whichever task (or retry of a task) sends it first."""

    index: Annotated[int, msgspec.Meta(ge=0)]
    events: list[ProducedFrame | ProducedWarning | ProducedError]


MAX_FRAMES_PER_BATCH = 1000


class IngestFrames(msgspec.Struct, tag_field="type", tag="frames", forbid_unknown_fields=True):
    """Chunk task to server (``POST /v1/jobs/{id}/frames``, the job's producer token): frames
    of a video job processed elsewhere. The server numbers, stores and publishes each frame
    not applied before and drops the others, so a retried chunk never doubles a frame."""

    chunk: Annotated[int, msgspec.Meta(ge=0)]
    frames: Annotated[list[ProducedFrameEvents], msgspec.Meta(max_length=MAX_FRAMES_PER_BATCH)]


class IngestFramesAck(msgspec.Struct, tag_field="type", tag="frames_ack", kw_only=True):
    """Server to chunk task: the frames are applied (numbered, published, queued for the
    store; the job ends only once they are committed); ``applied`` were new, ``duplicates``
    had been applied before and were dropped."""

    applied: int
    duplicates: int
    last_seq: int
    status: JobStatus


_producer_decoder = msgspec.json.Decoder(ProducerMessage)
_batch_decoder = msgspec.json.Decoder(IngestBatch)
_frames_decoder = msgspec.json.Decoder(IngestFrames)


def decode_producer_message(data: bytes | str) -> ProducerMessage:
    """Decode a producer's message on the ingest socket.

    Raises:
        ProtocolError: Malformed JSON, unknown type, or a payload that fails validation.
    """
    result: ProducerMessage = decode_with(_producer_decoder, data)
    return result


def decode_ingest_batch(data: bytes | str) -> IngestBatch:
    """Decode the body of ``POST /v1/jobs/{id}/events`` (one :class:`IngestBatch`).

    Raises:
        ProtocolError: Malformed JSON, unknown event type, or a payload that fails validation.
    """
    result: IngestBatch = decode_with(_batch_decoder, data)
    return result


def decode_ingest_frames(data: bytes | str) -> IngestFrames:
    """Decode the body of ``POST /v1/jobs/{id}/frames`` (one :class:`IngestFrames`).

    Raises:
        ProtocolError: Malformed JSON, unknown event type, or a payload that fails validation.
    """
    result: IngestFrames = decode_with(_frames_decoder, data)
    return result
