"""Real networks as layer lists: the TF-slim networks of the published receptive-field table, and torchvision's ResNets.

The default definitions follow TF-slim (``alexnet_v2``, ``vgg_16``,
``resnet_v1_50/101/152``, ``inception_v2``, ``inception_v3``,
``mobilenet_v1``), so their receptive fields can be checked end-point by
end-point against the table published with Araujo, Norris and Sim (2019),
google-research/receptive_field, ``RECEPTIVE_FIELD_TABLE.md``. Stage names
follow TF-slim's end-points (``conv1``, ``pool1``, ``conv3/conv3_2``,
``block2``, ``Mixed_5b``, ``Conv2d_13_pointwise``...).

TF-slim pads ``'SAME'`` the way TensorFlow does, which depends on the image
size for a stride-2 layer (:mod:`rfmaps.models.slim`): ``inception_v2``,
``mobilenet_v1`` and the ResNets' first max pool are built for one
``input_size`` (224 by default), and :func:`stage_table` keeps to it. The
published table gives their effective padding at 224 and at 321 for that
reason. Batch normalisations are left out (in evaluation they scale and
shift each channel, which moves no field).

TF-slim's ResNet v1 puts the stride-2 step in the *last* unit of blocks 1
to 3; torchvision's puts it in the *first* unit of layers 2 to 4 (and pads its
first max pool). ``resnet50(variant="torchvision")`` builds that one: the
earlier a stride, the more later layers see its larger jump, so the two
variants end with different receptive fields.

The Inception networks live in :mod:`rfmaps.models.inception`, the
:class:`Network` type and :func:`stage_table` in :mod:`rfmaps.models.network`;
all are importable from here.
"""

from __future__ import annotations

from typing import List, Tuple

from .._core.validation import IntOrPair, pair
from ..arithmetic.receptive_field import receptive_fields
from ..layers import Conv2d, Layer, MaxPool2d, ReLU, ReLU6
from ..layers.residual import Residual
from .inception import inception_v2, inception_v3
from .network import Network, stage_table
from .slim import Stack, conv, max_pool

__all__ = ["Network", "alexnet", "vgg16", "resnet50", "resnet101", "resnet152", "inception_v2", "inception_v3",
           "mobilenet_v1", "stage_table"]


def _conv_relu(name: str, cin: int, cout: int, k: int, **kw) -> List[Tuple[str, object]]:
    return [(name, Conv2d(cin, cout, k, **kw)), (f"{name}/relu", ReLU())]


def alexnet() -> Network:
    """AlexNet as TF-slim's ``alexnet_v2`` (no local response normalisation).

    Examples
    --------
    >>> rows = receptive_fields(alexnet(), 224)
    >>> rows[-1].rf_size, rows[-1].jump, rows[-1].output_size
    ((195, 195), (32, 32), (5, 5))
    """
    named = _conv_relu("conv1", 3, 64, 11, stride=4)
    named += [("pool1", MaxPool2d(3, stride=2))]
    named += _conv_relu("conv2", 64, 192, 5, padding=2)
    named += [("pool2", MaxPool2d(3, stride=2))]
    named += _conv_relu("conv3", 192, 384, 3, padding=1)
    named += _conv_relu("conv4", 384, 384, 3, padding=1)
    named += _conv_relu("conv5", 384, 256, 3, padding=1)
    named += [("pool5", MaxPool2d(3, stride=2))]
    return Network(named, ["conv1", "pool1", "conv2", "conv3", "conv4", "conv5", "pool5"])


def vgg16() -> Network:
    """VGG-16's thirteen 3 x 3 convolutions and five 2 x 2 max pools.

    Examples
    --------
    >>> receptive_fields(vgg16(), 224)[-1].rf_size
    (212, 212)
    """
    named, endpoints, channels = [], [], 3
    for block, (convs, width) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)], start=1):
        for i in range(1, convs + 1):
            name = f"conv{block}/conv{block}_{i}"
            named += _conv_relu(name, channels, width, 3, padding=1)
            endpoints.append(name)
            channels = width
        named.append((f"pool{block}", MaxPool2d(2)))
        endpoints.append(f"pool{block}")
    return Network(named, endpoints)


def _bottleneck(cin: int, depth: int, width: int, stride: int) -> Residual:
    body = (Conv2d(cin, width, 1), ReLU(), Conv2d(width, width, 3, stride=stride, padding=1), ReLU(),
            Conv2d(width, depth, 1))
    shortcut: Tuple[Layer, ...]
    if cin != depth:
        shortcut = (Conv2d(cin, depth, 1, stride=stride),)
    elif stride > 1:
        shortcut = (MaxPool2d(1, stride=stride),)  # TF-slim subsamples the identity
    else:
        shortcut = ()
    return Residual(body, shortcut)


_UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def _resnet(layers: int, variant: str, input_size: IntOrPair) -> Network:
    if variant not in ("tf-slim", "torchvision"):
        raise ValueError(f"variant must be 'tf-slim' or 'torchvision', got {variant!r}")
    size = pair(input_size, "input_size", 1)
    named = _conv_relu("conv1", 3, 64, 7, stride=2, padding=3)  # TF-slim's conv2d_same pads 3 and 3, like torch
    if variant == "tf-slim":
        # TF's 'SAME' max pool on the map conv1 makes: on an even map one pixel after, none before; on
        # an odd one, one on each side (ReLU outputs are >= 0, so padded zeros never win, like TF's padding).
        pool = Stack(((size[0] - 1) // 2 + 1, (size[1] - 1) // 2 + 1), 64)
        max_pool(3, 2)(pool, "pool1")
        named += pool.named
    else:
        named += [("pool1", MaxPool2d(3, stride=2, padding=1))]
    channels = 64
    stages = zip((256, 512, 1024, 2048), (64, 128, 256, 512), _UNITS[layers])
    for number, (depth, width, units) in enumerate(stages, start=1):
        for unit in range(1, units + 1):
            if variant == "tf-slim":
                stride = 2 if unit == units and number < 4 else 1
            else:
                stride = 2 if unit == 1 and number > 1 else 1
            name = f"block{number}/unit_{unit}"
            named.append((name, _bottleneck(channels, depth, width, stride)))
            named.append((f"block{number}" if unit == units else f"{name}/relu", ReLU()))
            channels = depth
    return Network(named, ["conv1", "pool1", "block1", "block2", "block3", "block4"],
                   size if variant == "tf-slim" else None)


def resnet50(variant: str = "tf-slim", input_size: IntOrPair = 224) -> Network:
    """ResNet-50 (v1) up to the last residual stage.

    Parameters
    ----------
    variant : {'tf-slim', 'torchvision'}
        Where each stage's stride-2 step sits: in the last unit of blocks 1-3
        (TF-slim's ``resnet_v1_50``, the default), or in the first unit of
        stages 2-4 with a padded first max pool (torchvision's ``resnet50``).
    input_size : int or (int, int), default 224
        The image size TF-slim's ``'SAME'`` first max pool is padded for
        (one pixel after on 224, one on each side on 321); torchvision's
        variant pads the same on every size.

    Examples
    --------
    >>> receptive_fields(resnet50(), 224)[-1].rf_size
    (483, 483)
    >>> receptive_fields(resnet50("torchvision"), 224)[-1].rf_size
    (427, 427)
    """
    return _resnet(50, variant, input_size)


def resnet101(variant: str = "tf-slim", input_size: IntOrPair = 224) -> Network:
    """ResNet-101 (v1): :func:`resnet50` with 23 units in block 3 instead of 6.

    Examples
    --------
    >>> stage_table(resnet101())[-1].rf_size
    (1027, 1027)
    """
    return _resnet(101, variant, input_size)


def resnet152(variant: str = "tf-slim", input_size: IntOrPair = 224) -> Network:
    """ResNet-152 (v1): :func:`resnet50` with 8 units in block 2 and 36 in block 3.

    Examples
    --------
    >>> stage_table(resnet152())[-1].rf_size
    (1507, 1507)
    """
    return _resnet(152, variant, input_size)


def mobilenet_v1(input_size: IntOrPair = 224) -> Network:
    """MobileNet v1 (width 1.0) up to ``Conv2d_13_pointwise``, as TF-slim's ``mobilenet_v1_base``.

    A 3 x 3 convolution, then 13 depthwise-separable pairs: a 3 x 3
    depthwise convolution (one kernel per channel, ``groups=channels``) and a
    1 x 1 one, each followed by ReLU6. Every layer pads ``'SAME'``, so the
    network is built for ``input_size``. The end-points are ``Conv2d_0`` and
    the pointwise layers, the rows of the published table.

    Examples
    --------
    >>> row = stage_table(mobilenet_v1())[-1]
    >>> row.name, row.rf_size, row.jump, row.output_size
    ('Conv2d_13_pointwise', (315, 315), (32, 32), (7, 7))
    """
    stack = Stack(input_size, 3)
    conv(32, 3, 2, activation=ReLU6)(stack, "Conv2d_0")
    endpoints = ["Conv2d_0"]
    strides = (1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1)
    depths = (64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024)
    for i, (stride, depth) in enumerate(zip(strides, depths), start=1):
        conv(stack.channels, 3, stride, groups=stack.channels, activation=ReLU6)(stack, f"Conv2d_{i}_depthwise")
        conv(depth, 1, activation=ReLU6)(stack, f"Conv2d_{i}_pointwise")
        endpoints.append(f"Conv2d_{i}_pointwise")
    return Network(stack.named, endpoints, input_size)


