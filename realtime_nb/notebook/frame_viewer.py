"""The overlay's frame viewer: the current frame with the plugins' overlays, a scrubber over the
kept frames, and frames fetched on demand."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import ipywidgets

from realtime_nb.core.state import RealtimeState
from realtime_nb.notebook.frames import FrameDrawer, KeptFrame, nearest
from realtime_nb.notebook.view import (
    esc,
    format_duration_ms,
)
from realtime_nb.notebook.widget_diff import CSS_CLASSES, HIDDEN, VISIBLE, hold_all, set_if_changed

__all__ = ["FrameViewer"]


class FrameViewer:
    """The frame: the newest preview (live) or one picked with the scrubber, with each plugin's
    drawing switched on or off by its toggle.

    Previews arrive undrawn with every plugin's result for their frame; the viewer draws the plugins
    whose toggle is on (with the plugins' own ``draw``, see
    :class:`~realtime_nb.notebook.frames.FrameDrawer`). The scrubber runs over the frames the client
    kept (bounded, see :class:`~realtime_nb.notebook.frames.FrameStore`) by frame number; moving it
    picks the nearest kept frame and stops following the newest, and the inspector then shows that
    frame's per-plugin timings and warnings. A picked frame stays on screen (and in the slider's
    range) even once the bounded store has let it go. Moving the slider to the end, or pressing
    Live, follows the newest frame again. Once a job has ended, :meth:`on_demand` lets the
    scrubber cover every frame: the ones not kept are fetched from the server.

    Args:
        drawer: Draws plugin results over a frame; a default one uses the default registry.
        plugin_options: The job's options of each plugin, which their drawings are drawn with.
        on_change: Called after the user toggled a plugin, scrubbed or pressed Live (the
            overlay re-renders everything with it); by default the viewer re-renders itself.
        lock: Held while rendering and while handling the user's input (an overlay passes its
            own, so a render on the client's thread and a click on the kernel's never interleave).

    Attributes:
        widget: The top-level ipywidget (a ``VBox``).
        image: The ``Image`` (JPEG), hidden until the first preview.
        caption: ``HTML``: which frame is shown, or a placeholder.
        live: ``ToggleButton``: on while the newest frame is followed.
        scrubber: ``IntSlider`` over the kept frames' numbers; disabled below two frames.
        toggles: ``HBox`` of one ``ToggleButton`` per plugin, on while its drawing shows.
    """

    PLACEHOLDER = "<i>Waiting for the first frame…</i>"

    def __init__(
        self,
        drawer: FrameDrawer | None = None,
        on_change: Callable[[], None] | None = None,
        lock: threading.RLock | None = None,
        plugin_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._drawer = drawer if drawer is not None else FrameDrawer()
        self._plugin_options = dict(plugin_options or {})
        self.on_change = on_change
        self._lock = lock if lock is not None else threading.RLock()
        self._frames: tuple[KeptFrame, ...] = ()
        self._picked: KeptFrame | None = None
        self._fetch: Callable[[int], KeptFrame | None] | None = None
        self._frame_count = 0
        self._hidden: set[str] = set()
        self._drawn: tuple[str, tuple[str, ...], bytes] | None = None
        self._syncing = False
        self._last_state = RealtimeState()
        self.image: ipywidgets.Image = ipywidgets.Image(
            format="jpeg", layout=ipywidgets.Layout(display=HIDDEN, max_width="100%")
        )
        self.caption: ipywidgets.HTML = ipywidgets.HTML(value=self.PLACEHOLDER)
        self.live: ipywidgets.ToggleButton = ipywidgets.ToggleButton(
            value=True,
            description="Live",
            icon="play",
            tooltip="Follow the newest frame",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.scrubber: ipywidgets.IntSlider = ipywidgets.IntSlider(
            value=0,
            min=0,
            max=0,
            description="Frame",
            disabled=True,
            continuous_update=False,
            layout=ipywidgets.Layout(flex="1 1 auto"),
        )
        self.toggles: ipywidgets.HBox = ipywidgets.HBox(
            layout=ipywidgets.Layout(flex_flow="row wrap")
        )
        self._toggle_for: dict[str, ipywidgets.ToggleButton] = {}
        controls = ipywidgets.HBox([self.live, self.scrubber])
        self.widget: ipywidgets.VBox = ipywidgets.VBox(
            [self.image, self.caption, controls, self.toggles]
        )
        self.widget.add_class(CSS_CLASSES["frame"])
        self._synced: tuple[Any, ...] = (
            self.image,
            self.image.layout,
            self.caption,
            self.live,
            self.scrubber,
            self.toggles,
        )
        self.scrubber.observe(self._scrubbed, "value")
        self.live.observe(self._live_pressed, "value")

    # --- what is shown ----------------------------------------------------------------------

    @property
    def picked(self) -> KeptFrame | None:
        """The frame picked with the scrubber, or None while following the newest."""
        with self._lock:
            return self._picked

    @property
    def shown(self) -> KeptFrame | None:
        """The frame on screen: the picked one, else the newest kept, else None."""
        with self._lock:
            return self.picked or (self._frames[-1] if self._frames else None)

    @property
    def plugins_drawn(self) -> list[str]:
        """The plugins whose drawing is on (toggle on and drawable in this kernel)."""
        return [n for n, t in self._toggle_for.items() if t.value and not t.disabled]

    def pick(self, frame_index: int | None) -> None:
        """Show the kept frame nearest ``frame_index``; None follows the newest frame again."""
        with self._lock:
            self._pin(frame_index)
        self._changed()

    def on_demand(self, fetch: Callable[[int], KeptFrame | None], frame_count: int) -> None:
        """Let the scrubber run over every frame of a finished job, ``0`` to
        ``frame_count - 1``: a frame that is not kept is fetched with ``fetch(index)`` (None
        when it cannot be had, and the nearest kept frame shows instead)."""
        with self._lock:
            self._fetch, self._frame_count = fetch, max(0, frame_count)
        self._changed()

    def show_plugin(self, plugin: str, visible: bool = True) -> None:
        """Switch ``plugin``'s drawing on or off (as its toggle does)."""
        with self._lock:
            if visible:
                self._hidden.discard(plugin)
            else:
                self._hidden.add(plugin)
            toggle = self._toggle_for.get(plugin)
            if toggle is not None:
                self._syncing = True
                try:
                    toggle.value = visible
                finally:
                    self._syncing = False
        self._changed()

    # --- user input -------------------------------------------------------------------------

    def _pin(self, frame_index: int | None) -> None:
        # The picked frame stays a candidate even once the bounded store has let it go.
        frames = [*self._frames, *([self._picked] if self._picked is not None else [])]
        target = nearest(frames, frame_index) if frame_index is not None else None
        if (
            self._fetch is not None
            and frame_index is not None
            and 0 <= frame_index < self._frame_count
            and (target is None or target.frame_index != frame_index)
        ):
            target = self._fetch(frame_index) or target
        newest = self._frames[-1] if self._frames else None
        self._picked = None if target is None or target is newest else target

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
        else:
            self.render(self._last_state)

    def _scrubbed(self, change: dict[str, Any]) -> None:
        with self._lock:
            if self._syncing:
                return
            self._pin(int(change["new"]))
        self._changed()

    def _live_pressed(self, change: dict[str, Any]) -> None:
        with self._lock:
            if self._syncing:
                return
            self._picked = None if change["new"] else self.shown
        self._changed()

    def _toggled(self, plugin: str, change: dict[str, Any]) -> None:
        with self._lock:
            if self._syncing:
                return
            if change["new"]:
                self._hidden.discard(plugin)
            else:
                self._hidden.add(plugin)
        self._changed()

    # --- rendering --------------------------------------------------------------------------

    def _ensure_toggles(self, names: Iterable[str]) -> int:
        new = [n for n in dict.fromkeys(names) if n not in self._toggle_for]
        for name in new:
            drawable = self._drawer.can_draw(name, self._plugin_options.get(name))
            toggle = ipywidgets.ToggleButton(
                value=name not in self._hidden,
                description=name,
                disabled=not drawable,
                tooltip=f"Show {name}'s drawing"
                if drawable
                else f"{name} is not installed in this kernel, so it cannot be drawn here",
                layout=ipywidgets.Layout(width="auto"),
            )
            toggle.observe(lambda change, n=name: self._toggled(n, change), "value")
            self._toggle_for[name] = toggle
        if not new:
            return 0
        self.toggles.children = tuple(self._toggle_for.values())
        return 1

    def _jpeg(self, frame: KeptFrame) -> bytes:
        drawn = tuple(n for n in frame.results if n not in self._hidden)
        if self._drawn is not None and self._drawn[:2] == (frame.frame_id, drawn):
            return self._drawn[2]  # the same bytes object: set_if_changed sees no change
        jpeg = self._drawer.draw(frame, drawn, self._plugin_options)
        self._drawn = (frame.frame_id, drawn, jpeg)
        return jpeg

    def _caption(self, state: RealtimeState, shown: KeptFrame | None) -> str:
        if shown is None:
            frame = state.current_frame
            if frame is None:
                return self.PLACEHOLDER
            return (
                f"frame <code>{esc(frame.frame_id)}</code> · {esc(frame.plugin)} "
                f"{format_duration_ms(frame.timing_ms)}"
            )
        if self._picked is None:
            where = "live"
        elif self._frame_count or any(f.frame_id == shown.frame_id for f in self._frames):
            where = "picked"  # kept, or to be fetched again whenever it is picked
        else:
            where = "picked (no longer kept)"
        spent = format_duration_ms(sum(shown.timings_ms.values()))
        return (
            f"frame <code>{esc(shown.frame_id)}</code> · {where} · "
            f"{len(shown.timings_ms)} plugins {spent} · {len(self._frames)} kept"
        )

    def _scrub_to(self, lo: int, hi: int, value: int) -> int:
        slider = self.scrubber
        n = 0
        # Move the bound that keeps min <= max valid first.
        if lo > slider.max:
            n += set_if_changed(slider, "max", hi) + set_if_changed(slider, "min", lo)
        else:
            n += set_if_changed(slider, "min", lo) + set_if_changed(slider, "max", hi)
        return (
            n
            + set_if_changed(slider, "value", value)
            + set_if_changed(slider, "disabled", hi <= lo)
        )

    def render(self, state: RealtimeState, frames: Sequence[KeptFrame] = ()) -> int:
        """Show the picked or newest of ``frames`` with the chosen drawings; caption it.

        Args:
            state: The job's state (its plugins get toggles; its current frame captions the
                viewer until the first preview).
            frames: The kept frames, oldest first; empty keeps the ones already given.

        Returns:
            How many trait assignments were made.
        """
        with self._lock, hold_all(self._synced):
            self._syncing = True
            self._last_state = state
            try:
                if frames:
                    self._frames = tuple(frames)
                shown = self.shown
                names = [*state.plugin_status, *(shown.results if shown else ())]
                n = self._ensure_toggles(names)
                if shown is not None:
                    n += set_if_changed(self.image, "value", self._jpeg(shown))
                    n += set_if_changed(self.image.layout, "display", VISIBLE)
                    if self._frame_count:  # a finished job: every frame, fetched on demand
                        first, last = 0, self._frame_count - 1
                    else:
                        first = self._frames[0].frame_index if self._frames else shown.frame_index
                        last = self._frames[-1].frame_index if self._frames else first
                    n += self._scrub_to(
                        min(first, shown.frame_index),
                        max(last, shown.frame_index),
                        shown.frame_index,
                    )
                n += set_if_changed(self.live, "value", self._picked is None)
                n += set_if_changed(self.caption, "value", self._caption(state, shown))
            finally:
                self._syncing = False
        return n
