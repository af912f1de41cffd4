"""The default kernel bank: what a layer built without ``weight`` uses.

The first convolution of a stack gets kernels like those a CNN learns in its
first layer (Krizhevsky et al. 2012, Fig. 3; Zeiler & Fergus 2014): edges and
gratings at many angles, centre-surround spots and, on colour images,
colour-opponent edges, stripes and blobs. The first ten are the classic
teaching kernels, the same for every number of input channels:

====  ======================  =============================================
 #    name                    what it responds to
====  ======================  =============================================
 0    vertical edge           brightness changing from left to right
 1    horizontal edge         brightness changing from top to bottom
 2    diagonal edge 45°       an edge along the rising diagonal (dark above left, bright below right)
 3    diagonal edge 135°      an edge along the falling diagonal (dark above right, bright below left)
 4    blob                    a bright spot on a dark surround (Laplacian of Gaussian)
 5    blur                    the local average (Gaussian)
 6-9  stripes 0°/45°/90°/135°  a grating of that orientation (Gabor)
====  ======================  =============================================

An angle θ is the direction (from the x axis, turning towards the lower
rows) in which the weights change; the edge or the stripes run across it, so
0° gives vertical ones. With three (RGB) input channels kernels 10 to 99 are:

=====  ====================================================================
 #     kernels (:func:`bank_names` names each one)
=====  ====================================================================
10-15  red-green edge 0°, blue-yellow edge 90°, red-green and blue-yellow
       blobs, red centre with green surround, blue centre with yellow surround
16-23  edges at 22.5°, 67.5°, 112.5° and 157.5°, then fine even gratings there
24-29  red-green edges at 45°/90°/135°, blue-yellow edges at 0°/45°/135°
30-37  fine gratings, phase 45°, at the eight angles 0°, 22.5°, ..., 157.5°
38-45  red-cyan, green-magenta, red-blue and green-blue blobs; green centre
       with red surround, yellow centre with blue surround; red-green and
       blue-yellow centre-surround (narrow)
46-53  red-green and blue-yellow edges at 22.5°, 67.5°, 112.5°, 157.5°
54-61  fine gratings, phase 135°, at the eight angles
62     centre-surround, narrow (gray)
63-70  red-green and blue-yellow stripes at 0°/45°/90°/135°
71-86  red-cyan, green-magenta, red-blue and green-blue edges at 0°/45°/90°/135°
87-94  red-cyan and green-magenta stripes at 0°/45°/90°/135°
95-99  red-cyan and green-magenta centre-surround (narrow); red-green,
       blue-yellow and red-cyan centre-surround (wide)
=====  ====================================================================

Then come a green-magenta wide centre-surround; medium gratings (even, odd,
phase 45° and 135°) and fine odd ones; red-green and blue-yellow fine
gratings; edges at 22.5° to 157.5° in the other four colour pairs; red-blue
and green-blue stripes and centre-surrounds; after those (189 kernels) the
stripes and gratings again at angles in between: 11.25° past the ones before,
then 5.625°, 16.875°, and so on. No two kernels share a name.

Edges are the coarse odd kernels (a derivative of a Gaussian). Stripes are
gratings whose period is half the kernel (at least 2 pixels); fine gratings
have a period of 1/3.5 of it (at least 2.5 pixels), medium ones half of it (at
least 3.5 pixels). An even grating has a bright line through the centre, an
odd one an edge there; phases 45° and 135° lie between (learnt kernels need
not be centred). Centre-surround kernels are differences of Gaussians. "A-B"
kernels weigh colour A positive and colour B negative (a red-green edge at 0°
answers red to the right of green) and add to zero over the channels at
every pixel, so gray images leave them silent; a single-opponent kernel (one
colour in the centre, another in the surround) also sees brightness, like a
centre-surround.

With any other number of input channels there is no colour to oppose: the
bank is the gray kernels alone, in the same order (kernel 10 is then
'edge 22.5°'); pass the channel count to :func:`bank_names` for the names.
A gray kernel is copied to every channel and divided by their number, so it
responds to brightness the same way on gray and colour images.

How different they are, measured by ``tests/test_kernel_bank.py``: two
kernels "nearly repeat" when the Pearson correlation of their weights (each
kernel minus its mean) exceeds 0.95 in absolute value. With three channels
65 of the first 100 kernels use colour, and at 5 × 5 and larger none of the
first 256 nearly repeats an earlier one; at 3 × 3 one of the first 100 does
(the gray narrow centre-surround: 9 pixels leave it no room to differ from
the blob) and many beyond 100 do, as 27 weights leave no room for more
frequencies or angles in between. Gray banks (other channel counts) have no
near repeat in the first 128 kernels at 5 × 5 and larger, and in the first
34 at 3 × 3.

Every kernel but the blur adds to zero, its positive weights adding to 1 and
its negative ones to -1 (over all channels), so feature maps of a [0, 1]
image stay within [-1, 1]; the blur adds to 1. A kernel too small for its
pattern (any at 1 × 1, the blob and centre-surrounds at 2 × 2, stripes of
period 2 across an even number of pixels) falls back to a flat one: a gray
kernel to the local average, a colour one to its colour contrast alone. The
bank involves no randomness.

Deeper convolutions get seeded random kernels with He scaling
(standard deviation ``sqrt(2 / fan_in)``), the same on every run.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Iterator, List, NamedTuple, Optional, Sequence

import numpy as np

from .._core.validation import int_at_least, pair

__all__ = ["bank", "bank_names", "random_kernels", "default_weight", "layer_weights"]

# Colour-opponent directions: weights on (red, green, blue) adding to exactly 0 in floating point
# (halves and ones), so these kernels sum to exactly 0 over the channels at every pixel.
_OPPONENT = {
    "red-green": (1.0, -1.0, 0.0),
    "blue-yellow": (-0.5, -0.5, 1.0),
    "red-cyan": (1.0, -0.5, -0.5),
    "green-magenta": (-0.5, 1.0, -0.5),
    "red-blue": (1.0, 0.0, -1.0),
    "green-blue": (0.0, 1.0, -1.0),
}
# Colours of single-opponent centre-surround kernels: the weights of each add to 1.
_COLOURS = {"red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
            "yellow": (0.5, 0.5, 0.0)}
# Difference of Gaussians: (centre, surround) widths, in units of the kernel's Gaussian width.
_DOG = {"narrow": (0.4, 1.0), "wide": (1.0, 2.0), "single": (0.5, 1.5)}
_BLOB_WIDTH = 0.75  # the blob's Gaussian, in units of the blur's: a spot clearly narrower than the blur
_TURNING = ("stripes", "grating")  # kinds repeated at angles in between (edges stay alike when turned)


class _Spec(NamedTuple):
    """One kernel. ``colour`` None is gray; an ``_OPPONENT`` key; or ``'centre/surround'`` for a
    single-opponent kernel. ``detail``: a grating's frequency or a centre-surround's width."""

    kind: str
    angle: float = 0.0
    colour: Optional[str] = None
    detail: str = ""
    phase: float = 0.0


def _catalogue() -> tuple:
    """Every kernel of the bank but the angles in between, in order (the first 100 as in the table)."""
    s = _Spec
    a4, b4 = (0.0, 45.0, 90.0, 135.0), (22.5, 67.5, 112.5, 157.5)
    a8 = tuple(sorted(a4 + b4))
    rg, by, rc, gm, rb, gb = _OPPONENT
    specs = [s("edge", 0), s("edge", 90), s("edge", 45), s("edge", 135), s("blob"), s("blur"),
             s("stripes", 0), s("stripes", 45), s("stripes", 90), s("stripes", 135)]
    specs += [s("edge", 0, rg), s("edge", 90, by), s("colour blob", 0, rg), s("colour blob", 0, by),
              s("single", 0, "red/green"), s("single", 0, "blue/yellow")]
    specs += [s("edge", a) for a in b4] + [s("grating", a, None, "fine", 0) for a in b4]
    specs += [s("edge", a, rg) for a in (45, 90, 135)] + [s("edge", a, by) for a in (0, 45, 135)]
    specs += [s("grating", a, None, "fine", 45) for a in a8]
    specs += [s("colour blob", 0, c) for c in (rc, gm, rb, gb)]
    specs += [s("single", 0, "green/red"), s("single", 0, "yellow/blue"),
              s("centre-surround", 0, rg, "narrow"), s("centre-surround", 0, by, "narrow")]
    specs += [s("edge", a, c) for c in (rg, by) for a in b4]
    specs += [s("grating", a, None, "fine", 135) for a in a8]
    specs += [s("centre-surround", 0, None, "narrow")]  # late: at 3 x 3 it has no room to differ from the blob
    specs += [s("stripes", a, c) for c in (rg, by) for a in a4]
    specs += [s("edge", a, c) for c in (rc, gm, rb, gb) for a in a4]
    specs += [s("stripes", a, c) for c in (rc, gm) for a in a4]
    specs += [s("centre-surround", 0, c, "narrow") for c in (rc, gm)]
    specs += [s("centre-surround", 0, c, "wide") for c in (rg, by, rc, gm)]  # 97 to 100
    # Beyond the table: medium gratings, fine odd ones, colour kernels in more colours.
    specs += [s("grating", a, None, "medium", 0) for a in b4]
    specs += [s("grating", a, c, "fine", 0) for c in (rg, by) for a in b4]
    specs += [s("grating", a, None, "medium", 90) for a in a8] + [s("edge", a, c) for c in (rc, gm) for a in b4]
    specs += [s("grating", a, None, "fine", 90) for a in a8] + [s("edge", a, c) for c in (rb, gb) for a in b4]
    specs += [s("grating", a, None, "medium", 45) for a in a8] + [s("stripes", a, c) for c in (rb, gb) for a in a4]
    specs += [s("grating", a, None, "medium", 135) for a in a8]
    specs += [s("centre-surround", 0, c, width) for width in ("narrow", "wide") for c in (rb, gb)]
    specs += [s("grating", a, c, "fine", phase) for phase in (45, 135) for c in (rg, by) for a in a4]
    return tuple(specs)


_CATALOGUE = _catalogue()


def _offsets() -> Iterator[float]:
    """Angles in between the catalogue's multiples of 22.5°: 11.25, 5.625, 16.875, 2.8125, ..."""
    for level in itertools.count(1):
        for odd in range(1, 2 ** level, 2):
            yield 22.5 * odd / 2 ** level


