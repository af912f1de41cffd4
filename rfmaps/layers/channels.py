"""Layers that work across the channels of one pixel: ``LayerNorm2d``, ``ChannelShuffle``, ``ChannelSlice``.

Each reads only the pixel it writes (a 1 x 1 window with stride 1), so no
neuron's field changes; what changes is which input channels an output
channel depends on:

* ``LayerNorm2d`` (ConvNeXt) normalises each pixel over all its channels,
  so every output channel depends on every input channel;
* ``ChannelShuffle`` (ShuffleNet) only reorders channels;
* ``ChannelSlice`` keeps a run of channels (ShuffleNet's ``x.chunk(2, 1)``).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Optional

import numpy as np

from .._core.validation import finite_number, is_int, positive_int
from .base import expect_channels
from .pointwise import PerPixel

__all__ = ["LayerNorm2d", "ChannelShuffle", "ChannelSlice"]


class _OverChannels(PerPixel):
    """A per-pixel layer over a fixed number of channels, ``num_channels``."""

    __slots__ = ()
    num_channels: int  # a dataclass field of each subclass

    def channels_before(self) -> int:
        return self.num_channels

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        expect_channels(self, channels, "num_channels", self.num_channels, where, source)
        return self.out_channels

    @property
    def out_channels(self) -> int:
        return self.num_channels


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LayerNorm2d(_OverChannels):
    """Each pixel normalised over its channels, as torchvision's and timm's ``LayerNorm2d``.

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, with the mean and the
    (biased) variance over the channels of one pixel: ``torch.nn.LayerNorm``
    over the channel axis of a channels-last map.

    Examples
    --------
    >>> norm = LayerNorm2d(2, eps=0.0)
    >>> norm.forward(np.array([[[1.0]], [[3.0]]]), None, np.empty((2, 1, 1))).ravel().tolist()
    [-1.0, 1.0]
    >>> sorted(norm.channel_sources(0))
    [0, 1]
    """

    num_channels: int
    eps: float = 1e-6
    _: KW_ONLY
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "num_channels", positive_int(self.num_channels, "num_channels"))
        set_(self, "eps", finite_number(self.eps, "eps", 0.0))
        self._freeze(("weight", "bias"), self.num_channels)

    def __repr__(self) -> str:
        extra = "".join(f", {n}=<given>" for n in ("weight", "bias") if getattr(self, n) is not None)
        return f"LayerNorm2d({self.num_channels}, eps={self.eps}{extra})"

    def channel_sources(self, channel: int) -> frozenset:
        return frozenset(range(self.num_channels))  # the mean and variance read every channel

    def _parts(self, x):
        x = np.asarray(x, dtype=float)
        centred = x - x.mean(axis=0)
        spread = np.sqrt((centred ** 2).mean(axis=0) + self.eps)
        weight = np.ones(self.num_channels) if self.weight is None else self.weight
        return centred / spread, spread, weight[:, None, None]

    def forward(self, x, weight, out):
        normal, _, scale = self._parts(x)
        out[...] = normal * scale + (0.0 if self.bias is None else self.bias[:, None, None])
        return out

    def backward(self, weight, x, y, grad):
        # The layer-norm gradient, per pixel: (g - mean(g) - x^ mean(g x^)) / sigma with g = grad * weight.
        normal, spread, scale = self._parts(x)
        g = np.asarray(grad, dtype=float) * scale
        return (g - g.mean(axis=0) - normal * (g * normal).mean(axis=0)) / spread


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ChannelShuffle(_OverChannels):
    """ShuffleNet's channel shuffle: ``groups`` runs of channels interleaved, as torchvision's ``channel_shuffle``.

    Output channel ``j * groups + i`` is input channel ``i * (C / groups) + j``.

    Examples
    --------
    >>> [min(ChannelShuffle(6, 2).channel_sources(c)) for c in range(6)]
    [0, 3, 1, 4, 2, 5]
    """

    num_channels: int
    groups: int

    def __post_init__(self):
        object.__setattr__(self, "num_channels", positive_int(self.num_channels, "num_channels"))
        object.__setattr__(self, "groups", positive_int(self.groups, "groups"))
        if self.num_channels % self.groups:
            raise ValueError(f"num_channels must be divisible by groups={self.groups}, got {self.num_channels}")

    def __repr__(self) -> str:
        return f"ChannelShuffle({self.num_channels}, groups={self.groups})"

    def _order(self) -> np.ndarray:
        """Input channel of each output channel."""
        return np.arange(self.num_channels).reshape(self.groups, -1).T.ravel()

    def channel_sources(self, channel: int) -> frozenset:
        return frozenset((int(self._order()[channel]),))

    def forward(self, x, weight, out):
        out[...] = x[self._order()]
        return out

    def backward(self, weight, x, y, grad):
        back = np.empty_like(grad)
        back[self._order()] = grad
        return back


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ChannelSlice(_OverChannels):
    """Channels ``start`` to ``stop - 1`` of the input, as ``x[:, start:stop]`` (one part of ``x.chunk``).

    Examples
    --------
    >>> ChannelSlice(8, 4, 8).channels_after(8), sorted(ChannelSlice(8, 4, 8).channel_sources(1))
    (4, [5])
    """

    num_channels: int
    start: int
    stop: int

    def __post_init__(self):
        object.__setattr__(self, "num_channels", positive_int(self.num_channels, "num_channels"))
        if not (is_int(self.start) and is_int(self.stop) and 0 <= self.start < self.stop <= self.num_channels):
            raise ValueError(f"start and stop must be ints with 0 <= start < stop <= num_channels="
                             f"{self.num_channels}, got start={self.start!r}, stop={self.stop!r}")
        object.__setattr__(self, "start", int(self.start))
        object.__setattr__(self, "stop", int(self.stop))

    def __repr__(self) -> str:
        return f"ChannelSlice({self.num_channels}, {self.start}, {self.stop})"

    @property
    def out_channels(self) -> int:
        return self.stop - self.start

    def channel_sources(self, channel: int) -> frozenset:
        return frozenset((self.start + channel,))

    def forward(self, x, weight, out):
        out[...] = x[self.start: self.stop]
        return out

    def backward(self, weight, x, y, grad):
        back = np.zeros((self.num_channels,) + grad.shape[1:], grad.dtype)
        back[self.start: self.stop] = grad
        return back
