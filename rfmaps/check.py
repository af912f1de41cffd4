"""Instant feedback for students, and per-student numbers for graded assignments.

A student calls these in a cell and reads a sentence that says *what* is
wrong and *why*, without giving the graded answer away:

>>> from rfmaps import Conv2d
>>> check_output_size(Conv2d(3, 8, 5, padding=1), 32, 28)
✘ Your output size 28 is not right: you left out the padding: 2 zero pixels are added along each side.
False

Pure Python: the arithmetic of :mod:`rfmaps.receptive_field`, no arrays.
"""

from __future__ import annotations

import hashlib
import os
import random
from typing import Optional, Sequence

from .layers import Conv2d, MaxPool2d, ReLU
from .receptive_field import input_region, receptive_fields
from .geometry import Geometry
from .validation import pair

__all__ = ["variant", "variant_stack", "graded_student", "check_output_size", "check_feature_maps",
           "check_rf_sizes", "check_region", "check_design", "count_parameters"]


def variant(student_id: str) -> dict:
    """The numbers of one student's assignment, the same for the same id on every machine.

    Examples
    --------
    >>> variant("ada") == variant(" Ada ")
    True
    """
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError(f"student_id must be your (non-empty) student id, got {student_id!r}")
    seed = hashlib.sha256(student_id.strip().lower().encode()).hexdigest()
    rng = random.Random(seed)
    stack = [(rng.choice([3, 5]), rng.choice([1, 1, 2])) for _ in range(3)]
    return {
        "image_size": rng.choice([32, 40, 48, 56, 64]),
        "channels": 3,
        "kernels": rng.choice([8, 16, 24, 32, 64]),
        "kernel_size": rng.choice([3, 5, 7]),
        "stride": rng.choice([1, 2, 3]),
        "padding": rng.choice([0, 1, 2]),
        "stack": stack,  # (kernel_size, stride) of three convolutions, a 2 x 2 max pool after the second
        "neuron": (rng.randrange(0, 4), rng.randrange(0, 4)),
        "target_rf": rng.choice([19, 23, 27, 31]),
        "budget": rng.choice([2000, 2500, 3000]),
    }


def variant_stack(v: dict) -> list:
    """The layers of a variant's receptive-field question (one channel in, 4 maps per layer)."""
    (k1, s1), (k2, s2), (k3, s3) = v["stack"]
    return [Conv2d(1, 4, k1, stride=s1), ReLU(), Conv2d(4, 4, k2, stride=s2), ReLU(), MaxPool2d(2),
            Conv2d(4, 4, k3, stride=s3)]


def graded_student() -> Optional[str]:
    """While nbgrader autogrades, the student whose submission runs (its folder name); else None.

    Hidden tests use it, so a student who copies a neighbour's id is graded on their own numbers.
    """
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    # nbgrader runs each submission in autograded/<student>/<assignment>/.
    return os.path.basename(os.path.dirname(os.getcwd())) or None


def _say(ok: bool, text: str) -> bool:
    print(("✔ " if ok else "✘ ") + text)
    return ok


