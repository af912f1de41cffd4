"""Checks of receptive fields and projective fields: sizes layer by layer, a neuron's region, a pixel's field.

Assignment 2 asks the rf sizes and a region; assignment 3 a projective field.
Regions and fields are ``((top, bottom), (left, right))``, 0-based and inclusive.
"""

from __future__ import annotations

from typing import Optional, Tuple, Union

from ..layers import AvgPool2d, MaxPool2d, SlidingWindow, Upsample
from ..arithmetic.receptive_field import input_region, projective_field
from ..layers.residual import Residual
from .answers import (asked, describe, layer_list, read_input_size, read_point, read_region, read_whole_list,
                      refusing, table_of)
from .feedback import matching, named, say, verdict


#: The format, with a worked example, for a region or a field typed as text.
Region = Tuple[Tuple[int, int], Tuple[int, int]]

REGION_EXAMPLE = "((2, 4), (3, 5)) for rows 2 to 4 and columns 3 to 5, both ends included, counted from 0"
FIELD_EXAMPLE = "((2, 4), (3, 5)) for neurons in rows 2 to 4 and columns 3 to 5, both ends included, counted from 0"


@refusing
def check_rf_sizes(layers, input_size, answers) -> bool:
    """Look for the common mistakes in a student's receptive-field size (height) for every layer.

    Each value of a sliding window (convolution, pool, ReLU...) is compared with
    the step the recurrence takes from the student's *own* previous value; a step
    that matches a common mistake is named with its idea. Other kinds (a residual
    block, a transposed convolution, an upsampling) have no such step: from there
    on the values are compared with :func:`rfmaps.receptive_fields` (for a growing
    layer, the largest field of its neurons). Under ``mistakes-only`` no message
    says which values are right.

    Examples
    --------
    >>> from rfmaps import Conv2d, MaxPool2d
    >>> check_rf_sizes([Conv2d(1, 4, 3), MaxPool2d(2), Conv2d(4, 4, 3)], 32, [3, 4, 6])
    ✘ Layer 2 (Conv2d(4, 4, kernel_size=3)): you added k − 1 without multiplying by the jump: after a stride or a pool, neighbouring neurons of the layer below lie several input pixels apart.
    False
    """
    layers = layer_list(layers)
    rows = table_of(layers, read_input_size(input_size))
    given = read_whole_list(answers, "rf_sizes")
    if given is None:
        return False
    if len(given) != len(rows):
        return say(False, f"Give one rf size per layer: the stack has {len(rows)} layers, you gave {len(given)}.")
    previous, jump = 1, 1
    for index, (row, value) in enumerate(zip(rows, given)):
        layer = row.layer
        name = f"Layer {index} ({layer!r})"
        if not (isinstance(layer, SlidingWindow) and row.uniform):
            # No window step to compare with: go on from this layer only when its value is right.
            if row.uniform and value == row.rf_size[0]:
                previous, jump = value, int(row.jump[0])
                continue
            break
        span, stride = layer.effective_kernel_size[0], layer.stride[0]
        step = previous + (span - 1) * jump  # the right value, from the student's own previous one
        if value < previous:
            return say(False, f"{name}: a receptive field never shrinks from one layer to the next, "
                               f"but yours goes from {previous} to {value}.")
        if span == 1 and value != previous:
            return say(False, f"{name}: this layer looks at one neuron of the layer below, "
                               "so its neurons see exactly what those see.")
        mistakes = [
            (previous + span - 1, "you added k − 1 without multiplying by the jump: after a stride or a pool, "
                                  "neighbouring neurons of the layer below lie several input pixels apart"),
            (previous + (span - 1) * jump * stride,
             "you multiplied by this layer's own stride too: a stride spaces this layer's neurons, "
             "it does not widen what one of them sees, and it counts from the next layer on"),
            (previous * span, "you multiplied the sizes: windows of neighbouring neurons overlap, "
                              "so the field grows by (k − 1) × jump, not by a factor"),
            (previous + span, "you added k: the neuron below at the window's first tap is already counted, "
                              "so the field grows by k − 1 steps"),
            (previous, "a pooling window combines several neurons of the layer below, so it widens the field too"
             if isinstance(layer, (MaxPool2d, AvgPool2d)) else
             "this layer's window covers several neurons of the layer below, so the field grows"),
        ]
        matches = matching(value, mistakes, step)
        if matches:
            return named(name, matches, str(value))
        previous, jump = value, jump * stride
    right = [row.rf_size[0] for row in rows]
    first = next((i for i, (a, b) in enumerate(zip(given, right)) if a != b), None)
    return verdict(first is None, f"Your {len(given)} value{'s' * (len(given) != 1)}",
                    "Next, recompute them layer by layer from the first one that is off: r grows by "
                    "(k − 1) × jump, and the jump is multiplied by each layer's stride after that layer.",
                    "are" if len(given) != 1 else "is")


