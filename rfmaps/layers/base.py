"""What every layer kind answers, and what sliding-window kinds share.

The rest of the package asks a layer these questions, and nothing else:

====================  ========================================================
arithmetic (exact)
``output_size``       output ``(h, w)`` for an input ``(h, w)``
``pads_for``          zero padding read around an input ``(h, w)`` (sliding windows;
                      a ``ceil_mode`` pool's last window adds a size-dependent overhang)
``advance``           the :class:`~rfmaps._core.geometry.Geometry` after the layer
                      (the receptive-field recurrence)
``advance_sized``     the same, given the input size (a global pooling's window is
                      its whole input map); ``advance`` for every other kind
``axis_taps``         input coordinates one output index reads, padding included
``axis_sources``      input indices one output index reads, along an axis
``reach_back``        the input pixels with a path to given output pixels
``reach_forward``     the output pixels with a path from given input pixels
``uniform``           whether (rf, jump, start) place every neuron exactly
``channels_after``    channels leaving the layer (checks those arriving)
``channels_before``   channels the layer requires arriving, or None when any will do
``channel_sources``   input channels one output channel depends on
``whole_image``       whether every neuron after the layer sees the whole input map
``most_paths``        a bound on the paths the layer adds per input pixel
arrays (numpy)
``forward``           the output for an input, written into a given array
``backward``          the gradient for the input, given it for the output
``spread_back``       output values sent back to each input pixel they read
``spread_forward``    input values sent on to each output pixel that reads them
====================  ========================================================

(``channel_sources`` answers :func:`rfmaps.input_channels`), so adding a layer
kind means one module with one class, exported from :mod:`rfmaps.layers`;
nothing else checks types. :class:`Layer` declares every one of these with its
types (mypy checks callers and kinds against them); those with no answer that
holds for every kind raise ``NotImplementedError`` until a kind gives one.
:class:`SlidingWindow` answers all of them for the layers that slide a window
with kernel size, stride, padding and dilation; a kind overrides what differs
(``forward`` at least), and :class:`~rfmaps.layers.pointwise.PerPixel` is the
1 x 1 window of the kinds that read only the pixel they write.

Padding: ``pads`` is what a sliding window declares, the same for every input
size; ``pads_for(size)`` is what it reads around an input of that size. They
differ only on the after sides (bottom, right) and only for ``ceil_mode``
pooling, whose last window may hang over the end of the padded input by up to
``stride - 1`` pixels, depending on the size. The before sides place neuron
0, so they never depend on the size, and neither does the geometry
(``advance``, ``axis_taps``): only output sizes and the buffers that hold a
padded input do, and those ask ``pads_for``.

Layers are frozen, slotted dataclasses: immutable values that compare and
hash by content, so they can key a cache. Their arrays are read-only, and a
pickled or deep-copied layer is rebuilt through its constructor, so the copy
is validated and read-only again.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import weakref
from dataclasses import fields
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional, Sequence, Tuple, cast

import numpy as np

from .._core.geometry import Geometry
from .._core.sliding import gather_sum, spread_back
from .._core.validation import Pair, pair, positive_int

__all__ = ["Layer", "SlidingWindow", "check_layers", "check_channels", "expect_channels", "frozen_array",
           "channels_back", "Runs", "ReachError", "RUN_LIMIT", "PIXEL_LIMIT"]


#: The most runs (arithmetic progressions) one axis of a reached set keeps; beyond it a walk is refused.
RUN_LIMIT = 10 ** 5
#: The most pixels along one axis that a walk follows one by one (layer kinds with no closed form, or
#: progressions that overlap and must be split into single pixels).
PIXEL_LIMIT = 10 ** 6


class ReachError(ValueError):
    """A reached set that rfmaps would have to follow pixel by pixel past :data:`PIXEL_LIMIT`, or keep as more
    than :data:`RUN_LIMIT` runs; the walk that asked adds its own name and the layer's."""


