"""Tests of realtime_nb.vision.video and realtime_nb.vision.synthetic: sources and truth
(the writer: test_video_writer.py)."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import numpy as np
import pytest

from realtime_nb.core.protocol import ErrorCode
from realtime_nb.vision.synthetic import SYNTHETIC_DEFAULTS, SyntheticParamError, synthetic_match
from realtime_nb.vision.video import (
    ArraySource,
    FileSource,
    SourceError,
    SyntheticSource,
    as_bgr,
    open_source,
    validate_source,
)
from realtime_nb.vision.video_writer import VideoWriter, write_video

CLIP_FRAMES = 5


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An allowed root holding a tiny clip, a text file, a folder and a symlink out, plus a
    directory outside it holding another clip."""
    base = tmp_path_factory.mktemp("video")
    root, outside = base / "root", base / "outside"
    root.mkdir()
    outside.mkdir()
    clip = synthetic_match(seconds=CLIP_FRAMES / 10, fps=10, width=96, height=64, seed=1)
    write_video(clip, root / "clip.mp4", clip.info.fps)
    write_video(clip, outside / "secret.mp4", clip.info.fps)
    (root / "notes.txt").write_text("not a video\n")
    (root / "random.mp4").write_bytes(np.random.default_rng(0).bytes(50_000))
    (root / "folder").mkdir()
    (root / "escape.mp4").symlink_to(outside / "secret.mp4")
    return root, outside


# --- synthetic_match ----------------------------------------------------------------------------


def test_same_seed_same_clip_and_truth() -> None:
    a = synthetic_match(seconds=1, seed=5, width=160, height=96)
    b = synthetic_match(seconds=1, seed=5, width=160, height=96)
    other = synthetic_match(seconds=1, seed=6, width=160, height=96)
    for i in (0, 7, 24):
        assert np.array_equal(a.frame(i), b.frame(i))
    assert list(a.truth) == list(b.truth)
    assert not np.array_equal(a.frame(3), other.frame(3))


def test_random_access_matches_iteration() -> None:
    clip = synthetic_match(seconds=0.4, fps=10, width=96, height=64, seed=2)
    frames = list(clip)
    assert np.array_equal(frames[3], clip.frame(3))
    assert np.array_equal(frames[-1], clip.frame(-1))
    with pytest.raises(IndexError):
        clip.frame(len(clip))


@pytest.mark.parametrize(
    ("seconds", "fps", "width", "height", "frames"),
    [(1, 25, 640, 360, 25), (0.5, 30, 320, 180, 15), (0.1, 10, 64, 96, 1), (0.01, 1, 101, 77, 1)],
)
def test_sizes_and_frame_counts(
    seconds: float, fps: float, width: int, height: int, frames: int
) -> None:
    clip = synthetic_match(seconds=seconds, fps=fps, width=width, height=height)
    assert len(clip) == len(clip.truth) == clip.info.frame_count == frames
    assert (clip.info.width, clip.info.height, clip.info.fps) == (width, height, fps)
    frame = clip.frame(frames - 1)
    assert frame.shape == (height, width, 3)
    assert frame.dtype == np.uint8


def test_truth_lies_inside_the_frame() -> None:
    clip = synthetic_match(seconds=2, width=320, height=180, seed=3)
    people = 0
    for i, truth in enumerate(clip.truth):
        assert truth.frame_index == i
        for person in truth.players:
            x1, y1, x2, y2 = person.box
            assert 0 <= x1 < x2 <= 319 and 0 <= y1 < y2 <= 179
            assert (person.team is None) == (person.role == "referee")
        people += len(truth.players)
        if truth.ball is not None:
            assert 0 <= truth.ball.center[0] < 320 and 0 <= truth.ball.center[1] < 180
        for u, v in truth.pitch_corners:
            assert 0 <= u < 320 and 0 <= v < 180
        assert len(truth.homography) == 3
    assert people / len(clip) > 8


def test_truth_homography_maps_pitch_to_image() -> None:
    clip = synthetic_match(seconds=1, seed=0)
    truth = clip.truth[0]
    assert truth.pitch_corners, "this seed sees a far corner"
    h = np.array(truth.homography)
    projected = [h @ (x, y, 1.0) for x, y in ((0, 0), (105, 0), (105, 68), (0, 68))]
    points = [(p[0] / p[2], p[1] / p[2]) for p in projected]
    for corner in truth.pitch_corners:
        assert min(np.hypot(corner[0] - u, corner[1] - v) for u, v in points) < 1e-6


def test_ball_is_sometimes_hidden_on_a_longer_clip() -> None:
    clip = synthetic_match(seconds=30, fps=5, width=320, height=180, seed=4)
    hidden = sum(t.ball is None for t in clip.truth)
    assert 0 < hidden < len(clip)


