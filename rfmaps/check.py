"""Instant feedback for students, and per-student numbers for graded assignments.

A student calls these in a cell and reads a sentence. The checks look for the
*common mistakes* and name the idea behind each one. What they say about a value
in which they recognise none depends on the course's :func:`feedback_policy`:
under ``confirm`` (the default) a ✔ means the value is right and anything else
gets ✘ "not yet" with what to check next; under ``mistakes-only`` no value is
ever confirmed (the hidden tests grade it when the work is submitted), so trying
values one after another reveals nothing:

>>> from rfmaps import Conv2d
>>> check_output_size(Conv2d(3, 8, 5, padding=1), 32, 28)
✘ 28 is not it: you left out the padding: 1 zero pixel on each side add 2 to the input's width.
False

Answers may come in any natural form: ints, whole floats, numpy scalars,
tuples, lists or numpy arrays. A wrong type gets a sentence, not a traceback.

Whose numbers: :func:`student` resolves the id the same way in the student's
visible checks and in the hidden tests (see its docstring).

Pure Python: the arithmetic of :mod:`rfmaps.receptive_field`, no arrays.
"""

from __future__ import annotations

import hashlib
import numbers
import os
import random
import string
from dataclasses import replace
from functools import lru_cache
from typing import Dict, List, Optional, Sequence

from .layers import AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Upsample, check_layers
from .receptive_field import input_region, projective_field, receptive_fields

__all__ = ["FEEDBACK_POLICIES", "feedback_policy", "variant", "variant_layer", "variant_stack", "student", "hub_user",
           "graded_student", "check_output_size", "check_feature_maps", "check_rf_sizes", "check_region",
           "check_design", "count_parameters", "choice_letters", "show_choices", "check_choice",
           "grade_choice", "growing_variant", "variant_transposed", "variant_growing_stack",
           "check_transposed_size", "check_projective_field", "check_parameter_count", "check_decoder"]

# ---------------------------------------------------------------------------------------------
# Per-student numbers
# ---------------------------------------------------------------------------------------------

#: Input side of the receptive-field questions (assignment 2).
RF_INPUT = 64


@lru_cache(maxsize=1)
def _stacks() -> Dict[tuple, int]:
    """Every (kernel_size, stride) triple of the rf question whose last map is at least 3 wide,
    with that width.

    Drawing from these, not from free choices, is what makes every variant's neuron exist.
    """
    pairs = [(k, s) for k in (3, 5) for s in (1, 2)]
    sizes = {stack: _last_size(stack) for stack in ((a, b, c) for a in pairs for b in pairs for c in pairs)}
    return {stack: size for stack, size in sizes.items() if size >= 3}


def _stack_layers(stack) -> list:
    (k1, s1), (k2, s2), (k3, s3) = stack
    return [Conv2d(1, 4, k1, stride=s1), ReLU(), Conv2d(4, 4, k2, stride=s2), ReLU(), MaxPool2d(2),
            Conv2d(4, 4, k3, stride=s3)]


def _last_size(stack) -> int:
    size = RF_INPUT
    for layer in _stack_layers(stack):
        size = layer.output_size(size)[0]
    return size


# _stacks() is computed at the first variant, not at import (it took half of `import rfmaps`); one
# entry, 64 candidate stacks. Its insertion order keeps variants the same everywhere.