def _range_meet(a: range, b: range) -> range:
    """The pixels two progressions share: a progression again (the Chinese remainder theorem)."""
    if not a or not b:
        return range(0)
    low, high = max(a[0], b[0]), min(a[-1], b[-1])
    if low > high:
        return range(0)
    g = math.gcd(a.step, b.step)
    if (b[0] - a[0]) % g:
        return range(0)
    lcm = a.step // g * b.step
    # x = a0 + a.step u with a.step u = b0 - a0 (mod b.step): u = ((b0 - a0) / g) (a.step / g)^-1 (mod b.step / g)
    m = b.step // g
    u = ((b[0] - a[0]) // g * pow(a.step // g, -1, m)) % m if m > 1 else 0
    first = a[0] + a.step * u
    first += -((first - low) // lcm) * lcm  # the first solution >= low
    return range(first, high + 1, lcm)


def _within(a: range, b: range) -> bool:
    """Whether every pixel of progression ``a`` is in progression ``b``."""
    return (b[0] <= a[0] and a[-1] <= b[-1] and (a[0] - b[0]) % b.step == 0
            and (len(a) == 1 or a.step % b.step == 0))


def _clip(r: range, low: int, high: int) -> range:
    """The pixels of ``r`` inside ``low .. high - 1``."""
    first = max(0, -((r[0] - low) // r.step)) if r[0] < low else 0
    last = min(len(r), (high - 1 - r[0]) // r.step + 1) if high - 1 >= r[0] else 0
    return r[first:last] if first < last else range(0)


def _steps(start: int, step: int, count: int, gap: int, taps: int) -> list[range]:
    """``{start + step i + gap t : i < count, t < taps}`` (all integers) as progressions."""
    end = start + step * (count - 1) + gap * (taps - 1) + 1
    if count == 1 or taps == 1:
        return [range(start, end, gap if count == 1 else step) if max(count, taps) > 1 else range(start, end)]
    if step % gap == 0 and step <= gap * taps:  # windows that touch or overlap: one progression of step gap
        return [range(start, end, gap)]
    if gap % step == 0 and gap <= step * count:
        return [range(start, end, step)]
    if min(count, taps) > RUN_LIMIT:
        raise ReachError(f"the pixels reached along an axis form more than {RUN_LIMIT} separate runs")
    if count <= taps:
        return [range(start + step * i, start + step * i + gap * (taps - 1) + 1, gap) for i in range(count)]
    return [range(start + gap * t, start + gap * t + step * (count - 1) + 1, step) for t in range(taps)]


def _floor_div(r: range, f: int) -> list[range]:
    """``{floor(x / f) : x in r}`` as few progressions as this finds (refused beyond :data:`RUN_LIMIT`).

    One when ``r``'s step ``e`` is at most ``f`` (no whole number skipped) or a multiple of it. Otherwise
    either one per class of the index modulo ``m = f / gcd(e, f)`` (floors ``m e / f`` apart), or the runs
    of step ``e // f`` (or one more) cut where a multiple of ``f`` falls between two pixels: whichever is fewer.
    """
    a, e, count = r[0], r.step, len(r)
    if count == 1 or e <= f:
        return [range(a // f, r[-1] // f + 1)]
    m = f // math.gcd(e, f)
    q, rem = divmod(e, f)
    # floor((a + e i) / f) = q i + floor((a + rem i) / f): the step is q, or q + 1 where a multiple of f
    # lies in (a + rem i, a + rem (i + 1)]; with rem > f / 2 count the other way, from steps of q + 1.
    short = 2 * rem <= f
    low, high = (a, a + rem * (count - 1)) if short else (a - (f - rem) * (count - 1), a)
    cuts = high // f - low // f
    if min(m, count) <= cuts:
        if min(m, count) > RUN_LIMIT:
            raise ReachError(f"the pixels reached along an axis form more than {RUN_LIMIT} separate runs")
        return [range(p[0] // f, p[-1] // f + 1, e * m // f) for p in (r[j::m] for j in range(min(m, count)))]
    if cuts >= RUN_LIMIT:
        raise ReachError(f"the pixels reached along an axis form more than {RUN_LIMIT} separate runs")
    # The index i after which each cut falls, in order.
    multiples = range(low // f + 1, high // f + 1)
    if short:
        ends = [-((a - j * f) // rem) - 1 for j in multiples]  # ceil((j f - a) / rem) - 1
    else:
        ends = [(a - j * f) // (f - rem) for j in reversed(multiples)]
    out = []
    begin = 0
    for end in ends + [count - 1]:
        out.append(range((a + e * begin) // f, (a + e * end) // f + 1, q if short else q + 1))
        begin = end + 1
    return out


def _quotients(q: range, s: int) -> range:
    """``{x / s : x in q, s divides x}``: one progression."""
    if not q:
        return range(0)
    whole = _range_meet(q, range(q[0] + (-q[0]) % s, q[-1] + 1, s))
    return range(whole[0] // s, whole[-1] // s + 1, whole.step // s) if whole else range(0)


def spread_runs(indices: "Runs", stride: int, offset: int, dilation: int, taps: int, n: int, axis: int) -> "Runs":
    """``{stride i + offset + dilation t : i in indices, 0 <= t < taps}`` cut to ``0 .. n - 1``.

    What a window reaches along one axis: a convolution's inputs (offset ``-padding``) or a transposed
    convolution's outputs. Per progression of ``indices``, a sum of two progressions (see ``_steps``).
    Refused (:class:`ReachError`) when the pieces would be more than ``10 * RUN_LIMIT``.

    >>> sorted(spread_runs(Runs([range(0, 3)]), 2, -1, 1, 3, 6, 0))   # k3 s2 p1, outputs 0..2 read 0..5
    [0, 1, 2, 3, 4, 5]
    """
    parts: list[range] = []
    for r in indices.ranges:
        parts += (_clip(q, 0, n) for q in _steps(stride * r[0] + offset, stride * r.step, len(r), dilation, taps))
        if len(parts) > 10 * RUN_LIMIT:
            raise ReachError(f"the pixels reached along {'height' if axis == 0 else 'width'} form more than "
                             f"{RUN_LIMIT} separate runs")
    return Runs(q for q in parts if q)


class Runs:
    """A set of pixel indices along one axis, kept as disjoint arithmetic progressions (Python ranges).

    What a walk back or forward reaches (:meth:`Layer.reach_back`): a whole map is one ``range(n)``, and
    a stride or a dilation that skips pixels keeps one progression of that step, so the cost follows the
    number of progressions, not of pixels. The set is exact, as a set of indices would be.

    Examples
    --------
    >>> runs = Runs([range(0, 10 ** 9, 2), range(1, 5)])
    >>> len(runs), runs.first, runs.last, 7 in runs, 8 in runs
    (500000002, 0, 999999998, False, True)
    >>> Runs([range(3)]) <= runs, sorted(Runs([range(4, 9, 2), range(1, 3)]))
    (True, [1, 2, 4, 6, 8])
    """

    __slots__ = ("ranges",)

    def __init__(self, parts: Iterable[Any] = ()) -> None:
        ranges = []
        singles = []
        for part in parts:
            if isinstance(part, range):
                if len(part):
                    ranges.append(part if part.step > 0 else part[::-1])
            else:
                singles.append(int(part))
        if singles:
            ranges += _consecutive(sorted(set(singles)))
        self.ranges: Tuple[range, ...] = _normal(ranges)

    @classmethod
    def of(cls, value: Any) -> "Runs":
        """``value`` (Runs, a range or any iterable of ints) as Runs."""
        if isinstance(value, Runs):
            return value
        return cls([value] if isinstance(value, range) else value)

    def __len__(self) -> int:
        return sum(len(r) for r in self.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __iter__(self) -> Iterator[int]:
        return heapq.merge(*self.ranges)

    def __contains__(self, index: object) -> bool:
        return any(index in r for r in self.ranges)

    @property
    def first(self) -> int:
        """The smallest index."""
        return min(r[0] for r in self.ranges)

    @property
    def last(self) -> int:
        """The largest index."""
        return max(r[-1] for r in self.ranges)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Runs):
            return self.ranges == other.ranges or (len(self) == len(other) and self <= other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((len(self), self.first, self.last) if self.ranges else 0)

    def __le__(self, other: "Runs") -> bool:
        """Whether every index is in ``other`` (each progression within one of ``other``'s, or checked one
        by one when short; a long progression spread over several of ``other``'s counts as not within)."""
        other = Runs.of(other)
        for r in self.ranges:
            if any(_within(r, o) for o in other.ranges):
                continue
            if len(r) > 4096 or not all(i in other for i in r):
                return False
        return True

    def __and__(self, other: "Runs") -> "Runs":
        """The indices in both: each pair of progressions meets in one progression.

        >>> sorted(Runs([range(0, 10, 2)]) & Runs([range(3, 9)]))
        [4, 6, 8]
        """
        other = Runs.of(other)
        return Runs(_range_meet(a, b) for a in self.ranges for b in other.ranges)

    def __or__(self, other: "Runs") -> "Runs":
        return Runs(self.ranges + Runs.of(other).ranges)

    def clip(self, n: int) -> "Runs":
        """The indices inside ``0 .. n - 1``."""
        return Runs(_clip(r, 0, n) for r in self.ranges)

    def __repr__(self) -> str:
        return f"Runs({list(self.ranges)!r})"


def _consecutive(indices: Sequence[int]) -> list[range]:
    """Sorted distinct indices as runs of consecutive ones."""
    out: list[range] = []
    for i in indices:
        if out and i == out[-1].stop:
            out[-1] = range(out[-1].start, i + 1)
        else:
            out.append(range(i, i + 1))
    return out


def _normal(ranges: list[range]) -> Tuple[range, ...]:
    """Disjoint progressions for the union of ``ranges``: those of one step and phase joined where they touch,
    those inside another dropped, the rest cut around runs of step 1; overlaps left are split into pixels."""
    if len(ranges) <= 1:
        return tuple(ranges)
    # Join progressions of one step and phase that overlap or touch.
    groups: dict[tuple, list[range]] = {}
    for r in ranges:
        step = r.step if len(r) > 1 else 1
        groups.setdefault((step, r[0] % step), []).append(range(r[0], r[-1] + 1, step))
    joined = []
    for (step, _), group in groups.items():
        group.sort(key=lambda r: r[0])
        current = group[0]
        for r in group[1:]:
            if r[0] <= current[-1] + step:
                current = range(current[0], max(current[-1], r[-1]) + 1, step)
            else:
                joined.append(current)
                current = r
        joined.append(current)
    if len(joined) > RUN_LIMIT:
        raise ReachError(f"the pixels reached along an axis form more than {RUN_LIMIT} separate runs")
    # Runs of step 1 (now disjoint) cut every other progression: what lies inside one is dropped.
    solid = sorted((r for r in joined if r.step == 1), key=lambda r: r[0])
    rest = [r for r in joined if r.step != 1]
    if solid and rest:
        starts = [r[0] for r in solid]
        cut = []
        for r in rest:
            # The runs of step 1 that meet r's span, in order: each cuts off what lies before it.
            for s in solid[max(0, bisect.bisect_right(starts, r[0]) - 1): bisect.bisect_right(starts, r[-1])]:
                before, r = _clip(r, r[0], s[0]), _clip(r, s[-1] + 1, r[-1] + 1)
                if before:
                    cut.append(before)
                if not r:
                    break
            if r:
                cut.append(r)
        rest = cut
    # Drop a progression inside another; any overlap left is split into pixels (few, or refused).
    rest.sort(key=lambda r: (r[0], -len(r)))
    kept: list[range] = []
    active: list[range] = []  # the kept progressions whose span reaches r's start: sorted starts keep it short
    clash = False
    compared = 0
    for r in rest:
        active = [k for k in active if k[-1] >= r[0]]
        compared += len(active)
        if compared > 4 * PIXEL_LIMIT:  # interleaved progressions of many steps: checking them costs too much
            raise ReachError(f"the pixels reached along an axis form {len(rest)} progressions that interleave, "
                             f"more than rfmaps compares pair by pair ({4 * PIXEL_LIMIT} comparisons)")
        if any(_within(r, k) for k in active):
            continue
        clash = clash or any(len(_range_meet(r, k)) for k in active)
        kept.append(r)
        active.append(r)
    if clash:
        total = sum(len(r) for r in kept)
        if total > PIXEL_LIMIT:
            raise ReachError(f"the pixels reached along an axis form overlapping progressions of {total} pixels, "
                             f"more than the {PIXEL_LIMIT} rfmaps follows one by one")
        kept = _consecutive(sorted({i for r in kept for i in r}))  # they lie outside every run of step 1
    return tuple(sorted(solid + kept, key=lambda r: r[0]))


#: A set of input (or output) pixels: the product ``rows x cols`` of two sets of indices.
Box = Tuple[Runs, Runs]


def _rebuild(cls: type, arguments: dict) -> "Layer":
    return cls(**arguments)


# The digest of each layer array, computed once (listed with every cache in rfmaps/engine/maps.py).
# Key: id() of a read-only array (layers never write to their arrays, so the digest stays true);
# the weak reference's callback drops the entry when the array goes, so an id reused by a new
# array never meets an old digest. Bound: one entry per live layer array, about 250 bytes (the
# weak reference, the shape and dtype, a 16-byte digest).
_DIGESTS: dict[int, tuple[weakref.ReferenceType, tuple]] = {}


def array_digest(array: np.ndarray) -> tuple:
    """A short, content-based key for a read-only layer array: shape, dtype and a BLAKE2 digest.

    Layers compare and hash by content; hashing the bytes of 23.6 M weights took
    0.03 s per layer on every call before this was kept (the issue measured 0.32 s
    for 10 layers). The digest is 16 bytes of BLAKE2b, so two different arrays
    share a key only with probability about 2**-128.

    Examples
    --------
    >>> a = frozen_array([1.0, 2.0], "a", (2,))
    >>> array_digest(a) == array_digest(frozen_array([1.0, 2.0], "b", (2,)))
    True
    >>> array_digest(a) == array_digest(frozen_array([1.0, 3.0], "c", (2,)))
    False
    """
    kept = _DIGESTS.get(id(array))
    if kept is not None and kept[0]() is array:
        return kept[1]
    digest = (array.shape, array.dtype.str,
              hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=16).digest())
    if not array.flags.writeable:  # only a read-only array keeps its digest true
        key = id(array)

        def forget(_: object, key: int = key) -> None:
            _DIGESTS.pop(key, None)

        _DIGESTS[key] = (weakref.ref(array, forget), digest)
    return digest


def frozen_array(value: Any, name: str, shape: Tuple[int, ...]) -> Optional[np.ndarray]:
    """A private, read-only float copy of ``value``, checked for type, shape and finiteness.

    Takes anything array-like of real numbers, PyTorch tensors included (a
    tensor that requires grad is detached: the layer only needs its values).
    ``None`` (an optional array left out) stays ``None``.
    """
    if value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, without importing torch
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)  # no copy yet: the one copy is the float conversion below
    except ValueError:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of shape {shape}; "
                         f"its nested lists have different lengths") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be an array of real numbers of shape {shape}, "
                        f"got {type(value).__name__} of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got complex values (dtype {array.dtype}); "
                        f"pass .real explicitly if that is what you mean")
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    # One private, contiguous float copy, so the layer stays immutable (VGG-16's 138 M weights:
    # a copy then a conversion took 8 s in from_torch, mostly the second pass over fresh memory).
    array = np.array(array, dtype=float, order="C")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers, found NaN or infinity")
    array.setflags(write=False)
    return array


class Layer:
    """The protocol of every layer kind (see the module docstring); a value object."""

    __slots__ = ()
    #: Whether the layer has kernels (its own ``weight``, else the default bank).
    has_weights = False

    # -- value semantics -------------------------------------------------------------------
    def _arguments(self) -> dict:
        """The constructor arguments that rebuild this layer."""
        # Every concrete kind is a dataclass; this base is not one, so mypy cannot see it here.
        return {f.name: getattr(self, f.name) for f in fields(cast(Any, self)) if f.init}

    def _key(self) -> tuple:
        """What the layer is: equal keys, equal layers (arrays compared by content)."""
        values = []
        for value in self._arguments().values():
            if isinstance(value, np.ndarray):
                value = array_digest(value)
            values.append(value)
        return (type(self).__name__,) + tuple(values)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._key() == cast(Layer, other)._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple:
        # Rebuilt through the constructor: validated again, and its arrays read-only again.
        return (_rebuild, (type(self), self._arguments()))

    #: Whether every neuron after this layer depends on its whole input map (a global pooling):
    #: tables and explorers say so instead of quoting a field that the padding would cut.
    whole_image = False
    #: Whether the layer makes maps larger by spreading each input pixel (an upsampling, a transposed
    #: convolution): neighbouring neurons are a fraction of a pixel apart, their fields may depend on their
    #: phase (``advance`` states the largest over the phases), and path counts never run it on a crop.
    grows_maps = False
    #: Whether every neuron copies exactly one input neuron (nearest upsampling): its field is that one's.
    copies_inputs = False
    #: Whether rows and columns are wired apart, every path given by axis_sources and axis_targets: then
    #: a path count is a product of counts along each axis (see :mod:`rfmaps.arithmetic.connectivity`).
    separable = False
    #: The arguments that set how far one pixel's paths spread, named when a path count is refused.
    spread_arguments = "stride or kernel_size"

    def neurons_per_pixel(self, axis: int) -> int:
        """How many neurons along ``axis`` the layer makes per input pixel when it grows maps (an
        upsampling's ``scale_factor``, a transposed convolution's ``stride``); 1 for every other kind.

        Neurons that many apart read inputs one pixel apart: the factor by which the layer multiplies
        the period of its neurons' fields.

        Examples
        --------
        >>> from rfmaps import Conv2d, Upsample
        >>> Upsample((2, 3)).neurons_per_pixel(1), Conv2d(1, 1, 3, stride=2).neurons_per_pixel(0)
        (3, 1)
        """
        return 1

    # -- what every kind must answer ------------------------------------------------------
    def output_size(self, input_size: Any) -> Pair:
        """Output ``(h, w)`` for an input of ``input_size`` (an int or a pair).

        Raises
        ------
        ValueError
            If no output is left for that input, naming ``input_size`` and the size it needs.
        """
        raise NotImplementedError(f"{type(self).__name__} does not say its output size")

    def advance(self, geometry: Geometry) -> Geometry:
        """The :class:`~rfmaps._core.geometry.Geometry` after the layer, given the one before (the recurrence)."""
        raise NotImplementedError(f"{type(self).__name__} does not say how it moves the receptive field")

    def advance_sized(self, geometry: Geometry, input_size: Pair) -> Geometry:
        """:meth:`advance` for an input of ``input_size``; the same for every kind whose window does not
        depend on the size (all but a global pooling, whose window is its whole input map)."""
        return self.advance(geometry)

    def pads_for(self, input_size: Pair) -> Tuple[Pair, Pair]:
        """Zero padding ``((top, bottom), (left, right))`` the layer reads around an input of ``input_size``.

        Only the after sides may depend on the size (``ceil_mode`` pooling);
        kinds that slide no window over a padded input have no answer.
        """
        raise NotImplementedError(f"{type(self).__name__} slides no window over a padded input")

    def axis_taps(self, index: int, axis: int) -> Iterable[int]:
        """Input coordinates output ``index`` reads along ``axis``, padding included (outside ``0 .. n-1``)."""
        raise NotImplementedError(f"{type(self).__name__} does not say which inputs an output reads")

    def forward(self, x: np.ndarray, weight: Optional[np.ndarray], out: np.ndarray) -> np.ndarray:
        """The output for ``x`` (C, H, W), written into ``out`` (its exact shape, C-contiguous), and returned.

        ``weight`` is the layer's own weight, or the default bank's when it has none.
        """
        raise NotImplementedError(f"{type(self).__name__} has no forward pass")

    def backward(self, weight: Optional[np.ndarray], x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Gradient with respect to ``x``, given ``grad`` for the output ``y`` (computed from ``x``)."""
        raise NotImplementedError(f"{type(self).__name__} has no backward pass")

    def spread_back(self, grid: np.ndarray, input_size: Pair, tap_values: Optional[Callable] = None) -> np.ndarray:
        """Output values ``grid`` sent back to each input pixel they read, an array of ``input_size``.

        With ``tap_values``, a value per tap weighs each path (for instance the kernel weights).
        """
        raise NotImplementedError(f"{type(self).__name__} does not send values back")

    def spread_forward(self, grid: np.ndarray, input_size: Pair) -> np.ndarray:
        """Input values ``grid`` sent on to each output pixel that reads them (counts of paths forward)."""
        raise NotImplementedError(f"{type(self).__name__} does not send values forward")

    # -- defaults that hold for most kinds --------------------------------------------------
    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        """Channels leaving the layer when ``channels`` arrive; most layers keep them.

        A layer that cannot take ``channels`` raises a ``ValueError`` that
        starts with ``where`` (such as ``'layer 3'``) and says what ``source``
        has.
        """
        return channels

    def channels_before(self) -> Optional[int]:
        """The channels the layer requires arriving (a convolution's ``in_channels``), or None when it
        takes any number (most kinds keep what arrives)."""
        return None

    def channel_sources(self, channel: int) -> frozenset[int]:
        """The input channels output ``channel`` depends on; most layers keep channels apart."""
        return frozenset((channel,))

    def most_paths(self) -> int:
        """An upper bound on the paths the layer adds per input pixel."""
        return 1

    @property
    def uniform(self) -> bool:
        """True when every neuron's field has the same size and neighbours are ``jump``
        apart: then (rf, jump, start) describe every neuron exactly. A transposed
        convolution with a stride, or an upsampling, makes fields depend on the phase."""
        return True

    def axis_sources(self, index: int, axis: int, input_n: Optional[int] = None) -> list[int]:
        """Input indices output ``index`` reads along ``axis``; with ``input_n``, only those inside."""
        return [i for i in self.axis_taps(index, axis) if input_n is None or 0 <= i < input_n]

    def reach_back(self, boxes: Iterable[Sequence[Iterable[int]]], input_size: Pair) -> list[Box]:
        """Input pixels with a path to output pixels: a list of ``(rows, cols)`` products of :class:`Runs`.

        A path goes through a tap that reads the image, never the padding.

        Raises
        ------
        ReachError
            When the pixels would be followed one by one past :data:`PIXEL_LIMIT` (or kept as more
            than :data:`RUN_LIMIT` runs), before that work.
        """
        out = []
        for box in boxes:
            rows, cols = (self.axis_reach_back(Runs.of(box[axis]), axis, input_size[axis]) for axis in (0, 1))
            if rows and cols:
                out.append((rows, cols))
        return out

    def reach_forward(self, boxes: Iterable[Sequence[Iterable[int]]], input_size: Pair) -> list[Box]:
        """Output pixels with a path from given input pixels: a list of ``(rows, cols)`` products of :class:`Runs`."""
        output_size = self.output_size(input_size)
        out = []
        for box in boxes:
            rows, cols = (self.axis_reach_forward(Runs.of(box[axis]), axis, output_size[axis]) for axis in (0, 1))
            if rows and cols:
                out.append((rows, cols))
        return out

    def axis_reach_back(self, indices: Runs, axis: int, input_n: int) -> Runs:
        """The inputs (inside ``0 .. input_n - 1``) that any of the outputs ``indices`` reads along ``axis``.

        This fallback asks each output in turn; kinds with a closed form answer for whole runs at once.
        """
        self._one_by_one(indices, axis)
        return Runs(i for o in indices for i in self.axis_sources(o, axis, input_n))

    def axis_reach_forward(self, indices: Runs, axis: int, output_n: int) -> Runs:
        """The outputs (inside ``0 .. output_n - 1``) that read any of the inputs ``indices`` along ``axis``.

        From each reached input to the outputs that read it: the cost follows the reached pixels, not the
        size of the output (kinds with a closed form answer for whole runs at once).
        """
        self._one_by_one(indices, axis)
        return Runs(o for i in indices for o in self.axis_targets(i, axis, output_n))

    def _one_by_one(self, indices: Runs, axis: int) -> None:
        """Refuse, before the work, to follow more than :data:`PIXEL_LIMIT` pixels one at a time."""
        if len(indices) > PIXEL_LIMIT:
            raise ReachError(f"{len(indices)} pixels along {'height' if axis == 0 else 'width'} would be followed "
                             f"one by one, more than the {PIXEL_LIMIT} rfmaps follows that way")

    def axis_targets(self, index: int, axis: int, output_n: int) -> list[int]:
        """Outputs (inside ``0 .. output_n - 1``) that read input ``index`` along ``axis``.

        This fallback asks every output; kinds that know their wiring answer directly.
        """
        return [o for o in range(output_n) if index in self.axis_sources(o, axis)]


class SlidingWindow(Layer):
    """A window of ``kernel_size`` taps, ``dilation`` apart, moved ``stride`` pixels at a time.

    Subclasses are dataclasses with the fields ``kernel_size``, ``stride``,
    ``padding`` and ``dilation`` (pairs after validation).
    """

    __slots__ = ()
    separable = True
    #: Whether the number of windows is rounded up (PyTorch's pools with ``ceil_mode=True``, a field
    #: of theirs); every other sliding kind rounds down.
    ceil_mode = False
    # Declared for the type checker only: each subclass's dataclass fields hold them (pairs after
    # __post_init__; ``padding`` may also be ``'same'`` in a convolution).
    if TYPE_CHECKING:
        kernel_size: Pair
        stride: Pair
        padding: Pair | str
        dilation: Pair

    @property
    def effective_kernel_size(self) -> Pair:
        """Span of the kernel on its input, holes included: ``d * (k - 1) + 1``."""
        (kh, kw), (dh, dw) = self.kernel_size, self.dilation
        return (dh * (kh - 1) + 1, dw * (kw - 1) + 1)

    @property
    def pads(self) -> Tuple[Pair, Pair]:
        """Zero padding ``((top, bottom), (left, right))`` the layer declares, for every input size.

        Equal on both sides except for ``padding='same'`` with an even span,
        where PyTorch puts the extra row/column after (bottom/right).
        :meth:`pads_for` adds what depends on the input size.
        """
        if isinstance(self.padding, str):  # 'same': validation lets no other string through
            h, w = (((span - 1) // 2, span - 1 - (span - 1) // 2) for span in self.effective_kernel_size)
            return (h, w)
        top, left = self.padding
        return ((top, top), (left, left))

    def pads_for(self, input_size: Pair) -> Tuple[Pair, Pair]:
        """Zero padding read around an input of ``input_size``: :attr:`pads` for every kind but
        ``ceil_mode`` pooling (see the module docstring).

        Examples
        --------
        >>> from rfmaps import Conv2d
        >>> Conv2d(1, 1, 4, padding="same").pads_for((7, 9))
        ((1, 2), (1, 2))
        """
        return self.pads

    # -- arithmetic -------------------------------------------------------------------------
    def output_size(self, input_size: Any) -> Pair:
        """Output ``(h, w)`` for an input of ``input_size``, by PyTorch's formula.

        ``floor((n + p_before + p_after - d * (k - 1) - 1) / s) + 1`` per axis, with the
        padding :meth:`pads_for` reads around that input.

        Raises
        ------
        ValueError
            If the input is smaller than the kernel's span, so no output is left.
        """
        size = pair(input_size, "input_size", 1)
        pads = self.pads_for(size)
        out = []
        for axis, n in enumerate(size):
            (before, after), span = pads[axis], self.effective_kernel_size[axis]
            padded = n + before + after
            if padded < span:
                raise ValueError(
                    f"input_size {size} is too small for {self!r}: the kernel spans "
                    f"{span} pixels but the padded input has only {padded} along "
                    f"{'height' if axis == 0 else 'width'}; input_size must be >= "
                    f"{span - before - after} there")
            out.append((padded - span) // self.stride[axis] + 1)
        return (out[0], out[1])

    def advance(self, geometry: Geometry) -> Geometry:
        """The recurrence: with span ``k' = d (k - 1) + 1`` and padding before ``p``,

        ``r += (k' - 1) j``, ``c += ((k' - 1) / 2 - p) j``, ``j *= s``.
        """
        rf: list[Any] = []  # Fractions after a fractional jump; Geometry turns a whole one into an int
        jump: list[Fraction] = []
        start: list[Fraction] = []
        for axis in (0, 1):
            span, before = self.effective_kernel_size[axis], self.pads[axis][0]
            j = geometry.jump[axis]
            start.append(geometry.start[axis] + (Fraction(span - 1, 2) - before) * j)
            rf.append(geometry.rf[axis] + (span - 1) * j)
            jump.append(j * self.stride[axis])
        return Geometry((rf[0], rf[1]), (jump[0], jump[1]), (start[0], start[1]))

    def axis_taps(self, index: int, axis: int) -> range:
        """Input coordinates output ``index`` reads along ``axis``: ``s i - p + d t`` for each tap t."""
        origin = self.stride[axis] * index - self.pads[axis][0]
        return range(origin, origin + self.dilation[axis] * (self.kernel_size[axis] - 1) + 1,
                     self.dilation[axis])

    def axis_targets(self, index: int, axis: int, output_n: int):
        """Outputs ``o`` with ``s o - p + d t = index`` for a tap ``t``, inside ``0 .. output_n - 1``."""
        s, d, k, before = self.stride[axis], self.dilation[axis], self.kernel_size[axis], self.pads[axis][0]
        out = []
        for t in range(k):
            o, rest = divmod(index + before - d * t, s)
            if rest == 0 and 0 <= o < output_n:
                out.append(o)
        return out

    def axis_reach_back(self, indices: Runs, axis: int, input_n: int) -> Runs:
        """Per progression of outputs ``a, a + e, ...`` (``c`` of them), the inputs ``s (a + e i) - p + d t``:
        a sum of two progressions, one progression when the windows touch or overlap."""
        s, d, k, before = self.stride[axis], self.dilation[axis], self.kernel_size[axis], self.pads[axis][0]
        return spread_runs(indices, s, -before, d, k, input_n, axis)

    def axis_reach_forward(self, indices: Runs, axis: int, output_n: int) -> Runs:
        """Outputs ``o = (x + p - d t) / s`` where that is whole: the progressions ``x + p - d t``, kept at
        the multiples of ``s`` and divided by it."""
        s, d, k, before = self.stride[axis], self.dilation[axis], self.kernel_size[axis], self.pads[axis][0]
        out = []
        for r in indices.ranges:
            for q in _steps(r[0] + before - d * (k - 1), r.step, len(r), d, k):
                whole = _range_meet(q, range(q[0] + (-q[0]) % s, q[-1] + 1, s))
                if len(whole):
                    out.append(_clip(range(whole[0] // s, whole[-1] // s + 1, max(1, whole.step // s)), 0, output_n))
        return Runs(out)

    def most_paths(self) -> int:
        return math.prod(self.kernel_size)

    # -- arrays -----------------------------------------------------------------------------
    def spread_back(self, grid: np.ndarray, input_size: Pair, tap_values: Optional[Callable] = None) -> np.ndarray:
        """:func:`rfmaps._core.sliding.spread_back` for this window."""
        return spread_back(grid, self, input_size, tap_values)

    def spread_forward(self, grid: np.ndarray, input_size: Pair) -> np.ndarray:
        """Each output collects the values of every input pixel its taps read (counts of paths forward)."""
        return gather_sum(grid, self, self.output_size(input_size))

    # -- text -------------------------------------------------------------------------------
    def _geometry_repr(self, defaults: dict) -> str:
        parts = []
        for name in ("kernel_size", "stride", "padding", "dilation"):
            value = getattr(self, name)
            if name != "kernel_size" and value == defaults.get(name):
                continue
            if isinstance(value, tuple) and value[0] == value[1]:
                value = value[0]
            text = repr(value) if isinstance(value, str) else str(value)
            parts.append(f"{name}={text}")
        return ", ".join(parts)


def check_layers(layers: Any) -> Tuple[Layer, ...]:
    """Return ``layers`` as a tuple after checking every item is a layer.

    Raises
    ------
    ValueError
        If ``layers`` is empty or holds something that is not a layer.
    """
    if isinstance(layers, Layer):
        layers = [layers]
    try:
        layers = tuple(layers)
    except TypeError:
        raise ValueError(f"layers must be a list of layers, got {type(layers).__name__}") from None
    if not layers:
        raise ValueError("layers must hold at least one layer, got an empty list")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"layers[{i}] must be a layer (Conv2d, MaxPool2d, AvgPool2d, ReLU, ZeroPad2d, Residual, ...), "
                f"got {type(layer).__name__}")
    return layers


def check_channels(layer: Any) -> None:
    """Normalise ``in_channels``, ``out_channels`` and ``groups`` of a convolution-like
    layer in place; both channel counts must split into ``groups`` equal parts."""
    set_ = object.__setattr__
    for name in ("in_channels", "out_channels", "groups"):
        set_(layer, name, positive_int(getattr(layer, name), name))
    for name in ("in_channels", "out_channels"):
        if getattr(layer, name) % layer.groups:
            raise ValueError(f"{name} must be divisible by groups={layer.groups}, got {getattr(layer, name)}")


def expect_channels(layer: Layer, channels: int, name: str, count: int, where: str, source: str) -> None:
    """Refuse ``channels`` arriving at ``layer`` unless they are the ``count`` its argument ``name`` says.

    The message starts with ``where`` (such as ``'layer 3'``) and says what
    ``source`` has, as :meth:`Layer.channels_after` promises.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> expect_channels(Conv2d(3, 8, 1), 1, "in_channels", 3, "layer 0", "the image")
    Traceback (most recent call last):
    ...
    ValueError: layer 0 (Conv2d(3, 8, kernel_size=1)) expects in_channels=3, but the image has 1 channel
    """
    if channels != count:
        raise ValueError(f"{where} ({layer!r}) expects {name}={count}, but {source} has "
                         f"{channels} channel{'s' if channels != 1 else ''}")


def channels_back(path: Iterable[Layer], channels: Iterable[int]) -> frozenset[int]:
    """Input channels of ``path`` that the output ``channels`` depend on (``channels`` when empty)."""
    kept = frozenset(channels)
    for layer in reversed(tuple(path)):
        kept = frozenset[int]().union(*(layer.channel_sources(c) for c in kept))
    return kept
