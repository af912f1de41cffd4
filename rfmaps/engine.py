"""The feature-map engine: real images through conv/pool stacks, in numpy.

Convolution is computed as PyTorch computes ``torch.nn.Conv2d``: a
cross-correlation (the kernel is not flipped) with zero padding, stride,
dilation, bias and any number of input and output channels. Pooling follows
``MaxPool2d`` (padding never wins) and ``AvgPool2d`` (padding counts as zeros
in the mean).

Implementation: every window of the padded input is a strided *view*
(:func:`numpy.lib.stride_tricks.sliding_window_view`); a block of output rows
at a time is copied into a matrix and multiplied with all kernels by one BLAS
product. Memory therefore stays near the size of the output block.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .connectivity import spread_back
from .images import as_float_image
from .kernels import default_weight
from .layers import AvgPool2d, Conv2d, Layer, MaxPool2d, ReLU, ZeroPad2d
from .receptive_field import check_position, layer_index, receptive_fields
from .residual import Residual

__all__ = ["feature_maps", "effective_receptive_field", "layer_weights", "mass_width"]

# Elements of one window matrix (row block x kernel taps): 2 M floats = 8 MB.
_BLOCK_ELEMENTS = 2 * 1024 * 1024


def _channels_first(image, dtype) -> np.ndarray:
    array = as_float_image(image)
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


def _windows(x: np.ndarray, layer: Layer, fill: float) -> np.ndarray:
    """All windows of ``layer`` over ``x`` (C, H, W), as a view (C, oh, ow, kh, kw)."""
    (top, bottom), (left, right) = layer.pads
    if top or bottom or left or right:
        x = np.pad(x, ((0, 0), (top, bottom), (left, right)), constant_values=fill)
    oh, ow = _valid_size(x.shape[1:], layer)
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    view = sliding_window_view(x, layer.effective_kernel_size, axis=(1, 2))
    return view[:, : sh * (oh - 1) + 1: sh, : sw * (ow - 1) + 1: sw, ::dh, ::dw]


def _valid_size(padded_size, layer: Layer):
    """Output size on an already padded input (the caller checked it fits)."""
    return tuple((n - k) // s + 1 for n, k, s in
                 zip(padded_size, layer.effective_kernel_size, layer.stride))


def _conv(x: np.ndarray, weight: np.ndarray, bias, layer: Conv2d) -> np.ndarray:
    windows = _windows(x, layer, 0.0)
    channels, oh, ow, kh, kw = windows.shape
    taps = channels * kh * kw
    kernels = weight.reshape(len(weight), taps).astype(x.dtype)  # (out_channels, taps)
    out = np.empty((len(weight), oh, ow), dtype=x.dtype)
    rows = max(1, _BLOCK_ELEMENTS // max(1, ow * taps))
    for r0 in range(0, oh, rows):  # blocks of output rows bound the memory
        # (taps, pixels) with pixels innermost: the copy runs along image rows.
        block = windows[:, r0: r0 + rows].transpose(0, 3, 4, 1, 2).reshape(taps, -1)
        out[:, r0: r0 + rows] = (kernels @ block).reshape(len(weight), -1, ow)
        del block  # free it before the next block is copied
    if bias is not None:
        out += np.asarray(bias, dtype=x.dtype)[:, None, None]
    return out


def _apply(layer: Layer, x: np.ndarray, weight) -> np.ndarray:
    if isinstance(layer, Conv2d):
        return _conv(x, weight, layer.bias, layer)
    if isinstance(layer, MaxPool2d):
        return _windows(x, layer, -np.inf).max(axis=(-2, -1))
    if isinstance(layer, AvgPool2d):
        return _windows(x, layer, 0.0).mean(axis=(-2, -1))
    if isinstance(layer, ReLU):
        return np.maximum(x, 0)
    if isinstance(layer, ZeroPad2d):
        return np.pad(x, ((0, 0),) + layer.pads)
    if isinstance(layer, Residual):  # the sum of the paths; an empty shortcut is x itself
        return sum(_run_path(path, x, w)[-1] for path, w in zip(layer.paths, weight))
    raise TypeError(f"unknown layer {layer!r}")  # check_layers keeps this unreachable


def _run_path(path, x, weights) -> list:
    """``x`` and the output of every layer of ``path`` after it."""
    values = [x]
    for layer, weight in zip(path, weights):
        values.append(_apply(layer, values[-1], weight))
    return values


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


def _forward(layers, image, dtype):
    """Inputs of every layer and the final output, after all checks."""
    x = _channels_first(image, dtype)
    layers = receptive_fields(layers, x.shape[1:])  # checks sizes, names the layer that fails
    layers = [row.layer for row in layers]
    _check_channels(layers, x.shape[0])
    weights = layer_weights(layers)
    return layers, weights, _run_path(layers, x, weights)


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
    # window (row-major order), as PyTorch does.
    windows = _windows(x, layer, -np.inf)
    kw = layer.kernel_size[1]
    winner = windows.reshape(windows.shape[:3] + (-1,)).argmax(axis=-1)
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