def _sequence(colour: bool) -> Iterator[_Spec]:
    first = [spec for spec in _CATALOGUE if colour or spec.colour is None]
    yield from first
    turning = [spec for spec in first if spec.kind in _TURNING]
    for offset in _offsets():
        for spec in turning:
            yield spec._replace(angle=spec.angle + offset)


def _specs(count: int, colour: bool) -> List[_Spec]:
    """The first ``count`` kernels: the catalogue (gray ones only without colour), then angles in between."""
    return list(itertools.islice(_sequence(colour), count))


def _name(spec: _Spec) -> str:
    angle = f"{spec.angle:g}°"
    colour = f"{spec.colour} " if spec.colour else ""
    if spec.kind == "edge":
        if not colour and spec.angle in (0, 90):
            return "vertical edge" if spec.angle == 0 else "horizontal edge"
        if not colour and spec.angle in (45, 135):
            return f"diagonal edge {angle}"
        return f"{colour}edge {angle}"
    if spec.kind == "stripes":
        return f"{colour}stripes {angle}"
    if spec.kind == "grating":
        phases: dict[float, str] = {0: "even", 90: "odd"}
        phase = phases.get(spec.phase, f"phase {spec.phase:g}°")
        return f"{colour}grating {angle}, {spec.detail}, {phase}"
    if spec.kind == "single":
        assert spec.colour is not None  # the catalogue names both colours of every single-opponent kernel
        centre, surround = spec.colour.split("/")
        return f"{centre} centre, {surround} surround"
    if spec.kind == "centre-surround":
        return f"{colour}centre-surround, {spec.detail}"
    if spec.kind == "colour blob":
        return f"{colour}blob"
    return spec.kind  # blob, blur


