"""Tests for realtime_nb.vision.plugins.players_tracks."""

from __future__ import annotations

from realtime_nb.vision.plugins.players_tracks import (
    FADE,
    Verdict,
    link_tracks,
    track_teams,
    vote,
)


def _run(frames: list[tuple[list[list[int]], list[Verdict]]]) -> list[list[Verdict]]:
    tracks: list[list[float]] = []
    out = []
    for boxes, verdicts in frames:
        tracks, verdict = vote(tracks, boxes, verdicts)
        out.append(verdict)
    return out


def test_one_washed_frame_does_not_move_a_player_off_their_team() -> None:
    box = [10, 10, 13, 21]
    frames = [([box], [("player", 1, 0.8)])] * 3 + [([box], [("player", 0, 0.6)])]
    frames += [([box], [("goalkeeper", None, 0.6)])]
    out = _run(frames)
    assert [v[:2] for v in out[-1] + out[-2]] == [("player", 1), ("player", 1)]
    assert out[-1][0][2] == 0.5


def test_a_steady_new_reading_wins_once_the_old_votes_fade() -> None:
    # Ten frames of team 1, then team 0 steadily, all at 0.8: team 0 wins on the first frame
    # its faded-and-summed votes pass team 1's faded ones, and not a frame sooner.
    box = [10, 10, 13, 21]
    old = sum(0.8 * FADE**i for i in range(10))
    flip = next(n for n in range(1, 200) if sum(0.8 * FADE**i for i in range(n)) > old * FADE**n)
    assert flip > 2  # one or two new readings do not outvote ten old ones
    frames = [([box], [("player", 1, 0.8)])] * 10 + [([box], [("player", 0, 0.8)])] * flip
    teams = [v[0][1] for v in _run(frames)]
    assert teams[: 10 + flip - 1] == [1] * (10 + flip - 1)
    assert teams[-1] == 0


def test_a_box_overlapping_no_box_before_keeps_its_own_reading() -> None:
    frames: list[tuple[list[list[int]], list[Verdict]]] = [
        ([[10, 10, 13, 21]], [("player", 1, 0.9)]),
        ([[40, 10, 43, 21]], [("player", 0, 0.7)]),
    ]
    assert _run(frames)[1] == [("player", 0, 0.7)]


def test_each_box_links_to_the_box_before_it_overlaps_most_and_only_one() -> None:
    before = [[10, 10, 13, 21], [15, 10, 18, 21]]
    frames: list[tuple[list[list[int]], list[Verdict]]] = [
        (before, [("player", 0, 0.9), ("player", 1, 0.9)]),
        ([[11, 10, 14, 21], [15, 10, 18, 21]], [("player", 1, 0.6), ("player", 0, 0.6)]),
    ]
    assert [v[:2] for v in _run(frames)[1]] == [("player", 0), ("player", 1)]
    # Both boxes now overlap the first box before most: only one takes its votes.
    frames[1] = ([[10, 10, 13, 21], [11, 10, 14, 21]], [("player", 1, 0.6), ("player", 1, 0.6)])
    assert [v[:2] for v in _run(frames)[1]] == [("player", 0), ("player", 1)]


def test_a_player_of_no_team_passes_through_without_a_vote() -> None:
    box = [10, 10, 13, 21]
    tracks, out = vote([], [box], [("player", None, 0.5)])
    assert out == [("player", None, 0.5)]
    assert tracks == [[10.0, 10.0, 13.0, 21.0, 0.0, 0.0, 0.0, 0.0]]
    assert vote([], [], []) == ([], [])


def test_links_worked_out_once_give_the_vote_and_the_track_teams_the_same_tracks() -> None:
    first = [[0, 0, 3, 9], [5, 0, 8, 9], [30, 0, 33, 9]]
    tracks, _ = vote([], first, [("player", 0, 0.9), ("player", 1, 0.8), ("goalkeeper", None, 0.6)])
    # Each of the first three moved a pixel; the fourth is new.
    boxes = [[1, 0, 4, 9], [4, 0, 7, 9], [31, 0, 34, 9], [60, 0, 63, 9]]
    links = link_tracks(tracks, boxes)
    assert links == ([0, 1, 2], [0, 1, 2])
    readings: list[Verdict] = [("player", 1, 0.6)] * 4
    assert vote(tracks, boxes, readings, links) == vote(tracks, boxes, readings)
    assert track_teams(tracks, boxes, links) == track_teams(tracks, boxes) == [0, 1, None, None]
    assert link_tracks([], boxes) == ([], []) and link_tracks(tracks, []) == ([], [])


def test_a_far_players_thin_box_keeps_its_votes_when_its_width_jitters() -> None:
    # A far player 12 rows tall is 2 or 3 px wide: as they move, their box loses or gains a
    # column and shifts, and one 3 px box followed by a 2 px box just past it overlaps it not
    # at all. A fresh track then let washed readings put the player on the other team
    # (320x180 to 352x198 JPEG tuning clips). Linked as half as wide as tall, it keeps its votes.
    frames: list[tuple[list[list[int]], list[Verdict]]] = [
        ([[10, 10, 12, 21]], [("player", 1, 0.9)]),
    ] * 5 + [([[13, 10, 14, 21]], [("player", 0, 0.9)])]
    assert _run(frames)[-1] == [("player", 1, 0.5)]
    assert link_tracks(
        vote([], [[10, 10, 12, 21]], [("player", 1, 0.9)])[0], [[13, 10, 14, 21]]
    ) == (
        [0],
        [0],
    )
    # Two far players a few pixels apart stay apart; a wide box is linked as before.
    tracks, _ = vote([], [[10, 10, 12, 21]], [("player", 1, 0.9)])
    assert link_tracks(tracks, [[19, 10, 21, 21]]) == ([], [])
    tracks, _ = vote([], [[10, 10, 19, 21]], [("player", 1, 0.9)])
    assert link_tracks(tracks, [[18, 10, 27, 21]]) == ([], [])
