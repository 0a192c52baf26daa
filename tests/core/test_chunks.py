"""Chunk planning: every frame reported once, warm-ups long enough, one chunk when needed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_nb.core.chunks import MIN_CHUNK_FRAMES, Chunk, pipeline_history, plan


def test_pipeline_history_is_the_longest_and_none_wins() -> None:
    assert pipeline_history([0, 0]) == 0
    assert pipeline_history([2, 7, 0]) == 7
    assert pipeline_history([2, None, 7]) is None
    with pytest.raises(ValueError, match=">= 0 or None"):
        pipeline_history([-1])


def test_stateless_chunks_have_no_warmup() -> None:
    chunks = plan(100, workers=2, history=0)
    assert [(c.start, c.stop) for c in chunks] == [(0, 25), (25, 50), (50, 75), (75, 100)]
    assert all(c.warmup_start == c.start for c in chunks)


def test_history_starts_each_chunk_early_but_never_before_frame_zero() -> None:
    chunks = plan(90, workers=3, history=40, chunks_per_worker=1)
    assert [(c.warmup_start, c.start, c.stop) for c in chunks] == [
        (0, 0, 30),
        (0, 30, 60),
        (20, 60, 90),
    ]
    assert [c.warmup_frames for c in chunks] == [0, 30, 40]


def test_whole_past_or_unknown_length_is_one_chunk() -> None:
    assert plan(500, workers=4, history=None) == [Chunk(0, 0, 500, 0)]
    assert plan(None, workers=4, history=0) == [Chunk(0, 0, None, 0)]
    assert len(plan(None, workers=4, history=0)[0]) == 0


def test_short_videos_are_not_split_below_the_minimum() -> None:
    assert len(plan(MIN_CHUNK_FRAMES * 2 - 1, workers=8, history=0)) == 1
    assert len(plan(MIN_CHUNK_FRAMES * 2, workers=8, history=0)) == 2


def test_explicit_chunk_size_and_resumed_start() -> None:
    chunks = plan(100, workers=1, history=3, start_frame=40, chunk_frames=25)
    assert [(c.warmup_start, c.start, c.stop) for c in chunks] == [
        (37, 40, 65),
        (62, 65, 90),
        (87, 90, 100),
    ]
    assert plan(10, workers=2, history=0, start_frame=10) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"workers": 0}, "workers"),
        ({"chunk_frames": 0}, "chunk_frames"),
        ({"start_frame": -1}, ">= 0"),
        ({"history": -2}, ">= 0"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, int], match: str) -> None:
    args: dict[str, int] = {"workers": 2, "history": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        plan(100, **args)


@given(
    frames=st.integers(0, 5000),
    start=st.integers(0, 200),
    workers=st.integers(1, 16),
    history=st.one_of(st.none(), st.integers(0, 300)),
    chunk_frames=st.one_of(st.none(), st.integers(1, 700)),
)
def test_every_frame_is_reported_exactly_once_after_enough_warmup(
    frames: int, start: int, workers: int, history: int | None, chunk_frames: int | None
) -> None:
    chunks = plan(frames, workers, history, start_frame=start, chunk_frames=chunk_frames)
    reported = [i for c in chunks for i in range(c.start, c.stop or c.start)]
    assert reported == list(range(start, frames))
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 <= chunk.warmup_start <= chunk.start
        if history is None:
            assert len(chunks) == 1
        else:
            assert chunk.warmup_start == max(0, chunk.start - history)
