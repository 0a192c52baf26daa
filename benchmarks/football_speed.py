"""CPU time a frame of each football plugin, this checkout against another commit, in one run.

Each measurement is a child process that renders seed 7 of the synthetic match (the classic
look, whose frames are the same in every commit since it was made), runs the plugin after the
plugins it requires, and times only that plugin's ``process`` calls with ``time.process_time``
on one OpenCV thread: CPU time, not wall time, so another program on the machine disturbs it
less. Every child runs the clip ``passes`` times with fresh plugin state; the first pass is left
out (imports, caches, the allocator warming up). Children alternate between the two trees,
``rounds`` times, so both see the same machine; the figure is the median over all kept passes,
and the ratio is ours over the baseline's (below 1: ours is faster).

With ``--footage net`` the frames are a goal net's mesh over grass instead (:func:`net_frames`):
no pitch to find, so pitch_detection looks for one on every frame. Before bbe725f its search
merged hundreds of the mesh's line segments on each; since, a frame whose line mask covers over
15 % of it (``_MOST_LINE_SHARE``) is not searched. The clips are shorter than the 25 frames
after which the search thins out (``_SPARSE_AFTER``): this times the search itself.

With ``--footage crowd`` they are a crowd of person-like rectangles over grass
(:func:`crowd_frames`), sized as the net's clips: some 300 people a frame at 640x360. Up to
26601c4, ball_detection asked every person about every pixel where one person's feet lay on
another's body: a cost that grew with the square of the crowd.

Run: ``.venv/bin/python benchmarks/football_speed.py --against 1c00b38 [--rounds 3]
[--plugins player_detection] [--footage net|crowd]``. The baseline commit is checked out into a
temporary git worktree, removed at the end. Exit status 1 when a plugin is more than ``--tolerance``
(default 5 %) slower than the baseline at a size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PLUGINS = ("pitch_detection", "player_detection", "ball_detection")
"""The football pipeline's order: each one timed after those before it."""
SIZES = ((640, 360, 100), (1280, 720, 40))
"""Width, height and frames of the clip timed at each size."""
NET_SIZES = ((640, 360, 20), (1280, 720, 10))
"""As :data:`SIZES`, for ``--footage net``: fewer frames (a baseline before bbe725f takes about
a second on each)."""
SEED = 7
PASSES = 3
CHILD_TIMEOUT_S = 600.0
FOOTAGE = ("match", "net", "crowd")
"""What the frames show: the synthetic match, :func:`net_frames` or :func:`crowd_frames`."""


def net_frames(width: int, height: int, frames: int) -> list[Any]:
    """A goal net seen close: white strings a pixel wide (at 640 wide) every 9 px across, every
    7 px down and along a diagonal every 11 px, over grass, moving a string's width a frame as a
    panning camera sees it; the same in every commit (numpy and OpenCV only)."""
    import cv2
    import numpy as np

    scale = width / 640
    thick = max(1, round(scale))
    out = []
    for index in range(frames):
        frame = np.full((height, width, 3), (40, 140, 50), np.uint8)
        shift = index * thick
        for x in range(-height, width, max(2, round(9 * scale))):
            cv2.line(frame, (x + shift, 0), (x + shift, height), (235, 235, 235), thick)
        for y in range(0, height, max(2, round(7 * scale))):
            cv2.line(frame, (0, y), (width, y), (235, 235, 235), thick)
        for x in range(-height, width, max(2, round(11 * scale))):
            cv2.line(frame, (x + shift, 0), (x + shift + height, height), (235, 235, 235), thick)
        out.append(frame)
    return out