def box_mistakes(right, unit: str, swapped: str, start: str) -> list:
    """``(box, idea)`` of the ways students write a right box wrongly: inclusive bounds read as exclusive,
    1-based indices, corners, rows and columns swapped, shifted by one."""
    (top, bottom), (left, last) = right
    inclusive = f"the bounds are inclusive (the last {unit} itself), not exclusive as in range() and slices"
    zero = f"indices start at 0, so the first {unit} of a row is {unit} 0, not 1"
    corners = ("you gave two corners, ((top, left), (bottom, right)), but the answer is the rows' range, then the "
               "columns': ((top, bottom), (left, right))")
    mistakes = [
        (((top, bottom + 1), (left, last + 1)), f"each pair ends one {unit} too late: {inclusive}"),
        (((top, bottom + 1), (left, last)),
         f"the rows' pair ends one {unit} too late (the columns' is right): {inclusive}"),
        (((top, bottom), (left, last + 1)),
         f"the columns' pair ends one {unit} too late (the rows' is right): {inclusive}"),
        (((top + 1, bottom + 1), (left + 1, last + 1)), f"every bound is one too large: {zero}"),
        (((top + 1, bottom + 2), (left + 1, last + 2)),
         f"two slips together: every bound is counted from 1 ({zero}), and each pair ends one {unit} later "
         f"still ({inclusive})"),
        (((top, left), (bottom, last)), corners),
        (((top, left), (bottom + 1, last + 1)),
         f"two slips together: {corners}; and the ends are one {unit} too late ({inclusive})"),
        (((top + 1, left + 1), (bottom + 1, last + 1)),
         f"two slips together: {corners}; and every bound is one too large ({zero})"),
        (((top + 1, left + 1), (bottom + 2, last + 2)),
         f"three slips together: {corners}; every bound is counted from 1 ({zero}); and the ends are one {unit} "
         f"later still ({inclusive})"),
        (((left, last), (top, bottom)), f"you swapped rows and columns: {swapped}"),
    ]
    for rows, cols, where in ((1, 0, "one row too low"), (-1, 0, "one row too high"),
                              (0, 1, "one column too far right"), (0, -1, "one column too far left"),
                              (-1, -1, "one row too high and one column too far left")):
        mistakes.append((((top + rows, bottom + rows), (left + cols, last + cols)),
                         f"it has the right size but lies {where}: {start}"))
    return mistakes


def one_too_long(given, right, what: str, unit: str) -> Optional[str]:
    """The sentence for a box that is the right one but one ``unit`` longer at the end of one axis or both
    (an exclusive end), when that is the whole difference; else None."""
    if right is None or any(g[0] != r[0] for g, r in zip(given, right)):
        return None
    longer = [g[1] - r[1] for g, r in zip(given, right)]
    if longer not in ([1, 0], [0, 1], [1, 1]):
        return None
    which = {(1, 0): "too tall", (0, 1): "too wide", (1, 1): "too tall and too wide"}[tuple(longer)]
    return (f"Your {what} is one {unit} {which}: the bounds are inclusive, so a field of r {unit}s runs "
            f"from a to a + r − 1.")


def _box_answer(answer, right, none_means: str, what: str, indices: str, example: str) -> Union[bool, Region]:
    """``answer`` read as ``((top, bottom), (left, right))``; or the verdict, said, when the answer settles
    it first: None (right exactly when ``right`` is None too, else ``none_means`` is named) or no box."""
    if answer is None:
        if right is None:
            return verdict(True, "None", "")
        return say(False, f"You gave None, which stands for {none_means}; give ((top, bottom), (left, right)) "
                          "otherwise.")
    given = read_region(answer)
    if given is None:
        return say(False, f"Give {what} as ((top, bottom), (left, right)), four whole {indices} "
                          f"(0-based, inclusive); you gave {describe(answer, example)}.")
    return given


