"""ps1 Question 3: one feature map written by hand, ``one_feature_map(image, kernel)``.

The visible check tries the student's function on images that are square and
not, with kernels of odd and even size, against sums of products computed by
brute force (no package formula); it names a misconception only when the
student's maps equal what that misconception gives on every image tried (the
kernel flipped, the kernel transposed, the map transposed, means instead of
sums). The hidden test compares with PyTorch's ``conv2d`` (brute force without
torch) on other images. Both run the function watched
(:func:`~rfmaps.check.byhand.call_watched`): no rfmaps, no torch inside it.

>>> import numpy as np
>>> def square_only(image, kernel):
...     k, n = kernel.shape[0], image.shape[0]
...     return np.array([[np.sum(image[r:r + k, c:c + k] * kernel) for c in range(n - k + 1)]
...                      for r in range(n - k + 1)])
>>> check_feature_map_function(square_only)
✘ Not this map: for a 9 × 11 image and a 5 × 5 kernel your map is 5 × 5, but a map holds one value per position where the kernel fits entirely, and rows and columns may differ.
False
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple

from .byhand import PackageReached, call_watched, forget_cache, uses_the_package, written_by_hand
from .feedback import feedback_policy, named, say

NAME = "one_feature_map"
#: (image height, width, kernel size) of the visible check: square and not, kernels of odd and even size.
VISIBLE = ((6, 6, 3), (9, 11, 5), (12, 7, 4), (8, 10, 2), (7, 7, 1))
#: The hidden tests' images, other sizes again.
HIDDEN = ((7, 12, 4), (9, 11, 5), (13, 8, 3), (10, 10, 6), (5, 16, 2))


def _cases(sizes, seed: int) -> list:
    import numpy as np

    rng = np.random.default_rng(seed)
    return [(rng.random((h, w)), rng.normal(size=(k, k))) for h, w, k in sizes]


def _slide(image, kernel):
    """The map by brute force: for every position where the kernel fits, the sum of products."""
    import numpy as np

    kh, kw = kernel.shape
    rows, cols = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            out[r, c] = sum(image[r + i, c + j] * kernel[i, j] for i in range(kh) for j in range(kw))
    return out


def _torch_map(image, kernel):
    import torch

    with torch.no_grad():
        x = torch.as_tensor(image, dtype=torch.float64)[None, None]
        w = torch.as_tensor(kernel, dtype=torch.float64)[None, None]
        return torch.nn.functional.conv2d(x, w)[0, 0].numpy()


def _as_map(value):
    """The returned value as a 2-D float array, or None."""
    import numpy as np

    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim == 2 else None


def _run(function, image, kernel) -> Tuple[Any, Optional[str]]:
    """``(map, None)`` or ``(None, the sentence)``; the student's function runs watched, on copies."""
    size = f"{image.shape[0]} × {image.shape[1]} image and a {kernel.shape[0]} × {kernel.shape[1]} kernel"
    try:
        value = call_watched(function, (image.copy(), kernel.copy()))
    except PackageReached as reached:
        return None, uses_the_package(NAME, str(reached))
    except Exception as error:  # the student's code: any exception becomes a sentence, never a traceback
        return None, f"Your {NAME} raised {type(error).__name__}: {str(error).strip()} for a {size}."
    found = _as_map(value)
    if found is None:
        return None, (f"Your {NAME} returned {repr(value)[:60]} for a {size}; it should return a 2-D array "
                      "(or a list of rows) of numbers.")
    return found, None


# The references sum in float64 and a student's loop in another order differs by rounding only (far below
# 1e-10 on these sizes, a few dozen products of values below 4); 1e-5 also lets a float32 student through.
def _same(a, b) -> bool:
    import numpy as np

    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-5, atol=1e-5))


def _mistakes() -> List[tuple]:
    """(what the mistake gives from the right map and the kernel, the idea); each is a function of the case."""
    return [
        (lambda image, kernel: _slide(image, kernel[::-1, ::-1]),
         "you flipped the kernel: that is convolution in the mathematicians' sense; a network's layer slides "
         "the kernel as it is"),
        (lambda image, kernel: _slide(image, kernel.T),
         "you used the kernel transposed (kernel[c, r] where kernel[r, c] belongs)"),
        (lambda image, kernel: _slide(image, kernel).T,
         "your map is the right map transposed: row r of the map goes with rows r to r + k − 1 of the image"),
        (lambda image, kernel: _slide(image, kernel) / kernel.size,
         "you averaged: a feature map holds sums of products, not their mean"),
    ]


