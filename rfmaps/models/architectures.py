"""Real networks as layer lists: AlexNet, VGG-16 and ResNet-50 (feature extractors).

The default definitions follow TF-slim (``alexnet_v2``, ``vgg_16``,
``resnet_v1_50``), so their receptive fields can be checked end-point by
end-point against the table published with Araujo, Norris and Sim (2019),
google-research/receptive_field, ``RECEPTIVE_FIELD_TABLE.md``. Stage names
follow TF-slim's end-points (``conv1``, ``pool1``, ``conv3/conv3_2``, ``block2``...).

TF-slim's ResNet-50 v1 puts the stride-2 step in the *last* unit of blocks 1
to 3; torchvision's puts it in the *first* unit of layers 2 to 4 (and pads its
first max pool). ``resnet50(variant="torchvision")`` builds that one: the
earlier a stride, the more later layers see its larger jump, so the two
variants end with different receptive fields.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

from ..layers import Conv2d, Layer, MaxPool2d, ReLU, ZeroPad2d
from ..arithmetic.receptive_field import ReceptiveFieldTable, receptive_fields
from ..layers.residual import Residual

__all__ = ["Network", "alexnet", "vgg16", "resnet50", "stage_table"]


class Network(tuple):
    """A tuple of layers with a name for each (``names``) and the stages worth a row (``endpoints``).

    :func:`rfmaps.receptive_fields` shows the names in its table.
    """

    names: List[str]
    endpoints: List[str]

    def __new__(cls, named: Sequence[Tuple[str, object]], endpoints: Sequence[str]) -> "Network":
        network = super().__new__(cls, [layer for _, layer in named])
        network.names = [name for name, _ in named]
        network.endpoints = list(endpoints)
        return network

    def __reduce__(self):
        # A tuple subclass pickles through its constructor's arguments: names and end-points too.
        return (type(self), (list(zip(self.names, self)), self.endpoints))


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


def resnet50(variant: str = "tf-slim") -> Network:
    """ResNet-50 (v1) up to the last residual stage.

    Parameters
    ----------
    variant : {'tf-slim', 'torchvision'}
        Where each stage's stride-2 step sits: in the last unit of blocks 1-3
        (TF-slim's ``resnet_v1_50``, the default), or in the first unit of
        stages 2-4 with a padded first max pool (torchvision's ``resnet50``).

    Examples
    --------
    >>> receptive_fields(resnet50(), 224)[-1].rf_size
    (483, 483)
    >>> receptive_fields(resnet50("torchvision"), 224)[-1].rf_size
    (427, 427)
    """
    if variant not in ("tf-slim", "torchvision"):
        raise ValueError(f"variant must be 'tf-slim' or 'torchvision', got {variant!r}")
    named = _conv_relu("conv1", 3, 64, 7, stride=2, padding=3)
    if variant == "tf-slim":
        # TF's 'SAME' max pool pads one pixel after, none before (ReLU outputs >= 0, so zeros never win).
        named += [("pool1/pad", ZeroPad2d((0, 1, 0, 1))), ("pool1", MaxPool2d(3, stride=2))]
    else:
        named += [("pool1", MaxPool2d(3, stride=2, padding=1))]
    channels = 64
    stages = [(256, 64, 3), (512, 128, 4), (1024, 256, 6), (2048, 512, 3)]
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
    return Network(named, ["conv1", "pool1", "block1", "block2", "block3", "block4"])


def stage_table(network: Network, input_size=224) -> ReceptiveFieldTable:
    """The rows of :func:`receptive_fields` at the network's end-points only.

    Examples
    --------
    >>> [row.name for row in stage_table(alexnet())][:3]
    ['conv1', 'pool1', 'conv2']
    """
    if not isinstance(network, Network):
        raise TypeError("network must be a Network from rfmaps.models.architectures (alexnet(), vgg16(), "
                        "resnet50()), which names its stages; for a list of layers, "
                        f"rfmaps.receptive_fields(layers, input_size) gives every row; got {type(network).__name__}")
    rows = receptive_fields(network, input_size)
    wanted = set(network.endpoints)
    # TF-slim's end-point is the output after the ReLU; the named layer before it
    # has the same geometry and size, so its row stands for the end-point.
    picked = [row for row in rows if row.name in wanted]
    return ReceptiveFieldTable(picked, rows.input_size)
