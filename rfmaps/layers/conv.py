"""``Conv2d``: the convolution, its arithmetic, and its forward and backward passes.

Convolution is computed as PyTorch computes ``torch.nn.Conv2d``: a
cross-correlation (the kernel is not flipped) with zero padding, stride,
dilation, groups, bias and any number of input and output channels.

Forward pass: :mod:`rfmaps._core.sliding` finds, for each kernel tap, the grid of
input pixels it reads for all output pixels at once. The grids of the first
kernel row (of each row phase, with a stride) are copied into one matrix; the
other kernel rows read the same matrix a few rows further down, so one BLAS
product and a few shifted sums do the whole layer (see :func:`_conv`). Work
goes a block of output rows at a time, so memory stays near the size of the
output.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, Optional

import numpy as np

from .._core.sliding import gather_grid, scratch
from .._core.validation import pair
from .base import SlidingWindow, check_channels, expect_channels, frozen_array

__all__ = ["Conv2d"]

# Elements of one block of rows' window matrix and products together: 2 M floats = 8 MB.
_BLOCK_ELEMENTS = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Conv2d(SlidingWindow):
    """A 2-D convolution (cross-correlation), as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels coming in and feature maps going out (one per kernel).
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same'
        Zero padding on each side. ``'same'`` keeps the output size equal to
        the input size and needs ``stride=1``, as in PyTorch.
    groups : int, default 1
        Split the channels into this many groups; each output channel sees
        only the ``in_channels / groups`` input channels of its group.
        ``groups=in_channels`` is a depthwise convolution. Both channel counts
        must be divisible by it, as in PyTorch.
    weight : array_like, optional, keyword-only
        Shape ``(out_channels, in_channels / groups, kh, kw)``. When omitted
        the engine uses the default bank of :mod:`rfmaps.engine.kernels`.
    bias : array_like, optional, keyword-only
        Shape ``(out_channels,)``; zero when omitted.

    The arguments are PyTorch's, in PyTorch's order: ``Conv2d(3, 8, 3, 1, 0, 1, 1)``
    means the same here and in ``torch.nn``.

    Examples
    --------
    >>> Conv2d(3, 8, kernel_size=5, stride=2)
    Conv2d(3, 8, kernel_size=5, stride=2)
    >>> Conv2d(3, 8, kernel_size=5, stride=2).output_size((32, 32))
    (14, 14)
    >>> Conv2d(8, 8, 3, groups=8).weight_shape  # depthwise: one input channel per kernel
    (8, 1, 3, 3)
    """

    in_channels: int
    out_channels: int
    kernel_size: Any
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1
    groups: int = 1
    _: KW_ONLY
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None

    has_weights = True

    def __post_init__(self):
        set_ = object.__setattr__
        check_channels(self)
        set_(self, "kernel_size", pair(self.kernel_size, "kernel_size", 1))
        set_(self, "stride", pair(self.stride, "stride", 1))
        set_(self, "dilation", pair(self.dilation, "dilation", 1))
        # Compare with strings only when it is one: an array padding would compare element-wise.
        padding = 0 if isinstance(self.padding, str) and self.padding == "valid" else self.padding
        if isinstance(padding, str):
            if padding != "same":
                raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if self.stride != (1, 1):
                raise ValueError(f"padding='same' needs stride=1 (as in PyTorch), got stride={self.stride}")
        else:
            padding = pair(padding, "padding", 0)
        set_(self, "padding", padding)
        set_(self, "weight", frozen_array(self.weight, "weight", self.weight_shape))
        set_(self, "bias", frozen_array(self.bias, "bias", (self.out_channels,)))

    @property
    def weight_shape(self):
        """``(out_channels, in_channels / groups, kh, kw)``, as in PyTorch."""
        return (self.out_channels, self.in_channels // self.groups) + self.kernel_size

    @property
    def parameter_count(self) -> int:
        """Weights and biases: ``out_channels * (in_channels / groups * kh * kw + 1)``.

        Examples
        --------
        >>> Conv2d(32, 32, 3, groups=32).parameter_count, Conv2d(32, 32, 3).parameter_count
        (320, 9248)
        """
        return math.prod(self.weight_shape) + self.out_channels

    def __repr__(self) -> str:
        text = f"Conv2d({self.in_channels}, {self.out_channels}, " + self._geometry_repr(
            {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1)})
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.weight is not None:
            text += ", weight=<given>"
        if self.bias is not None:
            text += ", bias=<given>"
        return text + ")"

    # -- arithmetic -------------------------------------------------------------------------
    def channels_before(self) -> int:
        return self.in_channels

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        expect_channels(self, channels, "in_channels", self.in_channels, where, source)
        return self.out_channels

    def channel_sources(self, channel: int) -> frozenset:
        """The input channels output ``channel`` reads: those of its group."""
        per_in, per_out = self.in_channels // self.groups, self.out_channels // self.groups
        group = channel // per_out
        return frozenset(range(group * per_in, (group + 1) * per_in))

    # -- arrays -----------------------------------------------------------------------------
    def forward(self, x: np.ndarray, weight, out: np.ndarray) -> np.ndarray:
        return _conv(x, weight, self.bias, self, out)

    def backward(self, weight, x, y, grad):
        # Tap (a, b) sends back, to input channel c of group g, the sum over the
        # output channels o of that group of w[o, c, a, b] * grad[o].
        if self.groups == 1:
            return _conv_backward(weight, x.shape[1:], grad, self)
        g = self.groups
        per_out = self.out_channels // g
        grads = grad.reshape((g, per_out) + grad.shape[1:])
        weights = weight.reshape((g, per_out) + weight.shape[1:])

        def tap_values(a, b):
            sent = np.einsum("goc,go...->gc...", weights[:, :, :, a, b], grads)
            return sent.reshape((self.in_channels,) + grad.shape[1:])

        return self.spread_back(grad, x.shape[1:], tap_values)


def _conv(x: np.ndarray, weight: np.ndarray, bias, layer: Conv2d, out: np.ndarray) -> np.ndarray:
    """Convolution as one large matrix product per group and block of rows, then a few shifted sums.

    Output row ``r`` reads, through kernel row ``i``, input row
    ``s_h (r + a_i) + p_i - top``, where ``d_h i = s_h a_i + p_i`` splits the
    kernel row's offset into a *row shift* ``a_i`` and a *row phase*
    ``p_i < s_h`` (stride ``s_h``, dilation ``d_h``). The window matrix holds,
    for each output pixel (and a few extra rows), the ``kw`` taps of every row
    phase at shift 0: ``phases * in_channels * kw`` rows. Kernel row ``i`` sees
    the same matrix ``a_i`` rows further down. So one product with the weights
    stacked by shift (kernel row ``i`` in block ``(a_i, p_i)``, zeros where no
    kernel row falls) gives each shift's contribution, and the convolution is
    the sum of those, each read ``a_i`` rows on. A full window matrix (im2col)
    would copy every input pixel once per kernel tap; this copies ``kh / s_h``
    times less and gives BLAS a taller, better shaped product.

    With groups, each group of channels gets its own window matrix and product.
    The bias rides along in the product, as one more weight column that
    meets a row of ones. Padding is never built:
    :func:`rfmaps._core.sliding.gather_grid` writes zeros where a grid leaves the input.

    A 1 x 1 convolution with stride 1, no padding, bias or groups reads the input itself as
    its window matrix: one product, no copy (36 of ResNet-50's 53 convolutions).
    """
    if (layer.kernel_size == (1, 1) and layer.stride == (1, 1) and layer.groups == 1 and bias is None
            and not any(layer.pads[0] + layer.pads[1]) and out.flags.c_contiguous):
        matrix = _kernel_matrix(weight, bias, layer, x.dtype)[2][0]  # (out_channels, in_channels)
        np.matmul(matrix, x.reshape(len(x), -1), out=out.reshape(len(out), -1))
        return out
    groups, kw = layer.groups, layer.kernel_size[1]
    channels, outs = len(x) // groups, len(weight) // groups
    (sh, sw), dw = layer.stride, layer.dilation[1]
    (top, _), (left, _) = layer.pads
    oh, ow = out.shape[1:]
    phases, shifts, matrices = _kernel_matrix(weight, bias, layer, x.dtype)
    taps = len(phases) * channels * kw  # rows of the window matrix, before the row of ones
    ones = bias is not None
    reach = shifts[-1]  # extra rows a shared window matrix spans
    per_row = (taps + ones + len(shifts) * outs) * ow
    rows = min(oh, _BLOCK_ELEMENTS // per_row - reach)
    if rows < max(1, reach):
        # A large dilation makes the shifts far apart (d = 120: rows 0, 120, 240): a window
        # matrix shared by all shifts would copy mostly rows no output of the block reads.
        # Each shift then gets its own window matrix of exactly the rows it reads.
        return _conv_per_shift(x, layer, phases, shifts, matrices, ones, out)
    for g in range(groups):
        x_g, out_g = x[g * channels: (g + 1) * channels], out[g * outs: (g + 1) * outs]
        for r0 in range(0, oh, rows):  # blocks of output rows bound the memory
            r1 = min(oh, r0 + rows)
            n, span = (r1 - r0) * ow, (r1 - r0 + reach) * ow
            windows = scratch("windows", (taps + ones, span), x.dtype)
            _gather_windows(x_g, windows, phases, sh * r0 - top, ow, layer, ones)
            products = scratch("products", (len(shifts), outs, span), x.dtype)
            np.matmul(matrices[g], windows, out=products.reshape(len(shifts) * outs, span))
            parts = [product[:, shift * ow: shift * ow + n] for product, shift in zip(products, shifts)]
            total = out_g[:, r0:r1].reshape(outs, n)  # a view: the sum lands in the output
            if len(parts) == 1:
                total[...] = parts[0]
            else:
                np.add(parts[0], parts[1], out=total)
                for part in parts[2:]:
                    total += part
    return out


def _conv_backward(weight: np.ndarray, input_size, grad: np.ndarray, layer: Conv2d) -> np.ndarray:
    """The input gradient of a convolution without groups: one BLAS product for all taps, then
    one strided sum per tap.

    Row ``(c, a, b)`` of the transposed weight matrix times the output gradient is what tap
    ``(a, b)`` sends back to input channel ``c`` from every output pixel: the product of all
    taps is as much arithmetic as one product per tap, but one tall product runs near the
    speed of BLAS where 9 (or 49) thin ones did not (a 3 x 3 convolution of 512 channels on
    7 x 7 maps took 34 ms, against 11 ms forward). The transposed matrix is a view of the
    weights (BLAS reads it transposed): no copy. Work goes a block of input channels at a
    time, so the products stay near the size of the gradient.
    """
    outs, channels, kh, kw = weight.shape
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    (top, bottom), (left, right) = layer.pads
    h, w = input_size
    dtype = np.result_type(weight.dtype, grad.dtype)
    # Only the output pixels with a gradient send anything back: the gradient of one neuron
    # (an effective field) starts as one pixel and grows layer by layer, so the deep layers
    # work on the box around it (a sixth of ResNet-50's backward pass), never on its zeros.
    (r0, r1), (q0, q1) = _nonzero_box(grad)
    if r0 == r1:
        return np.zeros((channels, h, w), dtype)
    oh, ow = r1 - r0, q1 - q0
    taps, n = kh * kw, oh * ow
    by_row = weight.reshape(outs, channels * taps).astype(dtype, copy=False)  # columns (c, a, b)
    sent = grad[:, r0:r1, q0:q1].reshape(outs, n).astype(dtype, copy=False)
    if taps == 1 and (sh, sw) == (1, 1) and not (top or bottom or left or right):
        if (oh, ow) == (h, w):
            return (by_row.T @ sent).reshape(channels, h, w)  # a 1 x 1 convolution sends back in place
        result = np.zeros((channels, h, w), dtype)
        result[:, r0:r1, q0:q1] = (by_row.T @ sent).reshape(channels, oh, ow)
        return result
    padded = np.zeros((channels, h + top + bottom, w + left + right), dtype)
    block = max(1, min(channels, _BLOCK_ELEMENTS // (taps * n)))
    for c0 in range(0, channels, block):  # blocks of input channels bound the memory
        c1 = min(channels, c0 + block)
        products = scratch("products", ((c1 - c0) * taps, n), dtype)
        np.matmul(by_row[:, c0 * taps: c1 * taps].T, sent, out=products)
        products5 = products.reshape(c1 - c0, kh, kw, oh, ow)
        for a in range(kh):
            y = a * dh + sh * r0
            for b in range(kw):
                x = b * dw + sw * q0
                padded[c0:c1, y: y + sh * (oh - 1) + 1: sh, x: x + sw * (ow - 1) + 1: sw] += products5[:, a, b]
    return padded[:, top: top + h, left: left + w]


def _nonzero_box(grad: np.ndarray):
    """``((r0, r1), (c0, c1))``: the rows and columns of ``grad`` (C, H, W) holding a non-zero value,
    as half-open ranges; ``r0 == r1`` when it is zero everywhere. The whole map when the box
    would cover most of it (finding it costs a pass over the gradient, cropping a copy).

    Examples
    --------
    >>> g = np.zeros((2, 5, 6)); g[1, 2, 3] = 1.0; g[0, 3, 1] = -2.0
    >>> _nonzero_box(g)
    ((2, 4), (1, 4))
    """
    rows = np.flatnonzero(grad.any(axis=(0, 2)))
    if not rows.size:
        return (0, 0), (0, 0)
    cols = np.flatnonzero(grad.any(axis=(0, 1)))
    (r0, r1), (c0, c1) = (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)
    if (r1 - r0) * (c1 - c0) > 0.8 * grad.shape[1] * grad.shape[2]:
        return (0, grad.shape[1]), (0, grad.shape[2])
    return (r0, r1), (c0, c1)


def _gather_windows(x_g, windows, phases, first_row: int, ow: int, layer: Conv2d, ones: bool) -> None:
    """Fill a window matrix: for each row phase and kernel column, the grid of input pixels
    whose first row is ``first_row + phase``, ``ow`` pixels wide (zeros where it leaves the input)."""
    kw, (sh, sw), dw = layer.kernel_size[1], layer.stride, layer.dilation[1]
    left = layer.pads[1][0]
    taps = len(phases) * len(x_g) * kw
    grids = windows[:taps].reshape(len(phases), len(x_g), kw, -1, ow)
    for p, phase in enumerate(phases):
        for j in range(kw):
            gather_grid(x_g, grids[p, :, j], (first_row + phase, dw * j - left), (sh, sw), 0.0)
    if ones:
        windows[taps] = 1


def _conv_per_shift(x, layer: Conv2d, phases, shifts, matrices, ones: bool, out: np.ndarray) -> np.ndarray:
    """:func:`_conv` for shifts far apart: per shift, a window matrix of only the rows it reads."""
    groups, kw = layer.groups, layer.kernel_size[1]
    channels, outs = len(x) // groups, len(out) // groups
    sh = layer.stride[0]
    top = layer.pads[0][0]
    oh, ow = out.shape[1:]
    taps = len(phases) * channels * kw
    columns = taps + ones
    rows = max(1, min(oh, _BLOCK_ELEMENTS // ((columns + outs) * ow)))
    for g in range(groups):
        x_g, out_g = x[g * channels: (g + 1) * channels], out[g * outs: (g + 1) * outs]
        # Row block k of the stacked matrix holds the kernel rows at shift k; the bias
        # column is non-zero at shift 0 only, so every block may meet the row of ones.
        by_shift = matrices[g].reshape(len(shifts), outs, columns)
        for r0 in range(0, oh, rows):
            r1 = min(oh, r0 + rows)
            n = (r1 - r0) * ow
            total = out_g[:, r0:r1].reshape(outs, n)
            windows = scratch("windows", (columns, n), x.dtype)
            product = scratch("products", (outs, n), x.dtype)
            for k, shift in enumerate(shifts):
                _gather_windows(x_g, windows, phases, sh * (r0 + shift) - top, ow, layer, ones)
                np.matmul(by_shift[k], windows, out=product if k else total)
                if k:
                    total += product
    return out


# Kernel matrices of read-only weights, kept between calls (listed with every cache in
# rfmaps/engine/maps.py): (id(weight), id(bias), s_h, d_h, groups, dtype) -> (weight, bias, result).
# The ids name the arrays (the entry holds both, so no id is reused while it lives); the row stride
# and dilation decide the row phases and shifts; groups split one array into other blocks; dtype is
# the product's. Bound: 64 entries, each about its weight's size in that dtype times the row phases
# (ResNet-50 in float32: 98 MB for its 53 convolutions, measured).
_KERNEL_MATRICES: dict = {}


def _kernel_matrix(weight, bias, layer: Conv2d, dtype):
    """Row phases, row shifts and, per group, the stacked weight matrix of :func:`_conv`.

    Row ``(k, o)`` of a group's matrix is output channel ``o`` at the ``k``-th
    shift; columns ``(phase, channel, kernel column)`` match the window
    matrix, and one more column holds the bias (at shift 0 only, so it is
    added once).

    Kept for the next call when weight and bias are read-only, as the layers'
    own arrays and the default bank are: explorers redraw the same layers
    again and again.

    Examples
    --------
    A 3 x 1 kernel with weights 1, 2, 3 and stride 2: rows 0 and 2 are in
    phase 0 (shifts 0 and 1), row 1 in phase 1 (shift 0).

    >>> layer = Conv2d(1, 1, (3, 1), stride=2)
    >>> phases, shifts, matrices = _kernel_matrix(np.array([[[[1.0], [2.0], [3.0]]]]), None, layer, float)
    >>> phases, shifts, matrices[0].tolist()
    ([0, 1], [0, 1], [[1.0, 2.0], [3.0, 0.0]])
    """
    (kh, _), sh, dh, groups = layer.kernel_size, layer.stride[0], layer.dilation[0], layer.groups
    frozen = not weight.flags.writeable and (bias is None or not bias.flags.writeable)
    key = (id(weight), id(bias), sh, dh, groups, np.dtype(dtype))  # kh: the weight's own shape
    kept = _KERNEL_MATRICES.get(key)
    if frozen and kept is not None and kept[0] is weight and kept[1] is bias:
        return kept[2]
    outs, channels, _, kw = weight.shape
    outs //= groups
    phases = sorted({(dh * i) % sh for i in range(kh)})
    shifts = sorted({(dh * i) // sh for i in range(kh)})
    taps = len(phases) * channels * kw
    matrices = np.zeros((groups, len(shifts), outs, taps + (bias is not None)), dtype)
    blocks = matrices[..., :taps].reshape(groups, len(shifts), outs, len(phases), channels * kw)
    for i in range(kh):
        blocks[:, shifts.index((dh * i) // sh), :, phases.index((dh * i) % sh)] = \
            weight[:, :, i, :].reshape(groups, outs, channels * kw)
    if bias is not None:
        matrices[:, 0, :, taps] = bias.reshape(groups, outs)
    matrices = matrices.reshape(groups, len(shifts) * outs, -1)
    matrices.setflags(write=False)  # may be kept and shared between calls
    result = phases, shifts, matrices
    if frozen:
        if len(_KERNEL_MATRICES) >= 64:
            _KERNEL_MATRICES.clear()
        _KERNEL_MATRICES[key] = (weight, bias, result)  # holding weight and bias keeps their ids unique
    return result
