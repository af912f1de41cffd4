"""``MaxPool2d`` and ``AvgPool2d``: windows that combine, with no weights.

Pooling follows ``torch.nn.MaxPool2d`` (padding never wins) and
``torch.nn.AvgPool2d`` (padding counts as zeros in the mean, PyTorch's
``count_include_pad=True``). Both combine the views of
:func:`rfmaps.sliding.tap_views` one tap at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..sliding import tap_views
from ..validation import pair
from .base import SlidingWindow

__all__ = ["MaxPool2d", "AvgPool2d"]


def _check_pool(layer) -> None:
    set_ = object.__setattr__
    set_(layer, "kernel_size", pair(layer.kernel_size, "kernel_size", 1))
    set_(layer, "stride", layer.kernel_size if layer.stride is None else pair(layer.stride, "stride", 1))
    set_(layer, "padding", pair(layer.padding, "padding", 0))
    set_(layer, "dilation", pair(layer.dilation, "dilation", 1))
    # PyTorch refuses pooling padding above half the kernel: such a window could
    # cover nothing but padding.
    for p, k in zip(layer.padding, layer.kernel_size):
        if p > k // 2:
            raise ValueError(f"padding must be <= kernel_size // 2 = {k // 2} for pooling, got {p}")


def _pool(x: np.ndarray, layer, combine, fill: float, out: np.ndarray) -> np.ndarray:
    """Max (``np.maximum``) or sum (``np.add``) over each window, one tap at a time."""
    views = tap_views(x, layer, fill)
    out[...] = views[0]
    for view in views[1:]:
        combine(out, view, out=out)
    return out


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class MaxPool2d(SlidingWindow):
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

    def __post_init__(self):
        _check_pool(self)

    def __repr__(self) -> str:
        return "MaxPool2d(" + self._geometry_repr({"padding": (0, 0), "dilation": (1, 1)}) + ")"

    def forward(self, x, weight, out):
        return _pool(x, self, np.maximum, -np.inf, out)  # padding is -inf: it never wins

    def backward(self, weight, x, y, grad):
        # The whole gradient goes to the first largest input of each window
        # (taps in row-major order), as PyTorch does.
        winner = np.argmax(tap_views(x, self, -np.inf), axis=0)
        kw = self.kernel_size[1]
        return self.spread_back(grad, x.shape[1:], lambda a, b: grad * (winner == a * kw + b))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AvgPool2d(SlidingWindow):
    """Average pooling, as ``torch.nn.AvgPool2d`` (zero padding counts in the mean).

    Examples
    --------
    >>> AvgPool2d(3, stride=1, padding=1)
    AvgPool2d(kernel_size=3, stride=1, padding=1)
    """

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    dilation: Any = field(default=(1, 1), init=False)

    def __post_init__(self):
        _check_pool(self)

    def __repr__(self) -> str:
        return "AvgPool2d(" + self._geometry_repr({"padding": (0, 0), "dilation": (1, 1)}) + ")"

    def forward(self, x, weight, out):
        _pool(x, self, np.add, 0.0, out)  # padding is 0 and counts in the mean, as in PyTorch
        out /= math.prod(self.kernel_size)
        return out

    def backward(self, weight, x, y, grad):
        return self.spread_back(grad / math.prod(self.kernel_size), x.shape[1:])
