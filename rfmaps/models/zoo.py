"""The networks people use, side by side: one stage table for many networks at one input size.

A *stage* of a network is a run of layers with the same jump; the table keeps
the last row of each run (where the next layer steps), so ResNet-50 at 224 has
stages of 112, 56, 28, 14 and 7 pixels, then its head.
For each stage it also counts the neurons that see **every** pixel of the
image, and says why:

* ``field covers the image``: the neuron's field box, clipped to the image,
  is the whole image (a field larger than the image is not enough: a corner
  neuron's field is centred near the corner and spends half of it on padding);
* ``global pooling`` or the name of another whole-image layer (a
  squeeze-and-excitation gate): a layer after which every neuron depends on
  the whole map before it (``whole_image`` rows of
  :func:`rfmaps.receptive_fields`);
* ``fully connected layer``: a classifier head whose 1 x 1 output reads every
  position of the map before it (AlexNet's and VGG's ``Flatten`` and
  ``Linear`` on their 6 x 6 and 7 x 7 maps, which ``from_torch`` reads as one
  convolution whose kernel is the whole map).

Stages follow the network's stride structure as if its squeeze-and-excitation gates were taken out: after a
gate :func:`rfmaps.receptive_fields` reports every neuron's field as the box the gated map reads, with jump 0
(the exact dependence), which would merge every later stage into one. So each stage shows its real jump and the
field of its *convolution path* (the same network without gates), and says ``gated`` when a gate lies at or
before it: through the gate every neuron also depends on every pixel the gated map reads. The count of neurons
that see every pixel is worked out with the gates in, so it stays exact.

The networks come from torchvision (``weights=None``: the geometry does not
depend on the weights) read by :func:`rfmaps.from_torch`, or, without
torchvision, from :mod:`rfmaps.models.architectures`. A network that
``from_torch`` refuses keeps a row that quotes the refusal: nothing is left
out silently.

torch and torchvision are imported inside the functions that need them only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .._core.geometry import nearest_whole
from .._core.validation import Pair, layer_index, pair
from ..arithmetic.receptive_field import LayerRow, input_region, receptive_fields, walk_reach
from ..engine.maps import effective_receptive_field, mass_width
from ..layers import Flatten, GlobalAvgPool2d, Layer, SqueezeExcitation, ZeroPad2d
from ..layers.base import Runs
from ..layers.pointwise import PerPixel
from ..layers.residual import Concat, Residual
from . import architectures

__all__ = ["TORCHVISION", "SHIPPED", "Refusal", "Stage", "ZooTable", "import_torchvision", "torchvision_network",
           "shipped_network", "stages", "whole_image_neurons", "zoo_table", "trunk", "INSTALL", "Effective",
           "EffectiveTable", "effective_fields", "FEW", "trunks"]

#: The torchvision classifiers of the table: one or two of every family, at most a few hundred MB each.
TORCHVISION: Tuple[str, ...] = (
    "alexnet", "vgg16", "resnet18", "resnet50", "densenet121", "googlenet", "inception_v3", "squeezenet1_1",
    "shufflenet_v2_x1_0", "mobilenet_v2", "mobilenet_v3_large", "mnasnet1_0", "efficientnet_b0",
    "regnet_y_400mf", "convnext_tiny")

#: The networks that ship with rfmaps (no torch needed), by name: the function that builds each for an input size
#: (TF-slim's 'SAME' padding depends on it). Each name says whose definition it follows, so that no shipped name
#: is also a torchvision name (tests/test_zoo.py).
SHIPPED: Dict[str, Callable[[Pair], Sequence[Layer]]] = {
    "alexnet (TF-slim)": lambda size: architectures.alexnet(),
    "vgg16 (TF-slim)": lambda size: architectures.vgg16(),
    "inception_v2 (TF-slim)": lambda size: architectures.inception_v2(input_size=size),
    "inception_v3 (TF-slim)": lambda size: architectures.inception_v3(),
    "mobilenet_v1 (TF-slim)": lambda size: architectures.mobilenet_v1(input_size=size),
    "resnet50 (TF-slim)": lambda size: architectures.resnet50("tf-slim", input_size=size),
    "resnet50 (torchvision)": lambda size: architectures.resnet50("torchvision"),
    "resnet101 (TF-slim)": lambda size: architectures.resnet101("tf-slim", input_size=size),
    "resnet152 (TF-slim)": lambda size: architectures.resnet152("tf-slim", input_size=size),
}

#: The CPU build: a plain ``pip install torch`` on Linux pulls the CUDA build, several GB that a notebook never uses.
INSTALL = "%pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu"

#: A few networks whose effective field a notebook computes at 224 in seconds (numpy): from torchvision, or shipped.
FEW: Dict[str, Tuple[str, ...]] = {"torchvision": ("squeezenet1_1", "mobilenet_v2"),
                                   "shipped": ("alexnet (TF-slim)", "mobilenet_v1 (TF-slim)")}

Network = Union[Sequence[Layer], "Refusal"]


@dataclass(frozen=True)
class Refusal:
    """A network rfmaps does not read, and the sentence that says why (``from_torch``'s own error)."""

    name: str
    reason: str


@dataclass(frozen=True)
class Stage:
    """The last row of a run of layers with one jump (a stage), and who sees the whole image there.

    Attributes
    ----------
    network : str
    stage : str
        ``'1'``, ``'2'``... in order, or ``'head'`` for the 1 x 1 outputs after a global pooling.
    row : LayerRow
        The row of :func:`rfmaps.receptive_fields` (maps, output size, field, jump, start) of the network's
        convolution path: the same network with its squeeze-and-excitation gates taken out (``layer`` and
        ``index`` are the network's own).
    whole : int
        How many neurons of one map see every pixel of the image (worked out with the gates in).
    why : str
        Why they do: ``''`` (none does), ``'field covers the image'``, ``'global pooling'``, the class of
        the first other whole-image layer before this row (a squeeze-and-excitation gate), or
        ``'fully connected layer'`` (a 1 x 1 output of a layer whose window is its whole input map).
    gated : bool, default False
        A squeeze-and-excitation gate lies at or before this row: besides ``row``'s field, every neuron
        depends on every pixel the gated map reads.
    """

    network: str
    stage: str
    row: LayerRow
    whole: int
    why: str
    gated: bool = False

    @property
    def neurons(self) -> int:
        """Neurons of one map of this stage."""
        return self.row.output_size[0] * self.row.output_size[1]


def import_torchvision() -> Tuple[Any, str]:
    """``(torchvision, '')``, or ``(None, a sentence that says why not and how to install it)``.

    Only imports: rfmaps declares nothing for a torchvision build that does not match the torch beside it.

    Examples
    --------
    >>> module, why = import_torchvision()
    >>> (module is None) == bool(why)
    True
    """
    try:
        import torchvision
    except ImportError:
        return None, (f"torchvision is not installed here: run  {INSTALL}  in a cell and restart the kernel "
                      "to see its networks; until then this notebook shows the networks that ship with rfmaps.")
    except Exception as error:  # an installed build that stops on import (one made for another torch)
        first = str(error).splitlines()[0] if str(error) else "no message"
        return None, (f"torchvision is installed but does not import here ({type(error).__name__}: {first}): "
                      f"install torch and torchvision together so that they match ({INSTALL}) and restart the "
                      "kernel; until then this notebook shows the networks that ship with rfmaps.")
    return torchvision, ""


def torchvision_network(name: str, torchvision: Any = None) -> Network:
    """torchvision's classifier ``name`` (``weights=None``, in ``eval()`` mode) as rfmaps layers, or its refusal.

    Parameters
    ----------
    name : str
        A model builder of ``torchvision.models`` (``'resnet50'``, ``'mobilenet_v3_large'``...).
    torchvision : module, optional
        The imported torchvision (default: import it).

    Returns
    -------
    list of Layer or Refusal
        The whole classifier, head included; :class:`Refusal` with ``from_torch``'s sentence when it is refused.
    """
    if torchvision is None:
        torchvision, why = import_torchvision()
        if torchvision is None:
            raise ImportError(why)
    # Only model builders: torchvision.models also holds helpers (get_model), classes (ResNet) and modules
    # (detection), which take no weights=None and would stop with a raw TypeError.
    builders = _builders(torchvision)
    if not isinstance(name, str) or name not in builders:
        raise ValueError(f"name must be a classification model builder of torchvision.models "
                         f"(torchvision.models.list_models(torchvision.models)) such as 'resnet50', "
                         f"'mobilenet_v3_large' or 'alexnet', got {name!r}")
    from .convert import from_torch

    options: Dict[str, Any] = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        options.update(aux_logits=False, init_weights=False)  # the auxiliary heads run only in training
    model = getattr(torchvision.models, name)(**options).eval()
    try:
        return from_torch(model)
    except ValueError as error:
        return Refusal(name, str(error))


def _builders(torchvision: Any) -> Tuple[str, ...]:
    """The names of torchvision's classification model builders (lowercase functions before 0.14, which has
    no ``list_models``)."""
    models = torchvision.models
    if hasattr(models, "list_models"):
        return tuple(models.list_models(module=models))
    return tuple(name for name, value in vars(models).items()
                 if not name.startswith("_") and name.islower() and callable(value) and not isinstance(value, type)
                 and getattr(value, "__module__", "").startswith("torchvision.models."))


def shipped_network(name: str, input_size: Any = 224) -> Sequence[Layer]:
    """One of :data:`SHIPPED` (no torch needed), built for ``input_size``.

    Examples
    --------
    >>> len(shipped_network("vgg16 (TF-slim)"))
    31
    """
    if not isinstance(name, str) or name not in SHIPPED:
        raise ValueError(f"name must be one of {sorted(SHIPPED)}, got {name!r}")
    return SHIPPED[name](pair(input_size, "input_size", 1))


# The whole-image layers by class, in words.
_CAUSES = {"GlobalAvgPool2d": "global pooling", "SqueezeExcitation": "squeeze-and-excitation gate"}


def _global_cause(layers: Sequence[Layer]) -> Optional[str]:
    """Why every neuron after ``layers`` sees its whole input map: the first whole-image layer, or None."""
    for layer in layers:
        for path in getattr(layer, "paths", ()):  # inside a block (a gate in a residual body)
            cause = _global_cause(path)
            if cause:
                return cause
        if getattr(layer, "whole_image", False):
            return _CAUSES.get(type(layer).__name__, type(layer).__name__)
    return None


def _fully_connected(layers: Sequence[Layer], size: Pair) -> bool:
    """Whether a top-level convolution of ``layers`` reads its whole input map in one window (a map larger than
    1 x 1, no padding): a fully connected layer, as ``from_torch`` reads ``Flatten`` and ``Linear`` after
    ``AdaptiveAvgPool2d((h, w))``."""
    rows = receptive_fields(layers, size)
    for index, layer in enumerate(layers):
        before = rows[index - 1].output_size if index else size
        kernel, padding = getattr(layer, "kernel_size", None), getattr(layer, "padding", None)
        if kernel is not None and tuple(kernel) == tuple(before) != (1, 1) and tuple(padding or (0, 0)) == (0, 0):
            return True
    return False


def whole_image_neurons(layers: Sequence[Layer], input_size: Any = 224, layer: int = -1) -> Tuple[int, str]:
    """How many neurons of one map of ``layers[layer]`` see every pixel of the image, and why.

    A neuron sees every pixel when its field, clipped to the pixels the network really reads, is the whole
    image (:func:`rfmaps.input_region`).

    Parameters
    ----------
    layers : sequence of Layer
    input_size : int or (int, int)
    layer : int, default -1

    Returns
    -------
    (int, str)
        The count and the reason (see :class:`Stage`); ``(0, '')`` when no neuron does.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> whole_image_neurons([Conv2d(1, 1, 5, padding=2)], 3)   # 5 x 5 fields on a 3 x 3 image
    (9, 'field covers the image')
    >>> whole_image_neurons(architectures.resnet50("torchvision"), 224)
    (36, 'field covers the image')
    >>> whole_image_neurons([Conv2d(1, 1, 3, stride=2)] * 5, 64)   # 63 and 64 are never read
    (0, '')
    >>> whole_image_neurons([Conv2d(1, 4, 3, stride=2), Conv2d(4, 10, 4)], 9)   # a 4 x 4 window on a 4 x 4 map
    (1, 'fully connected layer')
    """
    size = pair(input_size, "input_size", 1)
    layers = list(layers)
    rows = receptive_fields(layers, size)
    index = layer_index(layer, len(rows))
    return _whole(layers[: index + 1], rows[index], size)


def _lines_reached(layers: Sequence[Layer], size: Pair, axis: int, line: int) -> Runs:
    """The neurons' indices along ``axis`` (rows for 0) of the last layer with a path from the whole
    input line ``line`` (a row for axis 0), walking forward with each layer's own ``reach_forward``:
    exact, holes and padding-only neurons included, as :func:`rfmaps.projective_field` walks."""
    whole = Runs([range(size[1 - axis])])
    boxes = [(Runs((line,)), whole) if axis == 0 else (whole, Runs((line,)))]
    for index, layer in enumerate(layers):
        boxes = walk_reach("whole_image_neurons", _RowName(index, layer), lambda: layer.reach_forward(boxes, size))
        size = layer.output_size(size)
        if not boxes:
            break
    return Runs([r for box in boxes if box[1 - axis] for r in box[axis].ranges])


class _RowName:
    """What :func:`walk_reach` names in a refusal: the layer's index and the layer."""

    def __init__(self, index: int, layer: Layer) -> None:
        self.index, self.layer = index, layer


def _whole(layers: Sequence[Layer], row: LayerRow, size: Pair) -> Tuple[int, str]:
    # A neuron sees every pixel when the pixels with a path to it, clipped to the image, span it: along each
    # axis its reach holds the first and the last line. Walking forward from those two lines gives, exactly,
    # the neurons each reaches (the old binary search over neurons assumed boxes that move with the index,
    # which dilation holes, upsampling and padding-only neurons after a gate break: hostile review). As
    # before, boxes are taken as separable: rows and columns are counted apart (tests/test_zoo.py: autograd).
    counts = []
    for axis, side in enumerate(size):
        first, last = (_lines_reached(layers, size, axis, line) for line in (0, side - 1))
        counts.append(len(first & last))
    count = counts[0] * counts[1]
    if not count:
        return 0, ""
    cause = _global_cause(layers) if row.whole_image else None
    if cause is None and row.output_size == (1, 1) and _fully_connected(layers, size):
        cause = "fully connected layer"
    return count, cause or "field covers the image"


def _ungated(layers: Sequence[Layer]) -> List[Layer]:
    """``layers`` with every squeeze-and-excitation gate, in blocks too, replaced by a layer that reads only
    the pixel it writes: the convolution path, one layer for each of ``layers`` (so the rows line up)."""
    out: List[Layer] = []
    for layer in layers:
        if isinstance(layer, SqueezeExcitation):
            layer = PerPixel()
        elif isinstance(layer, Residual) and layer.whole_image:
            layer = Residual(tuple(_ungated(layer.body)), tuple(_ungated(layer.shortcut)))
        elif isinstance(layer, Concat) and layer.whole_image:
            layer = Concat(tuple(tuple(_ungated(b)) for b in layer.branches), layer.in_channels)
        out.append(layer)
    return out


def _has_gate(layers: Sequence[Layer]) -> bool:
    return any(isinstance(layer, SqueezeExcitation) or _has_gate([l for p in getattr(layer, "paths", ()) for l in p])
               for layer in layers)


def stages(layers: Sequence[Layer], input_size: Any = 224, network: str = "") -> List[Stage]:
    """The last row of each run of layers with one jump, with who sees the whole image there.

    A run ends where the next layer steps (a stride, a pooling); its last row that is not a padding layer
    stands for it (TF-slim pads before its first pooling: that row only adds zeros; a run of paddings alone
    is no stage). In a network with a
    flatten or a global pooling, the rows at the end whose maps are 1 x 1 are one more stage, ``'head'``.
    Runs, jumps and fields are those of the convolution path (gates taken out, see :class:`Stage`); the
    count of neurons that see every pixel is the network's own, gates in.

    Examples
    --------
    >>> [(s.stage, s.row.output_size[0], s.row.rf_size[0], s.whole) for s in stages(architectures.vgg16(), 224)]
    [('1', 224, 5, 0), ('2', 112, 14, 0), ('3', 56, 40, 0), ('4', 28, 92, 0), ('5', 14, 196, 0), ('6', 7, 212, 0)]
    """
    size = pair(input_size, "input_size", 1)
    layers = list(layers)
    gated_rows = receptive_fields(layers, size)
    # After a gate every field is the gated map's whole box and the jump 0: stages, jumps and fields come from
    # the convolution path, which has one row for each layer of the network (the gate's row is its input's).
    rows = receptive_fields(_ungated(layers), size) if _has_gate(layers) else gated_rows
    # A classifier's head: the rows at the end whose maps are 1 x 1, in a network with a flatten or global pooling.
    head = len(rows)
    if any(isinstance(layer, (Flatten, GlobalAvgPool2d)) for layer in layers):
        while head > 0 and rows[head - 1].output_size == (1, 1):
            head -= 1
    runs: List[List[int]] = []
    for index in range(head):
        if runs and rows[runs[-1][-1]].jump == rows[index].jump:
            runs[-1].append(index)
        else:
            runs.append([index])
    if head < len(rows):
        runs.append(list(range(head, len(rows))))
    found: List[Stage] = []
    number = 0
    for run in runs:
        kept = [i for i in run if not isinstance(layers[i], ZeroPad2d)]
        if not kept:  # a padding before the first layer that steps: no stage of its own
            continue
        number += 1
        index = kept[-1]
        whole, why = _whole(layers[: index + 1], gated_rows[index], size)
        gated = _has_gate(layers[: index + 1])
        row = replace(rows[index], layer=layers[index]) if rows is not gated_rows else rows[index]
        found.append(Stage(network, "head" if run[0] >= head else str(number), row, whole, why, gated))
    return found


def trunk(layers: Sequence[Layer]) -> List[Layer]:
    """The layers before a classifier's head: everything before the first (top-level) global pooling.

    Examples
    --------
    >>> from rfmaps import Conv2d, Flatten
    >>> trunk([Conv2d(1, 2, 3), GlobalAvgPool2d(), Flatten()])
    [Conv2d(1, 2, kernel_size=3)]
    """
    layers = _layers(layers, "layers")
    cut = next((i for i, layer in enumerate(layers) if isinstance(layer, GlobalAvgPool2d)), len(layers))
    return layers[:cut]


def _layers(layers: Any, name: str) -> List[Layer]:
    """``layers`` as a list, or a sentence naming the argument: a refusal (its reason quoted) or no sequence."""
    if isinstance(layers, Refusal):
        raise ValueError(f"{name} is the refusal of {layers.name!r}, not layers: {layers.reason}")
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Iterable) or isinstance(layers, Mapping):
        raise TypeError(f"{name} must be a sequence of rfmaps layers, got {type(layers).__name__} {layers!r:.80}")
    return list(layers)


