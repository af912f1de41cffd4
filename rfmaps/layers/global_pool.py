"""``GlobalAvgPool2d``: the mean of each whole map, so every value after it sees the whole input.

PyTorch's ``AdaptiveAvgPool2d(1)`` (a classifier's head before ``flatten``
and ``Linear``). On an ``h x w`` map it is exactly an average pool whose
window is the whole map (kernel ``(h, w)``, stride ``(h, w)``, no padding),
so its receptive-field step is that pool's, with the window known only once
the map's size is: :meth:`GlobalAvgPool2d.advance_sized` gets it, and
``advance`` alone (a geometry stated once for every input size, as a
:class:`~rfmaps.Residual` does when built) is refused with the reason.

:class:`AdaptiveAvgPool2d` is PyTorch's ``AdaptiveAvgPool2d`` with another
output size (VGG's and AlexNet's heads: ``(7, 7)``, ``(6, 6)``). torch
averages row ``floor(i n / o)`` to ``ceil((i + 1) n / o) - 1`` into output
``i``; those windows are all equal, and slide with one stride, exactly when
``o`` divides ``n``: then it is ``AvgPool2d(n / o)`` (the identity when
``n == o``, as on VGG's 7 x 7 map at 224 x 224). Otherwise its windows
differ in size and overlap unevenly, and rfmaps refuses the input size
with a sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from .._core.geometry import Geometry
from .._core.validation import Pair, pair
from .base import Layer
from .pooling import AvgPool2d

__all__ = ["GlobalAvgPool2d", "AdaptiveAvgPool2d"]


class _WindowOfTheMap(Layer):
    """A layer that is one average pool once the map's size is known (:meth:`window`): its step and
    the pixels it joins are that pool's, asked with the size."""

    __slots__ = ()

    def window(self, input_size: Any) -> AvgPool2d:
        raise NotImplementedError

    def advance_sized(self, geometry: Geometry, input_size: Pair) -> Geometry:
        """The step of :meth:`window` on a map of ``input_size``."""
        return self.window(input_size).advance(geometry)

    def reach_back(self, boxes, input_size):
        # The window's closed form: whole runs per axis, not a list of the map's pixels.
        return self.window(input_size).reach_back(boxes, input_size)

    def reach_forward(self, boxes, input_size):
        return self.window(input_size).reach_forward(boxes, input_size)

    def most_paths(self) -> int:
        return 1  # windows side by side (or one over the whole map): each input is read once


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GlobalAvgPool2d(_WindowOfTheMap):
    """The mean of each channel's whole map: a ``(C, 1, 1)`` output whose one neuron sees the whole input.

    Examples
    --------
    >>> import numpy as np
    >>> pool = GlobalAvgPool2d()
    >>> pool.output_size((7, 5))
    (1, 1)
    >>> float(pool.forward(np.arange(6.0).reshape(1, 2, 3), None, np.empty((1, 1, 1)))[0, 0, 0])
    2.5
    >>> pool.window((7, 5))
    AvgPool2d(kernel_size=(7, 5), stride=(7, 5))
    """

    #: Every neuron after it depends on the whole input (tables and explorers say so).
    whole_image = True

    def __repr__(self) -> str:
        return "GlobalAvgPool2d()"

    def window(self, input_size: Any) -> AvgPool2d:
        """The average pool this layer is on a map of ``input_size``: one window over the whole map."""
        size = pair(input_size, "input_size", 1)
        return AvgPool2d(size, size)

    def output_size(self, input_size: Any) -> Pair:
        pair(input_size, "input_size", 1)
        return (1, 1)

    def advance(self, geometry: Geometry) -> Geometry:
        raise ValueError("GlobalAvgPool2d's receptive field covers its whole input map, so its geometry "
                         "depends on the input size; rfmaps states it with the size known "
                         "(receptive_fields, input_region), not once for every size (inside a Residual "
                         "or Concat branch it cannot be read)")

    def axis_sources(self, index: int, axis: int, input_n: Optional[int] = None) -> list[int]:
        if input_n is None:
            raise ValueError("GlobalAvgPool2d reads the whole map: give input_n, the map's size along the axis")
        return list(range(input_n)) if index == 0 else []

    def axis_targets(self, index: int, axis: int, output_n: int) -> list[int]:
        return [0]

    def forward(self, x: np.ndarray, weight: Optional[np.ndarray], out: np.ndarray) -> np.ndarray:
        out[:, 0, 0] = x.mean(axis=(1, 2))
        return out

    def backward(self, weight: Optional[np.ndarray], x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        h, w = x.shape[1:]
        return np.broadcast_to(grad / (h * w), x.shape).copy()

    def spread_back(self, grid: np.ndarray, input_size: Pair, tap_values=None) -> np.ndarray:
        if tap_values is not None:
            return self.window(input_size).spread_back(grid, input_size, tap_values)
        return np.broadcast_to(grid[..., :1, :1], grid.shape[:-2] + tuple(input_size)).copy()

    def spread_forward(self, grid: np.ndarray, input_size: Pair) -> np.ndarray:
        return grid.sum(axis=(-2, -1), keepdims=True)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class AdaptiveAvgPool2d(_WindowOfTheMap):
    """``torch.nn.AdaptiveAvgPool2d(output_size)`` where it is an average pool of equal windows.

    On an ``n``-long axis with ``output_size`` ``o`` that divides ``n``, each
    output averages ``n / o`` inputs, side by side: ``AvgPool2d(n / o)``, the
    identity when ``n == o``. Other sizes are refused (torch's windows would
    then differ in size).

    Examples
    --------
    >>> pool = AdaptiveAvgPool2d(7)
    >>> pool.output_size((7, 7)), pool.window((7, 7)), pool.window((14, 21))
    ((7, 7), AvgPool2d(kernel_size=1, stride=1), AvgPool2d(kernel_size=(2, 3), stride=(2, 3)))
    >>> pool.output_size((4, 4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: input_size (4, 4): AdaptiveAvgPool2d(output_size=(7, 7)) is an average pool of equal windows ...
    """

    pooled_size: Any

    def __post_init__(self) -> None:
        object.__setattr__(self, "pooled_size", pair(self.pooled_size, "output_size", 1))

    def __repr__(self) -> str:
        return f"AdaptiveAvgPool2d(output_size={self.pooled_size})"

    def window(self, input_size: Any) -> AvgPool2d:
        """The average pool this layer is on a map of ``input_size`` (refused where there is none)."""
        size = pair(input_size, "input_size", 1)
        kernel = []
        for n, o in zip(size, self.pooled_size):
            if n % o:
                raise ValueError(
                    f"input_size {size}: {self!r} is an average pool of equal windows only on maps whose "
                    f"sides are multiples of {self.pooled_size} (the identity on a {_by(self.pooled_size)} "
                    f"map); on {_by(size)} torch averages windows of different sizes, which rfmaps does not "
                    "read; choose an input size that gives such a map (224 x 224 for VGG and AlexNet)")
            kernel.append(n // o)
        return AvgPool2d((kernel[0], kernel[1]))

    def output_size(self, input_size: Any) -> Pair:
        self.window(input_size)
        return self.pooled_size

    def advance(self, geometry: Geometry) -> Geometry:
        raise ValueError(f"{self!r}'s windows depend on the input size, so its geometry does too; rfmaps states "
                         "it with the size known (receptive_fields, input_region), not once for every size")

    def axis_sources(self, index: int, axis: int, input_n: Optional[int] = None) -> list[int]:
        if input_n is None:
            raise ValueError("AdaptiveAvgPool2d's window depends on the map: give input_n, its size along the axis")
        k = input_n // self.pooled_size[axis]
        return list(range(index * k, (index + 1) * k))

    def forward(self, x: np.ndarray, weight: Optional[np.ndarray], out: np.ndarray) -> np.ndarray:
        return self.window(x.shape[1:]).forward(x, None, out)

    def backward(self, weight: Optional[np.ndarray], x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        return self.window(x.shape[1:]).backward(None, x, y, grad)

    def spread_back(self, grid: np.ndarray, input_size: Pair, tap_values=None) -> np.ndarray:
        return self.window(input_size).spread_back(grid, input_size, tap_values)

    def spread_forward(self, grid: np.ndarray, input_size: Pair) -> np.ndarray:
        return self.window(input_size).spread_forward(grid, input_size)


def _by(size: Pair) -> str:
    return f"{size[0]} x {size[1]}"
