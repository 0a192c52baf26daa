"""The plugin API: what a video-analysis plugin is and what it gets from the runner.

A plugin computes (``process``) and draws (``draw``) separately, like supervision's detectors and
annotators::

    class Brightness(Plugin):
        name = "brightness"
        metadata = PluginMetadata(version="1.0", model="mean", input_shape=[None, None, 3],
                                  output_format="json", confidence_default=1.0,
                                  capabilities=["stats"])

        def process(self, frame, ctx):
            value = float(frame.mean())
            if value < 20:
                ctx.warn("frame is very dark", "low")
            return {"brightness": value}

A plugin that takes options declares them as a msgspec struct, ``Options``; the server checks a
job's ``options.plugin_options[name]`` against it when the job is submitted, so a bad or unknown
option is refused with a 400 that names it, before anything runs::

    class Threshold(Plugin):
        class Options(msgspec.Struct, forbid_unknown_fields=True):
            level: Annotated[int, msgspec.Meta(ge=0, le=255)] = 128
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import msgspec
import numpy.typing as npt

from realtime_nb.core.frame import Frame, VideoInfo
from realtime_nb.core.protocol import PluginMetadata, Severity

__all__ = [
    "Frame",
    "NoOptions",
    "Plugin",
    "PluginContext",
    "PluginWarning",
    "VideoInfo",
    "bgr_metadata",
    "draw_results",
]


@dataclass(frozen=True)
class PluginWarning:
    """A warning raised by a plugin through :meth:`PluginContext.warn`."""

    message: str
    severity: Severity
    frame_id: str | None


@dataclass
class PluginContext:
    """Per-frame context handed to :meth:`Plugin.process`.

    Attributes:
        frame_index: 0-based index of the frame in the video.
        frame_id: Stable id of the frame (``f-000000``), used in messages and results.
        results: Results of the plugins that ran before this one on the same frame.
        state: A dict that survives from frame to frame for this plugin within one job.
        info: The video's size and rate.
        images: Images of this frame that plugins before this one worked out, by name
            (:meth:`share_image`), for a later plugin to read rather than work out again
            (:meth:`shared_image`): ``"hsv"`` (the frame in OpenCV's HSV) and ``"hue"``,
            ``"saturation"`` and ``"value"`` (its planes), when pitch_detection ran, and
            ``"pitch polygon"`` (its polygon as a mask) once player_detection drew it. A
            pipeline hands one dict to every plugin of a frame; the images are read-only,
            live only in the process running the pipeline, and go with the frame (never
            sent or stored).
    """

    frame_index: int
    frame_id: str
    results: Mapping[str, dict[str, Any]]
    state: dict[str, Any]
    info: VideoInfo
    warnings: list[PluginWarning] = field(default_factory=list)
    images: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def warn(self, message: str, severity: Severity = "medium") -> None:
        """Record a soft failure for this frame; the job goes on."""
        self.warnings.append(PluginWarning(message, severity, self.frame_id))

    def share_image(self, name: str, image: npt.NDArray[Any]) -> None:
        """Offer ``image``, worked out from this frame, to the plugins after this one as
        ``images[name]``. It is made read-only for good (writing into it, or passing it to
        OpenCV as ``dst``, raises): a later plugin must not change what another may read. So
        share a fresh array, not a buffer this plugin writes into again on the next frame."""
        image.flags.writeable = False
        self.images[name] = image

    def shared_image(self, name: str, shape: tuple[int, ...]) -> npt.NDArray[Any] | None:
        """``images[name]`` when a plugin before this one shared it with this ``shape``
        (the frame's, or its rows and columns for a plane), else None."""
        image = self.images.get(name)
        return image if image is not None and image.shape == shape else None


class NoOptions(msgspec.Struct, forbid_unknown_fields=True):
    """The options of a plugin that declares none: it takes no options at all."""


class Plugin:
    """Base class of every plugin. Subclasses set ``name`` and ``metadata`` and implement
    :meth:`process`; :meth:`setup` and :meth:`draw` are optional.

    A new instance is made for every job, so instance attributes are per-job state too.
    """

    name: ClassVar[str] = ""
    metadata: ClassVar[PluginMetadata]
    requires: ClassVar[tuple[str, ...]] = ()
    """Plugins whose result for the same frame this one reads from ``ctx.results``."""
    history_frames: ClassVar[int | None] = 0
    """State carried across frames, for running a job in chunks (the Dask executor): ``0``,
    none (a frame's result depends on that frame alone); ``N``, the last ``N`` frames rebuild
    it exactly (a chunk starts ``N`` frames early and discards those results); ``None``, it
    depends on the whole past (the job runs as one chunk). A plugin that keeps state and
    leaves this at 0 gives different results around chunk boundaries."""
    Options: ClassVar[type[msgspec.Struct]] = NoOptions
    """The options this plugin takes: a msgspec struct (``forbid_unknown_fields=True`` so a
    misspelt option is refused rather than ignored); default: none."""

    @classmethod
    def parse_options(cls, raw: Mapping[str, Any]) -> msgspec.Struct:
        """Check options given for this plugin against :attr:`Options`.

        Raises:
            msgspec.ValidationError: A wrong type or value, or an option the plugin does not
                declare; the message names it (``... - at `$.level```).
        """
        return msgspec.convert(raw, cls.Options)

    options: msgspec.Struct = NoOptions()
    """This job's options of this plugin (an instance of :attr:`Options`), set by
    :meth:`create` before :meth:`setup`."""

    @classmethod
    def create(cls, raw_options: Mapping[str, Any] | None = None) -> Plugin:
        """A new instance for one job, with that job's options for it (checked again: they
        were checked at submit, but a resumed job's come from the store).

        Raises:
            msgspec.ValidationError: The options do not fit :attr:`Options`.
        """
        plugin = cls()
        plugin.options = cls.parse_options(raw_options or {})
        return plugin

    def setup(self, info: VideoInfo) -> None:
        """Prepare for a video (load cascades, size buffers). Called once per job."""

    def process(self, frame: Frame, ctx: PluginContext) -> dict[str, Any]:
        """Analyse one frame and return a JSON-able dict."""
        raise NotImplementedError

    def draw(self, frame: Frame, result: dict[str, Any]) -> None:
        """Draw ``result`` onto ``frame`` in place (boxes, labels). Default: draw nothing."""


def bgr_metadata(
    model: str, confidence: float, capabilities: list[str], version: str = "0.1.0"
) -> PluginMetadata:
    """Metadata of a plugin that reads any-size BGR frames and returns JSON (the built-ins)."""
    return PluginMetadata(
        version=version,
        model=model,
        input_shape=[None, None, 3],
        output_format="json",
        confidence_default=confidence,
        capabilities=capabilities,
    )


def draw_results(
    canvas: Frame, plugins: Iterable[tuple[str, Plugin]], results: Mapping[str, dict[str, Any]]
) -> list[tuple[str, Exception]]:
    """Draw each plugin's result for a frame over ``canvas``, in the order given.

    A plugin without a result is skipped; one whose ``draw`` raises is skipped too (a broken
    drawing must stop neither a job nor a viewer: the results stand) and returned with its
    exception, for the caller to log.

    Returns:
        ``(plugin name, exception)`` for each ``draw`` that raised.
    """
    failed: list[tuple[str, Exception]] = []
    for name, plugin in plugins:
        result = results.get(name)
        if result is None:
            continue
        try:
            plugin.draw(canvas, result)
        except Exception as exc:
            failed.append((name, exc))
    return failed