def _names(networks: Any) -> None:
    """Refuse ``networks`` that are not names (a string would be read one character at a time)."""
    if isinstance(networks, (str, bytes)):
        raise TypeError(f"networks must be a list of names or a mapping of name to layers, got the string "
                        f"{networks!r}: for one network pass [{networks!r}]")
    if networks is None or not isinstance(networks, Iterable):
        raise TypeError(f"networks must be a list of names or a mapping of name to layers, got "
                        f"{type(networks).__name__} {networks!r:.80}")


def trunks(names: Iterable[str], torchvision: Any = None, input_size: Any = 224) -> Dict[str, List[Layer]]:
    """The trunks (:func:`trunk`) of shipped networks (names of :data:`SHIPPED`) or of torchvision's.

    A torchvision network that ``from_torch`` refuses raises ``ValueError`` with the refusal.

    Examples
    --------
    >>> {name: len(layers) for name, layers in trunks(["vgg16 (TF-slim)"]).items()}
    {'vgg16 (TF-slim)': 31}
    """
    found = {}
    for name in names:
        layers = shipped_network(name, input_size) if name in SHIPPED else torchvision_network(name, torchvision)
        if isinstance(layers, Refusal):
            raise ValueError(layers.reason)
        found[name] = trunk(layers)
    return found


