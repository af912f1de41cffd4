"""A small trained CNN that ships with rfmaps: real learnt kernels, no torch needed.

Three convolutions (5 x 5, then two 3 x 3, eight kernels each) with ReLU and
two 2 x 2 max pools, trained to tell four kinds of synthetic 32 x 32 images
apart (a disk, stripes, a checkerboard, an edge; see
:func:`training_image`). ``tools/train_small_cnn.py`` in the repository
trains it again and, on any x86-64 computer, gives these weights to within
1e-6 (its docstring says how); the file ``rfmaps/models/data/small_cnn.npz`` (a few
kB) holds them, read here with numpy.

The same network before training (its seeded initial weights) comes with it,
so the two can be compared layer by layer.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import List, cast

import numpy as np

from ..engine.maps import effective_receptive_field
from ..engine.images import checkerboard, disk, step, stripes
from ..layers import Conv2d, Layer, MaxPool2d, ReLU
from ..arithmetic.receptive_field import receptive_fields

__all__ = ["small_cnn", "accuracy", "CLASSES", "training_image", "shape_image", "shape_images",
           "mean_effective_field", "neighbour_correlation"]

#: The four classes the network learnt to tell apart.
CLASSES = ("disk", "stripes", "checkerboard", "edge")
# Index in the torch model's features Sequential of each convolution (tools/train_small_cnn.py).
_CONVS = (0, 3, 6)
# How far (pixels) a training image's shape moves from the centre, at most, along each axis.
_SHIFT = 6


@lru_cache(maxsize=1)
def _weights() -> dict:
    # Read once (a few kB): key none, bound one file.
    with resources.files("rfmaps.models").joinpath("data").joinpath("small_cnn.npz").open("rb") as handle:
        with np.load(handle) as data:
            return {name: data[name] for name in data.files}


def small_cnn(trained: bool = True) -> List[Layer]:
    """The shipped network's convolutional part as rfmaps layers, weights included.

    Parameters
    ----------
    trained : bool, default True
        False gives the same network with the random weights it started from.

    Returns
    -------
    list of Layer
        ``Conv2d(1, 8, 5, padding=2), ReLU, MaxPool2d(2), Conv2d(8, 8, 3, padding=1),
        ReLU, MaxPool2d(2), Conv2d(8, 8, 3, padding=1), ReLU``.

    Examples
    --------
    >>> from rfmaps import receptive_fields
    >>> layers = small_cnn()
    >>> len(layers), layers[0].weight.shape
    (8, (8, 1, 5, 5))
    >>> receptive_fields(layers, 32)[-1].rf_size
    (20, 20)
    """
    if not isinstance(trained, bool):
        raise TypeError(f"trained must be True or False, got {trained!r}")
    weights = _weights()
    prefix = "trained" if trained else "initial"

    def conv(index: int, cin: int, k: int) -> Conv2d:
        name = f"{prefix}/0.{index}"
        return Conv2d(cin, 8, k, padding=k // 2, weight=weights[f"{name}.weight"], bias=weights[f"{name}.bias"])

    return [conv(0, 1, 5), ReLU(), MaxPool2d(2), conv(3, 8, 3), ReLU(), MaxPool2d(2), conv(6, 8, 3), ReLU()]


def accuracy() -> float:
    """The trained network's accuracy on 400 held-out images (four classes: chance is 0.25)."""
    return float(_weights()["accuracy"])