def test_ball_hidden_fraction_extremes() -> None:
    always = synthetic_match(seconds=2, fps=5, ball_hidden_fraction=1.0)
    assert all(t.ball is None for t in always.truth)
    never = synthetic_match(seconds=2, fps=5, ball_hidden_fraction=0.0, seed=1)
    assert any(t.ball is not None for t in never.truth)


def test_knobs_change_the_picture() -> None:
    base = synthetic_match(seconds=0.2, width=160, height=96, seed=9, noise=0)
    frame = base.frame(0)
    darker = synthetic_match(seconds=0.2, width=160, height=96, seed=9, noise=0, lighting=0.5)
    assert darker.frame(0).mean() < 0.7 * frame.mean()
    blurred = synthetic_match(seconds=0.2, width=160, height=96, seed=9, noise=0, blur=5)
    assert not np.array_equal(blurred.frame(0), frame)
    assert base.truth[0] == blurred.truth[0]


def test_players_per_team_zero_still_has_keepers_referee_and_ball() -> None:
    clip = synthetic_match(seconds=1, players_per_team=0, seed=2)
    roles = {p.role for t in clip.truth for p in t.players}
    assert "player" not in roles
    clip.frame(0)


def test_signature_defaults_match_the_parameter_table() -> None:
    params = inspect.signature(synthetic_match).parameters
    assert {name: p.default for name, p in params.items()} == SYNTHETIC_DEFAULTS


def test_synthetic_package_exports() -> None:
    import realtime_nb.vision.synthetic as synthetic
    import realtime_nb.vision.video as video

    assert sorted(synthetic.__all__) == sorted(
        [
            "SYNTHETIC_DEFAULTS",
            "BallTruth",
            "FrameTruth",
            "PlayerTruth",
            "SyntheticMatch",
            "SyntheticParamError",
            "TruthTrack",
            "check_synthetic_params",
            "synthetic_match",
        ]
    )
    for name in set(synthetic.__all__) & set(video.__all__):
        assert getattr(video, name) is getattr(synthetic, name)


def test_bad_parameters_raise_naming_the_parameter() -> None:
    with pytest.raises(SyntheticParamError, match="fps") as info:
        synthetic_match(fps=0)
    assert info.value.param == "fps"


# --- validate_source / open_source --------------------------------------------------------------

SYNTHETIC_CASES = [
    ("synthetic://match", None),
    ("synthetic://match?seconds=1&fps=10&width=64&height=64&seed=3", None),
    ("synthetic://match?noise=0&blur=3&lighting=0.5&stripes=false&pan=0", None),
    ("synthetic://match?players_per_team=11&ball_hidden_fraction=1", None),
    ("synthetic://match?seconds=3600&fps=120&width=3840&height=3840", None),
    ("synthetic://match?colour=red", "colour"),
    ("synthetic://match?seconds=0", "seconds"),
    ("synthetic://match?seconds=3601", "seconds"),
    ("synthetic://match?seconds=nan", "seconds"),
    ("synthetic://match?seconds=abc", "seconds"),
    ("synthetic://match?fps=0.5", "fps"),
    ("synthetic://match?fps=121", "fps"),
    ("synthetic://match?width=63", "width"),
    ("synthetic://match?height=3841", "height"),
    ("synthetic://match?width=64.5", "width"),
    ("synthetic://match?seed=-1", "seed"),
    ("synthetic://match?stripes=maybe", "stripes"),
    ("synthetic://match?ball_hidden_fraction=1.5", "ball_hidden_fraction"),
    ("synthetic://match?fps=10&fps=20", "fps"),
    ("synthetic://stadium", "synthetic://match"),
    ("synthetic:match", "synthetic://match"),
]


@pytest.mark.parametrize(("source", "names"), SYNTHETIC_CASES)
def test_validate_synthetic(source: str, names: str | None) -> None:
    if names is None:
        validate_source(source, [])
        return
    with pytest.raises(SourceError, match=names) as info:
        validate_source(source, [])
    assert info.value.code == ErrorCode.SOURCE_INVALID


FILE_CASES = [
    ("clip.mp4", None),
    ("{root}/clip.mp4", None),
    ("file://{root}/clip.mp4", None),
    ("{root}/./folder/../clip.mp4", None),
    ("{outside}/secret.mp4", ErrorCode.SOURCE_NOT_ALLOWED),
    ("{root}/../outside/secret.mp4", ErrorCode.SOURCE_NOT_ALLOWED),
    ("../outside/secret.mp4", ErrorCode.SOURCE_NOT_ALLOWED),
    ("{root}/escape.mp4", ErrorCode.SOURCE_NOT_ALLOWED),
    ("/etc/passwd", ErrorCode.SOURCE_NOT_ALLOWED),
    ("{root}/missing.mp4", ErrorCode.SOURCE_NOT_FOUND),
    ("{root}/folder", ErrorCode.SOURCE_NOT_FOUND),
    ("{root}/notes.txt", ErrorCode.SOURCE_UNREADABLE),
    ("{root}/random.mp4", ErrorCode.SOURCE_UNREADABLE),
    ("", ErrorCode.SOURCE_INVALID),
    ("{root}/clip\x00.mp4", ErrorCode.SOURCE_INVALID),
    ("http://example.com/clip.mp4", ErrorCode.SOURCE_INVALID),
]


