"""The parameters of a synthetic match: their types, defaults and bounds, and checking them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from realtime_nb.vision.synthetic.camera import PITCH_LENGTH

__all__ = ["SYNTHETIC_DEFAULTS", "Param", "SyntheticParamError", "check_synthetic_params"]

Param = int | float | bool


class SyntheticParamError(ValueError):
    """A synthetic-match parameter is unknown, of the wrong type, or out of bounds.

    Attributes:
        param: The name of the offending parameter.
    """

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class _Spec:
    kind: type[Param]
    default: Param
    lo: float = -math.inf
    hi: float = math.inf
    lo_open: bool = False


_SPECS: dict[str, _Spec] = {
    "seconds": _Spec(float, 4.0, 0, 3600, lo_open=True),
    "fps": _Spec(float, 25.0, 1, 120),
    "width": _Spec(int, 640, 64, 3840),
    "height": _Spec(int, 360, 64, 3840),
    "seed": _Spec(int, 0, 0, 2**63 - 1),
    "noise": _Spec(float, 2.0, 0, 50),
    "blur": _Spec(int, 0, 0, 31),
    "lighting": _Spec(float, 1.0, 0.2, 3.0),
    "stripes": _Spec(bool, True),
    "pan": _Spec(float, 25.0, 0, 60),
    "players_per_team": _Spec(int, 7, 0, 11),
    "ball_hidden_fraction": _Spec(float, 0.1, 0, 1),
    # Domain randomisation: the defaults draw the classic look; see synthetic_match's docstring.
    "camera_height": _Spec(float, 16.0, 5, 40),
    "camera_distance": _Spec(float, 28.0, 5, 80),
    "fov": _Spec(float, 40.0, 10, 90),
    "kits": _Spec(int, 0, 0, 2**31 - 1),
    "white_shorts": _Spec(bool, False),
    "grass_kit": _Spec(bool, False),
    "skin_tones": _Spec(bool, False),
    "spots": _Spec(bool, False),
    "line_width": _Spec(float, 0.12, 0.04, 0.4),
    "line_fade": _Spec(float, 0.0, 0, 0.9),
    "stripe_width": _Spec(float, PITCH_LENGTH / 18, 1, 40),
    "stripe_angle": _Spec(float, 0.0, 0, 180),
    "grass_texture": _Spec(float, 0.0, 0, 1),
    "shadows": _Spec(float, 0.0, 0, 1),
    "motion_blur": _Spec(int, 0, 0, 31),
    "jpeg_quality": _Spec(int, 0, 0, 100),
    "true_ball": _Spec(bool, False),
    "patched_ball": _Spec(bool, False),
}

SYNTHETIC_DEFAULTS: dict[str, Param] = {name: spec.default for name, spec in _SPECS.items()}
"""Every parameter of :func:`synthetic_match` with its default value."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _coerce(name: str, spec: _Spec, value: object) -> Param:
    if spec.kind is bool:
        text = str(value).strip().lower()
        if isinstance(value, bool | int | str) and text in _TRUE | _FALSE:
            return text in _TRUE
        raise SyntheticParamError(name, f"{name} must be true or false, got {value!r}")
    what = "an integer" if spec.kind is int else "a number"
    number: int | float
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise TypeError
        if spec.kind is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            number = int(value)
        else:
            number = float(value)
    except (TypeError, ValueError):
        raise SyntheticParamError(name, f"{name} must be {what}, got {value!r}") from None
    too_low = number <= spec.lo if spec.lo_open else number < spec.lo
    if not math.isfinite(number) or too_low or number > spec.hi:
        low = f"{spec.lo:g} < " if spec.lo_open else f"{spec.lo:g} <= "
        raise SyntheticParamError(name, f"{name} must be {low}{name} <= {spec.hi:g}, got {value!r}")
    return number


def check_synthetic_params(params: Mapping[str, object]) -> dict[str, Param]:
    """Validate synthetic-match parameters and fill in the defaults.

    Strings are accepted for every parameter (they come from a ``synthetic://match?...`` query).

    Args:
        params: Parameter names to values; a subset of :data:`SYNTHETIC_DEFAULTS`.

    Returns:
        Every parameter, typed and within bounds.

    Raises:
        SyntheticParamError: An unknown name, a value of the wrong type, or out of bounds.
    """
    unknown = sorted(set(params) - set(_SPECS))
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        raise SyntheticParamError(
            unknown[0], f"unknown synthetic parameter {names}; known: {', '.join(_SPECS)}"
        )
    checked = dict(SYNTHETIC_DEFAULTS)
    for name, value in params.items():
        checked[name] = _coerce(name, _SPECS[name], value)
    return checked
