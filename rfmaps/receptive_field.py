"""Receptive-field arithmetic: exact, pure Python, no arrays.

For each layer ``l`` (per axis) three numbers describe where its neurons look:

* ``rf_size`` r: how many input pixels, end to end, one neuron depends on;
* ``jump`` j: how many input pixels apart two neighbouring neurons look;
* ``start`` c: the input coordinate of the centre of neuron 0.

They follow from the previous layer's numbers (the input itself has r = 1,
j = 1, c = 0) and the layer's kernel size k, stride s, dilation d and padding
before p, with ``k' = d (k - 1) + 1`` the span of the dilated kernel::

    r_l = r_{l-1} + (k' - 1) j_{l-1}
    j_l = j_{l-1} s
    c_l = c_{l-1} + ((k' - 1) / 2 - p) j_{l-1}

Neuron ``i`` of layer ``l`` then covers the input pixels from
``c_l + i j_l - (r_l - 1) / 2`` to ``c_l + i j_l + (r_l - 1) / 2``.

References
----------
Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill, 2019. https://distill.pub/2019/computing-receptive-fields/
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence, Tuple

from .layers import Layer, Pair, _is_int, _pair, check_layers

__all__ = ["LayerRow", "ReceptiveFieldTable", "receptive_fields", "input_region",
           "layer_index", "Geometry"]

Region = Tuple[Pair, Pair]


@dataclass(frozen=True)
class LayerRow:
    """What the arithmetic says about the output of one layer.

    Attributes
    ----------
    index : int
        Position of the layer in the stack.
    layer : Layer
    channels : int or None
        Feature maps in the layer's output (None while no convolution has said).
    output_size : (int, int)
        Height and width of each feature map.
    rf_size : (int, int)
        Height and width of one neuron's receptive field on the input.
    jump : (int, int)
        Input pixels between neighbouring neurons (the effective stride).
    start : (number, number)
        Input coordinate of the centre of neuron (0, 0); may be a half-integer
        or negative (the centre then lies in the padding).
    """

    index: int
    layer: Layer
    channels: Optional[int]
    output_size: Pair
    rf_size: Pair
    jump: Pair
    start: Tuple[float, float]
    name: Optional[str] = None


def _number(value: Fraction):
    """An exact half-integer as int when whole, else as float (x.5 is exact in binary)."""
    return int(value) if value.denominator == 1 else float(value)


def _size(pair) -> str:
    return f"{pair[0]} x {pair[1]}"


def _point(pair) -> str:
    return f"({pair[0]}, {pair[1]})"


class ReceptiveFieldTable(tuple):
    """The rows of :func:`receptive_fields`: a tuple of :class:`LayerRow`.

    Prints as a text table in a terminal and as an HTML table in a notebook.
    """

    columns = ("#", "layer", "maps", "output size", "rf size", "jump", "start")

    def __new__(cls, rows, input_size: Pair):
        table = super().__new__(cls, rows)
        table.input_size = input_size
        return table

    def _cells(self):
        yield ("in", "input image", "", _size(self.input_size), "1 x 1", "1 x 1", "(0, 0)")
        for row in self:
            yield (str(row.index), row.name or repr(row.layer), "" if row.channels is None else str(row.channels),
                   _size(row.output_size), _size(row.rf_size), _size(row.jump), _point(row.start))

    def __str__(self) -> str:
        rows = [self.columns, *self._cells()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.columns))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
            for cells in self._cells())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def receptive_fields(layers: Sequence[Layer], input_size) -> ReceptiveFieldTable:
    """Output size, receptive-field size, jump and start of every layer.

    Parameters
    ----------
    layers : sequence of Layer
        The stack, first layer first.
    input_size : int or (int, int)
        Height and width of the input image.

    Returns
    -------
    ReceptiveFieldTable
        One :class:`LayerRow` per layer.

    Raises
    ------
    ValueError
        If a layer's input is smaller than its kernel's span.

    Notes
    -----
    The recurrence of the module docstring, one layer at a time, exact
    (fractions, never floats, for the start).

    Examples
    --------
    >>> from rfmaps import Conv2d, MaxPool2d
    >>> rows = receptive_fields([Conv2d(3, 8, 3), MaxPool2d(2), Conv2d(8, 8, 3)], 32)
    >>> rows[-1].rf_size, rows[-1].jump, rows[-1].output_size
    ((8, 8), (2, 2), (13, 13))
    """
    names = getattr(layers, "names", None)
    layers = check_layers(layers)
    size = _pair(input_size, "input_size", 1)
    geometry = Geometry()
    channels = next((l.in_channels for l in layers if getattr(l, "in_channels", None)), None)
    rows = []
    current = size
    for index, layer in enumerate(layers):
        try:
            current = layer.output_size(current)
        except ValueError as error:
            raise ValueError(f"layer {index} ({layer!r}): {error}") from None
        geometry = geometry.then(layer)
        channels = getattr(layer, "out_channels", None) or channels
        rows.append(LayerRow(index, layer, channels, current, geometry.rf, geometry.jump,
                             tuple(_number(c) for c in geometry.start),
                             None if names is None else names[index]))
    return ReceptiveFieldTable(rows, size)


@dataclass(frozen=True)
class Geometry:
    """``rf``, ``jump`` and ``start`` (exact) of a stack so far; the input's by default."""

    rf: Pair = (1, 1)
    jump: Pair = (1, 1)
    start: Tuple[Fraction, Fraction] = (Fraction(0), Fraction(0))

    def then(self, layer) -> "Geometry":
        """The geometry after one more layer: the recurrence of the module docstring."""
        rf, jump, start = [], [], []
        for axis in (0, 1):
            span, before = layer.effective_kernel_size[axis], layer.pads[axis][0]
            j = self.jump[axis]
            start.append(self.start[axis] + (Fraction(span - 1, 2) - before) * j)
            rf.append(self.rf[axis] + (span - 1) * j)
            jump.append(j * layer.stride[axis])
        return Geometry(tuple(rf), tuple(jump), tuple(start))


