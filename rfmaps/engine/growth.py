"""How the effective receptive field grows with depth, measured over many random networks.

One random network is one sample: its effective field can be lopsided or
narrow by chance. Luo et al. average the gradient maps of many networks before
they read off a width or a shape; :func:`effective_growth` does the same for
stacks of ``k x k`` convolutions of growing depth and reports, per depth, the
theoretical width, the width of the averaged effective field, how much single
networks scatter around it, and how well a Gaussian fits the averaged profile.
"""

from __future__ import annotations

import html
import math
from typing import NamedTuple, Sequence, Tuple

import numpy as np

from .maps import effective_receptive_field, mass_width
from .kernels import random_kernels
from ..layers import Conv2d
from .._core.validation import ArgumentKindError, finite_number, int_at_least

__all__ = ["GrowthRow", "GrowthTable", "effective_growth", "gaussian_fit"]


class GrowthRow(NamedTuple):
    """One depth of :func:`effective_growth`."""

    depth: int
    theoretical: int  #: side of the theoretical receptive field, d (k - 1) + 1 summed over layers
    effective: int  #: side of the square holding ``fraction`` of the averaged effective field
    low: int  #: smallest width among single networks
    high: int  #: largest width among single networks
    gaussian_r2: float  #: R² of a Gaussian fitted to the averaged profile through the centre

    @property
    def per_sqrt_depth(self) -> float:
        """``effective / sqrt(depth)``: constant if the width grows like the square root of depth."""
        return self.effective / math.sqrt(self.depth)

    @property
    def per_depth(self) -> float:
        """``effective / depth``: constant if the width grew linearly, as the theoretical one does."""
        return self.effective / self.depth


class GrowthTable(tuple):
    """Rows of :func:`effective_growth`; shows itself as a table in a notebook."""

    columns = ("layers", "theoretical", "effective (averaged)", "single networks",
               "effective / √layers", "effective / layers", "Gaussian fit R²")

    def _cells(self):
        for r in self:
            yield (str(r.depth), str(r.theoretical), str(r.effective), f"{r.low} to {r.high}",
                   f"{r.per_sqrt_depth:.2f}", f"{r.per_depth:.2f}", f"{r.gaussian_r2:.3f}")

    def __str__(self) -> str:
        rows = [self.columns, *self._cells()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self.columns))]
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
                       for cells in self._cells())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def gaussian_fit(profile: np.ndarray) -> Tuple[float, float, float]:
    """Fit ``a exp(-(x - mu)^2 / (2 s^2))`` to a non-negative profile by its moments.

    Returns ``(mu, s, r2)``: the centre, the width, and the fraction of the
    profile's variance the Gaussian explains (1 is a perfect fit).

    Examples
    --------
    >>> x = np.arange(21)
    >>> mu, s, r2 = gaussian_fit(np.exp(-(x - 10) ** 2 / 8))
    >>> round(mu, 3), round(s, 3), round(r2, 6)
    (10.0, 2.0, 1.0)
    """
    p = np.asarray(profile, dtype=float)
    x = np.arange(len(p))
    total = p.sum()
    if total <= 0:
        raise ValueError("profile must hold some positive mass")
    mu = (x * p).sum() / total
    s = math.sqrt(((x - mu) ** 2 * p).sum() / total)
    shape = np.exp(-((x - mu) ** 2) / (2 * s * s)) if s > 0 else (x == round(mu)).astype(float)
    a = (shape @ p) / (shape @ shape)  # least squares for the height
    residual = ((p - a * shape) ** 2).sum()
    spread = ((p - p.mean()) ** 2).sum()
    return float(mu), float(s), float(1.0 - residual / spread) if spread > 0 else 1.0


def effective_growth(depths: Sequence[int] = (2, 4, 8, 16), *, kernel_size: int = 3, channels: int = 4,
                     draws: int = 32, fraction: float = 0.9, seed: int = 0) -> GrowthTable:
    """Theoretical and effective receptive-field widths of random convolution stacks.

    For each depth, ``draws`` networks of ``depth`` convolutions (``kernel_size``,
    stride 1, ``channels`` maps, padding that keeps the size, He-scaled random
    weights, no ReLU) are built. The effective field of the centre neuron of
    each is computed; the fields are averaged, and the side of the square that
    holds ``fraction`` of the average is the effective width.

    Parameters
    ----------
    depths : sequence of int
    kernel_size, channels : int
    draws : int
        Random networks per depth.
    fraction : float
        The share of the field's mass the reported width holds.
    seed : int
        Seeds the weights: the same arguments give the same table.

    Returns
    -------
    GrowthTable
        One :class:`GrowthRow` per depth.

    References
    ----------
    W. Luo, Y. Li, R. Urtasun and R. Zemel, "Understanding the Effective
    Receptive Field in Deep Convolutional Neural Networks", NeurIPS 2016.

    Examples
    --------
    >>> table = effective_growth((1, 4), draws=2)
    >>> [(row.depth, row.theoretical) for row in table]
    [(1, 3), (4, 9)]
    """
    draws = int_at_least(draws, "draws", 1)
    if isinstance(depths, (str, bytes)) or not hasattr(depths, "__iter__"):
        raise ArgumentKindError(f"depths must be a list of ints >= 1, got {type(depths).__name__} {depths!r}")
    depths = list(depths)
    depths = [int_at_least(depth, "every depth", 1) for depth in depths]
    kernel_size = int_at_least(kernel_size, "kernel_size", 1)
    channels = int_at_least(channels, "channels", 1)
    seed = int_at_least(seed, "seed", 0)
    fraction = finite_number(fraction, "fraction", 0, above=True)
    if fraction > 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    rows = []
    for depth in depths:
        theoretical = depth * (kernel_size - 1) + 1
        size = theoretical + 2 * kernel_size  # the whole field, with a margin, fits the image
        centre = (size // 2, size // 2)
        image = np.ones((size, size))  # without ReLU the gradient does not depend on the image
        fields = []
        for draw in range(draws):
            layers = []
            for i in range(depth):
                cin = 1 if i == 0 else channels
                weight = random_kernels(kernel_size, channels, cin, seed=seed * 100_003 + draw * 1_009 + i)
                layers.append(Conv2d(cin, channels, kernel_size, padding=kernel_size // 2, weight=weight))
            field = effective_receptive_field(layers, centre, image)
            fields.append(field / field.sum())
        widths = [mass_width(f, centre, fraction) for f in fields]
        average = np.mean(fields, axis=0)
        _, _, r2 = gaussian_fit(average[centre[0]])
        rows.append(GrowthRow(depth, theoretical, mass_width(average, centre, fraction),
                              min(widths), max(widths), float(r2)))
    return GrowthTable(rows)
