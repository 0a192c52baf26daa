"""Tests of realtime_nb.vision.evaluation: the scoring rules, and the football plugins' accuracy on
synthetic clips they were not tuned on (floors a little below the issue's targets)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from realtime_nb.vision import evaluation, realfootage
from realtime_nb.vision.evaluation import (
    HELD_OUT_VARIATIONS,
    TUNING_VARIATIONS,
    EvalReport,
    Scores,
    add_eval_parser,
    evaluate,
    format_table,
    run_eval_command,
    score_frame,
    time_plugins,
)
from realtime_nb.vision.synthetic import (
    BallTruth,
    FrameTruth,
    PlayerTruth,
    check_synthetic_params,
    synthetic_match,
)


@pytest.fixture(scope="module")
def report() -> EvalReport:
    # Seeds 101 and 505 are outside the tuning seeds (0-7); 3 s each keeps this under ~10 s.
    return evaluate(seeds=[101, 505], knob_settings=[{}], seconds=3, fps_sizes=())


def test_default_knobs_meet_the_floors(report: EvalReport) -> None:
    s = report.overall({})
    assert s.frames == 150
    # Targets: P/R >= 0.90, team >= 0.95, ball >= 85 % with median <= 3 px, corners <= 8 px.
    # Measured on these clips: P 0.98, R 0.97, team 1.00, ball 0.98 at 0.2 px, corners 2.3 px.
    assert s.precision >= 0.88
    assert s.recall >= 0.88
    assert s.team_accuracy >= 0.93
    assert s.ball_visible > 40
    assert s.ball_rate >= 0.82
    assert s.ball_median_error is not None and s.ball_median_error <= 3.0
    assert s.corners_visible > 50
    assert s.corner_rate >= 0.9
    assert s.corner_median_error is not None and s.corner_median_error <= 8.0
    # Targets: homography in >= 90 % of frames, position error median <= 1 m and p95 <= 3 m.
    # Measured on these clips: 100 %, 0.02 m / 0.04 m; radar 0.37 m (boxes included).
    assert s.pitch_frames == 150
    assert s.homography_rate >= 0.85
    assert s.homography_median_error is not None and s.homography_median_error <= 1.2
    assert s.homography_p95_error is not None and s.homography_p95_error <= 3.5
    assert len(s.radar_errors) > 1000
    assert s.radar_median_error is not None and s.radar_median_error <= 1.5


def test_harder_knobs_still_work() -> None:
    s = evaluate([202], [{"noise": 6.0, "blur": 3}], seconds=2, fps_sizes=())
    overall = s.overall()
    assert overall.precision >= 0.85 and overall.recall >= 0.85  # measured 0.99 / 0.98
    # Measured 0.51 (0.95 before the ball's geometry, kit and fixture checks): below the 0.85
    # target, reported as not reached in the README; this floor only guards against worse.
    assert overall.ball_rate >= 0.45
    assert overall.homography_rate >= 0.85  # measured 1.0
    assert overall.homography_median_error is not None
    assert overall.homography_median_error <= 1.2  # measured 0.02 m


def test_a_knob_setting_may_set_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes: list[tuple[int, int]] = []
    render = evaluation.synthetic_match

    def recorded(*args: Any, **kwargs: Any) -> Any:
        clip = render(*args, **kwargs)
        sizes.append((clip.info.width, clip.info.height))
        return clip

    monkeypatch.setattr(evaluation, "synthetic_match", recorded)
    report = evaluate([3], [{"width": 320, "height": 180}, {}], seconds=0.08, fps_sizes=())
    assert [k for k, _ in report.by_knobs()] == [{"width": 320, "height": 180}, {}]
    assert sizes == [(320, 180), (640, 360)]


def truth(players: list[PlayerTruth], ball: BallTruth | None = None) -> FrameTruth:
    corners = [(100.0, 100.0), (3.0, 50.0)]  # the second is at the frame's edge: not scored
    return FrameTruth(0, players, ball, corners, [[1, 0, 0], [0, 1, 0], [0, 0, 1]])


A = PlayerTruth((10, 10, 19, 49), "player", 0)
B = PlayerTruth((50, 10, 59, 49), "player", 1)
REF = PlayerTruth((90, 10, 99, 49), "referee", None)


def det(box: tuple[int, ...], team: int | None = None, role: str = "player") -> dict[str, Any]:
    return {"box": list(box), "team": team, "class": role, "confidence": 0.9}


@pytest.mark.parametrize(
    ("detections", "tp", "fp", "fn"),
    [
        ([det(A.box, 0), det(B.box, 1), det(REF.box, None, "referee")], 3, 0, 0),
        ([], 0, 0, 3),
        ([det((11, 12, 20, 50), 0)], 1, 0, 2),  # shifted a pixel or two: IoU ~0.8
        ([det((10, 30, 19, 49), 0)], 1, 0, 2),  # the lower half: IoU 0.5 is enough
        ([det((10, 31, 19, 49), 0)], 0, 1, 3),  # a row less: IoU 0.475 is not
        ([det(A.box, 0), det(A.box, 0)], 1, 1, 2),  # a duplicate is a false positive
        ([det((200, 200, 210, 240))], 0, 1, 3),
    ],
)
def test_player_matching(detections: list[dict[str, Any]], tp: int, fp: int, fn: int) -> None:
    s = score_frame(truth([A, B, REF]), {"player_detection": {"detections": detections}}, 320, 240)
    assert (s.true_pos, s.false_pos, s.false_neg) == (tp, fp, fn)


@pytest.mark.parametrize(
    ("teams", "accuracy"),
    [((0, 1), 1.0), ((1, 0), 1.0), ((0, 0), 0.5), ((None, 1), 0.5), ((None, None), 0.0)],
)
def test_team_accuracy_allows_swapped_ids(teams: tuple[int | None, ...], accuracy: float) -> None:
    detections = [det(A.box, teams[0]), det(B.box, teams[1]), det(REF.box)]
    s = score_frame(truth([A, B, REF]), {"player_detection": {"detections": detections}}, 320, 240)
    assert s.team_accuracy == accuracy  # the referee is not counted


def test_team_swap_is_decided_per_clip_not_per_frame() -> None:
    total = Scores()
    total += Scores(team_pairs=[[(0, 0), (1, 1)]])
    total += Scores(team_pairs=[[(0, 1), (1, 0)]])
    assert total.team_accuracy == 1.0
    mixed = Scores(team_pairs=[[(0, 0), (1, 1), (0, 1), (1, 0)]])
    assert mixed.team_accuracy == 0.5


@pytest.mark.parametrize(
    ("ball", "found", "error"),
    [
        ({"center": [40.0, 40.0]}, 1, 0.0),
        ({"center": [43.0, 44.0]}, 1, 5.0),
        ({"center": [40.0, 47.0]}, 0, 7.0),
        (None, 0, None),
    ],
)
def test_ball_scoring(ball: dict[str, Any] | None, found: int, error: float | None) -> None:
    s = score_frame(
        truth([], BallTruth((40.0, 40.0), 2.0)), {"ball_detection": {"ball": ball}}, 320, 240
    )
    assert (s.ball_visible, s.ball_found) == (1, found)
    assert s.ball_median_error == error


def test_hidden_ball_is_not_scored() -> None:
    s = score_frame(truth([]), {"ball_detection": {"ball": {"center": [1, 1]}}}, 320, 240)
    assert s.ball_visible == 0 and s.ball_rate == 1.0


@pytest.mark.parametrize(
    ("detected", "found", "errors"),
    [
        ([[100.0, 103.0]], 1, [3.0]),
        ([[130.0, 100.0]], 0, []),
        ([], 0, []),
        ([[3.0, 50.0], [104.0, 97.0]], 1, [5.0]),
    ],
)
def test_corner_scoring(detected: list[list[float]], found: int, errors: list[float]) -> None:
    s = score_frame(truth([]), {"pitch_detection": {"detected_corners": detected}}, 320, 240)
    assert (s.corners_visible, s.corners_found, s.corner_errors) == (1, found, errors)


SHIFTED = [[1.0, 0.0, 3.0], [0.0, 1.0, 4.0], [0.0, 0.0, 1.0]]  # 3 px right, 4 px down


@pytest.mark.parametrize(
    ("homography", "found", "errors"),
    [
        ([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 1, [0.0, 0.0]),
        (SHIFTED, 1, [5.0, 5.0]),  # the truth is the identity: 1 px is 1 m
        (None, 0, []),
    ],
)
def test_homography_scoring(
    homography: list[list[float]] | None, found: int, errors: list[float]
) -> None:
    results = {"pitch_detection": {"homography": homography}}
    s = score_frame(truth([A, B]), results, 320, 240)
    assert (s.pitch_frames, s.homography_frames) == (1, found)
    assert s.homography_errors == pytest.approx(errors)
    assert s.homography_rate == found


def test_radar_scoring_follows_player_matching() -> None:
    detections = [det(B.box, 1), det((200, 200, 210, 240)), det(A.box, 0)]
    results = {
        "player_detection": {"detections": detections},
        "radar": {"players": [{"position": [54.5, 49.0]}, {"position": [0, 0]},
                              {"position": [14.5, 52.0]}]},
    }  # fmt: skip
    s = score_frame(truth([A, B]), results, 320, 240)
    # A's feet are at (14.5, 49) and B's at (54.5, 49) through the identity truth.
    assert s.radar_errors == pytest.approx([3.0, 0.0]) or s.radar_errors == pytest.approx(
        [0.0, 3.0]
    )
    assert s.radar_median_error == pytest.approx(1.5)
    assert Scores().radar_median_error is None and Scores().homography_rate == 1.0


def test_missing_plugins_score_nothing() -> None:
    s = score_frame(truth([A], BallTruth((1.0, 1.0), 2.0)), {}, 320, 240)
    assert (s.true_pos, s.false_neg, s.ball_visible, s.corners_visible) == (0, 0, 0, 0)


def test_format_table(report: EvalReport) -> None:
    with_fps = EvalReport(
        report.clips,
        {"ball_detection": {"640x360": 300.0, "1280x720": 80.0}, "radar": {"640x360": 9e4}},
        report.width,
        report.height,
        report.seconds,
    )
    text = format_table(with_fps)
    assert "seeds 101, 505" in text
    assert "| defaults | 0.9" in text
    assert "| homography | H err m (median / p95) | radar err m |" in text
    assert "| plugin | 640x360 | 1280x720 |" in text
    assert "| ball_detection | 300 | 80 |" in text
    assert "| radar | 90000 | - |" in text
    assert "Frames per second" not in format_table(report)


def test_time_plugins_runs_requirements_first() -> None:
    fps = time_plugins(["radar", "ball_detection"], [(160, 96)], frames=2)
    assert set(fps) == {"radar", "ball_detection"}
    assert fps["radar"]["160x96"] > 0 and fps["ball_detection"]["160x96"] > 0


def test_eval_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["eval", "--seeds", "9", "--seconds", "0.4", "--width", "320", "--height", "180",
         "--knobs", '{"noise": 1}', "--no-fps", "--no-held-out", "--json"]
    )  # fmt: skip
    assert run_eval_command(args) == 0
    out = capsys.readouterr().out
    assert "| noise=1 |" in out
    assert '"precision"' in out
    assert "Frames per second" not in out


def test_eval_command_scores_only_the_rows_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["eval", "--seeds", "9", "--seconds", "0.2", "--no-fps", "--row", "true-size ball",
         "--row", "320x180, jpeg"]
    )  # fmt: skip
    assert run_eval_command(args) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    labels = [line.split(" | ")[0].removeprefix("| ") for line in rows[1:]]
    assert labels == ["held out: true-size ball", "held out: 320x180, jpeg"]


def test_eval_command_names_the_rows_when_one_is_unknown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "--no-fps", "--row", "no such row"])
    with pytest.raises(SystemExit) as exit_info:
        run_eval_command(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "'no such row'" in err and "true-size ball, white socks" in err
    # A tuning look's label among the held-out rows: told to add --tuning.
    args = parser.parse_args(["eval", "--no-fps", "--row", "tune true ball"])
    with pytest.raises(SystemExit):
        run_eval_command(args)
    assert "add --tuning" in capsys.readouterr().err


@pytest.mark.parametrize("other", [["--no-held-out"], ["--real"], ["--broadcast", "1"]])
def test_eval_command_refuses_rows_with_an_option_that_scores_none(
    other: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "--no-fps", "--row", "true-size ball", *other])
    with pytest.raises(SystemExit) as exit_info:
        run_eval_command(args)
    assert exit_info.value.code == 2
    assert f"which {other[0]} does not" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("ball", "wrong"),
    [
        ({"center": [44.0, 40.0], "predicted": False}, 0),  # the rest of the covered ball
        ({"center": [51.0, 40.0], "predicted": False}, 1),  # 11 px off: another object
    ],
)
def test_a_ball_seen_beside_the_person_covering_its_centre_is_not_another_object(
    ball: dict[str, Any], wrong: int
) -> None:
    covered = FrameTruth(0, [], None, [], [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                         ball_covered=BallTruth((40.0, 40.0), 3.0))  # fmt: skip
    s = score_frame(covered, {"ball_detection": {"ball": ball}}, 320, 240)
    assert (s.ball_visible, s.ball_reported, s.ball_wrong) == (0, 1, wrong)


def test_the_truth_marks_a_drawn_ball_whose_centre_a_person_covers() -> None:
    clip = synthetic_match(seconds=4, seed=3, ball_hidden_fraction=0)
    truths = [clip.frame_truth(i) for i in range(len(clip))]
    covered = [t for t in truths if t.ball_covered is not None]
    assert covered and all(t.ball is None for t in covered)


@pytest.mark.parametrize(
    ("ball", "visible", "reported", "wrong"),
    [
        ({"center": [48.0, 40.0], "predicted": False}, True, 1, 0),  # 8 px: not found, not wrong
        ({"center": [51.0, 40.0], "predicted": False}, True, 1, 1),  # 11 px: another object
        ({"center": [51.0, 40.0], "predicted": True}, True, 1, 1),
        ({"center": [5.0, 5.0], "predicted": False}, False, 1, 1),  # seen while hidden
        ({"center": [5.0, 5.0], "predicted": True}, False, 1, 0),  # coasting through a hiding
        (None, True, 0, 0),
    ],
)
def test_ball_wrong_object_scoring(
    ball: dict[str, Any] | None, visible: bool, reported: int, wrong: int
) -> None:
    true_ball = BallTruth((40.0, 40.0), 2.0) if visible else None
    s = score_frame(truth([], true_ball), {"ball_detection": {"ball": ball}}, 320, 240)
    assert (s.ball_reported, s.ball_wrong) == (reported, wrong)
    assert s.ball_wrong_rate == (wrong / reported if reported else 0.0)


def test_variations_are_rows_of_their_own() -> None:
    variations = {"small styled": {"kits": 1, "width": 320, "height": 180}}
    report = evaluate([3], [{}], seconds=0.4, fps_sizes=(), variations=variations)
    rows = report.rows()
    assert [(label, held) for label, held, _ in rows] == [("defaults", False),
                                                          ("small styled", True)]  # fmt: skip
    assert rows[1][2].frames == 10
    text = format_table(report)
    assert "| held out: small styled | " in text and "| ball wrong |" in text


def test_held_out_variations_are_valid_and_apart_from_tuning() -> None:
    held = [json.dumps(v, sort_keys=True) for v in HELD_OUT_VARIATIONS.values()]
    tuned = [json.dumps(v, sort_keys=True) for v in TUNING_VARIATIONS.values()]
    assert not set(held) & set(tuned)
    for knobs in [*HELD_OUT_VARIATIONS.values(), *TUNING_VARIATIONS.values()]:
        check_synthetic_params(knobs)
    sizes = {(v.get("width", 640), v.get("height", 360)) for v in HELD_OUT_VARIATIONS.values()}
    assert {(320, 180), (1920, 1080)} <= sizes


REACHED_ROWS = (
    "white shorts and socks",
    "kit close to the grass",
    "worn thin lines",
    "wide worn lines",
    "grass and shadows",
    "near, low camera",
    "far, high camera",
    "all at once",
)
"""Held-out rows where the players, teams, homography and radar reach their targets (the README
lists the rows and figures that do not)."""


def test_held_out_variations_hold_the_floors() -> None:
    variations = {name: HELD_OUT_VARIATIONS[name] for name in REACHED_ROWS}
    report = evaluate([101], [], seconds=2, fps_sizes=(), variations=variations)
    rows = report.rows()
    assert [label for label, _, _ in rows] == list(REACHED_ROWS)
    for label, held_out, s in rows:
        assert held_out
        # Targets: P/R >= 0.90, team >= 0.95, homography median <= 1 m, radar <= 1 m.
        # Measured with seed 101: P 0.969 to 1.0, R 0.928 to 1.0, team 0.982 to 0.994,
        # homography 0.01 to 0.04 m, radar 0.01 to 0.49 m.
        assert s.precision >= 0.88, label
        assert s.recall >= 0.88, label
        assert s.team_accuracy >= 0.93, label
        assert s.homography_median_error is not None, label
        assert s.homography_median_error <= 1.2, label
        assert s.radar_median_error is not None and s.radar_median_error <= 1.2, label


def _eval_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_eval_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["eval", *argv])


def test_broadcast_tuning_seeds_are_ranges_each_once_in_order() -> None:
    args = _eval_args("--broadcast-tuning", "305-307, 300,306, 310 - 311")
    assert args.broadcast_tuning == [305, 306, 307, 300, 310, 311]
    # At most 10,000 seeds, counted once each.
    assert _eval_args("--broadcast-tuning", "0-9999,0,5-9").broadcast_tuning == list(range(10000))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("7-5", "runs backwards"),
        ("300-x", "not seeds"),
        ("300-", "not seeds"),
        ("a", "not seeds"),
        (",", "no seeds"),
        ("0-20000", "over 10000 seeds"),
        ("0-9999,10000", "over 10000 seeds"),
        ("300--305", "not seeds"),
        ("3_00", "not seeds"),
        ("+300", "not seeds"),
    ],
)
def test_broadcast_tuning_refuses_what_is_not_seeds(
    text: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _eval_args("--broadcast-tuning", text)
    assert exit_info.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--broadcast-tuning", "300,14", "--like", "4"], "seed 14 is a numbered broadcast clip"),
        (["--broadcast-tuning", "300", "--like", "17"], "no broadcast clip 17"),
        (["--broadcast-tuning", "300", "--broadcast", "1"], "not with --broadcast"),
        (["--broadcast-tuning", "300", "--tuning"], "not with --tuning"),
        (["--broadcast-tuning", "300", "--jobs", "0"], "--jobs must be 1 or more"),
        (["--like", "4"], "go with --broadcast-tuning"),
        (["--jobs", "1"], "go with --broadcast-tuning"),
        (["--broadcast-tuning", "300", "--seeds", "1"], "--seeds is not used with"),
        (["--broadcast-tuning", "300", "--width", "640"], "--width is not used with"),
        (["--broadcast-tuning", "300", "--no-held-out"], "--no-held-out is not used with"),
    ],
)
def test_broadcast_tuning_usage_errors_say_what_is_wrong_before_any_clip_is_scored(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def scored(item: Any) -> Any:
        raise AssertionError(f"a clip was scored: {item}")

    monkeypatch.setattr(evaluation, "_tuning_clip_score", scored)
    with pytest.raises(SystemExit) as exit_info:
        run_eval_command(_eval_args("--no-fps", *argv))
    assert exit_info.value.code == 2
    assert said in capsys.readouterr().err


def test_the_json_gives_each_rows_ball_counts_and_seeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scores = Scores(ball_visible=4, ball_found=3, ball_reported=5, ball_wrong=1, frames=6)
    clip = evaluation.ClipScore(300, {}, scores, "tuning 300")
    # Two seeds summed into one row, and a row of its own.
    more = [evaluation.ClipScore(seed, {}, Scores(frames=1), "row b") for seed in (7, 5)]
    evaluation._print_report(EvalReport([clip, *more], {}, 640, 360, 0.24), as_json=True)
    out = capsys.readouterr().out
    rows = json.loads(out[out.index("{") :])["accuracy"]
    row = rows[0]
    assert row["row"] == "tuning 300" and row["ball_rate"] == 0.75 and row["seeds"] == [300]
    counts = ("ball_visible", "ball_found", "ball_reported", "ball_wrong", "frames")
    assert [row[name] for name in counts] == [4, 3, 5, 1, 6]
    assert rows[1]["row"] == "row b" and rows[1]["seeds"] == [7, 5] and rows[1]["frames"] == 2


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--broadcast", "1", "--width", "1280"], "--width is not used with --broadcast"),
        (["--broadcast", "1", "--seeds", "5"], "--seeds is not used with --broadcast"),
        (["--broadcast", "1", "--tuning"], "--tuning is not used with --broadcast"),
        (["--real", "--seconds", "2"], "--seconds is not used with --real"),
        (["--real", "--no-fps"], "--no-fps is not used with --real"),
        (["--no-held-out", "--tuning"], "--no-held-out scores none"),
        (["--real", "--broadcast", "1"], "--broadcast is not used with --real"),
        (["--real-seeds", "5"], "--real-seeds is not used with the synthetic clips"),
    ],
)
def test_an_option_the_chosen_clips_do_not_read_is_refused_before_any_clip(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def scored(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("clips were scored")

    for name in ("evaluate", "evaluate_broadcast", "_tuning_clip_score"):
        monkeypatch.setattr(evaluation, name, scored)
    monkeypatch.setattr(realfootage, "evaluate_real", scored)
    with pytest.raises(SystemExit) as exit_info:
        run_eval_command(_eval_args(*argv))
    assert exit_info.value.code == 2
    assert said in capsys.readouterr().err


def test_options_left_out_take_their_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: dict[str, Any] = {}

    def evaluate_here(
        seeds: list[int], knobs: Any, width: int, height: int, seconds: float, **kwargs: Any
    ) -> EvalReport:
        asked.update(seeds=seeds, size=(width, height), seconds=seconds)
        return EvalReport([], {}, width, height, seconds)

    monkeypatch.setattr(evaluation, "evaluate", evaluate_here)
    assert run_eval_command(_eval_args("--no-fps", "--no-held-out")) == 0
    assert asked == {"seeds": [101, 202, 303], "size": (640, 360), "seconds": 4.0}
    run_eval_command(_eval_args("--no-fps", "--seeds", "7", "--width", "320", "--height", "180"))
    assert asked == {"seeds": [7], "size": (320, 180), "seconds": 4.0}


def test_broadcast_tuning_scores_each_clip_alike_in_processes_and_here() -> None:
    # Clip 4's knobs (kits, stripes, shadow) with other seeds: a row a clip, whatever runs it.
    here = evaluation.evaluate_broadcast_tuning([300, 301], like=4, seconds=0.2)
    apart = evaluation.evaluate_broadcast_tuning([300, 301], like=4, seconds=0.2, jobs=2)
    rows = here.rows()
    assert [label for label, _, _ in rows] == [label for label, _, _ in apart.rows()]
    assert [label.split(":")[0] for label, _, _ in rows] == ["tuning 300", "tuning 301"]
    assert all("black/white v orange" in label and not held for label, held, _ in rows)
    for (_, _, a), (_, _, b) in zip(rows, apart.rows(), strict=True):
        assert a.frames == 5 and a == b
