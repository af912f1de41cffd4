"""Checks at the door: every public function and layer validates its arguments here.

Each check returns the normalised value or raises a ``ValueError`` whose
message names the argument and the range it allows, so a student reads
``stride must be >= 1, got 0`` rather than a traceback from deep inside numpy.
Code behind the door trusts what these functions return.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Tuple, Union

__all__ = ["Pair", "IntOrPair", "is_int", "pair", "positive_int", "int_at_least", "finite_number",
           "layer_index", "check_position", "check_channel"]

Pair = Tuple[int, int]
IntOrPair = Union[int, Pair]


def is_int(value: Any) -> bool:
    """True for Python and numpy integers, False for bools and everything else.

    Examples
    --------
    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def pair(value: Any, name: str, minimum: int) -> Pair:
    """Normalise an int or an ``(h, w)`` pair, refusing values below ``minimum``.

    Examples
    --------
    >>> pair(3, "kernel_size", 1)
    (3, 3)
    >>> pair((1, 0), "stride", 1)
    Traceback (most recent call last):
    ...
    ValueError: stride must be >= 1, got 0
    """
    if hasattr(value, "tolist") and hasattr(value, "ndim"):  # a numpy array or scalar: plain ints
        value = value.tolist()
    if is_int(value):
        value = (value, value)
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(is_int(v) for v in value)
    ):
        raise ValueError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    h, w = int(value[0]), int(value[1])
    for v in (h, w):
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return (h, w)


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int, refused unless it is an integer >= 1."""
    if not is_int(value) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def int_at_least(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum``: a ``TypeError`` for a non-integer (bools and whole floats
    included: they are refused, never rounded), a ``ValueError`` below the minimum.

    Examples
    --------
    >>> int_at_least(4, "count", 0)
    4
    >>> int_at_least(2.5, "count", 1)
    Traceback (most recent call last):
    ...
    TypeError: count must be an int >= 1, got 2.5
    """
    if not is_int(value):
        raise TypeError(f"{name} must be an int >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def finite_number(value: Any, name: str, minimum: float = -math.inf, *, above: bool = False) -> float:
    """``value`` as a float: refused unless it is a finite real number ``>= minimum``
    (``> minimum`` with ``above=True``). Bools are refused.

    Examples
    --------
    >>> finite_number(0.1, "negative_slope")
    0.1
    >>> finite_number(0, "eps", 0, above=True)
    Traceback (most recent call last):
    ...
    ValueError: eps must be a finite number > 0, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (above and value == minimum):
        raise ValueError(f"{name} must be a finite number {'>' if above else '>='} {minimum}, got {value!r}")
    return float(value)


def layer_index(layer: Any, count: int) -> int:
    """Turn a possibly negative ``layer`` index into ``0 .. count - 1``, or refuse it.

    Examples
    --------
    >>> layer_index(-1, 4)
    3
    """
    if not is_int(layer) or not -count <= layer < count:
        raise ValueError(f"layer must be an int from {-count} to {count - 1}, got {layer!r}")
    return int(layer) % count


def check_position(position: Any, output_size: Pair, name: str = "position") -> Pair:
    """Check that ``position = (row, col)`` names a neuron (or pixel) of a map of ``output_size``."""
    if (not isinstance(position, (tuple, list)) or len(position) != 2
            or not all(is_int(v) for v in position)):
        raise ValueError(f"{name} must be a pair of ints (row, col), got {position!r}")
    for axis, value, n in zip(("row", "col"), position, output_size):
        if not 0 <= value < n:
            raise ValueError(
                f"{name} {axis} must be from 0 to {n - 1} (the map is "
                f"{output_size[0]} x {output_size[1]}), got {value}")
    return (int(position[0]), int(position[1]))


def check_channel(channel: Any, channels: int) -> int:
    """Check that ``channel`` names one of ``channels`` feature maps."""
    if not is_int(channel) or not 0 <= channel < channels:
        raise ValueError(f"channel must be an int from 0 to {channels - 1}, got {channel!r}")
    return int(channel)
