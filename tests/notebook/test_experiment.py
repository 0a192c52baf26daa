"""The experiment API in the kernel: client.experiment, Run, rt.track, runs table, report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from conftest import wait_until

import realtime_nb as rt
from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.client import RealtimeClient
from realtime_nb.notebook.experiment import Run
from realtime_nb.notebook.run_sender import BATCH_INTERVAL_S
from realtime_nb.notebook.runs import RunsTable
from realtime_nb.notebook.widgets import MetricsPanel


def ended_state(client: RealtimeClient, run: Run) -> RealtimeState:
    """The run's state in ``client`` once it ended (watching it replays it from the start)."""
    run.watch()
    return client.wait_for(run.job_id, timeout=10)


@pytest.fixture
def client(server_factory: Any) -> Iterator[RealtimeClient]:
    server = server_factory()
    with RealtimeClient(server.url, server.token).start() as c:
        yield c


def test_with_block_logs_in_order_and_ends_completed(client: RealtimeClient) -> None:
    with client.experiment("sweep-lr", total=50, config={"lr": 0.1, "layers": 3}) as run:
        for epoch in range(50):
            run.log({"loss": 1.0 / (epoch + 1), "acc": epoch / 50}, step=epoch)
            run.progress(epoch + 1, stage=f"epoch {epoch + 1}")
        so_far = run.metrics()  # inside the block: waits for what is buffered
        assert len(so_far["loss"]) == 50
    record = run.record()
    assert record["status"] == "completed" and record["config"] == {"lr": 0.1, "layers": 3}
    assert record["progress"] == 100.0
    metrics = run.metrics()
    assert [s for s, _, _ in metrics["loss"]] == list(range(50))
    assert metrics["acc"][10][1] == pytest.approx(0.2)
    state = ended_state(client, run)
    assert state.metrics["loss"].last_value == pytest.approx(1 / 50)
    assert state.stage == "Completed"


def test_steps_default_to_one_past_the_last(client: RealtimeClient) -> None:
    with client.experiment("auto-steps") as run:
        run.log({"x": 1.0})
        run.log({"x": 2.0})
        run.log({"x": 3.0}, step=10)
        run.log({"x": 4.0})
    assert [s for s, _, _ in run.metrics()["x"]] == [0, 1, 10, 11]


def test_a_steady_loop_is_sent_in_a_few_batches_a_second(client: RealtimeClient) -> None:
    # Each batch wakes the sender's thread, which takes the GIL from the loop: a loop that
    # logs less than a batch's worth per interval is sent every BATCH_INTERVAL_S, not once
    # per server round trip.
    with client.experiment("steady") as run:
        run.log({"loss": 0.0}, step=0)
        wait_until(lambda: run._sender._next_batch > 1, 10, "the first batch")
        first = run._sender._next_batch
        start = time.monotonic()
        step = 1
        while (elapsed := time.monotonic() - start) < 1.0:
            run.log({"loss": 1.0 / step, "acc": 0.5}, step=step)
            step += 1
            time.sleep(0.0005)
        batches = run._sender._next_batch - first
    assert batches <= elapsed / BATCH_INTERVAL_S + 2, f"{batches} batches for {step} logs"
    assert len(run.metrics()["loss"]) == step  # every point arrived


def test_an_exception_ends_the_run_failed_with_its_traceback(client: RealtimeClient) -> None:
    with pytest.raises(ZeroDivisionError), client.experiment("boom") as run:
        run.log({"loss": 1.0}, step=0)
        _ = 1 / 0
    record = run.record()
    assert record["status"] == "failed"
    assert "Traceback" in record["error"] and "ZeroDivisionError" in record["error"]
    assert run.metrics()["loss"] == [(0, 1.0, pytest.approx(run.metrics()["loss"][0][2]))]


def test_a_full_buffer_drops_the_oldest_and_says_how_many(client: RealtimeClient) -> None:
    with client.experiment("flood", buffer_size=10) as run:
        for step in range(2_000):
            run.log({"x": float(step)}, step=step)
    stored = run.metrics()["x"]
    assert run.dropped > 0
    assert len(stored) + run.dropped == 2_000
    assert stored[-1][0] == 1_999  # the newest points are kept
    assert [s for s, _, _ in stored] == sorted(s for s, _, _ in stored)
    state = ended_state(client, run)
    assert any("dropped" in w.message for w in state.warnings)


def test_values_that_are_not_numbers_are_skipped_with_a_warning(client: RealtimeClient) -> None:
    with client.experiment("bad-values") as run:
        run.log({"x": np.float32(1.5), "y": "high", "z": float("nan")}, step=0)
    metrics = run.metrics()
    assert metrics["x"] == [(0, 1.5, pytest.approx(metrics["x"][0][2]))]
    assert "y" not in metrics and metrics["z"][0][1] is None
    state = ended_state(client, run)
    assert any("'y'" in w.message for w in state.warnings)


