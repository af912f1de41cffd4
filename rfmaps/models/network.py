"""A network with named stages (:class:`Network`) and the table of its end-points (:func:`stage_table`).

The builders of :mod:`rfmaps.models.architectures` return a :class:`Network`:
a tuple of layers that every function of rfmaps takes, with a name for each
layer and the list of end-points worth a row. TF-slim's ``'SAME'`` padding
depends on the size of the image (see :mod:`rfmaps.models.slim`), so a network
built with it remembers the size it was built for (``input_size``), and
:func:`stage_table` refuses another.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

from .._core.validation import IntOrPair, Pair, pair
from ..arithmetic.receptive_field import ReceptiveFieldTable, receptive_fields

__all__ = ["Network", "stage_table"]


class Network(tuple):
    """A tuple of layers with a name for each (``names``) and the stages worth a row (``endpoints``).

    :func:`rfmaps.receptive_fields` shows the names in its table.
    ``input_size`` is the image size the padding was worked out for, or None
    when the padding does not depend on it.

    Examples
    --------
    >>> from rfmaps import Conv2d, ReLU
    >>> net = Network([("conv1", Conv2d(3, 8, 3)), ("conv1/relu", ReLU())], ["conv1"])
    >>> net.names, net.endpoints, net.input_size
    (['conv1', 'conv1/relu'], ['conv1'], None)
    """

    names: List[str]
    endpoints: List[str]
    input_size: Optional[Pair]

    def __new__(cls, named: Sequence[Tuple[str, object]], endpoints: Sequence[str],
                input_size: Optional[IntOrPair] = None) -> "Network":
        network = super().__new__(cls, [layer for _, layer in named])
        network.names = [name for name, _ in named]
        network.endpoints = list(endpoints)
        network.input_size = None if input_size is None else pair(input_size, "input_size", 1)
        missing = [name for name in network.endpoints if name not in network.names]
        if missing:
            raise ValueError(f"endpoints must name layers of the network, got {missing}")
        return network

    def __reduce__(self):
        # A tuple subclass pickles through its constructor's arguments: names, end-points and size too.
        return (type(self), (list(zip(self.names, self)), self.endpoints, self.input_size))


def stage_table(network: Network, input_size: Optional[IntOrPair] = None) -> ReceptiveFieldTable:
    """The rows of :func:`receptive_fields` at the network's end-points only.

    Parameters
    ----------
    network : Network
        From :mod:`rfmaps.models.architectures`.
    input_size : int or (int, int), optional
        The image size; by default the one the network was built for, else 224.
        A network whose padding depends on the size (TF-slim's ``'SAME'``)
        takes only the size it was built for.

    Examples
    --------
    >>> from rfmaps.models.architectures import alexnet
    >>> [row.name for row in stage_table(alexnet())][:3]
    ['conv1', 'pool1', 'conv2']
    """
    if not isinstance(network, Network):
        raise TypeError("network must be a Network from rfmaps.models.architectures (alexnet(), vgg16(), "
                        "resnet50()...), which names its stages; for a list of layers, "
                        f"rfmaps.receptive_fields(layers, input_size) gives every row; got {type(network).__name__}")
    built = network.input_size
    size = (built or (224, 224)) if input_size is None else pair(input_size, "input_size", 1)
    if built is not None and size != built:
        raise ValueError(f"input_size must be {built[0]} x {built[1]}, the size this network's 'SAME' padding "
                         f"was worked out for (TensorFlow pads by the size of each map), got {size[0]} x "
                         f"{size[1]}; build it again for that size, e.g. with input_size={size[0]}")
    rows = receptive_fields(network, size)
    wanted = set(network.endpoints)
    # TF-slim's end-point is the output after the ReLU; the named layer before it
    # has the same geometry and size, so its row stands for the end-point.
    picked = [row for row in rows if row.name in wanted]
    return ReceptiveFieldTable(picked, rows.input_size)