#: What a gate adds to a stage's field, in the table's last column.
_GATED = "each neuron also depends on every pixel the gated map reads"


def _size_text(value: Pair) -> str:
    return f"{value[0]} × {value[1]}"


class ZooTable(tuple):
    """The stages of several networks (:class:`Stage`), then their refusals (:class:`Refusal`).

    Prints as text and shows as an HTML table in a notebook; ``networks`` names those read,
    ``refused`` those refused, in the order asked. A head's jump shows as "–": its 1 x 1 output has no
    neighbour to step to. The field and jump of a gated stage are its convolution path's; its last cell says
    what the gate adds.
    """

    columns = ("network", "stage", "maps", "output size", "rf size", "jump", "sees every pixel")
    input_size: Pair
    networks: Tuple[str, ...]
    refused: Tuple[Refusal, ...]

    def __new__(cls, stages: Iterable[Stage], refused: Iterable[Refusal], input_size: Pair,
                networks: Iterable[str]) -> "ZooTable":
        table = super().__new__(cls, stages)
        table.refused = tuple(refused)
        table.input_size = input_size
        table.networks = tuple(networks)
        return table

    def __reduce__(self):
        return (type(self), (tuple(self), self.refused, self.input_size, self.networks))

    def last(self, network: str) -> Stage:
        """The last stage of ``network`` (its head, when it has one)."""
        found = [s for s in self if s.network == network]
        if not found:
            raise ValueError(f"network must be one of {list(self.networks)}, got {network!r}")
        return found[-1]

    def summary(self) -> str:
        """In words: which networks were read and which refused, each refusal with its own sentence."""
        read = [name for name in self.networks if name not in {r.name for r in self.refused}]
        text = f"Read ({len(read)} of {len(self.networks)}): {', '.join(read) or 'none'}."
        for r in self.refused:
            text += f"\nRefused: {r.name}. {r.reason}"
        return text

    def _cells(self):
        for s in self:
            r = s.row
            every = ("none (some pixels are never read)" if r.whole_image or s.gated else "none") if not s.whole \
                else (f"all {s.neurons} ({s.why})" if s.whole == s.neurons else f"{s.whole} of {s.neurons} ({s.why})")
            if s.neurons == 1 and s.whole:
                every = f"yes ({s.why})"
            elif s.gated and not r.whole_image:  # the field shown is the convolution path's: say what the gate adds
                every = (f"{every[:-1]}: {_GATED})" if s.whole
                         else f"none (squeeze-and-excitation gate: {_GATED}, but some pixels are never read)")
            # A head's 1 x 1 output has no neighbour to step to: no jump to show.
            jump = "–" if s.stage == "head" else _size_text(r.jump)
            yield (s.network, s.stage, "" if r.channels is None else str(r.channels), _size_text(r.output_size),
                   _size_text(r.rf_size) + (" (global)" if r.whole_image else ""), jump, every)

    def __str__(self) -> str:
        cells = [self.columns, *self._cells()]
        widths = [max(len(c[i]) for c in cells) for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        lines += [f"{r.name}: refused. {r.reason}" for r in self.refused]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = []
        previous = None
        for cells in self._cells():
            # The network's name once, on its first stage; a rule above each network.
            first = cells[0] != previous
            previous = cells[0]
            style = ' style="border-top: 2px solid currentColor"' if first else ""
            shown = (f"<th scope=\"row\">{escape(cells[0])}</th>" if first else "<td></td>")
            body.append(f"<tr{style}>{shown}" + "".join(f"<td>{escape(c)}</td>" for c in cells[1:]) + "</tr>")
        for r in self.refused:
            body.append(f'<tr style="border-top: 2px solid currentColor"><th scope="row">{escape(r.name)}</th>'
                        f'<td colspan="{len(self.columns) - 1}">refused: {escape(r.reason)}</td></tr>')
        caption = (f"{len(self.networks)} networks on a {_size_text(self.input_size)} image: "
                   f"{len(self.networks) - len(self.refused)} read, {len(self.refused)} refused")
        return (f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")


def zoo_table(networks: Union[Mapping[str, Any], Iterable[str]], input_size: Any = 224, *,
              build: Optional[Callable[[str], Network]] = None) -> ZooTable:
    """The stages of every network, one after the other, and the refusals.

    Parameters
    ----------
    networks : mapping of name to layers (or :class:`Refusal`), or names
        Names are built one at a time with ``build`` and let go after their rows are read, so a table of
        many large networks holds one network's weights at a time.
    input_size : int or (int, int), default 224
    build : callable, optional
        Name to layers or :class:`Refusal`; default :func:`shipped_network` for names of :data:`SHIPPED`
        (each says whose definition it is, "(TF-slim)" or "(torchvision)", so none is a torchvision name),
        else :func:`torchvision_network`.

    Examples
    --------
    >>> table = zoo_table(["vgg16 (TF-slim)", "resnet50 (torchvision)"])
    >>> table.last("resnet50 (torchvision)").row.rf_size, table.last("resnet50 (torchvision)").whole
    ((427, 427), 36)
    """
    size = pair(input_size, "input_size", 1)
    _names(networks)
    if isinstance(networks, Mapping):
        items = list(networks.items())
        names = [name for name, _ in items]
        source: Callable[[str], Network] = dict(items).__getitem__
    else:
        names = list(networks)
        if build is None:
            source = lambda name: (shipped_network(name, size) if name in SHIPPED  # noqa: E731
                                   else torchvision_network(name))
        else:
            source = build
    wrong = [name for name in names if not isinstance(name, str)]
    if wrong:
        raise TypeError(f"networks must name each network with a str (the table's first column), got {wrong[0]!r}")
    found: List[Stage] = []
    refused: List[Refusal] = []
    for name in names:
        layers = source(name)
        if isinstance(layers, Refusal):
            refused.append(layers)
            continue
        layers = _layers(layers, f"networks[{name!r}]")
        try:  # a network refused at this size (an AdaptiveAvgPool2d of unequal windows) keeps its row
            receptive_fields(layers, size)
        except ValueError as error:
            refused.append(Refusal(name, f"On a {_size_text(size)} image: {error}"))
            continue
        found += stages(layers, size, name)
        del layers  # a large network's weights go before the next one is built
    return ZooTable(found, refused, size, names)


@dataclass(frozen=True, eq=False)
class Effective:
    """The effective field of the centre neuron of a network's last layer, and how wide it is.

    Attributes
    ----------
    network : str
    neuron : (int, int)
        The neuron, in the last layer's maps (the middle one).
    heat : ndarray
        ``|dy / dx|`` summed over colours, one value per input pixel (:func:`rfmaps.effective_receptive_field`).
    field : (int, int)
        Height and width of the neuron's theoretical field on the image (clipped to it).
    width : int
        Side of the smallest square around the field's centre that holds ``share`` of ``heat``
        (:func:`rfmaps.mass_width`).
    share : float
    box : ((int, int), (int, int))
        The theoretical field on the image, first and last row and column (:func:`rfmaps.input_region`).
    centre : (int, int)
        The pixel nearest the centre of the neuron's field (clipped to the image): where the square is centred.
    """

    network: str
    neuron: Pair
    heat: np.ndarray
    field: Pair
    width: int
    share: float
    box: Optional[Tuple[Pair, Pair]] = None
    centre: Optional[Pair] = None


class EffectiveTable(tuple):
    """:class:`Effective` values, one per network; ``maps`` gives the heat maps by name for a picture."""

    columns = ("network", "neuron", "theoretical field on the image", "side of the square holding")

    @property
    def maps(self) -> Dict[str, np.ndarray]:
        return {e.network: e.heat for e in self}

    @property
    def shares(self) -> Dict[str, np.ndarray]:
        """Each heat map divided by its largest value (0 to 1): random weights make the raw gradients tiny
        numbers (1e-8) whose scale says nothing; the share of the largest is what a picture compares."""
        return {e.network: e.heat / e.heat.max() if e.heat.max() > 0 else e.heat for e in self}

    def _cells(self):
        for e in self:
            yield (e.network, f"({e.neuron[0]}, {e.neuron[1]})", _size_text(e.field),
                   f"{e.width} × {e.width} ({round(e.share * 100)}% of |gradient|)")

    def __str__(self) -> str:
        cells = [self.columns, *self._cells()]
        widths = [max(len(c[i]) for c in cells) for i in range(len(self.columns))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>" for cells in self._cells())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def effective_fields(networks: Mapping[str, Sequence[Layer]], image: Any, share: float = 0.95) -> EffectiveTable:
    """The effective field of the middle neuron of each network's last layer, on one image.

    Parameters
    ----------
    networks : mapping of name to layers
        Trunks (:func:`trunk`): after a global pooling every pixel counts, by construction.
    image : array_like
        ``(H, W)`` or ``(H, W, C)``; the weights of each network decide what passes its ReLUs and pools.
    share : float in (0, 1], default 0.95

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> e = effective_fields({"two 3 x 3": [Conv2d(1, 1, 3, weight=np.ones((1, 1, 3, 3)))] * 2}, np.ones((9, 9)))
    >>> e[0].neuron, e[0].field, e[0].width
    ((2, 2), (5, 5), 5)
    """
    if not isinstance(networks, Mapping):
        raise TypeError(f"networks must be a mapping of name to layers, such as {{'vgg16': trunk(layers)}}, "
                        f"got {type(networks).__name__} {networks!r:.80}")
    found = []
    for name, layers in networks.items():
        layers = _layers(layers, f"networks[{name!r}]")
        size = np.shape(image)[:2]
        rows = receptive_fields(layers, size)
        h, w = rows[-1].output_size
        neuron = (h // 2, w // 2)
        heat = effective_receptive_field(layers, neuron, image)
        box = input_region(layers, neuron, size)
        if box is None:  # the middle neuron of a map reads pixels in any network that fits the image
            raise ValueError(f"network {name!r}: its middle neuron {neuron} reads padding only")
        (top, bottom), (left, right) = box
        centre = tuple(min(max(nearest_whole(c), 0), n - 1) for c, n in zip(rows[-1].centre(neuron), size))
        found.append(Effective(name, neuron, heat, (bottom - top + 1, right - left + 1),
                               mass_width(heat, centre, share), share, box, centre))
    return EffectiveTable(found)
