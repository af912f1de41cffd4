"""``Flatten``: a ``(C, 1, 1)`` map read as the ``C`` features a ``Linear`` layer takes.

After a global pooling (:class:`~rfmaps.layers.GlobalAvgPool2d`) each
channel holds one number; ``torch.flatten(x, 1)`` then only drops the two
axes of length 1, and a ``Linear`` on those features is a 1 x 1
convolution on the ``(C, 1, 1)`` map. rfmaps keeps the map's shape, so a
flatten changes no value and no field; a flatten of a larger map (which
would mix positions into channels) is refused with its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._core.validation import Pair, pair
from .pointwise import PerPixel

__all__ = ["Flatten"]

_ONE = (1, 1)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Flatten(PerPixel):
    """``torch.flatten(x, 1)`` of a ``1 x 1`` map: the identity on the ``(C, 1, 1)`` map rfmaps keeps.

    Examples
    --------
    >>> Flatten().output_size((1, 1))
    (1, 1)
    >>> Flatten().output_size((7, 7))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: input_size (7, 7): rfmaps reads Flatten (and the Linear after it) on a 1 x 1 map only, ...
    """

    def __repr__(self) -> str:
        return "Flatten()"

    def output_size(self, input_size: Any) -> Pair:
        size = pair(input_size, "input_size", 1)
        if size != _ONE:
            raise ValueError(f"input_size {size}: rfmaps reads Flatten (and the Linear after it) on a 1 x 1 map "
                             "only, after a global pooling; a larger map would be mixed into channels")
        return size

    def forward(self, x, weight, out):
        out[...] = x
        return out

    def backward(self, weight, x, y, grad):
        return grad.copy()
