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
    size = rows.input_size
    crop = _crop(rows, last, position)
    if crop is None:
        return _spread_to_input(rows, last, position, size)
    (r0, r1), (c0, c1) = crop
    if r1 <= r0 or c1 <= c0:  # the neuron reads only padding: no pixel has a path
        return np.zeros(size, dtype=np.int64)
    # The same stack on the cropped input: the neuron moves by the crop's offset over the jump.
    jump = rows[last].jump
    inner = (position[0] - r0 // int(jump[0]), position[1] - c0 // int(jump[1]))
    try:
        cropped_rows = receptive_fields(layers[: last + 1], (r1 - r0, c1 - c0))
    except ValueError:  # a neuron that sees only padding can leave a crop too small to run on
        return _spread_to_input(rows, last, position, size)
    if not all(0 <= p < n for p, n in zip(inner, cropped_rows[last].output_size)):
        return _spread_to_input(rows, last, position, size)
    counts = _spread_to_input(cropped_rows, last, inner, (r1 - r0, c1 - c0))
    # np.zeros leaves untouched pages unallocated: a huge input costs only the crop's memory.
    grid = np.zeros(size, dtype=counts.dtype)
    grid[r0:r1, c0:c1] = counts
    return grid


def _crop(rows, last: int, position):
    """Input rows and columns ``((r0, r1), (c0, c1))`` (half-open) that hold every path, or None.

    Path counts are local: only pixels inside the neuron's box (padding
    included, ``clip=False``) have paths, and only neurons whose windows lie in
    it carry them. Run on a crop of the input that starts at a multiple of the
    jump (so every layer's grid of windows lands on the same pixels) and holds
    the box, the stack gives the same counts; time and memory then follow the
    size of the receptive field, not of the image. A stack that grows maps
    again (transposed convolution, upsampling) has no such crop: None.
    """
    jump = rows[last].jump
    previous = (1, 1)
    for row in rows[: last + 1]:
        # Each layer's grid must repeat with the last layer's jump: whole jumps, each a
        # multiple of the one before (strides only). Upsampling or a transposed convolution
        # breaks that (and makes fields depend on each neuron's phase): no crop then.
        if not all(j.denominator == 1 and j % p == 0 for j, p in zip(row.jump, previous)):
            return None
        previous = row.jump
    box = rows[last].geometry.bounds(position)
    crop = []
    for axis in (0, 1):
        (low, high), n, step = box[axis], rows.input_size[axis], int(jump[axis])
        start = (max(low, 0) // step) * step
        crop.append((start, min(n, high + 1)))
    if all(b - a == n for (a, b), n in zip(crop, rows.input_size)):
        return None  # the crop is the whole input
    return tuple(crop)


def _spread_to_input(rows, last: int, position, size) -> np.ndarray:
    """Send one path from the neuron back through every layer to the input (full arrays)."""
    # The largest count is at most the product of each layer's bound.
    total = math.prod(r.layer.most_paths() for r in rows[: last + 1])
    dtype = np.int64 if total < 2 ** 62 else object
    grid = np.zeros(rows[last].output_size, dtype=dtype)
    grid[position] = 1
    for index in range(last, -1, -1):
        below = size if index == 0 else rows[index - 1].output_size
        grid = rows[index].layer.spread_back(grid, below)
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