def training_image(kind: str, size: int = 32) -> np.ndarray:
    """A clean example of one class the network was trained on (its training images add
    random moves, turns and noise).

    Examples
    --------
    >>> training_image("disk").shape
    (32, 32)
    """
    makers = {"disk": lambda: disk(size, radius=size / 4), "stripes": lambda: stripes(size, angle=30, period=7),
              "checkerboard": lambda: checkerboard(size, square=max(1, size // 8)), "edge": lambda: step(size)}
    if kind not in makers:
        raise ValueError(f"kind must be one of {', '.join(map(repr, CLASSES))}, got {kind!r}")
    return makers[kind]()


def shape_image(kind: int, rng: np.random.Generator, size: int = 32) -> np.ndarray:
    """One training image of class ``CLASSES[kind]``: moved, scaled and turned at random, with noise.

    ``tools/train_small_cnn.py`` draws its training data with this function.
    The shape is drawn on a canvas 12 pixels wider than the image, turned by
    a multiple of 90 degrees, and a ``size x size`` window is cut from it at a
    random offset of up to 6 pixels from the centre: the shape moves without
    wrapping round the border (``np.roll`` would leave a seam).

    Examples
    --------
    >>> shape_image(0, np.random.default_rng(0)).shape
    (32, 32)
    """
    canvas = size + 2 * _SHIFT
    if kind == 0:
        image = disk(canvas, radius=rng.uniform(4, 11) * size / 32)
    elif kind == 1:
        image = stripes(canvas, angle=rng.uniform(0, 180), period=rng.uniform(5, 10))
    elif kind == 2:
        image = checkerboard(canvas, square=int(rng.integers(3, 7)))
    elif kind == 3:
        image = step(canvas)
    else:
        raise ValueError(f"kind must be an int from 0 to {len(CLASSES) - 1}, got {kind!r}")
    image = np.rot90(image, int(rng.integers(4)))
    top, left = rng.integers(0, 2 * _SHIFT + 1, size=2)
    image = image[top: top + size, left: left + size]
    contrast = rng.uniform(0.5, 1.0)
    return np.clip(0.5 + contrast * (image - 0.5) + rng.normal(0, 0.1, image.shape), 0, 1)


def shape_images(count: int = 16, seed: int = 0, size: int = 32) -> list:
    """``count`` images like those the network was trained on, ``count / 4`` of each class (seeded).

    Examples
    --------
    >>> len(shape_images(8))
    8
    """
    rng = np.random.default_rng(seed)
    return [shape_image(i % len(CLASSES), rng, size) for i in range(count)]


def mean_effective_field(layers, images, position=None) -> np.ndarray:
    """The effective receptive field of one neuron of the last layer, averaged over ``images``.

    One image gives one field, shaped by which ReLUs that image switches on
    and which inputs win the max pools; the average over many shows what the
    network does in general (as Luo et al. average over many inputs).

    Parameters
    ----------
    layers : sequence of Layer
    images : sequence of array_like
        All of the same size.
    position : (int, int), optional
        The neuron (row, col) in the last layer's output; its centre by default.

    Examples
    --------
    >>> field = mean_effective_field(small_cnn(), shape_images(4))
    >>> field.shape
    (32, 32)
    """
    images = list(images)
    if not images:
        raise ValueError("images must hold at least one image")
    if position is None:
        h, w = receptive_fields(layers, np.shape(images[0])[:2])[-1].output_size
        position = (h // 2, w // 2)
    # A sum of at least one array is an array (typeshed's sum also allows its start, the int 0).
    return cast(np.ndarray, sum(effective_receptive_field(layers, position, image) for image in images)) / len(images)


def neighbour_correlation(kernels) -> float:
    """How much side-by-side weights of the kernels agree: near 0 for noise, up to 1 for smooth kernels.

    The correlation of each weight with its right and its lower neighbour,
    over all kernels, after removing each kernel's mean (so that a kernel of
    one sign does not count as smooth). Random initial weights give about 0;
    kernels made of patches of one sign (blobs, edges) give clearly more.

    Parameters
    ----------
    kernels : array_like, shape (n, k, k)
        Single-channel kernels, such as ``small_cnn()[0].weight[:, 0]``.

    Examples
    --------
    >>> round(neighbour_correlation(np.ones((1, 3, 3)) * [[0, 1, 2]]), 3)   # a ramp: smooth
    0.571
    """
    k = np.asarray(kernels, dtype=float)
    if k.ndim != 3 or min(k.shape[1:]) < 2:
        raise ValueError(f"kernels must have shape (n, k, k) with k >= 2, got shape {k.shape}")
    k = k - k.mean(axis=(1, 2), keepdims=True)
    pairs = [(k[:, :, 1:], k[:, :, :-1]), (k[:, 1:, :], k[:, :-1, :])]
    products = sum(float((a * b).sum()) for a, b in pairs)
    energy = sum(float(np.sqrt((a * a).sum() * (b * b).sum())) for a, b in pairs)
    return products / energy
