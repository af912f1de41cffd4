"""Formulas students write as Python functions, judged on many inputs, and written without the package.

Three questions, one per assignment:

* ps1: ``conv_output_size(n, kernel_size, stride, padding, dilation)``, the output
  size of a ``Conv2d`` (or a pool, ``ceil_mode`` off) on an ``n``-wide input;
* ps2: ``rf_size_and_jump(layers)``, the receptive-field size and the jump of the
  last layer of a stack given as ``(kernel_size, stride, dilation)`` triples (no padding);
* ps3: ``transposed_output_size(n, kernel_size, stride, padding, output_padding, dilation)``,
  the output size of a ``ConvTranspose2d``.

The visible checks (``check_*_function``) try a student's function on every input
of a small grid and on random larger ones, against brute force (counting window
positions, walking index sets), never against the package's own formulas; they
name a misconception when the function agrees with a common mistake on every
input, and otherwise answer as :func:`~rfmaps.check.feedback_policy` says. The
hidden tests (``grade_*_function``) first refuse a function that visibly reaches rfmaps
or torch (:func:`packages_used`), then compare it on random inputs with PyTorch's real
modules when torch is installed (autograd for the receptive field), with brute
force otherwise. Every call of the student's function, in both, runs watched
(:func:`~rfmaps.check.byhand.call_watched`): rfmaps or torch code running during it refuses it.

>>> def size(n, kernel_size, stride=1, padding=0, dilation=1):
...     return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride
>>> check_conv_size_function(size)
✘ Not this formula: you forgot the + 1: the first window counts too, before any step of the stride.
False
"""

from __future__ import annotations

import itertools
import random
from typing import Callable, Iterable, List, NamedTuple, Optional, Tuple

from .answers import as_plain, as_whole
from .byhand import (FORBIDDEN, PackageReached, call_watched, forget_cache, packages_used, uses_the_package,
                     written_by_hand)
from .feature_map import check_feature_map_function, grade_feature_map_function
from .feedback import feedback_policy, named, say

__all__ = ["FORBIDDEN", "packages_used", "grade_by_hand", "check_conv_size_function", "grade_conv_size_function",
           "check_rf_function", "grade_rf_function", "check_transposed_size_function",
           "grade_transposed_size_function", "check_feature_map_function", "grade_feature_map_function"]



# ---------------------------------------------------------------------------------------------
# Written by hand? (the rule itself lives in byhand.py)
# ---------------------------------------------------------------------------------------------

def grade_by_hand(function, name: str = "function") -> None:
    """For hidden tests: raise AssertionError (with the sentence students read) when ``function`` reaches
    rfmaps or torch, or is not a function.

    Raised, not asserted, so that ``python -O`` cannot skip it.

    Examples
    --------
    >>> grade_by_hand(lambda n: n + 1)
    >>> import rfmaps
    >>> grade_by_hand(lambda n: rfmaps.Conv2d(1, 1, 3).output_size(n)[0], "conv_output_size")
    Traceback (most recent call last):
    ...
    AssertionError: Your conv_output_size uses the package (rfmaps): this question asks for the formula itself, written with plain Python arithmetic (math and numpy are fine), so it gets no points this way.
    """
    problem = written_by_hand(function, name)
    if problem:
        raise AssertionError(problem)


# ---------------------------------------------------------------------------------------------
# The three questions
# ---------------------------------------------------------------------------------------------

