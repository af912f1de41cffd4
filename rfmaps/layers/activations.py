"""Element-wise activations other than ReLU: ``LeakyReLU``, ``ELU``, ``GELU``, ``SiLU``, ``Sigmoid``, ``Tanh``.

Each applies one function ``f`` to every pixel of every map, as its namesake
in ``torch.nn`` does. For the arithmetic each is a 1 x 1 window with stride 1:
it never changes which input pixels a neuron sees, only how strongly. The
backward pass multiplies the gradient by ``f'(x)``, so a smooth activation
lets every path through (a little), where ReLU blocks the paths of negative
inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..validation import finite_number
from .base import SlidingWindow

__all__ = ["LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Activation"]

_ONE = (1, 1)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Activation(SlidingWindow):
    """What every element-wise activation shares: a 1 x 1 window with stride 1.

    A kind defines ``value(x)`` (the function) and ``slope(x)`` (its
    derivative), both on float64 arrays.
    """

    kernel_size: Any = field(default=_ONE, init=False)
    stride: Any = field(default=_ONE, init=False)
    padding: Any = field(default=(0, 0), init=False)
    dilation: Any = field(default=_ONE, init=False)

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