def bank_names(count: int, in_channels: int = 1) -> List[str]:
    """Names of the first ``count`` kernels of :func:`bank` (``count`` >= 0), all different.

    With ``in_channels`` 3 they include the colour kernels; with any other
    count (1 by default, as :func:`bank`) the bank is gray. The first ten are
    the same either way.

    Examples
    --------
    >>> bank_names(3)
    ['vertical edge', 'horizontal edge', 'diagonal edge 45°']
    >>> bank_names(12, in_channels=3)[10:]
    ['red-green edge 0°', 'blue-yellow edge 90°']
    >>> bank_names(12)[10:]
    ['edge 22.5°', 'edge 67.5°']
    """
    count = int_at_least(count, "count", 0)
    in_channels = int_at_least(in_channels, "in_channels", 1)
    return [_name(spec) for spec in _specs(count, in_channels == 3)]


def _grid(shape):
    kh, kw = shape
    y = np.arange(kh) - (kh - 1) / 2
    x = np.arange(kw) - (kw - 1) / 2
    y, x = np.meshgrid(y, x, indexing="ij")
    return y, x, max(kh / 4, 0.5), max(kw / 4, 0.5)


def _gauss(y, x, sy, sx, width=1.0):
    return np.exp(-0.5 * ((y / (width * sy)) ** 2 + (x / (width * sx)) ** 2))


