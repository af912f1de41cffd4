"""The feature-map engine: real images through layer stacks, in numpy.

This module plans a run (checks, weights, output shapes) and walks the stack;
each layer kind computes its own forward and backward pass (see
:mod:`rfmaps.layers.base`; the convolution's matrix product is in
:mod:`rfmaps.layers.conv`, the sliding windows in :mod:`rfmaps._core.sliding`, the
default kernels in :mod:`rfmaps.engine.kernels`).

Caches
------
Every cache of the package, its key, why each part of the key is there, and
its bound in bytes. Each is documented again where it is defined; a new cache
joins this list.

Values kept between calls:

* ``_cached_plan`` here (``functools.lru_cache``, 32 plans): key ``(layers,
  size, channels)``. ``layers`` (hashed by content, weights included) fixes
  the kernels and shapes; ``size`` the output sizes; ``channels`` the channel
  check and the first shapes. A plan holds tuples of shapes, references to
  read-only weights (no copies of its own) and three counts for the memory
  budget (``MAX_RUN_BYTES``): a few kB per plan, beyond the weights the
  layers and ``_default`` hold anyway.
* ``rfmaps.layers.conv._KERNEL_MATRICES`` (dict, at most 64 entries, cleared
  when full): key ``(id(weight), id(bias), s_h, d_h, groups, dtype)``. The
  ids name the arrays (the entry holds both, so no id is reused while it
  lives; the kernel size is the weight's own shape); the row stride ``s_h``
  and row dilation ``d_h`` decide the row phases and shifts, so one weight
  array shared by layers of other geometries (the default bank is shared by
  every layer of the same kernel size and channels) gets a matrix per
  geometry; ``groups`` splits the same array into other blocks (a
  ``(4, 2, k, k)`` array is the kernel of ``Conv2d(2, 4, k)`` and of
  ``Conv2d(4, 4, k, groups=2)``); ``dtype`` is the product's type.
  tests/test_engine.py fails if ``s_h``, ``d_h`` or ``groups`` leaves the key. Only read-only arrays are kept,
  so a kept matrix cannot go stale. Each entry is about the size of its
  weights in that dtype, times the row phases: measured, ResNet-50
  (torchvision, 53 convolutions) keeps 98 MB after a float32 ``feature_maps``;
  a float64 ERF adds entries until 64, so about 300 MB at most for that network.
* ``rfmaps.engine.kernels._default`` (``lru_cache``, 64 banks): key ``(kernel_size,
  out_channels, in_channels / groups, conv_index)``, exactly what decides the
  default kernels (the index picks the bank or the random seed). Bounded by
  64 float64 weight arrays of the layers asked for: ResNet-50's 53 default
  weights take 188 MB (measured).
* ``rfmaps.engine.kernels._MADE`` (dict, 64 keys, cleared when full): key
  ``(kernel_size, in_channels)``, what decides each kernel of the bank (the
  first ``n`` kernels do not depend on how many are asked); the value is the
  list of kernels made so far, at most 1024 (256 colour kernels of 11 x 11
  take 0.7 MB).
* ``rfmaps.layers.base._DIGESTS`` (dict): key ``id`` of a read-only layer
  array, whose BLAKE2 digest layers hash and compare by; a weak reference
  drops the entry with the array, so an id reused later never meets an old
  digest. About 250 bytes per live layer array.
* ``rfmaps.models.trained._weights`` (``lru_cache``, one entry): no key; the shipped
  network's weight file (about 15 kB), read once.
* ``rfmaps.check.variants._stacks`` and ``_growing_stacks`` (``lru_cache``,
  one entry each): no key (they depend on nothing); the tables of stacks the
  assignment variants draw from, a few kB each.
* ``rfmaps.check.feedback._WARNED`` (set): the warnings about an unknown
  ``RFMAPS_FEEDBACK`` value already shown, so each is shown once; one short
  string per distinct value set in the session.
* ``rfmaps.drawing.figures``: ``_bar_pixels`` (``lru_cache``, 32 colour bars,
  key every argument, 4 MB at most) and ``_text_pixels`` (``lru_cache``, 256
  title bitmaps, key ``(text, fontsize, dpi)``, 4 MB at most); ``Key._cache``
  (one legend's bitmap per dpi it is drawn at, key ``dpi``, a legend's
  pixels per dpi, gone with the figure); ``_TICKS`` and ``_TITLES`` (weak dictionaries
  keyed by the axes, gone with them: the tick labels and title artists of
  each axes).
* ``rfmaps.widgets``: each explorer's :class:`rfmaps.widgets._cache.Cache`
  objects (least recently used, bounded in bytes, documented where the
  explorer makes them) and ``rfmaps.widgets._cells.LIVE`` (notebook cell ->
  the explorer shown there, weakly: one entry per cell).

Temporary memory, per call or per thread:

* ``rfmaps._core.sliding.scratch`` (per thread, one buffer per ``(role, dtype)``;
  roles ``padded``, ``windows``, ``products``): reused temporary memory; a
  buffer over 2 M elements (8 MB of float32, 16 MB of float64) is never
  kept, so at most 3 roles x 2 dtypes x 16 MB per thread.
* ``rfmaps.layers.residual._TAPE`` (per thread, only inside
  ``keeping_path_values``): the values inside the blocks of one forward pass,
  kept for the backward pass that follows and dropped when it ends; as large
  as the blocks' inner maps.
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache
from typing import List, Optional, Sequence

import numpy as np

from .images import checked_pixels, image_array
from .kernels import layer_weights
from ..layers import Conv2d, ConvTranspose2d, Layer, MaxPool2d, check_layers
from ..layers.conv import _BLOCK_ELEMENTS as _BLOCK  # values a product of conv.py takes per block of work
from ..layers.residual import keeping_path_values
from .._core.geometry import square_around
from .._core.sliding import _KEEP_ELEMENTS
from ..arithmetic.receptive_field import _sizes_and_geometry
from .._core.validation import ArgumentKindError, check_built_for, check_channel, check_position, layer_index

__all__ = ["feature_maps", "effective_receptive_field", "mass_width"]


def _channels_first(array: np.ndarray, dtype) -> np.ndarray:
    """``array`` (checked by :func:`image_array`) as ``(C, H, W)`` floats in [0, 1] of ``dtype``: one copy.

    The value checks read it a band at a time, and the conversion writes straight into the
    result (the division runs in float64, in numpy's small buffers, as :func:`as_float_image`
    divides), so no other copy of the image is ever made.
    """
    array, scale = checked_pixels(array)
    if array.dtype.kind == "f" and np.finfo(array.dtype).max > np.finfo(dtype).max:
        # 1e300 is finite in float64 but infinite in float32: every map would silently be inf.
        top = np.finfo(dtype).max
        if array.max() > top or array.min() < -top:
            raise ValueError(f"image holds values beyond {top:.2g}, which {np.dtype(dtype).name} cannot hold; "
                             f"images are floats in [0, 1] (or 0..255): rescale it first")
    array = array[None] if array.ndim == 2 else np.moveaxis(array, -1, 0)
    out = np.empty(array.shape, dtype)
    if scale == 1.0:
        np.copyto(out, array, casting="unsafe")
    else:
        np.divide(array, scale, out=out, dtype=np.float64, casting="unsafe")
    return out


def _shapes(layers, rows, channels: int) -> list:
    """``(channels, h, w)`` of every layer's output; checks that the channels chain."""
    shapes = []
    for index, (layer, row) in enumerate(zip(layers, rows)):
        channels = layer.channels_after(channels, f"layer {index}", "the image" if index == 0 else "its input")
        shapes.append((channels,) + row.output_size)
    return shapes


