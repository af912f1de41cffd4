"""Residual (multi-path) blocks: the output is the sum of several paths.

The receptive field of a block is the union of its paths' receptive fields.
When every path puts the centre of neuron 0 at the same input coordinate
(the paths are *aligned*) the union is again a centred box, and the block
behaves, for the arithmetic, like one sliding window whose span is the
largest path's receptive field. When the centres differ there is no single
honest (rf, jump, start) for the block, and rfmaps refuses it.

References
----------
Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill, 2019, section "Handling multi-path networks".
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from .layers import _pair, _Sliding, check_layers
from .receptive_field import Geometry

__all__ = ["Residual"]


class Residual(_Sliding):
    """A block whose output is ``body(x) + shortcut(x)``.

    Parameters
    ----------
    body : sequence of Layer
        The main path (for ResNet: 1 x 1, 3 x 3 and 1 x 1 convolutions).
    shortcut : sequence of Layer, optional
        The other path; empty or omitted means identity (``x`` itself).

    Raises
    ------
    ValueError
        If the paths have different jumps or misaligned centres.

    Examples
    --------
    >>> from rfmaps import Conv2d, receptive_fields
    >>> block = Residual([Conv2d(8, 8, 3, padding=1), Conv2d(8, 8, 3, padding=1)])
    >>> block.effective_kernel_size, block.stride
    ((5, 5), (1, 1))
    >>> receptive_fields([Conv2d(3, 8, 3, padding=1), block], 16)[-1].rf_size
    (7, 7)
    """

    def __init__(self, body: Sequence, shortcut: Sequence = ()):
        body = check_layers(body)
        shortcut = () if shortcut is None or len(shortcut) == 0 else check_layers(shortcut)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "shortcut", shortcut)
        first, other = (self._geometry(path) for path in self.paths)
        if other.jump != first.jump:
            raise ValueError(f"the body and the shortcut must have the same stride, got jumps "
                             f"{first.jump} and {other.jump}")
        if other.start != first.start:
            raise ValueError(
                "the body and the shortcut are misaligned: the centre of neuron 0 lies at input "
                f"{tuple(map(float, first.start))} for the body and {tuple(map(float, other.start))} for "
                f"the shortcut, so the block has no single receptive-field centre; change a padding")
        span = tuple(max(first.rf[axis], other.rf[axis]) for axis in (0, 1))
        # The union's first pixel: centre minus half the span (a whole number, see the module doc).
        before = tuple(int((span[a] - 1) / Fraction(2) - first.start[a]) for a in (0, 1))
        object.__setattr__(self, "stride", first.jump)
        object.__setattr__(self, "_span", span)
        object.__setattr__(self, "_before", before)
        object.__setattr__(self, "kernel_size", None)
        object.__setattr__(self, "dilation", (1, 1))
        object.__setattr__(self, "padding", None)

    @staticmethod
    def _geometry(path) -> Geometry:
        geometry = Geometry()
        for layer in path:
            geometry = geometry.then(layer)
        return geometry

    @property
    def paths(self):
        """The body, then the shortcut (``()`` for identity)."""
        return (self.body, self.shortcut)

    @property
    def effective_kernel_size(self):
        """Span of the block on its input: the largest path's receptive field."""
        return self._span

    @property
    def pads(self):
        """How far the union reaches before pixel 0 (after is not needed by the arithmetic)."""
        return tuple((b, 0) for b in self._before)

    @property
    def in_channels(self):
        convs = [l for l in self.body + self.shortcut if getattr(l, "in_channels", None)]
        return convs[0].in_channels if convs else None

    @property
    def out_channels(self):
        convs = [l for l in self.body if getattr(l, "out_channels", None)]
        return convs[-1].out_channels if convs else None

    def output_size(self, input_size):
        """Output size of every path; they must agree so the sum is defined."""
        input_size = _pair(input_size, "input_size", 1)
        sizes = []
        for path in self.paths:
            size = input_size
            for layer in path:
                size = layer.output_size(size)
            sizes.append(size)
        if sizes[0] != sizes[1]:
            raise ValueError(f"the body gives {sizes[0]} but the shortcut gives {sizes[1]} "
                             f"for input_size {input_size}: the paths cannot be added")
        return sizes[0]

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.body))
        short = "identity" if not self.shortcut else "[" + ", ".join(map(repr, self.shortcut)) + "]"
        return f"Residual([{inner}], shortcut={short})"

    def _key(self):
        return ("Residual", self.body, self.shortcut)
