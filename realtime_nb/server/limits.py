"""What the server accepts from a client: the limits, and the checks that apply them.

Every limit here has a default that a notebook user never meets and is configurable through
:class:`Limits` (``ServerConfig.limits``). Past a limit the client gets a clear 4xx with the
JSON error shape (or an ``error`` message on the WebSocket), never a 5xx, a hang or memory the
server keeps. The checks are linear in the size of what they check, and that size is bounded by
the body limit, so none of them can stall the event loop.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from realtime_nb.core.protocol import MAX_SEQ, ErrorCode, JobRequest, ProtocolError, encode
from realtime_nb.vision.plugins.base import Plugin
from realtime_nb.vision.video import synthetic_frame_size

__all__ = [
    "MIN_EXPOSED_TOKEN_LENGTH",
    "Limits",
    "RequestRejected",
    "check_content_type",
    "check_job_request",
    "check_subscription_id",
    "decode_job_body",
    "exposure_problem",
    "is_loopback",
    "json_depth",
    "parse_seq",
    "redact_tokens",
]


@dataclass
class Limits:
    """The server's limits on what clients send.

    Attributes:
        max_body_bytes: Largest REST request body (413 past it).
        max_options_bytes: Largest ``options`` of a job, as JSON (400 past it).
        max_options_depth: Deepest nesting of ``options`` (400 past it).
        max_plugins_per_job: Most plugins in one job (400 past it).
        max_name_length: Longest plugin name or job id a client may send.
        max_connections: Most WebSocket connections at once (429 past it).
        max_subscriptions_per_connection: Most jobs one connection subscribes to (an ``error``
            message past it).
        max_client_message_bytes: Largest WebSocket message from a client (closed with 1009).
        max_bad_messages_per_s: Bad WebSocket messages a connection may send in one second
            before it is closed with 1008 (policy violation).
        max_client_messages_per_s: Messages of any kind a connection may send in one second
            before it is closed with 1008.
        max_synthetic_pixels: Largest frame (width x height) of a synthetic source.
        max_synthetic_frames: Most frames (seconds x fps) of a synthetic source.
    """

    max_body_bytes: int = 1 << 20
    max_options_bytes: int = 64 << 10
    max_options_depth: int = 16
    max_plugins_per_job: int = 64
    max_name_length: int = 128
    max_connections: int = 256
    max_subscriptions_per_connection: int = 256
    max_client_message_bytes: int = 64 << 10
    max_bad_messages_per_s: int = 100
    max_client_messages_per_s: int = 1000
    max_synthetic_pixels: int = 1920 * 1080
    max_synthetic_frames: int = 30 * 3600


class RequestRejected(Exception):
    """A request the server will not take; ``status`` and ``code`` are what to answer."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def parse_seq(text: str, name: str = "since_seq") -> int:
    """Parse a ``seq`` given as text: ASCII digits only (``str.isdigit`` also takes "²"), at
    most :data:`MAX_SEQ`.

    Raises:
        RequestRejected: Anything else (400, naming ``name``).
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_SEQ:
        raise RequestRejected(
            400, ErrorCode.MSG_INVALID, f"{name} must be a whole number from 0 to {MAX_SEQ}"
        )
    return int(text)


def json_depth(value: Any, stop_at: int) -> int:
    """How deeply lists and dicts nest in ``value`` (a scalar is 0), counting no further than
    ``stop_at``. Iterative: a value nested past Python's recursion limit is measured too."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest >= stop_at:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


_FIELD_HINTS = {
    "$.plugins": 'plugins must be a list of plugin names, e.g. ["motion_detection"]',
    "$.source": "source must be a string: a file path or synthetic://match?...",
    "$.options": 'options must be an object, e.g. {"annotate_video": true}',
}


def decode_job_body(body: bytes) -> JobRequest:
    """Decode a ``POST /v1/jobs`` body, with a sentence for the usual mistakes.

    Raises:
        RequestRejected: Not JSON, or not a job request (400).
    """
    try:
        return msgspec.json.decode(body, type=JobRequest)
    except RecursionError:
        raise RequestRejected(400, ErrorCode.MSG_INVALID, "the body is nested too deeply") from None
    except msgspec.ValidationError as exc:
        text = str(exc)
        code = ErrorCode.MSG_MISSING_FIELD if "missing required field" in text else None
        where = text.rsplit(" - at `", 1)
        if len(where) == 2 and where[1].rstrip("`").split(".")[:2] == ["$", "options"]:
            code = code or ErrorCode.OPTION_INVALID
        for path, hint in _FIELD_HINTS.items():
            if text.startswith("Expected") and text.endswith(f"`{path}`"):
                text = f"{hint} ({text})"
        raise RequestRejected(
            400, code or ErrorCode.MSG_INVALID, f"invalid job request: {text}"
        ) from None
    except msgspec.DecodeError as exc:
        raise RequestRejected(
            400, ErrorCode.MSG_INVALID_JSON, f"the body is not valid JSON: {exc}"
        ) from None