def layer_index(layer, count: int) -> int:
    """Turn a possibly negative ``layer`` index into ``0 .. count - 1``, or refuse it."""
    if not _is_int(layer) or not -count <= layer < count:
        raise ValueError(f"layer must be an int from {-count} to {count - 1}, got {layer!r}")
    return int(layer) % count


def check_position(position, output_size: Pair) -> Pair:
    """Check that ``position = (row, col)`` names a neuron of a map of ``output_size``."""
    if (not isinstance(position, (tuple, list)) or len(position) != 2
            or not all(_is_int(v) for v in position)):
        raise ValueError(f"position must be a pair of ints (row, col), got {position!r}")
    for name, value, n in zip(("row", "col"), position, output_size):
        if not 0 <= value < n:
            raise ValueError(
                f"position {name} must be from 0 to {n - 1} (the map is "
                f"{output_size[0]} x {output_size[1]}), got {value}")
    return (int(position[0]), int(position[1]))


def input_region(layers: Sequence[Layer], position, input_size, layer: int = -1,
                 clip: bool = True) -> Optional[Region]:
    """Inclusive input-pixel bounds of one neuron's receptive field.

    Parameters
    ----------
    layers : sequence of Layer
    position : (int, int)
        ``(row, col)`` of the neuron in the output of ``layers[layer]``.
    input_size : int or (int, int)
    layer : int, default -1
        Which layer's output the neuron belongs to (negative counts from the end).
    clip : bool, default True
        Clip the bounds to the image. With ``clip=False`` the bounds may reach
        into the padding (below 0 or beyond the last pixel).

    Returns
    -------
    ((top, bottom), (left, right)) or None
        Inclusive bounds. ``None`` only when ``clip=True`` and the neuron sees
        nothing but padding.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> input_region([Conv2d(1, 1, 3, padding=1)] * 2, (0, 0), 8)
    ((0, 2), (0, 2))
    >>> input_region([Conv2d(1, 1, 3, padding=1)] * 2, (0, 0), 8, clip=False)
    ((-2, 2), (-2, 2))
    """
    rows = receptive_fields(layers, input_size)
    row = rows[layer_index(layer, len(rows))]
    position = check_position(position, row.output_size)
    bounds = []
    for axis in (0, 1):
        centre = Fraction(row.start[axis]) + position[axis] * row.jump[axis]
        low = centre - Fraction(row.rf_size[axis] - 1, 2)
        # The start of a receptive field is always a whole pixel: the half
        # steps of even kernels cancel against the centre's half step.
        low = int(low)
        high = low + row.rf_size[axis] - 1
        if clip:
            low, high = max(low, 0), min(high, rows.input_size[axis] - 1)
            if low > high:
                return None
        bounds.append((low, high))
    return tuple(bounds)