def variant(student_id: str) -> dict:
    """The numbers of one student's assignments, the same for the same id on every machine.

    Every number is drawn from a list of values known to work, so every id gets a
    solvable variant: the output size is at least 1, the neuron of the region
    question exists in the last map, and the design target is reachable within the
    budget (``tests/test_assignment_variants.py`` proves it for 10,000 ids).

    Parameters
    ----------
    student_id : str
        Compared without case and surrounding spaces.

    Examples
    --------
    >>> variant("ada") == variant(" Ada ")
    True
    >>> sorted(variant("jdoe42"))[:4]
    ['budget', 'channels', 'image_size', 'kernel_size']
    """
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError(f"student_id must be your (non-empty) student id, got {student_id!r}")
    rng = random.Random(_seed(student_id, "variant"))
    kernel_size = rng.choice([3, 5, 7])
    stack = rng.choice(list(_stacks()))
    out = _stacks()[stack]
    return {
        # assignment 1: one convolution on a colour image
        "image_size": rng.choice([32, 40, 48, 56, 64]),
        "channels": 3,
        "kernels": rng.choice([8, 16, 24, 32, 64]),
        "kernel_size": kernel_size,
        "stride": rng.choice([1, 2, 3]),
        "padding": rng.randrange(kernel_size // 2 + 1),
        # assignment 2: (kernel_size, stride) of three convolutions, a 2 x 2 max pool after the second
        "stack": [list(pair) for pair in stack],
        "neuron": (rng.randrange(out), rng.randrange(out)),
        # the design question: under check_design's rules, four 3 x 3 convolutions with dilations 1, 2, 4, 8
        # (rf 31, 1832 parameters, a 34-wide map) meet every combination below
        "target_rf": rng.choice(range(17, 32, 2)),
        "budget": rng.choice([2000, 2200, 2400]),
        "min_output": rng.choice([8, 12, 16]),
    }


def _seed(student_id: str, purpose: str) -> str:
    return hashlib.sha256(f"{purpose}:{student_id.strip().lower()}".encode()).hexdigest()


def variant_layer(v: dict) -> Conv2d:
    """The convolution of a variant's first assignment (3 channels in).

    Examples
    --------
    >>> variant_layer(variant("jdoe42")).in_channels
    3
    """
    return Conv2d(v["channels"], v["kernels"], v["kernel_size"], stride=v["stride"], padding=v["padding"])


def variant_stack(v: dict) -> list:
    """The layers of a variant's receptive-field question (one channel in, 4 maps per layer).

    Examples
    --------
    >>> len(variant_stack(variant("jdoe42")))
    6
    """
    return _stack_layers(v["stack"])


#: Input side of the projective-field question (assignment 3).
PF_INPUT = 16


def _growing_stack_layers(stack) -> list:
    k1, p1, k2, k3, p3 = stack
    return [Conv2d(1, 4, k1, padding=p1), ReLU(), Conv2d(4, 4, k2, stride=2), ReLU(),
            ConvTranspose2d(4, 1, k3, stride=2, padding=p3)]


@lru_cache(maxsize=1)
def _growing_stacks() -> Dict[tuple, tuple]:
    """Every stack of the projective-field question, with the input rows whose projective field exists.

    A stride can skip the last rows of the input (its last window ends before them); drawing the
    pixel from the rows listed here is what makes every variant's projective field exist.
    """
    stacks = {}
    for k1 in (3, 5):
        for p1 in (0, k1 // 2):
            for k2 in (3, 4):
                for k3 in (2, 3, 4):
                    for p3 in (0, 1):
                        layers = _growing_stack_layers((k1, p1, k2, k3, p3))
                        rows = tuple(i for i in range(PF_INPUT)
                                     if projective_field(layers, (i, i), PF_INPUT) is not None)
                        stacks[(k1, p1, k2, k3, p3)] = rows
    return stacks


# _growing_stacks() is computed at the first variant, not at import; one entry, 48 stacks x 16 pixels.
# Its insertion order keeps variants the same everywhere.

#: The decoder question: what the encoder hands over, and the targets its rules can reach.
DECODER_INPUT, DECODER_CHANNELS = 8, 16


def growing_variant(student_id: str) -> dict:
    """The numbers of one student's third assignment (growing maps), the same for the same id everywhere.

    Drawn, like :func:`variant`, from lists of values known to work: the transposed
    convolution is valid (``output_padding`` below the stride, as PyTorch requires,
    and never 0, so it always matters), the pixel of the projective-field question
    reaches the last map, and the decoder target is reachable under
    :func:`check_decoder`'s rules within the budget
    (``tests/test_assignment_variants.py`` proves it for 10,000 ids).

    Examples
    --------
    >>> growing_variant("ada") == growing_variant(" Ada ")
    True
    >>> sorted(growing_variant("jdoe42"))
    ['budget', 'pixel', 'separable', 'stack', 'target', 'transposed']
    """
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError(f"student_id must be your (non-empty) student id, got {student_id!r}")
    rng = random.Random(_seed(student_id, "growing"))
    kernel_size, stride = rng.choice([2, 3, 4, 5]), rng.choice([2, 3])
    stack = rng.choice(list(_growing_stacks()))
    rows = _growing_stacks()[stack]
    return {
        # question 1: one transposed convolution (8 channels in, 4 out) on a square map
        "transposed": {"input_size": rng.randrange(5, 13), "kernel_size": kernel_size, "stride": stride,
                       "padding": rng.randrange(kernel_size // 2 + 1), "output_padding": rng.randrange(1, stride)},
        # question 2: the projective field of one pixel through a conv, a strided conv and a transposed conv
        "stack": list(stack),
        "pixel": (rng.choice(rows), rng.choice(rows)),
        # question 3: a standard k x k convolution against a depthwise-separable one (padding k // 2)
        "separable": {"in_channels": rng.choice([16, 32, 48, 64]), "out_channels": rng.choice([32, 64, 128]),
                      "kernel_size": rng.choice([3, 5])},
        # question 5: grow the encoder's 8 x 8 x 16 map to target x target x 1; under check_decoder's rules
        # Upsample(2), Conv2d(16, 8, 3, padding=1), Upsample(2), then a 2 x 2 or 3 x 3 convolution to 1 channel
        # (at most 1233 parameters) meets every combination below
        "target": rng.choice([30, 31, 32, 33, 34]),
        "budget": rng.choice([1400, 1600, 1800]),
    }


def variant_transposed(g: dict) -> ConvTranspose2d:
    """The transposed convolution of a third-assignment variant (8 channels in, 4 out).

    Examples
    --------
    >>> variant_transposed(growing_variant("jdoe42")).in_channels
    8
    """
    t = g["transposed"]
    return ConvTranspose2d(8, 4, t["kernel_size"], stride=t["stride"], padding=t["padding"],
                           output_padding=t["output_padding"])


def variant_growing_stack(g: dict) -> list:
    """The layers of a third-assignment variant's projective-field question (on a 16 x 16 input).

    Examples
    --------
    >>> [type(layer).__name__ for layer in variant_growing_stack(growing_variant("jdoe42"))]
    ['Conv2d', 'ReLU', 'Conv2d', 'ReLU', 'ConvTranspose2d']
    """
    return _growing_stack_layers(g["stack"])


# ---------------------------------------------------------------------------------------------
# Whose numbers
# ---------------------------------------------------------------------------------------------

def hub_user() -> Optional[str]:
    """The JupyterHub user name of this server (``JUPYTERHUB_USER``), or None off a hub."""
    return os.environ.get("JUPYTERHUB_USER") or None


def graded_student() -> Optional[str]:
    """While nbgrader autogrades, the student whose submission runs (its folder name); else None."""
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    # nbgrader runs each submission in autograded/<student>/<assignment>/.
    return os.path.basename(os.path.dirname(os.getcwd())) or None


def _same_id(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def student(typed: str = "", *, quiet: bool = False) -> str:
    """The id whose numbers a notebook uses, for the visible checks and the hidden tests alike.

    In order: while nbgrader autogrades, the submission's student (the name
    nbgrader files it under); on a JupyterHub, the logged-in user (the name
    nbgrader's *Submit* files it under); elsewhere the id the student typed.
    A typed id that differs from the first two gets a warning right away;
    ``quiet=True`` (for hidden tests, after the warning was shown once) prints nothing.

    Raises
    ------
    ValueError
        Off a hub, when no id was typed.

    Examples
    --------
    Off a hub, outside grading, the typed id is used (not run as a doctest: it depends on the
    environment; ``tests/test_check.py`` covers all three cases)::

        student("jdoe42")   # prints: Your numbers are those of student id 'jdoe42' (the id you typed).
    """
    if typed is None:
        typed = ""
    if not isinstance(typed, str):
        raise TypeError(f"STUDENT_ID must be text between quotes, like \"jdoe42\"; got {typed!r}")
    typed = typed.strip()
    graded, hub = graded_student(), hub_user()
    if graded:
        who, source = graded, "the name this submission was collected under"
    elif hub:
        who, source = hub, "your JupyterHub login"
    elif typed:
        who, source = typed, "the id you typed"
    else:
        raise ValueError("Type your student id between the quotes in the cell above, "
                         "like STUDENT_ID = \"jdoe42\", then run it and this cell again.")
    if quiet:
        return who
    if typed and not _same_id(typed, who):
        print(f"⚠ You typed the id {typed!r}, but {source} is {who!r}: your work is graded on the "
              f"numbers of {who!r}, so the numbers below are theirs. If {who!r} is not you, "
              "tell your instructor now.")
    else:
        print(f"Your numbers are those of student id {who!r} ({source}).")
    return who


# ---------------------------------------------------------------------------------------------
# Answers in any natural form
# ---------------------------------------------------------------------------------------------

def _plain(value):
    """numpy scalars and arrays as Python numbers and lists (duck-typed: no numpy import here)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    return value


def _whole(value) -> Optional[int]:
    """``value`` as an int when it is a whole number (int, whole float, numpy scalar); else None."""
    value = _plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return int(value)
    return None


def _describe(value) -> str:
    value = _plain(value)
    if isinstance(value, str):
        return f"the text {value!r} (remove the quotes to give a number)"
    if value is None:
        return "None (did you assign the variable?)"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return f"{value!r}, which is not a whole number"
    return f"{value!r} (a {type(value).__name__})"


def _say(ok: bool, text: str) -> bool:
    print(("✔ " if ok else "✘ ") + text)
    return ok


#: How the visible checks answer a value in which they recognise no common mistake; a course sets it once
#: with the environment variable ``RFMAPS_FEEDBACK`` (see notebooks/assignments/README.md).
#:
#: * ``confirm`` (the default): ✔ only for the right value; otherwise ✘ "not yet" and what to check next.
#: * ``mistakes-only``: never a ✔ (a student cannot try values until one is confirmed); a neutral
#:   "no common mistake recognised", and the value is graded when the work is submitted.
FEEDBACK_POLICIES = ("confirm", "mistakes-only")


def feedback_policy() -> str:
    """The course's feedback policy: ``RFMAPS_FEEDBACK`` if set, else ``"confirm"``.

    Examples
    --------
    >>> import os
    >>> feedback_policy() == (os.environ.get("RFMAPS_FEEDBACK") or "confirm").strip().lower()
    True
    """
    value = (os.environ.get("RFMAPS_FEEDBACK") or "confirm").strip().lower()
    if value not in FEEDBACK_POLICIES:
        raise ValueError(f"RFMAPS_FEEDBACK must be one of {', '.join(FEEDBACK_POLICIES)}, got {value!r}")
    return value


def _verdict(right: bool, what: str, next_step: str, verb: str = "is") -> bool:
    """The last word of a check that recognised no common mistake in ``what`` (e.g. "8", "Your region").

    Under ``confirm``: ✔ and True for the right value, else ✘ "not yet" with ``next_step`` and False.
    Under ``mistakes-only``: a neutral sentence (no ✔, no ✘) and True; the hidden tests grade the value.
    """
    lower = what[0].lower() + what[1:]
    if feedback_policy() == "mistakes-only":
        print(f"• No common mistake recognised in {lower}; it is graded when you submit.")
        return True
    if right:
        return _say(True, f"{what} {verb} right.")
    return _say(False, f"Not yet: {lower} {verb} not right, though none of the common mistakes. {next_step}")


# ---------------------------------------------------------------------------------------------
# Assignment 1
# ---------------------------------------------------------------------------------------------

def _pixels(count: int) -> str:
    return f"{count} zero pixel" + ("" if count == 1 else "s")


def _judge_size(layer, input_size, answer, mistakes, next_step: str) -> bool:
    """Read ``answer`` as an output size of ``layer`` on a square input; name the first mistake it matches.

    ``mistakes(n, right)`` lists ``(value, why)``: the size a misconception gives, and its idea.
    """
    n = _whole(input_size)
    if n is None or n < 1:
        raise ValueError(f"input_size must be a whole number >= 1, got {input_size!r}")
    given = _whole(answer)
    if given is None:
        return _say(False, f"An output size is a whole number of neurons; you gave {_describe(answer)}.")
    if given < 1:
        return _say(False, f"An output size counts neurons, at least 1; you gave {given}.")
    right = layer.output_size((n, n))[0]
    for value, why in mistakes(n, right):
        # A pattern that happens to give the right number is no mistake for this layer.
        if value == given and value != right:
            return _say(False, f"{given} is not it: {why}.")
    return _verdict(given == right, str(given), next_step)


def check_output_size(layer: Conv2d, input_size: int, answer) -> bool:
    """Look for the common mistakes in ``answer``, the output height of ``layer`` on a square input.

    Returns False (with the misconception named) when ``answer`` is malformed or
    matches a common mistake; otherwise what :func:`feedback_policy` says: under
    ``confirm`` True only for the right size.

    Examples
    --------
    >>> check_output_size(Conv2d(1, 1, 3), 10, 7)
    ✘ 7 is not it: you forgot the + 1: the first window counts too, before any step of the stride.
    False
    >>> check_output_size(Conv2d(1, 1, 3), 10, 8.0)
    ✔ 8 is right.
    True
    """
    def mistakes(n: int, right: int) -> list:
        k, s, d = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
        before, after = layer.pads[0]
        span = layer.effective_kernel_size[0]  # d(k - 1) + 1, from the layer itself
        padded = n + before + after
        return [
            ((padded - span) // s,
             "you forgot the + 1: the first window counts too, before any step of the stride"),
            ((n - span) // s + 1 if n >= span else None,
             f"you left out the padding: {_pixels(before)} on each side add {before + after} to the "
             f"input's width" if before == after else
             f"you left out the padding: {_pixels(before)} before and {_pixels(after)} after add "
             f"{before + after} to the input's width"),
            (padded - span + 1, f"you left out the stride: the window moves {s} pixels at a time"),
            (-(-(padded - span) // s) + 1, "you rounded up: a window that does not fit entirely is not computed"),
            ((padded - k) // s + 1, f"you used the kernel size {k} where the dilated span d(k − 1) + 1 belongs"),
            ((n + before - span) // s + 1, "you padded one side only: padding p adds p pixels on each side"),
        ]

    return _judge_size(layer, input_size, answer, mistakes,
                       "Next, work through the formula: n + 2p − d(k − 1) − 1, divided by the stride s and "
                       "rounded down, then + 1.")


def check_feature_maps(layer: Conv2d, answer) -> bool:
    """Look for the common mistakes in ``answer``, the number of feature maps ``layer`` produces.

    Examples
    --------
    >>> check_feature_maps(Conv2d(3, 8, 5), 3)
    ✘ That is the number of channels coming in; count what goes out instead.
    False
    """
    given = _whole(answer)
    if given is None:
        return _say(False, f"A number of feature maps is a whole number; you gave {_describe(answer)}.")
    if given < 1:
        return _say(False, f"A layer gives at least one feature map; you gave {given}.")
    right = layer.out_channels
    mistakes = [
        (layer.in_channels, "That is the number of channels coming in; count what goes out instead."),
        (layer.out_channels * layer.in_channels,
         "A kernel spans all input channels at once and gives one map, not one per channel."),
        (layer.kernel_size[0], "That is the kernel's size; the number of maps does not depend on it."),
        (layer.kernel_size[0] * layer.kernel_size[1],
         "That counts the kernel's pixels; the number of maps does not depend on them."),
    ]
    for value, why in mistakes:
        if value == given and value != right:
            return _say(False, why)
    return _verdict(given == right, str(given),
                    "Next: each kernel gives one map. How many kernels does the layer have?")


# ---------------------------------------------------------------------------------------------
# Assignment 2
# ---------------------------------------------------------------------------------------------

def _whole_list(answer, name: str) -> Optional[List[int]]:
    values = _plain(answer)
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
        _say(False, f"Give {name} as a list of whole numbers, like [3, 3, 5]; you gave {_describe(answer)}.")
        return None
    out = []
    for i, value in enumerate(values):
        whole = _whole(value)
        if whole is None:
            _say(False, f"Entry {i} of {name} should be a whole number; it is {_describe(value)}.")
            return None
        out.append(whole)
    return out


def check_rf_sizes(layers: Sequence, input_size, answers) -> bool:
    """Look for the common mistakes in a student's receptive-field size (height) for every layer.

    Each value is compared with the step the recurrence takes from the student's
    *own* previous value; a step that matches a common mistake is named with its
    idea. Under ``mistakes-only`` no message says which values are right.

    Examples
    --------
    >>> from rfmaps import MaxPool2d
    >>> check_rf_sizes([Conv2d(1, 4, 3), MaxPool2d(2), Conv2d(4, 4, 3)], 32, [3, 4, 6])
    ✘ Layer 2 (Conv2d(4, 4, kernel_size=3)): you added k − 1 without multiplying by the jump: after a stride or a pool, neighbouring neurons of the layer below lie several input pixels apart.
    False
    """
    rows = receptive_fields(layers, input_size)
    given = _whole_list(answers, "rf_sizes")
    if given is None:
        return False
    if len(given) != len(rows):
        return _say(False, f"Give one rf size per layer: the stack has {len(rows)} layers, you gave {len(given)}.")
    previous, jump = 1, 1
    for index, (row, value) in enumerate(zip(rows, given)):
        layer = row.layer
        span, stride = layer.effective_kernel_size[0], layer.stride[0]
        step = previous + (span - 1) * jump  # the right value, from the student's own previous one
        name = f"Layer {index} ({layer!r})"
        if value < previous:
            return _say(False, f"{name}: a receptive field never shrinks from one layer to the next, "
                               f"but yours goes from {previous} to {value}.")
        if span == 1 and value != previous:
            return _say(False, f"{name}: this layer looks at one neuron of the layer below, "
                               "so its neurons see exactly what those see.")
        mistakes = [
            (previous + span - 1, "you added k − 1 without multiplying by the jump: after a stride or a pool, "
                                  "neighbouring neurons of the layer below lie several input pixels apart"),
            (previous + (span - 1) * jump * stride,
             "you multiplied by this layer's own stride too: a stride spaces this layer's neurons, "
             "it does not widen what one of them sees; it counts from the next layer on"),
            (previous * span, "you multiplied the sizes: windows of neighbouring neurons overlap, "
                              "so the field grows by (k − 1) × jump, not by a factor"),
            (previous + span, "you added k: the neuron below at the window's first tap is already counted, "
                              "so the field grows by k − 1 steps"),
            (previous, "a pooling window combines several neurons of the layer below, so it widens the field too"
             if isinstance(layer, (MaxPool2d, AvgPool2d)) else
             "this layer's window covers several neurons of the layer below, so the field grows"),
        ]
        for wrong, why in mistakes:
            if value == wrong and wrong != step:
                return _say(False, f"{name}: {why}.")
        previous, jump = value, jump * stride
    right = [row.rf_size[0] for row in rows]
    first = next((i for i, (a, b) in enumerate(zip(given, right)) if a != b), None)
    return _verdict(first is None, f"Your {len(given)} values",
                    "Next, recompute them layer by layer from the first one that is off: r grows by "
                    "(k − 1) × jump, and the jump is multiplied by each layer's stride after that layer.", "are")


def _region(answer):
    """``((top, bottom), (left, right))`` as ints from tuples, lists or a 2 x 2 array; else None."""
    value = _plain(answer)
    try:
        (top, bottom), (left, right) = value
    except (TypeError, ValueError):
        return None
    bounds = tuple(_whole(b) for b in (top, bottom, left, right))
    if None in bounds or isinstance(value, (str, bytes)):
        return None
    return ((bounds[0], bounds[1]), (bounds[2], bounds[3]))


def check_region(layers: Sequence, position, input_size, answer) -> bool:
    """Look for the common mistakes in ``((top, bottom), (left, right))``, a neuron's input region.

    Inclusive pixel indices, clipped to the image, as :func:`rfmaps.input_region`.
    ``None`` stands for a neuron that sees only padding.

    Examples
    --------
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, ((2, 5), (2, 4)))
    ✘ Your region is one pixel too tall: the bounds are inclusive, so a field of r pixels runs from a to a + r − 1.
    False
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, [[2, 4], [2, 4]])
    ✔ Your region is right.
    True
    """
    rows = receptive_fields(layers, input_size)
    n = rows.input_size
    right = input_region(layers, position, input_size)
    if answer is None:
        if right is None:
            return _verdict(True, "None", "")
        return _say(False, "You gave None, which stands for a neuron that sees only padding; "
                           "give ((top, bottom), (left, right)) otherwise.")
    given = _region(answer)
    if given is None:
        return _say(False, "Give the region as ((top, bottom), (left, right)), four whole pixel indices "
                           f"(inclusive); you gave {_describe(answer)}.")
    (top, bottom), (left, r) = given
    for low, high, size in ((top, bottom, n[0]), (left, r, n[1])):
        if low > high:
            return _say(False, "Each pair is (first, last) pixel: the first index is the smaller one.")
        if low < 0 or high > size - 1:
            return _say(False, f"Pixel indices run from 0 to {size - 1}: a region is clipped to the image.")
    if right is not None:
        rf, jump = rows[-1].rf_size, rows[-1].jump
        previous_jump = rows[-2].jump if len(rows) > 1 else (1, 1)
        unclipped = input_region(layers, position, input_size, clip=False)
        if unclipped == right:  # the usual case: no border in the way
            tall, wide = bottom - top + 1, r - left + 1
            if (tall, wide) in ((rf[0] + 1, rf[1]), (rf[0], rf[1] + 1), (rf[0] + 1, rf[1] + 1)):
                which = "too tall" if tall > rf[0] else "too wide"
                return _say(False, f"Your region is one pixel {which}: the bounds are inclusive, "
                                   "so a field of r pixels runs from a to a + r − 1.")
        # First pixel of neuron 0's field, per axis; neuron p's field starts p jumps further on.
        origin = [low - p * j for (low, _), p, j in zip(unclipped, position, jump)]

        def region_from(firsts):
            return tuple((max(f, 0), min(f + size - 1, n_axis - 1)) for f, size, n_axis in zip(firsts, rf, n))

        mistakes = [
            (region_from([o + p * f for o, p, f in zip(origin, position, rf)]),
             "you stepped by the rf size: neighbouring neurons are one *jump* apart, and their fields overlap"),
            (region_from([o + p * j for o, p, j in zip(origin, position, previous_jump)]),
             "you stepped by the jump of the layer before: the last layer's own stride counts too"),
            (region_from([p * j - (f - 1) // 2 for p, j, f in zip(position, jump, rf)]),
             "you put the neuron's centre at i × jump: without padding, that is where its field starts"),
        ]
        if position[0] != position[1]:
            mistakes.append(((right[1], right[0]),
                             "you swapped rows and columns: the neuron is (row, col), the region (rows, cols)"))
        for region, why in mistakes:
            if given == region and region != right:
                return _say(False, f"Your region is the right size in the wrong place: {why}.")
    return _verdict(given == right, "Your region",
                    "Next, check its size (the rf size, in pixels) and its place: neuron p's field starts "
                    "p jumps after neuron 0's; bounds are 0-based and inclusive, clipped to the image.")


def _convolutions(layers) -> list:
    """Every convolution (Conv2d, ConvTranspose2d) of ``layers``, walking into each path of a Residual block."""
    found = []
    for layer in layers:
        if isinstance(layer, (Conv2d, ConvTranspose2d)):
            found.append(layer)
        elif hasattr(layer, "body") and hasattr(layer, "shortcut"):
            found += _convolutions(layer.body) + _convolutions(layer.shortcut)
    return found


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
    return sum(c.parameter_count for c in _convolutions(check_layers(layers)))


def _support(layers) -> list:
    """The input offsets (rows) one neuron of the last layer reaches, relative to its first pixel.

    The Minkowski sum of each layer's taps ``{0, d, ..., d (k - 1)}`` scaled by the
    jump before it; a Residual block adds the union of its paths' supports. A
    receptive field has holes when this is not every offset from 0 to rf - 1.
    """
    reach, jump = {0}, 1
    for layer in layers:
        if hasattr(layer, "body") and hasattr(layer, "shortcut"):
            span, stride = layer.geometry.rf[0], int(layer.geometry.jump[0])  # the block's own geometry
            taps = set()
            for path in layer.paths:
                inner = set(_support(path)) if path else {0}
                width = max(inner) + 1
                shift = (span - width) // 2  # the paths share their centre (Residual refuses otherwise)
                taps |= {t + shift for t in inner}
        else:
            d, k, stride = layer.dilation[0], layer.kernel_size[0], layer.stride[0]
            taps = {d * i for i in range(k)}
        reach = {r + t * jump for r in reach for t in taps}
        jump *= stride
    return sorted(reach)


def check_design(layers, target_rf: int, budget: int, *, min_output: int = 1, min_convs: int = 3,
                 min_kernels: int = 8, in_channels: int = 1, input_size: int = RF_INPUT) -> bool:
    """Check a designed stack against the rules of the design question; name every rule it breaks.

    The rules: it takes an image of ``in_channels`` channels and runs on an
    ``input_size`` square; it has at least ``min_convs`` convolutions, each with at
    least ``min_kernels`` kernels; channels fit from layer to layer; pooling windows
    do not overlap (stride = window, the default); its last map is at least
    ``min_output`` wide; its last neurons see at least ``target_rf`` pixels with no
    holes (every pixel of the field reaches the neuron); it has at most ``budget``
    parameters (:func:`count_parameters`).

    Examples
    --------
    >>> check_design([Conv2d(1, 8, 31)], target_rf=21, budget=2000)
    ✘ Not yet: it has 1 convolution, the rules ask for at least 3; it has 7696 parameters, over the budget of 2000.
    False
    """
    try:
        layers = check_layers(layers)
    except ValueError as error:
        return _say(False, f"design must be a list of layers, like [Conv2d(1, 8, 3), ReLU(), ...]: {error}.")
    problems = []
    convs = _convolutions(layers)
    if len(convs) < min_convs:
        problems.append(f"it has {len(convs)} convolution{'s' * (len(convs) != 1)}, "
                        f"the rules ask for at least {min_convs}")
    few = [c for c in convs if c.out_channels < min_kernels]
    if few:
        problems.append(f"{few[0]!r} has {few[0].out_channels} kernels; every convolution needs at least "
                        f"{min_kernels} (a network with fewer maps detects too few features)")
    channels = in_channels
    for index, layer in enumerate(layers):
        takes = getattr(layer, "in_channels", None)
        if takes is not None and takes != channels:
            problems.append(f"layer {index} ({layer!r}) takes {takes} channels, but "
                            f"{'the image has' if index == 0 or channels == in_channels else 'the layer before gives'} "
                            f"{channels}")
            break
        channels = getattr(layer, "out_channels", None) or channels
        if isinstance(layer, (MaxPool2d, AvgPool2d)) and layer.stride != layer.kernel_size:
            problems.append(f"layer {index} ({layer!r}) is a pooling window that overlaps its neighbours; "
                            "the rules ask for non-overlapping pools (leave stride at its default)")
            break
    try:
        rows = receptive_fields(layers, input_size)
    except ValueError as error:
        problems.append(f"it does not run on a {input_size} × {input_size} image ({error})")
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    rf, out = rows[-1].rf_size[0], rows[-1].output_size[0]
    params = count_parameters(layers)
    if out < min_output:
        problems.append(f"its last map is {out} wide, the rules ask for at least {min_output}: "
                        "every stride and pool halves the map (or more)")
    if rf < target_rf:
        problems.append(f"its receptive field is {rf}, short of {target_rf}")
    elif len(_support(layers)) < rf:
        problems.append(f"its receptive field spans {rf} pixels but has holes: a stride or dilation larger "
                        "than the window below it skips pixels, which the neuron then never sees")
    if params > budget:
        problems.append(f"it has {params} parameters, over the budget of {budget}")
    if problems:
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    return _say(True, f"Every rule holds: rf {rf} ≥ {target_rf}, no holes, {len(convs)} convolutions, "
                      f"last map {out} ≥ {min_output} wide, {params} ≤ {budget} parameters.")


# ---------------------------------------------------------------------------------------------
# Assignment 3: growing maps
# ---------------------------------------------------------------------------------------------

def check_transposed_size(layer: ConvTranspose2d, input_size, answer) -> bool:
    """Look for the common mistakes in ``answer``, the output height of a transposed convolution.

    PyTorch's size is ``(n - 1) s - 2 p + d (k - 1) + output_padding + 1``. As the
    other checks, this names a mistake it recognises (see :func:`feedback_policy` for the rest).

    Examples
    --------
    >>> up = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> check_transposed_size(up, 16, 31)
    ✘ 31 is not it: you left out output_padding: it adds rows after the last one (and columns after the last column).
    False
    >>> check_transposed_size(up, 16, 8)
    ✘ 8 is not it: that is a convolution's output size, which shrinks the map; a transposed convolution runs the wiring the other way and grows it.
    False
    """
    def mistakes(n: int, right: int) -> list:
        k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
        d, op = layer.dilation[0], layer.output_padding[0]
        shrunk = (n + 2 * p - d * (k - 1) - 1) // s + 1
        return [
            (shrunk if shrunk >= 1 else None,
             "that is a convolution's output size, which shrinks the map; a transposed convolution runs the "
             "wiring the other way and grows it"),
            (right - op, "you left out output_padding: it adds rows after the last one (and columns after "
                         "the last column)"),
            (right + s, "you multiplied n by the stride: n input pixels are only n − 1 strides apart"),
            (right + 4 * p, "you added the padding: in a transposed convolution, padding p *cuts* p rows from "
                            "each side of the output"),
            (right + p if p else None, "you cut the padding from one side only: it cuts p rows from each side"),
            (right - 1, "you forgot the + 1: (n − 1) s + d (k − 1) is the distance from the first output pixel "
                        "to the last; count the pixels"),
            (right + 1, "you added the kernel size k where its reach d (k − 1) belongs"),
            (right + op, "output_padding is added on one side only, after the last row"),
        ]

    return _judge_size(layer, input_size, answer, mistakes,
                       "Next, work through PyTorch's formula: (n − 1) s − 2p + d (k − 1) + output_padding + 1.")


def _changed(layer, what: str):
    """``layer`` as a student who ignores its ``what`` ('stride' or 'padding') would read it."""
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


def check_projective_field(layers: Sequence, pixel, input_size, answer) -> bool:
    """Look for the common mistakes in ``((top, bottom), (left, right))``, the projective field of a pixel.

    Inclusive neuron indices of the last layer's map, as :func:`rfmaps.projective_field`.

    Examples
    --------
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, ((1, 6), (1, 5)))
    ✘ Your field is one neuron too tall: the bounds are inclusive, so a field of r neurons runs from a to a + r − 1.
    False
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, [[1, 5], [1, 5]])
    ✔ Your field is right.
    True
    """
    layers = check_layers(layers)
    rows = receptive_fields(layers, input_size)
    last = rows[-1].output_size
    right = projective_field(layers, pixel, input_size)
    if answer is None:
        if right is None:
            return _verdict(True, "None", "")
        return _say(False, "You gave None, which stands for a pixel that reaches no neuron; "
                           "give ((top, bottom), (left, right)) otherwise.")
    given = _region(answer)
    if given is None:
        return _say(False, "Give the field as ((top, bottom), (left, right)), four whole neuron indices of the "
                           f"last map (inclusive); you gave {_describe(answer)}.")
    for low, high in given:
        if low > high:
            return _say(False, "Each pair is (first, last) neuron: the first index is the smaller one.")
    if right is not None and all(0 <= p < m for p, m in zip(pixel, last)):
        region = input_region(layers, pixel, input_size)
        if given == region and region != right:  # checked first: it may lie outside the last map
            return _say(False, "Not this field: that is the receptive field of the neuron at the pixel's "
                               "position; the projective field goes the other way: from the pixel to every "
                               "neuron it can change.")
    for (low, high), size in zip(given, last):
        if low < 0 or high > size - 1:
            return _say(False, f"Neurons of the last map run from 0 to {size - 1}: a projective field is "
                               "clipped to the map, as a receptive field is clipped to the image.")
    if right is not None:
        (top, bottom), (left, r) = given
        tall, wide = bottom - top + 1, r - left + 1
        sizes = tuple(high - low + 1 for low, high in right)
        if given[0][0] == right[0][0] and given[1][0] == right[1][0] and \
                (tall, wide) in ((sizes[0] + 1, sizes[1]), (sizes[0], sizes[1] + 1), (sizes[0] + 1, sizes[1] + 1)):
            which = "too tall" if tall > sizes[0] else "too wide"
            return _say(False, f"Your field is one neuron {which}: the bounds are inclusive, so a field of r "
                               "neurons runs from a to a + r − 1.")
        mistakes = [
            (_field_read_without(layers, pixel, input_size, "stride", last),
             "you left out the strides: a stride-s convolution has s times fewer neurons, so a pixel's "
             "field *shrinks* by s there, and a stride-s transposed convolution spreads it s times wider"),
            (_field_read_without(layers, pixel, input_size, "padding", last),
             "you left out the padding: it shifts which neurons' windows cover the pixel"),
            ((right[1], right[0]) if pixel[0] != pixel[1] else None,
             "you swapped rows and columns: the pixel is (row, col), the field (rows, cols)"),
        ]
        if len(layers) > 1:
            mistakes.append((projective_field(layers, pixel, input_size, layer=-2),
                             "that is the field one layer before the end: follow the pixel through every layer"))
        for field, why in mistakes:
            if field is not None and given == field and field != right:
                return _say(False, f"Not this field: {why}.")
    return _verdict(given == right, "Your field",
                    "Next, follow the pixel layer by layer: which neurons of each layer have it in their "
                    "window? Bounds are 0-based and inclusive, clipped to the last map.")


def check_parameter_count(layers: Sequence, answer) -> bool:
    """Look for the common mistakes in ``answer``, the number of weights and biases of ``layers``.

    Examples
    --------
    >>> depthwise, pointwise = Conv2d(32, 32, 3, groups=32), Conv2d(32, 64, 1)
    >>> check_parameter_count([depthwise, pointwise], 2048 + 288)
    ✘ 2336 is not it: you left out the biases: each kernel has one, so each output channel adds 1.
    False
    """
    layers = check_layers(layers)
    given = _whole(answer)
    if given is None:
        return _say(False, f"A number of parameters is a whole number; you gave {_describe(answer)}.")
    if given < 0:
        return _say(False, f"A number of parameters is never negative; you gave {given}.")
    convs = _convolutions(layers)
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
    for value, why in mistakes:
        if value == given and value != right:
            return _say(False, f"{given} is not it: {why}.")
    return _verdict(given == right, str(given),
                    "Next, count each convolution on its own: out_channels kernels of "
                    "(in_channels / groups) · k · k weights, plus one bias each.")


def _taps_per_phase(layer: ConvTranspose2d, axis: int) -> List[int]:
    """How many kernel taps reach an output of each phase ``o mod s`` (away from the border)."""
    return [len(layer.axis_sources(o, axis)) for o in range(layer.stride[axis])]


def _growth(layer) -> Optional[tuple]:
    """The stride (or scale factor) of a layer that grows the map by one, else None."""
    if isinstance(layer, ConvTranspose2d) and layer.stride != (1, 1):
        return layer.stride
    if isinstance(layer, Upsample) and layer.scale_factor != (1, 1):
        return layer.scale_factor
    return None


def check_decoder(layers, target_size: int, budget: int, *, input_size: int = DECODER_INPUT,
                  in_channels: int = DECODER_CHANNELS, out_channels: int = 1, min_growing: int = 2) -> bool:
    """Check a designed decoder against the rules of the decoder question; name every rule it breaks.

    The rules: it takes the encoder's ``in_channels`` maps of ``input_size`` ×
    ``input_size``, channels fit from layer to layer, and it ends with
    ``out_channels`` map(s) of exactly ``target_size`` × ``target_size``; it grows
    the map in at least ``min_growing`` steps, each a transposed convolution of
    stride 2 or an ``Upsample(2)``; no transposed convolution overlaps unevenly
    (the same number of kernel taps reaches every output phase, so no
    checkerboard); it has at most ``budget`` parameters (:func:`count_parameters`).

    Examples
    --------
    >>> check_decoder([ConvTranspose2d(16, 1, 4, stride=4)], target_size=32, budget=1600)
    ✘ Not yet: it grows the map in 1 step, the rules ask for at least 2; layer 0 (ConvTranspose2d(16, 1, kernel_size=4, stride=4)) grows the map 4 times at once, the rules allow steps of 2.
    False
    """
    try:
        layers = check_layers(layers)
    except ValueError as error:
        return _say(False, f"decoder must be a list of layers, like [Upsample(2), Conv2d(16, 8, 3), ...]: {error}.")
    problems = []
    channels = in_channels
    for index, layer in enumerate(layers):
        takes = getattr(layer, "in_channels", None)
        if takes is not None and takes != channels:
            problems.append(f"layer {index} ({layer!r}) takes {takes} channels, but "
                            f"{'the encoder gives' if index == 0 else 'the layer before gives'} {channels}")
            break
        channels = getattr(layer, "out_channels", None) or channels
    else:
        if channels != out_channels:
            problems.append(f"it ends with {channels} maps; the rules ask for {out_channels} "
                            "(one value per pixel, a mask)")
    growing = [(index, layer, _growth(layer)) for index, layer in enumerate(layers) if _growth(layer)]
    if len(growing) < min_growing:
        problems.append(f"it grows the map in {len(growing)} step{'s' * (len(growing) != 1)}, the rules ask "
                        f"for at least {min_growing}")
    for index, layer, factor in growing:
        if max(factor) > 2:
            problems.append(f"layer {index} ({layer!r}) grows the map {max(factor)} times at once, the rules "
                            "allow steps of 2")
    for index, layer in enumerate(layers):
        if isinstance(layer, ConvTranspose2d):
            counts = _taps_per_phase(layer, 0) + _taps_per_phase(layer, 1)
            if len(set(counts)) > 1:
                problems.append(f"layer {index} ({layer!r}) overlaps unevenly: neighbouring outputs are reached by "
                                f"{min(counts)} and {max(counts)} kernel taps, a checkerboard (its kernel size "
                                "is not a multiple of its stride)")
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
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    return _say(True, f"Every rule holds: {target_size} × {target_size} × {out_channels} from "
                      f"{input_size} × {input_size} × {in_channels} in {len(growing)} steps of 2, no uneven "
                      f"overlap, {params} ≤ {budget} parameters.")


# ---------------------------------------------------------------------------------------------
# Multiple choice with a written reason
# ---------------------------------------------------------------------------------------------

def choice_letters(student_id: str, question: str, options: Sequence[str]) -> Dict[str, str]:
    """The options of a question in this student's own order, as ``{letter: option}``.

    Neighbours see the same options under different letters.

    Examples
    --------
    >>> sorted(choice_letters("jdoe42", "q", ["yes", "no"]).values())
    ['no', 'yes']
    """
    order = list(options)
    random.Random(_seed(student_id, f"choices:{question}")).shuffle(order)
    return dict(zip(string.ascii_lowercase, order))


def show_choices(student_id: str, question: str, options: Sequence[str]) -> Dict[str, str]:
    """Print the options as ``(a) ...`` lines in this student's order; return :func:`choice_letters`."""
    letters = choice_letters(student_id, question, options)
    for letter, option in letters.items():
        print(f"({letter}) {option}")
    return letters


def _choice_problem(letters: Dict[str, str], choice, reason, min_words: int) -> Optional[str]:
    if not isinstance(choice, str) or choice.strip().strip("()").lower() not in letters:
        return (f"Give your choice as one letter between quotes, one of {', '.join(map(repr, letters))}; "
                f"you gave {_describe(choice)}.")
    words = len(reason.split()) if isinstance(reason, str) else 0
    if words < min_words:
        return (f"Explain your choice in a sentence or two (at least {min_words} words) in the reason; "
                f"yours has {words}. The reason is part of the answer.")
    return None


def check_choice(letters: Dict[str, str], choice, reason, *, min_words: int = 8) -> bool:
    """Check that a multiple-choice answer is complete: one of the letters, and a written reason.

    It never says whether the choice is right (that is graded on submission),
    so trying letters one after another reveals nothing.

    Examples
    --------
    >>> check_choice({"a": "yes", "b": "no"}, "b", "too short")
    ✘ Explain your choice in a sentence or two (at least 8 words) in the reason; yours has 2. The reason is part of the answer.
    False
    """
    problem = _choice_problem(letters, choice, reason, min_words)
    if problem:
        return _say(False, problem)
    letter = choice.strip().strip("()").lower()
    # No ✔: the check does not know the right option, and a tick reads as "right".
    print(f"• Recorded: ({letter}) {letters[letter]!r}, with a {len(reason.split())}-word reason; "
          "the choice is graded when you submit.")
    return True


def grade_choice(letters: Dict[str, str], choice, reason, right: str,
                 mistakes: Optional[Dict[str, str]] = None, *, min_words: int = 8) -> None:
    """For hidden tests: assert the right option was chosen, with a reason; else name the misconception.

    ``right`` is the text of the right option and ``mistakes`` maps the text of a
    wrong option to the idea it misses; the assertion message (which students read
    in their feedback) names it.

    Examples
    --------
    >>> grade_choice({"a": "yes", "b": "no"}, "a", "because the window of each neuron overlaps its neighbour", "yes")
    """
    # Raised, not asserted: `python -O` drops assert statements and would pass every answer.
    problem = _choice_problem(letters, choice, reason, min_words)
    if problem is not None:
        raise AssertionError(problem)
    chosen = letters[choice.strip().strip("()").lower()]
    if chosen != right:
        raise AssertionError(f"Not this one: {(mistakes or {}).get(chosen, 'reread the question')}")
