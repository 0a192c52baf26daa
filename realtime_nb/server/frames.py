"""Any frame of a job on demand, and its annotated video: decoded again from its source and
drawn from its stored results.

Live, a job previews about 10 frames a second (``preview_interval_s``), so a client keeps only
some of its frames. Once results are stored, any frame can be shown again: :class:`FramePreviews`
decodes it from the job's source and packs it with that frame's stored results as the same
binary preview the WebSocket carries (an undrawn JPEG, at most 640 pixels wide, and a header
with every plugin's result and timing), which clients draw exactly as they draw live previews.

Readers stay open for the few jobs looked at last, so scrubbing forward through a file reads
each frame once.

:func:`render_annotated_video` draws a whole ended job the same way into an H.264 video, for a
job that was not submitted with ``annotate_video``: ``process`` never runs again, only each
plugin's ``draw`` over its stored result.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from realtime_nb.core.protocol import JobRecord, PreviewHeader, encode_preview
from realtime_nb.server.store import JobStore
from realtime_nb.vision.labels import label_frame
from realtime_nb.vision.plugins.base import Plugin, draw_results
from realtime_nb.vision.plugins.pipeline import frame_id_for
from realtime_nb.vision.plugins.registry import PipelineError, PluginRegistry
from realtime_nb.vision.video import FrameReader, SourceError, open_source
from realtime_nb.vision.video_writer import VideoWriter, encode_jpeg
from realtime_nb.worker.runner import StoredResults

log = logging.getLogger(__name__)

__all__ = ["FramePreviews", "FrameUnavailable", "render_annotated_video"]

PREVIEW_QUALITY = 75
PREVIEW_MAX_WIDTH = 640


class FrameUnavailable(LookupError):
    """The frame cannot be shown: past what the job processed, or its source is gone."""


class FramePreviews:
    """Builds binary previews of any processed frame of any job. Thread-safe.

    Args:
        store: Where the results are.
        allowed_roots: Directories sources may be read from.
        open_readers: How many jobs keep a reader open at once.
    """

    def __init__(self, store: JobStore, allowed_roots: Sequence[Path], open_readers: int = 4):
        self.store = store
        self.allowed_roots = list(allowed_roots)
        self.open_readers = open_readers
        self._readers: OrderedDict[str, tuple[FrameReader, threading.Lock]] = OrderedDict()
        self._lock = threading.Lock()

    def preview(self, record: JobRecord, index: int) -> bytes:
        """The binary preview of frame ``index`` of the job ``record``.

        Raises:
            FrameUnavailable: The job has not processed that frame, or its source cannot be
                read any more (the message says which).
        """
        if not 0 <= index < record.frames_done:
            raise FrameUnavailable(
                f"job {record.job_id} has no frame {index}: it processed {record.frames_done}"
            )
        reader, lock = self._reader(record)
        with lock:
            try:
                frame = reader.frame(index)
            except IndexError as exc:
                raise FrameUnavailable(f"job {record.job_id}: {exc}") from None
        order = {name: i for i, name in enumerate(record.plugins)}
        rows = sorted(
            self.store.results_of_frame(record.job_id, index),
            key=lambda r: order.get(r[0], len(order)),
        )
        height, width = frame.shape[:2]
        header = PreviewHeader(
            job_id=record.job_id,
            frame_id=frame_id_for(index),
            frame_index=index,
            width=width,
            height=height,
            results={plugin: data for plugin, _, data in rows},
            timings_ms={plugin: timing for plugin, timing, _ in rows},
        )
        jpeg = encode_jpeg(frame, quality=PREVIEW_QUALITY, max_width=PREVIEW_MAX_WIDTH)
        return encode_preview(header, jpeg)

    def close(self) -> None:
        """Release every open reader."""
        with self._lock:
            readers, self._readers = list(self._readers.values()), OrderedDict()
        for reader, lock in readers:
            with lock:
                reader.close()

    def _reader(self, record: JobRecord) -> tuple[FrameReader, threading.Lock]:
        with self._lock:
            entry = self._readers.get(record.job_id)
            if entry is not None:
                self._readers.move_to_end(record.job_id)
                return entry
        try:
            reader = FrameReader(record.source, self.allowed_roots)
        except ValueError as exc:  # SourceError: moved, deleted or no longer allowed
            raise FrameUnavailable(
                f"job {record.job_id}'s source cannot be read any more: {exc}"
            ) from None
        entry = (reader, threading.Lock())
        with self._lock:
            known = self._readers.get(record.job_id)
            if known is not None:  # another request opened one meanwhile: use that
                reader.close()
                return known
            self._readers[record.job_id] = entry
            evicted = []
            while len(self._readers) > self.open_readers:
                evicted.append(self._readers.popitem(last=False)[1])
        for old, old_lock in evicted:
            with old_lock:
                old.close()
        return entry


def render_annotated_video(
    record: JobRecord,
    store: JobStore,
    registry: PluginRegistry,
    allowed_roots: Sequence[Path],
    out: Path,
) -> Path:
    """Write an ended job's annotated video (H.264 MP4) to ``out``: each processed frame from
    its source, each plugin's ``draw`` over its stored result, the box tags and the legend.

    The file appears whole or not at all. A plugin this server no longer has is left undrawn
    (its boxes are still tagged).

    Raises:
        FrameUnavailable: The job processed no frame, or its source cannot be read any more.
    """
    if record.frames_done <= 0:
        raise FrameUnavailable(f"job {record.job_id} processed no frame to make a video of")
    plugins: list[tuple[str, Plugin]] = []
    for name in record.plugins:
        try:
            options = (record.options.get("plugin_options") or {}).get(name)
            plugins.append((name, registry.get(name).create(options)))
        except PipelineError:
            log.warning(
                "job %s: plugin %s is not on this server; left undrawn", record.job_id, name
            )
    partial = out.with_name(out.stem + ".part" + out.suffix)  # the suffix picks the container
    rows = store.frame_results(record.job_id, record.frames_done)
    try:
        with open_source(record.source, allowed_roots) as source:
            for name, plugin in plugins:
                try:
                    plugin.setup(source.info)
                except Exception as exc:  # its draw may still work from the result alone
                    log.warning("job %s: %s.setup failed: %s", record.job_id, name, exc)
            stored = StoredResults(rows)
            size = (source.info.width, source.info.height)
            with VideoWriter(partial, source.info.fps, size) as writer:
                for index, frame in enumerate(source):
                    if index >= record.frames_done:
                        break
                    results = stored.at(index)
                    draw_results(frame, plugins, results)
                    label_frame(frame, record.plugins, results)
                    writer.write(frame)
        partial.replace(out)
    except SourceError as exc:
        raise FrameUnavailable(
            f"job {record.job_id}'s source cannot be read any more: {exc}"
        ) from None
    finally:
        rows.close()
        partial.unlink(missing_ok=True)
    return out
