"""Tests of realtime_nb.worker.runner: the protocol's message order, warnings, failures, cancel."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pytest

from realtime_nb.core import protocol as p
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext, VideoInfo
from realtime_nb.worker.runner import ToolRunner, frame_id_for

META = p.PluginMetadata(
    version="1",
    model="test",
    input_shape=[None, None, 3],
    output_format="json",
    confidence_default=0.5,
    capabilities=["test"],
)


class Mean(Plugin):
    name = "mean"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        value = float(frame.mean())
        if ctx.frame_index % 3 == 0:
            ctx.warn("multiple of three", "low")
        return {"mean": value}

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        frame[:2, :2] = 255


class UsesMean(Plugin):
    name = "uses_mean"
    metadata = META
    requires = ("mean",)

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        ctx.state["n"] = ctx.state.get("n", 0) + 1
        return {"double": ctx.results["mean"]["mean"] * 2, "seen": ctx.state["n"]}


class Flaky(Plugin):
    name = "flaky"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        if ctx.frame_index == 2:
            raise RuntimeError("bad frame")
        return {}


class AlwaysFails(Plugin):
    name = "always_fails"
    metadata = META

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        raise ValueError("nope")


def frames(n: int) -> list[Frame]:
    return [np.full((8, 12, 3), i, dtype=np.uint8) for i in range(n)]


def run(plugins: list[Plugin], n: int = 6, **kw: Any) -> tuple[list[Any], Any]:
    out: list[Any] = []
    runner = ToolRunner(plugins, VideoInfo(12, 8, 25.0, n), out.extend, job_id="j", **kw)
    summary = runner.execute(frames(n))
    return out, summary


def kinds_for(out: list[Any], plugin: str) -> list[str]:
    seq = []
    for payload in out:
        if getattr(payload, "plugin", None) != plugin:
            continue
        if isinstance(payload, p.PluginStatusPayload):
            seq.append(payload.status)
        else:
            seq.append(type(payload).__name__)
    return seq


def test_seed_order_per_plugin() -> None:
    out, summary = run([Mean(), UsesMean()])
    for name in ("mean", "uses_mean"):
        k = kinds_for(out, name)
        assert k[0] == "MetadataPayload" and k[1] == "started" and k[-1] == "completed"
        assert k.count("FramePayload") == 6
    frames_of = [x for x in out if isinstance(x, p.FramePayload) and x.plugin == "uses_mean"]
    # Results leave the runner encoded once (msgspec.Raw), as the server stores and sends them.
    data = [msgspec.json.decode(f.data) for f in frames_of]
    assert [d["double"] for d in data] == [i * 2.0 for i in range(6)]
    assert [d["seen"] for d in data] == list(range(1, 7))  # state carried over
    assert summary.frames == 6 and not summary.failed_plugins


def test_warnings_follow_their_frame_and_are_counted() -> None:
    out, summary = run([Mean()])
    warnings = [x for x in out if isinstance(x, p.WarningPayload)]
    assert [w.frame_id for w in warnings] == [frame_id_for(0), frame_id_for(3)]
    for w in warnings:
        idx = out.index(w)
        prev = out[idx - 1]
        assert isinstance(prev, p.FramePayload) and prev.frame_id == w.frame_id
    completed = [x for x in out if isinstance(x, p.PluginStatusPayload) and x.status == "completed"]
    assert completed[0].warnings_count == 2 and completed[0].frames_processed == 6
    assert completed[0].timing_ms is not None and completed[0].timing_ms >= 0
    assert summary.warnings == 2


def test_progress_runs_from_0_to_100_never_backwards() -> None:
    out, _ = run([Mean()], n=7)
    values = [x.progress for x in out if isinstance(x, p.ProgressPayload)]
    assert values[0] == 0 and values[-1] == 100
    assert values == sorted(values) and len(set(values)) == len(values)
    assert all(v < 100 for v in values[:-1])


def test_plugin_exception_becomes_error_and_job_goes_on() -> None:
    out, summary = run([Flaky(), Mean()])
    errors = [x for x in out if isinstance(x, p.ErrorPayload)]
    assert len(errors) == 1 and errors[0].frame_id == frame_id_for(2)
    assert errors[0].details is not None and errors[0].details.error_code == "PLUGIN_CRASH"
    assert "bad frame" in errors[0].error
    assert kinds_for(out, "flaky")[-1] == "completed"
    assert summary.errors == 1 and not summary.failed_plugins


def test_plugin_failing_repeatedly_is_given_up() -> None:
    out, summary = run([AlwaysFails(), Mean()], n=10, max_consecutive_failures=3)
    errors = [x for x in out if isinstance(x, p.ErrorPayload)]
    assert len(errors) == 3
    assert kinds_for(out, "always_fails")[-1] == "failed"
    assert summary.failed_plugins == ["always_fails"]
    assert kinds_for(out, "mean").count("FramePayload") == 10


def test_cancel_stops_early_without_completing() -> None:
    cancel = threading.Event()

    class Canceller(Mean):
        def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
            if ctx.frame_index == 2:
                cancel.set()
            return super().process(frame, ctx)

    out, summary = run([Canceller()], n=10, cancel=cancel)
    assert summary.cancelled and summary.frames == 3
    assert "completed" not in kinds_for(out, "mean")


@pytest.mark.parametrize("interval", [0.0, 3600.0])
def test_previews_are_undrawn_and_carry_the_frames_results_and_the_last_is_always_sent(
    interval: float,
) -> None:
    previews: list[tuple[p.PreviewHeader, Frame]] = []
    run([Mean()], n=5, preview=lambda h, f: previews.append((h, f)), preview_interval_s=interval)
    header, frame = previews[-1]
    assert header.frame_index == 4 and header.frame_id == frame_id_for(4)
    assert len(previews) == (5 if interval == 0 else 2)
    assert not (frame[:2, :2] == 255).all()  # draw() is the client's to apply
    assert set(header.results) == {"mean"} and set(header.timings_ms) == {"mean"}
    assert header.results["mean"] == {"mean": float(frame.mean())}
    assert header.timings_ms["mean"] >= 0
    first = previews[0][0]
    assert first.frame_index == 0
    assert [(w.plugin, w.message, w.frame_id) for w in first.warnings] == [
        ("mean", "multiple of three", frame_id_for(0))
    ]
    assert header.warnings == []  # frame 4 raised none


def test_resumed_run_draws_earlier_frames_from_their_stored_results() -> None:
    """A resumed job's video holds every frame: the frames before ``start_frame`` are drawn
    from the first run's results (after a JSON round trip, as the store keeps them), exactly
    as the first run drew them, with the built-in football plugins and the radar."""
    from realtime_nb.vision.plugins import default_registry
    from realtime_nb.vision.synthetic import synthetic_match

    names = ["pitch_detection", "player_detection", "ball_detection", "radar"]
    clip = synthetic_match(seconds=1, fps=10, width=320, height=180, seed=4)

    def execute(start_frame: int, earlier: list[Any]) -> tuple[list[Frame], list[Any]]:
        drawn: list[Frame] = []
        out: list[Any] = []
        ToolRunner(
            [default_registry.get(name)() for name in names],
            clip.info,
            out.extend,
            annotated=drawn.append,
            start_frame=start_frame,
            earlier_results=earlier,
        ).execute(clip)
        return drawn, out

    first, out = execute(0, [])
    stored: dict[int, dict[str, dict[str, Any]]] = {}
    for payload in out:
        if isinstance(payload, p.FramePayload) and payload.frame_index is not None:
            data = msgspec.json.decode(msgspec.json.encode(payload.data))
            stored.setdefault(payload.frame_index, {})[payload.plugin] = data
    assert any(not np.array_equal(f, clip.frame(i)) for i, f in enumerate(first))  # drew
    earlier = [(i, stored[i]) for i in range(6)]
    resumed, _ = execute(6, earlier)
    assert len(resumed) == len(clip)
    for i in range(6):
        assert np.array_equal(resumed[i], first[i]), f"frame {i}"


def test_resumed_run_draws_what_was_stored_and_nothing_for_missing_frames() -> None:
    drawn: list[Frame] = []
    earlier = [(0, {"mean": {"mean": 0.0}}), (2, {"other": {}, "mean": {"mean": 2.0}})]
    run([Mean()], n=5, annotated=drawn.append, start_frame=3, earlier_results=earlier)
    assert len(drawn) == 5
    marked = [bool((f[:2, :2] == 255).all()) for f in drawn]
    assert marked == [True, False, True, True, True]  # frame 1 had no stored result


def test_earlier_results_are_not_read_without_an_annotated_video() -> None:
    def never() -> Iterator[tuple[int, dict[str, dict[str, Any]]]]:
        raise AssertionError("read")
        yield  # pragma: no cover

    _, summary = run([Mean()], n=4, start_frame=2, earlier_results=never())
    assert summary.frames == 4