@pytest.mark.parametrize(("template", "code"), FILE_CASES)
def test_validate_file(roots: tuple[Path, Path], template: str, code: ErrorCode | None) -> None:
    root, outside = roots
    source = template.format(root=root, outside=outside)
    if code is None:
        validate_source(source, [root])
        return
    with pytest.raises(SourceError) as info:
        validate_source(source, [root])
    assert info.value.code == code
    assert str(info.value)


def test_a_relative_path_is_taken_from_the_given_working_directory(
    roots: tuple[Path, Path],
) -> None:
    root, _ = roots
    (root / "clips").mkdir(exist_ok=True)
    shutil.copyfile(root / "clip.mp4", root / "clips" / "street.mp4")
    expected = str((root / "clips" / "street.mp4").resolve())
    assert validate_source("street.mp4", [root], cwd=root / "clips") == expected
    assert validate_source("./street.mp4", [root], cwd=root / "clips") == expected
    assert validate_source("clips/street.mp4", [root], cwd=root) == expected
    with pytest.raises(SourceError) as info:
        validate_source("street.mp4", [root], cwd=root)
    assert info.value.code == ErrorCode.SOURCE_NOT_FOUND
    assert f"looked for {root.resolve() / 'street.mp4'}" in str(info.value)
    assert f"relative to {root}" in str(info.value)


def test_any_allowed_root_will_do(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    validate_source(str(outside / "secret.mp4"), [root, outside])
    with pytest.raises(SourceError) as info:
        validate_source(str(root / "clip.mp4"), [])
    assert info.value.code == ErrorCode.SOURCE_NOT_ALLOWED


def test_open_file_source(roots: tuple[Path, Path]) -> None:
    root, _ = roots
    with open_source(str(root / "clip.mp4"), [root]) as source:
        assert isinstance(source, FileSource)
        assert (source.info.width, source.info.height) == (96, 64)
        assert source.info.fps == pytest.approx(10)
        assert source.info.frame_count == CLIP_FRAMES
        frames = list(source)
        assert len(frames) == CLIP_FRAMES
        assert all(f.shape == (64, 96, 3) and f.dtype == np.uint8 for f in frames)
        assert sum(1 for _ in source) == CLIP_FRAMES  # iterating again starts over
    with pytest.raises(ValueError, match="closed"):
        next(iter(source))


def test_open_synthetic_source_has_ground_truth() -> None:
    with open_source("synthetic://match?seconds=0.4&fps=10&width=96&height=64", []) as source:
        assert isinstance(source, SyntheticSource)
        assert source.info.frame_count == 4
        assert len(source.ground_truth) == 4
        assert sum(1 for _ in source) == 4


def test_open_source_validates_first(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    with pytest.raises(SourceError) as info:
        open_source(str(outside / "secret.mp4"), [root])
    assert info.value.code == ErrorCode.SOURCE_NOT_ALLOWED


def test_array_source() -> None:
    frames = [np.full((8, 10, 3), i, np.uint8) for i in range(3)]
    source = ArraySource(frames, fps=5)
    assert (source.info.width, source.info.height, source.info.frame_count) == (10, 8, 3)
    assert [int(f[0, 0, 0]) for f in source] == [0, 1, 2]
    with pytest.raises(ValueError, match="shape"):
        ArraySource([frames[0], np.zeros((9, 10, 3), np.uint8)])
    for fps in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="fps must be a finite number > 0"):
            ArraySource(frames, fps=fps)


def test_with_block_that_raises_closes_source_and_writer(
    roots: tuple[Path, Path], tmp_path: Path
) -> None:
    root, _ = roots
    with pytest.raises(KeyError), open_source(str(root / "clip.mp4"), [root]) as source:
        raise KeyError("boom")
    with pytest.raises(ValueError, match="closed"):
        next(iter(source))
    with pytest.raises(KeyError), VideoWriter(tmp_path / "out.mp4", 10, (32, 24)) as writer:
        raise KeyError("boom")
    with pytest.raises(ValueError, match="closed"):
        writer.write(np.zeros((24, 32, 3), np.uint8))


def test_as_bgr_converts_grey_and_bgra_and_keeps_bgr() -> None:
    grey = np.full((4, 6), 90, np.uint8)
    assert as_bgr(grey).shape == (4, 6, 3) and (as_bgr(grey) == 90).all()
    bgra = np.zeros((4, 6, 4), np.uint8)
    bgra[..., :3] = (10, 20, 30)
    assert as_bgr(bgra).shape == (4, 6, 3) and (as_bgr(bgra)[0, 0] == (10, 20, 30)).all()
    bgr = np.zeros((4, 6, 3), np.uint8)
    assert as_bgr(bgr) is bgr
