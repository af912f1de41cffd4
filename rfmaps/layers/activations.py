"""Element-wise activations other than ReLU: ``LeakyReLU``, ``ELU``, ``GELU``, ``SiLU``, ``Sigmoid``, ``Tanh``,
``ReLU6``, ``Hardswish``, ``Hardsigmoid``.

Each applies one function ``f`` to every pixel of every map, as its namesake
in ``torch.nn`` does. For the arithmetic each is a 1 x 1 window with stride 1:
it never changes which input pixels a neuron sees, only how strongly. The
backward pass multiplies the gradient by ``f'(x)``, so a smooth activation
lets every path through (a little), where ReLU blocks the paths of negative
inputs.

At a kink (ReLU6 at 0 and 6, Hardswish and Hardsigmoid at -3 and 3) the
slope is the one-sided value PyTorch's autograd gives there, so the
effective receptive field equals torch's even for inputs exactly at a kink.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.validation import finite_number
from .pointwise import PerPixel

__all__ = ["LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "ReLU6", "Hardswish", "Hardsigmoid", "Activation"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Activation(PerPixel):
    """What every element-wise activation shares: a 1 x 1 window with stride 1.

    A kind defines ``value(x)`` (the function) and ``slope(x)`` (its
    derivative), both on float64 arrays.
    """

    def value(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def slope(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def forward(self, x, weight, out):
        out[...] = self.value(x)
        return out

    def backward(self, weight, x, y, grad):
        return grad * self.slope(np.asarray(x, dtype=float))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LeakyReLU(Activation):
    """``x`` for ``x >= 0``, ``negative_slope * x`` below, as ``torch.nn.LeakyReLU``.

    Examples
    --------
    >>> LeakyReLU(0.1).value(np.array([-2.0, 3.0])).tolist()
    [-0.2, 3.0]
    """

    negative_slope: float = 0.01

    def __post_init__(self):
        object.__setattr__(self, "negative_slope", finite_number(self.negative_slope, "negative_slope"))

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"

    def value(self, x):
        return np.where(x >= 0, x, self.negative_slope * x)

    def slope(self, x):
        # At 0 PyTorch takes the left slope (its gradient uses x > 0).
        return np.where(x > 0, 1.0, self.negative_slope)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ELU(Activation):
    """``x`` for ``x > 0``, ``alpha (exp(x) - 1)`` below, as ``torch.nn.ELU``.

    Examples
    --------
    >>> ELU().value(np.array([0.0, 1.0])).tolist()
    [0.0, 1.0]
    """

    alpha: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "alpha", finite_number(self.alpha, "alpha"))

    def __repr__(self) -> str:
        return f"ELU(alpha={self.alpha})"

    def value(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def slope(self, x):
        return np.where(x > 0, 1.0, self.alpha * np.exp(np.minimum(x, 0)))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GELU(Activation):
    """``x Phi(x)`` (``Phi`` the standard normal CDF), as ``torch.nn.GELU``.

    ``approximate='tanh'`` uses PyTorch's tanh formula instead of ``Phi``:
    ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``.

    Examples
    --------
    >>> GELU().value(np.array([0.0, 10.0])).tolist()
    [0.0, 10.0]
    """

    approximate: str = "none"

    def __post_init__(self):
        if self.approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', got {self.approximate!r}")

    def __repr__(self) -> str:
        return "GELU()" if self.approximate == "none" else "GELU(approximate='tanh')"

    def value(self, x):
        if self.approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(_C * (x + 0.044715 * x ** 3)))
        from scipy.special import erf  # here, not at the top: scipy.special costs 0.2 s of `import rfmaps`

        return 0.5 * x * (1 + erf(x / math.sqrt(2)))

    def slope(self, x):
        if self.approximate == "tanh":
            t = np.tanh(_C * (x + 0.044715 * x ** 3))
            return 0.5 * (1 + t) + 0.5 * x * (1 - t ** 2) * _C * (1 + 3 * 0.044715 * x ** 2)
        # d/dx [x Phi(x)] = Phi(x) + x phi(x)
        from scipy.special import erf

        return 0.5 * (1 + erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x ** 2) / math.sqrt(2 * math.pi)


_C = math.sqrt(2 / math.pi)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SiLU(Activation):
    """``x sigmoid(x)`` (also called swish), as ``torch.nn.SiLU``.

    Examples
    --------
    >>> SiLU().value(np.array([0.0])).tolist()
    [0.0]
    """

    def value(self, x):
        from scipy.special import expit

        return x * expit(x)

    def slope(self, x):
        from scipy.special import expit

        s = expit(x)
        return s * (1 + x * (1 - s))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Sigmoid(Activation):
    """``1 / (1 + exp(-x))``, as ``torch.nn.Sigmoid``.

    Examples
    --------
    >>> Sigmoid().value(np.array([0.0])).tolist()
    [0.5]
    """

    def value(self, x):
        from scipy.special import expit

        return expit(x)

    def slope(self, x):
        from scipy.special import expit

        s = expit(x)
        return s * (1 - s)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Tanh(Activation):
    """The hyperbolic tangent, as ``torch.nn.Tanh``.

    Examples
    --------
    >>> Tanh().value(np.array([0.0])).tolist()
    [0.0]
    """

    def value(self, x):
        return np.tanh(x)

    def slope(self, x):
        return 1 - np.tanh(x) ** 2


def _relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ReLU6(Activation):
    """``min(max(x, 0), 6)``, as ``torch.nn.ReLU6`` (MobileNetV2's activation).

    The slope is 1 strictly between 0 and 6 and 0 elsewhere: at both kinks
    PyTorch's gradient is 0.

    Examples
    --------
    >>> ReLU6().value(np.array([-1.0, 3.0, 8.0])).tolist()
    [0.0, 3.0, 6.0]
    >>> ReLU6().slope(np.array([0.0, 3.0, 6.0])).tolist()
    [0.0, 1.0, 0.0]
    """

    def value(self, x):
        return _relu6(x)

    def slope(self, x):
        return np.where((x > 0) & (x < 6), 1.0, 0.0)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Hardswish(Activation):
    """``x relu6(x + 3) / 6``, as ``torch.nn.Hardswish`` (MobileNetV3's activation).

    The slope is 0 up to -3 (included), ``x / 3 + 1/2`` strictly between -3
    and 3, and 1 from 3 on (included), as PyTorch's gradient.

    Examples
    --------
    >>> Hardswish().value(np.array([-4.0, 0.0, 1.5, 4.0])).tolist()
    [-0.0, 0.0, 1.125, 4.0]
    >>> Hardswish().slope(np.array([-3.0, 0.0, 3.0])).tolist()
    [0.0, 0.5, 1.0]
    """

    def value(self, x):
        return x * _relu6(x + 3) / 6

    def slope(self, x):
        return np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Hardsigmoid(Activation):
    """``relu6(x + 3) / 6``, as ``torch.nn.Hardsigmoid``: 0 up to -3, 1 from 3, a line between.

    The slope is 1/6 strictly between -3 and 3 and 0 elsewhere (at both kinks
    too, as PyTorch's gradient). PyTorch's gradient uses 1/6 rounded to
    float32 even for float64 tensors; rfmaps uses 1/6 (they differ by 3e-8).

    Examples
    --------
    >>> Hardsigmoid().value(np.array([-4.0, 0.0, 1.5, 4.0])).tolist()
    [0.0, 0.5, 0.75, 1.0]
    >>> (6 * Hardsigmoid().slope(np.array([-3.0, 0.0, 3.0]))).tolist()
    [0.0, 1.0, 0.0]
    """

    def value(self, x):
        return _relu6(x + 3) / 6

    def slope(self, x):
        return np.where((x > -3) & (x < 3), 1 / 6, 0.0)
