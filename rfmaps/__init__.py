"""rfmaps: see feature maps and receptive fields of convolutional networks.

The package is built in layers, each using only those below it:

* arithmetic, no arrays: :mod:`rfmaps.validation`, :mod:`rfmaps.geometry`,
  :mod:`rfmaps.receptive_field`, :mod:`rfmaps.architectures`, :mod:`rfmaps.check`;
* layer kinds, one module each in :mod:`rfmaps.layers` (and the composite
  :mod:`rfmaps.residual`): values that answer the arithmetic's questions and
  run their own forward and backward passes on arrays;
* arrays (numpy): :mod:`rfmaps.sliding`, :mod:`rfmaps.connectivity`,
  :mod:`rfmaps.kernels`, :mod:`rfmaps.images`, :mod:`rfmaps.engine`,
  :mod:`rfmaps.growth`;
* drawing (matplotlib): :mod:`rfmaps.drawing`, :mod:`rfmaps.volumes`;
* explorers (ipywidgets): :mod:`rfmaps.widgets`.

Beside them: :mod:`rfmaps.convert` (``from_torch``, which imports torch
inside the function only) and :mod:`rfmaps.trained` (a small trained network
read from package data with numpy).
"""

from .layers import (AvgPool2d, BatchNorm2d, ChannelShuffle, ChannelSlice, Conv2d, ConvTranspose2d, ELU, Flatten,
                     GELU, GlobalAvgPool2d, Hardsigmoid, Hardswish, LayerNorm2d, LeakyReLU, MaxPool2d, ReLU, ReLU6,
                     Sigmoid, SiLU, Tanh, Upsample, ZeroPad2d)
from .receptive_field import input_channels, input_region, projective_field, receptive_fields
from .residual import Concat, Residual
from .connectivity import forward_path_counts, path_counts
from .engine import effective_receptive_field, feature_maps, mass_width
from .convert import from_torch
from . import architectures, check, trained
from . import images, kernels

__version__ = "0.2.0"

__all__ = [
    "Conv2d", "ConvTranspose2d", "Upsample", "MaxPool2d", "AvgPool2d", "ReLU", "ZeroPad2d", "Residual", "Concat",
    "BatchNorm2d", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "ReLU6", "Hardswish", "Hardsigmoid",
    "LayerNorm2d", "ChannelShuffle", "ChannelSlice", "GlobalAvgPool2d", "Flatten", "from_torch", "trained",
    "receptive_fields", "input_region", "input_channels", "projective_field", "path_counts",
    "forward_path_counts",
    "feature_maps", "effective_receptive_field", "mass_width", "images", "kernels", "check", "architectures",
]
