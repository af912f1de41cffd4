"""Where each kernel tap of a layer reads its input, for all output pixels at once.

Output pixel ``(r, c)`` of a layer with stride ``s``, dilation ``d`` and
padding ``(top, left)`` reads, through kernel tap ``(i, j)``, input pixel
``(s_h r + d_h i - top, s_w c + d_w j - left)``. For a fixed tap these pixels
form a regular grid, so a loop over the few taps (never over pixels) does all
the work:

* :func:`tap_views` pads the input once and returns each tap's grid as a
  strided view of it: no copy at all. Pooling combines the views tap by tap,
  as :func:`spread_back` adds into them going backwards.
* :func:`gather_grid` copies one tap's grid into a given array and writes the
  padding value where the grid leaves the input, so the padded input is never
  built. Convolutions use it to fill their window matrices.
* :func:`spread_back` goes the other way: it adds each output value into
  every input pixel a tap read for it (the transposed sliding window), for
  path counts and gradients.

The padded buffers are sized by the layer's ``pads_for(input size)``: the
padding read around that input, which for a ``ceil_mode`` pool includes the
overhang of its last window (see :mod:`rfmaps.layers.base`), so every tap's
grid lies inside the buffer for every input size.

Temporary buffers are reused between calls (:func:`scratch`): fresh memory
from the operating system costs a page fault per 4 kB, which on a teaching
network took as long as the arithmetic itself.
"""

from __future__ import annotations

import math
import threading
from typing import List, Tuple

import numpy as np

__all__ = ["tap_views", "gather_grid", "scratch", "spread_back", "gather_sum"]

# Buffers up to this many elements are kept for the next call (8 MB of
# float32 per role, enough for a teaching-size network); larger ones are
# freed at once, so a 1024 x 1024 image does not leave hundreds of megabytes
# behind in a student's kernel. The cache (listed with every cache in
# rfmaps/engine/maps.py) is per thread, keyed by (role, dtype): the role
# keeps buffers used at the same time apart (``padded``, ``windows``,
# ``products``), the dtype because a buffer is reused as an array of its own
# type. Bound: 16 MB (float64) per role and dtype, 96 MB per thread at most.
_KEEP_ELEMENTS = 2 * 1024 * 1024

_kept = threading.local()


def scratch(role: str, shape, dtype) -> np.ndarray:
    """An uninitialised array for temporary use, reused by the next call for ``role``.

    Never return it, or a view of it, to a caller: the next call overwrites it.

    Examples
    --------
    >>> a = scratch("example", (2, 3), np.float32)
    >>> b = scratch("example", (3, 2), np.float32)
    >>> np.shares_memory(a, b)
    True
    """
    size = math.prod(shape)
    if size > _KEEP_ELEMENTS:
        return np.empty(shape, dtype)
    buffers = _kept.__dict__.setdefault("buffers", {})
    key = (role, np.dtype(dtype))
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        del buffer
        buffers.pop(key, None)  # free the small one before taking the larger one
        buffer = buffers[key] = np.empty(max(size, 1024), dtype)
    return buffer[:size].reshape(shape)


