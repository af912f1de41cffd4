"""Receptive-field arithmetic: exact, pure Python, no arrays.

For each layer ``l`` (per axis) three numbers describe where its neurons look:

* ``rf_size`` r: how many input pixels, end to end, one neuron depends on;
* ``jump`` j: how many input pixels apart two neighbouring neurons look;
* ``start`` c: the input coordinate of the centre of neuron 0 (an exact
  :class:`~fractions.Fraction`).

They follow from the previous layer's numbers (the input itself has r = 1,
j = 1, c = 0) and the layer's kernel size k, stride s, dilation d and padding
before p, with ``k' = d (k - 1) + 1`` the span of the dilated kernel::

    r_l = r_{l-1} + (k' - 1) j_{l-1}
    j_l = j_{l-1} s
    c_l = c_{l-1} + ((k' - 1) / 2 - p) j_{l-1}

Neuron ``i`` of layer ``l`` then covers the input pixels from
``c_l + i j_l - (r_l - 1) / 2`` to ``c_l + i j_l + (r_l - 1) / 2``. Each layer
kind states its own step of the recurrence (``advance``, see
:mod:`rfmaps.layers.base`); :mod:`rfmaps._core.geometry` holds the numbers and what
follows from them (centres, bounds, nearest neurons).

References
----------
Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill, 2019. https://distill.pub/2019/computing-receptive-fields/
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional, Sequence, Tuple

from .._core.geometry import Exact, Geometry, exact_number, nearest_index
from ..layers.base import Layer, ReachError, Runs, channels_back, check_layers
from .._core.validation import (Pair, check_built_for, check_channel, check_position, check_switch, int_at_least,
                                layer_index, pair)

__all__ = ["LayerRow", "ReceptiveFieldTable", "receptive_fields", "input_region", "input_channels",
           "projective_field", "NeuronField", "neuron_field", "nearest_neuron", "corresponding_neuron",
           "layer_index", "check_position", "Geometry"]

Region = Tuple[Pair, Pair]


@dataclass(frozen=True, slots=True)
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
    jump : (int or Fraction, int or Fraction)
        Input pixels between neighbouring neurons (the effective stride):
        whole while fields are uniform, a Fraction (the mean spacing) after
        an upsampling or a strided transposed convolution.
    start : (Fraction, Fraction)
        Input coordinate of the centre of neuron (0, 0), exact; may be a
        half-integer or negative (the centre then lies in the padding).
    name : str or None
        The layer's name in a named network (:mod:`rfmaps.models.architectures`).
    uniform : bool
        True when every neuron's field has size ``rf_size`` and neighbours
        look ``jump`` apart. After a transposed convolution with a stride, or
        an upsampling, a neuron's field depends on its phase: then
        ``rf_size`` is the largest field of any neuron of the layer (exact),
        ``start`` the exact centre of neuron (0, 0)'s field, and ``jump`` the
        mean spacing (a fraction); :func:`input_region` gives each neuron's
        exact box.
    whole_image : bool
        True after a global pooling (:class:`~rfmaps.layers.GlobalAvgPool2d`):
        every neuron then depends on every pixel its input map's field covers,
        the whole image once the layers before cover it.
    """

    index: int
    layer: Layer
    channels: Optional[int]
    output_size: Pair
    rf_size: Pair
    jump: Tuple[Exact, Exact]
    start: Tuple[Fraction, Fraction]
    name: Optional[str] = None
    uniform: bool = True
    whole_image: bool = False

    @property
    def geometry(self) -> Geometry:
        """``rf_size``, ``jump`` and ``start`` as a :class:`~rfmaps._core.geometry.Geometry`."""
        if not self.uniform:
            raise ValueError(
                f"the fields of layer {self.index} depend on each neuron's phase (a transposed convolution "
                "or an upsampling comes before): no single (rf, jump, start) places every neuron; "
                "ask input_region for one neuron's exact box")
        return Geometry(self.rf_size, (Fraction(self.jump[0]), Fraction(self.jump[1])), self.start)

    def centre(self, position) -> tuple:
        """Input coordinate (exact) of the centre of neuron ``position``'s field.

        Examples
        --------
        >>> from rfmaps import Conv2d
        >>> receptive_fields([Conv2d(1, 1, 2, stride=2)], 8)[0].centre((1, 2))
        (Fraction(5, 2), Fraction(9, 2))
        """
        return self.geometry.centre(check_position(position, self.output_size))

    def nearest_neuron(self, pixel) -> Pair:
        """The neuron of this layer whose field is centred nearest to input ``pixel``.

        Examples
        --------
        >>> from rfmaps import Conv2d
        >>> receptive_fields([Conv2d(1, 1, 2, stride=2)], 8)[0].nearest_neuron((5, 7))
        (2, 3)
        """
        return self.geometry.nearest_neuron(pixel, self.output_size)


