"""The package's public surface is what we mean to publish, and importing it stays cheap."""

from __future__ import annotations

import subprocess
import sys

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
            "__version__",
            "connect",
            "embedded_server",
            "register_plugin",
            "synthetic_match",
        ]
    )
    for name in realtime_nb.__all__:
        assert getattr(realtime_nb, name) is not None


def test_import_is_light() -> None:
    code = "import sys, realtime_nb, realtime_nb.state, realtime_nb.delivery; print(sorted(m for m in ('cv2', 'tornado', 'ipywidgets', 'asyncio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
