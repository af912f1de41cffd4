"""Layer specifications with PyTorch's signatures and meanings.

A layer here is a small immutable value: it says *how* a layer slides over its
input (kernel size, stride, padding, dilation) and, for a convolution, which
weights it uses. It computes nothing by itself; :mod:`rfmaps.receptive_field`
does the arithmetic and :mod:`rfmaps.engine` the array computation.

Every size argument takes an int or an ``(h, w)`` pair, as in ``torch.nn``.
The normalised pairs are stored, so ``Conv2d(1, 1, 3).kernel_size == (3, 3)``.
"""

from __future__ import annotations

import numbers
from typing import Any, Tuple, Union

import numpy as np

Pair = Tuple[int, int]
IntOrPair = Union[int, Pair]

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "ZeroPad2d", "Layer", "check_layers"]


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _pair(value: Any, name: str, minimum: int) -> Pair:
    """Normalise an int or an (h, w) pair, refusing values below ``minimum``."""
    if _is_int(value):
        value = (value, value)
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or not all(_is_int(v) for v in value)
    ):
        raise ValueError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    h, w = int(value[0]), int(value[1])
    for v in (h, w):
        if v < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {v}")
    return (h, w)


def _positive_int(value: Any, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


class _Sliding:
    """What every sliding-window layer shares: geometry, immutability, equality.

    Subclasses set ``kernel_size``, ``stride``, ``padding`` and ``dilation``
    once in ``__init__`` (through ``object.__setattr__``) and define ``_key``,
    the tuple that says what the layer is; two layers with equal keys are equal
    (weights compared by content), so layers can key a cache.
    """

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: build a new layer instead")

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    @property
    def effective_kernel_size(self) -> Pair:
        """Span of the kernel on its input, holes included: ``d * (k - 1) + 1``."""
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation))

    @property
    def pads(self) -> Tuple[Pair, Pair]:
        """Zero padding ``((top, bottom), (left, right))`` actually added to the input.

        Equal on both sides except for ``padding='same'`` with an even span,
        where PyTorch puts the extra row/column after (bottom/right).
        """
        if self.padding == "same":
            out = []
            for k_eff in self.effective_kernel_size:
                total = k_eff - 1
                out.append((total // 2, total - total // 2))
            return tuple(out)
        return tuple((p, p) for p in self.padding)

    def output_size(self, input_size: IntOrPair) -> Pair:
        """Output ``(h, w)`` for an input of ``input_size``, by PyTorch's formula.

        ``floor((n + p_before + p_after - d * (k - 1) - 1) / s) + 1`` per axis.

        Raises
        ------
        ValueError
            If the input is smaller than the kernel's span, so no output is left.

        Examples
        --------
        >>> Conv2d(3, 100, kernel_size=5).output_size((50, 50))
        (46, 46)
        """
        size = _pair(input_size, "input_size", 1)
        out = []
        for axis, n in enumerate(size):
            (before, after), k_eff = self.pads[axis], self.effective_kernel_size[axis]
            padded = n + before + after
            if padded < k_eff:
                raise ValueError(
                    f"input_size {size} is too small for {self!r}: the kernel spans "
                    f"{k_eff} pixels but the padded input has only {padded} along "
                    f"{'height' if axis == 0 else 'width'}; input_size must be >= "
                    f"{k_eff - before - after} there"
                )
            out.append((padded - k_eff) // self.stride[axis] + 1)
        return tuple(out)

    def _geometry_repr(self, defaults) -> str:
        parts = []
        for name in ("kernel_size", "stride", "padding", "dilation"):
            value = getattr(self, name)
            if name != "kernel_size" and value == defaults.get(name):
                continue
            if isinstance(value, tuple) and value[0] == value[1]:
                value = value[0]
            text = repr(value) if isinstance(value, str) else str(value)
            parts.append(f"{name}={text}")
        return ", ".join(parts)


class Conv2d(_Sliding):
    """A 2-D convolution (cross-correlation), as ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels coming in and feature maps going out (one per kernel).
    kernel_size, stride, dilation : int or (int, int)
    padding : int, (int, int), 'valid' or 'same'
        Zero padding on each side. ``'same'`` keeps the output size equal to
        the input size and needs ``stride=1``, as in PyTorch.
    weight : array_like, optional
        Shape ``(out_channels, in_channels, kh, kw)``. When omitted the engine
        uses the default bank of :mod:`rfmaps.kernels`.
    bias : array_like, optional
        Shape ``(out_channels,)``; zero when omitted.

    Examples
    --------
    >>> Conv2d(3, 8, kernel_size=5, stride=2)
    Conv2d(3, 8, kernel_size=5, stride=2)
    >>> Conv2d(3, 8, kernel_size=5, stride=2).output_size((32, 32))
    (14, 14)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, weight=None, bias=None):
        set_ = object.__setattr__
        set_(self, "in_channels", _positive_int(in_channels, "in_channels"))
        set_(self, "out_channels", _positive_int(out_channels, "out_channels"))
        set_(self, "kernel_size", _pair(kernel_size, "kernel_size", 1))
        set_(self, "stride", _pair(stride, "stride", 1))
        set_(self, "dilation", _pair(dilation, "dilation", 1))
        if padding == "valid":
            padding = 0
        if isinstance(padding, str):
            if padding != "same":
                raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
            if self.stride != (1, 1):
                raise ValueError(f"padding='same' needs stride=1 (as in PyTorch), got stride={self.stride}")
            set_(self, "padding", "same")
        else:
            set_(self, "padding", _pair(padding, "padding", 0))
        set_(self, "weight", self._checked_array(
            weight, "weight", (self.out_channels, self.in_channels) + self.kernel_size))
        set_(self, "bias", self._checked_array(bias, "bias", (self.out_channels,)))

    @staticmethod
    def _checked_array(value, name, shape):
        if value is None:
            return None
        array = np.array(value, dtype=float)  # a private copy, so the layer stays immutable
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must hold finite numbers, found NaN or infinity")
        array.setflags(write=False)
        return array

    def __repr__(self) -> str:
        text = f"Conv2d({self.in_channels}, {self.out_channels}, " + self._geometry_repr(
            {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1)})
        if self.weight is not None:
            text += ", weight=<given>"
        if self.bias is not None:
            text += ", bias=<given>"
        return text + ")"

    def _key(self):
        arrays = tuple(None if a is None else a.tobytes() for a in (self.weight, self.bias))
        return ("Conv2d", self.in_channels, self.out_channels, self.kernel_size, self.stride,
                self.padding, self.dilation) + arrays


def _check_pool_padding(layer) -> None:
    # PyTorch refuses pooling padding above half the kernel: such a window could
    # cover nothing but padding.
    for p, k in zip(layer.padding, layer.kernel_size):
        if p > k // 2:
            raise ValueError(
                f"padding must be <= kernel_size // 2 = {k // 2} for pooling, got {p}")


class MaxPool2d(_Sliding):
    """Max pooling, as ``torch.nn.MaxPool2d``: stride defaults to kernel_size.

    Examples
    --------
    >>> MaxPool2d(2)
    MaxPool2d(kernel_size=2, stride=2)
    >>> MaxPool2d(2).output_size((7, 7))
    (3, 3)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1):
        set_ = object.__setattr__
        set_(self, "kernel_size", _pair(kernel_size, "kernel_size", 1))
        set_(self, "stride", self.kernel_size if stride is None else _pair(stride, "stride", 1))
        set_(self, "padding", _pair(padding, "padding", 0))
        set_(self, "dilation", _pair(dilation, "dilation", 1))
        _check_pool_padding(self)

    def __repr__(self) -> str:
        return "MaxPool2d(" + self._geometry_repr({"padding": (0, 0), "dilation": (1, 1)}) + ")"

    def _key(self):
        return ("MaxPool2d", self.kernel_size, self.stride, self.padding, self.dilation)


class AvgPool2d(_Sliding):
    """Average pooling, as ``torch.nn.AvgPool2d`` (zero padding counts in the mean).

    Examples
    --------
    >>> AvgPool2d(3, stride=1, padding=1)
    AvgPool2d(kernel_size=3, stride=1, padding=1)
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        set_ = object.__setattr__
        set_(self, "kernel_size", _pair(kernel_size, "kernel_size", 1))
        set_(self, "stride", self.kernel_size if stride is None else _pair(stride, "stride", 1))
        set_(self, "padding", _pair(padding, "padding", 0))
        set_(self, "dilation", (1, 1))
        _check_pool_padding(self)

    def __repr__(self) -> str:
        return "AvgPool2d(" + self._geometry_repr({"padding": (0, 0), "dilation": (1, 1)}) + ")"

    def _key(self):
        return ("AvgPool2d", self.kernel_size, self.stride, self.padding)


class ReLU(_Sliding):
    """The rectifier ``max(x, 0)``, applied pixel by pixel.

    For the arithmetic it is a 1 x 1 window with stride 1: it changes values,
    never which input pixels a neuron sees.

    Examples
    --------
    >>> ReLU()
    ReLU()
    """

    def __init__(self):
        for name in ("kernel_size", "stride", "dilation"):
            object.__setattr__(self, name, (1, 1))
        object.__setattr__(self, "padding", (0, 0))

    def __repr__(self) -> str:
        return "ReLU()"

    def _key(self):
        return ("ReLU",)


class ZeroPad2d(_Sliding):
    """Zero padding on each side, as ``torch.nn.ZeroPad2d``: the way to pad unequally.

    ``padding`` is an int (all sides) or ``(left, right, top, bottom)``, in
    PyTorch's order. TensorFlow's ``'SAME'`` pooling, which pads one pixel
    more after than before, is ``ZeroPad2d((0, 1, 0, 1))`` followed by the pool.

    Examples
    --------
    >>> ZeroPad2d((0, 1, 0, 1)).output_size((112, 112))
    (113, 113)
    """

    def __init__(self, padding):
        if _is_int(padding):
            padding = (padding,) * 4
        if (not isinstance(padding, (tuple, list)) or len(padding) != 4
                or not all(_is_int(p) and p >= 0 for p in padding)):
            raise ValueError(f"padding must be an int >= 0 or (left, right, top, bottom) of such ints, "
                             f"got {padding!r}")
        left, right, top, bottom = (int(p) for p in padding)
        for name in ("kernel_size", "stride", "dilation"):
            object.__setattr__(self, name, (1, 1))
        object.__setattr__(self, "padding", (left, right, top, bottom))

    @property
    def pads(self):
        left, right, top, bottom = self.padding
        return ((top, bottom), (left, right))

    def __repr__(self) -> str:
        return f"ZeroPad2d({self.padding})"

    def _key(self):
        return ("ZeroPad2d", self.padding)


Layer = Union[Conv2d, MaxPool2d, AvgPool2d, ReLU, ZeroPad2d]


def check_layers(layers) -> tuple:
    """Return ``layers`` as a tuple after checking every item is a layer.

    Raises
    ------
    ValueError
        If ``layers`` is empty or holds something that is not a layer.
    """
    if isinstance(layers, _Sliding):
        layers = [layers]
    try:
        layers = tuple(layers)
    except TypeError:
        raise ValueError(f"layers must be a list of layers, got {type(layers).__name__}") from None
    if not layers:
        raise ValueError("layers must hold at least one layer, got an empty list")
    for i, layer in enumerate(layers):
        if not isinstance(layer, _Sliding):
            raise ValueError(
                f"layers[{i}] must be Conv2d, MaxPool2d, AvgPool2d, ReLU, ZeroPad2d or Residual, "
                f"got {type(layer).__name__}")
    return layers