def _dog(y, x, sy, sx, detail):
    centre, surround = _DOG[detail]
    inner, outer = _gauss(y, x, sy, sx, centre), _gauss(y, x, sy, sx, surround)
    return inner / inner.sum() - outer / outer.sum()


def _pattern(spec: _Spec, shape) -> np.ndarray:
    """The spatial pattern of a kernel, not yet scaled."""
    y, x, sy, sx = _grid(shape)
    gauss = _gauss(y, x, sy, sx)
    theta = np.deg2rad(spec.angle)
    # u runs across the feature: an edge at 0° changes along x (a vertical edge).
    u = x * np.cos(theta) + y * np.sin(theta)
    if spec.kind == "edge":
        return u * gauss
    if spec.kind in ("blur", "colour blob"):
        return gauss
    if spec.kind == "blob":
        by, bx = _BLOB_WIDTH * sy, _BLOB_WIDTH * sx
        return (1 - ((y / by) ** 2 + (x / bx) ** 2) / 2) * _gauss(y, x, by, bx)
    if spec.kind == "centre-surround":
        return _dog(y, x, sy, sx, spec.detail)
    # stripes and gratings: a cosine grating under a wider Gaussian window
    side = min(shape)
    period = {"fine": max(side / 3.5, 2.5), "medium": max(side / 2, 3.5)}.get(spec.detail, max(side / 2, 2.0))
    return np.cos(2 * np.pi * u / period - np.deg2rad(spec.phase)) * _gauss(y, x, sy, sx, 1.5)


def _gray_kernel(spec: _Spec, shape) -> np.ndarray:
    kernel = _pattern(spec, shape)
    if spec.kind == "blur":
        return kernel / kernel.sum()
    kernel = kernel - kernel.mean()  # no response to a flat image
    size = np.abs(kernel).sum()
    if size < 1e-12:  # a 1 x 1 (or 1 x k along the wrong axis) kernel has no edge to show
        return np.ones(shape) / kernel.size
    return 2 * kernel / size  # positive and negative parts each sum to 1


