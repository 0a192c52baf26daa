"""Tests of realtime_nb.core.protocol_records: job requests and stored job records."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb.core import protocol_records as r
from realtime_nb.core.protocol_types import ErrorCode, ProtocolError


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", ErrorCode.MSG_INVALID_JSON),
        (b'{"plugins": ["a"]}', ErrorCode.MSG_MISSING_FIELD),
        (b'{"source": "x"}', ErrorCode.MSG_MISSING_FIELD),
        (b'{"source": 3, "plugins": ["a"]}', ErrorCode.MSG_INVALID),
        (b'{"source": "x", "plugins": ["a"], "extra": 1}', ErrorCode.MSG_INVALID),
    ],
)
def test_job_request_errors(body: bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        r.decode_job_request(body)
    assert info.value.code == code


def test_job_request_defaults_options() -> None:
    req = r.decode_job_request(b'{"source": "s", "plugins": ["a", "b"]}')
    assert req.options == r.JobOptions() and req.plugins == ["a", "b"]


# --- hostile input ----------------------------------------------------------------------------

_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab,:', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(value=_JSON_VALUES, limit=st.integers(0, 6))
def test_clip_json_depth_keeps_valid_json_within_the_depth(value: object, limit: int) -> None:
    clipped = msgspec.json.decode(r.clip_json_depth(msgspec.json.encode(value), limit))
    assert _depth(clipped) <= limit
    if _depth(value) <= limit:
        assert clipped == value  # nothing within the limit changes, strings with brackets neither


def test_a_stored_record_nested_past_the_decoder_still_decodes() -> None:
    options = b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b', "y": "[[{"}'
    blob = (
        b'{"job_id": "j-1", "status": "running", "created_at": "2026-01-01T00:00:00.000Z", '
        b'"source": "s", "plugins": ["a"], "options": ' + options + b"}"
    )
    record = r.decode_job_record(blob)
    assert record.job_id == "j-1" and record.options["y"] == "[[{"
    assert _depth(record.options) == r.STORED_RECORD_MAX_DEPTH - 1  # the record is level 1
