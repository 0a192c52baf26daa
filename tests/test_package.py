"""The package's public surface is what we mean to publish, and importing it stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import realtime_nb


def test_top_level_exports() -> None:
    assert sorted(realtime_nb.__all__) == sorted(
        [
            "ApiError",
            "Job",
            "Plugin",
            "PluginContext",
            "PluginMetadata",
            "RealtimeClient",
            "RealtimeOverlay",
            "Run",
            "__version__",
            "connect",
            "embedded_server",
            "register_plugin",
            "synthetic_match",
            "track",
        ]
    )
    for name in realtime_nb.__all__:
        assert getattr(realtime_nb, name) is not None


def test_import_is_light() -> None:
    code = "import sys, realtime_nb, realtime_nb.core.state, realtime_nb.core.delivery, realtime_nb.core.protocol; print(sorted(m for m in ('cv2', 'numpy', 'tornado', 'ipywidgets', 'asyncio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_rt_connect_stays_the_function_whatever_was_imported_first() -> None:
    import importlib

    import realtime_nb as rt

    for name in (
        "realtime_nb.session",
        "realtime_nb.core.connection",
        "realtime_nb.notebook.client",
    ):
        importlib.import_module(name)
    assert callable(rt.connect) and rt.connect.__module__ == "realtime_nb.session"


def test_the_embedded_server_stops_cleanly_at_interpreter_exit(tmp_path: Path) -> None:
    code = (
        "import realtime_nb as rt\n"
        "c = rt.connect()\n"
        "job = c.submit('synthetic://match?seconds=1&width=160&height=90', ['ball_detection'])\n"
        "print(job.wait(timeout=60)['status'])\n"
    )  # no close(): the atexit hook stops the server
    env = {**os.environ, "REALTIME_NB_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "completed"
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr
