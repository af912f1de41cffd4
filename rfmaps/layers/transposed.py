"""``ConvTranspose2d``: the transposed convolution, which grows maps again.

Input pixel ``i`` sends its value, weighted by kernel tap ``t``, to output
``s i - p + d t`` (stride s, padding p, dilation d): the convolution's wiring
read the other way. So an output neuron ``o`` reads the inputs
``i = (o + p - d t) / s`` for the taps ``t`` where that is a whole number:
with a stride, which taps (and how many) depend on the neuron's *phase*
``(o + p) mod s``. Neighbouring outputs are ``1 / s`` input pixels apart,
a fractional jump. Output size, as in PyTorch:
``(n - 1) s - 2 p + d (k - 1) + output_padding + 1``.

The forward pass is the convolution's :func:`rfmaps._core.sliding.spread_back`
with the weights as tap values; the backward pass is an ordinary convolution
with the same weights (:class:`~rfmaps.layers.conv.Conv2d`).

References
----------
V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep
learning", 2016, section 4. https://arxiv.org/abs/1603.07285
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from fractions import Fraction
from typing import Any, NamedTuple, Optional

import numpy as np

from .._core.geometry import Geometry
from .._core.sliding import gather_grid, spread_back
from .._core.validation import pair
from .base import RUN_LIMIT, Layer, ReachError, Runs, _clip, _quotients, _steps, check_channels, expect_channels, \
    frozen_array, spread_runs
from .conv import Conv2d, _conv

__all__ = ["ConvTranspose2d"]


class _Window(NamedTuple):
    """The sliding window whose wiring the transposed convolution reverses."""

    kernel_size: tuple
    stride: tuple
    dilation: tuple
    pads: tuple

    def pads_for(self, input_size) -> tuple:
        """The padding around the convolution's input, the same for every size (what
        :mod:`rfmaps._core.sliding` asks of a window)."""
        return self.pads


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ConvTranspose2d(Layer):
    """A 2-D transposed convolution, as ``torch.nn.ConvTranspose2d``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or (int, int)
    padding : int or (int, int)
        Rows and columns cut from each side of the full output.
    output_padding : int or (int, int)
        Rows and columns added after (bottom, right), to pick between the
        input sizes a strided convolution maps to the same size. Must be
        smaller than the stride or the dilation, as in PyTorch.
    groups : int, default 1
    weight : array_like, optional, keyword-only
        Shape ``(in_channels, out_channels / groups, kh, kw)`` (PyTorch's
        layout); the default bank of :mod:`rfmaps.engine.kernels` when omitted.
    bias : array_like, optional, keyword-only
        Shape ``(out_channels,)``; zero when omitted.

    Examples
    --------
    >>> up = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> up.output_size((16, 16))
    (32, 32)
    >>> up.weight_shape
    (8, 4, 3, 3)
    """

    in_channels: int
    out_channels: int
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    output_padding: Any = 0
    groups: int = 1
    dilation: Any = 1
    _: KW_ONLY
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None

    has_weights = True
    grows_maps = True
    separable = True

    def __post_init__(self):
        set_ = object.__setattr__
        check_channels(self)
        set_(self, "kernel_size", pair(self.kernel_size, "kernel_size", 1))
        set_(self, "stride", pair(self.stride, "stride", 1))
        set_(self, "padding", pair(self.padding, "padding", 0))
        set_(self, "output_padding", pair(self.output_padding, "output_padding", 0))
        set_(self, "dilation", pair(self.dilation, "dilation", 1))
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op >= max(s, d):
                raise ValueError(f"output_padding must be smaller than stride or dilation (< {max(s, d)}), "
                                 f"got {op}")
        set_(self, "weight", frozen_array(self.weight, "weight", self.weight_shape))
        set_(self, "bias", frozen_array(self.bias, "bias", (self.out_channels,)))

    @property
    def weight_shape(self):
        """``(in_channels, out_channels / groups, kh, kw)``, as in PyTorch."""
        return (self.in_channels, self.out_channels // self.groups) + self.kernel_size

    @property
    def parameter_count(self) -> int:
        return math.prod(self.weight_shape) + self.out_channels

    @property
    def uniform(self) -> bool:
        return self.stride == (1, 1)

    def __repr__(self) -> str:
        parts = [str(self.in_channels), str(self.out_channels)]
        for name, default in (("kernel_size", None), ("stride", (1, 1)), ("padding", (0, 0)),
                              ("output_padding", (0, 0)), ("dilation", (1, 1))):
            value = getattr(self, name)
            if value != default:
                parts.append(f"{name}={value[0] if value[0] == value[1] else value}")
        if self.groups != 1:
            parts.append(f"groups={self.groups}")
        if self.weight is not None:
            parts.append("weight=<given>")
        if self.bias is not None:
            parts.append("bias=<given>")
        return "ConvTranspose2d(" + ", ".join(parts) + ")"

    @property
    def _window(self) -> _Window:
        return _Window(self.kernel_size, self.stride, self.dilation, tuple((p, p) for p in self.padding))

    # -- arithmetic -------------------------------------------------------------------------
    def neurons_per_pixel(self, axis: int) -> int:
        return self.stride[axis]

    def output_size(self, input_size):
        """``(n - 1) s - 2 p + d (k - 1) + output_padding + 1`` per axis, as in PyTorch."""
        size = pair(input_size, "input_size", 1)
        out = []
        for axis, n in enumerate(size):
            m = ((n - 1) * self.stride[axis] - 2 * self.padding[axis]
                 + self.dilation[axis] * (self.kernel_size[axis] - 1) + self.output_padding[axis] + 1)
            if m < 1:
                raise ValueError(f"input_size {size} is too small for {self!r}: the padding cuts the whole "
                                 f"output along {'height' if axis == 0 else 'width'}")
            out.append(m)
        return tuple(out)

    def axis_sources(self, index: int, axis: int, input_n=None):
        """Inputs ``(o + p - d t) / s`` for the taps ``t`` where that is whole."""
        s, p, d, k = self.stride[axis], self.padding[axis], self.dilation[axis], self.kernel_size[axis]
        out: list[int] = []
        # Only the taps t with d t = o + p (mod s) read a whole input: with g = gcd(d, s) they exist
        # when g divides o + p, and then form one residue class modulo s / g. Walking that class
        # (not every tap, nor every phase) keeps a huge stride as cheap as a small one.
        g = math.gcd(d, s)
        if (index + p) % g:
            return out
        period = s // g
        first = ((index + p) // g * pow(d // g, -1, period)) % period if period > 1 else 0
        for t in range(first, k, period):
            offset = index + p - d * t
            if input_n is None or 0 <= offset // s < input_n:
                out.append(offset // s)
        return out

    def axis_targets(self, index: int, axis: int, output_n: int):
        """Outputs ``s i - p + d t`` that input ``index`` is sent to, inside ``0 .. output_n - 1``."""
        s, p, d, k = self.stride[axis], self.padding[axis], self.dilation[axis], self.kernel_size[axis]
        return [o for o in range(s * index - p, s * index - p + d * (k - 1) + 1, d) if 0 <= o < output_n]

    def axis_reach_back(self, indices: Runs, axis: int, input_n: int) -> Runs:
        """Inputs ``i = (o + p - d t) / s`` where that is whole: per progression of outputs, the progressions
        ``o + p - d t`` (a convolution's taps), kept at the multiples of ``s`` and divided by it."""
        s, p, d, k = self.stride[axis], self.padding[axis], self.dilation[axis], self.kernel_size[axis]
        parts: list[range] = []
        for r in indices.ranges:
            for q in _steps(r[0] + p - d * (k - 1), r.step, len(r), d, k):
                whole = _quotients(q, s)
                if whole:
                    parts.append(_clip(whole, 0, input_n))
            if len(parts) > 10 * RUN_LIMIT:
                raise ReachError(f"the pixels reached along {'height' if axis == 0 else 'width'} form more than "
                                 f"{RUN_LIMIT} separate runs")
        return Runs(q for q in parts if q)

    def axis_reach_forward(self, indices: Runs, axis: int, output_n: int) -> Runs:
        """Outputs ``s i - p + d t``: per progression of inputs, a sum of two progressions (a convolution's
        reach back), cut to the map, so a path never goes through the cropped padding."""
        s, p, d, k = self.stride[axis], self.padding[axis], self.dilation[axis], self.kernel_size[axis]
        return spread_runs(indices, s, -p, d, k, output_n, axis)

    def advance(self, geometry: Geometry) -> Geometry:
        """Jump ``j / s``; with stride 1 the field grows as a convolution's (``(k' - 1) j``).

        With a stride the field of a neuron depends on its phase: the ``rf``
        here is the largest over the phases, and :func:`rfmaps.receptive_fields`
        replaces rf and start by the exact values of the whole stack.
        """
        rf, jump, start = [], [], []
        for axis in (0, 1):
            s, p, d, k = self.stride[axis], self.padding[axis], self.dilation[axis], self.kernel_size[axis]
            j = geometry.jump[axis]
            # The taps one phase reads are t0, t0 + s/g, ... (g = gcd(d, s)); two of them s/g apart read
            # inputs d/g apart. The phase with t0 = 0 (it always exists) holds the most: floor((k-1) g/s).
            g = math.gcd(d, s)
            rf.append(geometry.rf[axis] + ((k - 1) * g // s) * (d // g) * j)
            start.append(geometry.start[axis] + (Fraction(p) - Fraction(d * (k - 1), 2)) * j / s)
            jump.append(j / s)
        return Geometry(tuple(rf), tuple(jump), tuple(start))

    def channels_before(self) -> int:
        return self.in_channels

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        expect_channels(self, channels, "in_channels", self.in_channels, where, source)
        return self.out_channels

    def channel_sources(self, channel: int) -> frozenset:
        per_in, per_out = self.in_channels // self.groups, self.out_channels // self.groups
        group = channel // per_out
        return frozenset(range(group * per_in, (group + 1) * per_in))

    def most_paths(self) -> int:
        return math.prod(self.kernel_size)

    # -- arrays -----------------------------------------------------------------------------
    def forward(self, x, weight, out):
        # Input pixel i adds w[:, :, a, b] x[:, i] at output s i - p + d (a, b): the
        # convolution's spread_back, with each tap sending its weighted channels.
        g = self.groups
        per_in = self.in_channels // g
        xs = x.reshape((g, per_in) + x.shape[1:])
        weights = weight.reshape((g, per_in) + weight.shape[1:]).astype(x.dtype, copy=False)

        def tap_values(a, b):
            sent = np.einsum("gco,gc...->go...", weights[:, :, :, a, b], xs)
            return sent.reshape((self.out_channels,) + x.shape[1:])

        out[...] = spread_back(x, self._window, out.shape[1:], tap_values)
        if self.bias is not None:
            out += self.bias.astype(out.dtype)[:, None, None]
        return out

    def backward(self, weight, x, y, grad):
        # The gradient of a transposed convolution is the convolution with the same weights.
        conv = Conv2d(self.out_channels, self.in_channels, self.kernel_size, self.stride, self.padding,
                      self.dilation, self.groups)
        size = conv.output_size(grad.shape[1:])
        full = _conv(grad, weight, None, conv, np.empty((self.in_channels,) + size, grad.dtype))
        return full[:, : x.shape[1], : x.shape[2]]  # output_padding >= s adds rows no input reaches

    def spread_forward(self, grid, input_size):
        """Input pixel ``i`` sends its count to every output ``s i - p + d t``."""
        return spread_back(grid, self._window, self.output_size(input_size))

    def spread_back(self, grid, input_size, tap_values=None):
        """Input pixel ``i`` collects every output ``s i - p + d t`` it was sent to (counts add)."""
        if tap_values is not None:
            raise TypeError("ConvTranspose2d.spread_back sends counts only; gradients use backward")
        flat = grid.ndim == 2
        grid = grid[None] if flat else grid
        total = np.zeros(grid.shape[:-2] + tuple(input_size), grid.dtype)
        part = np.empty_like(total)
        (sh, sw), (dh, dw), (ph, pw) = self.stride, self.dilation, self.padding
        for a in range(self.kernel_size[0]):
            for b in range(self.kernel_size[1]):
                total += gather_grid(grid, part, (dh * a - ph, dw * b - pw), (sh, sw), 0)
        return total[0] if flat else total
