"""The design questions: a stack with a target receptive field (assignment 2), a decoder (assignment 3),
and numbers of parameters.

Holes, channels and sizes are judged with the layers' own ``reach_back``,
``channels_after`` and ``output_size``, the methods the package computes with.
"""

from __future__ import annotations

import itertools
import math
from typing import List, Optional, Sequence

from ..layers import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, SlidingWindow, Upsample, check_layers
from ..arithmetic.receptive_field import bounding_box, walk_reach, receptive_fields
from ..layers.base import PIXEL_LIMIT, Runs
from ..layers.residual import Residual
from .answers import Refusal, as_whole, describe, layer_list, refusing, whole_number
from .feedback import matching, named, say, verdict
from .variants import DECODER_CHANNELS, DECODER_INPUT, RF_INPUT


def nested(layers):
    """Every layer of ``layers``, and those inside each path of a residual block (after the block)."""
    for layer in layers:
        yield layer
        if isinstance(layer, Residual):
            for path in layer.paths:
                yield from nested(path)


def convolutions(layers) -> list:
    """Every convolution (Conv2d, ConvTranspose2d) of ``layers``, walking into each path of a Residual block."""
    return [layer for layer in nested(layers) if isinstance(layer, (Conv2d, ConvTranspose2d))]


def count_parameters(layers: Sequence) -> int:
    """Weights and biases of all convolutions (transposed ones too), on every path of residual blocks.

    Pooling, upsampling and ReLU have none.

    Examples
    --------
    >>> count_parameters([Conv2d(3, 8, 3)])
    224
    >>> from rfmaps import Residual
    >>> count_parameters([Residual([Conv2d(8, 8, 3, padding=1)], [Conv2d(8, 8, 1)])])
    656
    """
    # Each convolution counts its own (groups included): (k·k·C/g + 1)·n.
    return sum(c.parameter_count for c in convolutions(check_layers(layers)))


def _reached(layers, rows, position) -> list:
    """The input pixels with a path to one neuron of the last layer, as products ``(rows, cols)`` of sets.

    The walk of :func:`rfmaps.input_region` (each layer's own ``reach_back``), kept as sets: the
    pixels between them, if any, are the field's holes.
    """
    boxes = [(Runs((position[0],)), Runs((position[1],)))]
    for index in range(len(rows) - 1, -1, -1):
        below = rows.input_size if index == 0 else rows[index - 1].output_size
        boxes = walk_reach("check_design", rows[index], lambda: rows[index].layer.reach_back(boxes, below))
        if not boxes:
            break
    return boxes


def _seen(boxes) -> int:
    """How many pixels the products ``boxes`` hold together: inclusion and exclusion over their overlaps
    (each a product of runs, so no pixel is counted one by one)."""
    total = 0
    for size in range(1, len(boxes) + 1):
        for chosen in itertools.combinations(boxes, size):
            rows, cols = chosen[0]
            for other in chosen[1:]:
                rows, cols = rows & other[0], cols & other[1]
            total += (-1) ** (size + 1) * len(rows) * len(cols)
    return total


def _period(layers, axis: int) -> int:
    """After how many neurons of the last map the fields repeat their shape (shifted), along ``axis``.

    A growing layer (transposed convolution, upsampling by g) multiplies the period by g: its outputs of
    one phase read other taps than their neighbours; a stride c divides it by gcd(period, c).
    """
    period = 1
    for layer in layers:
        factor = growth_factor(layer)
        if factor:
            period *= factor[axis]
        elif isinstance(layer, SlidingWindow):
            period //= math.gcd(period, layer.stride[axis])
        elif isinstance(layer, Residual):  # its paths are uniform: one whole jump
            period //= math.gcd(period, int(layer.geometry.jump[axis]))
    return period


