"""What a notebook user sees in their cells: our answers, not the embedded server's request log
or FFmpeg's complaints. A real kernel, driven by nbclient, runs what a user would type."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.timeout(180)

CELLS = [
    "import realtime_nb as rt\nclient = rt.connect()",
    # A rejected request: the embedded server answers 400 and tornado logs a WARNING.
    "try:\n"
    "    client.submit('synthetic://match?seconds=1', ['no_such_plugin'])\n"
    "except rt.ApiError as exc:\n"
    "    print('answer:', exc.code)",
    # A damaged file: FFmpeg and OpenCV would print to the kernel's stderr.
    "try:\n"
    "    client.submit('x.mp4', ['motion_detection'])\n"
    "except rt.ApiError as exc:\n"
    "    print('answer:', exc.code)",
    "job = client.submit('synthetic://match?seconds=0.4&width=160&height=96', ['ball_detection'])\n"
    "print('answer:', job.wait(timeout=60)['status'])",
    # The annotated video, shown inline and embedded (the saved notebook keeps it).
    "shown = client.submit('synthetic://match?seconds=0.4&width=160&height=96', ['ball_detection'],\n"
    "                      {'annotate_video': True}).video('annotated.mp4')\n"
    "print('answer:', shown.name)",
    "client.close()",
]

NOISE = ("tornado.access", "WARNING", "moov atom", "VIDEOIO", "[ WARN", "Traceback")


def test_cells_show_our_answers_and_no_library_noise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "x.mp4").write_bytes(np.random.default_rng(3).bytes(200_000))
    monkeypatch.setenv("REALTIME_NB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("REALTIME_NB_URL", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(
        nb,
        kernel_name="python3",
        timeout=120,
        startup_timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute()
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.extend(str(v) for v in output.get("data", {}).values())
    shown = "".join(texts)
    for noise in NOISE:
        assert noise not in shown, shown
    assert shown.count("answer:") == 4, shown
    assert "answer: PLUGIN_UNKNOWN" in shown and "answer: SOURCE_UNREADABLE" in shown
    assert "answer: completed" in shown and "answer: annotated.mp4" in shown
    assert '<source src="data:video/mp4;base64,' in shown and "<video controls" in shown
    assert (tmp_path / "annotated.mp4").stat().st_size > 0