def test_warn_checks_severity(client: RealtimeClient) -> None:
    with client.experiment("warned") as run:
        run.warn("lr too high?", severity="medium")
        with pytest.raises(ValueError, match="severity"):
            run.warn("x", severity="dire")  # type: ignore[arg-type]
    state = ended_state(client, run)
    assert [(w.message, w.severity) for w in state.warnings] == [("lr too high?", "medium")]


def test_images_show_in_the_frame_viewer(client: RealtimeClient) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    with client.experiment("images") as run:
        run.watch()  # before the images: only the latest is replayed to a late watcher
        run.image("noise", np.random.default_rng(0).random((30, 40)))
        run.image("curve", fig)
        with pytest.raises(ValueError, match="image"):
            run.image("bad", np.zeros((3, 3, 7)))
    plt.close(fig)
    frames = wait_until(
        lambda: len(client.frames(run.job_id)) == 2 and client.frames(run.job_id), 10, "images"
    )
    assert [f.frame_id for f in frames] == ["noise #0", "curve #1"]
    assert (frames[0].width, frames[0].height) == (40, 30)


def test_track_reports_progress_of_an_iterable(client: RealtimeClient) -> None:
    tracked = rt.track(range(7), client=client, name="epoch 3")
    assert len(tracked) == 7
    assert list(tracked) == list(range(7))
    assert tracked.run is not None
    record = tracked.run.record()
    assert record["name"] == "epoch 3" and record["status"] == "completed"
    assert record["frames_total"] == 7 and record["progress"] == 100.0


def test_overlay_metrics_panel_draws_charts_on_the_render_clock(client: RealtimeClient) -> None:
    with client.experiment("charts") as run:
        for step in range(300):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 300}, step=step)
    overlay = run.overlay()
    ended_state(client, run)
    client.render_now()
    html = overlay.metrics.widget.value
    assert 'data-metric="loss"' in html and 'data-metric="acc"' in html
    assert 'data-last-step="299"' in html and "polyline" in html
    assert overlay.metrics.widget.layout.display is None  # visible


def test_metrics_panel_renders_only_when_metrics_changed() -> None:
    panel = MetricsPanel()
    empty = RealtimeState()
    assert panel.render(empty) == 0  # hidden already
    from realtime_nb.core.protocol import MetricPayload, MetricPoint, make_message
    from realtime_nb.core.state import MessageReceived, reduce

    msg = make_message(
        MetricPayload(points=[MetricPoint(name="loss", step=0, value=1.0, wall_time=0.0)]),
        job_id="j",
        seq=1,
    )
    state = reduce(empty, MessageReceived(msg))
    assert panel.render(state) == 2  # the charts, and shown
    assert panel.render(state) == 0
    panel.choose(["loss"])
    assert panel.render(state) == 0  # same HTML: nothing sent
    state = reduce(
        state,
        MessageReceived(
            make_message(
                MetricPayload(points=[MetricPoint(name="acc", step=0, value=0.5, wall_time=0.0)]),
                job_id="j",
                seq=2,
            )
        ),
    )
    panel.choose(["loss", "acc"], together=True)
    assert panel.render(state) == 1
    html = panel.widget.value
    assert (
        html.count("<svg") == 1 and html.count("<polyline") == 2 and "rnb-metrics-together" in html
    )


def test_report_has_a_chart_per_metric_and_the_config(client: RealtimeClient) -> None:
    with client.experiment("reported", config={"lr": 0.5}) as run:
        for step in range(20):
            run.log({"loss": 1.0 / (step + 1)}, step=step)
    html = run.report().data
    assert "Run reported" in html and 'data-metric="loss"' in html
    assert "<code>lr</code>" in html and "completed" in html


def test_runs_table_lists_sorts_and_compares_runs(client: RealtimeClient) -> None:
    for name, lr in (("slow", 0.01), ("fast", 0.1)):
        with client.experiment(name, config={"lr": lr}) as run:
            for step in range(30):
                run.log({"loss": 1.0 / (1 + lr * step)}, step=step)
    table = client.runs()
    assert isinstance(table, RunsTable)
    assert {r["name"] for r in table.rows} == {"slow", "fast"}
    assert "metric: loss" in table.sort.options
    table.sort.value = "metric: loss"
    assert [r["name"] for r in table.sorted_rows()] == ["fast", "slow"]
    assert "lr=0.1" in table.table.value and "completed" in table.table.value
    table.picked.value = tuple(r["job_id"] for r in table.rows)
    table.metric.value = "loss"
    assert table.chart.value.count("<polyline") == 2
