"""Multi-path blocks: the output is the sum (:class:`Residual`) or the
channel concatenation (:class:`Concat`) of several paths.

A block is a composite layer: it answers every question of
:mod:`rfmaps.layers.base` by asking its paths. Its receptive field is the
union of its paths' receptive fields (for a concatenation, of every
channel's: each channel sees through one path, and a neuron is all its
channels at one position). When every path puts the centre of neuron 0 at
the same input coordinate (the paths are *aligned*) the union is again a
centred box, whose size is the largest path's. When the centres differ
there is no single honest (rf, jump, start) for the block, and rfmaps
refuses it.

References
----------
Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill, 2019, section "Handling multi-path networks".
"""

from __future__ import annotations

import contextlib
import threading
from fractions import Fraction
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator, Optional, Sequence, Tuple

import numpy as np

from .._core.geometry import Geometry
from .base import Layer, Runs, channels_back, check_layers
from .._core.validation import pair, positive_int

__all__ = ["Residual", "Concat", "run_path", "through_path"]


def _whole_union(names, geometries, output_size) -> Geometry:
    """The union when a path reads the whole map (jump 0, one box for every neuron): that box, provided
    the other paths' fields lie inside it for every neuron; otherwise no single field holds, and the
    block is refused."""
    boxes = [g.bounds((0, 0)) for g in geometries if 0 in g.jump]
    low = tuple(min(b[axis][0] for b in boxes) for axis in (0, 1))
    high = tuple(max(b[axis][1] for b in boxes) for axis in (0, 1))
    for name, g in zip(names, geometries):
        last = (output_size[0] - 1, output_size[1] - 1)
        for corner in ((0, 0), last):
            box = g.bounds(corner)
            if any(box[axis][0] < low[axis] or box[axis][1] > high[axis] for axis in (0, 1)):
                raise ValueError(f"{name} reaches pixels outside the box {low} to {high} its whole-image path "
                                 "reads, so the block's neurons have different fields; rfmaps cannot state one")
    start = tuple(Fraction(low[axis] + high[axis], 2) for axis in (0, 1))
    rf = tuple(high[axis] - low[axis] + 1 for axis in (0, 1))
    return Geometry((rf[0], rf[1]), (Fraction(0), Fraction(0)), (start[0], start[1]))


def _path_geometry(path, geometry: Geometry = Geometry(), input_size=None) -> Geometry:
    """The geometry after ``path``; with ``input_size``, each layer gets the size of its own input (a layer
    that reads its whole map, such as a squeeze-and-excitation gate, needs it)."""
    for layer in path:
        if input_size is None:
            geometry = layer.advance(geometry)
        else:
            geometry, input_size = layer.advance_sized(geometry, input_size), layer.output_size(input_size)
    return geometry


def _check_path(path, name: str) -> tuple:
    """A path as a tuple of uniform layers (``()``, the identity, when empty or None)."""
    if isinstance(path, Layer):  # one layer, as a list of one
        path = (path,)
    path = () if path is None or len(path) == 0 else check_layers(path)
    for layer in path:
        if not layer.uniform:
            raise ValueError(f"{layer!r} inside {name} is not supported: its fields depend on the neuron's phase, "
                             "so the paths' fields have no single union")
    return path


