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

Every "nearest" question of the package (which pixel a click falls on, which
neuron is centred nearest a pixel, which input row holds a half-pixel centre)
is answered by :func:`nearest_index`, whose docstring states the one tie rule:
a value exactly halfway between two indices goes to the lower one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence, Tuple, Union

from .validation import Pair

#: An exact number: an ``int`` when whole, else a :class:`~fractions.Fraction` (see :func:`exact_number`).
Exact = Union[int, Fraction]

__all__ = ["Exact", "Geometry", "tap_positions", "exact_number", "nearest_whole", "nearest_index", "square_around",
           "window_around"]


def exact_number(value: Exact) -> Exact:
    """An exact Fraction as int when whole, else unchanged (never a rounded float).

    Examples
    --------
    >>> exact_number(Fraction(4, 2)), exact_number(Fraction(3, 2))
    (2, Fraction(3, 2))
    """
    value = Fraction(value)
    return int(value) if value.denominator == 1 else value


def nearest_whole(value: float | Fraction) -> int:
    """The whole number nearest to ``value``, halves going down: the tie rule of :func:`nearest_index`,
    without a range (which pixel a click at data coordinate ``value`` falls on).

    Examples
    --------
    >>> nearest_whole(2.5), nearest_whole(2.51), nearest_whole(-0.5)
    (2, 3, -1)
    """
    # ceil(v - 1/2) is v rounded to the nearest int with halves going down; exact for a float too.
    return math.ceil(Fraction(value) - Fraction(1, 2))


def nearest_index(value: float | Fraction, count: int) -> int:
    """The index from 0 to ``count - 1`` nearest to ``value``: the package's one tie rule.

    A value exactly halfway between two indices goes to the **lower** one
    (round half down); a value outside the range goes to the nearer end.
    The value may be an int, an exact :class:`~fractions.Fraction` or a float
    (a click's data coordinate), compared exactly: a float is converted to the
    fraction it stands for, never rounded first.

    Examples
    --------
    >>> nearest_index(1.5, 4), nearest_index(1.51, 4), nearest_index(Fraction(-1, 2), 4), nearest_index(9, 4)
    (1, 2, 0, 3)
    """
    if count < 1:
        raise ValueError(f"count must be an int >= 1, got {count!r}")
    return min(max(nearest_whole(value), 0), count - 1)


def square_around(box: Tuple[Pair, Pair], side: int) -> Tuple[Pair, Pair]:
    """The inclusive box of a ``side x side`` square centred on ``box``'s centre.

    ``box`` is ``((top, bottom), (left, right))``, inclusive. When ``side``
    and the box's height (or width) differ in parity, no whole-pixel square
    has exactly that centre: the square then sits half a pixel towards the
    lower index, the tie rule of :func:`nearest_index`. Squares of growing
    side are nested, and the square of side ``max(height, width)`` holds the
    whole box.

    Examples
    --------
    >>> square_around(((6, 7), (6, 7)), 1), square_around(((6, 7), (6, 7)), 3)
    (((6, 6), (6, 6)), ((5, 7), (5, 7)))
    >>> square_around(((2, 4), (0, 5)), 6)
    ((0, 5), (0, 5))
    """
    out: list[Pair] = []
    for low, high in box:
        extra = side - (high - low + 1)
        first = low - math.ceil(Fraction(extra, 2))  # an odd extra puts the half pixel below
        out.append((first, first + side - 1))
    return (out[0], out[1])


def window_around(box: Tuple[Pair, Pair], size: Pair) -> Tuple[Pair, Pair]:
    """The pixels of a ``size = (h, w)`` image within one field's height (width) of ``box``.

    ``box`` is ``((top, bottom), (left, right))``, inclusive, and may reach
    past the image (padding). Each side grows by the box's own extent on that
    axis, then is clipped to the image: a view that holds the whole field with
    room to see where it ends.

    Examples
    --------
    >>> window_around(((28, 36), (28, 36)), (64, 55))
    ((19, 45), (19, 45))
    >>> window_around(((-2, 2), (50, 60)), (64, 55))
    ((0, 7), (39, 54))
    """
    out: list[Pair] = []
    for (low, high), count in zip(box, size):
        extent = high - low + 1
        out.append((max(low - extent, 0), min(high + extent, count - 1)))
    return (out[0], out[1])


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

    # rf is whole for uniform fields; after an upsampling (a jump below 1) the recurrence's bound
    # may be a fraction, which :func:`rfmaps.receptive_fields` replaces by each neuron's exact field.
    rf: Tuple[Exact, Exact] = (1, 1)
    jump: Tuple[Fraction, Fraction] = (Fraction(1), Fraction(1))
    start: Tuple[Fraction, Fraction] = (Fraction(0), Fraction(0))

    def __post_init__(self) -> None:
        # Normalise only what needs it: the recurrence builds many of these (ResNet-50: hundreds).
        object.__setattr__(self, "rf", tuple(r if type(r) is int else exact_number(r) for r in self.rf))
        object.__setattr__(self, "jump", tuple(j if type(j) is Fraction else Fraction(j) for j in self.jump))
        object.__setattr__(self, "start", tuple(c if type(c) is Fraction else Fraction(c) for c in self.start))

    def centre(self, position: Sequence[int]) -> Tuple[Exact, Exact]:
        """Input coordinate of the centre of neuron ``position``: ``start + position * jump``."""
        row, col = (exact_number(self.start[a] + position[a] * self.jump[a]) for a in (0, 1))
        return (row, col)

    def bounds(self, position: Sequence[int]) -> Tuple[Pair, Pair]:
        """Inclusive input box ``((top, bottom), (left, right))`` of the field, padding included.

        ``centre -/+ (rf - 1) / 2``: for uniform fields the half steps of even
        kernels cancel, so both ends are whole pixels (a fractional ``rf``, a
        bound after an upsampling, keeps the whole pixels inside).
        """
        box: list[Pair] = []
        for axis in (0, 1):
            centre, half = self.start[axis] + position[axis] * self.jump[axis], Fraction(self.rf[axis] - 1, 2)
            box.append((math.ceil(centre - half), math.floor(centre + half)))
        return (box[0], box[1])

    def nearest_neuron(self, pixel: Sequence[float | Fraction], output_size: Pair) -> Pair:
        """The neuron whose field is centred nearest to input point ``pixel`` (ties: :func:`nearest_index`)."""
        # A jump of 0 (after a squeeze-and-excitation gate) centres every neuron on one point: all tie, and
        # the tie rule picks the lowest index.
        row, col = (0 if self.jump[axis] == 0 else
                    nearest_index((Fraction(pixel[axis]) - self.start[axis]) / self.jump[axis], output_size[axis])
                    for axis in (0, 1))
        return (row, col)


def tap_positions(layer: Any, position: Sequence[int]) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
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
    # ``layer`` is an rfmaps.layers.Layer; the annotation stays Any because layers import this module.
    return (tuple(layer.axis_taps(position[0], 0)), tuple(layer.axis_taps(position[1], 1)))
