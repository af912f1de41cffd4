"""Each student's own numbers for the three assignments, drawn from lists of values known to work.

Nothing is computed at import: the tables of candidate stacks are built (once) at the first variant.

>>> variant("jdoe42") == variant(" JDOE42")
True
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Dict

from ..layers import Conv2d, ConvTranspose2d, MaxPool2d, ReLU
from ..arithmetic.receptive_field import projective_field
from .ids import seed


#: Input side of the receptive-field questions (assignment 2).
RF_INPUT = 64


# Cached (listed with every cache in rfmaps/engine/maps.py): no key, the table depends on nothing;
# bound: one table of at most 64 stacks, a few kB.
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
    rng = random.Random(seed(student_id, "variant"))
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


# Cached as _stacks: no key; bound: one table of the stacks and their rows, a few kB.
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
    rng = random.Random(seed(student_id, "growing"))
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
