"""Sentences and formulas with today's numbers in them (pure text, no arrays).

Every number comes from the arithmetic (:mod:`rfmaps._core.geometry`, the layers'
own ``output_size``); this module only writes it out.
"""

from __future__ import annotations

from .._core.geometry import tap_positions
from ..layers import Layer, SlidingWindow

__all__ = ["output_size_formula", "size_text", "taps_text"]


def size_text(pair) -> str:
    """``(5, 5)`` -> ``'5 × 5'``."""
    return f"{pair[0]} × {pair[1]}"


def output_size_formula(layer: SlidingWindow, n: int, axis: int = 0) -> str:
    """PyTorch's output-size formula for one axis, written out with the numbers.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> output_size_formula(Conv2d(1, 1, 3, stride=2, padding=1), 64)
    '⌊(64 + 2·1 − 1·(3 − 1) − 1) / 2⌋ + 1 = 32'
    """
    (before, after) = layer.pads_for((n, n))[axis]  # a ceil_mode pool's overhang shows as padding after
    k, s, d = layer.kernel_size[axis], layer.stride[axis], layer.dilation[axis]
    padding = f"2·{before}" if before == after else f"{before} + {after}"
    result = layer.output_size((n, n))[axis]
    return f"⌊({n} + {padding} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {result}"


def taps_text(layer: Layer, position, input_size) -> str:
    """Which input rows and columns the kernel of ``layer`` reads for output ``position``.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> taps_text(Conv2d(1, 1, 3, stride=2, padding=1, dilation=2), (0, 3), (8, 8))
    'rows -1, 1, 3 (-1 in the padding) × columns 5, 7, 9 (9 in the padding)'
    """
    parts = []
    for name, taps, n in zip(("rows", "columns"), tap_positions(layer, position), input_size):
        text = f"{name} " + ", ".join(map(str, taps))
        outside = [t for t in taps if not 0 <= t < n]
        if outside:
            text += f" ({', '.join(map(str, outside))} in the padding)"
        parts.append(text)
    return " × ".join(parts)