def _fields(layers, input_size) -> tuple:
    """``(rf, holes)``: the smallest field (pixels end to end) of a neuron of the last map away from the
    image's border, and the most pixels inside such a field that have no path to its neuron.

    Away from the border a field's shape depends only on the neuron's phase, so the neurons of one period
    in the middle of the last map, on an input wide enough that their fields lie inside it, stand for all.
    """
    rows = receptive_fields(layers, input_size)
    reach = max(rows[-1].rf_size) + 2 * max(sum(sum(layer.pads[0]) for layer in nested(layers)
                                                 if isinstance(layer, SlidingWindow)), 1)
    if rows[-1].whole_image:
        # Through a gate or a global pooling every neuron reads the whole image it is given: on a wider
        # input its field would be that wider image (328 for a 64 x 64 design, hostile review), so the
        # real input is the one to measure.
        wide = rows
    else:
        try:  # room around the middle neurons' fields; every stride keeps its grid on a wider input
            wide = receptive_fields(layers, tuple(n + 4 * reach for n in rows.input_size))
        except ValueError:  # a block whose paths agree on the real size only
            wide = rows
    last = wide[-1]
    periods = [min(_period(layers, axis), 16) for axis in (0, 1)]
    smallest, holes = None, 0
    for dr in range(periods[0]):
        for dc in range(periods[1]):
            position = tuple(min(n // 2 + d, n - 1) for n, d in zip(last.output_size, (dr, dc)))
            boxes = _reached(layers, wide, position)
            if not boxes:
                return 0, 0
            extent = [high - low + 1 for low, high in bounding_box(boxes)]
            if len(boxes) <= 12:
                seen = _seen(boxes)
            else:  # 2 ** 12 overlaps or more: the pixels themselves (a design of many multi-path blocks)
                total = sum(len(rs) * len(cs) for rs, cs in boxes)
                if total > PIXEL_LIMIT:
                    raise ValueError(f"check_design cannot count {total} pixels of {len(boxes)} overlapping boxes "
                                     f"one by one, more than the {PIXEL_LIMIT} it counts; ask it for a smaller "
                                     "input_size")
                seen = len({(r, c) for rs, cs in boxes for r in rs for c in cs})
            smallest = min(extent) if smallest is None else min(smallest, *extent)
            holes = max(holes, extent[0] * extent[1] - seen)
    return smallest, holes


@refusing
def check_design(layers, target_rf: int, budget: int, *, min_output: int = 1, min_convs: int = 3,
                 min_kernels: int = 8, in_channels: int = 1, input_size: int = RF_INPUT) -> bool:
    """Check a designed stack against the rules of the design question; name every rule it breaks.

    The rules: it takes an image of ``in_channels`` channels and runs on an
    ``input_size`` square; it has at least ``min_convs`` convolutions, each with at
    least ``min_kernels`` kernels; channels fit from layer to layer (each layer
    says what it takes, as :func:`rfmaps.feature_maps` asks it); pooling windows do
    not overlap (stride = window, the default); its last map is at least
    ``min_output`` wide; its last neurons see at least ``target_rf`` pixels with no
    holes (every pixel of the field has a path to the neuron, found as
    :func:`rfmaps.input_region` finds it, for every layer kind); it has at most
    ``budget`` parameters (:func:`count_parameters`). Numbers that are not whole
    numbers are refused with a sentence.

    Examples
    --------
    >>> check_design([Conv2d(1, 8, 31)], target_rf=21, budget=2000)
    ✘ Not yet: it has 1 convolution, the rules ask for at least 3; it has 7696 parameters, over the budget of 2000.
    False
    """
    layers = layer_list(layers, "design", "[Conv2d(1, 8, 3), ReLU(), ...]")
    target_rf = whole_number(target_rf, "target_rf", 1, 21)
    budget = whole_number(budget, "budget", 0, 2000)
    min_output, min_convs = whole_number(min_output, "min_output", 1, 8), whole_number(min_convs, "min_convs", 0, 3)
    min_kernels = whole_number(min_kernels, "min_kernels", 1, 8)
    in_channels = whole_number(in_channels, "in_channels", 1, 1)
    input_size = whole_number(input_size, "input_size", 1, 64)
    problems = []
    convs = convolutions(layers)
    if len(convs) < min_convs:
        problems.append(f"it has {len(convs)} convolution{'s' * (len(convs) != 1)}, "
                        f"the rules ask for at least {min_convs}")
    few = [c for c in convs if c.out_channels < min_kernels]
    if few:
        problems.append(f"{few[0]!r} has {few[0].out_channels} kernels; every convolution needs at least "
                        f"{min_kernels} (a network with fewer maps detects too few features)")
    channels = in_channels
    for index, layer in enumerate(layers):
        source = "the image has" if index == 0 or channels == in_channels else "the layer before gives"
        channels, problem = channels_after(layer, index, channels, source)
        if problem:
            problems.append(problem)
            break
    for index, layer in enumerate(layers):
        pools = [p for p in nested([layer]) if isinstance(p, (MaxPool2d, AvgPool2d)) and p.stride != p.kernel_size]
        if pools:
            problems.append(f"layer {index} ({layer!r}) has a pooling window that overlaps its neighbours; "
                            "the rules ask for non-overlapping pools (leave stride at its default)")
            break
    try:
        rows = receptive_fields(layers, input_size)
    except ValueError as error:
        problems.append(f"it does not run on a {input_size} × {input_size} image ({error})")
        return say(False, "Not yet: " + "; ".join(problems) + ".")
    out = min(rows[-1].output_size)
    try:
        rf, holes = _fields(layers, input_size)
    except ValueError as error:  # a field too ragged to keep as runs at this size: one sentence, no traceback
        raise Refusal(f"{error}.") from None
    params = count_parameters(layers)
    if out < min_output:
        problems.append(f"its last map is {out} wide, the rules ask for at least {min_output}: "
                        "every stride and pool halves the map (or more)")
    if rf < target_rf:
        problems.append(f"its receptive field is {rf}, short of {target_rf}")
    elif holes:
        problems.append(f"its receptive field spans {rf} pixels but has holes: {holes} pixels inside it have no "
                        "path to the neuron (a stride or dilation larger than the window below it skips pixels, "
                        "which the neuron then never sees)")
    if params > budget:
        problems.append(f"it has {params} parameters, over the budget of {budget}")
    if problems:
        return say(False, "Not yet: " + "; ".join(problems) + ".")
    return say(True, f"Every rule holds: rf {rf} ≥ {target_rf}, no holes, {len(convs)} convolutions, "
                      f"last map {out} ≥ {min_output} wide, {params} ≤ {budget} parameters.")


def channels_after(layer, index: int, channels: int, source: str) -> tuple:
    """``(channels leaving layer, None)``, asked of the layer itself as :func:`rfmaps.feature_maps` does;
    or ``(None, the sentence)`` when it cannot take the ``channels`` that ``source`` (e.g. "the image has")."""
    try:
        return layer.channels_after(channels, f"layer {index}", source.rsplit(" ", 1)[0]), None
    except ValueError as error:
        # A layer with kernels is worded by its in_channels; any other kind says it its own way.
        takes = layer.channels_before() if layer.has_weights else None
        if takes is not None and takes != channels:
            return None, f"layer {index} ({layer!r}) takes {takes} channels, but {source} {channels}"
        return None, str(error)


@refusing
def check_parameter_count(layers, answer) -> bool:
    """Look for the common mistakes in ``answer``, the number of weights and biases of ``layers``.

    Examples
    --------
    >>> depthwise, pointwise = Conv2d(32, 32, 3, groups=32), Conv2d(32, 64, 1)
    >>> check_parameter_count([depthwise, pointwise], 2048 + 288)
    ✘ 2336 is not it: you left out the biases: each kernel has one, so each output channel adds 1.
    False
    """
    layers = layer_list(layers)
    given = as_whole(answer)
    if given is None:
        return say(False, f"A number of parameters is a whole number; you gave {describe(answer)}.")
    if given < 0:
        return say(False, f"A number of parameters is never negative; you gave {given}.")
    convs = convolutions(layers)
    right = count_parameters(layers)

    def total(per_layer):
        return sum(per_layer(c) for c in convs)

    def area(c):
        return c.kernel_size[0] * c.kernel_size[1]

    mistakes = [
        (total(lambda c: c.parameter_count - c.out_channels),
         "you left out the biases: each kernel has one, so each output channel adds 1"),
        (total(lambda c: c.in_channels * c.out_channels * area(c) + c.out_channels),
         "you counted a grouped convolution as a full one: with groups = g each kernel reads only the "
         "in_channels / g channels of its group (a depthwise one: a single channel)"),
        (total(lambda c: c.in_channels // c.groups * c.out_channels * c.kernel_size[0] + c.out_channels),
         "a k × k kernel has k · k weights per channel it reads, not k"),
        (total(lambda c: c.out_channels * area(c) + c.out_channels),
         "a kernel has k · k weights for *each* channel it reads, not k · k in all"),
    ]
    if len(convs) > 1:
        mistakes += [(c.parameter_count, "count every convolution of the stack, not one of them") for c in convs]
    matches = matching(given, mistakes, right)
    if matches:
        return named(f"{given} is not it", matches)
    return verdict(given == right, str(given),
                    "Next, count each convolution on its own: out_channels kernels of "
                    "(in_channels / groups) · k · k weights, plus one bias each.")


def _taps_per_phase(layer: ConvTranspose2d, axis: int) -> List[int]:
    """How many kernel taps reach an output of each phase ``o mod s`` (away from the border)."""
    return [len(layer.axis_sources(o, axis)) for o in range(layer.stride[axis])]


def growth_factor(layer) -> Optional[tuple]:
    """The stride (or scale factor) of a layer that grows the map by one, else None."""
    if isinstance(layer, ConvTranspose2d) and layer.stride != (1, 1):
        return layer.stride
    if isinstance(layer, Upsample) and layer.scale_factor != (1, 1):
        return layer.scale_factor
    return None


def _uneven(layer: ConvTranspose2d) -> Optional[str]:
    """How a transposed convolution overlaps unevenly (different tap counts for neighbouring outputs), or None."""
    for axis in (0, 1):
        counts = _taps_per_phase(layer, axis)
        if len(set(counts)) > 1:
            k, s = layer.kernel_size[axis], layer.stride[axis]
            why = (f"its kernel size {k} is not a multiple of its stride {s}" if layer.dilation[axis] == 1 else
                   "its dilation lands the taps unevenly on the stride's phases")
            return (f"neighbouring outputs are reached by {min(counts)} and {max(counts)} kernel taps ({why}): "
                    "a checkerboard even when every weight is the same")
    return None


@refusing
def check_decoder(layers, target_size: int, budget: int, *, input_size: int = DECODER_INPUT,
                  in_channels: int = DECODER_CHANNELS, out_channels: int = 1, min_growing: int = 2) -> bool:
    """Check a designed decoder against the rules of the decoder question; name every rule it breaks.

    The rules: it takes the encoder's ``in_channels`` maps of ``input_size`` ×
    ``input_size``, channels fit from layer to layer (each layer says what it
    takes, as :func:`rfmaps.feature_maps` asks it), and it ends with
    ``out_channels`` map(s) of exactly ``target_size`` × ``target_size``
    (:func:`rfmaps.receptive_fields`); it grows the map in at least
    ``min_growing`` steps, each a transposed convolution of stride 2 or an
    ``Upsample(2)``; no transposed convolution overlaps unevenly (the same number
    of kernel taps reaches every output phase); it has at most ``budget``
    parameters (:func:`count_parameters`). Numbers that are not whole numbers are
    refused with a sentence.

    Even overlap removes the checkerboard's cause that does not depend on the
    weights, the one rfmaps can check; it does not make every output flat: equal
    tap *counts* are not equal tap *sums*, and a kernel-4, stride-2 transposed
    convolution with other than equal weights can give four different values on a
    flat input. Upsampling, then convolving (Odena et al., 2016) is flat for any weights.

    Examples
    --------
    >>> check_decoder([ConvTranspose2d(16, 1, 4, stride=4)], target_size=32, budget=1600)
    ✘ Not yet: it grows the map in 1 step, the rules ask for at least 2; layer 0 (ConvTranspose2d(16, 1, kernel_size=4, stride=4)) grows the map 4 times at once, the rules allow steps of 2.
    False
    >>> check_decoder([Upsample(2), Conv2d(16, 8, 3, padding=1), Upsample(2), Conv2d(8, 1, 3)], "30", 1600)
    ✘ target_size must be a whole number, like 32; you gave the text '30' (remove the quotes to give a number).
    False
    """
    layers = layer_list(layers, "decoder", "[Upsample(2), Conv2d(16, 8, 3), ...]")
    target_size = whole_number(target_size, "target_size", 1, 32)
    budget = whole_number(budget, "budget", 0, 1600)
    input_size = whole_number(input_size, "input_size", 1, 8)
    in_channels = whole_number(in_channels, "in_channels", 1, 16)
    out_channels = whole_number(out_channels, "out_channels", 1, 1)
    min_growing = whole_number(min_growing, "min_growing", 0, 2)
    problems = []
    channels = in_channels
    for index, layer in enumerate(layers):
        channels, problem = channels_after(layer, index, channels,
                                            "the encoder gives" if index == 0 else "the layer before gives")
        if problem:
            problems.append(problem)
            break
    else:
        if channels != out_channels:
            problems.append(f"it ends with {channels} maps; the rules ask for {out_channels} "
                            "(one value per pixel, a mask)")
    growing = [(index, layer, factor) for index, layer in enumerate(layers) if (factor := growth_factor(layer))]
    if len(growing) < min_growing:
        problems.append(f"it grows the map in {len(growing)} step{'s' * (len(growing) != 1)}, the rules ask "
                        f"for at least {min_growing}")
    for index, layer, factor in growing:
        if max(factor) > 2:
            problems.append(f"layer {index} ({layer!r}) grows the map {max(factor)} times at once, the rules "
                            "allow steps of 2")
    for index, layer in enumerate(layers):
        for inner in nested([layer]):
            uneven = _uneven(inner) if isinstance(inner, ConvTranspose2d) else None
            if uneven:
                problems.append(f"layer {index} ({layer!r}) overlaps unevenly: {uneven}")
                break
    try:
        out = receptive_fields(layers, input_size)[-1].output_size
    except ValueError as error:
        problems.append(f"it does not run on the encoder's {input_size} × {input_size} map ({error})")
        out = None
    if out is not None and out != (target_size, target_size):
        problems.append(f"its last map is {out[0]} × {out[1]}, the target is {target_size} × {target_size}")
    params = count_parameters(layers)
    if params > budget:
        problems.append(f"it has {params} parameters, over the budget of {budget}")
    if problems:
        return say(False, "Not yet: " + "; ".join(problems) + ".")
    return say(True, f"Every rule holds: {target_size} × {target_size} × {out_channels} from "
                      f"{input_size} × {input_size} × {in_channels} in {len(growing)} steps of 2, no uneven "
                      f"overlap, {params} ≤ {budget} parameters.")
