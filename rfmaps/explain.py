"""Sentences and formulas with today's numbers in them (pure text, no arrays)."""

from __future__ import annotations

from .layers import Layer

__all__ = ["output_size_formula", "size_text"]


def size_text(pair) -> str:
    """``(5, 5)`` -> ``'5 × 5'``."""
    return f"{pair[0]} × {pair[1]}"


def output_size_formula(layer: Layer, n: int, axis: int = 0) -> str:
    """PyTorch's output-size formula for one axis, written out with the numbers.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> output_size_formula(Conv2d(1, 1, 3, stride=2, padding=1), 64)
    '⌊(64 + 2·1 − 1·(3 − 1) − 1) / 2⌋ + 1 = 32'
    """
    (before, after) = layer.pads[axis]
    k, s, d = layer.kernel_size[axis], layer.stride[axis], layer.dilation[axis]
    padding = f"2·{before}" if before == after else f"{before} + {after}"
    total = n + before + after - d * (k - 1) - 1
    result = total // s + 1
    return f"⌊({n} + {padding} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {result}"