def _text(value) -> str:
    """An exact number as text: an integer, a terminating decimal, else ``p/q``."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    d = value.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    return str(float(value)) if d == 1 else f"{value.numerator}/{value.denominator}"


def _size(pair) -> str:
    return f"{_text(pair[0])} x {_text(pair[1])}"


def _point(pair) -> str:
    return f"({_text(pair[0])}, {_text(pair[1])})"


class ReceptiveFieldTable(tuple):
    """The rows of :func:`receptive_fields`: a tuple of :class:`LayerRow`.

    Prints as a text table in a terminal and as an HTML table in a notebook.
    A plain immutable value: it pickles and copies with its ``input_size``.
    """

    columns = ("#", "layer", "maps", "output size", "rf size", "jump", "start")
    input_size: Pair  # set in __new__: the input the rows were computed for

    def __new__(cls, rows, input_size: Pair) -> "ReceptiveFieldTable":
        table = super().__new__(cls, rows)
        table.input_size = input_size
        return table

    def __reduce__(self):
        return (type(self), (tuple(self), self.input_size))

    def _cells(self):
        yield ("in", "input image", "", _size(self.input_size), "1 x 1", "1 x 1", "(0, 0)")
        for row in self:
            yield (str(row.index), row.name or repr(row.layer), "" if row.channels is None else str(row.channels),
                   _size(row.output_size), _size(row.rf_size) + (" (global)" if row.whole_image else ""),
                   _size(row.jump), _point(row.start))

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
    >>> rows[1].start
    (Fraction(3, 2), Fraction(3, 2))
    """
    names = getattr(layers, "names", None)
    check_built_for(layers, input_size)
    layers = check_layers(layers)
    table = _sizes_and_geometry(layers, input_size, names)
    if not all(layer.uniform for layer in layers):
        return ReceptiveFieldTable(_phase_rows(layers, table), table.input_size)
    return table


def _sizes_and_geometry(layers, input_size, names=None) -> ReceptiveFieldTable:
    """The recurrence alone: exact rows while fields are uniform; after a phase-dependent layer the
    rows say ``uniform=False`` and keep ``advance``'s numbers (a bound, not each neuron's field).

    What one neuron or one pixel asks (:func:`input_region`, :func:`projective_field`) needs only
    this: the largest field of a whole layer is :func:`_phase_rows`' work.
    """
    size = pair(input_size, "input_size", 1)
    geometry = Geometry()
    channels = next((c for l in layers if (c := l.channels_before()) is not None), None)
    rows = []
    current = size
    uniform = True
    whole = False
    for index, layer in enumerate(layers):
        before = current
        try:
            current = layer.output_size(current)
        except ValueError as error:
            raise ValueError(f"layer {index} ({layer!r}): {error}") from None
        # A global pooling's window is its whole input map: its step needs that map's size.
        geometry = layer.advance_sized(geometry, before)
        channels = getattr(layer, "out_channels", None) or channels
        uniform = uniform and layer.uniform
        whole = whole or layer.whole_image
        # Whole for uniform fields; after an upsampling the recurrence's rf is only a bound and may be a
        # fraction: rounded up here, and replaced by the exact largest field in _phase_rows.
        rf = (math.ceil(geometry.rf[0]), math.ceil(geometry.rf[1]))
        rows.append(LayerRow(index, layer, channels, current, rf,
                             (exact_number(geometry.jump[0]), exact_number(geometry.jump[1])), geometry.start,
                             None if names is None else names[index], uniform=uniform, whole_image=whole))
    return ReceptiveFieldTable(rows, size)


