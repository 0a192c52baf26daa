"""Tests of realtime_nb.vision.plugins.registry: lookup, notebook registration, pipeline order."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import TEST_METADATA

from realtime_nb.core.protocol import ErrorCode
from realtime_nb.vision.plugins.base import Frame, Plugin, PluginContext
from realtime_nb.vision.plugins.registry import PipelineError, PluginRegistry, default_registry


def make(name: str, requires: tuple[str, ...] = ()) -> type[Plugin]:
    def process(self: Plugin, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        return {}

    return type(
        name,
        (Plugin,),
        {"name": name, "metadata": TEST_METADATA, "requires": requires, "process": process},
    )


@pytest.fixture
def registry() -> PluginRegistry:
    reg = PluginRegistry()
    for cls in (
        make("a"),
        make("b", ("a",)),
        make("c", ("b",)),
        make("x", ("y",)),
        make("y", ("x",)),
    ):
        reg.register(cls)
    return reg


def test_builtins_are_registered() -> None:
    names = default_registry.names()
    for name in ("pitch_detection", "player_detection", "ball_detection"):
        assert name in names


def test_resolve_orders_by_requirements(registry: PluginRegistry) -> None:
    assert [c.name for c in registry.resolve(["c", "b", "a"])] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("names", "code", "text"),
    [
        ([], ErrorCode.PIPELINE_INVALID, "at least one"),
        (["a", "a"], ErrorCode.PIPELINE_INVALID, "duplicate"),
        (["nope"], ErrorCode.PLUGIN_UNKNOWN, "unknown plugin 'nope'"),
        (["c", "b"], ErrorCode.PIPELINE_INVALID, "requires ['a']"),
        (["x", "y"], ErrorCode.PIPELINE_INVALID, "require each other"),
    ],
)
def test_impossible_pipelines_are_rejected(
    registry: PluginRegistry, names: list[str], code: ErrorCode, text: str
) -> None:
    with pytest.raises(PipelineError) as info:
        registry.resolve(names)
    assert info.value.code == code and text in str(info.value)


def test_reregistering_replaces_and_nameless_is_refused(registry: PluginRegistry) -> None:
    newer = make("a")
    registry.register(newer)
    assert registry.get("a") is newer
    with pytest.raises(ValueError, match="no name"):
        registry.register(make(""))


FOOTBALL = ["pitch_detection", "player_detection", "ball_detection"]
GENERAL = ["motion_detection", "people_detection", "face_detection"]


@pytest.mark.parametrize("name", [*FOOTBALL, *GENERAL])
def test_builtins_are_registered_with_metadata(name: str) -> None:
    from realtime_nb.vision.plugins import builtin_plugins

    cls = next(c for c in builtin_plugins() if c.name == name)
    assert default_registry.get(name) is cls
    meta = cls.metadata
    if name in ("face_detection", "people_detection"):
        # detectors with a model describe the model: its version, input, licence, origin
        assert meta.version and meta.input_shape
        assert any(c.startswith("licence:") for c in meta.capabilities)
        assert any(c.startswith("weights:") for c in meta.capabilities)
    else:
        assert meta.version == "0.1.0"
        assert meta.input_shape == [None, None, 3]
    assert meta.output_format == "json"
    assert meta.capabilities
    assert not cls.requires  # each runs alone
    if name in GENERAL:
        assert "tracking" in meta.capabilities
