"""Layer specifications with PyTorch's signatures and meanings, one module per kind.

A layer is a small immutable value: it says *how* it slides over its input
(kernel size, stride, padding, dilation) and, for a convolution, which
weights it uses. Each kind answers, in its own module, the questions the rest
of the package asks (see :mod:`rfmaps.layers.base`): its output size, its
receptive-field geometry, its forward and backward passes and its path
counts.

Every size argument takes an int or an ``(h, w)`` pair, as in ``torch.nn``.
The normalised pairs are stored, so ``Conv2d(1, 1, 3).kernel_size == (3, 3)``.
"""


from .._core.validation import IntOrPair, Pair
from .activations import ELU, GELU, Hardsigmoid, Hardswish, LeakyReLU, ReLU6, SiLU, Sigmoid, Tanh
from .base import Layer, SlidingWindow, check_layers
from .batchnorm import BatchNorm2d
from .channels import ChannelShuffle, ChannelSlice, LayerNorm2d
from .conv import Conv2d
from .flatten import Flatten
from .gate import SqueezeExcitation
from .global_pool import AdaptiveAvgPool2d, GlobalAvgPool2d
from .pointwise import ReLU, ZeroPad2d
from .pooling import AvgPool2d, MaxPool2d
from .transposed import ConvTranspose2d
from .upsample import Upsample

__all__ = ["Conv2d", "ConvTranspose2d", "Upsample", "MaxPool2d", "AvgPool2d", "ReLU", "ZeroPad2d", "BatchNorm2d",
           "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "ReLU6", "Hardswish", "Hardsigmoid",
           "LayerNorm2d", "ChannelShuffle", "ChannelSlice", "GlobalAvgPool2d", "AdaptiveAvgPool2d",
           "SqueezeExcitation", "Flatten", "Layer", "SlidingWindow",
           "check_layers", "Pair", "IntOrPair"]