def crowd_frames(width: int, height: int, frames: int) -> list[Any]:
    """A crowd on grass: 600 upright rectangles at 640x360 (as many per pixel at any size),
    8 to 24 px tall at 640 wide and a third as wide, in random colours, each a pixel to the
    right a frame; player_detection finds some 300 people in it, a few hundred of whose feet
    zones lie on someone else's body. The same in every commit (numpy and OpenCV only)."""
    import cv2
    import numpy as np

    scale = width / 640
    rng = np.random.default_rng(SEED)
    count = round(600 * width * height / (640 * 360))
    tall = rng.integers(8, 25, count) * scale
    xs = rng.integers(0, width - 4, count)
    ys = rng.integers(0, max(1, height - 12), count)
    colours = rng.integers(0, 256, (count, 3)).tolist()
    out = []
    for index in range(frames):
        frame = np.full((height, width, 3), (40, 140, 40), np.uint8)
        for x, y, h, colour in zip(xs.tolist(), ys.tolist(), tall.tolist(), colours, strict=True):
            x = (x + index) % width
            cv2.rectangle(frame, (x, y), (x + max(2, round(h / 3)), y + round(h)), colour, -1)
        out.append(frame)
    return out


def measure(
    plugin: str, width: int, height: int, frames: int, passes: int, footage: str = "match"
) -> list[float]:
    """CPU milliseconds a frame of ``plugin`` (one of :data:`PLUGINS`) on each pass over the
    clip (``footage``, one of :data:`FOOTAGE`), after the plugins before it in :data:`PLUGINS`
    (child process side).

    Only names every commit of the project has are used: the importable tree on ``sys.path``
    is the one measured.
    """
    import cv2

    from realtime_nb.vision.plugins import PluginContext
    from realtime_nb.vision.plugins.registry import default_registry
    from realtime_nb.vision.synthetic import synthetic_match

    if footage not in FOOTAGE:
        raise ValueError(f"unknown footage {footage!r}; one of {', '.join(FOOTAGE)}")
    cv2.setNumThreads(1)
    # A net's or a crowd's frames are timed with the match's clip information (the same size
    # and rate).
    clip = synthetic_match(seconds=frames / 25, fps=25, width=width, height=height, seed=SEED)
    if footage == "match":
        rendered = list(clip)
    else:
        rendered = (net_frames if footage == "net" else crowd_frames)(width, height, frames)
    # The plugins before it in the pipeline run first, untimed: the football plugins read
    # what those found (without it ball_detection takes another, cheaper path). Written out
    # here, not imported, as the child runs against older commits too.
    order = list(PLUGINS[: PLUGINS.index(plugin) + 1])
    # As a pipeline does, one dict of the frame's shared images for all its plugins, where
    # the commit measured has it (older ones do not).
    shares = "images" in getattr(PluginContext, "__dataclass_fields__", {})
    out = []
    for _ in range(passes):
        pipeline = [default_registry.get(name)() for name in order]
        states: dict[str, dict[str, object]] = {name: {} for name in order}
        spent = 0.0
        for index, frame in enumerate(rendered):
            results: dict[str, dict[str, object]] = {}
            shared: dict[str, object] = {"images": {}} if shares else {}
            for p in pipeline:
                ctx = PluginContext(
                    index, f"f-{index:06d}", results, states[p.name], clip.info, **shared
                )
                start = time.process_time()
                results[p.name] = p.process(frame, ctx)
                if p.name == plugin:
                    spent += time.process_time() - start
        out.append(1000.0 * spent / len(rendered))
    return out