def _colour_kernel(spec: _Spec, shape) -> np.ndarray:
    """A (3, kh, kw) kernel whose positive and negative parts each sum to 1."""
    assert spec.colour is not None  # the bank sends only coloured specs here
    if spec.kind == "single":  # one colour in the centre, another in the surround
        y, x, sy, sx = _grid(shape)
        centre, surround = (np.array(_COLOURS[c])[:, None, None] for c in spec.colour.split("/"))
        inner, outer = (_gauss(y, x, sy, sx, width) for width in _DOG["single"])
        kernel = centre * (inner / inner.sum()) - surround * (outer / outer.sum())
        return 2 * kernel / np.abs(kernel).sum()
    opponent: np.ndarray = np.array(_OPPONENT[spec.colour])[:, None, None]
    pattern = _pattern(spec, shape)
    if spec.kind != "colour blob":
        pattern = pattern - pattern.mean()  # blind to flat colour too
    kernel = opponent * pattern
    size = np.abs(kernel).sum()
    if size < 1e-12:  # no room for the pattern: the colour contrast alone
        kernel = opponent * np.ones(shape)
        size = np.abs(kernel).sum()
    return 2 * kernel / size


def bank(kernel_size, count: int, in_channels: int = 1) -> np.ndarray:
    """The first ``count`` kernels of the bank described in :mod:`rfmaps.engine.kernels`.

    Parameters
    ----------
    kernel_size : int or (int, int)
    count : int
        How many kernels (feature maps) to make.
    in_channels : int, default 1
        With 3 (an RGB image) the bank includes colour-opponent kernels. Gray
        kernels are copied to every channel and divided by their number, so
        they respond to brightness the same way on gray and colour images.
        With any other count every kernel is gray.

    Returns
    -------
    ndarray, shape (count, in_channels, kh, kw)
        Zero-sum kernels whose positive and negative parts each add to 1 over
        all channels (the blur adds to 1), so feature maps of a [0, 1] image
        stay within [-1, 1]. The same numbers on every call (on another CPU they may differ in
        the last bit: numpy's exp is vectorised differently).

    Examples
    --------
    >>> k = bank(3, 2)
    >>> k.shape
    (2, 1, 3, 3)
    >>> bool(k[0, 0, :, 0].sum() < 0 < k[0, 0, :, 2].sum())  # dark left, bright right
    True
    >>> red_green = bank(5, 11, in_channels=3)[10]  # 'red-green edge 0°': red on the right, green on the left
    >>> bool(red_green[0, :, 4].sum() > 0 > red_green[1, :, 4].sum()), float(abs(red_green.sum(axis=0)).max())
    (True, 0.0)
    """
    shape = pair(kernel_size, "kernel_size", 1)
    count, in_channels = int_at_least(count, "count", 1), int_at_least(in_channels, "in_channels", 1)
    return np.stack([_kernel(spec, shape, in_channels) for spec in _specs(count, in_channels == 3)])


def _kernel(spec: _Spec, shape, in_channels: int) -> np.ndarray:
    if spec.colour is None:
        return np.repeat(_gray_kernel(spec, shape)[None] / in_channels, in_channels, axis=0)
    return _colour_kernel(spec, shape)


# The kernels of the bank made so far, per (kernel size, in_channels): the first n kernels do
# not depend on how many are asked, and ConvExplorer's kernels slider asks for 1, 2, ... 256
# one after another, so each kernel is made once (remaking the bank cost up to 10 ms a step).
# Bound: 64 keys (cleared when full), each at most _KEEP_KERNELS kernels (256 colour kernels
# of 11 x 11 take 0.7 MB).
_MADE: dict = {}
_KEEP_KERNELS = 1024


def _first_kernels(shape, count: int, in_channels: int) -> np.ndarray:
    """``bank(shape, count, in_channels)``, from the kernels made before."""
    if count > _KEEP_KERNELS:
        return bank(shape, count, in_channels)
    if (shape, in_channels) not in _MADE and len(_MADE) >= 64:
        _MADE.clear()
    made = _MADE.setdefault((shape, in_channels), [])
    if len(made) < count:
        made.extend(_kernel(spec, shape, in_channels) for spec in _specs(count, in_channels == 3)[len(made):])
    return np.stack(made[:count])


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
    # Cached: explorers and benchmarks ask for the same kernels on every redraw. Key: exactly what
    # decides the kernels (shape, and the index that picks the bank or the random seed). Bound: 64
    # float64 arrays; ResNet-50's 53 default weights take 188 MB (measured).
    if conv_index == 0:
        weight = _first_kernels(kernel_size, out_channels, in_channels)
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