def check_job_request(
    request: JobRequest, limits: Limits, plugin_class: Callable[[str], type[Plugin] | None]
) -> None:
    """Apply the limits and each plugin's declared option schema to a decoded request.

    Args:
        request: The decoded body.
        limits: The server's limits.
        plugin_class: The class registered under a name, or None (unknown names are left to
            the pipeline check, which lists the known ones).

    Raises:
        RequestRejected: Too many plugins, a name too long, options too big or too deep, a
            bad or unknown plugin option, or a synthetic source too large (400).
    """
    if len(request.plugins) > limits.max_plugins_per_job:
        raise RequestRejected(
            400,
            ErrorCode.PIPELINE_INVALID,
            f"{len(request.plugins)} plugins in one job; the limit is {limits.max_plugins_per_job}",
        )
    for name in request.plugins:
        if len(name) > limits.max_name_length:
            raise RequestRejected(
                400,
                ErrorCode.PLUGIN_UNKNOWN,
                f"a plugin name of {len(name)} characters; the limit is {limits.max_name_length}",
            )
    _check_options(request, limits, plugin_class)
    _check_synthetic(request.source, limits)


def _check_options(
    request: JobRequest, limits: Limits, plugin_class: Callable[[str], type[Plugin] | None]
) -> None:
    per_plugin = request.options.plugin_options
    size = len(encode(request.options))
    if size > limits.max_options_bytes:
        raise RequestRejected(
            400,
            ErrorCode.OPTION_INVALID,
            f"options take {size} bytes as JSON; the limit is {limits.max_options_bytes}",
        )
    depth = json_depth(per_plugin, limits.max_options_depth + 3)
    # plugin_options itself and the plugin's own dict are two levels under options.
    if depth - 1 > limits.max_options_depth:
        raise RequestRejected(
            400,
            ErrorCode.OPTION_INVALID,
            f"options nest deeper than {limits.max_options_depth} levels",
        )
    for name, raw in per_plugin.items():
        if name not in request.plugins:
            raise RequestRejected(
                400,
                ErrorCode.OPTION_INVALID,
                f"options.plugin_options names {name[: limits.max_name_length]!r}, "
                "which is not one of this job's plugins",
            )
        cls = plugin_class(name)
        if cls is None:
            continue
        try:
            cls.parse_options(raw)
        except msgspec.ValidationError as exc:
            where = str(exc).replace("`$", f"`$.options.plugin_options.{name}")
            raise RequestRejected(
                400, ErrorCode.OPTION_INVALID, f"bad option for plugin {name!r}: {where}"
            ) from None


def _check_synthetic(source: str, limits: Limits) -> None:
    size = synthetic_frame_size(source)
    if size is None:
        return
    width, height, frames = size
    if width * height > limits.max_synthetic_pixels:
        raise RequestRejected(
            400,
            ErrorCode.SOURCE_INVALID,
            f"a synthetic frame of {width}x{height} pixels; the limit is "
            f"{limits.max_synthetic_pixels} pixels",
        )
    if frames > limits.max_synthetic_frames:
        raise RequestRejected(
            400,
            ErrorCode.SOURCE_INVALID,
            f"a synthetic source of {frames} frames (seconds x fps); the limit is "
            f"{limits.max_synthetic_frames}",
        )


_SUBSCRIPTION_ID = re.compile(r"[A-Za-z0-9_-]+")


def check_subscription_id(job_id: str, limits: Limits) -> None:
    """A job id a client may subscribe to: ``*`` or a job-id-shaped string of bounded length.

    Raises:
        ProtocolError: Anything else (MSG_INVALID).
    """
    if job_id == "*":
        return
    if len(job_id) > limits.max_name_length or not _SUBSCRIPTION_ID.fullmatch(job_id):
        raise ProtocolError(
            ErrorCode.MSG_INVALID,
            f"job_id must be '*' or letters, digits, '-' and '_', at most "
            f"{limits.max_name_length} characters",
        )


_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&#]*", re.IGNORECASE)


def redact_tokens(uri: str) -> str:
    """``uri`` with the value of every ``token=`` query parameter replaced by ``***``."""
    return _TOKEN_IN_QUERY.sub(r"\1***", uri)


def check_content_type(header: str | None) -> None:
    """A state-changing request must declare a JSON body: a browser page cannot send
    ``application/json`` to another origin without asking first (a CORS preflight, which this
    server never grants), so a hostile page cannot create jobs blind.

    Raises:
        RequestRejected: Another content type (415).
    """
    media = (header or "").split(";", 1)[0].strip().lower()
    if media != "application/json":
        raise RequestRejected(
            415,
            ErrorCode.UNSUPPORTED_MEDIA_TYPE,
            f"send the body as Content-Type: application/json (got {media or 'none'!r})",
        )


MIN_EXPOSED_TOKEN_LENGTH = 32
"""Shortest token a server listening beyond loopback accepts."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, token: str | None) -> str | None:
    """Why a server must not start on ``host`` with ``token``, or None if it may.

    Listening beyond loopback puts the API on the network: that needs a token chosen on
    purpose (not one generated and printed to a terminal) of at least
    :data:`MIN_EXPOSED_TOKEN_LENGTH` characters.
    """
    if is_loopback(host):
        return None
    if not token:
        return (
            f"--host {host} listens beyond this machine: give an explicit --token (or "
            f"REALTIME_NB_TOKEN) of at least {MIN_EXPOSED_TOKEN_LENGTH} characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if len(token) < MIN_EXPOSED_TOKEN_LENGTH:
        return (
            f"--host {host} listens beyond this machine: the token has {len(token)} "
            f"characters; it needs at least {MIN_EXPOSED_TOKEN_LENGTH} characters"
        )
    return None
