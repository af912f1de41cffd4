"""TF-slim's way of building a network, as rfmaps layers: ``net = op(net, ...)`` with TensorFlow's padding.

TensorFlow's ``'SAME'`` padding gives ``ceil(n / s)`` outputs on an axis of
``n`` pixels and pads ``(ceil(n / s) - 1) s + k - n`` pixels in all (never
fewer than 0): half of them before, rounded down, the rest after. With
stride 1 and an odd kernel that is ``(k - 1) / 2`` on each side, whatever
``n``; with stride 2 it depends on ``n``: a 3 x 3 window pads ``(0, 1)`` on
112 pixels and ``(1, 1)`` on 161. So a network built here is built for one
image size, and :class:`Stack` follows the map size layer by layer.

PyTorch pads both sides equally, so an unequal ``'SAME'`` becomes a
``ZeroPad2d`` of the extra pixel after, then the layer with the padding
before. Zeros are TensorFlow's padding for a convolution; for a max pool
TensorFlow's padding never wins, and neither do zeros after a ReLU.
An average pool with ``'SAME'`` averages the image pixels only, as
``AvgPool2d(count_include_pad=False)``. Batch normalisations are left out:
in evaluation they scale and shift each channel, which moves no field.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence, Tuple

from .._core.validation import IntOrPair, Pair, pair
from ..layers import AvgPool2d, Conv2d, Layer, MaxPool2d, ReLU, ZeroPad2d
from ..layers.residual import Concat

__all__ = ["same_pads", "Stack", "Op", "conv", "max_pool", "avg_pool", "concat"]

Op = Callable[["Stack", str], None]
"""One TF-slim operation: it appends its layers, named from the name it is given, to a stack."""


def same_pads(n: int, kernel: int, stride: int) -> Tuple[int, int]:
    """TensorFlow's ``'SAME'`` padding ``(before, after)`` on an axis of ``n`` pixels.

    Examples
    --------
    >>> same_pads(112, 3, 2), same_pads(161, 3, 2), same_pads(56, 3, 1)
    ((0, 1), (1, 1), (1, 1))
    """
    out = -(-n // stride)
    total = max((out - 1) * stride + kernel - n, 0)
    return total // 2, total - total // 2


class Stack:
    """Layers appended one by one, with the map size and channels after the last.

    Parameters
    ----------
    input_size : int or (int, int)
        The image size the ``'SAME'`` paddings are worked out for.
    channels : int
        Channels arriving (3 for an RGB image).

    Examples
    --------
    >>> stack = Stack(224, 3)
    >>> conv(32, 3, stride=2)(stack, "Conv2d_0")
    >>> stack.names, stack.size
    (['Conv2d_0/pad', 'Conv2d_0', 'Conv2d_0/relu'], (112, 112))
    """

    def __init__(self, input_size: IntOrPair, channels: int):
        self.size: Pair = pair(input_size, "input_size", 1)
        self.channels = channels
        self.named: List[Tuple[str, Layer]] = []

    @property
    def names(self) -> List[str]:
        return [name for name, _ in self.named]

    @property
    def layers(self) -> Tuple[Layer, ...]:
        return tuple(layer for _, layer in self.named)

    def add(self, name: str, layer: Layer) -> None:
        """Append one layer; its output size and channels become the stack's."""
        self.size = layer.output_size(self.size)
        self.channels = layer.channels_after(self.channels, name)
        self.named.append((name, layer))

    def padding(self, name: str, kernel: Pair, stride: Pair, padding: str) -> Pair:
        """The symmetric padding for a layer; for an unequal ``'SAME'`` it first appends the extra pixel after."""
        if padding == "VALID":
            return (0, 0)
        if padding != "SAME":
            raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")
        pads = [same_pads(n, k, s) for n, k, s in zip(self.size, kernel, stride)]
        extra = [after - before for before, after in pads]
        if any(extra):
            self.add(f"{name}/pad", ZeroPad2d((0, extra[1], 0, extra[0])))
        return (pads[0][0], pads[1][0])


def conv(depth: int, kernel: IntOrPair, stride: IntOrPair = 1, padding: str = "SAME", groups: int = 1,
         activation: Optional[Callable[[], Layer]] = ReLU) -> Op:
    """``slim.conv2d``: a convolution to ``depth`` channels, then its activation (ReLU unless told).

    ``groups=channels`` with ``depth = channels * m`` is a depthwise convolution
    (``slim.separable_conv2d`` with depth multiplier ``m``).
    """
    k, s = pair(kernel, "kernel", 1), pair(stride, "stride", 1)

    def op(stack: Stack, name: str) -> None:
        p = stack.padding(name, k, s, padding)
        stack.add(name, Conv2d(stack.channels, depth, k, s, p, groups=groups))
        if activation is not None:
            layer = activation()
            stack.add(f"{name}/{type(layer).__name__.lower()}", layer)  # 'relu', 'relu6'...
    return op


def max_pool(kernel: IntOrPair, stride: IntOrPair = 1, padding: str = "SAME") -> Op:
    """``slim.max_pool2d``."""
    k, s = pair(kernel, "kernel", 1), pair(stride, "stride", 1)

    def op(stack: Stack, name: str) -> None:
        stack.add(name, MaxPool2d(k, s, stack.padding(name, k, s, padding)))
    return op


def avg_pool(kernel: IntOrPair, stride: IntOrPair = 1, padding: str = "SAME") -> Op:
    """``slim.avg_pool2d``: TensorFlow averages the image pixels a window covers, never its padding."""
    k, s = pair(kernel, "kernel", 1), pair(stride, "stride", 1)

    def op(stack: Stack, name: str) -> None:
        if padding == "SAME" and any(a != b for a, b in map(same_pads, stack.size, k, s)):
            # A ZeroPad2d's zeros would count in the mean; TensorFlow's padding does not.
            raise ValueError(f"{name}: an unequal 'SAME' average pool has no exact PyTorch twin")
        stack.add(name, AvgPool2d(k, s, stack.padding(name, k, s, padding), count_include_pad=False))
    return op


def concat(*branches: Sequence[Op]) -> Op:
    """``tf.concat`` of branches along channels, each a list of operations on the same input."""
    def op(stack: Stack, name: str) -> None:
        paths = []
        for b, branch in enumerate(branches):
            path = Stack(stack.size, stack.channels)
            for i, step in enumerate(branch):
                step(path, f"{name}/Branch_{b}/{i}")
            paths.append(path.layers)
        stack.add(name, Concat(tuple(paths), in_channels=stack.channels))
    return op