def tap_views(x: np.ndarray, layer, fill: float) -> List[np.ndarray]:
    """What every kernel tap of ``layer`` reads from ``x`` (C, H, W), padded with ``fill``.

    One ``(C, out_h, out_w)`` view per tap, kernel positions in row-major
    order. The views look into a :func:`scratch` buffer: use them before the
    next call.

    Examples
    --------
    >>> from rfmaps import MaxPool2d
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> np.max(tap_views(x, MaxPool2d(2), -np.inf), axis=0)[0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    channels, height, width = x.shape
    (top, bottom), (left, right) = layer.pads_for((height, width))
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    (kh, kw) = layer.kernel_size
    oh, ow = layer.output_size((height, width))
    padded = scratch("padded", (channels, height + top + bottom, width + left + right), x.dtype)
    gather_grid(x, padded, (-top, -left), (1, 1), fill)
    return [padded[:, dh * i: dh * i + sh * (oh - 1) + 1: sh, dw * j: dw * j + sw * (ow - 1) + 1: sw]
            for i in range(kh) for j in range(kw)]


def _inside(start: int, step: int, count: int, size: int) -> Tuple[int, int]:
    """The range ``[k0, k1)`` of ``k`` in ``[0, count)`` with ``0 <= start + step * k < size``."""
    k0 = max(0, -(start // step))  # ceil(-start / step), never negative
    k1 = min(count, (size - 1 - start) // step + 1) if size > start else 0
    return k0, max(k0, k1)


def gather_grid(x: np.ndarray, out: np.ndarray, start: Tuple[int, int], step: Tuple[int, int],
                fill: float) -> np.ndarray:
    """Copy a regular grid of ``x`` (C, H, W) into ``out`` (C, h, w), ``fill`` outside ``x``.

    ``out[:, r, c] = x[:, start[0] + step[0] * r, start[1] + step[1] * c]``; a
    negative or too large index reads ``fill``, the layer's padding.

    Examples
    --------
    >>> x = np.arange(1.0, 10.0).reshape(1, 3, 3)
    >>> gather_grid(x, np.empty((1, 2, 2)), start=(-1, 0), step=(2, 2), fill=0.0)[0].tolist()
    [[0.0, 0.0], [4.0, 6.0]]
    """
    (r0, r1), (c0, c1) = (_inside(start[0], step[0], out.shape[1], x.shape[1]),
                          _inside(start[1], step[1], out.shape[2], x.shape[2]))
    if r0 == r1 or c0 == c1:
        out[...] = fill
        return out
    y, z = start[0] + step[0] * r0, start[1] + step[1] * c0
    out[:, r0:r1, c0:c1] = x[:, y: y + step[0] * (r1 - r0 - 1) + 1: step[0],
                             z: z + step[1] * (c1 - c0 - 1) + 1: step[1]]
    for border in (out[:, :r0], out[:, r1:], out[:, r0:r1, :c0], out[:, r0:r1, c1:]):
        if border.size:
            border[...] = fill
    return out


def spread_back(grid: np.ndarray, layer, input_size, tap_values=None) -> np.ndarray:
    """Send every output value of a sliding-window ``layer`` back to each input pixel it reads.

    This is the transposed sliding window. With the default all-ones kernel an
    input pixel receives the sum of the values of all output neurons whose
    window covers it (once per tap); padding absorbs what falls outside the
    image. Gradients reuse it with their own ``tap_values``.

    Parameters
    ----------
    grid : ndarray, shape (..., out_h, out_w)
    layer : a sliding-window layer
        Read for ``kernel_size``, ``stride``, ``dilation`` and ``pads_for``.
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
    (top, bottom), (left, right) = layer.pads_for(tuple(input_size))
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
    assert padded is not None  # a kernel has at least one tap
    return padded[..., top: top + input_size[0], left: left + input_size[1]]


def gather_sum(grid: np.ndarray, layer, output_size) -> np.ndarray:
    """Sum, for every output pixel of a sliding ``layer``, what its taps read from ``grid`` (zero padding).

    The all-ones window going forward: path counts from input pixels to outputs.
    ``grid`` is ``(..., H, W)`` of any dtype (Python ints included).

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> gather_sum(np.eye(1, 5, 2, dtype=int), Conv2d(1, 1, 3), (1, 3))
    array([[1, 1, 1]])
    """
    (top, _), (left, _) = layer.pads  # the before sides, the same for every input size
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    flat = grid.reshape((-1,) + grid.shape[-2:])
    total = np.zeros((len(flat),) + tuple(output_size), grid.dtype)
    part = np.empty_like(total)
    for a in range(layer.kernel_size[0]):
        for b in range(layer.kernel_size[1]):
            total += gather_grid(flat, part, (dh * a - top, dw * b - left), (sh, sw), 0)
    return total.reshape(grid.shape[:-2] + tuple(output_size))