class _Paths(Layer):
    """What a block of aligned paths answers the same way whether it adds or concatenates them.

    Subclasses have ``paths`` (a tuple of layer tuples), ``_own`` (their union
    geometry) and ``_names`` (how messages call each path).
    """

    __slots__ = ()
    if TYPE_CHECKING:  # what each subclass defines (a dataclass field, properties), for the type checker
        _own: Geometry
        whole_image: bool

        @property
        def paths(self) -> Tuple[Tuple[Layer, ...], ...]: ...

        @property
        def _names(self) -> Tuple[str, ...]: ...

    @property
    def geometry(self) -> Geometry:
        """The block's own geometry on its input: rf of the union, the common jump and start."""
        if self.whole_image:
            raise ValueError(_WHOLE)
        return self._own

    def advance_sized(self, geometry: Geometry, input_size) -> Geometry:
        """:meth:`advance` for an input of ``input_size``; a block with a whole-image layer in a path
        (a squeeze-and-excitation gate, a global pooling) has a geometry for each size only."""
        if not self.whole_image:
            return self.advance(geometry)
        return self._union(geometry, pair(input_size, "input_size", 1))

    # -- arithmetic -------------------------------------------------------------------------
    def _output_sizes(self, input_size):
        input_size = pair(input_size, "input_size", 1)
        sizes = []
        for path in self.paths:
            size = input_size
            for layer in path:
                size = layer.output_size(size)
            sizes.append(size)
        return input_size, sizes

    def advance(self, geometry: Geometry) -> Geometry:
        """The block's own geometry after the stack's so far: like one window of span ``rf``.

        Its field is ``rf`` of the block's input neurons, ``jump`` apart, centred at
        ``start`` of them: ``r += (rf - 1) j``, ``c += start j``, ``j *= jump``.
        """
        if self.whole_image:
            raise ValueError(_WHOLE)
        own, (h, w) = self._own, (0, 1)
        return Geometry((geometry.rf[h] + (own.rf[h] - 1) * geometry.jump[h],
                         geometry.rf[w] + (own.rf[w] - 1) * geometry.jump[w]),
                        (geometry.jump[h] * own.jump[h], geometry.jump[w] * own.jump[w]),
                        (geometry.start[h] + own.start[h] * geometry.jump[h],
                         geometry.start[w] + own.start[w] * geometry.jump[w]))

    def _union(self, geometry: Geometry, input_size=None) -> Geometry:
        """The union of the paths, which must share jump and start (be aligned)."""
        names = self._names
        geometries = [_path_geometry(path, geometry, input_size) for path in self.paths]
        if input_size is not None and any(0 in g.jump for g in geometries):
            return _whole_union(names, geometries, self.output_size(input_size))
        first = geometries[0]
        for name, other in zip(names[1:], geometries[1:]):
            if other.jump != first.jump:
                raise ValueError(f"{names[0]} and {name} must have the same stride, got jumps "
                                 f"{tuple(map(str, first.jump))} and {tuple(map(str, other.jump))}")
            if other.start != first.start:
                raise ValueError(
                    f"{names[0]} and {name} are misaligned: the centre of neuron 0 lies at input "
                    f"{tuple(map(float, first.start))} for {names[0]} and {tuple(map(float, other.start))} for "
                    f"{name}, so the block has no single receptive-field centre; change a padding")
        rf = (max(g.rf[0] for g in geometries), max(g.rf[1] for g in geometries))
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
        for path in self.paths:  # a pixel is reached through any path
            sizes = _sizes(path, input_size)
            reached = [(Runs.of(rows), Runs.of(cols)) for rows, cols in boxes]  # an empty path passes them on
            for layer, size in zip(reversed(path), reversed(sizes[:-1])):
                reached = layer.reach_back(reached, size)
            out += reached
        return out

    def reach_forward(self, boxes, input_size):
        out = []
        for path in self.paths:  # through any path
            reached, size = [(Runs.of(rows), Runs.of(cols)) for rows, cols in boxes], input_size
            for layer in path:
                reached, size = layer.reach_forward(reached, size), layer.output_size(size)
            out += reached
        return out

    def spread_forward(self, grid, input_size):
        total = 0
        for path in self.paths:  # paths through every branch add
            g, size = grid, input_size
            for layer in path:
                g, size = layer.spread_forward(g, size), layer.output_size(size)
            total = total + g
        return total

    def _path_channels(self, channels: int, where: str, names) -> list:
        results = []
        for name, path in zip(names, self.paths):
            c = channels
            for index, layer in enumerate(path):
                c = layer.channels_after(c, f"{where}.{name}.{index}")
            results.append(c)
        return results

    def most_paths(self) -> int:
        total = 0
        for path in self.paths:
            count = 1
            for layer in path:
                count *= layer.most_paths()
            total += count
        return total

    def spread_back(self, grid, input_size, tap_values=None):
        # Paths through the block go through one of its paths: their counts add.
        return sum(through_path(grid, path, input_size) for path in self.paths)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Residual(_Paths):
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
    _own: Geometry = field(init=False, repr=False, compare=False)  # set in __post_init__
    #: True when a path holds a layer whose every neuron sees its whole input map (set in __post_init__).
    whole_image: bool = field(init=False, repr=False, compare=False, default=False)

    _names = ("the body", "the shortcut")

    def __post_init__(self):
        object.__setattr__(self, "body", check_layers(self.body))
        _check_path(self.body, "a residual block")
        object.__setattr__(self, "shortcut", _check_path(self.shortcut, "a residual block"))
        _settle(self)

    @property
    def paths(self):
        """The body, then the shortcut (``()`` for identity)."""
        return (self.body, self.shortcut)

    def channels_before(self) -> Optional[int]:
        return arriving_channels(self.paths)

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

    def output_size(self, input_size):
        """Output size of every path; they must agree so the sum is defined."""
        input_size, sizes = self._output_sizes(input_size)
        if sizes[0] != sizes[1]:
            raise ValueError(f"the body gives {sizes[0]} but the shortcut gives {sizes[1]} "
                             f"for input_size {input_size}: the paths cannot be added")
        return sizes[0]

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        results = self._path_channels(channels, where, ("body", "shortcut"))
        if results[0] != results[1]:
            raise ValueError(f"{where}: the body gives {results[0]} channels but the shortcut gives "
                             f"{results[1]}; they cannot be added")
        return results[0]

    def channel_sources(self, channel: int) -> frozenset:
        """Input channels output ``channel`` depends on: through the body or the shortcut."""
        return frozenset().union(*(channels_back(path, {channel}) for path in self.paths))

    # -- arrays -----------------------------------------------------------------------------
    def forward(self, x, weight, out):
        out[...] = 0  # the sum of the paths; an empty shortcut is x itself
        runs = _new_runs()
        for path, w in zip(self.paths, weight):
            values = run_path(path, x, w)
            out += values[-1]
            if runs is not None:
                runs.append(values)
        _keep(out, runs)
        return out

    def backward(self, weight, x, y, grad):
        # Both paths receive the whole gradient of the sum; their input gradients add.
        total = 0
        for path, weights, values in zip(self.paths, weight, _kept_runs(y, len(self.paths))):
            total = total + _path_backward(path, weights, x, grad, values)
        return total


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Concat(_Paths):
    """A block whose output is its branches' outputs, one after another along channels.

    ``torch.cat([f(x), g(x), ...], dim=1)``: Inception's and GoogLeNet's
    modules, DenseNet's layers (``cat([x, f(x)])``), SqueezeNet's Fire. Each
    output channel depends on one branch only; a neuron (all channels at one
    position) sees the union of the branches' fields.

    Parameters
    ----------
    branches : sequence of sequences of Layer
        At least one; an empty branch is the input itself.
    in_channels : int, optional
        Channels arriving. Needed only when no branch says it (a branch
        that starts with a convolution does).

    Raises
    ------
    ValueError
        If the branches have different jumps or misaligned centres.

    Examples
    --------
    >>> from rfmaps import Conv2d, MaxPool2d, receptive_fields
    >>> block = Concat([[Conv2d(8, 4, 1)], [Conv2d(8, 4, 5, padding=2)], [MaxPool2d(3, 1, 1), Conv2d(8, 2, 1)]])
    >>> block.out_channels, block.geometry.rf
    (10, (5, 5))
    >>> receptive_fields([block], 16)[-1].output_size
    (16, 16)
    >>> Concat([[], [Conv2d(8, 4, 3, padding=1)]]).out_channels  # DenseNet: the input, then new maps
    12
    """

    branches: Tuple[Tuple[Layer, ...], ...]
    in_channels: Optional[int] = None
    _own: Geometry = field(init=False, repr=False, compare=False)  # set in __post_init__
    #: True when a path holds a layer whose every neuron sees its whole input map (set in __post_init__).
    whole_image: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self):
        if isinstance(self.branches, Layer) or not hasattr(self.branches, "__len__") or not len(self.branches):
            raise ValueError("branches must be a list of at least one branch, each a list of layers "
                             f"([] for the input itself), got {self.branches!r}")
        object.__setattr__(self, "branches", tuple(_check_path(b, "a concatenation") for b in self.branches))
        if self.in_channels is None:
            object.__setattr__(self, "in_channels", arriving_channels(self.branches))
        else:
            object.__setattr__(self, "in_channels", positive_int(self.in_channels, "in_channels"))
        _settle(self)

    @property
    def paths(self):
        """The branches, in channel order."""
        return self.branches

    @property
    def _names(self):
        return tuple(f"branch {i}" for i in range(len(self.branches)))

    @property
    def out_channels(self):
        """The sum of the branches' channels (None when the arriving channels are unknown)."""
        return None if self.in_channels is None else sum(self._widths(self.in_channels))

    def _widths(self, channels: int, where: str = "layer") -> list:
        return self._path_channels(channels, where, [f"branches[{i}]" for i in range(len(self.branches))])

    def __repr__(self) -> str:
        inner = ", ".join("[" + ", ".join(map(repr, b)) + "]" for b in self.branches)
        return f"Concat([{inner}])"

    def output_size(self, input_size):
        """Output size of every branch; they must agree so the maps can be stacked."""
        input_size, sizes = self._output_sizes(input_size)
        for name, size in zip(self._names[1:], sizes[1:]):
            if size != sizes[0]:
                raise ValueError(f"branch 0 gives {sizes[0]} but {name} gives {size} for input_size "
                                 f"{input_size}: maps of different sizes cannot be concatenated")
        return sizes[0]

    def channels_before(self) -> Optional[int]:
        return self.in_channels

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        if self.in_channels is not None and channels != self.in_channels:
            raise ValueError(f"{where}: the concatenation expects {self.in_channels} channels but {source} "
                             f"has {channels}")
        return sum(self._widths(channels, where))

    def channel_sources(self, channel: int) -> frozenset:
        """Input channels output ``channel`` depends on: through the one branch that made it."""
        if self.in_channels is None:
            raise ValueError("this Concat does not know its input channels: give in_channels=")
        for path, width in zip(self.paths, self._widths(self.in_channels)):
            if channel < width:
                return channels_back(path, {channel})
            channel -= width
        raise ValueError(f"channel must be < {self.out_channels}, got {channel + self.out_channels}")

    # -- arrays -----------------------------------------------------------------------------
    def forward(self, x, weight, out):
        offset = 0
        runs = _new_runs()
        for path, w in zip(self.paths, weight):
            values = run_path(path, x, w)
            out[offset: offset + len(values[-1])] = values[-1]
            offset += len(values[-1])
            if runs is not None:
                runs.append(values)
        _keep(out, runs)
        return out

    def backward(self, weight, x, y, grad):
        # Each branch gets the gradient of its own channels; their input gradients add.
        total, offset = 0, 0
        runs = _kept_runs(y, len(self.paths))
        for path, weights, width, values in zip(self.paths, weight, self._widths(len(x)), runs):
            total = total + _path_backward(path, weights, x, grad[offset: offset + width], values)
            offset += width
        return total


