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
✘ 28 is not it: you left out the padding: padding puts 1 zero pixel on each side, so the padded input is 2 pixels taller and wider.
False

Answers may come in any natural form: ints, whole floats, numpy scalars,
tuples, lists or numpy arrays. A wrong type gets a sentence, not a traceback.
The checks take every layer kind of the package (residual blocks, transposed
convolutions, upsampling, pools...) and judge sizes, channels and holes with the
package's own answers (``output_size``, ``channels_after``, ``reach_back``); an
argument they cannot use (a list where one layer belongs, a target typed as
text) gets one ✘ sentence that names it. When several common mistakes give the
same value, the check names each of them.

Whose numbers: :func:`student` resolves the id the same way in the student's
visible checks and in the hidden tests (see its docstring).

Pure Python: the arithmetic of :mod:`rfmaps.receptive_field`, no arrays.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import os
import random
import string
from functools import lru_cache, wraps
from typing import Dict, List, Optional, Sequence

from .layers import (AvgPool2d, BatchNorm2d, Conv2d, ConvTranspose2d, Layer, MaxPool2d, ReLU, SlidingWindow, Upsample,
                     check_layers)
from .receptive_field import _prune, input_region, projective_field, receptive_fields
from .residual import Residual

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
# Answers in any natural form; arguments a check cannot use
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
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
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
    text = repr(value)
    return f"{text[:57] + '...' if len(text) > 60 else text} (a {type(value).__name__})"


def _say(ok: bool, text: str) -> bool:
    print(("✔ " if ok else "✘ ") + text)
    return ok


class _Refusal(Exception):
    """An argument a check cannot use: the check prints this one sentence with ✘ and returns False."""


