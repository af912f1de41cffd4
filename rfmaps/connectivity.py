"""How strongly each input pixel is wired to one neuron: path counts.

A *path* from an input pixel to a neuron picks, at every layer, one kernel
tap through which the pixel's value flows on. Channels are ignored: this is
the spatial wiring, the same for every choice of weights. Pixels with no path
lie outside the receptive field, or in the holes that dilation, or a stride
larger than the kernel, leave inside its bounding box.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .layers import Layer
from .receptive_field import check_position, layer_index, receptive_fields
from .residual import Residual

__all__ = ["path_counts", "spread_back", "through_path"]


def spread_back(grid: np.ndarray, layer: Layer, input_size, tap_values=None) -> np.ndarray:
    """Send every output value of ``layer`` back to each input pixel it reads.

    This is the transposed sliding window. With the default all-ones kernel an
    input pixel receives the sum of the values of all output neurons whose
    window covers it (once per tap); padding absorbs what falls outside the
    image. The gradients of :mod:`rfmaps.engine` reuse it with their own
    ``tap_values``.

    Parameters
    ----------
    grid : ndarray, shape (..., out_h, out_w)
    layer : Layer
    input_size : (int, int)
    tap_values : callable, optional
        ``tap_values(a, b)`` gives what kernel tap ``(a, b)`` sends back, an
        array broadcastable to ``grid``'s shape with the leading axes it
        needs; by default ``grid`` itself.

    Returns
    -------
    ndarray, shape (..., in_h, in_w)

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> spread_back(np.ones((1, 1), int), Conv2d(1, 1, 3, dilation=2), (5, 5))[0]
    array([1, 0, 1, 0, 1])
    """
    if isinstance(layer, Residual):
        # Paths through the block go through the body or the shortcut: their counts add.
        return sum(through_path(grid, path, input_size) for path in layer.paths)
    (top, bottom), (left, right) = layer.pads
    out_h, out_w = grid.shape[-2:]
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    padded = None
    # One strided, vectorised add per kernel tap: a loop over k*k taps, never over pixels.
    for a in range(layer.kernel_size[0]):
        for b in range(layer.kernel_size[1]):
            values = grid if tap_values is None else tap_values(a, b)
            if padded is None:
                padded = np.zeros(values.shape[:-2] + (input_size[0] + top + bottom,
                                                       input_size[1] + left + right),
                                  dtype=values.dtype)
            padded[..., a * dh: a * dh + sh * (out_h - 1) + 1: sh,
                   b * dw: b * dw + sw * (out_w - 1) + 1: sw] += values
    return padded[..., top: top + input_size[0], left: left + input_size[1]]


def through_path(grid: np.ndarray, path, input_size) -> np.ndarray:
    """:func:`spread_back` through a sequence of layers, last layer first (identity when empty)."""
    sizes = [tuple(input_size)]
    for layer in path:
        sizes.append(layer.output_size(sizes[-1]))
    for layer, size in zip(reversed(path), reversed(sizes[:-1])):
        grid = spread_back(grid, layer, size)
    return grid


def most_paths(layer) -> int:
    """An upper bound on the paths one layer adds per input pixel: its kernel area."""
    if isinstance(layer, Residual):
        return sum(math.prod(most_paths(l) for l in path) for path in layer.paths)
    return layer.kernel_size[0] * layer.kernel_size[1]


def path_counts(layers: Sequence[Layer], position, input_size, layer: int = -1) -> np.ndarray:
    """Number of paths from each input pixel to one neuron.

    Parameters
    ----------
    layers : sequence of Layer
    position : (int, int)
        ``(row, col)`` of the neuron in the output of ``layers[layer]``.
    input_size : int or (int, int)
    layer : int, default -1

    Returns
    -------
    ndarray of int, shape (H, W)
        Zero outside the receptive field and in its holes. The centre of a
        receptive field is reached by the most paths: every layer's kernel can
        route to it, while the rim is reached only through edge taps. The dtype
        is int64, or Python ints (object) when the counts could overflow int64.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> path_counts([Conv2d(1, 1, 3)] * 2, (0, 0), (5, 5))[2]
    array([3, 6, 9, 6, 3])
    """
    rows = receptive_fields(layers, input_size)
    last = layer_index(layer, len(rows))
    position = check_position(position, rows[last].output_size)
    # The largest count is at most the product of the kernel areas.
    total = math.prod(most_paths(r.layer) for r in rows[: last + 1])
    dtype = np.int64 if total < 2 ** 62 else object
    grid = np.zeros(rows[last].output_size, dtype=dtype)
    grid[position] = 1
    for index in range(last, -1, -1):
        size = rows.input_size if index == 0 else rows[index - 1].output_size
        grid = spread_back(grid, rows[index].layer, size)
    return grid