_WHOLE = ("a path of this block reads its whole input map (a squeeze-and-excitation gate or a global pooling), "
          "so its geometry depends on the input size; rfmaps states it with the size known (receptive_fields, "
          "input_region), not once for every size")


def _settle(block) -> None:
    """Set a block's ``whole_image`` and its own geometry, worked out once (misaligned paths refused now);
    a block with a whole-image layer gets its geometry for each input size (``advance_sized``)."""
    whole = any(layer.whole_image for path in block.paths for layer in path)
    object.__setattr__(block, "whole_image", whole)
    object.__setattr__(block, "_own", Geometry() if whole else block._union(Geometry()))


def arriving_channels(branches) -> Optional[int]:
    """The input channels a branch reveals: those of its first layer that names them, if only
    layers that keep channels come before it (``None`` if no branch says).

    Used by the blocks here and by ``from_torch``, which must know the channels a sum receives.

    Examples
    --------
    >>> from rfmaps import Conv2d, ReLU
    >>> arriving_channels([[ReLU(), Conv2d(3, 8, 3)], []])
    3
    >>> arriving_channels([[Conv2d(3, 8, 1), Conv2d(8, 8, 3)]]), arriving_channels([[ReLU()]])
    (3, None)
    """
    for branch in branches:
        for layer in branch:
            channels = layer.channels_before()
            if channels is not None:
                return channels
            try:
                keeps = layer.channels_after(1, "probe") == 1 and layer.channels_after(2, "probe") == 2
            except ValueError:  # it takes a fixed number (BatchNorm2d): that is what arrives
                keeps = False
            if not keeps:
                break  # what arrives is not what a later layer says
    return None