def _wrong_shape(case, found) -> bool:
    image, kernel = case
    return say(False, f"Not this map: for a {image.shape[0]} × {image.shape[1]} image and a {kernel.shape[0]} × "
                      f"{kernel.shape[1]} kernel your map is {found.shape[0]} × {found.shape[1]}, but a map holds "
                      "one value per position where the kernel fits entirely" +
                      (", and rows and columns may differ." if image.shape[0] != image.shape[1] else "."))


def check_feature_map_function(function) -> bool:
    """Try a student's ``one_feature_map(image, kernel)`` on square and non-square images, with kernels of
    odd and even size, against brute-force sums of products.

    Under ``confirm`` a ✔ only when every map tried is right; a misconception is
    named only when the maps equal what it gives on every image tried.

    Examples
    --------
    >>> def right(image, kernel):
    ...     k = kernel.shape[0]
    ...     return [[float((image[r:r + k, c:c + k] * kernel).sum()) for c in range(image.shape[1] - k + 1)]
    ...             for r in range(image.shape[0] - k + 1)]
    >>> check_feature_map_function(right)
    ✔ Your one_feature_map is right on all 5 images tried (square and not, kernels of odd and even size).
    True
    """
    problem = written_by_hand(function, NAME)
    if problem:
        return say(False, problem)
    forget_cache(function)
    cases = _cases(VISIBLE, 0)
    truths = [_slide(image, kernel) for image, kernel in cases]
    maps: List[Any] = []
    for (image, kernel), truth in zip(cases, truths):
        found, problem = _run(function, image, kernel)
        if problem:
            # A map of the wrong shape before the failure says more than the failure it leads to.
            earlier = [i for i, found in enumerate(maps) if found.shape != truths[i].shape]
            if earlier and "uses the package" not in problem:
                return _wrong_shape(cases[earlier[0]], maps[earlier[0]])
            return say(False, problem)
        maps.append(found)
    wrong = [i for i, (found, truth) in enumerate(zip(maps, truths)) if not _same(found, truth)]
    if not wrong:
        if feedback_policy() == "mistakes-only":
            print(f"• No common mistake recognised in your {NAME}; it is graded when you submit.")
            return True
        return say(True, f"Your {NAME} is right on all {len(cases)} images tried (square and not, kernels of odd "
                         "and even size).")
    ideas = [idea for make, idea in _mistakes()
             if all(_same(found, make(image, kernel)) for found, (image, kernel) in zip(maps, cases))]
    if ideas:
        return named("Not this map", ideas)
    first = wrong[0]
    (image, kernel), found, truth = cases[first], maps[first], truths[first]
    if found.shape != truth.shape:
        return _wrong_shape(cases[first], found)
    if feedback_policy() == "mistakes-only":
        print(f"• No common mistake recognised in your {NAME}; it is graded when you submit.")
        return True
    import numpy as np

    r, c = np.argwhere(~np.isclose(found, truth, rtol=1e-5, atol=1e-5))[0]
    return say(False, f"Not yet: for a {image.shape[0]} × {image.shape[1]} image and a {kernel.shape[0]} × "
                      f"{kernel.shape[1]} kernel your map has the right shape, but its value at row {r}, column "
                      f"{c} is not the sum of products there (none of the common mistakes). Next, compute that "
                      "one value by hand: which pixels does the kernel cover when its top-left corner is there?")


def grade_feature_map_function(function, *, seed: int = 1) -> None:
    """For hidden tests: ``one_feature_map`` written without the package and equal to PyTorch's ``conv2d``
    (brute force without torch) on five other images; else AssertionError with the sentence students read.

    Examples
    --------
    >>> def right(image, kernel):
    ...     k = kernel.shape[0]
    ...     return [[(image[r:r + k, c:c + k] * kernel).sum() for c in range(image.shape[1] - k + 1)]
    ...             for r in range(image.shape[0] - k + 1)]
    >>> grade_feature_map_function(right)
    """
    problem = written_by_hand(function, NAME)
    if problem:
        raise AssertionError(problem)
    forget_cache(function)
    import importlib.util

    reference = _slide if importlib.util.find_spec("torch") is None else _torch_map
    for image, kernel in _cases(HIDDEN, 100 + seed):
        found, problem = _run(function, image, kernel)
        if problem:
            raise AssertionError(problem)
        right = reference(image, kernel)
        if not _same(found, right):
            ideas = [idea for make, idea in _mistakes() if _same(found, make(image, kernel))]
            why = f" ({ideas[0]})" if ideas else ""
            raise AssertionError(f"Not right on a {image.shape[0]} × {image.shape[1]} image with a {kernel.shape[0]} × "
                                 f"{kernel.shape[1]} kernel{why}: rows and columns may differ, and so may the kernel "
                                 "size.")
