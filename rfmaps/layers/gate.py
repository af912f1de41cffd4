"""``SqueezeExcitation``: each channel scaled by a function of every channel's mean over the whole map.

Squeeze-and-excitation (Hu et al., 2018), as torchvision's
``ops.SqueezeExcitation`` and timm's ``SqueezeExcite``/``SEModule`` compute
it in MobileNetV3, EfficientNet and RegNetY::

    s = gate(x.mean((2, 3), keepdim=True))   # (C, 1, 1): 1 x 1 convolutions and activations
    y = x * s

``y[c, i, j]`` reads ``x[c, i, j]`` and, through the mean, every position of
the map: every neuron after the gate depends on the whole input map, so on
every input pixel that map's field covers (the whole image once the layers
before read all of it). rfmaps reports that as it is: rows after it say
``whole_image`` and tables print "(global)".

Output ``i`` of an ``n``-long axis reads inputs ``0 .. n - 1``: every
output has the same field, the box of all its input neurons' fields
(``rf + (n - 1) j`` wide), and the jump after the gate is 0. The clipped
field (:func:`rfmaps.input_region`) is every input pixel the whole map
reads. Like :class:`~rfmaps.layers.GlobalAvgPool2d`, that box needs the
map's size: :meth:`SqueezeExcitation.advance_sized` gets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Optional, Tuple

import numpy as np

from .._core.geometry import Geometry
from .._core.validation import Pair, pair, positive_int
from .base import Layer, Runs, channels_back, check_layers
from .pooling import AvgPool2d

__all__ = ["SqueezeExcitation"]

#: A bound on the paths one input pixel has to one output pixel through the gate, for any map that fits in
#: memory: one direct path and one through the mean (channels are not counted), times at most 2**40 pixels
#: summed by spread_back.
_MOST_PATHS = 2 ** 40 + 1


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SqueezeExcitation(Layer):
    """``x * gate(mean of x over the map)``: a per-channel scale computed from the whole map.

    Parameters
    ----------
    gate : sequence of Layer
        What turns the ``(C, 1, 1)`` channel means into the ``C`` scales: layers
        that keep a 1 x 1 map 1 x 1 (1 x 1 convolutions with their weights,
        activations, batch normalisation), ending with ``C`` channels; usually
        ``[Conv2d(C, r, 1), ReLU(), Conv2d(r, C, 1), Sigmoid()]``.
    channels : int, optional
        ``C``, the channels arriving; taken from the gate's first layer that
        says it when left out.

    Raises
    ------
    ValueError
        If a gate layer changes the size of a 1 x 1 map, a convolution in it
        has no weights of its own, or the gate does not end with ``C`` channels.

    Examples
    --------
    >>> import numpy as np
    >>> from rfmaps import Conv2d, Sigmoid, receptive_fields
    >>> se = SqueezeExcitation([Conv2d(2, 2, 1, weight=np.eye(2).reshape(2, 2, 1, 1), bias=np.zeros(2)), Sigmoid()])
    >>> x = np.ones((2, 3, 3))
    >>> round(float(se.forward(x, None, np.empty_like(x))[0, 0, 0]), 6)  # 1 * sigmoid(mean 1)
    0.731059
    >>> rows = receptive_fields([Conv2d(2, 2, 3, padding=1), se], 8)
    >>> rows[-1].rf_size, rows[-1].jump, rows[-1].whole_image  # the box of all 8 x 8 fields: pixels -1 to 8
    ((10, 10), (0, 0), True)
    >>> "10 x 10 (global)" in str(rows).splitlines()[-1]
    True
    """

    gate: Tuple[Layer, ...]
    channels: Optional[int] = None

    #: Every neuron after it depends on the whole input map (tables and explorers say so).
    whole_image = True

    def __post_init__(self) -> None:
        gate = check_layers(self.gate)
        object.__setattr__(self, "gate", gate)
        channels = self.channels
        if channels is None:
            channels = next((getattr(l, "in_channels", None) or getattr(l, "num_features", None)
                             for l in gate if getattr(l, "in_channels", None) or getattr(l, "num_features", None)),
                            None)
            if channels is None:
                raise ValueError("SqueezeExcitation needs channels=: no layer of its gate says how many "
                                 "channels arrive")
        channels = positive_int(channels, "channels")
        object.__setattr__(self, "channels", channels)
        c = channels
        for index, layer in enumerate(gate):
            where = f"gate[{index}]"
            if getattr(layer, "has_weights", False) and getattr(layer, "weight", None) is None:
                raise ValueError(f"{where} ({layer!r}) has no weights of its own: a gate computes the model's "
                                 "scales, so give its convolutions weight= (from_torch does)")
            try:
                keeps = layer.uniform and layer.output_size((1, 1)) == (1, 1)
            except ValueError:  # a window larger than the map, with too little padding
                keeps = False
            if not keeps:
                raise ValueError(f"{where} ({layer!r}) changes the size of a 1 x 1 map; a gate acts on the "
                                 "channel means (1 x 1 convolutions, activations) only")
            c = layer.channels_after(c, where, "the gate's input" if index == 0 else f"gate[{index - 1}]")
        if c != channels:
            raise ValueError(f"the gate ends with {c} channels but the map it scales has {channels}: it must "
                             "give one scale per channel")

    def __repr__(self) -> str:
        return f"SqueezeExcitation([{', '.join(map(repr, self.gate))}])"

    # -- arithmetic -------------------------------------------------------------------------
    def window(self, input_size: Any) -> AvgPool2d:
        """The window that reads what the gate reads on a map of ``input_size``: ``2n - 1`` taps, padding ``n - 1``."""
        h, w = pair(input_size, "input_size", 1)
        return AvgPool2d((2 * h - 1, 2 * w - 1), 1, (h - 1, w - 1))

    def output_size(self, input_size: Any) -> Pair:
        return pair(input_size, "input_size", 1)

    def channels_before(self) -> Optional[int]:
        return self.channels

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        if channels != self.channels:
            raise ValueError(f"{where}: the squeeze-and-excitation gate scales {self.channels} channels but "
                             f"{source} has {channels}")
        return channels

    def channel_sources(self, channel: int) -> frozenset[int]:
        """Its own channel, and every channel the gate's scale for it reads (all, through a full convolution)."""
        return channels_back(self.gate, {channel}) | {channel}

    def advance(self, geometry: Geometry) -> Geometry:
        raise ValueError("SqueezeExcitation's gate reads the whole input map, so its geometry depends on the "
                         "input size; rfmaps states it with the size known (receptive_fields, input_region), "
                         "not once for every size")

    def advance_sized(self, geometry: Geometry, input_size: Pair) -> Geometry:
        """Every output reads the whole map, so all share one field: the box of every input neuron's field.

        That box spans ``rf + (n - 1) j`` pixels centred on the map's middle neuron, and the jump is 0:
        neighbouring outputs look at the same pixels. Later layers keep it (``rf += (k - 1) 0``), as
        they should: after the gate every neuron depends on exactly that box.
        """
        rf: list[Any] = []
        start: list[Fraction] = []
        for axis in (0, 1):
            n, j = input_size[axis], geometry.jump[axis]
            rf.append(geometry.rf[axis] + (n - 1) * j)
            start.append(geometry.start[axis] + Fraction(n - 1, 2) * j)
        return Geometry((rf[0], rf[1]), (Fraction(0), Fraction(0)), (start[0], start[1]))

    def axis_sources(self, index: int, axis: int, input_n: Optional[int] = None) -> list[int]:
        if input_n is None:
            raise ValueError("SqueezeExcitation reads the whole map: give input_n, the map's size along the axis")
        return list(range(input_n))

    def axis_targets(self, index: int, axis: int, output_n: int) -> list[int]:
        return list(range(output_n))

    def reach_back(self, boxes, input_size):
        """Any reached output reads every input of the map: one run per axis, however large the map."""
        boxes = [b for b in boxes if b[0] and b[1]]
        h, w = input_size
        return [(Runs([range(h)]), Runs([range(w)]))] if boxes else []

    def reach_forward(self, boxes, input_size):
        return self.reach_back(boxes, input_size)

    def most_paths(self) -> int:
        return _MOST_PATHS

    # -- arrays -----------------------------------------------------------------------------
    def _weights(self) -> list:
        return [getattr(layer, "weight", None) for layer in self.gate]

    def _scales(self, x: np.ndarray) -> list:
        """The gate's values, from the channel means ``(C, 1, 1)`` to the scales."""
        values = [x.mean(axis=(1, 2), keepdims=True)]
        for layer, weight in zip(self.gate, self._weights()):
            values.append(layer.forward(values[-1], weight, np.empty((layer.channels_after(len(values[-1])), 1, 1),
                                                                      x.dtype)))
        return values

    def forward(self, x: np.ndarray, weight: Optional[np.ndarray], out: np.ndarray) -> np.ndarray:
        np.multiply(x, self._scales(x)[-1], out=out)
        return out

    def backward(self, weight: Optional[np.ndarray], x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> np.ndarray:
        # d(x * s(m(x))) = grad * s directly, plus the gradient reaching s (the sum over the map of grad * x)
        # sent back through the gate to the means, each spread evenly over its map.
        values = self._scales(x)
        g = (grad * x).sum(axis=(1, 2), keepdims=True)
        for index in range(len(self.gate) - 1, -1, -1):
            g = self.gate[index].backward(self._weights()[index], values[index], values[index + 1], g)
        h, w = x.shape[1:]
        return grad * values[-1] + g / (h * w)

    def spread_back(self, grid: np.ndarray, input_size: Pair, tap_values=None) -> np.ndarray:
        """Paths back: one from the same position, and one through the mean from every position."""
        if tap_values is not None:
            raise ValueError("SqueezeExcitation sends path counts back, not tap values")
        return grid + grid.sum(axis=(-2, -1), keepdims=True)

    def spread_forward(self, grid: np.ndarray, input_size: Pair) -> np.ndarray:
        return grid + grid.sum(axis=(-2, -1), keepdims=True)

