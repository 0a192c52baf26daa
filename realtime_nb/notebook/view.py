"""How the live overlay and the static report show things, so both show them the same way.

Durations, HTML escaping, badges and the colours of statuses and severities: one definition,
used by :mod:`realtime_nb.notebook.widgets` and :mod:`realtime_nb.notebook.report`.
"""

from __future__ import annotations

import html

__all__ = [
    "SEVERITY_COLOURS",
    "SEVERITY_ORDER",
    "STATUS_COLOURS",
    "badge",
    "esc",
    "format_duration_ms",
    "warning_item",
]

STATUS_COLOURS = {
    "pending": "#9e9e9e",
    "started": "#5c6bc0",
    "running": "#1e88e5",
    "completed": "#43a047",
    "failed": "#e53935",
    "cancelled": "#fb8c00",
    "interrupted": "#fb8c00",
}
"""A plugin status's colour (badges, timing bars)."""

SEVERITY_COLOURS = {"low": "#757575", "medium": "#fb8c00", "high": "#e53935"}
"""A warning severity's colour."""

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
"""Most severe first."""


def format_duration_ms(ms: float) -> str:
    """Format a duration given in milliseconds for people.

    Args:
        ms: The duration in milliseconds; negative values are shown as 0.

    Returns:
        ``"0.42 ms"`` below 1 ms, ``"12.3 ms"`` below 1 s, ``"2.50 s"`` below a minute,
        ``"3 min 05 s"`` above.

    Example:
        >>> format_duration_ms(12.34), format_duration_ms(2500), format_duration_ms(185_000)
        ('12.3 ms', '2.50 s', '3 min 05 s')
    """
    ms = max(ms, 0.0)
    # Thresholds sit where the rounded text would roll over, so 999.97 is "1.00 s", not
    # "1000.0 ms".
    if ms < 0.995:
        return f"{ms:.2f} ms"
    if ms < 999.95:
        return f"{ms:.1f} ms"
    if ms < 59_995:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds:02d} s"


def esc(text: object) -> str:
    """``text`` escaped for HTML, quotes included."""
    return html.escape(str(text), quote=True)


def badge(text: str, colour: str) -> str:
    """A small rounded label, white on ``colour``."""
    return (
        f'<span style="background:{colour};color:#fff;border-radius:8px;padding:0 6px;'
        f'font-size:85%;white-space:nowrap">{esc(text)}</span>'
    )


def warning_item(severity: str, plugin: str, message: str, where: str = "", tail: str = "") -> str:
    """One warning as an HTML list item: its severity in its colour, the plugin, ``where`` (raw
    HTML, e.g. where it happened), the message, then ``tail`` (raw HTML, e.g. a count)."""
    colour = SEVERITY_COLOURS.get(severity, "#757575")
    return (
        f'<li><span style="color:{colour};font-weight:bold">{esc(severity)}</span> '
        f"<b>{esc(plugin)}</b>{where}: {esc(message)}{tail}</li>"
    )
