"""The default kernel bank: what a layer built without ``weight`` uses.

The first convolution of a stack gets kernels a student recognises, in this
order (and cycled with new orientations beyond it):

====  ======================  =============================================
 #    name                    what it responds to
====  ======================  =============================================
 0    vertical edge           brightness changing from left to right
 1    horizontal edge         brightness changing from top to bottom
 2    diagonal edge 45°       a change along the rising diagonal
 3    diagonal edge 135°      a change along the falling diagonal
 4    blob                    a bright spot on a dark surround (Laplacian)
 5    blur                    the local average (Gaussian)
 6-9  stripes 0°/45°/90°/135°  a grating of that orientation (Gabor)
====  ======================  =============================================

Each is applied equally across the colour channels (it sees brightness).
Deeper convolutions get seeded random kernels with He scaling
(standard deviation ``sqrt(2 / fan_in)``), the same on every run.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import List, Optional, Sequence

import numpy as np

from .validation import int_at_least, pair

__all__ = ["bank", "bank_names", "random_kernels", "default_weight", "layer_weights"]

_BASE = [("edge", 0), ("edge", 90), ("edge", 45), ("edge", 135), ("blob", 0), ("blur", 0),
         ("stripes", 0), ("stripes", 45), ("stripes", 90), ("stripes", 135)]
_EXTRA_ANGLES = [22.5, 67.5, 112.5, 157.5]


def _specs(count: int):
    """(kind, angle) of the first ``count`` kernels: the base list, then finer angles."""
    specs = list(_BASE)
    for kind in ("edge", "stripes"):
        specs += [(kind, a) for a in _EXTRA_ANGLES]
    while len(specs) < count:  # beyond 18 kernels: blobs and blurs at growing scales
        specs += [("blob", 0), ("blur", 0)]
    return specs[:count]


def _name(kind: str, angle: float) -> str:
    if kind == "edge":
        special = {0: "vertical edge", 90: "horizontal edge"}
        return special.get(angle, f"diagonal edge {angle:g}°")
    if kind == "stripes":
        return f"stripes {angle:g}°"
    return kind


def bank_names(count: int) -> List[str]:
    """Names of the first ``count`` kernels of :func:`bank` (``count`` >= 0).

    Examples
    --------
    >>> bank_names(3)
    ['vertical edge', 'horizontal edge', 'diagonal edge 45°']
    """
    return [_name(*spec) for spec in _specs(int_at_least(count, "count", 0))]


def _one_kernel(kind: str, angle: float, shape, scale: int) -> np.ndarray:
    kh, kw = shape
    y = np.arange(kh) - (kh - 1) / 2
    x = np.arange(kw) - (kw - 1) / 2
    y, x = np.meshgrid(y, x, indexing="ij")
    sy, sx = max(kh / 4, 0.5) * scale, max(kw / 4, 0.5) * scale
    gauss = np.exp(-0.5 * ((y / sy) ** 2 + (x / sx) ** 2))
    theta = np.deg2rad(angle)
    # u runs across the feature: an edge at 0° changes along x (a vertical edge).
    u = x * np.cos(theta) + y * np.sin(theta)
    if kind == "blur":
        return gauss / gauss.sum()
    if kind == "edge":
        kernel = u * gauss
    elif kind == "blob":
        kernel = (1 - ((y / sy) ** 2 + (x / sx) ** 2) / 2) * gauss
    else:  # stripes: a cosine grating under a wider Gaussian window
        period = max(min(kh, kw) / 2, 2.0)
        kernel = np.cos(2 * np.pi * u / period) * np.exp(-0.5 * ((y / (1.5 * sy)) ** 2 + (x / (1.5 * sx)) ** 2))
    kernel = kernel - kernel.mean()  # no response to a flat image
    size = np.abs(kernel).sum()
    if size < 1e-12:  # a 1 x 1 (or 1 x k along the wrong axis) kernel has no edge to show
        return np.ones(shape) / kernel.size
    return 2 * kernel / size  # positive and negative parts each sum to 1


def bank(kernel_size, count: int, in_channels: int = 1) -> np.ndarray:
    """The first ``count`` kernels of the teaching bank.

    Parameters
    ----------
    kernel_size : int or (int, int)
    count : int
        How many kernels (feature maps) to make.
    in_channels : int, default 1
        Each kernel is copied to every channel and divided by their number,
        so it responds to brightness the same way on gray and colour images.

    Returns
    -------
    ndarray, shape (count, in_channels, kh, kw)
        Zero-sum kernels whose positive and negative parts each add to 1 (the
        blur adds to 1), so feature maps of a [0, 1] image stay within [-1, 1].

    Examples
    --------
    >>> k = bank(3, 2)
    >>> k.shape
    (2, 1, 3, 3)
    >>> bool(k[0, 0, :, 0].sum() < 0 < k[0, 0, :, 2].sum())  # dark left, bright right
    True
    """
    shape = pair(kernel_size, "kernel_size", 1)
    count, in_channels = int_at_least(count, "count", 1), int_at_least(in_channels, "in_channels", 1)
    kernels = []
    seen = {}
    for kind, angle in _specs(count):
        repeat = seen[(kind, angle)] = seen.get((kind, angle), 0) + 1
        kernels.append(_one_kernel(kind, angle, shape, scale=repeat))
    stack = np.stack(kernels)[:, None] / in_channels
    return np.repeat(stack, in_channels, axis=1)


def random_kernels(kernel_size, count: int, in_channels: int, seed: int = 0) -> np.ndarray:
    """Seeded random kernels with He scaling, shape ``(count, in_channels, kh, kw)``.

    Examples
    --------
    >>> a = random_kernels(3, 4, 2, seed=1)
    >>> bool(np.array_equal(a, random_kernels(3, 4, 2, seed=1)))
    True
    """
    kh, kw = pair(kernel_size, "kernel_size", 1)
    count, in_channels = int_at_least(count, "count", 1), int_at_least(in_channels, "in_channels", 1)
    seed = int_at_least(seed, "seed", 0)
    rng = np.random.default_rng([seed, count, in_channels, kh, kw])
    return rng.normal(0.0, np.sqrt(2.0 / (in_channels * kh * kw)), (count, in_channels, kh, kw))


def default_weight(layer, conv_index: int) -> np.ndarray:
    """The weights a layer with kernels gets: its own, else the default ones.

    ``conv_index`` counts layers with kernels in the stack (0 for the first
    one): the first gets :func:`bank`, later ones :func:`random_kernels`
    seeded by it. The shape is the layer's ``weight_shape``
    (``(out_channels, in_channels / groups, kh, kw)`` for a convolution).
    """
    if layer.weight is not None:
        return layer.weight
    outs, ins, kh, kw = layer.weight_shape
    return _default((kh, kw), outs, ins, conv_index)


@lru_cache(maxsize=64)
def _default(kernel_size, out_channels: int, in_channels: int, conv_index: int) -> np.ndarray:
    # Cached: explorers and benchmarks ask for the same kernels on every redraw.
    if conv_index == 0:
        weight = bank(kernel_size, out_channels, in_channels)
    else:
        weight = random_kernels(kernel_size, out_channels, in_channels, seed=conv_index)
    weight.setflags(write=False)  # shared between callers: nobody may change it
    return weight


def layer_weights(layers: Sequence) -> List[Optional[np.ndarray]]:
    """The kernels each layer uses: its own, else the default ones (None for layers without kernels).

    A residual block gets one tuple of weights per path. Layers with kernels
    are counted in stack order, inside blocks too, so the first one gets the
    recognisable bank.

    Examples
    --------
    >>> from rfmaps import Conv2d, ReLU
    >>> [None if w is None else w.shape for w in layer_weights([Conv2d(3, 4, 5), ReLU()])]
    [(4, 3, 5, 5), None]
    """
    counter = itertools.count()
    return [_weights_of(layer, counter) for layer in layers]


def _weights_of(layer, counter):
    paths = getattr(layer, "paths", None)
    if paths is not None:  # a composite: one weight list per path
        return tuple(tuple(_weights_of(l, counter) for l in path) for path in paths)
    return default_weight(layer, next(counter)) if layer.has_weights else None