class Question(NamedTuple):
    """One formula question: its inputs, the truth (brute force and PyTorch) and the common mistakes.

    A NamedTuple, not a dataclass: building a dataclass took 15 ms of ``import rfmaps`` (measured with
    ``python -X importtime``), a named tuple well under 1 ms.
    """

    name: str                                    # the function's name in the notebook
    what: str                                    # what it returns, for sentences
    parameters: Tuple[str, ...]                  # its arguments, in order
    grid: Callable[[], Iterable[tuple]]          # small inputs, every one tried by the visible check
    draw: Callable[[random.Random], tuple]       # one random valid input, larger
    brute: Callable[[tuple], object]             # the truth by counting (no formula)
    torch: Callable[[tuple], object]             # the truth by PyTorch's real modules
    read: Callable[[object], object]             # the returned value as a comparable answer, or None
    form: str                                    # the expected form, for sentences
    mistakes: Tuple[tuple, ...]                  # (formula, idea) or (formula, idea, part index)
    next_step: str
    parts: Tuple[str, ...] = ()                  # names of the answer's parts, judged one by one (rf, jump)

    def show(self, case: tuple) -> str:
        return ", ".join(f"{p} = {v!r}" for p, v in zip(self.parameters, case))


# -- ps1: the output size of a convolution or a pool -----------------------------------------

def _conv_brute(case) -> int:
    """Count the window positions: position o reads the padded pixels o·s to o·s + d(k − 1)."""
    n, k, s, p, d = case
    count = 0
    while count * s + d * (k - 1) <= n + 2 * p - 1:
        count += 1
    return count


def _conv_torch(case) -> int:
    import torch

    n, k, s, p, d = case
    with torch.no_grad():
        x = torch.zeros(1, 1, n, 1)
        layer: torch.nn.Module
        if 2 * p <= k and n % 2:  # a pool where PyTorch allows its padding (p ≤ k / 2), half the time
            layer = torch.nn.MaxPool2d((k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1))
        else:
            layer = torch.nn.Conv2d(1, 1, (k, 1), stride=(s, 1), padding=(p, 0), dilation=(d, 1), bias=False)
        return int(layer(x).shape[2])


def _conv_grid():
    for n, k, s, p, d in itertools.product(range(1, 25), range(1, 8), range(1, 4), range(0, 4), range(1, 4)):
        if n + 2 * p >= d * (k - 1) + 1:
            yield n, k, s, p, d


def _conv_draw(rng: random.Random) -> tuple:
    while True:
        case = (rng.randint(1, 300), rng.randint(1, 11), rng.randint(1, 6), rng.randint(0, 8), rng.randint(1, 5))
        n, k, s, p, d = case
        if n + 2 * p >= d * (k - 1) + 1:
            return case


def _read_size(value):
    return as_whole(value)