def _refusing(check):
    """``check``, answering an argument it cannot use with one ✘ sentence (and False), never a traceback."""
    @wraps(check)
    def checked(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except _Refusal as refusal:
            return _say(False, str(refusal))
    return checked


def _one_layer(value, name: str = "layer") -> Layer:
    """``value`` when it is a layer of any kind; else a refusal that names the argument."""
    if isinstance(value, Layer):
        return value
    if isinstance(value, (list, tuple)):
        raise _Refusal(f"{name} must be one layer, like Conv2d(3, 8, 5); you gave a {type(value).__name__} of "
                       f"{len(value)}: pass the layer itself.")
    raise _Refusal(f"{name} must be a layer, like Conv2d(3, 8, 5); you gave {_describe(value)}.")


def _layer_list(value, name: str = "layers", example: str = "[Conv2d(1, 8, 3), ReLU()]") -> tuple:
    """``value`` as a tuple of layers (of any kind), as :func:`rfmaps.layers.check_layers` reads it."""
    try:
        return check_layers(value)
    except ValueError as error:
        raise _Refusal(f"{name} must be a list of layers, like {example}: {error}.") from None


def _number(value, name: str, minimum: int, example: int) -> int:
    """A whole number (int, whole float, numpy scalar) of at least ``minimum``; a text, a fraction or
    anything else is refused with a sentence that names the argument."""
    whole = _whole(value)
    if whole is None:
        raise _Refusal(f"{name} must be a whole number, like {example}; you gave {_describe(value)}.")
    if whole < minimum:
        raise _Refusal(f"{name} must be at least {minimum}; you gave {whole}.")
    return whole


def _input_size(value, name: str = "input_size"):
    """A whole number of pixels (a square input) or a pair ``(height, width)`` of them."""
    whole = _whole(value)
    if whole is not None and whole >= 1:
        return whole
    plain = _plain(value)
    if isinstance(plain, (list, tuple)) and len(plain) == 2:
        both = tuple(_whole(v) for v in plain)
        if None not in both and min(both) >= 1:
            return both
    raise _Refusal(f"{name} must be a whole number of pixels of at least 1, like 64, or (height, width); "
                   f"you gave {_describe(value)}.")


def _point(value, name: str) -> tuple:
    """``(row, col)`` as two ints, from a tuple, a list or an array of whole numbers."""
    plain = _plain(value)
    if isinstance(plain, (list, tuple)) and len(plain) == 2:
        point = tuple(_whole(v) for v in plain)
        if None not in point:
            return point
    raise _Refusal(f"{name} must be (row, col), two whole numbers; you gave {_describe(value)}.")


def _table(layers, input_size):
    """:func:`rfmaps.receptive_fields`, or a refusal that says which layer does not fit the input."""
    try:
        return receptive_fields(layers, input_size)
    except ValueError as error:
        raise _Refusal(f"The layers do not run on an input of {input_size}: {error}.") from None


def _asked(function, *args):
    """``function(*args)`` of the package; its ValueError (a position off the map, ...) as a refusal."""
    try:
        return function(*args)
    except ValueError as error:
        raise _Refusal(f"{error}.") from None


def _named(prefix: str, whys: Sequence[str], value: str = "it") -> bool:
    """✘ with the mistake behind a value; when several common mistakes give it, each of them (three at most:
    every one is a true possibility, and the student's may be any)."""
    whys = list(dict.fromkeys(whys))
    if len(whys) == 1:
        return _say(False, f"{prefix}: {whys[0]}.")
    if len(whys) == 2:
        return _say(False, f"{prefix}. Two common mistakes give {value}, so it may be either: "
                           + "; or ".join(whys) + ".")
    return _say(False, f"{prefix}. {len(whys)} common mistakes give {value}, among them: "
                       + "; or ".join(whys[:3]) + ".")


def _matching(given, mistakes, right) -> List[str]:
    """The ideas of every mistake that gives ``given`` (a pattern that gives the right value is no mistake)."""
    return [why for value, why in mistakes if value is not None and value == given and value != right]


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
    >>> feedback_policy() == (os.environ.get("RFMAPS_FEEDBACK") or "confirm").strip().lower().replace("_", "-")
    True
    """
    value = (os.environ.get("RFMAPS_FEEDBACK") or "confirm").strip().lower().replace("_", "-")
    if value not in FEEDBACK_POLICIES:
        raise ValueError(f"RFMAPS_FEEDBACK must be one of {', '.join(FEEDBACK_POLICIES)}, got {value!r}")
    return value


def _verdict(right: bool, what: str, next_step: str, verb: str = "is") -> bool:
    """The last word of a check that recognised no common mistake in ``what`` (e.g. "8", "Your region").

    Under ``confirm``: ✔ and True for the right value, else ✘ "not yet" with ``next_step`` and False.
    Under ``mistakes-only``: a neutral sentence (no ✔, no ✘) and True; the hidden tests grade the value.
    """
    lower = what if what == "None" else what[0].lower() + what[1:]
    if feedback_policy() == "mistakes-only":
        print(f"• No common mistake recognised in {lower}; it is graded when you submit.")
        return True
    if right:
        return _say(True, f"{what} {verb} right.")
    return _say(False, f"Not yet: {lower} {verb} not right, though none of the common mistakes. {next_step}")


# ---------------------------------------------------------------------------------------------
# Assignment 1 (and output sizes of every layer kind)
# ---------------------------------------------------------------------------------------------

def _pixels(count: int) -> str:
    return f"{count} zero pixel" + ("" if count == 1 else "s")


def _window_mistakes(layer: SlidingWindow, n: int) -> list:
    """``(size, idea)`` of the common mistakes about a sliding window's output size (convolution, pool...)."""
    k, s, d = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
    before, after = layer.pads[0]
    span = layer.effective_kernel_size[0]  # d(k - 1) + 1, from the layer itself
    padded = n + before + after
    mistakes = [
        ((padded - span) // s,
         "you forgot the + 1: the first window counts too, before any step of the stride"),
        ((n - span) // s + 1 if n >= span else None,
         f"you left out the padding: padding puts {_pixels(before)} on each side, so the padded input is "
         f"{before + after} pixels taller and wider" if before == after else
         f"you left out the padding: padding puts {_pixels(before)} before and {_pixels(after)} after, so the "
         f"padded input is {before + after} pixels taller and wider"),
        (padded - span + 1, f"you left out the stride: the window moves {s} pixels at a time"),
        (-(-(padded - span) // s) + 1, "you rounded up: a window that does not fit entirely is not computed"),
        ((padded - k) // s + 1 if d > 1 else None,
         f"you used the kernel size {k} where the dilated span d(k − 1) + 1 belongs"),
        ((n + before - span) // s + 1 if before == after > 0 else None,
         "you padded one side only: padding p adds p pixels on each side"),
    ]
    if s > 1 and before + after and n >= span:
        mistakes.append((n - span + 1, "you left out both the padding and the stride: n − k + 1 counts the "
                                       "windows of a layer without padding that moves 1 pixel at a time"))
    if s > 1:
        divided = ("you divided n by the stride and left out the window: it has to fit inside the padded input, "
                   "so it steps over only n + 2p − d(k − 1) − 1 pixels, then + 1 for the first window")
        mistakes += [(n // s, divided), (-(-n // s), divided)]
    else:
        mistakes.append((n, "the size stays n only when the padding adds d(k − 1) pixels in all: the window "
                            "has to fit inside the padded input"))
    return mistakes


def _transposed_mistakes(layer: ConvTranspose2d, n: int, right: int) -> list:
    """``(size, idea)`` of the common mistakes about a transposed convolution's output size."""
    k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
    d, op = layer.dilation[0], layer.output_padding[0]
    shrunk = (n + 2 * p - d * (k - 1) - 1) // s + 1
    mistakes = [
        (shrunk if shrunk >= 1 else None,
         "that is a convolution's output size, which shrinks the map, while a transposed convolution runs the "
         "wiring the other way and grows it"),
        (right - op, "you left out output_padding: it adds rows after the last one (and columns after "
                     "the last column)"),
        (right + s, "you multiplied n by the stride: n input pixels are only n − 1 strides apart"),
        (n * s, f"n · s is how Upsample({s}) grows a map, but a transposed convolution's size also depends on its "
                "kernel, padding and output_padding"),
        (right + 4 * p if p else None,
         "you added the padding: in a transposed convolution, padding p *cuts* p rows from each side of the output"),
        (right + 2 * p if p else None,
         "you left out the padding: in a transposed convolution it cuts p rows from each side of the output"),
        (right + 2 * p - op if p and op else None,
         "you left out both the padding (it cuts p rows from each side) and output_padding (it adds rows "
         "after the last one)"),
        (right + p if p else None, "you cut the padding from one side only: it cuts p rows from each side"),
        (right - 1, "you forgot the + 1: (n − 1) s + d (k − 1) is the distance from the first output pixel "
                    "to the last, so count the pixels"),
        (right + k - d * (k - 1), "you added the kernel size k where its reach d (k − 1) belongs"),
        (right + op if op else None, "output_padding is added on one side only, after the last row"),
    ]
    return mistakes


def _most(layer, n: int) -> tuple:
    """A bound on the neurons ``layer`` makes from ``n`` (always at least the true size), and why."""
    if isinstance(layer, SlidingWindow):
        padded = n + sum(layer.pads[0])
        return padded, (f"more neurons than the padded input has pixels ({padded}): each neuron is one "
                        "position of the window inside it")
    if isinstance(layer, ConvTranspose2d):
        k, s, d, op = layer.kernel_size[0], layer.stride[0], layer.dilation[0], layer.output_padding[0]
        bound = s * (n + d * (k - 1) + 1) + op
        return bound, (f"more neurons than this layer makes from {n}: even before its padding cuts rows, it "
                       f"makes at most s · (n + d (k − 1) + 1) + output_padding = {bound}")
    if isinstance(layer, Upsample):
        f = layer.scale_factor[0]
        return n * f, f"more neurons than upsampling by {f} makes: {f} per input pixel, {n * f} in all"
    if isinstance(layer, Residual):
        bound = n
        for inner in layer.body:
            bound = _most(inner, bound)[0]
        return bound, f"more neurons than the block's body can make from {n}: at most {bound}"
    size = layer.output_size((n, n))[0]  # a kind added later: its own size is the bound
    return size, f"more neurons than this layer makes from {n}"


def _size_mistakes(layer, n: int, right: int) -> tuple:
    """``(mistakes, next step)`` for the output size of ``layer`` (any kind) on an ``n``-wide square input."""
    if isinstance(layer, ConvTranspose2d):
        return (_transposed_mistakes(layer, n, right),
                "Next, work through PyTorch's formula: (n − 1) s − 2p + d (k − 1) + output_padding + 1.")
    if isinstance(layer, SlidingWindow):
        return (_window_mistakes(layer, n),
                "Next, work through the formula: n + 2p − d(k − 1) − 1, divided by the stride s and "
                "rounded down, then + 1.")
    if isinstance(layer, Upsample):
        f = layer.scale_factor[0]
        return ([(n, f"Upsample({f}) repeats every pixel {f} times along rows and along columns, so the map grows")],
                "Next: upsampling by f makes f neurons of each input pixel, along each axis.")
    return [], ("Next, follow the block's body layer by layer: the block's output has the size of its body's "
                "(and of its shortcut's, which must agree).")


def _judge_size(layer, input_size, answer) -> bool:
    """Read ``answer`` as the output height of ``layer`` (any kind) on a square input; name the mistakes
    that give it."""
    layer = _one_layer(layer)
    n = _number(input_size, "input_size", 1, 32)
    right = _asked(layer.output_size, (n, n))[0]
    given = _whole(answer)
    if given is None:
        return _say(False, f"An output size is a whole number of neurons; you gave {_describe(answer)}.")
    if given < 1:
        return _say(False, f"An output size counts neurons, at least 1; you gave {given}.")
    bound, why = _most(layer, n)
    if given > bound:
        return _say(False, f"{given} is {why}.")
    mistakes, next_step = _size_mistakes(layer, n, right)
    matches = _matching(given, mistakes, right)
    if matches:
        return _named(f"{given} is not it", matches)
    return _verdict(given == right, str(given), next_step)


@_refusing
def check_output_size(layer, input_size, answer) -> bool:
    """Look for the common mistakes in ``answer``, the output height of ``layer`` on a square input.

    Any layer kind: a convolution or a pool, a transposed convolution, an
    upsampling, a residual block... Returns False (with the misconception
    named) when ``answer`` is malformed or matches a common mistake; when
    several mistakes give the same number, it names each of them. Otherwise
    what :func:`feedback_policy` says: under ``confirm`` True only for the right size.

    Examples
    --------
    >>> check_output_size(Conv2d(1, 1, 3), 10, 7)
    ✘ 7 is not it: you forgot the + 1: the first window counts too, before any step of the stride.
    False
    >>> check_output_size(Conv2d(1, 1, 3), 10, 8.0)
    ✔ 8 is right.
    True
    >>> check_output_size(Conv2d(1, 1, 3), 10, 1000)
    ✘ 1000 is more neurons than the padded input has pixels (10): each neuron is one position of the window inside it.
    False
    >>> check_output_size([Conv2d(1, 1, 3)], 10, 8)
    ✘ layer must be one layer, like Conv2d(3, 8, 5); you gave a list of 1: pass the layer itself.
    False
    """
    return _judge_size(layer, input_size, answer)


def _maps(layer) -> Optional[int]:
    """The feature maps ``layer`` gives, when the layer alone decides it (else None: it keeps its input's)."""
    if isinstance(layer, BatchNorm2d):
        return layer.num_features
    maps = getattr(layer, "out_channels", None)
    return maps if isinstance(maps, int) else None


@_refusing
def check_feature_maps(layer, answer, input_size=None) -> bool:
    """Look for the common mistakes in ``answer``, the number of feature maps ``layer`` produces.

    With ``input_size`` (the square input's side), a value that is also the maps'
    width is named as a size where a count belongs.

    Examples
    --------
    >>> check_feature_maps(Conv2d(3, 8, 5), 3)
    ✘ 3 is not it: that is the number of channels coming in, and the maps are what goes out.
    False
    >>> check_feature_maps(Conv2d(3, 8, 3), 24, input_size=26)
    ✘ 24 is not it. Two common mistakes give it, so it may be either: it is each map's width, a size, not a count: the number of maps is the number of kernels; or it is 8 × 3, one map per kernel and input channel, but a kernel spans all input channels at once and gives one map, not one per channel.
    False
    """
    layer = _one_layer(layer)
    right = _maps(layer)
    if right is None:
        raise _Refusal(f"layer must be a layer that sets its number of maps, like Conv2d(3, 8, 5); {layer!r} keeps "
                       "the channels it is given, so its number of maps is that of its input.")
    width = None
    if input_size is not None:
        n = _number(input_size, "input_size", 1, 32)
        width = _asked(layer.output_size, (n, n))[1]
    given = _whole(answer)
    if given is None:
        return _say(False, f"A number of feature maps is a whole number; you gave {_describe(answer)}.")
    if given < 1:
        return _say(False, f"A layer gives at least one feature map; you gave {given}.")
    mistakes = [(width, "it is each map's width, a size, not a count: the number of maps is the number of kernels")]
    takes = getattr(layer, "in_channels", None)
    if isinstance(takes, int):
        mistakes += [
            (takes, "that is the number of channels coming in, and the maps are what goes out"),
            (right * takes, f"it is {right} × {takes}, one map per kernel and input channel, but a kernel "
                            "spans all input channels at once and gives one map, not one per channel"),
        ]
    if hasattr(layer, "kernel_size"):
        k = layer.kernel_size
        mistakes += [(k[0], "that is the kernel's size, and the number of maps does not depend on it"),
                     (k[0] * k[1], "that counts the kernel's pixels, and the number of maps does not depend on them")]
    matches = _matching(given, mistakes, right)
    if matches:
        return _named(f"{given} is not it", matches)
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


@_refusing
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
    >>> from rfmaps import MaxPool2d
    >>> check_rf_sizes([Conv2d(1, 4, 3), MaxPool2d(2), Conv2d(4, 4, 3)], 32, [3, 4, 6])
    ✘ Layer 2 (Conv2d(4, 4, kernel_size=3)): you added k − 1 without multiplying by the jump: after a stride or a pool, neighbouring neurons of the layer below lie several input pixels apart.
    False
    """
    layers = _layer_list(layers)
    rows = _table(layers, _input_size(input_size))
    given = _whole_list(answers, "rf_sizes")
    if given is None:
        return False
    if len(given) != len(rows):
        return _say(False, f"Give one rf size per layer: the stack has {len(rows)} layers, you gave {len(given)}.")
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
             "it does not widen what one of them sees, and it counts from the next layer on"),
            (previous * span, "you multiplied the sizes: windows of neighbouring neurons overlap, "
                              "so the field grows by (k − 1) × jump, not by a factor"),
            (previous + span, "you added k: the neuron below at the window's first tap is already counted, "
                              "so the field grows by k − 1 steps"),
            (previous, "a pooling window combines several neurons of the layer below, so it widens the field too"
             if isinstance(layer, (MaxPool2d, AvgPool2d)) else
             "this layer's window covers several neurons of the layer below, so the field grows"),
        ]
        matches = _matching(value, mistakes, step)
        if matches:
            return _named(name, matches, str(value))
        previous, jump = value, jump * stride
    right = [row.rf_size[0] for row in rows]
    first = next((i for i, (a, b) in enumerate(zip(given, right)) if a != b), None)
    return _verdict(first is None, f"Your {len(given)} value{'s' * (len(given) != 1)}",
                    "Next, recompute them layer by layer from the first one that is off: r grows by "
                    "(k − 1) × jump, and the jump is multiplied by each layer's stride after that layer.",
                    "are" if len(given) != 1 else "is")


def _region(answer):
    """``((top, bottom), (left, right))`` as ints from tuples, lists or a 2 x 2 array; else None."""
    value = _plain(answer)
    if isinstance(value, (str, bytes)):
        return None
    try:
        (top, bottom), (left, right) = value
    except (TypeError, ValueError):
        return None
    bounds = tuple(_whole(b) for b in (top, bottom, left, right))
    if None in bounds:
        return None
    return ((bounds[0], bounds[1]), (bounds[2], bounds[3]))


def _box_mistakes(right, unit: str, swapped: str, start: str) -> list:
    """``(box, idea)`` of the ways students write a right box wrongly: inclusive bounds read as exclusive,
    1-based indices, corners, rows and columns swapped, shifted by one."""
    (top, bottom), (left, last) = right
    mistakes = [
        (((top, bottom + 1), (left, last + 1)),
         f"each pair ends one {unit} too late: the bounds are inclusive (the last {unit} itself), not exclusive "
         "as in range() and slices"),
        (((top + 1, bottom + 1), (left + 1, last + 1)),
         f"every bound is one too large: indices start at 0, so the first {unit} of a row is {unit} 0, not 1"),
        (((top, left), (bottom, last)),
         "you gave two corners, ((top, left), (bottom, right)), but the answer is the rows' range, then the columns': "
         "((top, bottom), (left, right))"),
        (((left, last), (top, bottom)), f"you swapped rows and columns: {swapped}"),
    ]
    for rows, cols, where in ((1, 0, "one row too low"), (-1, 0, "one row too high"),
                              (0, 1, "one column too far right"), (0, -1, "one column too far left"),
                              (-1, -1, "one row too high and one column too far left")):
        mistakes.append((((top + rows, bottom + rows), (left + cols, last + cols)),
                         f"it has the right size but lies {where}: {start}"))
    return mistakes


def _one_too_long(given, sizes, what: str, unit: str) -> Optional[str]:
    """The sentence for a box one ``unit`` too tall, too wide or both (an exclusive end); else None."""
    tall, wide = (high - low + 1 for low, high in given)
    if (tall, wide) not in ((sizes[0] + 1, sizes[1]), (sizes[0], sizes[1] + 1), (sizes[0] + 1, sizes[1] + 1)):
        return None
    which = "too tall" if tall > sizes[0] else "too wide"
    return (f"Your {what} is one {unit} {which}: the bounds are inclusive, so a field of r {unit}s runs "
            f"from a to a + r − 1.")


@_refusing
def check_region(layers, position, input_size, answer) -> bool:
    """Look for the common mistakes in ``((top, bottom), (left, right))``, a neuron's input region.

    Inclusive, 0-based pixel indices, clipped to the image, as :func:`rfmaps.input_region`.
    ``None`` stands for a neuron that sees only padding.

    Examples
    --------
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, ((2, 5), (2, 4)))
    ✘ Your region is one pixel too tall: the bounds are inclusive, so a field of r pixels runs from a to a + r − 1.
    False
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, ((3, 5), (3, 5)))
    ✘ Not this region: every bound is one too large: indices start at 0, so the first pixel of a row is pixel 0, not 1.
    False
    >>> check_region([Conv2d(1, 1, 3)], (2, 2), 16, [[2, 4], [2, 4]])
    ✔ Your region is right.
    True
    """
    layers = _layer_list(layers)
    size = _input_size(input_size)
    rows = _table(layers, size)
    position = _point(position, "position")
    right = _asked(input_region, layers, position, size)
    n = rows.input_size
    if answer is None:
        if right is None:
            return _verdict(True, "None", "")
        return _say(False, "You gave None, which stands for a neuron that sees only padding; "
                           "give ((top, bottom), (left, right)) otherwise.")
    given = _region(answer)
    if given is None:
        return _say(False, "Give the region as ((top, bottom), (left, right)), four whole pixel indices "
                           f"(0-based, inclusive); you gave {_describe(answer)}.")
    uniform = right is not None and all(row.uniform for row in rows)
    if right is not None:
        mistakes = _box_mistakes(right, "pixel", "the neuron is (row, col), the region (rows, cols)",
                                 "recheck where it starts: neuron p's field starts p jumps after neuron 0's "
                                 "(which padding, if any, moves before pixel 0), counting from 0")
        if uniform:
            rf, jump = rows[-1].rf_size, rows[-1].jump
            previous_jump = rows[-2].jump if len(rows) > 1 else (1, 1)
            unclipped = input_region(layers, position, size, clip=False)
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
        matches = _matching(given, mistakes, right)
        if matches:
            return _named("Not this region", matches)
    (top, bottom), (left, last) = given
    for low, high, side in ((top, bottom, n[0]), (left, last, n[1])):
        if low > high:
            return _say(False, "Each pair is (first, last) pixel: the first index is the smaller one.")
        if low < 0 or high > side - 1:
            return _say(False, f"Pixel indices run from 0 to {side - 1}: a region is clipped to the image.")
    if uniform and input_region(layers, position, size, clip=False) == right:  # no border in the way
        too_long = _one_too_long(given, rows[-1].rf_size, "region", "pixel")
        if too_long:
            return _say(False, too_long)
    return _verdict(given == right, "Your region",
                    "Next, check whether this neuron's window reaches the image at all: a neuron that sees "
                    "only padding has the region None." if right is None else
                    "Next, check its size (the rf size, in pixels) and its place: neuron p's field starts "
                    "p jumps after neuron 0's; bounds are 0-based and inclusive, clipped to the image.")


def _nested(layers):
    """Every layer of ``layers``, and those inside each path of a residual block (after the block)."""
    for layer in layers:
        yield layer
        if isinstance(layer, Residual):
            for path in layer.paths:
                yield from _nested(path)


def _convolutions(layers) -> list:
    """Every convolution (Conv2d, ConvTranspose2d) of ``layers``, walking into each path of a Residual block."""
    return [layer for layer in _nested(layers) if isinstance(layer, (Conv2d, ConvTranspose2d))]


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


def _reached(layers, rows, position) -> list:
    """The input pixels with a path to one neuron of the last layer, as products ``(rows, cols)`` of sets.

    The walk of :func:`rfmaps.input_region` (each layer's own ``reach_back``), kept as sets: the
    pixels between them, if any, are the field's holes.
    """
    boxes = [(frozenset((position[0],)), frozenset((position[1],)))]
    for index in range(len(rows) - 1, -1, -1):
        below = rows.input_size if index == 0 else rows[index - 1].output_size
        boxes = _prune(rows[index].layer.reach_back(boxes, below))
        if not boxes:
            break
    return boxes


def _period(layers, axis: int) -> int:
    """After how many neurons of the last map the fields repeat their shape (shifted), along ``axis``.

    A growing layer (transposed convolution, upsampling by g) multiplies the period by g: its outputs of
    one phase read other taps than their neighbours; a stride c divides it by gcd(period, c).
    """
    period = 1
    for layer in layers:
        growth = _growth(layer)
        if growth:
            period *= growth[axis]
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
    reach = max(rows[-1].rf_size) + 2 * max(sum(sum(layer.pads[0]) for layer in _nested(layers)
                                                 if isinstance(layer, SlidingWindow)), 1)
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
            bounds = [(min(min(b[a]) for b in boxes), max(max(b[a]) for b in boxes)) for a in (0, 1)]
            extent = [high - low + 1 for low, high in bounds]
            if len(boxes) == 1:
                seen = len(boxes[0][0]) * len(boxes[0][1])
            else:
                seen = len({(r, c) for rs, cs in boxes for r in rs for c in cs})
            smallest = min(extent) if smallest is None else min(smallest, *extent)
            holes = max(holes, extent[0] * extent[1] - seen)
    return smallest, holes


@_refusing
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
    layers = _layer_list(layers, "design", "[Conv2d(1, 8, 3), ReLU(), ...]")
    target_rf = _number(target_rf, "target_rf", 1, 21)
    budget = _number(budget, "budget", 0, 2000)
    min_output, min_convs = _number(min_output, "min_output", 1, 8), _number(min_convs, "min_convs", 0, 3)
    min_kernels, in_channels = _number(min_kernels, "min_kernels", 1, 8), _number(in_channels, "in_channels", 1, 1)
    input_size = _number(input_size, "input_size", 1, 64)
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
        source = "the image has" if index == 0 or channels == in_channels else "the layer before gives"
        channels, problem = _channels_after(layer, index, channels, source)
        if problem:
            problems.append(problem)
            break
    for index, layer in enumerate(layers):
        pools = [p for p in _nested([layer]) if isinstance(p, (MaxPool2d, AvgPool2d)) and p.stride != p.kernel_size]
        if pools:
            problems.append(f"layer {index} ({layer!r}) has a pooling window that overlaps its neighbours; "
                            "the rules ask for non-overlapping pools (leave stride at its default)")
            break
    try:
        rows = receptive_fields(layers, input_size)
    except ValueError as error:
        problems.append(f"it does not run on a {input_size} × {input_size} image ({error})")
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    out = min(rows[-1].output_size)
    rf, holes = _fields(layers, input_size)
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
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    return _say(True, f"Every rule holds: rf {rf} ≥ {target_rf}, no holes, {len(convs)} convolutions, "
                      f"last map {out} ≥ {min_output} wide, {params} ≤ {budget} parameters.")


def _channels_after(layer, index: int, channels: int, source: str) -> tuple:
    """``(channels leaving layer, None)``, asked of the layer itself as :func:`rfmaps.feature_maps` does;
    or ``(None, the sentence)`` when it cannot take the ``channels`` that ``source`` (e.g. "the image has")."""
    try:
        return layer.channels_after(channels, f"layer {index}", source.rsplit(" ", 1)[0]), None
    except ValueError as error:
        takes = getattr(layer, "in_channels", None)
        if isinstance(takes, int) and takes != channels:
            return None, f"layer {index} ({layer!r}) takes {takes} channels, but {source} {channels}"
        return None, str(error)


# ---------------------------------------------------------------------------------------------
# Assignment 3: growing maps
# ---------------------------------------------------------------------------------------------

@_refusing
def check_transposed_size(layer, input_size, answer) -> bool:
    """Look for the common mistakes in ``answer``, the output height of a transposed convolution.

    PyTorch's size is ``(n - 1) s - 2 p + d (k - 1) + output_padding + 1``. As the
    other checks, this names a mistake it recognises (every one, when several give
    the same number; see :func:`feedback_policy` for the rest). Given another layer
    kind, it judges that layer's output size as :func:`check_output_size` does.

    Examples
    --------
    >>> up = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    >>> check_transposed_size(up, 16, 31)
    ✘ 31 is not it. Two common mistakes give it, so it may be either: you left out output_padding: it adds rows after the last one (and columns after the last column); or you forgot the + 1: (n − 1) s + d (k − 1) is the distance from the first output pixel to the last, so count the pixels.
    False
    >>> check_transposed_size(up, 16, 8)
    ✘ 8 is not it: that is a convolution's output size, which shrinks the map, while a transposed convolution runs the wiring the other way and grows it.
    False
    """
    return _judge_size(layer, input_size, answer)


def _changed(layer, what: str):
    """``layer`` as a student who ignores its ``what`` ('stride' or 'padding') would read it."""
    if isinstance(layer, Residual):
        return Residual([_changed(inner, what) for inner in layer.body],
                        [_changed(inner, what) for inner in layer.shortcut])
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


@_refusing
def check_projective_field(layers, pixel, input_size, answer) -> bool:
    """Look for the common mistakes in ``((top, bottom), (left, right))``, the projective field of a pixel.

    Inclusive, 0-based neuron indices of the last layer's map, as :func:`rfmaps.projective_field`.

    Examples
    --------
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, ((1, 6), (1, 5)))
    ✘ Your field is one neuron too tall: the bounds are inclusive, so a field of r neurons runs from a to a + r − 1.
    False
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, ((1, 6), (1, 6)))
    ✘ Not this field: each pair ends one neuron too late: the bounds are inclusive (the last neuron itself), not exclusive as in range() and slices.
    False
    >>> check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, [[1, 5], [1, 5]])
    ✔ Your field is right.
    True
    """
    layers = _layer_list(layers)
    size = _input_size(input_size)
    rows = _table(layers, size)
    pixel = _point(pixel, "pixel")
    last = rows[-1].output_size
    right = _asked(projective_field, layers, pixel, size)
    if answer is None:
        if right is None:
            return _verdict(True, "None", "")
        return _say(False, "You gave None, which stands for a pixel that reaches no neuron; "
                           "give ((top, bottom), (left, right)) otherwise.")
    given = _region(answer)
    if given is None:
        return _say(False, "Give the field as ((top, bottom), (left, right)), four whole neuron indices of the "
                           f"last map (0-based, inclusive); you gave {_describe(answer)}.")
    if right is not None:
        mistakes = []
        if all(0 <= p < m for p, m in zip(pixel, last)):
            region = input_region(layers, pixel, size)  # it may lie outside the last map
            mistakes.append((region, "that is the receptive field of the neuron at the pixel's position, but the "
                                     "projective field goes the other way: from the pixel to every neuron it can "
                                     "change"))
        mistakes += _box_mistakes(right, "neuron", "the pixel is (row, col), the field (rows, cols)",
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
        matches = _matching(given, mistakes, right)
        if matches:
            return _named("Not this field", matches)
    for low, high in given:
        if low > high:
            return _say(False, "Each pair is (first, last) neuron: the first index is the smaller one.")
    for (low, high), side in zip(given, last):
        if low < 0 or high > side - 1:
            return _say(False, f"Neurons of the last map run from 0 to {side - 1}: a projective field is "
                               "clipped to the map, as a receptive field is clipped to the image.")
    if right is not None and given[0][0] == right[0][0] and given[1][0] == right[1][0]:
        too_long = _one_too_long(given, tuple(high - low + 1 for low, high in right), "field", "neuron")
        if too_long:
            return _say(False, too_long)
    return _verdict(given == right, "Your field",
                    "Next, check whether any neuron of the last map reads this pixel at all: a pixel that "
                    "reaches none has the field None." if right is None else
                    "Next, follow the pixel layer by layer: which neurons of each layer have it in their "
                    "window? Bounds are 0-based and inclusive, clipped to the last map.")


@_refusing
def check_parameter_count(layers, answer) -> bool:
    """Look for the common mistakes in ``answer``, the number of weights and biases of ``layers``.

    Examples
    --------
    >>> depthwise, pointwise = Conv2d(32, 32, 3, groups=32), Conv2d(32, 64, 1)
    >>> check_parameter_count([depthwise, pointwise], 2048 + 288)
    ✘ 2336 is not it: you left out the biases: each kernel has one, so each output channel adds 1.
    False
    """
    layers = _layer_list(layers)
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
    matches = _matching(given, mistakes, right)
    if matches:
        return _named(f"{given} is not it", matches)
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


@_refusing
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
    layers = _layer_list(layers, "decoder", "[Upsample(2), Conv2d(16, 8, 3), ...]")
    target_size = _number(target_size, "target_size", 1, 32)
    budget = _number(budget, "budget", 0, 1600)
    input_size, in_channels = _number(input_size, "input_size", 1, 8), _number(in_channels, "in_channels", 1, 16)
    out_channels, min_growing = _number(out_channels, "out_channels", 1, 1), _number(min_growing, "min_growing", 0, 2)
    problems = []
    channels = in_channels
    for index, layer in enumerate(layers):
        channels, problem = _channels_after(layer, index, channels,
                                            "the encoder gives" if index == 0 else "the layer before gives")
        if problem:
            problems.append(problem)
            break
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
        for inner in _nested([layer]):
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
        return _say(False, "Not yet: " + "; ".join(problems) + ".")
    return _say(True, f"Every rule holds: {target_size} × {target_size} × {out_channels} from "
                      f"{input_size} × {input_size} × {in_channels} in {len(growing)} steps of 2, no uneven "
                      f"overlap, {params} ≤ {budget} parameters.")


# ---------------------------------------------------------------------------------------------
# Multiple choice with a written reason
# ---------------------------------------------------------------------------------------------

def _choice_arguments(student_id, question, options) -> list:
    """The options as a list, after refusing, with one sentence each, what cannot be an id, a question or options."""
    if not isinstance(student_id, str):
        raise TypeError(f"student_id must be a student id as text, like \"jdoe42\"; got {student_id!r}")
    if not student_id.strip():
        raise ValueError("student_id must be a (non-empty) student id, like \"jdoe42\"")
    if not isinstance(question, str):
        raise TypeError(f"question must be the question's name as text, like \"ps3-q4\"; got {question!r}")
    if not isinstance(options, (list, tuple)) or not 2 <= len(options) <= 26 or \
            not all(isinstance(option, str) for option in options):
        raise TypeError(f"options must be a list of 2 to 26 texts, like [\"yes\", \"no\"]; got {options!r}")
    return list(options)


def choice_letters(student_id: str, question: str, options: Sequence[str]) -> Dict[str, str]:
    """The options of a question in this student's own order, as ``{letter: option}``.

    Neighbours see the same options under different letters.

    Examples
    --------
    >>> sorted(choice_letters("jdoe42", "q", ["yes", "no"]).values())
    ['no', 'yes']
    >>> choice_letters(12345, "q", ["yes", "no"])
    Traceback (most recent call last):
    ...
    TypeError: student_id must be a student id as text, like "jdoe42"; got 12345
    """
    order = _choice_arguments(student_id, question, options)
    random.Random(_seed(student_id, f"choices:{question}")).shuffle(order)
    return dict(zip(string.ascii_lowercase, order))


def show_choices(student_id: str, question: str, options: Sequence[str]) -> Dict[str, str]:
    """Print the options as ``(a) ...`` lines in this student's order; return :func:`choice_letters`."""
    letters = choice_letters(student_id, question, options)
    for letter, option in letters.items():
        print(f"({letter}) {option}")
    return letters


def _choice_problem(letters: Dict[str, str], choice, reason, min_words: int) -> Optional[str]:
    if not isinstance(letters, dict) or not letters:
        return (f"letters must be the options as show_choices returned them, like {{'a': 'yes', 'b': 'no'}}; "
                f"you gave {_describe(letters)}.")
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
