"""How strongly each input pixel is wired to one neuron: path counts.

A *path* from an input pixel to a neuron picks, at every layer, one kernel
tap through which the pixel's value flows on. :func:`path_counts` counts
them from one neuron back to every input pixel (its receptive field);
:func:`forward_path_counts` from one input pixel on to every neuron of a
layer (its projective field), where holes and uneven overlap show: a
transposed convolution whose kernel is not a multiple of its stride reaches
some neurons by more paths than their neighbours (a checkerboard). Channels are ignored: this is
the spatial wiring, the same for every choice of weights. Pixels with no path
lie outside the receptive field, or in the holes that dilation, or a stride
larger than the kernel, leave inside its bounding box.

Each layer kind sends counts back through its own ``spread_back`` (see
:mod:`rfmaps.layers.base`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .layers import Layer, check_layers
from .receptive_field import receptive_fields
from .validation import check_position, layer_index

__all__ = ["path_counts", "forward_path_counts"]


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
    layers = check_layers(layers)
    last = layer_index(layer, len(layers))
    rows = receptive_fields(layers[: last + 1], input_size)  # later layers need not fit
    position = check_position(position, rows[last].output_size)
    # The largest count is at most the product of each layer's bound.
    total = math.prod(r.layer.most_paths() for r in rows[: last + 1])
    dtype = np.int64 if total < 2 ** 62 else object
    grid = np.zeros(rows[last].output_size, dtype=dtype)
    grid[position] = 1
    for index in range(last, -1, -1):
        size = rows.input_size if index == 0 else rows[index - 1].output_size
        grid = rows[index].layer.spread_back(grid, size)
    return grid


def forward_path_counts(layers: Sequence[Layer], pixel, input_size, layer: int = -1) -> np.ndarray:
    """Number of paths from one input pixel to each neuron of a layer.

    Parameters
    ----------
    layers : sequence of Layer
    pixel : (int, int)
        ``(row, col)`` of the input pixel.
    input_size : int or (int, int)
    layer : int, default -1

    Returns
    -------
    ndarray of int, shape (h, w) of that layer's output
        Zero outside :func:`rfmaps.projective_field`. Entry ``(r, c)``
        equals ``path_counts(layers, (r, c), input_size, layer)[pixel]``.

    Examples
    --------
    >>> from rfmaps import ConvTranspose2d

    Two transposed convolutions (kernel 3, stride 2): their overlaps stack unevenly.

    >>> forward_path_counts([ConvTranspose2d(1, 1, 3, stride=2)] * 2, (1, 1), 3)[6, 3:12]
    array([0, 2, 2, 4, 2, 4, 2, 2, 0])
    """
    layers = check_layers(layers)
    last = layer_index(layer, len(layers))
    rows = receptive_fields(layers[: last + 1], input_size)
    pixel = check_position(pixel, rows.input_size, "pixel")
    total = math.prod(r.layer.most_paths() for r in rows)
    grid = np.zeros(rows.input_size, dtype=np.int64 if total < 2 ** 62 else object)
    grid[pixel] = 1
    size = rows.input_size
    for row in rows:
        grid, size = row.layer.spread_forward(grid, size), row.output_size
    return grid
