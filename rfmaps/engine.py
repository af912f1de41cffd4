"""The feature-map engine: real images through conv/pool stacks, in numpy.

Convolution is computed as PyTorch computes ``torch.nn.Conv2d``: a
cross-correlation (the kernel is not flipped) with zero padding, stride,
dilation, bias and any number of input and output channels. Pooling follows
``MaxPool2d`` (padding never wins) and ``AvgPool2d`` (padding counts as zeros
in the mean).

Implementation: :mod:`rfmaps.sliding` finds, for each kernel tap, the grid of
input pixels it reads for all output pixels at once. A convolution copies the
grids of the first kernel row (of each row phase, with a stride) into one
matrix; the other kernel rows read the same matrix a few rows further down, so
one BLAS product and a few shifted sums do the whole layer (see ``_conv``).
Pooling combines the grids tap by tap. Work goes a block of output rows at a
time, so memory stays near the size of the output.
"""

from __future__ import annotations

from functools import lru_cache
from typing import List, Optional, Sequence

import numpy as np

from .connectivity import spread_back
from .images import as_float_image
from .kernels import default_weight
from .layers import AvgPool2d, Conv2d, Layer, MaxPool2d, ReLU, ZeroPad2d
from .receptive_field import check_position, layer_index, receptive_fields
from .residual import Residual
from .sliding import gather_grid, scratch, tap_views

__all__ = ["feature_maps", "effective_receptive_field", "layer_weights", "mass_width"]

# Elements of one block of rows' window matrix and products together: 2 M floats = 8 MB.
_BLOCK_ELEMENTS = 2 * 1024 * 1024


def _channels_first(image, dtype) -> np.ndarray:
    array = as_float_image(image, copy=False)  # the one copy is the one below
    if array.ndim == 2:
        array = array[None]
    else:
        array = np.moveaxis(array, -1, 0)
    return np.ascontiguousarray(array, dtype=dtype)


def layer_weights(layers: Sequence[Layer]) -> List[Optional[np.ndarray]]:
    """The kernels each layer uses: its own, else the default bank (None for non-convolutions).

    Examples
    --------
    >>> from rfmaps import Conv2d, ReLU
    >>> [None if w is None else w.shape for w in layer_weights([Conv2d(3, 4, 5), ReLU()])]
    [(4, 3, 5, 5), None]
    """
    return _weights(layers, [0])


def _weights(layers, counter):
    """Weights in stack order; ``counter[0]`` counts convolutions, also inside residual blocks."""
    weights = []
    for layer in layers:
        if isinstance(layer, Conv2d):
            weights.append(default_weight(layer, counter[0]))
            counter[0] += 1
        elif isinstance(layer, Residual):  # one weight list per path
            weights.append(tuple(_weights(path, counter) for path in layer.paths))
        else:
            weights.append(None)
    return weights