#: The most neurons per axis whose fields :func:`receptive_fields` compares to find a layer's
#: largest one: the fields repeat with a period (the product of the upsampling factors and
#: transposed strides before, less what strides cancel), so one period holds every shape.
PERIOD_LIMIT = 2 ** 14


class _ExactFields:
    """Each neuron's own field, for stacks whose fields depend on the phase.

    Per axis, the field of output ``o`` of layer ``l`` is the smallest box
    holding the fields of every index ``o`` reads (padding included); a memo
    keeps each (layer, index) once. Before the first layer whose fields
    depend on the phase every field is the uniform box of that row's
    geometry, so one neuron costs only the indices its field touches in
    the later layers, never a pass over a whole output.
    """

    def __init__(self, layers, rows=None):
        self.layers = layers
        self.memo = ({}, {})
        # Rows before the first phase-dependent layer place each index exactly by their geometry.
        self.uniform_until = -1
        if rows is not None:
            while self.uniform_until + 1 < len(layers) and layers[self.uniform_until + 1].uniform:
                self.uniform_until += 1
        self.rows = rows

    def axis(self, l: int, o: int, axis: int):
        """``(low, high)`` of output ``o`` of layer ``l`` along ``axis``, or None if it reads nothing."""
        if l < 0:
            return (o, o)
        if l <= self.uniform_until:
            g = self.rows[l]
            low = math.floor(g.start[axis] + o * Fraction(g.jump[axis]) - Fraction(g.rf_size[axis] - 1, 2))
            return (low, low + g.rf_size[axis] - 1)
        memo = self.memo[axis]
        if (l, o) not in memo:
            low = high = None
            # A whole-image layer reads its whole input map, so it needs that map's length.
            # (Only there: given a length, other kinds drop the taps that fall on padding.)
            n_in = None if self.rows is None or not self.layers[l].whole_image else (
                self.rows[l - 1].output_size[axis] if l > 0 else self.rows.input_size[axis])
            for i in self.layers[l].axis_sources(o, axis, n_in):
                field = self.axis(l - 1, i, axis)
                if field is not None:
                    low = field[0] if low is None else min(low, field[0])
                    high = field[1] if high is None else max(high, field[1])
            memo[(l, o)] = None if low is None else (low, high)
        return memo[(l, o)]

    def box(self, l: int, position):
        box = tuple(self.axis(l, position[a], a) for a in (0, 1))
        return None if None in box else box


def _periods(layers, axis: int) -> list:
    """Per layer, how many neurons along ``axis`` before the fields repeat (shifted), or None if unknown.

    The input repeats every pixel. An upsampling by f or a transposed convolution with stride s
    makes f (or s) times as many neurons share one pattern; a window with stride S repeats
    every ``P / gcd(P, S)`` of its neurons when its input repeats every P.
    """
    period: Optional[int] = 1
    out: list[Optional[int]] = []
    for layer in layers:
        if period is None:
            pass
        elif layer.grows_maps:
            period *= layer.neurons_per_pixel(axis)
        elif layer.whole_image:
            period = 1  # every neuron reads the whole map: one field for all
        elif layer.uniform:
            stride = layer.advance(Geometry()).jump[axis]
            period = period // math.gcd(period, int(stride)) if stride.denominator == 1 else None
        else:
            period = None
        out.append(period)
    return out