def _plan(layers, size, channels: int):
    """Checked layers, their weights and output shapes, after all checks.

    Cached, because explorers and notebooks run the same stack on the same
    image size again and again (layers are immutable and hashable).
    """
    try:
        return _cached_plan(tuple(layers), size, channels)
    except TypeError:  # something unhashable in the list: let the checks name it
        return _cached_plan.__wrapped__(layers, size, channels)


#: The most bytes one run may hold: the image's copy, every layer's map and, for an effective
#: receptive field (float64), the values inside blocks its backward pass reads, the gradients and
#: each layer's temporaries (see :func:`_run_values`). Beyond it a run is refused with a sentence
#: before anything is allocated, not left to fail (or to swap) inside numpy. The caches listed
#: above are bounded on their own and not counted here.
MAX_RUN_BYTES = 2 ** 30



def _layer_values(layer, channels: int, size) -> tuple:
    """What one layer holds, in values: ``(out, inner, forward, backward)``.

    ``out`` is its map; ``inner`` every map inside it (a block's paths, which a forward pass
    before a backward one keeps); ``forward`` the most its forward pass holds beyond its input
    (its output, temporaries, a block's path maps); ``backward`` the most its backward pass
    holds beyond the maps (the output's gradient, the input's, temporaries). The factors
    follow the code of each pass; tests/test_engine_budget.py checks them against the peak
    memory of real runs.
    """
    out_channels = layer.channels_after(channels)
    out_size = layer.output_size(size)
    a, b = channels * math.prod(size), out_channels * math.prod(out_size)
    big = max(a, b)
    inner, inner_forward, inner_backward = 0, 0, 0
    for path in getattr(layer, "paths", ()):  # Residual and Concat: their paths' maps, recursively
        c, n = channels, size
        for part in path:
            part_out, part_inner, part_forward, part_backward = _layer_values(part, c, n)
            inner += part_out + part_inner
            inner_forward = max(inner_forward, part_forward)
            inner_backward = max(inner_backward, part_backward)
            c, n = part.channels_after(c), part.output_size(n)
    # A convolution never builds its padded input (it gathers windows a block of rows at a time):
    # its forward pass holds its output; other kinds may copy the padded input (tap views).
    forward = (b if isinstance(layer, (Conv2d, ConvTranspose2d)) else big) + inner + inner_forward
    # The backward pass: the output's gradient (b), the input's (a) and the layer's own temporaries.
    taps = math.prod(getattr(layer, "kernel_size", (1, 1)))
    if isinstance(layer, MaxPool2d):  # np.argmax of the list of tap views stacks them and copies that once more
        work = 2 * taps * b + b
    elif isinstance(layer, Conv2d) and layer.groups == 1:
        # Every tap times the gradient, a block of input channels at a time (added into the input's
        # gradient, padded); a block over 2 M values is not reused, so two are alive while the next is made.
        per_block = taps * math.prod(out_size)
        block = max(1, min(channels, _BLOCK // per_block))
        work = block * per_block * (2 if block < channels else 1)
    elif isinstance(layer, ConvTranspose2d):  # a convolution forward, a block of rows at a time
        work = 2 * _BLOCK
    else:  # a product, or a mask, the size of a map (a block's paths: their own work, and their sum)
        work = big + inner_backward
    backward = b + a + work
    if isinstance(layer, (Conv2d, ConvTranspose2d)):
        forward += 2 * _BLOCK  # the window matrix and the products, a block of rows at a time
    return b, inner, forward, backward


def _run_values(layers, size, channels: int) -> tuple:
    """The most values a forward pass (``feature_maps``) and a forward and backward pass (the
    effective field) hold at once, and the layer whose maps are largest.

    The forward pass holds the image and every map so far, plus the layer's own work; the
    backward pass walks back with the maps before the layer (each map goes once its gradient is
    through), the layer's own maps and its work.
    """
    image = channels * math.prod(size) + 3 * _KEEP_ELEMENTS  # and the three scratch buffers a thread keeps
    rows, c, n = [], channels, size
    for layer in layers:
        rows.append(_layer_values(layer, c, n))
        c, n = layer.channels_after(c), layer.output_size(n)
    forward = gradient = 0
    kept = kept_all = image
    for out, inner, work, back in rows:
        forward = max(forward, kept + work)
        gradient = max(gradient, kept_all + out + inner + back)  # the forward pass keeps inner maps: in back
        kept, kept_all = kept + out, kept_all + out + inner
    largest = max(range(len(rows)), key=lambda i: rows[i][0] + rows[i][1])
    return forward, max(gradient, forward), largest


@lru_cache(maxsize=32)
def _cached_plan(layers, size, channels: int):
    # Sizes only (checks them, names the layer that fails): the largest field of each layer is not needed.
    rows = _sizes_and_geometry(check_layers(layers), size)
    layers = tuple(row.layer for row in rows)
    shapes = _shapes(layers, rows, channels)
    # Tuples: the cache hands the same plan to every caller.
    return layers, tuple(layer_weights(layers)), tuple(shapes), _run_values(layers, size, channels)


def _check_budget(plan, size, channels: int, dtype, gradients: bool) -> None:
    """Refuse, before anything is allocated, a run that would hold more than ``MAX_RUN_BYTES``."""
    layers, _, shapes, (forward, backward, index) = plan
    values = backward if gradients else forward
    itemsize = np.dtype(dtype).itemsize
    needed = values * itemsize
    if needed > MAX_RUN_BYTES:
        what = "the effective receptive field (float64, with its gradients)" if gradients else \
            "the feature maps (float32)"
        start = (f"{what} of this stack on a {size[0]} x {size[1]} image would need about "
                 f"{needed / 2 ** 30:,.1f} GiB, more than the {MAX_RUN_BYTES / 2 ** 30:g} GiB one run may use; ")
        image = channels * math.prod(size) * itemsize
        c, h, w = shapes[index]
        if image >= c * h * w * itemsize:  # the image is the largest map: it is the cost to cut
            raise ValueError(start + f"the image itself ({size[0]} x {size[1]} x {channels}) takes "
                             f"{image / 2 ** 30:,.2f} GiB of it. Use a smaller image, e.g. image[::2, ::2]")
        raise ValueError(
            start + f"the largest map is layer {index}'s ({layers[index]!r}: {c} x {h} x {w}). Use a smaller "
            f"image, or a smaller scale_factor (Upsample), stride (ConvTranspose2d) or number of channels")


def _check_built_for(layers, image) -> None:
    """A network built for one input size (TF-slim's 'SAME' padding) refuses an image of another."""
    if isinstance(getattr(layers, "input_size", None), tuple):
        check_built_for(layers, np.shape(image)[:2])


def _forward(layers, image, dtype, gradients: bool = False):
    """Inputs of every layer and the final output; ``gradients``: a backward pass follows (budget)."""
    array = image_array(image)  # shape checks only (no copy): nothing is read or copied before the budget says yes
    size, channels = array.shape[:2], 1 if array.ndim == 2 else array.shape[2]
    plan = _plan(layers, size, channels)
    _check_budget(plan, size, channels, dtype, gradients)
    layers, weights, shapes, _ = plan
    x = _channels_first(array, dtype)
    values = [x]
    for layer, weight, shape in zip(layers, weights, shapes):
        values.append(layer.forward(values[-1], weight, np.empty(shape, dtype)))
    return layers, weights, values


def feature_maps(layers: Sequence[Layer], image) -> List[np.ndarray]:
    """The feature maps of every layer for one image.

    Parameters
    ----------
    layers : sequence of Layer
        Convolutions built without ``weight`` use :mod:`rfmaps.engine.kernels`.
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
    image = image_array(image)  # a channels-first image is named as such before any size is compared
    _check_built_for(layers, image)
    _, _, values = _forward(layers, image, np.float32)
    return values[1:]


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
    image = image_array(image)  # a channels-first image is named as such before any size is compared
    _check_built_for(layers, image)
    layers = check_layers(layers)
    last = layer_index(layer, len(layers))
    # The blocks keep their inner values for the backward pass, which would else run them again.
    with keeping_path_values():
        # Only the layers up to the neuron's matter; later ones need not even fit the image.
        layers, weights, values = _forward(layers[: last + 1], image, np.float64, gradients=True)
        output = values[last + 1]
        position = check_position(position, output.shape[1:])
        grad = np.zeros_like(output)
        if channel is None:
            grad[:, position[0], position[1]] = 1.0
        else:
            grad[check_channel(channel, output.shape[0]), position[0], position[1]] = 1.0
        for index in range(last, -1, -1):
            grad = layers[index].backward(weights[index], values[index], values[index + 1], grad)
            values[index + 1] = None  # let each map go once its gradient is through
    return np.abs(grad).sum(axis=0)


def mass_width(heat: np.ndarray, centre, fraction: float = 0.95) -> int:
    """Side of the smallest square around ``centre`` that holds ``fraction`` of ``heat``.

    A way to put one number on an effective receptive field: compare it with
    the theoretical ``rf_size``.

    Parameters
    ----------
    heat : array_like, 2-D, finite values >= 0
        An effective receptive field. Like every array argument of rfmaps it
        may be anything numpy reads as an array, nested lists included.
    centre : (int, int)
    fraction : float in (0, 1]

    Examples
    --------
    >>> heat = np.zeros((9, 9)); heat[4, 4] = 8; heat[4, 5] = 1; heat[0, 0] = 1
    >>> mass_width(heat, (4, 4), 0.8), mass_width(heat, (4, 4), 0.9), mass_width(heat, (4, 4), 1.0)
    (1, 3, 9)
    >>> mass_width([[0, 1, 0], [1, 4, 1], [0, 1, 0]], (1, 1), 0.5)
    1
    """
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real):
        raise ArgumentKindError(f"fraction must be a number in (0, 1], got {type(fraction).__name__} {fraction!r}")
    if not 0 < fraction <= 1:  # NaN fails too
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    try:
        heat = np.asarray(heat)
    except ValueError:  # ragged nested lists
        raise ValueError("heat must be a rectangular 2-D array (all rows of one length)") from None
    if heat.dtype == object or not (np.issubdtype(heat.dtype, np.number) or heat.dtype == bool) \
            or np.issubdtype(heat.dtype, np.complexfloating):
        raise ArgumentKindError(f"heat must be a 2-D array of real numbers, got dtype {heat.dtype}")
    if heat.ndim != 2 or heat.size == 0:
        raise ValueError(f"heat must be a non-empty 2-D array of numbers, got shape {heat.shape}")
    if not np.all(np.isfinite(heat)) or heat.min() < 0:
        raise ValueError("heat must hold finite values >= 0 (an effective field is |gradient|)")
    centre = check_position(centre, heat.shape, "centre")
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


def mass_square(heat: np.ndarray, box, fraction: float = 0.9) -> int:
    """Side of the smallest square centred on a neuron's field ``box`` that holds ``fraction`` of ``heat``.

    The square shares the field's exact centre, a half pixel when a side of
    the field is even (:func:`rfmaps._core.geometry.square_around` places it), so a
    2 x 2 field gives even squares and a 3 x 3 one odd squares. When ``heat``
    is 0 outside ``box`` (an effective field always is), the answer is at most
    the field's longer side. Pixels of the square outside the image count 0.

    Parameters
    ----------
    heat : 2-D array of finite values >= 0
        An effective receptive field.
    box : ((top, bottom), (left, right))
        The neuron's theoretical field, padding included
        (:attr:`rfmaps.arithmetic.receptive_field.NeuronField.box`).
    fraction : float in (0, 1]

    Returns
    -------
    int
        The side; 0 when ``heat`` is 0 everywhere.

    Examples
    --------
    >>> heat = np.zeros((8, 8)); heat[3:5, 3:5] = 1; heat[3, 3] = 7
    >>> mass_square(heat, ((3, 4), (3, 4)), 0.7), mass_square(heat, ((3, 4), (3, 4)), 0.9)
    (1, 2)
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float, np.number)) \
            or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    heat = np.asarray(heat)
    if heat.ndim != 2 or heat.size == 0 or not np.issubdtype(heat.dtype, np.number):
        raise ValueError(f"heat must be a non-empty 2-D array of numbers, got shape {heat.shape}")
    if not np.all(np.isfinite(heat)) or heat.min() < 0:
        raise ValueError("heat must hold finite values >= 0 (an effective field is |gradient|)")
    try:
        (top, bottom), (left, right) = box
        ok = all(isinstance(v, (int, np.integer)) for v in (top, bottom, left, right)) and top <= bottom \
            and left <= right
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"box must be ((top, bottom), (left, right)) of ints with top <= bottom and "
                         f"left <= right, got {box!r}")
    total = float(heat.sum(dtype=np.float64))
    if total <= 0:
        return 0
    # A summed-area table: each square's mass in four look-ups, not a sum over its pixels.
    table = np.zeros((heat.shape[0] + 1, heat.shape[1] + 1))
    table[1:, 1:] = heat.astype(np.float64).cumsum(0).cumsum(1)
    h, w = heat.shape
    side = 1
    while True:
        (r0, r1), (c0, c1) = square_around(box, side)
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, h - 1) + 1, min(c1, w - 1) + 1
        inside = table[r1, c1] - table[r0, c1] - table[r1, c0] + table[r0, c0] if r0 < r1 and c0 < c1 else 0.0
        # The relative slack absorbs the rounding of the cumulative sums, so fraction 1 is reached.
        if inside >= fraction * total * (1 - 1e-12) or (r0, c0, r1, c1) == (0, 0, h, w):
            return side
        side += 1
