"""``MaxPool2d`` and ``AvgPool2d``: windows that combine, with no weights.

Pooling follows ``torch.nn.MaxPool2d`` (padding never wins) and
``torch.nn.AvgPool2d`` (by default padding counts as zeros in the mean,
PyTorch's ``count_include_pad=True``). Both combine the views of
:func:`rfmaps._core.sliding.tap_views` one tap at a time.

``ceil_mode=True`` rounds the number of windows up, with PyTorch's rule: one
more window when the stride leaves input behind, but never one that starts
in the padding after the input. That last window may hang over the end: the
overhang reads nothing (max pooling) and does not count in the mean (average
pooling; with ``count_include_pad=False`` the padding does not count
either). How far it hangs over depends on the input size (0 to ``s - 1``
pixels), so ``pads`` keeps the declared padding and ``pads_for(size)`` adds
that size's overhang to the after sides (see :mod:`rfmaps.layers.base`):
output sizes, the padded buffers of :mod:`rfmaps._core.sliding` and the
check of a student's answer all read it from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Tuple

import numpy as np

from .._core.sliding import tap_views
from .._core.validation import Pair, pair, positive_int
from .base import SlidingWindow

__all__ = ["MaxPool2d", "AvgPool2d"]


def _check_pool(layer) -> None:
    set_ = object.__setattr__
    if not isinstance(layer.ceil_mode, (bool, np.bool_)):
        raise TypeError(f"ceil_mode must be True or False, got {layer.ceil_mode!r}")
    set_(layer, "ceil_mode", bool(layer.ceil_mode))
    set_(layer, "kernel_size", pair(layer.kernel_size, "kernel_size", 1))
    set_(layer, "stride", layer.kernel_size if layer.stride is None else pair(layer.stride, "stride", 1))
    set_(layer, "padding", pair(layer.padding, "padding", 0))
    set_(layer, "dilation", pair(layer.dilation, "dilation", 1))
    # PyTorch refuses pooling padding above half the kernel: such a window could
    # cover nothing but padding.
    for p, k in zip(layer.padding, layer.kernel_size):
        if p > k // 2:
            raise ValueError(f"padding must be <= kernel_size // 2 = {k // 2} for pooling, got {p}")


class _Pool(SlidingWindow):
    """What both poolings share: ``ceil_mode``'s output size and the overhang of its last window."""

    __slots__ = ()
    ceil_mode: bool  # a dataclass field of each pooling
    if TYPE_CHECKING:
        padding: Pair  # a pool's padding is always a pair (no 'same')

    def _count(self, n: int, axis: int) -> int:
        """Windows along ``axis`` on an ``n``-pixel input, PyTorch's rule (below 1: none fits)."""
        p, s, span = self.padding[axis], self.stride[axis], self.effective_kernel_size[axis]
        count = (n + 2 * p - span + (s - 1 if self.ceil_mode else 0)) // s + 1
        if self.ceil_mode and count > 1 and (count - 1) * s >= n + p:
            count -= 1  # that window would start in the padding after the input: PyTorch drops it
        return count

    def pads_for(self, input_size: Pair) -> Tuple[Pair, Pair]:
        """The declared padding, and with ``ceil_mode`` the overhang of the last window after the input.

        The overhang is what the last window reads past the padded input:
        ``(o - 1) s + d (k - 1) + 1 - (n + 2p)`` pixels when positive, so the
        padded input holds every window exactly and
        ``floor((n + before + after - span) / s) + 1`` is the output size.

        Examples
        --------
        >>> pool = MaxPool2d(3, 2, ceil_mode=True)
        >>> pool.pads, pool.pads_for((8, 9))  # 4 windows on 8 rows reach row 8; 4 on 9 columns fit
        (((0, 0), (0, 0)), ((0, 1), (0, 0)))
        """
        if not self.ceil_mode:
            return self.pads
        size = pair(input_size, "input_size", 1)
        counts = self.output_size(size)  # refuses, naming the size, an input with no window
        out = []
        for axis, n in enumerate(size):
            p, s, span = self.padding[axis], self.stride[axis], self.effective_kernel_size[axis]
            out.append((p, p + max(0, (counts[axis] - 1) * s + span - (n + 2 * p))))
        return (out[0], out[1])

    def output_size(self, input_size):
        """PyTorch's pooling size: ``(n + 2p - d (k - 1) - 1) / s + 1`` rounded down, or up with ``ceil_mode``.

        With ``ceil_mode`` the last window must start inside the input or the
        padding before it, else it is dropped.

        Examples
        --------
        >>> MaxPool2d(3, 2).output_size(8), MaxPool2d(3, 2, ceil_mode=True).output_size(8)
        ((3, 3), (4, 4))
        >>> MaxPool2d(2, 2, padding=1, ceil_mode=True).output_size(3)  # a 3rd window would start after the input
        (2, 2)
        """
        size = pair(input_size, "input_size", 1)
        out = []
        for axis, n in enumerate(size):
            count = self._count(n, axis)
            if count < 1:
                p, s, span = self.padding[axis], self.stride[axis], self.effective_kernel_size[axis]
                raise ValueError(
                    f"input_size {size} is too small for {self!r}: the window spans {span} pixels but the padded "
                    f"input has only {n + 2 * p} along {'height' if axis == 0 else 'width'}; input_size must be "
                    f">= {span - 2 * p - (s - 1 if self.ceil_mode else 0)} there")
            out.append(count)
        return (out[0], out[1])

    def _extras_repr(self) -> str:
        return ", ceil_mode=True" if self.ceil_mode else ""


