"""Tests of realtime_nb.vision.broadcast.match and of ``realtime-nb eval --broadcast``."""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import pytest

from realtime_nb.vision.broadcast import BROADCAST_CLIPS, BroadcastMatch, ClipConfig
from realtime_nb.vision.broadcast.match import (
    TuningClipError,
    broadcast_match,
    check_tuning_clip,
    tuning_match,
)
from realtime_nb.vision.evaluation import add_eval_parser, run_eval_command


def test_a_broadcast_match_gives_frames_info_and_truth_like_a_synthetic_match() -> None:
    match = BroadcastMatch(ClipConfig(seed=4, width=160, height=90, frames=2))
    assert (match.info.width, match.info.height, match.info.fps, match.info.frame_count) == (
        160, 90, 25.0, 2,
    )  # fmt: skip
    frames = list(match)
    assert len(frames) == len(match) == len(match.truth) == 2
    assert frames[0].shape == (90, 160, 3) and frames[0].dtype == np.uint8
    assert [t.frame_index for t in match.truth] == [0, 1]
    fresh = BroadcastMatch(ClipConfig(seed=4, width=160, height=90, frames=2))
    assert fresh.truth[1] == match.truth[1]  # rendered on demand when not kept
    with pytest.raises(IndexError):
        match.truth[2]


def test_the_named_clips_and_their_labels() -> None:
    assert sorted(BROADCAST_CLIPS) == list(range(1, 17))
    assert all(cfg.frames == 100 for cfg in BROADCAST_CLIPS.values())
    match = broadcast_match(1, frames=1)
    assert len(match) == 1
    assert match.label(1) == "broadcast 1: 640x360 red/white v blue, camera 14 m"


def test_the_second_set_adds_what_the_first_lacks() -> None:
    labels = {n: broadcast_match(n, frames=1).label(n) for n in range(9, 17)}
    assert labels[9].startswith("broadcast 9: 320x180 ")
    assert labels[10].startswith("broadcast 10: 1920x1080 ")
    assert labels[11].endswith("camera 10 m") and labels[12].endswith("camera 30 m")
    assert " white v skyblue/white, " in labels[13]
    assert labels[15].startswith("broadcast 15: 960x540 ")
    assert labels[16].startswith("broadcast 16: 1280x720 claret v white/dkgreen, camera 12 m")
    first = {(c.width, c.height, c.kits, c.cam_height) for n, c in BROADCAST_CLIPS.items() if n < 9}
    second = [BROADCAST_CLIPS[n] for n in range(9, 17)]
    assert not {(c.width, c.height, c.kits, c.cam_height) for c in second} & first
    assert len({c.seed for c in BROADCAST_CLIPS.values()}) == len(BROADCAST_CLIPS)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers())
    return parser.parse_args(argv)


def test_eval_broadcast_defaults_to_every_clip() -> None:
    args = _parse(["eval", "--broadcast", "--no-fps"])
    assert args.broadcast == list(range(1, 17))
    assert _parse(["eval"]).broadcast is None
    assert _parse(["eval", "--broadcast", "7,1"]).broadcast == [7, 1]


@pytest.mark.parametrize("value", ["17", "", "1,x", "0"])
def test_eval_broadcast_refuses_clips_that_are_not_there(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parse(["eval", "--broadcast", value])
    assert exit_.value.code == 2
    assert "--broadcast" in capsys.readouterr().err


def test_eval_broadcast_prints_a_row_per_clip(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        run_eval_command(_parse(["eval", "--broadcast", "1,2", "--seconds", "0.12", "--no-fps"]))
        == 0
    )
    out = capsys.readouterr().out
    assert out.startswith("Accuracy on broadcast clips")
    rows = [line for line in out.splitlines() if line.startswith("| broadcast ")]
    assert [row.split(":")[0] for row in rows] == ["| broadcast 1", "| broadcast 2"]
    assert "640x360 red/white v blue, camera 14 m" in rows[0]
    assert "Frames per second" not in out


def test_a_tuning_clip_is_a_numbered_clips_knobs_with_another_seed() -> None:
    like = tuning_match(628, like=4, frames=3)
    assert like.clip.cfg == dataclasses.replace(BROADCAST_CLIPS[4], seed=628, frames=3)
    assert like.label().startswith("640x360 black/white v orange, camera ")  # clip 4's kits
    drawn = tuning_match(300)
    assert drawn.clip.cfg == ClipConfig(seed=300) and len(drawn) == 100


@pytest.mark.parametrize("like", [None, 1, 4])
def test_a_numbered_clips_seed_is_no_tuning_clip(like: int | None) -> None:
    for cfg in BROADCAST_CLIPS.values():
        with pytest.raises(TuningClipError, match=f"seed {cfg.seed} is a numbered broadcast clip"):
            tuning_match(cfg.seed, like)


@pytest.mark.parametrize(
    ("seed", "like", "said"),
    [(300, 17, "no broadcast clip 17"), (-1, None, "out of range"), (2**32, 4, "out of range")],
)
def test_a_tuning_clip_needs_a_clip_number_and_a_seed_in_range(
    seed: int, like: int | None, said: str
) -> None:
    with pytest.raises(TuningClipError, match=said):
        check_tuning_clip(seed, like)
    check_tuning_clip(2**32 - 1, 8)  # the last seed, any clip's knobs
