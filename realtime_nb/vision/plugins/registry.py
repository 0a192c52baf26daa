"""Plugin registry: built-ins and ``realtime_nb.plugins`` entry points, plus in-notebook
registration with :func:`register_plugin`, and pipeline ordering by ``requires``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import TypeVar

from realtime_nb.core.protocol import ErrorCode
from realtime_nb.vision.plugins.base import Plugin
from realtime_nb.vision.plugins.builtins import builtin_plugins

__all__ = ["PipelineError", "PluginRegistry", "default_registry", "register_plugin"]

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "realtime_nb.plugins"
P = TypeVar("P", bound=type[Plugin])


class PipelineError(ValueError):
    """A list of plugins that cannot run: an unknown name, a missing requirement, or a cycle."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class PluginRegistry:
    """Maps plugin names to plugin classes. Thread-safe."""

    def __init__(self) -> None:
        self._plugins: dict[str, type[Plugin]] = {}
        self._lock = threading.Lock()
        self._entry_points_loaded = False

    def register(self, cls: P) -> P:
        """Add a plugin class (usable as a decorator). A later registration replaces an earlier
        one of the same name, so a notebook cell can be re-run after an edit."""
        if not cls.name:
            raise ValueError(f"{cls.__qualname__} has no name")
        if not hasattr(cls, "metadata"):
            raise ValueError(f"plugin {cls.name!r} has no metadata")
        with self._lock:
            self._plugins[cls.name] = cls
        return cls

    def load_entry_points(self) -> None:
        """Load plugins declared in the ``realtime_nb.plugins`` entry point group (once)."""
        with self._lock:
            if self._entry_points_loaded:
                return
            self._entry_points_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls = ep.load()
            except Exception:
                log.exception("could not load plugin entry point %s", ep.name)
                continue
            with self._lock:
                self._plugins.setdefault(cls.name, cls)

    def _ensure_loaded(self) -> None:
        if not self._entry_points_loaded:
            # Built-ins are registered directly, not only through entry points, so they are
            # there even when the package runs from a checkout without installed metadata.
            for cls in builtin_plugins():
                with self._lock:
                    self._plugins.setdefault(cls.name, cls)
            self.load_entry_points()

    def names(self) -> list[str]:
        """Sorted names of every registered plugin."""
        self._ensure_loaded()
        with self._lock:
            return sorted(self._plugins)

    def get(self, name: str) -> type[Plugin]:
        """Return the class registered as ``name``.

        Raises:
            PipelineError: No plugin has that name (code PLUGIN_UNKNOWN).
        """
        self._ensure_loaded()
        with self._lock:
            cls = self._plugins.get(name)
        if cls is None:
            raise PipelineError(
                ErrorCode.PLUGIN_UNKNOWN,
                f"unknown plugin {name!r}; available: {', '.join(self.names())}",
            )
        return cls

    def resolve(self, names: Iterable[str]) -> list[type[Plugin]]:
        """Order the named plugins so each runs after the plugins it requires.

        Raises:
            PipelineError: Empty list, duplicate or unknown name, a requirement missing from the
                list, or a cycle.
        """
        wanted = list(names)
        if not wanted:
            raise PipelineError(ErrorCode.PIPELINE_INVALID, "plugins must name at least one plugin")
        # One pass over the list (a count per name would be quadratic in its length).
        seen: set[str] = set()
        dupes: set[str] = set()
        for n in wanted:
            (dupes if n in seen else seen).add(n)
        if dupes:
            shown = sorted(dupes)[:10]
            raise PipelineError(ErrorCode.PIPELINE_INVALID, f"duplicate plugins: {shown}")
        classes = {n: self.get(n) for n in wanted}
        for cls in classes.values():
            missing = [r for r in cls.requires if r not in classes]
            if missing:
                raise PipelineError(
                    ErrorCode.PIPELINE_INVALID,
                    f"plugin {cls.name!r} requires {missing}; add them to plugins",
                )
        ordered: list[type[Plugin]] = []
        done: set[str] = set()
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                raise PipelineError(
                    ErrorCode.PIPELINE_INVALID, f"plugins require each other: {name}"
                )
            visiting.add(name)
            for req in classes[name].requires:
                visit(req)
            visiting.discard(name)
            done.add(name)
            ordered.append(classes[name])

        for name in wanted:
            visit(name)
        return ordered


default_registry = PluginRegistry()


def register_plugin(cls: P) -> P:
    """Register a plugin class with the default registry (a decorator, handy in notebooks)."""
    return default_registry.register(cls)
