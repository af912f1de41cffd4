"""``BatchNorm2d`` in evaluation mode: one affine map per channel.

After training, ``torch.nn.BatchNorm2d`` no longer looks at the batch: it
uses its running statistics, so channel ``c`` becomes

``y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]``,

a scale and a shift. For the arithmetic it is a 1 x 1 window with stride 1:
the scale multiplies every path through channel ``c``, and the field stays
the same.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import Optional

import numpy as np

from .._core.validation import finite_number, positive_int
from .base import expect_channels
from .pointwise import PerPixel

__all__ = ["BatchNorm2d"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BatchNorm2d(PerPixel):
    """Batch normalisation with fixed statistics, as ``torch.nn.BatchNorm2d`` in ``eval()`` mode.

    Parameters
    ----------
    num_features : int
        Channels in and out.
    eps : float, default 1e-5
        Added to the variance before the square root, as in PyTorch.
    weight, bias : array_like, optional, keyword-only
        Shape ``(num_features,)``: the learnt scale and shift (1 and 0 when omitted).
    running_mean, running_var : array_like, optional, keyword-only
        Shape ``(num_features,)``: the statistics (0 and 1 when omitted).

    Examples
    --------
    >>> bn = BatchNorm2d(2, eps=0.0, running_mean=[1, 0], running_var=[4, 1], weight=[1, 3])
    >>> bn.scale.tolist(), bn.shift.tolist()
    ([0.5, 3.0], [-0.5, 0.0])
    """

    num_features: int
    eps: float = 1e-5
    _: KW_ONLY
    weight: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None
    running_mean: Optional[np.ndarray] = None
    running_var: Optional[np.ndarray] = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "num_features", positive_int(self.num_features, "num_features"))
        set_(self, "eps", finite_number(self.eps, "eps", 0.0))
        self._freeze(("weight", "bias", "running_mean", "running_var"), self.num_features)
        variance = 1.0 if self.running_var is None else self.running_var
        if np.any(variance + self.eps <= 0):
            raise ValueError("running_var + eps must be > 0 for every channel (a variance is never negative), "
                             f"got a minimum of {np.min(variance + self.eps)}")

    @property
    def scale(self) -> np.ndarray:
        """Per channel: ``weight / sqrt(running_var + eps)``."""
        variance = np.ones(self.num_features) if self.running_var is None else self.running_var
        weight = np.ones(self.num_features) if self.weight is None else self.weight
        return weight / np.sqrt(variance + self.eps)

    @property
    def shift(self) -> np.ndarray:
        """Per channel: ``bias - running_mean * scale``."""
        mean = np.zeros(self.num_features) if self.running_mean is None else self.running_mean
        bias = np.zeros(self.num_features) if self.bias is None else self.bias
        return bias - mean * self.scale

    def __repr__(self) -> str:
        given = [name for name in ("weight", "bias", "running_mean", "running_var") if getattr(self, name) is not None]
        extra = "".join(f", {name}=<given>" for name in given)
        eps = "" if self.eps == 1e-5 else f", eps={self.eps}"
        return f"BatchNorm2d({self.num_features}{eps}{extra})"

    def channels_before(self) -> int:
        return self.num_features

    def channels_after(self, channels: int, where: str = "layer", source: str = "its input") -> int:
        expect_channels(self, channels, "num_features", self.num_features, where, source)
        return channels

    def forward(self, x, weight, out):
        # Computed in float64 (the statistics are), then stored in out's type.
        out[...] = x * self.scale[:, None, None] + self.shift[:, None, None]
        return out

    def backward(self, weight, x, y, grad):
        return grad * self.scale[:, None, None]
