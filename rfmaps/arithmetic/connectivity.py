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

from ..layers import Layer, check_layers
from .receptive_field import _sizes_and_geometry, receptive_fields
from .._core.validation import check_built_for, check_position, layer_index

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
    check_built_for(layers, input_size)
    layers = check_layers(layers)
    last = layer_index(layer, len(layers))
    rows = _sizes_and_geometry(layers[: last + 1], input_size)  # later layers need not fit
    position = check_position(position, rows[last].output_size)
    size = rows.input_size
    if _separable(rows, last):
        return _outer(size, *(_axis_counts(rows, last, position[a], a, backward=True) for a in (0, 1)))
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


def _croppable(rows, last: int) -> bool:
    """Whether counts on a crop of the input equal those on the whole image, for layers up to ``last``.

    Each layer's grid of windows must repeat with the last layer's jump: whole jumps, each a
    multiple of the one before (strides only). Upsampling or a transposed convolution breaks
    that (fields then depend on each neuron's phase), and a whole-image layer (jump 0) reads the
    whole map: no crop then.
    """
    kept = rows[: last + 1]
    if any(_grows(row.layer) or row.whole_image for row in kept):
        return False
    previous = (1, 1)
    for row in kept:
        if not all(j.denominator == 1 and j % p == 0 for j, p in zip(row.jump, previous)):
            return False
        previous = row.jump
    return True


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
    if not _croppable(rows, last):
        return None
    box = rows[last].geometry.bounds(position)
    crop = []
    for axis in (0, 1):
        (low, high), n, step = box[axis], rows.input_size[axis], int(jump[axis])
        start = (max(low, 0) // step) * step
        crop.append((start, min(n, high + 1)))
    if all(b - a == n for (a, b), n in zip(crop, rows.input_size)):
        return None  # the crop is the whole input
    return tuple(crop)


def _grows(layer) -> bool:
    """True for a transposed convolution or an upsampling, also inside a block's paths.

    A crop does not suit them, even with stride 1: a transposed convolution's padding cuts
    outputs at both ends of *its* input, so on a crop it would cut neurons that lie on paths.
    """
    if layer.grows_maps:
        return True
    return any(_grows(inner) for path in getattr(layer, "paths", ()) for inner in path)


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
    check_built_for(layers, input_size)
    layers = check_layers(layers)
    last = layer_index(layer, len(layers))
    rows = _sizes_and_geometry(layers[: last + 1], input_size)
    pixel = check_position(pixel, rows.input_size, "pixel")
    if _separable(rows, last):
        return _outer(rows[last].output_size,
                      *(_axis_counts(rows, last, pixel[a], a, backward=False) for a in (0, 1)))
    crop = _forward_crop(rows, last, pixel)
    if crop is not None:
        return crop
    total = math.prod(r.layer.most_paths() for r in rows)
    grid = np.zeros(rows.input_size, dtype=np.dtype(np.int64 if total < 2 ** 62 else object))
    grid[pixel] = 1
    size = rows.input_size
    for row in rows:
        grid, size = row.layer.spread_forward(grid, size), row.output_size
    return grid


#: The most pixels or neurons per axis that one path count follows (one by one, exactly).
AXIS_LIMIT = 10 ** 6
#: The most cells of the box holding the non-zero counts that path_counts and
#: forward_path_counts fill (8 bytes each: 10**8 cells are 800 MB).
BOX_LIMIT = 10 ** 8
#: The most cells of the whole map they return: the pages outside the box stay unallocated,
#: but the address space is reserved (10**9 int64 cells: 8 GB of it).
MAP_LIMIT = 10 ** 9


def _separable(rows, last: int) -> bool:
    """True when every layer wires rows and columns apart (no residual block, no unknown kind).

    Then a path is a path along the rows times a path along the columns: the count at ``(r, c)``
    is the product of two counts along one axis each, computed on index sets as small as the
    field (or the projective field), whatever the size of the image.
    """
    return all(r.layer.separable for r in rows[: last + 1])


def _axis_counts(rows, last: int, index: int, axis: int, backward: bool) -> dict:
    """Paths along one axis: ``{input index: count}`` from output ``index`` of layer ``last``
    (``backward``), or ``{output index: count}`` of layer ``last`` from input ``index``."""
    counts = {index: 1}
    order = range(last, -1, -1) if backward else range(last + 1)
    for l in order:
        layer = rows[l].layer
        reached: dict[int, int] = {}
        if backward:
            below = rows.input_size[axis] if l == 0 else rows[l - 1].output_size[axis]
            for o, c in counts.items():  # one path per tap that reads the image, not the padding
                for i in layer.axis_sources(o, axis, below):
                    reached[i] = reached.get(i, 0) + c
        else:
            above = rows[l].output_size[axis]
            for i, c in counts.items():
                for o in layer.axis_targets(i, axis, above):
                    reached[o] = reached.get(o, 0) + c
        if len(reached) > AXIS_LIMIT:
            raise ValueError(
                f"layer {l} ({layer!r}) spreads the paths over {len(reached)} positions along "
                f"{'height' if axis == 0 else 'width'}, more than the {AXIS_LIMIT} a path count follows; "
                f"use a smaller {layer.spread_arguments}")
        counts = reached
        if not counts:
            break
    return counts


def _outer(size, rows: dict, cols: dict) -> np.ndarray:
    """An array of ``size`` holding ``rows[r] * cols[c]``, zero elsewhere.

    Only the box of the non-zero counts is written: np.zeros leaves the other
    pages unallocated, so a huge map costs the box's memory.
    """
    if size[0] * size[1] > MAP_LIMIT:
        raise ValueError(
            f"the counts fill a {size[0]} x {size[1]} map, more than the {MAP_LIMIT} cells path_counts and "
            "forward_path_counts return; ask projective_field or input_region for the box, or use a smaller "
            "input_size or scale_factor")
    if not rows or not cols:
        return np.zeros(size, dtype=np.int64)
    (r0, r1), (c0, c1) = ((min(d), max(d) + 1) for d in (rows, cols))
    if (r1 - r0) * (c1 - c0) > BOX_LIMIT:
        raise ValueError(
            f"the non-zero path counts fill a box of {r1 - r0} x {c1 - c0} cells, more than the {BOX_LIMIT} "
            "that path_counts and forward_path_counts fill; ask projective_field or input_region for the box")
    largest = max(rows.values()) * max(cols.values())
    dtype = np.int64 if largest < 2 ** 62 else object
    row = np.zeros(r1 - r0, dtype=dtype)
    col = np.zeros(c1 - c0, dtype=dtype)
    for r, c in rows.items():
        row[r - r0] = c
    for c, v in cols.items():
        col[c - c0] = v
    grid = np.zeros(size, dtype=dtype)
    grid[r0:r1, c0:c1] = np.multiply.outer(row, col)
    return grid


def _forward_crop(rows, last: int, pixel):
    """Forward counts computed on a crop of the input around ``pixel``, or None when no crop applies.

    A neuron whose field (padding included) holds ``pixel`` has its whole field within ``rf - 1``
    pixels of it; its counts on a crop that holds that margin and starts at a multiple of the
    jump are those on the whole image (the argument of :func:`_crop`, read forward).
    """
    if not _croppable(rows, last):
        return None  # phase-dependent fields are handled per axis above when separable
    bounds, inner = [], []
    for axis in (0, 1):
        n, rf, step = rows.input_size[axis], rows[last].rf_size[axis], int(rows[last].jump[axis])
        start = (max(pixel[axis] - rf + 1, 0) // step) * step
        bounds.append((start, min(n, pixel[axis] + rf)))
        inner.append(pixel[axis] - start)
    if all(b - a == n for (a, b), n in zip(bounds, rows.input_size)):
        return None
    layers = [r.layer for r in rows[: last + 1]]
    try:
        cropped = _sizes_and_geometry(layers, tuple(b - a for a, b in bounds))
    except ValueError:
        return None
    total = math.prod(r.layer.most_paths() for r in rows[: last + 1])
    grid = np.zeros(cropped.input_size, dtype=np.dtype(np.int64 if total < 2 ** 62 else object))
    grid[tuple(inner)] = 1
    size = cropped.input_size
    for row in cropped:
        grid, size = row.layer.spread_forward(grid, size), row.output_size
    # Cropped neuron o' is neuron o' + start / jump of the whole map.
    shift = [a // int(rows[last].jump[axis]) for axis, (a, _) in enumerate(bounds)]
    out = np.zeros(rows[last].output_size, dtype=grid.dtype)
    h = min(grid.shape[0], out.shape[0] - shift[0])
    w = min(grid.shape[1], out.shape[1] - shift[1])
    out[shift[0]:shift[0] + h, shift[1]:shift[1] + w] = grid[:h, :w]
    return out