# The values inside the blocks of one forward pass, kept for the backward pass that follows
# (see keeping_path_values); per thread, None when nothing is kept.
_TAPE = threading.local()


@contextlib.contextmanager
def keeping_path_values() -> Iterator[None]:
    """Inside the block, each :class:`Residual` and :class:`Concat` keeps the values of its paths'
    layers from its forward pass until the block ends, and its backward pass reads them.

    Without it a backward pass runs every path forward again (the values are needed for
    ReLU and max-pool gradients): for ResNet-50 that is a second forward pass in float64.
    Kept values take as much memory as the maps of the paths, so only a forward pass
    followed by a backward pass keeps them (:func:`rfmaps.effective_receptive_field`).

    Examples
    --------
    >>> from rfmaps import Conv2d, ReLU
    >>> block = Residual([Conv2d(1, 1, 3, padding=1, weight=np.ones((1, 1, 3, 3))), ReLU()])
    >>> x, weights = np.ones((1, 4, 4)), ((block.body[0].weight, None), ())
    >>> with keeping_path_values():
    ...     y = block.forward(x, weights, np.empty((1, 4, 4)))
    ...     grad = block.backward(weights, x, y, np.ones((1, 4, 4)))
    >>> grad[0].astype(int).tolist()[0]
    [5, 7, 7, 5]
    """
    outer = getattr(_TAPE, "kept", None)
    _TAPE.kept = {}
    try:
        yield
    finally:
        _TAPE.kept = outer


def _new_runs() -> Optional[list]:
    """A list for a block's path values when they are kept, else None (a plain forward pass lets
    each path's values go as soon as they are added)."""
    return None if getattr(_TAPE, "kept", None) is None else []


def _keep(out: np.ndarray, runs: Optional[list]) -> None:
    if runs is not None:
        _TAPE.kept[id(out)] = (out, runs)  # holding out keeps its id unique while the entry lives


def _kept_runs(y: np.ndarray, paths: int) -> list:
    """The values of each path kept when ``y`` was computed, else None for each path. They are
    handed over once: the memory goes as the backward pass leaves the block."""
    kept: Optional[dict] = getattr(_TAPE, "kept", None)
    if kept is None:
        return [None] * paths
    entry = kept.get(id(y))
    if entry is None or entry[0] is not y:
        return [None] * paths
    del kept[id(y)]
    return entry[1]


def _path_backward(path, weights, x, grad, values=None):
    if values is None:
        values = run_path(path, x, weights)
    for index in range(len(path) - 1, -1, -1):
        grad = path[index].backward(weights[index], values[index], values[index + 1], grad)
    return grad


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
