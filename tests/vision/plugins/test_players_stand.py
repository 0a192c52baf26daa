"""Tests for players_stand: the stand beyond the far touchline cleared from the candidates."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_nb.vision.plugins.players_stand import (
    clear_stand_edge,
    without_stand_edge,
    without_stand_rows,
)


def test_rows_mostly_filled_across_the_pitch_are_the_stand() -> None:
    region = np.zeros((60, 100), np.uint8)
    region[:, 10:90] = 255
    candidates = np.zeros_like(region)
    candidates[5:9, 10:90] = 255  # the stand beyond the touchline
    candidates[5:30, 40:45] = 255  # a player standing on it
    cleared = without_stand_rows(candidates, region)
    assert not cleared[5:9].any()
    assert cleared[9:30, 40:45].all()
    assert (without_stand_rows(cleared, region) == cleared).all()


def _slanted(rows: int = 180, cols: int = 320) -> tuple[np.ndarray, np.ndarray]:
    """A region whose top edge slants down 20 rows across, and candidates with a strip 3 rows
    deep along that edge (too few per row to be stand rows)."""
    region = np.zeros((rows, cols), np.uint8)
    candidates = np.zeros_like(region)
    for x in range(cols):
        top = 20 + x * 20 // cols
        region[top:, x] = 255
        candidates[top : top + 3, x] = 255
    return region, candidates


def test_a_slanted_strip_along_the_top_edge_is_cleared_and_players_below_stay() -> None:
    region, candidates = _slanted()
    candidates[26:38, 100:104] = 255  # a player reaching into the strip (its top at row 26)
    candidates[60:72, 200:204] = 255  # a player well below it
    assert (without_stand_rows(candidates, region) == candidates).all()  # rows too short
    cleared = without_stand_edge(candidates, region)
    assert not cleared[:, 150:160].any()  # the strip alone
    assert not cleared[26:30, 100:104].any()  # the strip's 3 rows and the fringe's one
    assert cleared[30:38, 100:104].all()
    assert (cleared[60:72, 200:204] == candidates[60:72, 200:204]).all()
    assert cleared.sum() == cleared[30:38, 100:104].sum() + candidates[60:72, 200:204].sum()


@pytest.mark.parametrize("players", [3, 6])
def test_players_at_the_strip_do_not_deepen_it(players: int) -> None:
    region, candidates = _slanted()
    for k in range(players):  # people a few columns apart, all reaching into the strip
        x = 60 + 9 * k
        candidates[24:36, x : x + 4] = 255
    cleared = without_stand_edge(candidates, region)
    for k in range(players):
        for x in range(60 + 9 * k, 64 + 9 * k):
            top = 20 + x * 20 // 320  # the region's edge in this column
            # The strip's 3 rows and the fringe's one go; the rest of the person stays.
            assert cleared[top + 4 : 36, x].all()
            assert not cleared[top : top + 4, x].any()


def test_nothing_is_cleared_without_a_strip_or_a_region() -> None:
    region, _ = _slanted()
    candidates = np.zeros_like(region)
    candidates[60:72, 200:204] = 255
    assert (without_stand_edge(candidates, region) == candidates).all()
    assert (without_stand_edge(candidates, np.zeros_like(region)) == candidates).all()


def test_the_strip_cleared_in_place_is_the_one_returned_and_the_input_stays() -> None:
    region, candidates = _slanted()
    candidates[24:36, 60:64] = 255
    candidates[60:72, 200:204] = 255
    before = candidates.copy()
    cleared = without_stand_edge(candidates, region)
    assert (candidates == before).all()  # a copy was cleared
    assert (cleared != before).any()
    clear_stand_edge(candidates, region)
    assert (candidates == cleared).all()
