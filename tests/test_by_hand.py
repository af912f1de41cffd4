"""The no-package rule of the formula questions cannot be talked round, and refuses no hand-written formula;
ps1 Q3's map check ticks only a map right on every shape and names a mistake only when the map is that mistake.

Each evasion below is one the simulated-class review (issue #24) found earning every point; each must now lose
them, in the visible check and in the hidden grading. The references of the map check are compared with
PyTorch's conv2d here, independently of the check's own brute force."""

import functools
import importlib
import sys
import threading
import types

import numpy as np
import pytest

import rfmaps
from rfmaps import Conv2d, check
from rfmaps.check import byhand

torch = pytest.importorskip("torch")


def said(capsys) -> str:
    return capsys.readouterr().out


def right_size(n, kernel_size, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def conv(n, k, s=1, p=0, d=1):
    return Conv2d(1, 1, k, stride=s, padding=p, dilation=d).output_size(n)[0]


# --- evasions: each reaches rfmaps or torch in a way the code alone does not show -------------------

layer = Conv2d(3, 8, 3)
TOOLS = {"conv": Conv2d}
BOX = [Conv2d]
LAYERS = [layer]
F = {"f": lambda n, k, s, p, d: conv(n, k, s, p, d)}
make = functools.partial(Conv2d, 1, 1)
NN = {"m": torch.nn.Conv1d}


class Helper:
    def size(self, n, k, s, p, d):
        return Conv2d(1, 1, k, stride=s, padding=p, dilation=d).output_size(n)[0]


H = Helper()


def e_dict(n, kernel_size, stride=1, padding=0, dilation=1):
    return TOOLS["conv"](1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation).output_size(n)[0]


def e_list(n, kernel_size, stride=1, padding=0, dilation=1):
    return BOX[0](1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation).output_size(n)[0]


def e_globals(n, kernel_size, stride=1, padding=0, dilation=1):
    return globals()["Con" + "v2d"](1, 1, kernel_size, stride=stride, padding=padding,
                                    dilation=dilation).output_size(n)[0]


def e_default_tuple(n, kernel_size, stride=1, padding=0, dilation=1, _t=(Conv2d,)):
    return _t[0](1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation).output_size(n)[0]


def e_partial(n, kernel_size, stride=1, padding=0, dilation=1):
    return make(kernel_size, stride=stride, padding=padding, dilation=dilation).output_size(n)[0]


def e_method(n, kernel_size, stride=1, padding=0, dilation=1):
    return H.size(n, kernel_size, stride, padding, dilation)


def e_lambda_dict(n, kernel_size, stride=1, padding=0, dilation=1):
    return F["f"](n, kernel_size, stride, padding, dilation)


def e_type_of(n, kernel_size, stride=1, padding=0, dilation=1):
    return type(LAYERS[0])(1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation).output_size(n)[0]


def e_torch_dict(n, kernel_size, stride=1, padding=0, dilation=1):
    module = NN["m"](1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation)
    return int(module(sys.modules["to" + "rch"].zeros(1, 1, n)).shape[-1])


def e_thread(n, kernel_size, stride=1, padding=0, dilation=1):
    out = []
    worker = threading.Thread(target=lambda: out.append(TOOLS["conv"](1, 1, kernel_size, stride=stride,
                                                                      padding=padding, dilation=dilation)))
    worker.start()
    worker.join()
    return out[0].output_size(n)[0] if out else right_size(n, kernel_size, stride, padding, dilation)


COMPILED = {"z": torch.zeros, "o": torch.ones, "f": torch.conv2d}


def e_torch_compiled(n, kernel_size, stride=1, padding=0, dilation=1):
    # Compiled torch functions only: no Python code of torch runs (found by the second review).
    x, w = COMPILED["z"](1, 1, n, n), COMPILED["o"](1, 1, kernel_size, kernel_size)
    return COMPILED["f"](x, w, None, stride, padding, dilation).shape[-1]


def e_torch_map(n, kernel_size, stride=1, padding=0, dilation=1):
    # Compiled torch functions called by C code (map), not by the student's frame (third review).
    x = next(map(COMPILED["z"], [1], [1], [n], [n]))
    w = next(map(COMPILED["o"], [1], [1], [kernel_size], [kernel_size]))
    return next(map(COMPILED["f"], [x], [w], [None], [stride], [padding], [dilation])).shape[-1]


SLOTS = {"ar": torch.arange(10000)}


def e_tensor_operators(n, kernel_size, stride=1, padding=0, dilation=1):
    # A tensor made beforehand, used only through its operators (third review).
    return SLOTS["ar"][: n + 2 * padding - dilation * (kernel_size - 1)][::stride].shape[0]


class Lazy:
    """A returned value that computes itself with the package only when the check reads it."""

    def __init__(self, case):
        self.case = case

    def tolist(self):
        return TOOLS["conv"](1, 1, self.case[1], stride=self.case[2], padding=self.case[3],
                             dilation=self.case[4]).output_size(self.case[0])[0]


def e_lazy(n, kernel_size, stride=1, padding=0, dilation=1):
    return Lazy((n, kernel_size, stride, padding, dilation))


@functools.lru_cache(maxsize=None)
def e_cached(n, kernel_size, stride=1, padding=0, dilation=1):
    return TOOLS["conv"](1, 1, kernel_size, stride=stride, padding=padding, dilation=dilation).output_size(n)[0]


EVASIONS = [e_dict, e_list, e_globals, e_default_tuple, e_partial, e_method, e_lambda_dict, e_type_of,
            e_torch_dict, e_torch_compiled, e_torch_map, e_tensor_operators, e_thread, e_lazy, e_cached]


@pytest.mark.parametrize("function", EVASIONS, ids=lambda f: f.__name__)
def test_every_evasion_loses_the_points_in_the_visible_check_and_the_hidden_grading(capsys, function):
    # Prewarm a cache as a student could: the grading empties it and computes every value watched.
    if function is e_cached:
        for n in range(3, 40):
            function(n, 3)
    assert not check.check_conv_size_function(function)
    text = said(capsys)
    assert "uses the package" in text and "✔" not in text, text
    with pytest.raises(AssertionError, match="uses the package"):
        check.grade_conv_size_function(function, cases=20)


def test_the_profiler_in_place_before_is_restored_also_when_the_function_raises():
    calls = []

    def mine(frame, event, argument):
        calls.append(event)

    def raises(*arguments):
        raise ZeroDivisionError("no")

    sys.setprofile(mine)
    try:
        with pytest.raises(ZeroDivisionError):
            byhand.call_watched(raises, (1,))
        assert sys.getprofile() is mine
        with pytest.raises(byhand.PackageReached):
            byhand.call_watched(e_dict, (8, 3))
        assert sys.getprofile() is mine
    finally:
        sys.setprofile(None)
    assert calls  # it was really in place


def test_a_function_that_switches_the_watch_off_is_refused():
    def switch_off(n, kernel_size, stride=1, padding=0, dilation=1):
        sys.setprofile(None)
        return right_size(n, kernel_size, stride, padding, dilation)

    with pytest.raises(AssertionError, match="switched off the profiler"):
        check.grade_conv_size_function(switch_off, cases=5)


# --- hand-written formulas the rule must not refuse ------------------------------------------------------

def fp_attr_layer(n, kernel_size, stride=1, padding=0, dilation=1):
    ns = types.SimpleNamespace(layer=(n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1)
    return ns.layer  # an attribute named like the global `layer`, which holds a package object


def fp_attr_check(n, kernel_size, stride=1, padding=0, dilation=1):
    class Record:
        check = (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    return Record.check


@functools.lru_cache(maxsize=None)
def fp_cached(n, kernel_size, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


fp_vectorized = np.vectorize(lambda n, kernel_size, stride=1, padding=0, dilation=1:
                             (n + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1)


def fp_torch_in_text(n, kernel_size, stride=1, padding=0, dilation=1):
    assert stride >= 1, f"like torch, stride must be at least 1, got {stride}"
    return int(np.floor((n + 2 * padding - dilation * (kernel_size - 1) - 1) / stride)) + 1


@pytest.mark.parametrize("function", [fp_attr_layer, fp_attr_check, fp_cached, fp_vectorized, fp_torch_in_text],
                         ids=["attribute named like a global", "class attribute", "lru_cache", "np.vectorize",
                              "torch in a string"])
def test_hand_written_formulas_pass_however_they_are_dressed(capsys, monkeypatch, function):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "confirm")
    assert byhand.packages_used(function) == []
    assert check.check_conv_size_function(function)
    assert said(capsys).startswith("✔ ")
    check.grade_conv_size_function(function, cases=50)


def test_the_static_rule_still_names_what_it_sees():
    assert byhand.packages_used(lambda n: rfmaps.Conv2d(1, 1, 3).output_size(n)[0]) == ["rfmaps"]
    assert byhand.packages_used(lambda n: importlib.import_module("".join(["rf", "maps"]))) == []  # the watch catches it
    with pytest.raises(AssertionError, match="uses the package"):
        check.grade_conv_size_function(lambda n, k, s, p, d: importlib.import_module("".join(["rf", "maps"]))
                                       .Conv2d(1, 1, k, stride=s, padding=p, dilation=d).output_size(n)[0], cases=5)
    with pytest.raises(AssertionError, match="a function you write with def"):
        check.grade_conv_size_function(functools.partial(right_size), cases=5)


# --- ps1 Q3: one feature map ------------------------------------------------------------------------

def torch_map(image, kernel):
    with torch.no_grad():
        return torch.nn.functional.conv2d(torch.as_tensor(image)[None, None],
                                          torch.as_tensor(kernel)[None, None])[0, 0].numpy()


def slide(image, kernel):
    k = kernel.shape[0]
    return np.array([[np.sum(image[r:r + k, c:c + k] * kernel) for c in range(image.shape[1] - k + 1)]
                     for r in range(image.shape[0] - k + 1)])


def square_only(image, kernel):
    k, n = kernel.shape[0], image.shape[0]
    return np.array([[np.sum(image[r:r + k, c:c + k] * kernel) for c in range(n - k + 1)] for r in range(n - k + 1)])


MAP_MISTAKES = {
    "flipped": (lambda image, kernel: slide(image, kernel[::-1, ::-1]), "flipped the kernel"),
    "kernel.T": (lambda image, kernel: slide(image, kernel.T), "kernel transposed"),
    "map.T": (lambda image, kernel: slide(image, kernel).T, "the right map transposed"),
    "mean": (lambda image, kernel: slide(image, kernel) / kernel.size, "you averaged"),
}


def test_the_map_references_agree_with_torch():
    from rfmaps.check import feature_map

    for image, kernel in feature_map._cases(feature_map.VISIBLE + feature_map.HIDDEN, 3):
        assert np.allclose(feature_map._slide(image, kernel), torch_map(image, kernel), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("policy", ["confirm", "mistakes-only"])
def test_a_square_only_map_never_gets_a_tick_and_loses_the_hidden_points(capsys, monkeypatch, policy):
    monkeypatch.setenv("RFMAPS_FEEDBACK", policy)
    assert not check.check_feature_map_function(square_only)
    text = said(capsys)
    assert "✔" not in text and "rows and columns may differ" in text and "flip" not in text, text
    for seed in (1, 2):
        with pytest.raises(AssertionError):
            check.grade_feature_map_function(square_only, seed=seed)


@pytest.mark.parametrize("mistake", sorted(MAP_MISTAKES))
@pytest.mark.parametrize("policy", ["confirm", "mistakes-only"])
def test_each_map_mistake_is_named_only_when_the_map_is_that_mistake(capsys, monkeypatch, mistake, policy):
    monkeypatch.setenv("RFMAPS_FEEDBACK", policy)
    make, words = MAP_MISTAKES[mistake]
    assert not check.check_feature_map_function(make)
    text = said(capsys)
    assert words in text and "✔" not in text, text
    others = [w for name, (_, w) in MAP_MISTAKES.items() if name != mistake]
    assert not any(w in text for w in others), text
    with pytest.raises(AssertionError):
        check.grade_feature_map_function(make)


def test_the_right_map_is_ticked_only_under_confirm_and_graded(capsys, monkeypatch):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "confirm")
    assert check.check_feature_map_function(slide) and said(capsys).startswith("✔ ")
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    assert check.check_feature_map_function(slide)
    assert "✔" not in said(capsys)
    check.grade_feature_map_function(slide, seed=1)
    check.grade_feature_map_function(slide, seed=2)


def test_a_map_made_with_the_package_through_a_dict_loses_every_point(capsys):
    tools = {"maps": rfmaps.feature_maps, "conv": Conv2d}

    def via_dict(image, kernel):
        k = kernel.shape[0]
        return tools["maps"]([tools["conv"](1, 1, k, weight=kernel[None, None])], image)[0][0]

    assert not check.check_feature_map_function(via_dict)
    assert "uses the package" in said(capsys)
    with pytest.raises(AssertionError, match="uses the package"):
        check.grade_feature_map_function(via_dict)