def check_output_size(layer: Conv2d, input_size: int, answer) -> bool:
    """Say whether ``answer`` is the output height of ``layer`` on a square input, and if not, why.

    Examples
    --------
    >>> check_output_size(Conv2d(1, 1, 3), 10, 8)
    ✔ Right: the kernel fits in 8 positions along each side.
    True
    """
    n = pair(input_size, "input_size", 1)[0]
    right = layer.output_size((n, n))[0]
    if answer == right:
        return _say(True, f"Right: the kernel fits in {right} positions along each side.")
    if not isinstance(answer, int):
        return _say(False, f"An output size is a whole number of neurons; you gave {answer!r}.")
    k, s, d = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
    before, after = layer.pads[0]
    span = layer.effective_kernel_size[0]
    hints = []
    if answer == (n + before + after - span) // s:
        hints.append("you forgot the + 1: the first window counts too, before any step of the stride")
    if before + after and answer == (n - span) // s + 1:
        hints.append(f"you left out the padding: {before + after} zero pixels are added along each side")
    if s > 1 and answer == n + before + after - span + 1:
        hints.append(f"you left out the stride: the window moves {s} pixels at a time, so divide by {s}")
    if s > 1 and answer == -(-(n + before + after - span) // s) + 1:
        hints.append("you rounded up: a window that does not fit entirely is not computed (floor)")
    if d > 1 and answer == (n + before + after - k) // s + 1:
        hints.append(f"you used the kernel size {k} where the dilated span d(k - 1) + 1 belongs")
    why = "; ".join(hints) if hints else (
        "write out ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1 with the layer's numbers")
    return _say(False, f"Your output size {answer} is not right: {why}.")


def check_feature_maps(layer: Conv2d, answer) -> bool:
    """Say whether ``answer`` is the number of feature maps ``layer`` produces."""
    if answer == layer.out_channels:
        return _say(True, "Right: one feature map per kernel.")
    if answer == layer.in_channels:
        return _say(False, "That is the number of channels coming in; count what goes out instead.")
    if answer == layer.out_channels * layer.in_channels:
        return _say(False, "A kernel spans all input channels at once and gives one map, not one per channel.")
    return _say(False, "Count the kernels of the layer: each one slides over the whole input and gives one map.")


def check_rf_sizes(layers: Sequence, input_size, answers: Sequence[int]) -> bool:
    """Check a student's receptive-field size (height) for every layer, stopping at the first mistake.

    The message names the layer and how much it should grow from the student's own previous value.
    """
    rows = receptive_fields(layers, input_size)
    if len(answers) != len(rows):
        return _say(False, f"Give one rf size per layer: the stack has {len(rows)} layers, you gave {len(answers)}.")
    previous, jump = 1, 1
    for index, (row, answer) in enumerate(zip(rows, answers)):
        if answer != row.rf_size[0]:
            span = row.layer.advance(Geometry()).rf[0]  # the layer's own field: d(k − 1) + 1
            growth = (span - 1) * jump
            return _say(False, (
                f"Your rf size for layer {index} ({row.layer!r}) is {answer}; it should grow by "
                f"(k − 1) × jump = {span - 1} × {jump} = {growth} from layer {index - 1}'s "
                f"{previous}." if index else
                f"Your rf size for layer 0 is {answer}; the first layer sees exactly its kernel's span."))
        previous, jump = row.rf_size[0], row.jump[0]
    return _say(True, "Right for every layer.")


def check_region(layers: Sequence, position, input_size, answer) -> bool:
    """Check ``((top, bottom), (left, right))`` of a neuron's receptive field (clipped to the image).

    Examples
    --------
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, ((2, 5), (2, 4)))
    ✘ Your region is one pixel too tall: the bounds are inclusive.
    False
    """
    right = input_region(layers, position, input_size)
    if answer == right:
        return _say(True, "Right: that is exactly the block of input pixels this neuron depends on.")
    if right is None:
        return _say(False, "This neuron sees only zero padding: no pixel of the image, so the answer is None.")
    try:
        (top, bottom), (left, r) = answer
    except (TypeError, ValueError):
        return _say(False, "Give the region as ((top, bottom), (left, right)), inclusive pixel indices.")
    size = (bottom - top + 1, r - left + 1)
    expected = (right[0][1] - right[0][0] + 1, right[1][1] - right[1][0] + 1)
    if size in ((expected[0] + 1, expected[1]), (expected[0], expected[1] + 1)):
        return _say(False, f"Your region is one pixel too {'tall' if size[0] > expected[0] else 'wide'}: "
                           "the bounds are inclusive.")
    if size != expected:
        return _say(False, f"Your region is {size[0]} × {size[1]} pixels; compare with the rf size "
                           "(and the image border, which clips it).")
    return _say(False, "The size is right but the place is not: neuron i starts i × jump pixels further on.")


def count_parameters(layers: Sequence) -> int:
    """Weights and biases of all convolutions (pooling and ReLU have none).

    Examples
    --------
    >>> count_parameters([Conv2d(3, 8, 3)])
    224
    """
    return sum(l.parameter_count for l in layers if l.has_weights)


def check_design(layers: Sequence, target_rf: int, budget: int, input_size: int = 128) -> bool:
    """Does a stack reach ``target_rf`` (height) with at most ``budget`` parameters?"""
    try:
        rf = receptive_fields(layers, input_size)[-1].rf_size[0]
    except ValueError as error:
        return _say(False, f"This stack does not run on a {input_size}-pixel input: {error}")
    params = count_parameters(layers)
    problems = []
    if rf < target_rf:
        problems.append(f"its receptive field is {rf}, short of {target_rf}: add a layer, a stride or a pool")
    if params > budget:
        problems.append(f"it has {params} parameters, over the budget of {budget}: "
                        "fewer kernels, smaller kernels, or pooling (which is free)")
    if problems:
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    return _say(True, f"Reaches {rf} ≥ {target_rf} with {params} ≤ {budget} parameters.")
