"""Reading students' answers and the checks' arguments, in any natural form.

Answers come as ints, whole floats, numpy scalars, tuples, lists or arrays; an
argument a check cannot use raises :class:`Refusal`, which a check wrapped in
:func:`refusing` prints as one ✘ sentence instead of a traceback.

>>> as_whole(8.0), as_whole(8.5), as_whole(True)
(8, None, None)
>>> read_region([[2, 4], [3, 5]])
((2, 4), (3, 5))
"""

from __future__ import annotations

import math
import numbers
import re
from functools import wraps
from typing import List, Optional

from ..layers import Layer, check_layers
from ..arithmetic.receptive_field import receptive_fields
from .feedback import say


def as_plain(value):
    """numpy scalars and arrays as Python numbers and lists (duck-typed: no numpy import here)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def as_whole(value) -> Optional[int]:
    """``value`` as an int when it is a whole number (int, whole float, Decimal or Fraction, numpy scalar, a
    one-element numpy array, which compares with a number as its element does); else None.

    >>> import numpy as np; from decimal import Decimal
    >>> as_whole(np.array([44])), as_whole(Decimal(44)), as_whole(Decimal("44.5")), as_whole([44])
    (44, 44, None, None)
    """
    if not isinstance(value, (list, tuple, str, bytes)) and getattr(value, "size", None) == 1 \
            and hasattr(value, "item"):
        value = value.item()  # a one-element array: `answer == 44` holds as for the number itself
    value = as_plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(math.trunc(value))
    if isinstance(value, numbers.Number) and hasattr(value, "as_integer_ratio"):  # Decimal is no numbers.Real
        try:
            top, bottom = value.as_integer_ratio()
        except (ValueError, OverflowError):  # NaN, infinity
            return None
        return top if bottom == 1 else None
    return None


_TIMES = re.compile(r"^\s*(\d+)\s*[x×X*]\s*(\d+)\s*$")


def _text(value: str) -> str:
    """What to write instead of a text where a value belongs."""
    times = _TIMES.match(value)
    if times:
        height, width = times.groups()
        number = f"the number itself, {height}, without quotes, or the pair ({height}, {width}) where a pair is " \
                 "asked" if height == width else f"the pair ({height}, {width}) without quotes where a pair is asked"
        return f"the text {value!r}: a size is written as {number}"
    try:
        float(value)
    except ValueError:
        return f"the text {value!r}, not a number"
    return f"the text {value!r} (remove the quotes to give a number)"


def describe(value, example: str = "") -> str:
    """How a student's value reads in a sentence; a text where a region belongs gets ``example``."""
    value = as_plain(value)
    if isinstance(value, str) and example:
        return f"the text {value!r}: write it without quotes, as numbers, like {example}"
    if isinstance(value, str):
        return _text(value)
    if value is None:
        return "None (did you assign the variable?)"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value!r}, which is not a whole number"
    text = repr(value)
    return f"{text[:57] + '...' if len(text) > 60 else text} (a {type(value).__name__})"


class Refusal(Exception):
    """An argument a check cannot use: the check prints this one sentence with ✘ and returns False."""


def refusing(check):
    """``check``, answering an argument it cannot use with one ✘ sentence (and False), never a traceback."""
    @wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except Refusal as refusal:
            return say(False, str(refusal))
    return checked


def one_layer(value, name: str = "layer") -> Layer:
    """``value`` when it is a layer of any kind; else a refusal that names the argument."""
    if isinstance(value, Layer):
        return value
    if isinstance(value, (list, tuple)):
        raise Refusal(f"{name} must be one layer, like Conv2d(3, 8, 5); you gave a {type(value).__name__} of "
                       f"{len(value)}: pass the layer itself.")
    raise Refusal(f"{name} must be a layer, like Conv2d(3, 8, 5); you gave {describe(value)}.")


def layer_list(value, name: str = "layers", example: str = "[Conv2d(1, 8, 3), ReLU()]") -> tuple:
    """``value`` as a tuple of layers (of any kind), as :func:`rfmaps.layers.check_layers` reads it."""
    try:
        return check_layers(value)
    except ValueError as error:
        raise Refusal(f"{name} must be a list of layers, like {example}: {error}.") from None


def whole_number(value, name: str, minimum: int, example: int) -> int:
    """A whole number (int, whole float, numpy scalar) of at least ``minimum``; a text, a fraction or
    anything else is refused with a sentence that names the argument."""
    whole = as_whole(value)
    if whole is None:
        raise Refusal(f"{name} must be a whole number, like {example}; you gave {describe(value)}.")
    if whole < minimum:
        raise Refusal(f"{name} must be at least {minimum}; you gave {whole}.")
    return whole


def read_input_size(value, name: str = "input_size"):
    """A whole number of pixels (a square input) or a pair ``(height, width)`` of them."""
    whole = as_whole(value)
    if whole is not None and whole >= 1:
        return whole
    plain = as_plain(value)
    if isinstance(plain, (list, tuple)) and len(plain) == 2:
        height, width = (as_whole(v) for v in plain)
        if height is not None and width is not None and min(height, width) >= 1:
            return (height, width)
    raise Refusal(f"{name} must be a whole number of pixels of at least 1, like 64, or (height, width); "
                   f"you gave {describe(value)}.")


def read_point(value, name: str) -> tuple:
    """``(row, col)`` as two ints, from a tuple, a list or an array of whole numbers."""
    plain = as_plain(value)
    if isinstance(plain, (list, tuple)) and len(plain) == 2:
        point = tuple(as_whole(v) for v in plain)
        if None not in point:
            return point
    raise Refusal(f"{name} must be (row, col), two whole numbers; you gave {describe(value)}.")


def table_of(layers, input_size):
    """:func:`rfmaps.receptive_fields`, or a refusal that says which layer does not fit the input."""
    try:
        return receptive_fields(layers, input_size)
    except ValueError as error:
        raise Refusal(f"The layers do not run on an input of {input_size}: {error}.") from None


def asked(function, *args):
    """``function(*args)`` of the package; its ValueError (a position off the map, ...) as a refusal."""
    try:
        return function(*args)
    except ValueError as error:
        raise Refusal(f"{error}.") from None


def read_whole_list(answer, name: str) -> Optional[List[int]]:
    values = as_plain(answer)
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        say(False, f"Give {name} as a list of whole numbers, like [3, 3, 5]; you gave {describe(answer)}.")
        return None
    out = []
    for i, value in enumerate(values):
        whole = as_whole(value)
        if whole is None:
            say(False, f"Entry {i} of {name} should be a whole number; it is {describe(value)}.")
            return None
        out.append(whole)
    return out


def read_region(answer):
    """``((top, bottom), (left, right))`` as ints from tuples, lists or a 2 x 2 array; else None."""
    value = as_plain(answer)
    if isinstance(value, (str, bytes)):
        return None
    try:
        (top, bottom), (left, right) = value
    except (TypeError, ValueError):
        return None
    bounds = tuple(as_whole(b) for b in (top, bottom, left, right))
    if None in bounds:
        return None
    return ((bounds[0], bounds[1]), (bounds[2], bounds[3]))
