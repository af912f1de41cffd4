"""``ReLU`` and ``ZeroPad2d``: layers that move or change pixels one by one, and :class:`PerPixel`.

For the arithmetic both are 1 x 1 windows with stride 1; ``ZeroPad2d`` also
shifts the image by its padding before. :class:`PerPixel` is the window of
every kind that reads only the pixel it writes (ReLU, the other activations,
batch and layer normalisation, channel shuffles and slices, Flatten).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import numpy as np

from .._core.validation import is_int
from .base import SlidingWindow, frozen_array

__all__ = ["ReLU", "ZeroPad2d", "PerPixel"]

_ONE = (1, 1)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class PerPixel(SlidingWindow):
    """A 1 x 1 window with stride 1, no padding and no dilation: the layer reads only the pixel it writes.

    The window is the same for every such kind: fields left out of the
    constructor (``init=False``), so they take no part in the layer's value
    (equality, hash, pickling), and frozen like every field (fields, not
    class attributes: a frozen, slotted subclass refuses an assignment to a
    field with the usual ``FrozenInstanceError``).

    Examples
    --------
    >>> ReLU().kernel_size, ReLU().pads, ReLU().output_size((5, 7))
    ((1, 1), ((0, 0), (0, 0)), (5, 7))
    """

    kernel_size: Any = field(default=_ONE, init=False)
    stride: Any = field(default=_ONE, init=False)
    padding: Any = field(default=(0, 0), init=False)
    dilation: Any = field(default=_ONE, init=False)

    def _freeze(self, names: Iterable[str], channels: int) -> None:
        """Store each optional per-channel array ``names`` as a checked, read-only copy of shape ``(channels,)``."""
        for name in names:
            value: Optional[Any] = getattr(self, name)
            object.__setattr__(self, name, frozen_array(value, name, (channels,)))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ReLU(PerPixel):
    """The rectifier ``max(x, 0)``, applied pixel by pixel.

    For the arithmetic it is a 1 x 1 window with stride 1: it changes values,
    never which input pixels a neuron sees.

    Examples
    --------
    >>> ReLU()
    ReLU()
    """

    def __repr__(self) -> str:
        return "ReLU()"

    def forward(self, x, weight, out):
        """``max(x, 0)`` against a row of zeros, one map at a time.

        With the scalar 0, numpy's ``maximum`` takes a slow loop: about four
        times as long as an addition of two arrays. A zero row as long as one
        whole map keeps both operands contiguous, which lets it use the fast
        SIMD loop.
        """
        zeros = np.zeros(x[0].size, x.dtype)
        np.maximum(x.reshape(len(x), -1), zeros, out=out.reshape(len(out), -1))
        return out

    def backward(self, weight, x, y, grad):
        return grad * (y > 0)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ZeroPad2d(SlidingWindow):
    """Zero padding on each side, as ``torch.nn.ZeroPad2d``: the way to pad unequally.

    ``padding`` is an int (all sides) or ``(left, right, top, bottom)``, in
    PyTorch's order. TensorFlow's ``'SAME'`` pooling, which pads one pixel
    more after than before, is ``ZeroPad2d((0, 1, 0, 1))`` followed by the pool.

    Examples
    --------
    >>> ZeroPad2d((0, 1, 0, 1)).output_size((112, 112))
    (113, 113)
    """

    padding: Any
    kernel_size: Any = field(default=_ONE, init=False)
    stride: Any = field(default=_ONE, init=False)
    dilation: Any = field(default=_ONE, init=False)

    def __post_init__(self):
        padding = self.padding
        if is_int(padding):
            padding = (padding,) * 4
        if (not isinstance(padding, (tuple, list)) or len(padding) != 4
                or not all(is_int(p) and p >= 0 for p in padding)):
            raise ValueError(f"padding must be an int >= 0 or (left, right, top, bottom) of such ints, "
                             f"got {padding!r}")
        object.__setattr__(self, "padding", tuple(int(p) for p in padding))

    @property
    def pads(self):
        left, right, top, bottom = self.padding
        return ((top, bottom), (left, right))

    def __repr__(self) -> str:
        return f"ZeroPad2d({self.padding})"

    def forward(self, x, weight, out):
        (top, _), (left, _) = self.pads
        out.fill(0)
        out[:, top: top + x.shape[1], left: left + x.shape[2]] = x
        return out

    def backward(self, weight, x, y, grad):
        (top, _), (left, _) = self.pads
        size = x.shape[1:]
        return grad[:, top: top + size[0], left: left + size[1]]
