"""The plugin of the Dask benchmark (``realtime-nb serve --plugins-from dask_bench_plugins``).

``bench_edges`` is stateless CPU work per frame (blur, edges, a colour histogram): what
splitting a clip into chunks on several workers can speed up. The workers import it from this
folder (on their ``PYTHONPATH``, inherited from the server).
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from realtime_nb.core.protocol import PluginMetadata
from realtime_nb.plugins import Frame, Plugin, PluginContext, register_plugin


@register_plugin
class BenchEdges(Plugin):
    """Edge pixels and the strongest hue/saturation bin of a frame; about 10 ms at 640x360."""

    name = "bench_edges"
    metadata = PluginMetadata(
        version="1",
        model="bench",
        input_shape=[None, None, 3],
        output_format="json",
        confidence_default=1.0,
        capabilities=["benchmark"],
    )

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        gray = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (9, 9), 0)
        edges = cv2.Canny(gray, 50, 150)
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV)
        hist = cv2.calcHist([hsv], [0, 1], None, [30, 32], [0, 180, 0, 256])
        return {"edges": int(np.count_nonzero(edges)), "peak": float(hist.max())}
