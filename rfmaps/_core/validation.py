"""Checks at the door: every public function and layer validates its arguments here.

Each check returns the normalised value or raises an error whose message
names the argument and the range it allows, so a student reads
``stride must be >= 1, got 0`` rather than a traceback from deep inside numpy.
Code behind the door trusts what these functions return.

One rule decides which error a mistake raises, everywhere in the package:

* **ValueError** when the value is of a kind the argument takes but is not
  allowed: a number that is not a whole number where one is needed (``2.5``,
  and floats such as ``20.0`` too: they are refused, never rounded), a
  number outside the allowed range, a pair of the wrong length, a name that
  is not one of the choices.
* **TypeError** when the value is of a kind the argument never takes: a
  string, ``None`` or a container where a number is needed, a bool where a
  number is needed (``True`` is not 1 here), an array where a position
  ``(row, col)`` is needed, anything but True or False for a switch. These
  raise :class:`ArgumentKindError`, a TypeError that is also a ValueError,
  so code that turns every bad argument into a readable message by catching
  ValueError (the widgets, the check module) still does.

Positions of a neuron or a pixel are a tuple or list of two ints; numpy
integer scalars are ints, floats (even ``1.0``) and numpy arrays are refused.
Layer arguments (``kernel_size``, ``padding``, ...) also take a numpy array of
two ints, as a configuration read from a file gives them.

Examples
--------
>>> positive_int(2.5, "count")
Traceback (most recent call last):
...
ValueError: count must be an int >= 1, got 2.5 (a whole number: floats are not rounded)
>>> positive_int("2", "count")
Traceback (most recent call last):
...
rfmaps._core.validation.ArgumentKindError: count must be an int >= 1, got str '2'
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Tuple, Union

__all__ = ["check_built_for", "Pair", "IntOrPair", "ArgumentKindError", "is_int", "pair", "positive_int", "int_at_least",
           "finite_number", "check_switch", "layer_index", "check_position", "check_channel"]

Pair = Tuple[int, int]
IntOrPair = Union[int, Pair]


class ArgumentKindError(TypeError, ValueError):
    """An argument of a kind it never takes (see the module docstring): a TypeError, and a ValueError
    for code that catches every bad argument as one."""


def _refuse_integer(value: Any, message: str):
    """The error for a ``value`` that is not an int, by the module's rule (floats: ValueError)."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return ValueError(f"{message}, got {value!r} (a whole number: floats are not rounded)")
    shown = "a numpy array" if hasattr(value, "ndim") else type(value).__name__
    return ArgumentKindError(f"{message}, got {shown} {value!r}")


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
    message = f"{name} must be an int or a pair of ints (h, w)"
    if not isinstance(value, (tuple, list)):
        raise _refuse_integer(value, message)
    if len(value) != 2:
        raise ValueError(f"{message}, got {value!r}")
    for v in value:
        if not is_int(v):
            raise _refuse_integer(v, message)
    h, w = int(value[0]), int(value[1])
    for v in (h, w):
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return (h, w)


