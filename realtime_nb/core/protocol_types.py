"""The protocol's base vocabulary: versions, statuses, field types, error codes, priorities.

Every other ``protocol_*`` module builds on these; :mod:`realtime_nb.core.protocol` re-exports
them. Pure: no I/O.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "PROTOCOL_VERSION",
    "TERMINAL_STATUSES",
    "ErrorCode",
    "JobKind",
    "JobStatus",
    "NonNegative",
    "PayloadStruct",
    "Percent",
    "PluginState",
    "Priority",
    "ProtocolError",
    "Seq",
    "Severity",
    "Timestamp",
    "decode_with",
]

PROTOCOL_VERSION = 1

Severity = Literal["low", "medium", "high"]
PluginState = Literal["started", "running", "completed", "failed"]
JobKind = Literal["video", "experiment"]
JobStatus = Literal["queued", "running", "completed", "failed", "cancelled", "interrupted"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled", "interrupted"})

Timestamp = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)]
NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Seq = Annotated[int, msgspec.Meta(ge=1)]


class ErrorCode(enum.StrEnum):
    """Machine-readable error codes used in ``error`` messages and REST error bodies."""

    MSG_INVALID_JSON = "MSG_INVALID_JSON"
    MSG_MISSING_FIELD = "MSG_MISSING_FIELD"
    MSG_INVALID = "MSG_INVALID"
    MSG_TOO_LARGE = "MSG_TOO_LARGE"
    MSG_UNKNOWN_TYPE = "MSG_UNKNOWN_TYPE"
    OPTION_INVALID = "OPTION_INVALID"
    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
    RATE_LIMITED = "RATE_LIMITED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PLUGIN_TIMEOUT = "PLUGIN_TIMEOUT"
    PLUGIN_CRASH = "PLUGIN_CRASH"
    PLUGIN_UNKNOWN = "PLUGIN_UNKNOWN"
    PIPELINE_INVALID = "PIPELINE_INVALID"
    DEVICE_UNAVAILABLE = "DEVICE_UNAVAILABLE"
    CONNECTION_LOST = "CONNECTION_LOST"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN_ORIGIN = "FORBIDDEN_ORIGIN"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    SOURCE_INVALID = "SOURCE_INVALID"
    SOURCE_NOT_ALLOWED = "SOURCE_NOT_ALLOWED"
    SOURCE_NOT_FOUND = "SOURCE_NOT_FOUND"
    SOURCE_UNREADABLE = "SOURCE_UNREADABLE"
    JOB_NOT_CANCELLABLE = "JOB_NOT_CANCELLABLE"
    TOO_MANY_JOBS = "TOO_MANY_JOBS"
    STORAGE_UNAVAILABLE = "STORAGE_UNAVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"
    JOB_ENDED = "JOB_ENDED"
    JOB_NOT_FINISHED = "JOB_NOT_FINISHED"
    INTERNAL = "INTERNAL"


class ProtocolError(ValueError):
    """Raised when bytes cannot be decoded into a valid message.

    Attributes:
        code: The :class:`ErrorCode` that names what was wrong.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class Priority(enum.IntEnum):
    """How a message fares in a full per-connection queue; lower is dropped first."""

    PREVIEW = 0
    FRAME = 1
    PROGRESS = 2
    PROTECTED = 3


class PayloadStruct(msgspec.Struct, omit_defaults=True, kw_only=True):
    """Base of every payload: optional fields that are unset are left out of the JSON."""


def decode_with(decoder: msgspec.json.Decoder[Any], data: bytes | str) -> Any:
    """Decode ``data`` with ``decoder``, every failure as a :class:`ProtocolError` with its code."""
    try:
        return decoder.decode(data)
    except RecursionError:
        raise ProtocolError(ErrorCode.MSG_INVALID, "JSON nested too deeply") from None
    except msgspec.ValidationError as exc:
        text = str(exc)
        code = (
            ErrorCode.MSG_MISSING_FIELD
            if "missing required field" in text
            else ErrorCode.MSG_INVALID
        )
        raise ProtocolError(code, text) from None
    except msgspec.DecodeError as exc:
        raise ProtocolError(ErrorCode.MSG_INVALID_JSON, str(exc)) from None