def _pool(x: np.ndarray, layer, combine, fill: float, out: np.ndarray) -> np.ndarray:
    """Max (``np.maximum``) or sum (``np.add``) over each window, one tap at a time."""
    views = tap_views(x, layer, fill)
    out[...] = views[0]
    for view in views[1:]:
        combine(out, view, out=out)
    return out


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MaxPool2d(_Pool):
    """Max pooling, as ``torch.nn.MaxPool2d``: stride defaults to kernel_size.

    Examples
    --------
    >>> MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2)
    >>> MaxPool2d(2).output_size((7, 7))
    (3, 3)
    """

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    dilation: Any = 1
    ceil_mode: bool = False

    def __post_init__(self):
        _check_pool(self)

    def __repr__(self) -> str:
        return "MaxPool2d(" + self._geometry_repr({"padding": (0, 0), "dilation": (1, 1)}) + self._extras_repr() + ")"

    def forward(self, x, weight, out):
        return _pool(x, self, np.maximum, -np.inf, out)  # padding is -inf: it never wins

    def backward(self, weight, x, y, grad):
        # The whole gradient goes to the first largest input of each window
        # (taps in row-major order), as PyTorch does.
        winner = np.argmax(tap_views(x, self, -np.inf), axis=0)
        kw = self.kernel_size[1]
        return self.spread_back(grad, x.shape[1:], lambda a, b: grad * (winner == a * kw + b))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AvgPool2d(_Pool):
    """Average pooling, as ``torch.nn.AvgPool2d``, with its arguments in its order.

    By default zero padding counts in the mean (``count_include_pad=True``);
    with ``count_include_pad=False`` a window's mean is over its input pixels
    only. ``divisor_override`` divides every window's sum by that number.

    Examples
    --------
    >>> AvgPool2d(3, stride=1, padding=1)
    AvgPool2d(kernel_size=3, stride=1, padding=1)
    >>> AvgPool2d(2, ceil_mode=True, count_include_pad=False).divisors((3, 3)).tolist()
    [[4.0, 2.0], [2.0, 1.0]]
    """

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    ceil_mode: bool = False
    count_include_pad: bool = True
    divisor_override: Any = None
    dilation: Any = field(default=(1, 1), init=False)

    def __post_init__(self):
        _check_pool(self)
        if not isinstance(self.count_include_pad, (bool, np.bool_)):
            raise TypeError(f"count_include_pad must be True or False, got {self.count_include_pad!r}")
        object.__setattr__(self, "count_include_pad", bool(self.count_include_pad))
        if self.divisor_override is not None:
            object.__setattr__(self, "divisor_override", positive_int(self.divisor_override, "divisor_override"))

    def __repr__(self) -> str:
        extras = self._extras_repr() + ("" if self.count_include_pad else ", count_include_pad=False") + (
            "" if self.divisor_override is None else f", divisor_override={self.divisor_override}")
        return "AvgPool2d(" + self._geometry_repr({"padding": (0, 0), "dilation": (1, 1)}) + extras + ")"

    def divisors(self, input_size) -> np.ndarray:
        """What each output's window sum is divided by, shaped like the output (PyTorch's rules).

        A window counts the padding before and after the input, never the
        overhang of ``ceil_mode``; with ``count_include_pad=False`` it
        counts its input pixels only.
        """
        counts = []
        for axis, (n, o) in enumerate(zip(input_size, self.output_size(input_size))):
            p, s, k = self.padding[axis], self.stride[axis], self.kernel_size[axis]
            begin = np.arange(o) * s - p
            if self.count_include_pad:
                counts.append(np.minimum(begin + k, n + p) - begin)
            else:
                counts.append(np.minimum(begin + k, n) - np.maximum(begin, 0))
        if self.divisor_override is not None:
            return np.full((len(counts[0]), len(counts[1])), float(self.divisor_override))
        return np.multiply.outer(counts[0], counts[1]).astype(float)

    def forward(self, x, weight, out):
        _pool(x, self, np.add, 0.0, out)  # padding reads 0
        if self.divisor_override is None and self.count_include_pad and not self.ceil_mode:
            out /= math.prod(self.kernel_size)  # every window counts its whole kernel
        else:
            out /= self.divisors(x.shape[1:]).astype(out.dtype)
        return out

    def backward(self, weight, x, y, grad):
        return self.spread_back(grad / self.divisors(x.shape[1:]), x.shape[1:])