def positive_int(value: Any, name: str) -> int:
    """``value`` as an int, refused unless it is an integer >= 1."""
    if not is_int(value):
        raise _refuse_integer(value, f"{name} must be an int >= 1")
    if value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def int_at_least(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int >= ``minimum``; floats (even whole ones) and bools are refused, never rounded.

    Examples
    --------
    >>> int_at_least(4, "count", 0)
    4
    >>> int_at_least(2.5, "count", 1)
    Traceback (most recent call last):
    ...
    ValueError: count must be an int >= 1, got 2.5 (a whole number: floats are not rounded)
    """
    if not is_int(value):
        raise _refuse_integer(value, f"{name} must be an int >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def finite_number(value: Any, name: str, minimum: float = -math.inf, *, above: bool = False) -> float:
    """``value`` as a float: refused unless it is a finite real number ``>= minimum``
    (``> minimum`` with ``above=True``). Bools and strings are of the wrong kind.

    Examples
    --------
    >>> finite_number(0.1, "negative_slope")
    0.1
    >>> finite_number(0, "eps", 0, above=True)
    Traceback (most recent call last):
    ...
    ValueError: eps must be a finite number > 0, got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shown = "a numpy array" if hasattr(value, "ndim") else type(value).__name__
        raise ArgumentKindError(f"{name} must be a finite number, got {shown} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (above and value == minimum):
        raise ValueError(f"{name} must be a finite number {'>' if above else '>='} {minimum}, got {value!r}")
    return float(value)


def check_switch(value: Any, name: str) -> bool:
    """``value`` as a bool: only True or False (numpy's too); a truthy list or string never means True.

    Examples
    --------
    >>> check_switch(True, "clip")
    True
    >>> check_switch(1, "clip")
    Traceback (most recent call last):
    ...
    rfmaps._core.validation.ArgumentKindError: clip must be True or False, got int 1
    """
    if isinstance(value, bool) or type(value).__name__ in ("bool_", "bool"):  # numpy's bool (numpy.bool in 2.x)
        return bool(value)
    raise ArgumentKindError(f"{name} must be True or False, got {type(value).__name__} {value!r}")


def layer_index(layer: Any, count: int) -> int:
    """Turn a possibly negative ``layer`` index into ``0 .. count - 1``, or refuse it.

    Examples
    --------
    >>> layer_index(-1, 4)
    3
    """
    message = f"layer must be an int from {-count} to {count - 1}"
    if not is_int(layer):
        raise _refuse_integer(layer, message)
    if not -count <= layer < count:
        raise ValueError(f"{message}, got {layer!r}")
    return int(layer) % count


def check_position(position: Any, output_size: Pair, name: str = "position") -> Pair:
    """Check that ``position = (row, col)`` names a neuron (or pixel) of a map of ``output_size``.

    Examples
    --------
    >>> import numpy as np
    >>> check_position((np.int64(1), 2), (4, 4))
    (1, 2)
    >>> check_position((1.0, 2.0), (4, 4))
    Traceback (most recent call last):
    ...
    ValueError: position must be a pair of ints (row, col), got (1.0, 2.0): floats are not rounded, pass whole numbers such as (1, 2)
    """
    message = f"{name} must be a pair of ints (row, col)"
    if hasattr(position, "ndim"):  # a numpy array (or scalar): the pair is a tuple, as a click gives it
        raise ArgumentKindError(
            f"{message} as a tuple or list, got a numpy array {position!r}; write "
            f"tuple(int(v) for v in {name}) if it holds whole numbers")
    if not isinstance(position, (tuple, list)):
        raise ArgumentKindError(f"{message}, got {type(position).__name__} {position!r}")
    if len(position) != 2:
        raise ValueError(f"{message}, got {len(position)} values {position!r}")
    for value in position:
        if not is_int(value):
            if isinstance(value, numbers.Real) and not isinstance(value, bool):
                raise ValueError(f"{message}, got {tuple(position)!r}: floats are not rounded, pass whole "
                                 f"numbers such as (1, 2)")
            raise ArgumentKindError(f"{message}, got {tuple(position)!r}, which holds a "
                                    f"{type(value).__name__}")
    for axis, value, n in zip(("row", "col"), position, output_size):
        if not 0 <= value < n:
            raise ValueError(
                f"{name} {axis} must be from 0 to {n - 1} (the map is "
                f"{output_size[0]} x {output_size[1]}), got {value}")
    return (int(position[0]), int(position[1]))


def check_channel(channel: Any, channels: int) -> int:
    """Check that ``channel`` names one of ``channels`` feature maps."""
    message = f"channel must be an int from 0 to {channels - 1}"
    if not is_int(channel):
        raise _refuse_integer(channel, message)
    if not 0 <= channel < channels:
        raise ValueError(f"{message}, got {channel!r}")
    return int(channel)


def check_built_for(layers: Any, input_size: Any) -> None:
    """Refuse an input size other than the one a network's size-dependent padding was worked out for.

    TF-slim's 'SAME' padding depends on the input size, so a network built from it
    (:mod:`rfmaps.models.architectures`) remembers the size as ``input_size``; at another size
    its fixed paddings would describe some other network, without a word.

    >>> class Net(list): input_size = (224, 224)
    >>> check_built_for(Net(), 321)
    Traceback (most recent call last):
    ...
    ValueError: input_size must be 224 x 224, the size this network's 'SAME' padding was worked out for, got 321 x 321; build it again for that size, e.g. with input_size=321
    """
    built = getattr(layers, "input_size", None)
    if not isinstance(built, tuple):  # only a network's remembered (h, w) pair
        return
    size = pair(input_size, "input_size", 1)
    if tuple(size) != tuple(built):
        raise ValueError(f"input_size must be {built[0]} x {built[1]}, the size this network's 'SAME' padding was "
                         f"worked out for, got {size[0]} x {size[1]}; build it again for that size, e.g. with "
                         f"input_size={size[0] if size[0] == size[1] else size}")