def _conv(x: np.ndarray, weight: np.ndarray, bias, layer: Conv2d, out: np.ndarray) -> np.ndarray:
    """Convolution as one large matrix product per block of rows, then a few shifted sums.

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

    The bias rides along in the product, as one more weight column that
    meets a row of ones. Padding is never built:
    :func:`rfmaps.sliding.gather_grid` writes zeros where a grid leaves the input.
    """
    channels, outs, kw = len(x), len(weight), layer.kernel_size[1]
    (sh, sw), dw = layer.stride, layer.dilation[1]
    (top, _), (left, _) = layer.pads
    oh, ow = out.shape[1:]
    phases, shifts, matrix = _kernel_matrix(weight, bias, layer, x.dtype)
    taps = len(phases) * channels * kw  # rows of the window matrix, before the row of ones
    ones = bias is not None
    reach = shifts[-1]  # extra rows the window matrix spans
    per_row = (taps + ones + len(shifts) * outs) * ow
    rows = max(1, min(oh, _BLOCK_ELEMENTS // per_row - reach))
    for r0 in range(0, oh, rows):  # blocks of output rows bound the memory
        r1 = min(oh, r0 + rows)
        n, span = (r1 - r0) * ow, (r1 - r0 + reach) * ow
        windows = scratch("windows", (taps + ones, span), x.dtype)
        grids = windows[:taps].reshape(len(phases), channels, kw, span // ow, ow)
        for p, phase in enumerate(phases):
            for j in range(kw):
                gather_grid(x, grids[p, :, j], (sh * r0 + phase - top, dw * j - left), (sh, sw), 0.0)
        if ones:
            windows[taps] = 1
        products = scratch("products", (len(shifts), outs, span), x.dtype)
        np.matmul(matrix, windows, out=products.reshape(len(shifts) * outs, span))
        parts = [product[:, shift * ow: shift * ow + n] for product, shift in zip(products, shifts)]
        total = out[:, r0:r1].reshape(outs, n)  # a view: the sum lands in the output
        if len(parts) == 1:
            total[...] = parts[0]
        else:
            np.add(parts[0], parts[1], out=total)
            for part in parts[2:]:
                total += part
    return out


# Kernel matrices of read-only weights, kept between calls:
# (id(weight), id(bias), kh, s_h, d_h, dtype) -> (weight, bias, result).
_KERNEL_MATRICES: dict = {}


def _kernel_matrix(weight, bias, layer: Conv2d, dtype):
    """Row phases, row shifts and the stacked weight matrix of :func:`_conv`.

    Row ``(k, o)`` of the matrix is output channel ``o`` at the ``k``-th
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
    >>> phases, shifts, matrix = _kernel_matrix(np.array([[[[1.0], [2.0], [3.0]]]]), None, layer, float)
    >>> phases, shifts, matrix.tolist()
    ([0, 1], [0, 1], [[1.0, 2.0], [3.0, 0.0]])
    """
    (kh, _), sh, dh = layer.kernel_size, layer.stride[0], layer.dilation[0]
    frozen = not weight.flags.writeable and (bias is None or not bias.flags.writeable)
    key = (id(weight), id(bias), kh, sh, dh, np.dtype(dtype))
    kept = _KERNEL_MATRICES.get(key)
    if frozen and kept is not None and kept[0] is weight and kept[1] is bias:
        return kept[2]
    outs, channels, _, kw = weight.shape
    phases = sorted({(dh * i) % sh for i in range(kh)})
    shifts = sorted({(dh * i) // sh for i in range(kh)})
    taps = len(phases) * channels * kw
    matrix = np.zeros((len(shifts), outs, taps + (bias is not None)), dtype)
    blocks = matrix[:, :, :taps].reshape(len(shifts), outs, len(phases), channels * kw)
    for i in range(kh):
        blocks[shifts.index((dh * i) // sh), :, phases.index((dh * i) % sh)] = \
            weight[:, :, i, :].reshape(outs, channels * kw)
    if bias is not None:
        matrix[0, :, taps] = bias
    matrix = matrix.reshape(len(shifts) * outs, -1)
    matrix.setflags(write=False)  # may be kept and shared between calls
    result = phases, shifts, matrix
    if frozen:
        if len(_KERNEL_MATRICES) >= 64:
            _KERNEL_MATRICES.clear()
        _KERNEL_MATRICES[key] = (weight, bias, result)  # holding weight and bias keeps their ids unique
    return result


def _pool(x: np.ndarray, layer: Layer, combine, fill: float, out: np.ndarray) -> np.ndarray:
    """Max (``np.maximum``) or sum (``np.add``) over each window, one tap at a time."""
    views = tap_views(x, layer, fill)
    out[...] = views[0]
    for view in views[1:]:
        combine(out, view, out=out)
    return out


def _relu(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``max(x, 0)`` against a row of zeros, one map at a time.

    With the scalar 0, numpy's ``maximum`` takes a slow loop: about four times
    as long as an addition of two arrays. A zero row as long as one whole map
    keeps both operands contiguous, which lets it use the fast SIMD loop.
    """
    zeros = np.zeros(x[0].size, x.dtype)
    np.maximum(x.reshape(len(x), -1), zeros, out=out.reshape(len(out), -1))
    return out


def _apply(layer: Layer, x: np.ndarray, weight, out: np.ndarray) -> np.ndarray:
    """The output of ``layer`` for input ``x``, written into ``out``.

    ``out`` has the output's exact shape and is C-contiguous: convolution and
    ReLU write through flat views of it (``reshape`` of a contiguous array
    never copies).
    """
    if isinstance(layer, Conv2d):
        return _conv(x, weight, layer.bias, layer, out)
    if isinstance(layer, MaxPool2d):  # padding is -inf: it never wins
        return _pool(x, layer, np.maximum, -np.inf, out)
    if isinstance(layer, AvgPool2d):  # padding is 0 and counts in the mean, as in PyTorch
        _pool(x, layer, np.add, 0.0, out)
        out /= layer.kernel_size[0] * layer.kernel_size[1]
        return out
    if isinstance(layer, ReLU):
        return _relu(x, out)
    if isinstance(layer, ZeroPad2d):
        (top, _), (left, _) = layer.pads
        out.fill(0)
        out[:, top: top + x.shape[1], left: left + x.shape[2]] = x
        return out
    if isinstance(layer, Residual):  # the sum of the paths; an empty shortcut is x itself
        out[...] = 0
        for path, w in zip(layer.paths, weight):
            out += _run_path(path, x, w)[-1]
        return out
    raise TypeError(f"unknown layer {layer!r}")  # check_layers keeps this unreachable


def _run_path(path, x, weights, outputs=None) -> list:
    """``x`` and the output of every layer of ``path`` after it.

    ``outputs`` are arrays to write the outputs into; by default each layer
    gets a new one.
    """
    if outputs is None:
        rows = receptive_fields(path, x.shape[1:]) if path else []
        outputs = [np.empty(shape, x.dtype) for shape in _shapes(rows, len(x))]
    values = [x]
    for layer, weight, out in zip(path, weights, outputs):
        values.append(_apply(layer, values[-1], weight, out))
    return values


def _shapes(rows, channels: int) -> list:
    """``(channels, h, w)`` of every layer's output, from its receptive-field rows."""
    return [(row.channels or channels,) + row.output_size for row in rows]


def _check_channels(layers, channels: int, where: str = "") -> int:
    """Check that channel counts chain; return the channels leaving the stack."""
    for index, layer in enumerate(layers):
        if isinstance(layer, Conv2d):
            if layer.in_channels != channels:
                arriving = "the image has" if index == 0 and not where else "its input has"
                raise ValueError(
                    f"layer {where}{index} ({layer!r}) expects in_channels={layer.in_channels}, "
                    f"but {arriving} {channels} channel{'s' if channels != 1 else ''}")
            channels = layer.out_channels
        elif isinstance(layer, Residual):
            body = _check_channels(layer.body, channels, f"{where}{index}.body.")
            short = _check_channels(layer.shortcut, channels, f"{where}{index}.shortcut.")
            if body != short:
                raise ValueError(f"layer {where}{index}: the body gives {body} channels but the "
                                 f"shortcut gives {short}; they cannot be added")
            channels = body
    return channels


def _plan(layers, size, channels: int):
    """Checked layers, their weights and output shapes, after all checks.

    Cached, because explorers and notebooks run the same stack on the same
    image size again and again (layers are immutable and hashable).
    """
    try:
        return _cached_plan(tuple(layers), size, channels)
    except TypeError:  # something unhashable in the list: let the checks name it
        return _cached_plan.__wrapped__(layers, size, channels)


@lru_cache(maxsize=32)
def _cached_plan(layers, size, channels: int):
    rows = receptive_fields(layers, size)  # checks sizes, names the layer that fails
    layers = tuple(row.layer for row in rows)
    _check_channels(layers, channels)
    # Tuples: the cache hands the same plan to every caller.
    return layers, tuple(layer_weights(layers)), tuple(_shapes(rows, channels))


def _forward(layers, image, dtype):
    """Inputs of every layer and the final output."""
    x = _channels_first(image, dtype)
    layers, weights, shapes = _plan(layers, x.shape[1:], len(x))
    return layers, weights, _run_path(layers, x, weights, [np.empty(shape, dtype) for shape in shapes])


def feature_maps(layers: Sequence[Layer], image) -> List[np.ndarray]:
    """The feature maps of every layer for one image.

    Parameters
    ----------
    layers : sequence of Layer
        Convolutions built without ``weight`` use :mod:`rfmaps.kernels`.
    image : array_like
        ``(H, W)`` or ``(H, W, C)``; integers are scaled to [0, 1].

    Returns
    -------
    list of ndarray
        One float32 array per layer, shaped ``(channels, h, w)``: ``maps[l][i]``
        is feature map ``i`` of layer ``l``, and each of its entries is the
        activation of one neuron.

    Raises
    ------
    ValueError
        If the channels do not chain (names the layer and both numbers) or a
        map would be smaller than its kernel.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> maps = feature_maps([Conv2d(3, 100, 5)], np.zeros((50, 50, 3)))
    >>> maps[0].shape
    (100, 46, 46)
    """
    _, _, values = _forward(layers, image, np.float32)
    return values[1:]


def _backward(layer: Layer, weight, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Gradient with respect to the layer's input ``x``, given it for its output ``y``."""
    size = x.shape[1:]
    if isinstance(layer, ReLU):
        return grad * (y > 0)
    if isinstance(layer, ZeroPad2d):
        (top, _), (left, _) = layer.pads
        return grad[:, top: top + size[0], left: left + size[1]]
    if isinstance(layer, Residual):
        # Both paths receive the whole gradient of the sum; their input gradients add.
        total = 0
        for path, weights in zip(layer.paths, weight):
            values, g = _run_path(path, x, weights), grad
            for index in range(len(path) - 1, -1, -1):
                g = _backward(path[index], weights[index], values[index], values[index + 1], g)
            total = total + g
        return total
    if isinstance(layer, Conv2d):
        # Tap (a, b) sends back sum over output channels o of w[o, :, a, b] * grad[o].
        return spread_back(grad, layer, size,
                           lambda a, b: np.tensordot(weight[:, :, a, b], grad, axes=(0, 0)))
    if isinstance(layer, AvgPool2d):
        area = layer.kernel_size[0] * layer.kernel_size[1]
        return spread_back(grad / area, layer, size)
    # Max pooling: the whole gradient goes to the first largest input of each
    # window (taps in row-major order), as PyTorch does.
    winner = np.argmax(tap_views(x, layer, -np.inf), axis=0)
    kw = layer.kernel_size[1]
    return spread_back(grad, layer, size, lambda a, b: grad * (winner == a * kw + b))


def effective_receptive_field(layers: Sequence[Layer], position, image, layer: int = -1,
                              channel: Optional[int] = None) -> np.ndarray:
    """How strongly each input pixel moves one neuron: ``sum_c |dy / dx_c|``.

    Parameters
    ----------
    layers : sequence of Layer
    position : (int, int)
        ``(row, col)`` of the neuron in the output of ``layers[layer]``.
    image : array_like
        The image whose activations decide which ReLUs pass and which inputs
        win the max pools.
    layer : int, default -1
    channel : int, optional
        Differentiate only this feature map; by default ``y`` is the sum over
        all feature maps at ``position``.

    Returns
    -------
    ndarray, shape (H, W)
        Zero outside :func:`rfmaps.input_region` of the same neuron.

    Notes
    -----
    Luo et al. call this the effective receptive field: inside the theoretical
    one it is concentrated near the centre (roughly Gaussian), because the
    centre is reached by far more paths than the rim.

    References
    ----------
    W. Luo, Y. Li, R. Urtasun and R. Zemel, "Understanding the Effective
    Receptive Field in Deep Convolutional Neural Networks", NeurIPS 2016.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> w = np.ones((1, 1, 3, 3))
    >>> erf = effective_receptive_field([Conv2d(1, 1, 3, weight=w)] * 2, (1, 1), np.zeros((6, 6)))
    >>> erf[3].astype(int).tolist()
    [0, 3, 6, 9, 6, 3]
    """
    layers, weights, values = _forward(layers, image, np.float64)
    last = layer_index(layer, len(layers))
    output = values[last + 1]
    position = check_position(position, output.shape[1:])
    grad = np.zeros_like(output)
    if channel is None:
        grad[:, position[0], position[1]] = 1.0
    else:
        if not isinstance(channel, (int, np.integer)) or not 0 <= channel < output.shape[0]:
            raise ValueError(f"channel must be an int from 0 to {output.shape[0] - 1}, got {channel!r}")
        grad[channel, position[0], position[1]] = 1.0
    for index in range(last, -1, -1):
        grad = _backward(layers[index], weights[index], values[index], values[index + 1], grad)
    return np.abs(grad).sum(axis=0)


def mass_width(heat: np.ndarray, centre, fraction: float = 0.95) -> int:
    """Side of the smallest square around ``centre`` that holds ``fraction`` of ``heat``.

    A way to put one number on an effective receptive field: compare it with
    the theoretical ``rf_size``.

    Examples
    --------
    >>> heat = np.zeros((9, 9)); heat[4, 4] = 8; heat[4, 5] = 1; heat[0, 0] = 1
    >>> mass_width(heat, (4, 4), 0.8), mass_width(heat, (4, 4), 0.9), mass_width(heat, (4, 4), 1.0)
    (1, 3, 9)
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    total = heat.sum()
    if total <= 0:
        return 0
    r0, c0 = centre
    h, w = heat.shape
    for radius in range(max(h, w) + 1):
        inside = heat[max(r0 - radius, 0): r0 + radius + 1, max(c0 - radius, 0): c0 + radius + 1].sum()
        if inside >= fraction * total * (1 - 1e-12):
            return 2 * radius + 1
    return 2 * max(h, w) + 1  # unreachable: the largest square holds everything