def _child(
    tree: Path, plugin: str, width: int, height: int, frames: int, footage: str = "match"
) -> list[float]:
    """Run :func:`measure` in a new process that imports realtime_nb from ``tree``."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import football_speed as f; "
        "print(json.dumps(f.measure(sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7])))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(Path(__file__).parent)])}
    args = [sys.executable, "-P", "-c", code, str(Path(__file__).parent), plugin]
    args += [str(width), str(height), str(frames), str(PASSES), footage]
    done = subprocess.run(
        args, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True,
        timeout=CHILD_TIMEOUT_S, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{plugin} in {tree} failed:\n{done.stderr[-2000:]}")
    passes: list[float] = json.loads(done.stdout.strip().splitlines()[-1])
    return passes[1:]


def compare(
    ours: Path,
    baseline: Path,
    rounds: int,
    plugins: tuple[str, ...] = PLUGINS,
    footage: str = "match",
) -> dict[tuple[str, str], tuple[float, float]]:
    """Median CPU ms a frame ``(ours, baseline)`` per ``(plugin, "WxH")`` for each of
    ``plugins`` (names from :data:`PLUGINS`) on ``footage``, alternating trees."""
    kept: dict[tuple[str, str, str], list[float]] = {}
    for r in range(rounds):
        for plugin in plugins:
            for width, height, frames in SIZES if footage == "match" else NET_SIZES:
                # Alternate which tree goes first, so neither always follows the other.
                trees = [("ours", ours), ("baseline", baseline)]
                for label, tree in trees if r % 2 == 0 else trees[::-1]:
                    ms = _child(tree, plugin, width, height, frames, footage)
                    kept.setdefault((plugin, f"{width}x{height}", label), []).extend(ms)
                    print(f"round {r + 1} {label} {plugin} {width}x{height}: {ms}", flush=True)
    return {
        (plugin, size): (
            statistics.median(kept[(plugin, size, "ours")]),
            statistics.median(kept[(plugin, size, "baseline")]),
        )
        for plugin, size, _ in kept
    }


def slower_than(table: dict[tuple[str, str], tuple[float, float]], tolerance: float) -> list[str]:
    """``"plugin at WxH"`` for each row of :func:`compare` where ours is slower than the
    baseline by more than ``tolerance`` (0.05: 5 %)."""
    return [
        f"{plugin} at {size}"
        for (plugin, size), (mine, theirs) in table.items()
        if mine > theirs * (1.0 + tolerance)
    ]


def main(argv: list[str] | None = None) -> int:
    """Compare, print a markdown table; exit 1 when a plugin is slower than the tolerance."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", required=True, help="the baseline commit (any git ref)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument(
        "--plugins",
        default=",".join(PLUGINS),
        help=f"comma-separated plugins to time (default: {','.join(PLUGINS)})",
    )
    parser.add_argument(
        "--footage",
        choices=FOOTAGE,
        default="match",
        help="the synthetic match, a goal net or a crowd on grass",
    )
    args = parser.parse_args(argv)
    plugins = tuple(name.strip() for name in args.plugins.split(",") if name.strip())
    unknown = sorted(set(plugins) - set(PLUGINS))
    if unknown or not plugins:
        parser.error(
            f"--plugins: unknown {', '.join(unknown)}; the plugins are {', '.join(PLUGINS)}"
        )
    ours = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="football-speed-") as scratch:
        baseline = Path(scratch) / "baseline"
        git = ["git", "-C", str(ours)]
        added = subprocess.run([*git, "worktree", "add", "--detach", str(baseline), args.against],
                               capture_output=True, text=True)  # fmt: skip
        if added.returncode != 0:
            print(
                f"git worktree add {args.against} failed: {added.stderr.strip()}", file=sys.stderr
            )
            return 2
        try:
            table = compare(ours, baseline, args.rounds, plugins, args.footage)
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(baseline)], check=False)
            subprocess.run([*git, "worktree", "prune"], check=False)
    shown = {"match": f"seed {SEED}", "net": "a goal net", "crowd": "a crowd on grass"}[
        args.footage
    ]
    print(f"\nCPU ms a frame, median of {args.rounds} rounds x {PASSES - 1} passes, {shown}:")
    print(f"\n| plugin | size | ours | {args.against} | ratio |\n|---|---|---|---|---|")
    for (plugin, size), (mine, theirs) in table.items():
        print(f"| {plugin} | {size} | {mine:.2f} | {theirs:.2f} | {mine / theirs:.2f} |")
    slower = slower_than(table, args.tolerance)
    if slower:
        print(f"slower than {args.against} by more than {args.tolerance:.0%}: {', '.join(slower)}")
    return 1 if slower else 0


if __name__ == "__main__":
    sys.exit(main())
