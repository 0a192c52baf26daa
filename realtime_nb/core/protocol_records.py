"""REST bodies: a job's request (video or experiment) and the job record REST returns and the
store keeps, with their decoders. Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from realtime_nb.core.protocol_types import JobKind, JobStatus, decode_with

__all__ = [
    "STORED_RECORD_MAX_DEPTH",
    "ExperimentRequest",
    "JobOptions",
    "JobRecord",
    "JobRequest",
    "clip_json_depth",
    "decode_experiment_request",
    "decode_job_record",
    "decode_job_request",
    "is_experiment_request",
]


class JobOptions(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    """The ``options`` of ``POST /v1/jobs``; an unknown option is refused.

    Attributes:
        preview_interval_s: Least seconds between two binary previews (0.1 by default).
        frame_timeout_s: Longest one plugin call may take, overriding the server's default.
        annotate_video: Write an annotated video (``GET /v1/jobs/{id}/video``).
        plugin_options: Options of each plugin, by plugin name, checked against the options
            that plugin declares.
        labels: The user's own labels, kept with the job and never read by the server.
        executor: Where the job runs (``process``, or ``dask`` on a server started with
            ``--executor dask``); None: the server's default.
    """

    preview_interval_s: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 0.1
    frame_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=86400)] | None = None
    annotate_video: bool = False
    plugin_options: dict[str, dict[str, Any]] = {}
    labels: dict[str, str] = {}
    executor: str | None = None


class JobRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Body of ``POST /v1/jobs``."""

    source: str
    plugins: list[str]
    options: JobOptions = msgspec.field(default_factory=JobOptions)
    cwd: str | None = None
    """The client's working directory: a relative file path in ``source`` is taken from here
    (without it, from the server's first allowed root)."""


class ExperimentRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of ``POST /v1/jobs`` for an experiment: a job fed by an outside producer (a user's
    training loop) instead of plugins over a video."""

    kind: Literal["experiment"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    total: Annotated[int, msgspec.Meta(ge=1)] | None = None
    config: dict[str, Any] = {}
    options: dict[str, Any] = {}


class JobRecord(msgspec.Struct, kw_only=True):
    """A job as REST returns it and the store keeps it (every field always present).

    ``kind`` is ``video`` (plugins over a source) or ``experiment`` (a producer's run, with its
    ``name`` and ``config``; ``frames_total`` is its ``total``).
    ``executor`` is where a video job runs (``process``, ``thread`` or ``dask``) and
    ``dashboard_url`` the Dask dashboard's address when it runs on Dask.
    """

    job_id: str
    status: JobStatus
    created_at: str
    source: str
    plugins: list[str]
    options: dict[str, Any] = {}
    kind: JobKind = "video"
    name: str | None = None
    config: dict[str, Any] = {}
    started_at: str | None = None
    finished_at: str | None = None
    frames_total: int | None = None
    frames_done: int = 0
    progress: float = 0.0
    error: str | None = None
    output_path: str | None = None
    last_seq: int = 0
    executor: str | None = None
    dashboard_url: str | None = None


_job_request_decoder = msgspec.json.Decoder(JobRequest)
_experiment_request_decoder = msgspec.json.Decoder(ExperimentRequest)


class _KindOnly(msgspec.Struct):
    kind: str = "video"


_kind_decoder = msgspec.json.Decoder(_KindOnly)
_job_record_decoder = msgspec.json.Decoder(JobRecord)


def decode_job_request(data: bytes | str) -> JobRequest:
    """Decode the body of ``POST /v1/jobs``.

    Raises:
        ProtocolError: Malformed JSON, missing ``source``/``plugins``, or wrong types.
    """
    request: JobRequest = decode_with(_job_request_decoder, data)
    return request


def is_experiment_request(data: bytes | str) -> bool:
    """True when a ``POST /v1/jobs`` body asks for an experiment (``"kind": "experiment"``)."""
    try:
        return _kind_decoder.decode(data).kind == "experiment"
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        return False  # not an experiment's; the job request's decoder says what is wrong


def decode_experiment_request(data: bytes | str) -> ExperimentRequest:
    """Decode an experiment's ``POST /v1/jobs`` body.

    Raises:
        ProtocolError: Malformed JSON, a missing ``name``, or wrong types.
    """
    request: ExperimentRequest = decode_with(_experiment_request_decoder, data)
    return request


_JSON_STRING_OR_BRACKET = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
STORED_RECORD_MAX_DEPTH = 64
"""Nesting past which :func:`decode_job_record` replaces a stored value by ``null``."""


def clip_json_depth(data: bytes, max_depth: int) -> bytes:
    """``data`` (JSON) with every list or object nested deeper than ``max_depth`` replaced by
    ``null``. Linear and not recursive, so it works on JSON nested past any decoder's limit."""
    out: list[bytes] = []
    depth = 0
    copied = 0
    clipped_at = -1
    for match in _JSON_STRING_OR_BRACKET.finditer(data):
        token = match.group()
        if token[0] == 0x22:  # a string: brackets inside it are text
            continue
        if token in (b"[", b"{"):
            depth += 1
            if depth == max_depth + 1:
                out.append(data[copied : match.start()])
                out.append(b"null")
                clipped_at = match.start()
        else:
            if depth == max_depth + 1 and clipped_at >= 0:
                copied = match.end()
                clipped_at = -1
            depth -= 1
    out.append(data[copied:])
    return b"".join(out)


def decode_job_record(data: bytes | str) -> JobRecord:
    """Decode a stored :class:`JobRecord`. A record whose ``options`` nest past what the
    decoder can follow (an older server accepted them) is still read, with the values past
    :data:`STORED_RECORD_MAX_DEPTH` levels replaced by ``null``, so one bad record cannot stop
    a listing or a restart.

    Raises:
        msgspec.DecodeError: Not JSON; msgspec.ValidationError: not a job record.
    """
    try:
        record: JobRecord = _job_record_decoder.decode(data)
    except RecursionError:
        raw = data.encode() if isinstance(data, str) else bytes(data)
        record = _job_record_decoder.decode(clip_json_depth(raw, STORED_RECORD_MAX_DEPTH))
    return record