def _phase_rows(layers, rows) -> list:
    """Rows with the exact largest field and neuron 0's exact centre, from each neuron's field.

    The largest field is looked for in one period of the layer's neurons (see
    :func:`_periods`), not in the whole output: the cost follows the stack, not
    the size of its maps. An upsampling keeps the largest field of its input
    (each neuron copies one input neuron); a transposed convolution right
    after layers whose fields are uniform has the largest field its
    ``advance`` states once every phase occurs.
    """
    fields = _ExactFields(layers, rows)
    periods = [_periods(layers, axis) for axis in (0, 1)]
    uniform = True
    out = []
    for l, row in enumerate(rows):
        uniform = uniform and row.layer.uniform
        if uniform:
            out.append(row)
            continue
        rf: list[int] = []
        start: list[Fraction] = []
        for axis in (0, 1):
            n = row.output_size[axis]
            first = fields.axis(l, 0, axis)
            start.append(row.start[axis] if first is None else Fraction(first[0] + first[1], 2))
            period = periods[axis][l]
            count = n if period is None else min(period, n)
            if row.layer.copies_inputs:  # each neuron's field is that of the input neuron it copies
                rf.append(1 if l == 0 else out[l - 1].rf_size[axis])
            elif count <= PERIOD_LIMIT:
                boxes = (fields.axis(l, o, axis) for o in range(count))
                rf.append(max((b[1] - b[0] + 1 for b in boxes if b is not None), default=0))
            elif row.layer.grows_maps and l == fields.uniform_until + 1 and n >= period:
                rf.append(row.rf_size[axis])  # every phase occurs: advance's largest field is exact
            else:
                raise ValueError(
                    f"layer {l} ({row.layer!r}): its neurons' fields repeat only every {count} neurons along "
                    f"{'height' if axis == 0 else 'width'}, more than the {PERIOD_LIMIT} that receptive_fields "
                    f"compares to find the largest field; use upsampling scale_factors and transposed strides "
                    f"whose product (divided by the strides between them) is at most {PERIOD_LIMIT}, or ask "
                    f"input_region for one neuron's box")
        if 0 in rf:  # no neuron reads anything along one axis, so none reads anything at all
            rf = [0, 0]
        out.append(LayerRow(row.index, row.layer, row.channels, row.output_size, (rf[0], rf[1]), row.jump,
                            (start[0], start[1]), row.name, uniform=False, whole_image=row.whole_image))
    return out


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
        Which layer's output the neuron belongs to (negative counts from the
        end). Only the layers up to it are used, so later ones need not fit.
    clip : bool, default True
        With ``clip=True``, the smallest box holding every input pixel with a
        path to the neuron: pixels read only through padding, or only in a
        dilation's holes at the rim, are left out. With ``clip=False``, the
        whole theoretical field ``centre -/+ (rf - 1) / 2``, which may reach
        into the padding (below 0 or beyond the last pixel).

    Returns
    -------
    ((top, bottom), (left, right)) or None
        Inclusive bounds. ``None`` when ``clip=True`` and no pixel of the
        image has a path to the neuron (it sees nothing but padding), or when
        the neuron reads no input at all (a transposed convolution whose
        dilation skips its phase).

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> input_region([Conv2d(1, 1, 3, padding=1)] * 2, (0, 0), 8)
    ((0, 2), (0, 2))
    >>> input_region([Conv2d(1, 1, 3, padding=1)] * 2, (0, 0), 8, clip=False)
    ((-2, 2), (-2, 2))
    >>> input_region([Conv2d(1, 1, 2, dilation=2, padding=1)], (0, 0), 4)  # taps at -1 and 1
    ((1, 1), (1, 1))
    """
    clip = check_switch(clip, "clip")  # a truthy list or string must not silently mean True
    check_built_for(layers, input_size)
    checked = check_layers(layers)
    last = layer_index(layer, len(checked))
    rows = _sizes_and_geometry(checked[: last + 1], input_size)  # one neuron: no layer-wide maximum needed
    row = rows[last]
    position = check_position(position, row.output_size)
    if not clip:
        if row.uniform:
            return row.geometry.bounds(position)
        return _ExactFields(checked[: last + 1], rows).box(last, position)
    # Walk the pixels with a path back, layer by layer: per axis sets, as a
    # list of products (residual paths add products of their own).
    # Each axis set is kept as runs (Runs), so a whole-image layer's reach costs one run, not its pixels.
    boxes = [(Runs((position[0],)), Runs((position[1],)))]
    for index in range(last, -1, -1):
        size = rows.input_size if index == 0 else rows[index - 1].output_size
        boxes = walk_reach("input_region", rows[index], lambda: rows[index].layer.reach_back(boxes, size))
        if not boxes:
            return None
    return bounding_box(boxes)


def projective_field(layers: Sequence[Layer], pixel, input_size, layer: int = -1) -> Optional[Region]:
    """The neurons of one layer whose value depends on one input pixel: the dual of :func:`input_region`.

    Parameters
    ----------
    layers : sequence of Layer
    pixel : (int, int)
        ``(row, col)`` of the input pixel.
    input_size : int or (int, int)
    layer : int, default -1
        Which layer's neurons (negative counts from the end); later layers
        need not fit.

    Returns
    -------
    ((top, bottom), (left, right)) or None
        Inclusive bounds, in the neuron coordinates of that layer's output:
        the smallest box holding every neuron with a path from ``pixel``.
        ``None`` when no neuron has one (a stride can skip a pixel).

    Examples
    --------
    >>> from rfmaps import Conv2d, ConvTranspose2d
    >>> projective_field([Conv2d(1, 1, 3)] * 2, (4, 4), 9)
    ((0, 4), (0, 4))
    >>> projective_field([Conv2d(1, 1, 1, stride=2)], (1, 2), 6) is None  # the stride skips row 1
    True
    >>> projective_field([ConvTranspose2d(1, 1, 3, stride=2)], (1, 1), 4)
    ((2, 4), (2, 4))
    """
    check_built_for(layers, input_size)
    checked = check_layers(layers)
    last = layer_index(layer, len(checked))
    rows = _sizes_and_geometry(checked[: last + 1], input_size)
    pixel = check_position(pixel, rows.input_size, "pixel")
    boxes = [(Runs((pixel[0],)), Runs((pixel[1],)))]
    size = rows.input_size
    for row in rows:
        boxes = walk_reach("projective_field", row, lambda: row.layer.reach_forward(boxes, size))
        size = row.output_size
        if not boxes:
            return None
    return bounding_box(boxes)


def walk_reach(function: str, row, step) -> list:
    """One layer of a walk (``step()``, its reach), pruned; a set too complex to keep as runs is refused with
    the function's name and the layer's, before the work (see :class:`~rfmaps.layers.base.Runs`)."""
    try:
        return _prune(step())
    except ReachError as error:
        raise ValueError(f"{function} cannot follow layer {row.index} ({row.layer!r}): {error}; "
                         "ask it for a smaller input_size") from None
    except OverflowError:  # Python counts a range's pixels in a C integer: at most 2**63 - 1
        raise ValueError(f"{function} cannot follow layer {row.index} ({row.layer!r}): its maps have more than "
                         f"2**63 pixels along a side, more than a range of pixels can count; ask it for a smaller "
                         f"input_size (receptive_fields answers at any size)") from None


def bounding_box(boxes) -> Region:
    """``((top, bottom), (left, right))``: the smallest box holding every product of ``boxes``."""
    top_bottom, left_right = ((min(b[axis].first for b in boxes), max(b[axis].last for b in boxes))
                              for axis in (0, 1))
    return (top_bottom, left_right)


def _prune(boxes) -> list:
    """Drop products of sets held within another one: the union stays the same, the list short."""
    kept: list[tuple] = []
    for box in sorted(set(boxes), key=lambda b: -len(b[0]) * len(b[1])):
        if not any(box[0] <= k[0] and box[1] <= k[1] for k in kept):
            kept.append(box)
    return kept


def input_channels(layers: Sequence[Layer], channel: int, layer: int = -1) -> Tuple[int, ...]:
    """The input channels that one channel of a layer depends on.

    A convolution with ``groups=g`` reads only the input channels of its
    group; pooling and ReLU keep channels apart; a residual block depends on
    what either path reads. This is the channel wiring, the same for every
    input size: which pixels are reached is :func:`input_region`'s question.

    Parameters
    ----------
    layers : sequence of Layer
    channel : int
        A channel (feature map) of the output of ``layers[layer]``.
    layer : int, default -1

    Returns
    -------
    tuple of int
        Input channels, in increasing order.

    Examples
    --------
    >>> from rfmaps import Conv2d, ReLU
    >>> depthwise, pointwise = Conv2d(4, 4, 3, groups=4), Conv2d(4, 8, 1)
    >>> input_channels([depthwise, ReLU()], 2)
    (2,)
    >>> input_channels([depthwise, ReLU(), pointwise], 5)
    (0, 1, 2, 3)
    """
    layers = check_layers(layers)
    last = layer_index(layer, len(layers))
    path = layers[: last + 1]
    channels = next((c for l in path if (c := l.channels_before()) is not None), None)
    if channels is not None:
        for index, item in enumerate(path):
            channels = item.channels_after(channels, f"layer {index}")
        channel = check_channel(channel, channels)
    else:
        channel = int_at_least(channel, "channel", 0)
    return tuple(sorted(channels_back(path, {int(channel)})))


@dataclass(frozen=True, slots=True)
class NeuronField:
    """One neuron's own receptive field: the numbers every explorer readout quotes.

    Attributes
    ----------
    layer : int
        Index (>= 0) of the layer whose output holds the neuron.
    position : (int, int)
        The neuron's ``(row, col)``.
    box : ((top, bottom), (left, right)) or None
        The theoretical field, padding included (``input_region(...,
        clip=False)``): exact for this neuron also after a transposed
        convolution or an upsampling, where the layer's ``rf_size`` is only
        the largest field. None when the neuron reads no input at all.
    seen : ((top, bottom), (left, right)) or None
        The input pixels with a path to the neuron (``input_region(...,
        clip=True)``); None when it sees nothing but padding.
    """

    layer: int
    position: Pair
    box: Optional[Region]
    seen: Optional[Region]

    @property
    def size(self) -> Pair:
        """Height and width of ``box`` ((0, 0) when the neuron reads nothing)."""
        if self.box is None:
            return (0, 0)
        (top, bottom), (left, right) = self.box
        return (bottom - top + 1, right - left + 1)

    @property
    def centre(self) -> Optional[tuple]:
        """Exact input coordinate of ``box``'s centre (a half pixel for an even side), or None."""
        return None if self.box is None else tuple(exact_number(Fraction(low + high, 2)) for low, high in self.box)

    @property
    def clipped(self) -> bool:
        """True when the image holds only part of the field (the rest is padding or dilation's holes)."""
        return self.seen != self.box


