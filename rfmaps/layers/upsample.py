"""``Upsample``: nearest-neighbour upsampling by a whole factor, as ``torch.nn.Upsample``.

Output pixel ``o`` copies input pixel ``floor(o / f)`` (factor f): each
input pixel becomes an ``f x f`` block. Neighbouring outputs are ``1 / f``
input pixels apart, and ``f`` outputs in a row share one input pixel, so the
centre of a neuron's field depends on its phase ``o mod f``.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any

import numpy as np

from .._core.geometry import Geometry
from .._core.validation import pair
from .base import RUN_LIMIT, Layer, ReachError, Runs, _clip, _floor_div, _steps

__all__ = ["Upsample"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Upsample(Layer):
    """Nearest-neighbour upsampling by a whole ``scale_factor`` (an int or an (h, w) pair).

    Only ``mode='nearest'`` and whole factors are supported: their fields are
    whole pixels, so every number stays exact.

    Examples
    --------
    >>> Upsample(2).output_size((5, 7))
    (10, 14)
    >>> Upsample((2, 3))
    Upsample(scale_factor=(2, 3))
    """

    scale_factor: Any = None
    mode: str = "nearest"
    # Accepted only to answer it: torch's Upsample(size=...) fixes the output size, which has no
    # field geometry of its own here.
    size: InitVar[Any] = None

    grows_maps = True
    copies_inputs = True
    separable = True
    spread_arguments = "scale_factor"

    def __post_init__(self, size=None):
        if size is not None:
            raise TypeError(f"Upsample takes scale_factor, not size (got size={size!r}): the factor by which the "
                            "map grows, e.g. Upsample(scale_factor=2) for twice the height and width. A fixed "
                            "output size depends on the input size, so it has no field geometry of its own.")
        if self.scale_factor is None:
            raise TypeError("Upsample needs scale_factor, a whole number >= 1 (or an (h, w) pair), "
                            "e.g. Upsample(2)")
        object.__setattr__(self, "scale_factor", pair(self.scale_factor, "scale_factor", 1))
        if self.mode != "nearest":
            raise ValueError(f"mode must be 'nearest' (the only mode with exact fields here), got {self.mode!r}")

    def __repr__(self) -> str:
        f = self.scale_factor
        return f"Upsample(scale_factor={f[0] if f[0] == f[1] else f})"

    @property
    def uniform(self) -> bool:
        return self.scale_factor == (1, 1)

    # -- arithmetic -------------------------------------------------------------------------
    def neurons_per_pixel(self, axis: int) -> int:
        return self.scale_factor[axis]

    def output_size(self, input_size):
        size = pair(input_size, "input_size", 1)
        return tuple(n * f for n, f in zip(size, self.scale_factor))

    def axis_sources(self, index: int, axis: int, input_n=None):
        i = index // self.scale_factor[axis]
        return [i] if input_n is None or 0 <= i < input_n else []

    def axis_targets(self, index: int, axis: int, output_n: int):
        """The ``f`` outputs of input ``index``'s block (those inside ``0 .. output_n - 1``)."""
        f = self.scale_factor[axis]
        return range(max(index * f, 0), min((index + 1) * f, output_n))

    def axis_reach_back(self, indices: Runs, axis: int, input_n: int) -> Runs:
        """Per progression of outputs, their inputs ``floor(o / f)``: one progression, or a few when the
        outputs are farther apart than ``f`` without being a multiple of it."""
        f = self.scale_factor[axis]
        parts = [_clip(q, 0, input_n) for r in indices.ranges for q in _floor_div(r, f)]
        if len(parts) > 10 * RUN_LIMIT:
            raise ReachError(f"the pixels reached along {'height' if axis == 0 else 'width'} form more than "
                             f"{RUN_LIMIT} separate runs")
        return Runs(q for q in parts if q)

    def axis_reach_forward(self, indices: Runs, axis: int, output_n: int) -> Runs:
        """Per progression of inputs ``a, a + e, ...``, the blocks ``f (a + e i) + t`` (``t < f``)."""
        f = self.scale_factor[axis]
        parts: list[range] = []
        for r in indices.ranges:
            parts += (_clip(q, 0, output_n) for q in _steps(f * r[0], f * r.step, len(r), 1, f))
            if len(parts) > 10 * RUN_LIMIT:
                raise ReachError(f"the pixels reached along {'height' if axis == 0 else 'width'} form more than "
                                 f"{RUN_LIMIT} separate runs")
        return Runs(q for q in parts if q)

    def advance(self, geometry: Geometry) -> Geometry:
        """Jump ``j / f``; rf unchanged (one input pixel per neuron).

        The start here puts neuron 0 where PyTorch's ``align_corners=False``
        grid would; :func:`rfmaps.receptive_fields` replaces it by the exact
        centre (that of input neuron 0).
        """
        jump = tuple(j / f for j, f in zip(geometry.jump, self.scale_factor))
        start = tuple(s - (j - jn) / 2 for s, j, jn in zip(geometry.start, geometry.jump, jump))
        return Geometry(geometry.rf, jump, start)

    # -- arrays -----------------------------------------------------------------------------
    def forward(self, x, weight, out):
        fh, fw = self.scale_factor
        c, h, w = x.shape
        out.reshape(c, h, fh, w, fw)[...] = x[:, :, None, :, None]
        return out

    def backward(self, weight, x, y, grad):
        return self.spread_back(grad, x.shape[1:])

    def spread_forward(self, grid, input_size):
        """Each input pixel's count goes to every pixel of its ``f x f`` block."""
        fh, fw = self.scale_factor
        return np.repeat(np.repeat(grid, fh, axis=-2), fw, axis=-1)

    def spread_back(self, grid, input_size, tap_values=None):
        """Each input pixel collects its ``f x f`` block."""
        if tap_values is not None:
            raise TypeError("Upsample.spread_back has no taps to weigh")
        fh, fw = self.scale_factor
        h, w = input_size
        return grid.reshape(grid.shape[:-2] + (h, fh, w, fw)).sum(axis=(-3, -1))
