"""Chunk planning: how a job's frames split into pieces that run on different workers.

A pipeline's *history* is how many frames before a chunk's first frame its plugins must see
for their results on that chunk to equal those of one run over the whole video:

- ``0``: every plugin is stateless (a frame's result depends on that frame alone); chunks
  need no overlap.
- ``N``: the plugins keep state, but the last ``N`` frames rebuild it exactly; each chunk
  starts ``N`` frames early (its *warm-up*) and the results of those frames are discarded
  (the chunk before reports them).
- ``None``: the state depends on the whole past (tracks numbered from the first frame, a
  model fitted once); the job runs as one chunk, because no overlap would give the same
  results.

A pipeline's history is the largest of its plugins' (``None`` wins). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["DEFAULT_CHUNKS_PER_WORKER", "MIN_CHUNK_FRAMES", "Chunk", "pipeline_history", "plan"]

DEFAULT_CHUNKS_PER_WORKER = 2
"""Chunks per worker: more than one, so a slow or lost worker holds up less of the job."""
MIN_CHUNK_FRAMES = 16
"""Fewest frames a chunk reports (below that, per-chunk start-up costs more than it saves)."""


@dataclass(frozen=True)
class Chunk:
    """Frames ``start`` to ``stop - 1`` of a job, reported by one task.

    The task processes from ``warmup_start`` (at most ``start``) and discards the results
    of the frames before ``start``. ``stop`` is None for a single chunk of a video whose
    length is not known (it runs to the end).
    """

    index: int
    start: int
    stop: int | None
    warmup_start: int

    @property
    def warmup_frames(self) -> int:
        """Frames processed only to rebuild the plugins' state."""
        return self.start - self.warmup_start

    def __len__(self) -> int:
        """Frames this chunk reports (0 when its end is not known)."""
        return 0 if self.stop is None else self.stop - self.start


def pipeline_history(histories: Iterable[int | None]) -> int | None:
    """The history of a pipeline: the largest of its plugins', or None if any is None.

    >>> pipeline_history([0, 3, 1]), pipeline_history([0, None]), pipeline_history([])
    (3, None, 0)

    Raises:
        ValueError: A negative history.
    """
    longest = 0
    for history in histories:
        if history is None:
            return None
        if history < 0:
            raise ValueError(f"a plugin's history is >= 0 or None, got {history}")
        longest = max(longest, history)
    return longest


def plan(
    frame_count: int | None,
    workers: int,
    history: int | None,
    start_frame: int = 0,
    chunk_frames: int | None = None,
    chunks_per_worker: int = DEFAULT_CHUNKS_PER_WORKER,
) -> list[Chunk]:
    """Split frames ``start_frame`` to ``frame_count - 1`` into chunks.

    Args:
        frame_count: Frames in the video; None if unknown (then: one chunk to the end).
        workers: Workers that can run chunks at once (at least 1).
        history: The pipeline's history (see the module docstring); None: one chunk.
        start_frame: The first frame to report (a resumed job starts past 0).
        chunk_frames: Frames per chunk; default: the frames shared evenly among
            ``workers * chunks_per_worker`` chunks of at least :data:`MIN_CHUNK_FRAMES`.
        chunks_per_worker: Chunks per worker when ``chunk_frames`` is not given.

    Returns:
        Chunks in frame order, covering every frame once; each warm-up starts at frame 0 at
        the earliest.

    >>> [(c.start, c.stop, c.warmup_start) for c in plan(100, 2, 5, chunks_per_worker=1)]
    [(0, 50, 0), (50, 100, 45)]
    >>> plan(100, 2, None)
    [Chunk(index=0, start=0, stop=100, warmup_start=0)]

    Raises:
        ValueError: ``workers`` or ``chunk_frames`` below 1, or a negative start or history.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if chunk_frames is not None and chunk_frames < 1:
        raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
    if start_frame < 0 or (history is not None and history < 0):
        raise ValueError("start_frame and history must be >= 0")
    if frame_count is None or history is None:
        return [Chunk(0, start_frame, frame_count, start_frame)]
    remaining = frame_count - start_frame
    if remaining <= 0:
        return []
    if chunk_frames is None:
        count = max(1, min(workers * max(1, chunks_per_worker), remaining // MIN_CHUNK_FRAMES))
        chunk_frames = -(-remaining // count)  # ceiling: the last chunk is the short one
    chunks = []
    for index, start in enumerate(range(start_frame, frame_count, chunk_frames)):
        stop = min(frame_count, start + chunk_frames)
        chunks.append(Chunk(index, start, stop, max(0, start - history)))
    return chunks
