"""Where the neurons of a layer look on the input: exact, pure Python, no arrays.

Per axis, three numbers describe the neurons of one layer:

* ``rf`` r: how many input pixels, end to end, one neuron depends on;
* ``jump`` j: how many input pixels apart two neighbouring neurons look;
* ``start`` c: the input coordinate of the centre of neuron 0.

``jump`` and ``start`` are :class:`fractions.Fraction` and stay exact end to
end: a centre may be a half pixel, and after a transposed convolution or an
upsampling a jump may be a fraction of a pixel.

Every other module asks these functions, never a formula of its own: the
centre of a neuron (:meth:`Geometry.centre`), the box its field covers
(:meth:`Geometry.bounds`), the neuron centred nearest to an input pixel
(:meth:`Geometry.nearest_neuron`), and where each kernel tap of a layer
reads (:func:`tap_positions`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Tuple

from .validation import Pair

__all__ = ["Geometry", "tap_positions", "exact_number"]


def exact_number(value: Fraction):
    """An exact Fraction as int when whole, else unchanged (never a rounded float).

    Examples
    --------
    >>> exact_number(Fraction(4, 2)), exact_number(Fraction(3, 2))
    (2, Fraction(3, 2))
    """
    value = Fraction(value)
    return int(value) if value.denominator == 1 else value


@dataclass(frozen=True, slots=True)
class Geometry:
    """``rf``, ``jump`` and ``start`` (exact) of a stack so far; the input's own by default.

    Examples
    --------
    >>> g = Geometry(rf=(5, 5), jump=(2, 2), start=(Fraction(2), Fraction(2)))
    >>> g.centre((1, 3)), g.bounds((1, 3))
    ((4, 8), ((2, 6), (6, 10)))
    >>> g.nearest_neuron((7, 7), output_size=(4, 4))
    (2, 2)
    """

    rf: Pair = (1, 1)
    jump: Tuple[Fraction, Fraction] = (Fraction(1), Fraction(1))
    start: Tuple[Fraction, Fraction] = (Fraction(0), Fraction(0))

    def __post_init__(self):
        # Normalise only what needs it: the recurrence builds many of these (ResNet-50: hundreds).
        object.__setattr__(self, "rf", tuple(r if type(r) is int else exact_number(r) for r in self.rf))
        object.__setattr__(self, "jump", tuple(j if type(j) is Fraction else Fraction(j) for j in self.jump))
        object.__setattr__(self, "start", tuple(c if type(c) is Fraction else Fraction(c) for c in self.start))

    def centre(self, position) -> Tuple:
        """Input coordinate of the centre of neuron ``position``: ``start + position * jump``."""
        return tuple(exact_number(self.start[a] + position[a] * self.jump[a]) for a in (0, 1))

    def bounds(self, position) -> Tuple[Pair, Pair]:
        """Inclusive input box ``((top, bottom), (left, right))`` of the field, padding included.

        ``centre -/+ (rf - 1) / 2``: the half steps of even kernels cancel, so
        both ends are whole pixels.
        """
        box = []
        for axis in (0, 1):
            low = Fraction(self.start[axis] + position[axis] * self.jump[axis]) - Fraction(self.rf[axis] - 1, 2)
            low = math.floor(low)
            box.append((low, low + self.rf[axis] - 1))
        return tuple(box)

    def nearest_neuron(self, pixel, output_size: Pair) -> Pair:
        """The neuron whose field is centred nearest to input ``pixel`` (ties go to the lower index)."""
        out = []
        for axis in (0, 1):
            step = (Fraction(pixel[axis]) - self.start[axis]) / self.jump[axis]
            index = math.ceil(step - Fraction(1, 2))  # round half down
            out.append(min(max(index, 0), output_size[axis] - 1))
        return tuple(out)


def tap_positions(layer, position) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """Input rows and columns each kernel tap of one ``layer`` reads for output ``position``.

    Coordinates in the unpadded input: negative ones, or ones past the last
    pixel, fall in the padding. Tap ``(i, j)`` of the kernel reads
    ``(rows[i], cols[j])``.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> tap_positions(Conv2d(1, 1, 3, stride=2, padding=1, dilation=2), (0, 3))
    ((-1, 1, 3), (5, 7, 9))
    """
    return tuple(tuple(layer.axis_taps(position[axis], axis)) for axis in (0, 1))
