"""The experiment tutorial in JupyterLab: the metric charts update live in the browser.

An in-page sampler records, 20 times a second, what each metrics panel shows: per metric the
last step its card reports and how many points its chart draws. The checks read that timeline:
the loss chart of the first run showed several different last steps while the run trained (so
it updated live, not only at the end), never went back, and ended on the run's last step.
"""

from __future__ import annotations

from typing import Any

import pytest

EPOCHS, BATCHES = 40, 25  # the notebook's first run: 40 epochs of 25 mini-batches

_SAMPLER_JS = r"""
() => {
  if (window.__rnbCharts) return;
  const state = {timeline: []};
  window.__rnbCharts = state;
  let last = '';
  setInterval(() => {
    const panels = Array.from(document.querySelectorAll('.rnb-metrics'));
    const shown = panels.map((panel) => Array.from(panel.querySelectorAll('.rnb-metric')).map(
      (card) => ({
        metric: card.dataset.metric,
        lastStep: parseInt(card.dataset.lastStep, 10),
        points: card.querySelector('polyline')
          ? card.querySelector('polyline').getAttribute('points').split(' ').length : 0,
        visible: card.offsetWidth > 0,
      })));
    const key = JSON.stringify(shown);
    if (key !== last && state.timeline.length < 5000) {
      last = key;
      state.timeline.push({t: performance.now(), panels: shown});
    }
  }, 50);
}
"""


@pytest.mark.timeout(300)
def test_metric_charts_update_live_in_jupyterlab(notebook_page: Any) -> None:
    nb, console = notebook_page
    nb.open("03-experiment-monitoring.ipynb")
    nb.page.evaluate(_SAMPLER_JS)
    nb.run_all()
    nb.wait_all_cells_ran(timeout_ms=240_000)
    nb.screenshot("all-cells-ran")
    nb.assert_no_plain_text_widgets()
    nb.assert_no_error_outputs(allow_stderr=True)
    panel = nb.page.locator(".rnb-metrics").first
    panel.scroll_into_view_if_needed()
    nb.screenshot("metrics-panel", element=".jp-OutputArea-output > .widget-vbox")

    timeline = nb.page.evaluate("() => window.__rnbCharts.timeline")
    loss_steps = []
    for sample in timeline:
        if not sample["panels"]:
            continue
        cards = {c["metric"]: c for c in sample["panels"][0]}
        if "loss" in cards and cards["loss"]["visible"]:
            loss_steps.append(cards["loss"]["lastStep"])
    final = EPOCHS * BATCHES - 1
    assert loss_steps, timeline[-3:]
    assert loss_steps == sorted(loss_steps), loss_steps
    assert loss_steps[-1] == final, loss_steps
    live = sorted({s for s in loss_steps if s < final})
    assert len(live) >= 3, f"the chart updated only at {live} before the end"

    last_panel = {c["metric"]: c for c in timeline[-1]["panels"][0]}
    assert sorted(last_panel) == ["loss", "val_acc", "val_loss"]
    assert last_panel["loss"]["points"] > 50  # the downsampled history, drawn
    assert console.unexpected_errors() == [], console.unexpected_errors()