def _own_box(layers: tuple, rows, last: int, position) -> Optional[Region]:
    """The theoretical box of one neuron of ``rows[last]``: the row's geometry when it places every
    neuron, else the walk through each layer's sources."""
    if rows[last].uniform:
        return rows[last].geometry.bounds(position)
    return _ExactFields(layers[: last + 1], rows).box(last, position)


def neuron_field(layers: Sequence[Layer], position, input_size, layer: int = -1) -> NeuronField:
    """The selected neuron's own receptive field: exact box, size, centre, what the image holds of it.

    What every explorer readout says about one neuron comes from here, so
    the numbers agree with each other and hold after transposed
    convolutions and upsampling, where fields depend on the neuron's phase.

    Parameters
    ----------
    layers : sequence of Layer
    position : (int, int)
        ``(row, col)`` of the neuron in the output of ``layers[layer]``.
    input_size : int or (int, int)
    layer : int, default -1
        Which layer's output (negative counts from the end); later layers need not fit.

    Returns
    -------
    NeuronField

    Examples
    --------
    >>> from rfmaps import Conv2d, ConvTranspose2d
    >>> stack = [Conv2d(1, 1, 3, padding=1), ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)]
    >>> receptive_fields(stack, 16)[-1].rf_size         # the largest field of the layer
    (4, 4)
    >>> field = neuron_field(stack, (16, 16), 16)       # an even neuron reads one input of the ConvTranspose2d
    >>> field.size, field.seen, field.clipped
    ((3, 3), ((7, 9), (7, 9)), False)
    >>> neuron_field(stack, (0, 0), 16).box, neuron_field(stack, (0, 0), 16).clipped
    (((-1, 1), (-1, 1)), True)
    """
    check_built_for(layers, input_size)
    checked = check_layers(layers)
    last = layer_index(layer, len(checked))
    rows = _sizes_and_geometry(checked[: last + 1], input_size)  # one neuron: no layer-wide maximum
    position = check_position(position, rows[last].output_size)
    box = _own_box(checked, rows, last, position)
    seen = input_region(checked, position, rows.input_size, layer=last)
    return NeuronField(last, position, box, seen)


