"""Residual (multi-path) blocks: the output is the sum of several paths.

A block is a composite layer: it answers every question of
:mod:`rfmaps.layers.base` by asking its paths. Its receptive field is the
union of its paths' receptive fields. When every path puts the centre of
neuron 0 at the same input coordinate (the paths are *aligned*) the union is
again a centred box, whose size is the largest path's. When the centres
differ there is no single honest (rf, jump, start) for the block, and rfmaps
refuses it.

References
----------
Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill, 2019, section "Handling multi-path networks".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence, Tuple

import numpy as np

from .geometry import Geometry
from .layers.base import Layer, channels_back, check_layers
from .validation import pair

__all__ = ["Residual", "run_path", "through_path"]


def _path_geometry(path, geometry: Geometry = Geometry()) -> Geometry:
    for layer in path:
        geometry = layer.advance(geometry)
    return geometry


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Residual(Layer):
    """A block whose output is ``body(x) + shortcut(x)``.

    Parameters
    ----------
    body : sequence of Layer
        The main path (for ResNet: 1 x 1, 3 x 3 and 1 x 1 convolutions).
    shortcut : sequence of Layer, optional
        The other path; empty or omitted means identity (``x`` itself).

    Raises
    ------
    ValueError
        If the paths have different jumps or misaligned centres.

    Examples
    --------
    >>> from rfmaps import Conv2d, receptive_fields
    >>> block = Residual([Conv2d(8, 8, 3, padding=1), Conv2d(8, 8, 3, padding=1)])
    >>> g = block.geometry
    >>> g.rf, g.jump, g.start
    ((5, 5), (Fraction(1, 1), Fraction(1, 1)), (Fraction(0, 1), Fraction(0, 1)))
    >>> receptive_fields([Conv2d(3, 8, 3, padding=1), block], 16)[-1].rf_size
    (7, 7)
    """

    body: Tuple[Layer, ...]
    shortcut: Tuple[Layer, ...] = ()
    _own: Geometry = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self):
        object.__setattr__(self, "body", check_layers(self.body))
        shortcut = self.shortcut
        if isinstance(shortcut, Layer):  # one layer, as body accepts too
            shortcut = (shortcut,)
        object.__setattr__(self, "shortcut", () if shortcut is None or len(shortcut) == 0
                           else check_layers(shortcut))
        for layer in self.body + self.shortcut:
            if not layer.uniform:
                raise ValueError(f"{layer!r} inside a residual block is not supported: its fields depend on "
                                 "the neuron's phase, so the paths' fields have no single union to add")
        # The block's own geometry, worked out once (and misaligned paths refused now).
        object.__setattr__(self, "_own", self._union(Geometry()))

    @property
    def paths(self):
        """The body, then the shortcut (``()`` for identity)."""
        return (self.body, self.shortcut)

    @property
    def geometry(self) -> Geometry:
        """The block's own geometry on its input: rf of the union, the common jump and start."""
        return self._own

    @property
    def in_channels(self):
        convs = [l for l in self.body + self.shortcut if getattr(l, "in_channels", None)]
        return convs[0].in_channels if convs else None

    @property
    def out_channels(self):
        convs = [l for l in self.body if getattr(l, "out_channels", None)]
        return convs[-1].out_channels if convs else None

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.body))
        short = "identity" if not self.shortcut else "[" + ", ".join(map(repr, self.shortcut)) + "]"
        return f"Residual([{inner}], shortcut={short})"

    # -- arithmetic -------------------------------------------------------------------------
    def output_size(self, input_size):
        """Output size of every path; they must agree so the sum is defined."""
        input_size = pair(input_size, "input_size", 1)
        sizes = []
        for path in self.paths:
            size = input_size
            for layer in path:
                size = layer.output_size(size)
            sizes.append(size)
        if sizes[0] != sizes[1]:
            raise ValueError(f"the body gives {sizes[0]} but the shortcut gives {sizes[1]} "
                             f"for input_size {input_size}: the paths cannot be added")
        return sizes[0]

    def advance(self, geometry: Geometry) -> Geometry:
        """The block's own geometry after the stack's so far: like one window of span ``rf``.

        Its field is ``rf`` of the block's input neurons, ``jump`` apart, centred at
        ``start`` of them: ``r += (rf - 1) j``, ``c += start j``, ``j *= jump``.
        """
        own = self._own
        return Geometry(tuple(geometry.rf[a] + (own.rf[a] - 1) * geometry.jump[a] for a in (0, 1)),
                        tuple(geometry.jump[a] * own.jump[a] for a in (0, 1)),
                        tuple(geometry.start[a] + own.start[a] * geometry.jump[a] for a in (0, 1)))

    def _union(self, geometry: Geometry) -> Geometry:
        """The union of the paths, which must share jump and start (be aligned)."""
        first, other = (_path_geometry(path, geometry) for path in self.paths)
        if other.jump != first.jump:
            raise ValueError(f"the body and the shortcut must have the same stride, got jumps "
                             f"{tuple(map(str, first.jump))} and {tuple(map(str, other.jump))}")
        if other.start != first.start:
            raise ValueError(
                "the body and the shortcut are misaligned: the centre of neuron 0 lies at input "
                f"{tuple(map(float, first.start))} for the body and {tuple(map(float, other.start))} for "
                f"the shortcut, so the block has no single receptive-field centre; change a padding")
        rf = tuple(max(first.rf[axis], other.rf[axis]) for axis in (0, 1))
        return Geometry(rf, first.jump, first.start)

    def axis_sources(self, index: int, axis: int, input_n=None):
        """Input indices any path reads for output ``index`` (unbounded: padding kept)."""
        reached = set()
        for path in self.paths:
            current = {index}
            for layer in reversed(path):
                current = {i for o in current for i in layer.axis_sources(o, axis)}
            reached |= current
        return sorted(i for i in reached if input_n is None or 0 <= i < input_n)

    def reach_back(self, boxes, input_size):
        out = []
        for path in self.paths:  # a path is reached through the body or the shortcut
            sizes = _sizes(path, input_size)
            reached = list(boxes)
            for layer, size in zip(reversed(path), reversed(sizes[:-1])):
                reached = layer.reach_back(reached, size)
            out += reached
        return out

    def reach_forward(self, boxes, input_size):
        out = []
        for path in self.paths:  # through the body or the shortcut
            reached, size = list(boxes), input_size
            for layer in path:
                reached, size = layer.reach_forward(reached, size), layer.output_size(size)
            out += reached
        return out

    def spread_forward(self, grid, input_size):
        total = 0
        for path in self.paths:  # paths through the body and through the shortcut add
            g, size = grid, input_size
            for layer in path:
                g, size = layer.spread_forward(g, size), layer.output_size(size)
            total = total + g
        return total

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        results = []
        for name, path in zip(("body", "shortcut"), self.paths):
            c = channels
            for index, layer in enumerate(path):
                c = layer.channels_after(c, f"{where}.{name}.{index}")
            results.append(c)
        if results[0] != results[1]:
            raise ValueError(f"{where}: the body gives {results[0]} channels but the shortcut gives "
                             f"{results[1]}; they cannot be added")
        return results[0]

    def channel_sources(self, channel: int) -> frozenset:
        """Input channels output ``channel`` depends on: through the body or the shortcut."""
        return frozenset().union(*(channels_back(path, {channel}) for path in self.paths))

    def most_paths(self) -> int:
        total = 0
        for path in self.paths:
            count = 1
            for layer in path:
                count *= layer.most_paths()
            total += count
        return total

    # -- arrays -----------------------------------------------------------------------------
    def forward(self, x, weight, out):
        out[...] = 0  # the sum of the paths; an empty shortcut is x itself
        for path, w in zip(self.paths, weight):
            out += run_path(path, x, w)[-1]
        return out

    def backward(self, weight, x, y, grad):
        # Both paths receive the whole gradient of the sum; their input gradients add.
        total = 0
        for path, weights in zip(self.paths, weight):
            values, g = run_path(path, x, weights), grad
            for index in range(len(path) - 1, -1, -1):
                g = path[index].backward(weights[index], values[index], values[index + 1], g)
            total = total + g
        return total

    def spread_back(self, grid, input_size, tap_values=None):
        # Paths through the block go through the body or the shortcut: their counts add.
        return sum(through_path(grid, path, input_size) for path in self.paths)


def _sizes(path, input_size) -> list:
    sizes = [tuple(input_size)]
    for layer in path:
        sizes.append(layer.output_size(sizes[-1]))
    return sizes


def run_path(path: Sequence[Layer], x: np.ndarray, weights) -> list:
    """``x`` and the output of every layer of ``path`` after it, each in a new array."""
    values = [x]
    for layer, weight in zip(path, weights):
        shape = (layer.channels_after(len(values[-1])),) + layer.output_size(values[-1].shape[1:])
        values.append(layer.forward(values[-1], weight, np.empty(shape, x.dtype)))
    return values


def through_path(grid: np.ndarray, path: Sequence[Layer], input_size) -> np.ndarray:
    """``spread_back`` through a sequence of layers, last layer first (identity when empty)."""
    sizes = _sizes(path, input_size)
    for layer, size in zip(reversed(path), reversed(sizes[:-1])):
        grid = layer.spread_back(grid, size)
    return grid
