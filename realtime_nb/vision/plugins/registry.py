"""Plugin registry: built-ins and ``realtime_nb.plugins`` entry points, plus in-notebook
registration with :func:`register_plugin`, loading a user's plugin module with
:func:`load_plugin_module`, and pipeline ordering by ``requires``."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
import traceback
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TypeVar

from realtime_nb.core.protocol import ErrorCode
from realtime_nb.vision.plugins.base import Plugin
from realtime_nb.vision.plugins.builtins import builtin_plugins

__all__ = [
    "PipelineError",
    "PluginLoadError",
    "PluginRegistry",
    "default_registry",
    "load_plugin_module",
    "register_plugin",
]

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

    def unregister(self, name: str) -> None:
        """Remove the plugin registered as ``name``, if any (a notebook that drops a plugin)."""
        with self._lock:
            self._plugins.pop(name, None)

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


class PluginLoadError(ValueError):
    """A plugin module that cannot be loaded; the message says why in one sentence."""


def load_plugin_module(spec: str, cwd: Path | None = None) -> list[str]:
    """Import a user's plugin module, whose ``@register_plugin`` classes register themselves.

    ``spec`` is a path to a ``.py`` file (``./mybright.py``, ``plugins/bright.py``) or a module
    name (``mybright``, ``mypkg.plugins``). A module name is looked up in ``cwd`` (default: the
    current directory) first, then on ``sys.path``, so a module next to you works without
    setting ``PYTHONPATH``.

    Args:
        spec: The file or module.
        cwd: Where a relative path or a module name is looked for first.

    Returns:
        The names of the plugins the module registered with :data:`default_registry`.

    Raises:
        PluginLoadError: No such file or module, or importing it raised (the message carries
            the error and the line of the user's code it came from).
    """
    base = Path.cwd() if cwd is None else cwd
    before = set(default_registry.names())
    path = Path(spec).expanduser()
    looks_like_file = spec.endswith(".py") or "/" in spec or "\\" in spec
    try:
        if looks_like_file:
            _exec_file(path if path.is_absolute() else base / path, spec)
        else:
            _import_module(spec, base)
    except PluginLoadError:
        raise
    except Exception as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        raise PluginLoadError(
            f"importing plugins from {spec!r} failed: {type(exc).__name__}: {exc}{where}"
        ) from exc
    return sorted(set(default_registry.names()) - before)


def _exec_file(path: Path, spec: str) -> None:
    if not path.is_file():
        raise PluginLoadError(f"no plugin file {spec!r} (looked for {path.resolve()})")
    name = path.stem
    module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise PluginLoadError(f"{spec!r} is not a Python file Python can import")
    module = importlib.util.module_from_spec(module_spec)
    # Registered under its name first, so the module's own pickling and dataclasses find it.
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _import_module(name: str, base: Path) -> None:
    if str(base) not in sys.path:
        sys.path.insert(0, str(base))
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not (name == exc.name or name.startswith(exc.name + ".")):
            raise  # the module exists but imports something missing: report that instead
        raise PluginLoadError(
            f"no plugin module {name!r} in {base} or on the Python path; give a module name "
            "(mybright) or the path of a .py file (./mybright.py)"
        ) from None