def _judge_box(given: Region, right, sides, what: str, unit: str, outside: str, next_if_none: str,
               next_step: str) -> bool:
    """The verdict on a well-formed box ``given`` once no common mistake matched: each pair in order,
    inside ``sides`` (else ``outside``, with ``{last}`` the last index), not one ``unit`` too long, then
    right or not (what to check next: ``next_if_none`` when the answer is None, else ``next_step``)."""
    for low, high in given:
        if low > high:
            return say(False, f"Each pair is (first, last) {unit}: the first index is the smaller one.")
    for (low, high), side in zip(given, sides):
        if low < 0 or high > side - 1:
            return say(False, outside.format(last=side - 1))
    too_long = one_too_long(given, right, what, unit)
    if too_long:
        return say(False, too_long)
    return verdict(given == right, f"Your {what}", next_if_none if right is None else next_step)


@refusing
def check_region(layers, position, input_size, answer) -> bool:
    """Look for the common mistakes in ``((top, bottom), (left, right))``, a neuron's input region.

    Inclusive, 0-based pixel indices, clipped to the image, as :func:`rfmaps.input_region`.
    ``None`` stands for a neuron that sees only padding.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, ((2, 5), (2, 4)))
    ✘ Not this region: the rows' pair ends one pixel too late (the columns' is right): the bounds are inclusive (the last pixel itself), not exclusive as in range() and slices.
    False
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, ((3, 5), (3, 5)))
    ✘ Not this region: every bound is one too large: indices start at 0, so the first pixel of a row is pixel 0, not 1.
    False
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, [[2, 4], [2, 4]])
    ✔ Your region is right.
    True
    """
    layers = layer_list(layers)
    size = read_input_size(input_size)
    rows = table_of(layers, size)
    position = read_point(position, "position")
    right = asked(input_region, layers, position, size)
    n = rows.input_size
    given = _box_answer(answer, right, "a neuron that sees only padding", "the region", "pixel indices",
                        REGION_EXAMPLE)
    if isinstance(given, bool):
        return given
    uniform = right is not None and all(row.uniform for row in rows)
    if right is not None:
        mistakes = box_mistakes(right, "pixel", "the neuron is (row, col), the region (rows, cols)",
                                 "recheck where it starts: neuron p's field starts p jumps after neuron 0's "
                                 "(which padding, if any, moves before pixel 0), counting from 0")
        if uniform:
            rf, jump = rows[-1].rf_size, rows[-1].jump
            previous_jump = rows[-2].jump if len(rows) > 1 else (1, 1)
            unclipped = input_region(layers, position, size, clip=False)
            assert unclipped is not None  # only a clipped region can be empty
            # First pixel of neuron 0's field, per axis; neuron p's field starts p jumps further on.
            origin = [low - p * j for (low, _), p, j in zip(unclipped, position, jump)]

            def region_from(firsts):
                return tuple((max(f, 0), min(f + r - 1, n_axis - 1)) for f, r, n_axis in zip(firsts, rf, n))

            mistakes += [
                (region_from([o + p * f for o, p, f in zip(origin, position, rf)]),
                 "it is the right size in the wrong place: you stepped by the rf size, but neighbouring neurons "
                 "are one *jump* apart, and their fields overlap"),
                (region_from([o + p * j for o, p, j in zip(origin, position, previous_jump)]),
                 "it is the right size in the wrong place: you stepped by the jump of the layer before, but the "
                 "last layer's own stride counts too"),
                (region_from([p * j - (f - 1) // 2 for p, j, f in zip(position, jump, rf)]),
                 "it is the right size in the wrong place: you put the neuron's centre at i × jump, but without "
                 "padding that is where its field starts"),
            ]
        matches = matching(given, mistakes, right)
        if matches:
            return named("Not this region", matches)
    return _judge_box(given, right, n, "region", "pixel",
                      "Pixel indices run from 0 to {last}: a region is clipped to the image.",
                      "Next, check whether this neuron's window reaches the image at all: a neuron that sees "
                      "only padding has the region None.",
                      "Next, check its size (the rf size, in pixels) and its place: neuron p's field starts "
                      "p jumps after neuron 0's; bounds are 0-based and inclusive, clipped to the image.")


def _changed(layer, what: str):
    """``layer`` as a student who ignores its ``what`` ('stride' or 'padding') would read it."""
    if isinstance(layer, Residual):
        return Residual(tuple(_changed(inner, what) for inner in layer.body),
                        tuple(_changed(inner, what) for inner in layer.shortcut))
    arguments = layer._arguments()  # the constructor's arguments (a ReLU has no stride to set)
    if isinstance(layer, Upsample) and what == "stride":
        arguments["scale_factor"] = 1
    elif what in arguments:
        arguments[what] = 1 if what == "stride" else 0
        if what == "stride" and "output_padding" in arguments:
            arguments["output_padding"] = 0  # PyTorch allows it only below the stride
    return type(layer)(**arguments)


def _field_read_without(layers, pixel, input_size, what: str, last_size) -> Optional[tuple]:
    """The projective field a student gets who ignores every layer's ``what``, clipped to the real last map."""
    try:
        field = projective_field([_changed(layer, what) for layer in layers], pixel, input_size)
    except ValueError:
        return None
    if field is None:
        return None
    clipped = tuple((max(low, 0), min(high, size - 1)) for (low, high), size in zip(field, last_size))
    return clipped if all(low <= high for low, high in clipped) else None


@refusing
def check_projective_field(layers, pixel, input_size, answer) -> bool:
    """Look for the common mistakes in ``((top, bottom), (left, right))``, the projective field of a pixel.

    Inclusive, 0-based neuron indices of the last layer's map, as :func:`rfmaps.projective_field`.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, ((1, 6), (1, 5)))
    ✘ Not this field: the rows' pair ends one neuron too late (the columns' is right): the bounds are inclusive (the last neuron itself), not exclusive as in range() and slices.
    False
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, ((1, 6), (1, 6)))
    ✘ Not this field: each pair ends one neuron too late: the bounds are inclusive (the last neuron itself), not exclusive as in range() and slices.
    False
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, [[1, 5], [1, 5]])
    ✔ Your field is right.
    True
    """
    layers = layer_list(layers)
    size = read_input_size(input_size)
    rows = table_of(layers, size)
    pixel = read_point(pixel, "pixel")
    last = rows[-1].output_size
    right = asked(projective_field, layers, pixel, size)
    given = _box_answer(answer, right, "a pixel that reaches no neuron", "the field",
                        "neuron indices of the last map", FIELD_EXAMPLE)
    if isinstance(given, bool):
        return given
    if right is not None:
        mistakes = []
        if all(0 <= p < m for p, m in zip(pixel, last)):
            region = input_region(layers, pixel, size)  # it may lie outside the last map
            mistakes.append((region, "that is the receptive field of the neuron at the pixel's position, but the "
                                     "projective field goes the other way: from the pixel to every neuron it can "
                                     "change"))
        mistakes += box_mistakes(right, "neuron", "the pixel is (row, col), the field (rows, cols)",
                                  "find the first and the last neuron whose window covers the pixel, layer by layer "
                                  "(padding shifts which windows do)")
        mistakes += [
            (_field_read_without(layers, pixel, size, "stride", last),
             "you left out the strides: a stride-s convolution has s times fewer neurons, so a pixel's "
             "field *shrinks* by s there, and a stride-s transposed convolution spreads it s times wider"),
            (_field_read_without(layers, pixel, size, "padding", last),
             "you left out the padding: it shifts which neurons' windows cover the pixel"),
        ]
        if len(layers) > 1:
            mistakes.append((projective_field(layers, pixel, size, layer=-2),
                             "that is the field one layer before the end: follow the pixel through every layer"))
        matches = matching(given, mistakes, right)
        if matches:
            return named("Not this field", matches)
    return _judge_box(given, right, last, "field", "neuron",
                      "Neurons of the last map run from 0 to {last}: a projective field is clipped to the map, "
                      "as a receptive field is clipped to the image.",
                      "Next, check whether any neuron of the last map reads this pixel at all: a pixel that "
                      "reaches none has the field None.",
                      "Next, follow the pixel layer by layer: which neurons of each layer have it in their "
                      "window? Bounds are 0-based and inclusive, clipped to the last map.")