def nearest_neuron(layers: Sequence[Layer], point, input_size, layer: int = -1) -> Pair:
    """The neuron of ``layers[layer]`` whose own field is centred nearest to input ``point``.

    Parameters
    ----------
    layers : sequence of Layer
    point : (number, number)
        ``(row, col)`` on the input: whole pixels, exact fractions (a half-pixel
        centre) or floats (a click), compared exactly.
    input_size : int or (int, int)
    layer : int, default -1

    Returns
    -------
    (int, int)
        Per axis the neuron whose field centre (:attr:`NeuronField.centre`) is
        nearest; a tie goes to the lower index, the rule of
        :func:`rfmaps._core.geometry.nearest_index`. Neurons that read no input are
        never chosen (unless none reads any: then the row's mean spacing
        places them).

    Examples
    --------
    >>> from rfmaps import Conv2d, Upsample
    >>> nearest_neuron([Conv2d(1, 1, 2, stride=2)], (1.5, 3.6), 8)   # centres 1/2, 5/2, 9/2: 3/2 lies halfway
    (0, 2)
    >>> nearest_neuron([Conv2d(1, 1, 3), Upsample(2)], (3, 3.7), 8)  # neurons 4 and 5 share centre 3
    (4, 6)
    """
    check_built_for(layers, input_size)
    checked = check_layers(layers)
    last = layer_index(layer, len(checked))
    rows = _sizes_and_geometry(checked[: last + 1], input_size)
    row = rows[last]
    if row.uniform:
        return row.geometry.nearest_neuron(point, row.output_size)
    fields = _ExactFields(checked[: last + 1], rows)
    out = []
    for axis in (0, 1):
        target = Fraction(point[axis])
        best, best_distance = None, None
        for o in range(row.output_size[axis]):  # increasing, and only a strictly nearer one replaces: ties go low
            span = fields.axis(last, o, axis)
            if span is None:
                continue
            distance = abs(Fraction(span[0] + span[1], 2) - target)
            if best_distance is None or distance < best_distance:
                best, best_distance = o, distance
        if best is None:
            best = nearest_index((target - row.start[axis]) / Fraction(row.jump[axis]), row.output_size[axis])
        out.append(best)
    return (out[0], out[1])


