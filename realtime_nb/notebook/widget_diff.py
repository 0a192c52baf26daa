"""Rendering as a diff, shared by the overlay's parts: a trait is assigned only when its value
changed, inside ``hold_sync()`` so one tick sends at most one comm message per widget; and
the stable CSS classes on each part's top-level widget."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

__all__ = ["CSS_CLASSES", "HIDDEN", "VISIBLE", "hold_all", "set_if_changed"]

CSS_CLASSES = {
    "overlay": "rnb-overlay",
    "progress": "rnb-progress",
    "frame": "rnb-frame",
    "inspector": "rnb-inspector",
    "errors": "rnb-errors",
    "metrics": "rnb-metrics",
    "badge": "rnb-badge",
}
"""Stable CSS classes on each part's top-level widget, for styling and for tests to find them.

Classes are added with ``widget.add_class``; they never change the order of the DOM children.
"""

HIDDEN = "none"
"""Layout.display that hides a widget."""
# Layout.display None means "whatever the widget's CSS says", i.e. visible.
VISIBLE = None
"""Layout.display that shows a widget (its CSS decides)."""


def set_if_changed(obj: Any, name: str, value: object) -> int:
    """Assign ``obj.name = value`` only if it differs; return 1 if assigned, else 0."""
    current = getattr(obj, name)
    if current is value or current == value:
        return 0
    setattr(obj, name, value)
    return 1


@contextmanager
def hold_all(widgets: Iterable[Any]) -> Iterator[None]:
    """Hold sync on every widget, so each sends its changed traits in one message at the end."""
    with ExitStack() as stack:
        for widget in widgets:
            stack.enter_context(widget.hold_sync())
        yield