CONV_SIZE = Question(
    name="conv_output_size", what="output size",
    parameters=("n", "kernel_size", "stride", "padding", "dilation"),
    grid=_conv_grid, draw=_conv_draw, brute=_conv_brute, torch=_conv_torch, read=_read_size,
    form="a whole number of neurons",
    mistakes=(
        (lambda c: (c[0] + 2 * c[3] - c[4] * (c[1] - 1) - 1) // c[2],
         "you forgot the + 1: the first window counts too, before any step of the stride"),
        (lambda c: (c[0] - c[4] * (c[1] - 1) - 1) // c[2] + 1 if c[0] >= c[4] * (c[1] - 1) + 1 else None,
         "you left out the padding: it adds padding pixels on each side of the input"),
        (lambda c: (c[0] + c[3] - c[4] * (c[1] - 1) - 1) // c[2] + 1,
         "you padded one side only: padding p adds p pixels on each side"),
        (lambda c: c[0] + 2 * c[3] - c[4] * (c[1] - 1),
         "you left out the stride: the window moves stride pixels at a time"),
        (lambda c: -(-(c[0] + 2 * c[3] - c[4] * (c[1] - 1) - 1) // c[2]) + 1,
         "you rounded up: a window that does not fit entirely is not computed"),
        (lambda c: (c[0] + 2 * c[3] - c[1]) // c[2] + 1,
         "you left out the dilation: a dilated kernel spans d(k − 1) + 1 pixels, not k"),
        (lambda c: (c[0] + 2 * c[3] - c[4] * c[1]) // c[2] + 1 if c[0] + 2 * c[3] >= c[4] * c[1] else None,
         "a dilated kernel spans d(k − 1) + 1 pixels, not d · k: its taps are d apart, with k − 1 gaps"),
        (lambda c: c[0] - c[1] + 1 if c[0] >= c[1] else None,
         "n − k + 1 counts the windows of a layer without padding, stride or dilation only"),
        (lambda c: c[0] // c[2], "dividing n by the stride leaves out the window, which must fit inside the "
                                 "padded input"),
    ),
    next_step="Next, count the positions of the window by hand for a small case: where does the last one start?",
)


# -- ps2: the receptive-field size and the jump of a stack ------------------------------------

def _rf_brute(case) -> tuple:
    """Walk index sets down the stack: the pixels with a path to neuron 0 and to neuron 1 of the last layer."""
    layers = case[0]

    def seen(neuron):
        indices = {neuron}
        for k, s, d in reversed(layers):
            indices = {s * i + d * t for i in indices for t in range(k)}
        return indices

    first, second = seen(0), seen(1)
    return max(first) - min(first) + 1, min(second) - min(first)


def _rf_torch(case) -> tuple:
    """PyTorch's autograd: which input pixels change neurons 0 and 1 of the last layer (all weights 1)."""
    import torch

    layers = case[0]
    length, reach = 1, 1
    for k, s, d in layers:  # generous: every layer's full span at its own spacing, twice, plus two steps
        length += k * d * reach
        reach *= s
    length = 2 * length + 2 * reach
    convs = []
    for k, s, d in layers:
        conv = torch.nn.Conv2d(1, 1, (k, 1), stride=(s, 1), dilation=(d, 1), bias=False)
        torch.nn.init.ones_(conv.weight)
        convs.append(conv)
    x = torch.zeros(1, 1, length, 1, requires_grad=True)
    out = torch.nn.Sequential(*convs)(x)
    g0, = torch.autograd.grad(out[0, 0, 0, 0], x, retain_graph=True)
    g1, = torch.autograd.grad(out[0, 0, 1, 0], x)
    # Path counts are whole numbers (exact in float32 here): a pixel is reached when its count is at least 1.
    r0 = torch.nonzero(g0[0, 0, :, 0] > 0.5).flatten()
    r1 = torch.nonzero(g1[0, 0, :, 0] > 0.5).flatten()
    return int(r0[-1] - r0[0] + 1), int(r1[0] - r0[0])


def _rf_grid():
    kinds = [(k, s, d) for k in (1, 2, 3, 5) for s in (1, 2, 3) for d in (1, 2)]
    for depth in (1, 2, 3):
        for stack in itertools.product(kinds, repeat=depth):
            yield (list(stack),)


def _rf_draw(rng: random.Random) -> tuple:
    return ([(rng.randint(1, 7), rng.randint(1, 3), rng.randint(1, 3)) for _ in range(rng.randint(1, 6))],)


def _read_pair(value):
    value = as_plain(value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        pair = tuple(as_whole(v) for v in value)
        if None not in pair:
            return pair
    return None


def _rf_mistake(grow, jump_after) -> Callable[[tuple], tuple]:
    """A stack read with ``grow(k, s, d, jump)`` added per layer and the jump updated by ``jump_after``."""
    def formula(case):
        rf, jump = 1, 1
        for k, s, d in case[0]:
            rf += grow(k, s, d, jump)
            jump = jump_after(jump, s)
        return rf, jump
    return formula


def _times(jump, s):
    return jump * s


RF_JUMP = Question(
    name="rf_size_and_jump", what="(rf size, jump)", parameters=("layers",),
    grid=_rf_grid, draw=_rf_draw, brute=_rf_brute, torch=_rf_torch, read=_read_pair,
    form="a pair (rf size, jump) of whole numbers",
    mistakes=(
        (_rf_mistake(lambda k, s, d, j: d * (k - 1), _times),
         "you added d(k − 1) without multiplying by the jump: after a stride, neighbouring neurons of the "
         "layer below lie several input pixels apart", 0),
        (_rf_mistake(lambda k, s, d, j: d * (k - 1) * j * s, _times),
         "you multiplied by the layer's own stride too: a stride spaces this layer's neurons apart, it does "
         "not widen what one of them sees", 0),
        (_rf_mistake(lambda k, s, d, j: (k - 1) * j, _times),
         "you left out the dilation: a dilated kernel's taps are d neurons apart, so it spans d(k − 1) + 1", 0),
        (_rf_mistake(lambda k, s, d, j: d * k * j, _times),
         "you added d · k: the neuron below at the window's first tap is already counted, so the field grows "
         "by d(k − 1) jumps", 0),
        (_rf_mistake(lambda k, s, d, j: d * (k - 1) * j, lambda j, s: j + s - 1),
         "it multiplies: after strides s1 and s2 neighbouring neurons are s1 · s2 input pixels apart", 1),
        (_rf_mistake(lambda k, s, d, j: d * (k - 1) * j, lambda j, s: s),
         "it is the product of every stride so far, not the last layer's stride alone", 1),
        (_rf_mistake(lambda k, s, d, j: d * (k - 1) * j, lambda j, s: 1),
         "it grows at every stride: after strides s1, s2, ... neighbouring neurons of the last layer lie "
         "s1 · s2 · ... input pixels apart", 1),
        (_rf_mistake(lambda k, s, d, j: (d * (k - 1) + 1) * j, _times),
         "you added the whole span d(k − 1) + 1: the neuron below at the window's first tap is already "
         "counted, so the field grows by d(k − 1) jumps", 0),
    ),
    next_step="Next, follow a 2-layer stack by hand: which input pixels do neurons 0 and 1 of the last layer see?",
    parts=("the rf size", "the jump"),
)


# -- ps3: the output size of a transposed convolution -----------------------------------------

def _transposed_brute(case) -> int:
    """Scatter: input i sends tap t to position i·s + t·d; padding cuts p from each end, output_padding adds."""
    n, k, s, p, op, d = case
    reached = {i * s + t * d for i in range(n) for t in range(k)}
    return max(reached) + 1 - 2 * p + op


def _transposed_torch(case) -> int:
    import torch

    n, k, s, p, op, d = case
    with torch.no_grad():
        layer = torch.nn.ConvTranspose2d(1, 1, (k, 1), stride=(s, 1), padding=(p, 0), output_padding=(op, 0),
                                         dilation=(d, 1), bias=False)
        return int(layer(torch.zeros(1, 1, n, 1)).shape[2])


def _transposed_valid(n, k, s, p, op, d) -> bool:
    # PyTorch: output_padding below the stride or the dilation; an output of at least 1 pixel.
    return op < max(s, d) and (n - 1) * s - 2 * p + d * (k - 1) + op + 1 >= 1


def _transposed_grid():
    for case in itertools.product(range(1, 13), range(1, 7), range(1, 5), range(0, 4), range(0, 4), range(1, 4)):
        if _transposed_valid(*case):
            yield case


def _transposed_draw(rng: random.Random) -> tuple:
    while True:
        case = (rng.randint(1, 100), rng.randint(1, 9), rng.randint(1, 5), rng.randint(0, 5), rng.randint(0, 4),
                rng.randint(1, 4))
        if _transposed_valid(*case):
            return case


def _right_transposed(c) -> int:
    n, k, s, p, op, d = c
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


TRANSPOSED_SIZE = Question(
    name="transposed_output_size", what="output size",
    parameters=("n", "kernel_size", "stride", "padding", "output_padding", "dilation"),
    grid=_transposed_grid, draw=_transposed_draw, brute=_transposed_brute, torch=_transposed_torch,
    read=_read_size, form="a whole number of neurons",
    mistakes=(
        (lambda c: _right_transposed(c) - 1,
         "you forgot the + 1: (n − 1) s + d(k − 1) is the distance from the first output pixel to the last"),
        (lambda c: _right_transposed(c) - c[4], "you left out output_padding: it adds rows after the last one"),
        (lambda c: c[0] * c[2], "n · s is how upsampling grows a map; a transposed convolution's size also "
                                "depends on its kernel, padding and output_padding"),
        (lambda c: _right_transposed(c) + 4 * c[3],
         "you added the padding: in a transposed convolution, padding p cuts p rows from each side"),
        (lambda c: _right_transposed(c) + 2 * c[3],
         "you left out the padding: in a transposed convolution it cuts p rows from each side"),
        (lambda c: _right_transposed(c) + c[3], "you cut the padding from one side only: it cuts p from each side"),
        (lambda c: _right_transposed(c) + c[2],
         "you multiplied n by the stride: n input pixels are only n − 1 strides apart"),
        (lambda c: _right_transposed(c) - c[5] * (c[1] - 1) + (c[1] - 1),
         "you left out the dilation: a dilated kernel reaches d(k − 1) beyond its first tap"),
        (lambda c: _right_transposed(c) - c[5] * (c[1] - 1) + c[1],
         "you added the kernel size k where its reach d(k − 1) belongs"),
        (lambda c: (c[0] + 2 * c[3] - c[5] * (c[1] - 1) - 1) // c[2] + 1,
         "that is a convolution's output size, which shrinks the map; a transposed convolution grows it"),
    ),
    next_step="Next, scatter a 2-pixel input by hand: which output positions does each input pixel's kernel reach?",
)

QUESTIONS = {q.name: q for q in (CONV_SIZE, RF_JUMP, TRANSPOSED_SIZE)}


# ---------------------------------------------------------------------------------------------
# Trying a function
# ---------------------------------------------------------------------------------------------

def _call(question: Question, function, case) -> tuple:
    """``(answer, None)``, or ``(None, the sentence)`` when the function raises or returns something else."""
    arguments = ([tuple(layer) for layer in case[0]],) if question is RF_JUMP else case
    values: list = []

    def read(value):
        values.append(value)
        return question.read(value)

    try:
        # Watched: code of rfmaps or torch running during the call refuses it, however it was reached.
        answer = call_watched(function, arguments, read)
    except PackageReached as reached:
        return None, uses_the_package(question.name, str(reached)).rstrip(".")
    except Exception as error:  # the student's code: any exception becomes a sentence, never a traceback
        return None, (f"your {question.name} raised {type(error).__name__}: {error} for {question.show(case)}")
    value = values[0]
    if answer is None:
        given = "None (did you forget the return?)" if value is None else repr(as_plain(value))[:60]
        return None, (f"your {question.name} returned {given} for {question.show(case)}; it should return "
                      f"{question.form}")
    return answer, None


def _recognised(question: Question, answers: dict, truth: dict) -> dict:
    """``{part: ideas}``: the common mistakes that agree with the student's function on every input tried.

    An answer with parts (rf size, jump) is judged part by part: a mistake about the jump is named when the
    student's jumps agree with it, whatever their rf sizes. Part None is the whole answer.
    """
    parts: List[Optional[int]] = [*range(len(question.parts))] or [None]
    found: dict[Optional[int], list] = {}
    for part in parts:
        def of(value):
            return value if part is None or value is None else value[part]
        for mistake, idea, *about in question.mistakes:
            if about and about[0] != part:  # a mistake about the other part of the answer
                continue
            differs = False
            for case, answer in answers.items():
                wrong = of(mistake(case))
                if wrong is not None and wrong != of(answer):
                    break
                differs = differs or (wrong is not None and wrong != of(truth[case]))
            else:
                if differs:
                    found.setdefault(part, []).append(idea)
    return found


def _name_mistakes(question: Question, found: dict) -> bool:
    """✘ with the mistakes behind a function: for each part of the answer that is off, the ideas that give it."""
    if None in found:  # an answer without parts
        return named("Not this formula", found[None])
    if len(found) == 1:
        (part, ideas), = found.items()
        return named(f"Not this formula ({question.parts[part]})", ideas, "it")
    return say(False, "Not this formula. " + "; ".join(
        f"{question.parts[part][0].upper() if not index else question.parts[part][0]}{question.parts[part][1:]}: "
        f"{' or '.join(dict.fromkeys(ideas))}" for index, (part, ideas) in enumerate(found.items())) + ".")


def _judge(question: Question, function, *, cases: int = 200, seed: int = 0) -> bool:
    problem = written_by_hand(function, question.name)
    if problem:
        return say(False, problem)
    forget_cache(function)
    rng = random.Random(f"{question.name}:{seed}")
    inputs = list(question.grid()) + [question.draw(rng) for _ in range(cases)]
    answers, truth = {}, {}
    for case in inputs:
        key = (tuple(case[0]),) if question is RF_JUMP else case
        answer, problem = _call(question, function, case)
        if problem:
            return say(False, problem[0].upper() + problem[1:] + ".")
        answers[key], truth[key] = answer, question.brute(case)
    wrong = [key for key in answers if answers[key] != truth[key]]
    if wrong:
        found = _recognised(question, answers, truth)
        if found:
            return _name_mistakes(question, found)
    if feedback_policy() == "mistakes-only":
        print(f"• No common mistake recognised in your {question.name}; it is graded when you submit.")
        return True
    if not wrong:
        return say(True, f"Your {question.name} is right on all {len(inputs)} inputs tried "
                         "(every small case and random larger ones).")
    case = wrong[0]
    shown = ([list(layer) for layer in case[0]],) if question is RF_JUMP else case
    return say(False, f"Not yet: for {question.show(shown)} your function gives {answers[case]}, the "
                      f"{question.what} is {truth[case]} ({len(wrong)} of {len(inputs)} inputs tried are off, "
                      f"none by a common mistake). {question.next_step}")


def _grade(question: Question, function, *, cases: int = 300, seed: int = 1) -> None:
    """Raise AssertionError (the sentence students read in their feedback) unless ``function`` is written by
    hand and agrees with PyTorch (brute force without torch) on ``cases`` random inputs and the small grid."""
    grade_by_hand(function, question.name)
    forget_cache(function)  # every value graded is computed now, watched
    import importlib.util

    rng = random.Random(f"hidden:{question.name}:{seed}")
    inputs = [question.draw(rng) for _ in range(cases)]
    inputs += random.Random(seed).sample(list(question.grid()), 200)
    if importlib.util.find_spec("torch") is None:
        return _compare(question, function, inputs, question.brute, "brute force")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is 15 times faster than many (measured on 2 cores)
    try:
        return _compare(question, function, inputs, question.torch, "PyTorch")
    finally:
        torch.set_num_threads(threads)


def _diagnosis(question: Question, function) -> dict:
    """:func:`_recognised` over every small input (one wrong value alone may match a mistake by chance)."""
    answers, truth = {}, {}
    for case in question.grid():
        answer, problem = _call(question, function, case)
        if problem:
            return {}
        key = (tuple(case[0]),) if question is RF_JUMP else case
        answers[key], truth[key] = answer, question.brute(case)
    return _recognised(question, answers, truth)


def _compare(question: Question, function, inputs: list, reference, source: str) -> None:
    for case in inputs:
        answer, problem = _call(question, function, case)
        if problem:
            raise AssertionError(problem[0].upper() + problem[1:] + ".")
        right = reference(case)
        if answer != right:
            ideas = [idea for part_ideas in _diagnosis(question, function).values() for idea in part_ideas]
            why = f" ({'; or '.join(ideas[:2])})" if ideas else ""
            shown = ([list(layer) for layer in case[0]],) if question is RF_JUMP else case
            raise AssertionError(f"Not right for {question.show(shown)}: your function gives {answer}, "
                                 f"{source} gives {right}{why}.")


def check_conv_size_function(function) -> bool:
    """Try a student's ``conv_output_size(n, kernel_size, stride, padding, dilation)`` on many inputs.

    Compared with counting window positions (no formula) on every small input
    (n up to 24, kernels up to 7, strides up to 3, padding up to 3, dilation up
    to 3) and on 200 random larger ones; a function that reaches rfmaps or torch
    is refused with a sentence.

    Examples
    --------
    >>> check_conv_size_function(lambda n, k, s, p, d: n - k + 1)
    ✘ Not this formula: n − k + 1 counts the windows of a layer without padding, stride or dilation only.
    False
    """
    return _judge(CONV_SIZE, function)


def grade_conv_size_function(function, *, cases: int = 300) -> None:
    """For hidden tests: ``conv_output_size`` written by hand and equal to PyTorch's ``Conv2d`` (and ``MaxPool2d``
    where it allows the padding) on ``cases`` random inputs (n up to 300, kernels up to 11, strides up to 6,
    padding up to 8, dilation up to 5) and 200 small ones; else AssertionError with the sentence students read.

    Examples
    --------
    >>> grade_conv_size_function(lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1, cases=20)
    """
    _grade(CONV_SIZE, function, cases=cases)


def check_rf_function(function) -> bool:
    """Try a student's ``rf_size_and_jump(layers)`` (``layers``: ``(kernel_size, stride, dilation)`` triples,
    no padding) on every stack of up to 3 small layers and 200 random deeper ones.

    Compared with the pixels that reach neurons 0 and 1 of the last layer,
    found by walking index sets down the stack (no formula).

    Examples
    --------
    >>> def rf(layers):
    ...     r = 1
    ...     for k, s, d in layers:
    ...         r += d * (k - 1)
    ...     return r, 1
    >>> check_rf_function(rf)
    ✘ Not this formula. The rf size: you added d(k − 1) without multiplying by the jump: after a stride, neighbouring neurons of the layer below lie several input pixels apart; the jump: it grows at every stride: after strides s1, s2, ... neighbouring neurons of the last layer lie s1 · s2 · ... input pixels apart.
    False
    """
    return _judge(RF_JUMP, function)


def grade_rf_function(function, *, cases: int = 200) -> None:
    """For hidden tests: ``rf_size_and_jump`` written by hand and equal, on ``cases`` random stacks of 1 to 6
    layers (kernels up to 7, strides and dilations up to 3) and 200 small ones, to what PyTorch's autograd
    says of a stack of real ``Conv2d`` layers; else AssertionError with the sentence students read.

    Examples
    --------
    >>> def rf(layers):
    ...     r, j = 1, 1
    ...     for k, s, d in layers:
    ...         r, j = r + d * (k - 1) * j, j * s
    ...     return r, j
    >>> grade_rf_function(rf, cases=10)
    """
    _grade(RF_JUMP, function, cases=cases)


def check_transposed_size_function(function) -> bool:
    """Try a student's ``transposed_output_size(n, kernel_size, stride, padding, output_padding, dilation)``.

    Compared with scattering each input pixel's kernel taps (no formula) on every
    small input PyTorch allows (output_padding below the stride or the dilation)
    and on 200 random larger ones.

    Examples
    --------
    >>> check_transposed_size_function(lambda n, k, s, p, op, d: n * s)
    ✘ Not this formula: n · s is how upsampling grows a map; a transposed convolution's size also depends on its kernel, padding and output_padding.
    False
    """
    return _judge(TRANSPOSED_SIZE, function)


def grade_transposed_size_function(function, *, cases: int = 300) -> None:
    """For hidden tests: ``transposed_output_size`` written by hand and equal to PyTorch's ``ConvTranspose2d``
    on ``cases`` random inputs (n up to 100, kernels up to 9, strides up to 5) and 200 small ones; else
    AssertionError with the sentence students read.

    Examples
    --------
    >>> grade_transposed_size_function(lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + d * (k - 1) + op + 1,
    ...                                cases=20)
    """
    _grade(TRANSPOSED_SIZE, function, cases=cases)