def corresponding_neuron(old_layers: Sequence[Layer], old_position, old_input_size,
                         new_layers: Sequence[Layer], new_input_size, old_layer: int = -1,
                         new_layer: int = -1) -> Pair:
    """The neuron of ``new_layers[new_layer]`` that looks where neuron ``old_position`` of
    ``old_layers[old_layer]`` did: the one whose field is centred nearest to the old field's centre.

    The same position is kept when the neuron there has exactly the old
    neuron's field (a change that leaves the geometry alone, such as another
    image of the same size, keeps the selection even where several neurons
    share one centre, as after an upsampling).

    Examples
    --------
    >>> from rfmaps import Conv2d, Upsample
    >>> corresponding_neuron([Conv2d(1, 1, 3)], (10, 12), 32, [Conv2d(1, 1, 3, stride=4)], 32)
    (2, 3)

    Centre (11, 13) on the input; the new neurons are centred at 1, 5, 9, 13, ...: row 11 lies
    halfway between 9 and 13, so the lower neuron, 2, is chosen.
    >>> corresponding_neuron([Upsample(2)], (5, 5), 8, [Upsample(2)], 8)   # neuron 4 shares its centre
    (5, 5)
    """
    old = check_layers(old_layers)
    old_last = layer_index(old_layer, len(old))
    old_rows = _sizes_and_geometry(old[: old_last + 1], old_input_size)
    old_position = check_position(old_position, old_rows[old_last].output_size, "old_position")
    old_box = _own_box(old, old_rows, old_last, old_position)
    new = check_layers(new_layers)
    new_last = layer_index(new_layer, len(new))
    new_rows = _sizes_and_geometry(new[: new_last + 1], new_input_size)
    size = new_rows[new_last].output_size
    if all(p < n for p, n in zip(old_position, size)) and old_box is not None \
            and _own_box(new, new_rows, new_last, old_position) == old_box:
        return tuple(old_position)
    if old_box is None:  # it reads nothing: where the layer's mean spacing puts it
        row = old_rows[old_last]
        centre = tuple(row.start[a] + old_position[a] * Fraction(row.jump[a]) for a in (0, 1))
    else:
        centre = tuple(Fraction(low + high, 2) for low, high in old_box)
    return nearest_neuron(new, centre, new_input_size, layer=new_last)
