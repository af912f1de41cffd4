"""rfmaps: see feature maps and receptive fields of convolutional networks.

The folders are the package's layers, bottom up; each imports only those before it:

1. :mod:`rfmaps._core`: argument checks, exact geometry and sliding windows (internal);
2. :mod:`rfmaps.layers`: one module per layer kind, plus the composites ``Residual`` and ``Concat``;
3. :mod:`rfmaps.arithmetic`: receptive fields, projective fields, path counts (exact, no pixels);
4. :mod:`rfmaps.engine`: images, kernels, feature maps and effective fields (numpy);
   :mod:`rfmaps.check`: feedback for students (uses 1-3 only);
5. :mod:`rfmaps.models`: published architectures, ``from_torch`` and a small trained network;
6. :mod:`rfmaps.drawing`: matplotlib pictures and sentences;
7. :mod:`rfmaps.widgets`: the explorers and ``Predict`` (ipywidgets).

The names a notebook needs are re-exported here: the layer kinds, ``receptive_fields``, ``feature_maps``,
``from_torch``, and the modules ``images``, ``kernels``, ``architectures``, ``trained`` and ``check``.
"""

from .layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, ChannelShuffle, ChannelSlice, Conv2d, ConvTranspose2d,
                     ELU, Flatten, GELU, GlobalAvgPool2d, Hardsigmoid, Hardswish, LayerNorm2d, LeakyReLU, MaxPool2d,
                     ReLU, ReLU6, Sigmoid, SiLU, SqueezeExcitation, Tanh, Upsample, ZeroPad2d)
from .arithmetic.receptive_field import input_channels, input_region, projective_field, receptive_fields
from .layers.residual import Concat, Residual
from .arithmetic.connectivity import forward_path_counts, path_counts
from .engine.maps import effective_receptive_field, feature_maps, mass_width
from .models.convert import from_torch
from .models import architectures
from . import check
from .models import trained
from .engine import images
from .engine import kernels

__version__ = "0.3.0"

__all__ = [
    "Conv2d", "ConvTranspose2d", "Upsample", "MaxPool2d", "AvgPool2d", "ReLU", "ZeroPad2d", "Residual", "Concat",
    "BatchNorm2d", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "ReLU6", "Hardswish", "Hardsigmoid",
    "LayerNorm2d", "ChannelShuffle", "ChannelSlice", "GlobalAvgPool2d", "AdaptiveAvgPool2d",
    "SqueezeExcitation", "Flatten", "from_torch", "trained",
    "receptive_fields", "input_region", "input_channels", "projective_field", "path_counts",
    "forward_path_counts",
    "feature_maps", "effective_receptive_field", "mass_width", "images", "kernels", "check", "architectures",
]
