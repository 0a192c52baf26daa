"""The plugins' shared numeric helpers against the numpy code they stand for."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from realtime_nb.vision.plugins.arrays import Buffers, clip, flatnonzero, median, near_along_both


@given(
    hnp.arrays(
        st.sampled_from([np.uint8, np.int16, np.float64]),
        hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=40),
        elements={"min_value": 0, "max_value": 200},
    )
)
def test_median_is_numpys_median(values: np.ndarray) -> None:
    # Odd and even counts; the plugins' brightness, green excess and height ratios.
    assert median(values) == float(np.median(values))


_COORDINATE = st.one_of(st.floats(-5, 5), st.just(math.nan), st.just(math.inf))


@given(
    st.lists(st.tuples(_COORDINATE, _COORDINATE), max_size=8),
    st.lists(st.tuples(_COORDINATE, _COORDINATE), max_size=8),
    st.floats(0.1, 3.0),
)
def test_near_along_both_is_near_along_x_and_along_y(
    first: list[tuple[float, float]], second: list[tuple[float, float]], reach: float
) -> None:
    near = near_along_both(
        np.array(first, np.float64).reshape(-1, 2),
        np.array(second, np.float64).reshape(-1, 2),
        reach,
    )
    assert near.shape == (len(first), len(second))
    for i, (x, y) in enumerate(first):
        for j, (u, v) in enumerate(second):
            expected = abs(x - u) <= reach and abs(y - v) <= reach
            assert near[i, j] == expected
            if math.dist((x, y), (u, v)) <= reach:
                assert near[i, j]  # a pair within reach in all is never left out


def test_a_pair_exactly_reach_apart_along_either_axis_is_near() -> None:
    origin = np.array([[0.0, 0.0]])
    others = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 2.0], [2.5, 0.0], [-2.0, -2.0]])
    assert near_along_both(origin, others, 2.0).tolist() == [[True, True, True, False, True]]


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=2, max_side=12),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    ),
    st.floats(-10, 0),
    st.floats(0, 10),
)
def test_clip_is_numpys_clip(values: np.ndarray, low: float, high: float) -> None:
    assert np.array_equal(clip(values, low, high), np.clip(values, low, high), equal_nan=True)


def test_clip_keeps_integer_indices_within_the_image() -> None:
    index = np.array([-3, 0, 4, 9, 12], np.int64)
    out = clip(index, 0, 9)
    assert out.dtype == np.int64 and out.tolist() == [0, 0, 4, 9, 9]


def test_buffers_are_kept_by_name_while_shape_and_type_stay() -> None:
    buffers = Buffers()
    first = buffers.get("a", (3, 4))
    assert first.shape == (3, 4) and first.dtype == np.uint8
    assert buffers.get("a", (3, 4)) is first
    assert buffers.get("b", (3, 4)) is not first  # another name, another array
    assert buffers.get("a", (3, 4)) is first
    wider = buffers.get("a", (3, 5))
    assert wider.shape == (3, 5) and wider is not first
    deeper = buffers.get("a", (3, 5), np.uint16)
    assert deeper.dtype == np.uint16 and deeper is not wider
    assert buffers.get("a", (3, 5), np.uint16) is deeper


def test_a_part_of_buffers_is_a_view_of_the_whole_ones() -> None:
    buffers = Buffers()
    whole = buffers.get("a", (6, 8))
    part = buffers.part((6, 8), slice(1, 4), slice(2, 7))
    view = part.get("a", (3, 5))
    view.fill(9)
    assert np.shares_memory(view, whole) and int(whole[1:4, 2:7].min()) == 9
    # Another rectangle next frame: the same memory again.
    moved = buffers.part((6, 8), slice(0, 6), slice(0, 3)).get("a", (6, 3))
    assert np.shares_memory(moved, whole)
    with pytest.raises(ValueError):
        part.get("a", (4, 5))  # not the part's shape


def test_renamed_buffers_are_the_arrays_kept_under_the_other_names() -> None:
    buffers = Buffers()
    renamed = buffers.renamed({"b": "a"})
    assert renamed.get("b", (3, 4)) is buffers.get("a", (3, 4))
    assert renamed.get("c", (3, 4)) is buffers.get("c", (3, 4))  # a name not renamed
    # A part of renamed arrays: views of the arrays kept under the other names.
    view = renamed.part((3, 4), slice(1, 3), slice(0, 2)).get("b", (2, 2))
    assert np.shares_memory(view, buffers.get("a", (3, 4)))


@given(
    hnp.arrays(
        np.uint8,
        hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=40),
        elements=st.sampled_from([0, 0, 0, 1, 255]),
    )
)
def test_flatnonzero_is_numpys(mask: np.ndarray) -> None:
    # Sizes that are and are not a whole number of eight-pixel words, sparse and dense.
    np.testing.assert_array_equal(flatnonzero(mask), np.flatnonzero(mask))
    if mask.ndim == 2 and mask.shape[1] > 1:
        part = mask[:, 1:]  # not contiguous
        np.testing.assert_array_equal(flatnonzero(part), np.flatnonzero(part))
