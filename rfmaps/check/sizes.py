"""Checks of output sizes (every layer kind, transposed convolutions included) and of numbers of feature maps.

Assignment 1 asks both; assignment 3 asks a transposed convolution's size.
"""

from __future__ import annotations

from typing import Optional

from ..layers import ConvTranspose2d, SlidingWindow, Upsample
from ..layers.residual import Residual
from .answers import Refusal, as_whole, asked, describe, one_layer, refusing, whole_number
from .feedback import matching, named, say, verdict


def _pixels(count: int) -> str:
    return f"{count} zero pixel" + ("" if count == 1 else "s")


def _window_mistakes(layer: SlidingWindow, n: int) -> list:
    """``(size, idea)`` of the common mistakes about a sliding window's output size (convolution, pool...)."""
    k, s, d = layer.kernel_size[0], layer.stride[0], layer.dilation[0]
    before, after = layer.pads[0]  # the declared padding: a ceil_mode overhang is none a student adds
    span = layer.effective_kernel_size[0]  # d(k - 1) + 1, from the layer itself
    padded = n + before + after
    mistakes = [
        ((padded - span) // s,
         "you forgot the + 1: the first window counts too, before any step of the stride"),
        ((n - span) // s + 1 if n >= span and before + after else None,
         f"you left out the padding: padding puts {_pixels(before)} on each side, so the padded input is "
         f"{before + after} pixels taller and wider" if before == after else
         f"you left out the padding: padding puts {_pixels(before)} before and {_pixels(after)} after, so the "
         f"padded input is {before + after} pixels taller and wider"),
        (padded - span + 1, f"you left out the stride: the window moves {s} pixels at a time"),
        *_rounding_mistakes(layer, padded, span, s),
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


def _rounding_mistakes(layer: SlidingWindow, padded: int, span: int, s: int) -> list:
    """Rounding the number of steps the wrong way: up where PyTorch rounds down, or, for a pool with
    ``ceil_mode=True``, down where it rounds up (or up past the rule that drops a window starting after
    the input)."""
    down, up = (padded - span) // s + 1, -(-(padded - span) // s) + 1
    if not layer.ceil_mode:
        return [(up, "you rounded up: a window that does not fit entirely is not computed")]
    return [(down, "you rounded down: with ceil_mode=True PyTorch rounds the number of steps up, so a last "
                   "window that hangs over the end of the padded input still counts"),
            (up, "you kept a window that would start in the padding after the input: with ceil_mode=True "
                 "PyTorch rounds up but drops that window")]


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
        padded = n + sum(layer.pads_for((n, n))[0])
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
        rounded = "up (ceil_mode=True)" if layer.ceil_mode else "down"
        return (_window_mistakes(layer, n),
                "Next, work through the formula: n + 2p − d(k − 1) − 1, divided by the stride s and "
                f"rounded {rounded}, then + 1.")
    if isinstance(layer, Upsample):
        f = layer.scale_factor[0]
        return ([(n, f"Upsample({f}) repeats every pixel {f} times along rows and along columns, so the map grows")],
                "Next: upsampling by f makes f neurons of each input pixel, along each axis.")
    return [], ("Next, follow the block's body layer by layer: the block's output has the size of its body's "
                "(and of its shortcut's, which must agree).")


def _count(answer, whole: str, at_least: str) -> Optional[int]:
    """``answer`` as a whole number >= 1; None, after saying which of the two it is not (``whole`` or
    ``at_least``, each a sentence without its end), when it is not one."""
    given = as_whole(answer)
    if given is None:
        say(False, f"{whole}; you gave {describe(answer)}.")
        return None
    if given < 1:
        say(False, f"{at_least}; you gave {given}.")
        return None
    return given


def _judge_size(layer, input_size, answer) -> bool:
    """Read ``answer`` as the output height of ``layer`` (any kind) on a square input; name the mistakes
    that give it."""
    layer = one_layer(layer)
    n = whole_number(input_size, "input_size", 1, 32)
    right = asked(layer.output_size, (n, n))[0]
    given = _count(answer, "An output size is a whole number of neurons", "An output size counts neurons, at least 1")
    if given is None:
        return False
    bound, why = _most(layer, n)
    if given > bound:
        return say(False, f"{given} is {why}.")
    mistakes, next_step = _size_mistakes(layer, n, right)
    matches = matching(given, mistakes, right)
    if matches:
        return named(f"{given} is not it", matches)
    return verdict(given == right, str(given), next_step)


@refusing
def check_output_size(layer, input_size, answer) -> bool:
    """Look for the common mistakes in ``answer``, the output height of ``layer`` on a square input.

    Any layer kind: a convolution or a pool, a transposed convolution, an
    upsampling, a residual block... Returns False (with the misconception
    named) when ``answer`` is malformed or matches a common mistake; when
    several mistakes give the same number, it names each of them. Otherwise
    what :func:`feedback_policy` says: under ``confirm`` True only for the right size.

    Examples
    --------
    >>> from rfmaps import Conv2d
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
    takes = layer.channels_before()  # a layer that needs a number of channels says what it makes of them
    return None if takes is None else layer.channels_after(takes)


@refusing
def check_feature_maps(layer, answer, input_size=None) -> bool:
    """Look for the common mistakes in ``answer``, the number of feature maps ``layer`` produces.

    With ``input_size`` (the square input's side), a value that is also the maps'
    width is named as a size where a count belongs.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> check_feature_maps(Conv2d(3, 8, 5), 3)
    ✘ 3 is not it: that is the number of channels coming in, and the maps are what goes out.
    False
    >>> check_feature_maps(Conv2d(3, 8, 3), 24, input_size=26)
    ✘ 24 is not it. Two common mistakes give it, so it may be either: it is each map's width, a size, not a count: the number of maps is the number of kernels; or it is the number of kernels times the number of input channels, one map per kernel and input channel, but a kernel spans all input channels at once and gives one map, not one per channel.
    False
    """
    layer = one_layer(layer)
    right = _maps(layer)
    if right is None:
        raise Refusal(f"layer must be a layer that sets its number of maps, like Conv2d(3, 8, 5); {layer!r} keeps "
                       "the channels it is given, so its number of maps is that of its input.")
    width = None
    if input_size is not None:
        n = whole_number(input_size, "input_size", 1, 32)
        width = asked(layer.output_size, (n, n))[1]
    given = _count(answer, "A number of feature maps is a whole number", "A layer gives at least one feature map")
    if given is None:
        return False
    mistakes = [(width, "it is each map's width, a size, not a count: the number of maps is the number of kernels")]
    takes = layer.channels_before()
    if takes is not None and layer.has_weights:  # kernels that span the channels coming in
        mistakes += [
            (takes, "that is the number of channels coming in, and the maps are what goes out"),
            (right * takes, "it is the number of kernels times the number of input channels, one map per kernel "
                            "and input channel, but a kernel spans all input channels at once and gives one map, "
                            "not one per channel"),
        ]
    if hasattr(layer, "kernel_size"):
        k = layer.kernel_size
        mistakes += [(k[0], "that is the kernel's size, and the number of maps does not depend on it"),
                     (k[0] * k[1], "that counts the kernel's pixels, and the number of maps does not depend on them")]
    matches = matching(given, mistakes, right)
    if matches:
        return named(f"{given} is not it", matches)
    return verdict(given == right, str(given),
                    "Next: each kernel gives one map. How many kernels does the layer have?")


@refusing
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
