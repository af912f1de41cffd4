"""Student feedback: names the mistake, confirms only the right value (never one under mistakes-only), takes
answers in any natural form."""

import math
import random
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

from rfmaps import (AvgPool2d, BatchNorm2d, Conv2d, ConvTranspose2d, GELU, MaxPool2d, ReLU, Residual, Upsample,
                    ZeroPad2d, architectures, check, feature_maps, input_region, path_counts, projective_field,
                    receptive_fields)
from rfmaps.check import design as design_rules, fields as field_checks


def said(capsys) -> str:
    return capsys.readouterr().out


# --- output size ------------------------------------------------------------------------------

@pytest.mark.parametrize("layer, n, answer, hint", [
    (Conv2d(3, 8, 5, padding=1), 32, 29, "forgot the + 1"),
    (Conv2d(3, 8, 5, padding=2), 32, 28, "left out the padding"),
    (Conv2d(3, 8, 3, stride=2), 33, 31, "left out the stride"),
    (Conv2d(3, 8, 3, stride=2), 32, 16, "rounded up"),
    (Conv2d(3, 8, 3, dilation=2), 32, 30, "dilated span"),
    (Conv2d(3, 8, 5, padding=2), 32, 30, "padded one side only"),
])
def test_output_size_mistakes_are_named_without_the_answer(capsys, layer, n, answer, hint):
    assert not check.check_output_size(layer, n, answer)
    text = said(capsys)
    assert hint in text
    assert str(layer.output_size((n, n))[0]) not in text.replace(str(answer), "")
    # The same mistake in numpy's or a whole float's clothes gets the same hint.
    for form in (np.int64(answer), np.float32(answer), float(answer), np.array(answer)):
        assert not check.check_output_size(layer, n, form)
        assert hint in said(capsys)


@pytest.mark.parametrize("layer, n", [(Conv2d(3, 8, 5, padding=1), 32), (Conv2d(3, 8, 3, stride=2), 33),
                                      (Conv2d(3, 8, 7, stride=3, padding=3), 64)])
def test_trying_every_output_size_does_not_single_out_the_right_one(capsys, monkeypatch, layer, n):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    right = layer.output_size((n, n))[0]
    padded = n + sum(layer.pads[0])
    outcomes = {}
    for value in range(1, 100):
        ok = check.check_output_size(layer, n, value)
        outcomes[value] = (ok, said(capsys).replace(str(value), "N"))
    assert outcomes[right][0]
    # Above the padded input's width every value gets one sentence, from numbers the student has.
    assert len({outcomes[v] for v in range(padded + 1, 100)}) == 1 and "padded input" in outcomes[99][1]
    alike = [v for v in range(1, padded + 1) if outcomes[v] == outcomes[right]]
    assert len(alike) >= padded - 10  # the right answer reads like nearly every other possible number
    assert max(v for v in range(1, padded + 1) if outcomes[v] == outcomes[right]) > right  # not the largest


@pytest.mark.parametrize("answer, words", [("13", "remove the quotes"), (12.5, "not a whole number"),
                                           (None, "did you assign"), ([13], "a list"), (True, "True"),
                                           (0, "at least 1")])
def test_output_size_of_the_wrong_type_gets_a_sentence(capsys, answer, words):
    assert not check.check_output_size(Conv2d(1, 1, 3), 15, answer)
    assert words in said(capsys)


def test_feature_maps_mistakes_and_forms(capsys):
    layer = Conv2d(3, 16, 5)
    assert not check.check_feature_maps(layer, 3) and "coming in" in said(capsys)
    assert not check.check_feature_maps(layer, np.int64(48)) and "one map, not one per channel" in said(capsys)
    assert not check.check_feature_maps(layer, 25.0) and "kernel's pixels" in said(capsys)
    assert check.check_feature_maps(layer, np.float64(16.0)) and "✔ 16 is right" in said(capsys)
    assert not check.check_feature_maps(layer, "16") and "remove the quotes" in said(capsys)
    assert not check.check_feature_maps(layer, 0) and "at least one feature map; you gave 0" in said(capsys)
    assert not check.check_feature_maps(layer, 2.5) and "2.5, which is not a whole number" in said(capsys)


# --- receptive-field sizes --------------------------------------------------------------------

STACK = [Conv2d(1, 4, 3), ReLU(), MaxPool2d(2), Conv2d(4, 4, 3, stride=2), Conv2d(4, 4, 3)]  # 3 3 4 8 16


def test_rf_sizes_in_every_natural_form_pass(capsys):
    assert [r.rf_size[0] for r in receptive_fields(STACK, 32)] == [3, 3, 4, 8, 16]
    for form in ([3, 3, 4, 8, 16], (3, 3, 4, 8, 16), np.array([3, 3, 4, 8, 16]), [3.0, 3, 4, 8, np.int32(16)]):
        assert check.check_rf_sizes(STACK, 32, form)
        assert "✔ Your 5 values are right" in said(capsys)


@pytest.mark.parametrize("answers, words", [
    ([3, 3, 4, 6, 8], "Layer 3 (Conv2d(4, 4, kernel_size=3, stride=2)): you added k − 1 without multiplying"),
    ([3, 3, 4, 12, 24], "Layer 3 (Conv2d(4, 4, kernel_size=3, stride=2)). Two common mistakes give 12"),
    ([3, 3, 4, 12, 24], "you multiplied by this layer's own stride"),
    ([3, 3, 4, 12, 24], "you multiplied the sizes"),  # 4 · 3 is 12 too: both are named
    ([3, 4, 5, 9, 17], "Layer 1 (ReLU()): this layer looks at one neuron"),
    ([3, 3, 3, 7, 15], "Layer 2 (MaxPool2d(kernel_size=2, stride=2)): a pooling window combines"),
    ([3, 3, 4, 2, 6], "never shrinks from one layer to the next, but yours goes from 4 to 2"),
    ([3, 3, 4, 8, 24], "Layer 4 (Conv2d(4, 4, kernel_size=3)): you multiplied the sizes"),
    ([3, 3, 4], "the stack has 5 layers, you gave 3"),
    ("3, 3, 4, 8, 16", "as a list of whole numbers"),
    ([3, 3, 4, 8, "16"], "Entry 4 of rf_sizes"),
])
def test_rf_size_mistakes_are_named(capsys, answers, words):
    assert not check.check_rf_sizes(STACK, 32, answers)
    assert words in said(capsys)


def test_rf_feedback_never_states_a_right_value(capsys, monkeypatch):
    """Under mistakes-only no message names a number the student did not write, and the right one reads
    like the others: iterating over the last value learns nothing."""
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    right = [3, 3, 4, 8, 16]
    outcomes = {}
    for last in range(8, 60):
        check.check_rf_sizes(STACK, 32, right[:-1] + [last])
        text = said(capsys)
        assert "16" not in text.replace("16 values", "") or last == 16
        outcomes[last] = text
    assert sum(text == outcomes[16] for text in outcomes.values()) >= 45


# --- regions ----------------------------------------------------------------------------------

def test_region_in_every_natural_form(capsys):
    layers = [Conv2d(1, 1, 3)]
    for form in (((2, 4), (2, 4)), [[2, 4], [2, 4]], np.array([[2, 4], [2, 4]]), [(2.0, 4.0), (np.int64(2), 4)]):
        assert check.check_region(layers, (2, 2), 16, form)
        assert "✔ Your region is right" in said(capsys)


@pytest.mark.parametrize("layers, position, answer, words", [
    ([Conv2d(1, 1, 3)], (2, 2), ((2, 5), (2, 4)), "the rows' pair ends one pixel too late (the columns' is right)"),
    ([Conv2d(1, 1, 3)], (2, 2), ((2, 4), (2, 5)), "the columns' pair ends one pixel too late (the rows' is right)"),
    ([Conv2d(1, 1, 3), MaxPool2d(2), Conv2d(1, 1, 3)], (1, 3), ((6, 13), (2, 9)), "swapped rows and columns"),
    ([Conv2d(1, 1, 3), MaxPool2d(2), Conv2d(1, 1, 3)], (2, 1), ((16, 23), (8, 15)), "stepped by the rf size"),
    ([Conv2d(1, 1, 3), MaxPool2d(2), Conv2d(1, 1, 3, stride=2)], (2, 1), ((4, 11), (2, 9)), "the jump of the layer before"),
    ([Conv2d(1, 1, 3), MaxPool2d(2), Conv2d(1, 1, 3)], (3, 2), ((3, 10), (1, 8)), "centre at i × jump"),
    ([Conv2d(1, 1, 3)], (2, 2), ((4, 2), (2, 4)), "the first index is the smaller one"),
    ([Conv2d(1, 1, 3)], (2, 2), ((2, 4), (2, 16)), "from 0 to 15"),
    ([Conv2d(1, 1, 3)], (2, 2), "(2, 4), (2, 4)", "four whole pixel indices"),
    ([Conv2d(1, 1, 3)], (2, 2), ((2, 4),), "four whole pixel indices"),
    ([Conv2d(1, 1, 3)], (2, 2), None, "sees only padding"),
])
def test_region_mistakes_are_named(capsys, layers, position, answer, words):
    assert not check.check_region(layers, position, 32 if len(layers) > 1 else 16, answer)
    assert words in said(capsys)


def test_region_of_a_neuron_that_sees_only_padding(capsys):
    only_padding = [Conv2d(1, 1, 1, padding=2)]
    assert check.check_region(only_padding, (0, 0), 4, None)
    assert "✔ None is right" in said(capsys)


# --- parameters and the design question -------------------------------------------------------

def test_count_parameters_walks_every_path_of_residual_blocks():
    block = Residual([Conv2d(8, 16, 1), ReLU(), Conv2d(16, 16, 3, padding=1)], [Conv2d(8, 16, 1)])
    by_hand = (8 * 16 + 16) + (16 * 16 * 9 + 16) + (8 * 16 + 16)
    assert check.count_parameters([Conv2d(1, 8, 3), Conv2d(8, 8, 1), block]) == 80 + 72 + by_hand
    assert check.count_parameters([Residual([block])]) == by_hand  # nested blocks too


def test_count_parameters_of_resnet50_matches_the_published_size():
    # torchvision's resnet50 has 25,557,032 parameters: 2,049,000 in the classifier and 53,120 in
    # batch norms, so 23,454,912 convolution weights. rfmaps counts a bias per kernel as well.
    biases = 64 + 3 * (64 + 64 + 256) + 256 + 4 * (128 + 128 + 512) + 512 + 6 * (256 + 256 + 1024) + 1024 \
        + 3 * (512 + 512 + 2048) + 2048
    assert check.count_parameters(architectures.resnet50()) == 23_454_912 + biases


def test_count_parameters_refuses_what_is_not_a_layer_list():
    with pytest.raises(ValueError, match="layers"):
        check.count_parameters(["Conv2d(1, 8, 3)"])


GOOD = [Conv2d(1, 8, 3), ReLU(), Conv2d(8, 8, 3, dilation=2), ReLU(), Conv2d(8, 8, 3, dilation=4), ReLU(),
        Conv2d(8, 8, 3, dilation=8)]


@pytest.mark.parametrize("design, words", [
    (GOOD[:3], "it has 2 convolutions, the rules ask for at least 3"),
    ([Conv2d(1, 4, 3)] + GOOD[1:], "has 4 kernels; every convolution needs at least 8"),
    ([Conv2d(3, 8, 3)] + GOOD[1:], "takes 3 channels, but the image has 1"),
    (GOOD[:2] + [Conv2d(4, 8, 3)] + GOOD[3:], "takes 4 channels, but the layer before gives 8"),
    (GOOD + [MaxPool2d(3, stride=1)], "overlaps its neighbours"),
    ([Conv2d(1, 8, 3, stride=2), Conv2d(8, 8, 3, stride=2), Conv2d(8, 8, 3, stride=2), Conv2d(8, 8, 3)],
     "its last map is 5 wide, the rules ask for at least 8"),
    ([Conv2d(1, 8, 3, dilation=12), Conv2d(8, 8, 3), Conv2d(8, 8, 3)], "has holes"),
    ([Conv2d(1, 16, 3), Conv2d(16, 16, 3, dilation=2), Conv2d(16, 16, 3, dilation=4), Conv2d(16, 16, 3, dilation=8)],
     "over the budget of 2000"),
    (GOOD[:5], "its receptive field is 15, short of 21"),
    ([Conv2d(1, 8, 3)] * 2 + [Conv2d(8, 8, 70)], "does not run on a 64 × 64 image"),
    ("Conv2d(1, 8, 3)", "design must be a list of layers"),
    ([Conv2d(1, 8, 3), "ReLU"], "design must be a list of layers"),
])
def test_design_rules_are_named(capsys, design, words):
    assert not check.check_design(design, 21, 2000, min_output=8)
    assert words in said(capsys)


def test_design_that_keeps_every_rule(capsys):
    assert check.check_design(GOOD, 21, 2000, min_output=8)
    assert "Every rule holds: rf 31 ≥ 21, no holes, 4 convolutions, last map 34 ≥ 8 wide, 1832 ≤ 2000" in said(capsys)
    pooled = [Conv2d(1, 8, 9), MaxPool2d(2), Conv2d(8, 8, 3), ReLU(), Conv2d(8, 8, 3)]  # rf 9 + 1 + 4 + 4
    assert check.check_design(pooled, 18, 2000, min_output=8)


def torch_all_ones(layers, size):
    """The one-channel, all-ones version of ``layers`` in torch on a positive image: (input, output).

    No weight is negative and ReLU is the identity, so an input pixel has a nonzero gradient exactly when it
    has a path to the neuron.
    """
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = torch.ones((1, 1, size, size), dtype=torch.float64, requires_grad=True)
    y = x
    for layer in layers:
        ones = torch.ones((1, 1) + tuple(getattr(layer, "kernel_size", (1, 1))), dtype=torch.float64)
        if isinstance(layer, Conv2d):
            y = F.conv2d(y, ones, None, layer.stride, layer.padding, layer.dilation)
        elif isinstance(layer, ConvTranspose2d):
            y = F.conv_transpose2d(y, ones, None, layer.stride, layer.padding, layer.output_padding, 1, layer.dilation)
        elif isinstance(layer, Upsample):
            y = F.interpolate(y, scale_factor=layer.scale_factor, mode="nearest")
        elif isinstance(layer, MaxPool2d):
            y = F.avg_pool2d(y, layer.kernel_size, layer.stride, layer.padding)  # same wiring, every tap counts
        else:
            assert isinstance(layer, ReLU)
    return torch, x, y


def fields_of_middle_neurons(reached):
    """(smallest field, most holes) over the neurons whose reached pixels (2-D booleans) are given."""
    smallest, holes = None, 0
    for seen in reached:
        rows, cols = np.flatnonzero(seen.any(axis=1)), np.flatnonzero(seen.any(axis=0))
        box = seen[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        smallest = min(box.shape) if smallest is None else min(smallest, *box.shape)
        holes = max(holes, int((~box).sum()))
    return smallest, holes


def torch_fields(layers, size=64, block=6):
    """(smallest field, most holes) of a block of neurons in the middle of the last map, by autograd."""
    torch, x, y = torch_all_ones(layers, size)
    middle = [n // 2 - block // 2 for n in y.shape[2:]]
    reached = []
    for dr in range(block):
        for dc in range(block):
            (grad,) = torch.autograd.grad(y[0, 0, middle[0] + dr, middle[1] + dc], x, retain_graph=True)
            reached.append(grad[0, 0].numpy() != 0)
    return fields_of_middle_neurons(reached)


layer_kinds = st.one_of(
    st.builds(lambda k, s, d: Conv2d(1, 1, k, stride=s, dilation=d), st.integers(1, 4), st.integers(1, 3),
              st.integers(1, 3)),
    st.builds(lambda k: MaxPool2d(k), st.integers(2, 3)),
    st.builds(lambda k, s: MaxPool2d(k, stride=s), st.integers(1, 3), st.integers(1, 3)),
    st.builds(lambda k, s, p: ConvTranspose2d(1, 1, k, stride=s, padding=min(p, k - 1)), st.integers(1, 4),
              st.integers(1, 3), st.integers(0, 1)),
    st.builds(Upsample, st.integers(2, 3)),
)


@settings(max_examples=120, deadline=None)
@given(st.lists(layer_kinds, min_size=1, max_size=3))
def test_holes_in_a_receptive_field_agree_with_the_path_counts_for_every_kind(layers):
    """Brute force: the input pixels with at least one path to each neuron of a block in the middle of the
    last map, from the arrays layer (convolutions, pools, transposed convolutions, upsampling)."""
    assume(sum(isinstance(layer, (ConvTranspose2d, Upsample)) for layer in layers) <= 1)  # a period of at most 3
    try:
        rows = receptive_fields(layers, 128)
    except ValueError:  # the stack does not fit the input
        assume(False)
    out = rows[-1].output_size
    assume(min(out) >= 12 and max(rows[-1].rf_size) <= 40)
    middle = [n // 2 - 3 for n in out]
    positions = [(middle[0] + dr, middle[1] + dc) for dr in range(6) for dc in range(6)]
    assume(all(input_region(layers, p, 128) is not None for p in positions))
    reached = [path_counts(layers, p, 128) > 0 for p in positions]
    assert design_rules._fields(layers, 128) == fields_of_middle_neurons(reached)


def test_holes_through_a_residual_block_are_the_union_of_its_paths():
    block = Residual([Conv2d(1, 1, 3, padding=1), Conv2d(1, 1, 3, dilation=3, padding=3)])  # span 9, identity
    assert design_rules._fields([block], 32) == (9, 0)  # identity fills the centre hole
    sparse = Residual([Conv2d(1, 1, 3, dilation=4, padding=4)])
    assert design_rules._fields([sparse], 32) == (9, 81 - 9)  # taps 0, 4, 8 along each axis: 9 of 81 pixels


TRANSPOSED_HOLES = [Conv2d(1, 8, 3, dilation=2), ConvTranspose2d(8, 8, 2, stride=2), Conv2d(8, 8, 2)]
UPSAMPLED = [Conv2d(1, 8, 3), Upsample(2), Conv2d(8, 8, 3), ReLU(), Conv2d(8, 8, 3)]


@pytest.mark.parametrize("design", [TRANSPOSED_HOLES, UPSAMPLED, GOOD, [Conv2d(1, 8, 3, dilation=12)] + GOOD[1:3]])
def test_design_fields_and_holes_agree_with_torch_autograd(capsys, design):
    """A transposed convolution divides the jump (its taps land 1/s input pixels apart); an upsampling too."""
    rf, holes = design_rules._fields(design, 64)
    assert (rf, holes) == torch_fields(design, 64)
    check.check_design(design, 3, 10 ** 6)
    text = said(capsys)
    assert ("has holes" in text) == (holes > 0) and ("✔" in text) == (holes == 0)


def test_design_with_a_transposed_convolution_finds_the_holes_its_taps_leave(capsys):
    # Dilation 2 reads every other pixel; a kernel-2, stride-2 transposed convolution hands each output one
    # input, so the last 2-tap convolution reads the same one twice for one phase: pixels 0, 2, 4 only.
    assert not check.check_design(TRANSPOSED_HOLES, 5, 5000)
    assert "has holes" in said(capsys)
    assert check.check_design(UPSAMPLED, 5, 5000)  # an Upsample took a traceback before
    assert "rf 5 ≥ 5, no holes" in said(capsys)



# --- multiple choice --------------------------------------------------------------------------

OPTIONS = ["It doubles.", "It stays the same.", "It halves."]


def test_choice_check_says_only_whether_the_answer_is_complete(capsys):
    letters = check.show_choices("jdoe42", "q", OPTIONS)
    shown = said(capsys)
    assert all(f"({letter}) {option}" in shown for letter, option in letters.items())
    reason = "the width depends on kernel size, stride and padding only, not on kernels"
    messages = set()
    for letter in letters:
        assert check.check_choice(letters, letter, reason)
        messages.add(re.sub(r"\(\w\) '[^']*'", "X", said(capsys)))
    assert len(messages) == 1  # right and wrong letters read alike
    assert not check.check_choice(letters, "z", reason) and "one letter" in said(capsys)
    assert not check.check_choice(letters, 2, reason) and "one letter" in said(capsys)
    assert not check.check_choice(letters, "a", "") and "yours is empty" in said(capsys)
    assert not check.check_choice(letters, "a", None) and "yours is empty" in said(capsys)
    # Reasons are graded by hand with a rubric, not by their length: a short one is recorded.
    assert check.check_choice(letters, "a", "stride") and "Recorded" in said(capsys)
    assert not check.check_choice(letters, "a", "too short", min_words=8) and "yours has 2" in said(capsys)


def test_grade_choice_names_the_misconception_of_the_option_chosen():
    letters = check.choice_letters("jdoe42", "q", OPTIONS)
    by_option = {option: letter for letter, option in letters.items()}
    reason = "the width depends on kernel size, stride and padding only, not on kernels"
    check.grade_choice(letters, by_option[OPTIONS[1]], reason, right=OPTIONS[1])
    check.grade_choice(letters, f"({by_option[OPTIONS[1]].upper()})", reason, right=OPTIONS[1])
    with pytest.raises(AssertionError, match="more maps, not wider ones"):
        check.grade_choice(letters, by_option[OPTIONS[0]], reason, right=OPTIONS[1],
                           mistakes={OPTIONS[0]: "more maps, not wider ones"})
    # The letter alone is graded here; the reason has a hand-graded cell of its own (TA guide rubric).
    check.grade_choice(letters, by_option[OPTIONS[1]], "", right=OPTIONS[1])
    with pytest.raises(AssertionError, match="at least 8 words"):
        check.grade_choice(letters, by_option[OPTIONS[1]], "because", right=OPTIONS[1], min_words=8)


# --- whose numbers ----------------------------------------------------------------------------

@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """Off a hub, not autograding."""
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return monkeypatch


def test_off_a_hub_the_typed_id_is_used_and_an_empty_one_is_refused(nowhere, capsys):
    assert check.student(" jdoe42 ") == "jdoe42"
    assert "'jdoe42' (the id you typed)" in said(capsys)
    with pytest.raises(ValueError, match="between the quotes"):
        check.student("")
    with pytest.raises(TypeError, match="text between quotes"):
        check.student(12345)


def test_on_a_hub_the_login_is_used_and_a_different_typed_id_warned_about(nowhere, capsys):
    nowhere.setenv("JUPYTERHUB_USER", "jdoe42")
    assert check.student("") == "jdoe42" and "your JupyterHub login" in said(capsys)
    assert check.student("JDoe42") == "jdoe42" and "⚠" not in said(capsys)
    assert check.student("s1234567") == "jdoe42"
    assert "⚠ You typed the id 's1234567', but your JupyterHub login is 'jdoe42'" in said(capsys)


def test_while_autograding_the_submission_folder_decides(nowhere, capsys, tmp_path):
    folder = tmp_path / "autograded" / "ada" / "ps2"
    folder.mkdir(parents=True)
    nowhere.chdir(folder)
    nowhere.setenv("NBGRADER_EXECUTION", "autograde")
    nowhere.setenv("JUPYTERHUB_USER", "grader")
    assert check.graded_student() == "ada"
    assert check.student("bob") == "ada"
    assert "graded on the numbers of 'ada'" in said(capsys)
    assert check.student("bob", quiet=True) == "ada" and said(capsys) == ""  # hidden tests: said once is enough


def test_variants_differ_between_students_and_refuse_an_empty_id():
    assert len({str(check.variant(f"student{i}")) for i in range(20)}) > 10
    assert check.variant("Ada.Lovelace") == check.variant("  ada.lovelace")
    with pytest.raises(ValueError, match="student_id"):
        check.variant("  ")


# --- assignment 3: growing maps ---------------------------------------------------------------

UP = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)  # 16 -> 32


@pytest.mark.parametrize("layer, n, answer, hint", [
    (UP, 16, 8, "a convolution's output size"),
    (UP, 16, 31, "left out output_padding"),
    (UP, 16, 34, "multiplied n by the stride"),
    (UP, 16, 36, "added the padding"),
    (UP, 16, 33, "from one side only"),
    (ConvTranspose2d(1, 1, 4, stride=3, output_padding=2), 10, 32, "forgot the + 1"),  # right: 33
    (ConvTranspose2d(1, 1, 4, stride=3, output_padding=2), 10, 34, "kernel size k where its reach"),
    (ConvTranspose2d(1, 1, 5, stride=3, padding=1, output_padding=2), 10, 34, "one side only, after the last row"),
])
def test_transposed_size_mistakes_are_named_without_the_answer(capsys, layer, n, answer, hint):
    assert not check.check_transposed_size(layer, n, answer)
    text = said(capsys)
    assert hint in text
    assert str(layer.output_size((n, n))[0]) not in text.replace(str(answer), "")
    for form in (np.int64(answer), float(answer), np.array(answer)):
        assert not check.check_transposed_size(layer, n, form)
        assert hint in said(capsys)


@pytest.mark.parametrize("layer, n", [(UP, 16), (ConvTranspose2d(1, 1, 5, stride=3, padding=2, output_padding=2), 10),
                                      (ConvTranspose2d(1, 1, 2, stride=2, output_padding=1), 7)])
def test_trying_every_transposed_size_does_not_single_out_the_right_one(capsys, monkeypatch, layer, n):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    right = layer.output_size((n, n))[0]
    k, s, d, op = layer.kernel_size[0], layer.stride[0], layer.dilation[0], layer.output_padding[0]
    most = s * (n + d * (k - 1) + 1) + op
    outcomes = {}
    for value in range(1, 100):
        outcomes[value] = (check.check_transposed_size(layer, n, value), said(capsys).replace(str(value), "N"))
    assert outcomes[right][0]
    assert len({outcomes[v] for v in range(most + 1, 100)}) == 1 and "even before its padding" in outcomes[99][1]
    alike = [v for v in range(1, most + 1) if outcomes[v] == outcomes[right]]
    assert len(alike) >= most - 12 and max(alike) > right


@pytest.mark.parametrize("answer, words", [("32", "remove the quotes"), (31.5, "not a whole number"),
                                           (None, "did you assign"), (0, "at least 1")])
def test_transposed_size_of_the_wrong_type_gets_a_sentence(capsys, answer, words):
    assert not check.check_transposed_size(UP, 16, answer)
    assert words in said(capsys)


# conv, strided conv, transposed conv with padding: 16 -> 16 -> 7 -> 14
GROWING = [Conv2d(1, 4, 3, padding=1), ReLU(), Conv2d(4, 4, 3, stride=2), ReLU(),
           ConvTranspose2d(4, 1, 3, stride=2, padding=1)]


def test_projective_field_check_accepts_the_field_in_any_form(capsys):
    right = projective_field(GROWING, (6, 9), 16)
    for form in (right, [list(b) for b in right], np.array(right), np.array(right, dtype=float)):
        assert check.check_projective_field(GROWING, (6, 9), 16, form)
        assert "✔ Your field is right" in said(capsys)


@pytest.mark.parametrize("pixel, mistake, hint", [
    ((6, 9), lambda right: ((right[0][0], right[0][1] + 1), right[1]), "the rows' pair ends one neuron too late"),
    ((6, 9), lambda right: (right[1], right[0]), "swapped rows and columns"),
    ((6, 9), lambda right: input_region(GROWING, (6, 9), 16), "receptive field of the neuron"),
    ((6, 9), lambda right: projective_field(GROWING, (6, 9), 16, layer=-2), "one layer before the end"),
    ((6, 9), lambda right: ((0, 40), right[1]), "clipped to the map"),
    ((6, 9), lambda right: ((5, 2), right[1]), "the first index is the smaller one"),
])
def test_projective_field_mistakes_are_named(capsys, pixel, mistake, hint):
    right = projective_field(GROWING, pixel, 16)
    wrong = mistake(right)
    assert wrong != right
    assert not check.check_projective_field(GROWING, pixel, 16, wrong)
    assert hint in said(capsys)


def test_projective_field_read_without_strides_or_padding_is_named(capsys):
    for what, hint in (("stride", "left out the strides"), ("padding", "left out the padding")):
        wrong = field_checks._field_read_without(GROWING, (6, 9), 16, what, (14, 14))
        assert wrong is not None and wrong != projective_field(GROWING, (6, 9), 16)
        assert not check.check_projective_field(GROWING, (6, 9), 16, wrong)
        assert hint in said(capsys)


@pytest.mark.parametrize("answer", ["((1, 2), (3, 4))", [1, 2, 3, 4], ((1, 2.5), (3, 4))])
def test_projective_field_of_the_wrong_type_gets_a_sentence(capsys, answer):
    assert not check.check_projective_field(GROWING, (6, 9), 16, answer)
    assert "((top, bottom), (left, right))" in said(capsys)


SEPARABLE = [Conv2d(32, 32, 3, padding=1, groups=32), Conv2d(32, 64, 1)]  # 320 + 2112 = 2432


@pytest.mark.parametrize("layers, answer, hint", [
    (SEPARABLE, 288 + 2048, "left out the biases"),
    (SEPARABLE, 32 * 32 * 9 + 32 + 2112, "counted a grouped convolution as a full one"),
    (SEPARABLE, 32 * 3 + 32 + 2112, "k · k weights per channel it reads, not k"),
    ([Conv2d(16, 8, 3)], 8 * 9 + 8, "for *each* channel it reads"),
    (SEPARABLE, 2112, "count every convolution"),
    ([ConvTranspose2d(16, 8, 4, stride=2)], 16 * 8 * 16, "left out the biases"),
])
def test_parameter_count_mistakes_are_named(capsys, layers, answer, hint):
    assert not check.check_parameter_count(layers, answer)
    assert hint in said(capsys)


def test_parameter_count_accepts_the_count_in_any_form(capsys):
    assert check.count_parameters(SEPARABLE) == 2432
    for form in (2432, 2432.0, np.int64(2432), np.array(2432)):
        assert check.check_parameter_count(SEPARABLE, form)
        assert "✔ 2432 is right" in said(capsys)
    assert not check.check_parameter_count(SEPARABLE, "2432") and "remove the quotes" in said(capsys)
    assert not check.check_parameter_count(SEPARABLE, -1) and "never negative" in said(capsys)


def test_count_parameters_counts_transposed_convolutions():
    assert check.count_parameters([ConvTranspose2d(16, 8, 4, stride=2), Upsample(2), Conv2d(8, 1, 3)]) == \
        16 * 8 * 16 + 8 + 8 * 9 + 1


DECODER = [Upsample(2), Conv2d(16, 8, 3, padding=1), ReLU(), Upsample(2), Conv2d(8, 1, 3, padding=1)]  # 8 -> 32


@pytest.mark.parametrize("decoder, words", [
    ([ConvTranspose2d(16, 1, 25)], "it grows the map in 0 steps"),
    ([ConvTranspose2d(16, 1, 4, stride=4)], "grows the map 4 times at once"),
    ([Upsample(4), Conv2d(16, 1, 3, padding=1)], "grows the map 4 times at once"),
    ([ConvTranspose2d(16, 4, 3, stride=2, padding=1, output_padding=1), ReLU(),
      ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1)], "overlaps unevenly"),
    ([ConvTranspose2d(16, 16, 4, stride=2, padding=1), ConvTranspose2d(16, 1, 4, stride=2, padding=1)],
     "over the budget of 1600"),
    (DECODER[:-1] + [Conv2d(8, 2, 3, padding=1)], "it ends with 2 maps"),
    ([Conv2d(8, 16, 3)] + DECODER, "takes 8 channels, but the encoder gives 16"),
    (DECODER[:-1] + [Conv2d(4, 1, 3, padding=1)], "takes 4 channels, but the layer before gives 8"),
    (DECODER[:-1] + [Conv2d(8, 1, 3)], "its last map is 30 × 30, the target is 32 × 32"),
    (DECODER + [Conv2d(1, 1, 40)], "does not run on the encoder's 8 × 8 map"),
    ("Upsample(2)", "decoder must be a list of layers"),
])
def test_decoder_rules_are_named(capsys, decoder, words):
    assert not check.check_decoder(decoder, 32, 1600)
    assert words in said(capsys)


def test_decoder_that_keeps_every_rule(capsys):
    assert check.check_decoder(DECODER, 32, 1600)
    assert "Every rule holds: 32 × 32 × 1 from 8 × 8 × 16 in 2 steps of 2, no uneven overlap, 1233 ≤ 1600" in \
        said(capsys)
    even = [ConvTranspose2d(16, 4, 4, stride=2, padding=1), ReLU(), ConvTranspose2d(4, 1, 4, stride=2, padding=1)]
    assert check.check_decoder(even, 32, 1600)


@pytest.mark.parametrize("k", range(1, 7))
@pytest.mark.parametrize("s", [2, 3])
@pytest.mark.parametrize("p", [0, 1, 2])
def test_uneven_overlap_agrees_with_the_output_of_an_all_ones_layer(k, s, p):
    """Brute force: all-ones weights on an all-ones input give a flat interior exactly when no rule is broken."""
    layer = ConvTranspose2d(1, 1, k, stride=s, padding=p, weight=np.ones((1, 1, k, k)))
    grown = feature_maps([layer], np.ones((12, 12)))[-1][0]
    interior = grown[k + s:-(k + s), k + s:-(k + s)]
    even = len(set(design_rules._taps_per_phase(layer, 0))) == 1
    assert even == (interior.min() == interior.max()), (k, s, p, interior)


# --- the feedback policy (RFMAPS_FEEDBACK) ------------------------------------------------------

def _all_checks_on(value_kind):
    """(check, right answer, a wrong answer no common mistake explains) for every visible check."""
    up = ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
    layers, position = [Conv2d(1, 1, 3), Conv2d(1, 1, 3)], (3, 3)
    region, field = input_region(layers, position, 16), projective_field(layers, (5, 5), 12)
    return [
        (lambda a: check.check_output_size(Conv2d(1, 1, 3), 10, a), 8, 5),
        (lambda a: check.check_feature_maps(Conv2d(3, 16, 5), a), 16, 17),
        (lambda a: check.check_rf_sizes(STACK, 32, a), [3, 3, 4, 8, 16], [3, 3, 4, 8, 17]),
        (lambda a: check.check_region(layers, position, 16, a), region,
         ((region[0][0] + 3, region[0][1] + 3), region[1])),
        (lambda a: check.check_transposed_size(up, 16, a), 32, 37),
        (lambda a: check.check_projective_field([Conv2d(1, 1, 3)] * 2, (5, 5), 12, a), field,
         ((field[0][0], field[0][1] - 2), field[1])),
        (lambda a: check.check_parameter_count(SEPARABLE, a), 2432, 2433),
    ]


def test_confirm_policy_ticks_exactly_the_right_value_and_says_not_yet_otherwise(capsys, monkeypatch):
    for policy in (None, "confirm", " Confirm "):  # the default, and how a course may write it
        if policy is None:
            monkeypatch.delenv("RFMAPS_FEEDBACK", raising=False)
        else:
            monkeypatch.setenv("RFMAPS_FEEDBACK", policy)
        for judge, right, wrong in _all_checks_on(None):
            assert judge(right) is True
            assert said(capsys).startswith("✔ ")
            assert judge(wrong) is False
            text = said(capsys)
            assert text.startswith("✘ Not yet:") and "✔" not in text and "Next" in text


def test_mistakes_only_policy_never_ticks(capsys, monkeypatch):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    for judge, right, wrong in _all_checks_on(None):
        assert judge(right) is True and judge(wrong) is True
        texts = said(capsys)
        assert "✔" not in texts and "✘" not in texts and texts.count("No common mistake recognised") == 2


@pytest.mark.parametrize("typo", ["lenient", "mistakes only", "off"])
def test_an_unknown_policy_warns_once_and_never_ticks(capsys, monkeypatch, typo):
    import warnings

    from rfmaps.check import feedback

    monkeypatch.setattr(feedback, "_WARNED", set())
    monkeypatch.setenv("RFMAPS_FEEDBACK", typo)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert check.check_feature_maps(Conv2d(3, 16, 5), 16)  # right: no tick, no raise
        assert check.check_output_size(Conv2d(3, 8, 3), 10, 8)
    assert [str(w.message) for w in caught] == [
        f"RFMAPS_FEEDBACK must be one of confirm, mistakes-only, got {typo!r}: the checks use mistakes-only "
        "(no ✔) until it is corrected"]
    text = said(capsys)
    assert "✔" not in text and text.count("No common mistake recognised") == 2


def test_under_mistakes_only_a_value_one_away_from_the_answer_is_not_named(capsys, monkeypatch):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    layer = Conv2d(3, 8, 5, padding=1)  # right: 30 on 32
    for value in (29, 31):
        assert check.check_output_size(layer, 32, value)
        assert said(capsys).startswith("• No common mistake recognised")
    assert not check.check_output_size(layer, 32, 28)  # left out the padding: 2 away, named
    assert "left out the padding" in said(capsys)
    monkeypatch.setenv("RFMAPS_FEEDBACK", "confirm")
    assert not check.check_output_size(layer, 32, 29)
    assert "forgot the + 1" in said(capsys)


def test_a_complete_choice_is_recorded_without_a_tick_and_grading_survives_python_O(capsys):
    letters = {"a": "yes", "b": "no"}
    assert check.check_choice(letters, "b", "because the windows of neighbouring neurons overlap a lot")
    text = said(capsys)
    assert text.startswith("• Recorded: (b)") and "✔" not in text
    code = ("from rfmaps import check\n"
            "try:\n    check.grade_choice({'a': 'yes', 'b': 'no'}, 'b', 'because the windows of neighbouring neurons overlap a lot', 'yes')\n"
            "except AssertionError as error:\n    print('refused:', error)\n")
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("refused: Not this one")


# --- every layer kind, and arguments a check cannot use -------------------------------------------

KINDS = [Conv2d(1, 1, 3, padding=1), ConvTranspose2d(1, 1, 3, stride=2), MaxPool2d(2), AvgPool2d(2), ReLU(),
         ZeroPad2d(1), BatchNorm2d(1), GELU(), Upsample(2), Residual([Conv2d(1, 1, 3, padding=1)])]
NOT_LAYERS = [[Conv2d(1, 1, 3)], "Conv2d(1, 1, 3)", None, 3]


def one_sentence(capsys, verdict):
    text = said(capsys)
    assert isinstance(verdict, bool) and text.count("\n") == 1 and text[0] in "✔✘•", text
    return text


@pytest.mark.parametrize("layer", KINDS + NOT_LAYERS, ids=repr)
def test_single_layer_checks_judge_every_kind_or_refuse_in_one_sentence(capsys, layer):
    for judge in (lambda a: check.check_output_size(layer, 12, a), lambda a: check.check_transposed_size(layer, 12, a),
                  lambda a: check.check_feature_maps(layer, a), lambda a: check.check_feature_maps(layer, a, 12)):
        for answer in (1, 12, 24, "12", 10 ** 100):
            text = one_sentence(capsys, judge(answer))
            if layer in NOT_LAYERS:
                assert text.startswith("✘ layer must be")
    if layer not in NOT_LAYERS:  # the right size is the layer's own, which tests/test_torch.py holds to torch
        right = layer.output_size((12, 12))[0]
        assert check.check_output_size(layer, 12, right) and check.check_transposed_size(layer, 12, right)
        assert said(capsys) == f"✔ {right} is right.\n" * 2


@pytest.mark.parametrize("layer", KINDS + NOT_LAYERS[1:], ids=repr)
def test_stack_checks_judge_every_kind_or_refuse_in_one_sentence(capsys, layer):
    for layers in ([layer], [Conv2d(1, 1, 3), layer], [Residual([layer]) if isinstance(layer, (Conv2d, ReLU))
                                                       else layer, Conv2d(1, 1, 1)]):
        for judge, answers in [
            (lambda a: check.check_rf_sizes(layers, 16, a), ([3, 4], [1] * len(layers), "3")),
            (lambda a: check.check_region(layers, (0, 0), 16, a), (((0, 2), (0, 2)), None, [1, 2])),
            (lambda a: check.check_region(layers, (40, 0), 16, a), (((0, 2), (0, 2)),)),
            (lambda a: check.check_projective_field(layers, (3, 3), 16, a), (((0, 2), (0, 2)), None)),
            (lambda a: check.check_parameter_count(layers, a), (0, 10, 10 ** 100)),
            (lambda a: check.check_design(layers, a, 2000), (3, "3", 2.5)),
            (lambda a: check.check_decoder(layers, a, 2000, in_channels=1), (32, "32")),
        ]:
            for answer in answers:
                one_sentence(capsys, judge(answer))


@pytest.mark.parametrize("judge, words", [
    (lambda: check.check_region([Conv2d(1, 1, 3)], (40, 0), 16, ((0, 2), (0, 2))), "position row must be from 0 to 13"),
    (lambda: check.check_region([Conv2d(1, 1, 3)], "(1, 1)", 16, ((0, 2), (0, 2))), "position must be (row, col)"),
    (lambda: check.check_projective_field([Conv2d(1, 1, 3)], (1, 1), "16", ((0, 2), (0, 2))), "input_size must be"),
    (lambda: check.check_rf_sizes([Conv2d(1, 1, 30)], 16, [30]), "do not run on an input of 16"),
    (lambda: check.check_output_size(Conv2d(1, 1, 30), 16, 1), "too small"),
    (lambda: check.check_output_size(Conv2d(1, 1, 3), 16.5, 14), "input_size must be a whole number"),
    (lambda: check.check_feature_maps(MaxPool2d(2), 4), "keeps the channels it is given"),
    (lambda: check.check_design(GOOD, "21", 2000), "target_rf must be a whole number, like 21; you gave the text '21'"),
    (lambda: check.check_design(GOOD, 21, 2000.5), "budget must be a whole number"),
    (lambda: check.check_decoder(DECODER, "30", 1600),
     "target_size must be a whole number, like 32; you gave the text '30'"),
    (lambda: check.check_decoder(DECODER, 32, None), "budget must be a whole number"),
    (lambda: check.check_decoder(DECODER, 0, 1600), "target_size must be at least 1; you gave 0"),
    (lambda: check.check_choice(["a", "b"], "a", "because the windows of neighbouring neurons overlap a lot"),
     "letters must be the options as show_choices returned them"),
])
def test_arguments_a_check_cannot_use_get_one_sentence_that_names_them(capsys, judge, words):
    assert judge() is False
    text = said(capsys)
    assert text.startswith("✘ ") and text.count("\n") == 1 and words in text, text


def test_targets_and_budgets_are_read_as_whole_numbers_in_every_natural_form(capsys):
    for target, budget in ((32.0, 1600.0), (np.int64(32), np.float64(1600)), (np.array(32), 1600)):
        assert check.check_decoder(DECODER, target, budget)
        assert "32 × 32 × 1" in said(capsys)
    assert check.check_design(GOOD, 21.0, np.int32(2000), min_output=8.0)
    assert "rf 31 ≥ 21" in said(capsys)


def test_choice_letters_refuse_what_is_not_an_id_a_question_or_options():
    with pytest.raises(TypeError, match="student_id must be a student id as text"):
        check.choice_letters(12345, "q", OPTIONS)
    with pytest.raises(ValueError, match="student_id must be a"):
        check.show_choices("  ", "q", OPTIONS)
    with pytest.raises(TypeError, match="options must be a list of 2 to 26 texts"):
        check.choice_letters("jdoe42", "q", "abc")
    with pytest.raises(TypeError, match="question must be"):
        check.choice_letters("jdoe42", None, OPTIONS)


def test_decoder_channels_are_asked_of_each_layer_as_feature_maps_asks_them(capsys):
    normed = [Upsample(2), Conv2d(16, 8, 3, padding=1), BatchNorm2d(4), Upsample(2), Conv2d(8, 1, 3, padding=1)]
    with pytest.raises(ValueError, match="num_features=4"):
        feature_maps(normed, np.zeros((8, 8, 16)))
    assert not check.check_decoder(normed, 32, 1600)
    assert "layer 2 (BatchNorm2d(4)) expects num_features=4, but the layer before has 8 channels" in said(capsys)
    fine = normed[:2] + [BatchNorm2d(8)] + normed[3:]
    feature_maps(fine, np.zeros((8, 8, 16)))
    assert check.check_decoder(fine, 32, 1600)
    said(capsys)
    split = Residual([Conv2d(8, 8, 3, padding=1)], [Conv2d(8, 4, 1)])  # the paths give 8 and 4 channels
    assert not check.check_design([Conv2d(1, 8, 3), split, Conv2d(8, 8, 3)], 5, 5000)
    assert "the body gives 8 channels but the shortcut gives 4" in said(capsys)


def test_a_huge_output_size_is_named_not_accepted(capsys, monkeypatch):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "mistakes-only")
    assert not check.check_output_size(Conv2d(3, 8, 5, padding=1), 32, 10 ** 100)
    assert "more neurons than the padded input has pixels (34)" in said(capsys)
    assert not check.check_transposed_size(UP, 16, 10 ** 100)
    assert "even before its padding cuts rows" in said(capsys)


# --- misconceptions students really have -------------------------------------------------------------

@pytest.mark.parametrize("layer, n, answer, hint", [
    (Conv2d(3, 8, 5, stride=2, padding=1), 33, 29, "left out both the padding and the stride"),  # n − k + 1
    (Conv2d(3, 8, 5, stride=2, padding=1), 33, 17, "divided n by the stride and left out the window"),  # ⌈n / s⌉
    (Conv2d(3, 8, 7, stride=3, padding=1), 33, 11, "divided n by the stride and left out the window"),  # n / s
    (Conv2d(3, 8, 5, padding=1), 32, 32, "the size stays n only when"),
    (ConvTranspose2d(1, 1, 4, stride=3, output_padding=2), 10, 30, "how Upsample(3) grows a map"),  # n · s
    (ConvTranspose2d(1, 1, 3, stride=2, padding=2, output_padding=1), 10, 22, "left out the padding"),
    (ConvTranspose2d(1, 1, 3, stride=2, padding=2, output_padding=1), 10, 21, "left out both the padding"),
])
def test_more_misconceptions_are_named_each_with_a_true_idea(capsys, layer, n, answer, hint):
    right = layer.output_size((n, n))[0]
    assert answer != right
    assert not check.check_output_size(layer, n, answer)
    assert hint in said(capsys)


@pytest.mark.parametrize("layer, n", [(Conv2d(3, 8, 3), 32), (Conv2d(3, 8, 2, stride=2), 32),
                                      (Conv2d(3, 8, 3, padding=1), 32), (UP, 16)])
def test_a_misconception_that_happens_to_give_the_right_value_is_no_mistake(capsys, layer, n):
    # n − k + 1, n / s, n, and n · s are right for these layers
    right = layer.output_size((n, n))[0]
    assert right in (n - 2, n // 2, n, 2 * n)
    assert check.check_output_size(layer, n, right) and said(capsys) == f"✔ {right} is right.\n"


def test_two_mistakes_that_give_the_same_size_are_both_named(capsys):
    # With output_padding 1, leaving it out and forgetting the + 1 both give 31: either may be the student's.
    assert not check.check_transposed_size(UP, 16, 31)
    text = said(capsys)
    assert "Two common mistakes give it" in text and "left out output_padding" in text and "forgot the + 1" in text
    # With output_padding 2 they differ: each is named alone.
    other = ConvTranspose2d(1, 1, 4, stride=3, output_padding=2)  # 10 -> 33
    assert not check.check_transposed_size(other, 10, 31)
    assert "left out output_padding" in (text := said(capsys)) and "+ 1" not in text


def test_a_count_of_maps_that_is_also_the_width_is_named_as_a_size(capsys):
    layer = Conv2d(3, 8, 3)  # 8 × 3 = 24, and 24 wide on a 26-wide input
    assert not check.check_feature_maps(layer, 24, input_size=26)
    text = said(capsys)
    assert "each map's width, a size, not a count" in text and "one map, not one per channel" in text
    assert not check.check_feature_maps(layer, 24, input_size=32)  # 30 wide: only the count is it
    text = said(capsys)
    assert "width" not in text and "the number of kernels times the number of input channels, one map per kernel and input channel" in text and "8" not in text
    assert not check.check_feature_maps(layer, 30, input_size=32)
    assert "each map's width" in said(capsys)


STRIDED = [Conv2d(1, 1, 3), MaxPool2d(2), Conv2d(1, 1, 3)]


@pytest.mark.parametrize("mistake, hint", [
    (lambda t, b, l, r: ((t + 1, b + 1), (l + 1, r + 1)), "indices start at 0"),
    (lambda t, b, l, r: ((t, b + 1), (l, r + 1)), "not exclusive as in range() and slices"),
    (lambda t, b, l, r: ((t, l), (b, r)), "you gave two corners, ((top, left), (bottom, right))"),
    (lambda t, b, l, r: ((l, r), (t, b)), "swapped rows and columns"),
    (lambda t, b, l, r: ((t + 1, b + 1), (l, r)), "right size but lies one row too low"),
    (lambda t, b, l, r: ((t, b), (l - 1, r - 1)), "right size but lies one column too far left"),
    (lambda t, b, l, r: ((t - 1, b - 1), (l - 1, r - 1)), "one row too high and one column too far left"),
])
def test_regions_and_fields_written_the_usual_wrong_ways_are_named(capsys, mistake, hint):
    (t, b), (l, r) = right = input_region(STRIDED, (3, 9), 32)
    assert not check.check_region(STRIDED, (3, 9), 32, mistake(t, b, l, r))
    assert hint in said(capsys)
    (t, b), (l, r) = field = projective_field(GROWING, (6, 9), 16)
    wrong = mistake(t, b, l, r)
    assert wrong != field
    assert not check.check_projective_field(GROWING, (6, 9), 16, wrong)
    assert hint in said(capsys)
    assert right != field


def test_a_wrong_way_of_writing_that_gives_the_right_box_is_no_mistake(capsys):
    square = input_region(STRIDED, (3, 3), 32)  # rows and columns alike: swapped or as corners, still right
    assert square[0] == square[1]
    assert check.check_region(STRIDED, (3, 3), 32, square) and said(capsys) == "✔ Your region is right.\n"


# --- checkerboards: equal tap counts are not equal tap sums ------------------------------------------

def test_even_overlap_with_other_than_equal_weights_still_makes_a_checkerboard_and_upsampling_does_not():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    up = torch.nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1)  # default initialisation: even overlap
    flat = torch.ones((1, 1, 8, 8))
    inner = up(flat).detach()[0, 0, 2:-2, 2:-2].double()
    # One value per phase (constant within float32 rounding), and the four phases clearly apart: a checkerboard.
    phases = [inner[i::2, j::2] for i in (0, 1) for j in (0, 1)]
    assert all(float(p.max() - p.min()) < 1e-5 for p in phases)
    values = sorted(float(p.mean()) for p in phases)
    assert min(b - a for a, b in zip(values, values[1:])) > 1e-3
    assert design_rules._uneven(ConvTranspose2d(1, 1, 4, stride=2, padding=1)) is None  # what rfmaps checks holds
    resize = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(1, 1, 3, padding=1))
    middle = resize(flat).detach()[0, 0, 2:-2, 2:-2]
    assert float(middle.max() - middle.min()) < 1e-5  # flat for any weights


def test_decoder_messages_speak_of_uneven_overlap_not_of_no_checkerboard(capsys):
    uneven = [ConvTranspose2d(16, 4, 3, stride=2, padding=1, output_padding=1), ReLU(),
              ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1)]
    assert not check.check_decoder(uneven, 32, 1600)
    assert ("reached by 1 and 2 kernel taps (its kernel size 3 is not a multiple of its stride 2): a checkerboard "
            "even when every weight is the same") in said(capsys)
    even = [ConvTranspose2d(16, 4, (4, 2), stride=2, padding=(1, 0)), ReLU(),
            ConvTranspose2d(4, 1, (4, 2), stride=2, padding=(1, 0))]  # even along each axis on its own
    assert check.check_decoder(even, 32, 1600)
    assert "no uneven overlap" in said(capsys) and "checkerboard" not in check.check_decoder.__doc__.split("\n")[0]
    dilated = [ConvTranspose2d(16, 4, 2, stride=2, dilation=2, output_padding=1), ReLU(),
               ConvTranspose2d(4, 1, 4, stride=2, padding=1)]  # taps 0 and 2 land on one phase
    check.check_decoder(dilated, 32, 1600)
    assert "its dilation lands the taps unevenly" in said(capsys)


def test_the_policy_may_be_written_with_an_underscore(capsys, monkeypatch):
    monkeypatch.setenv("RFMAPS_FEEDBACK", "Mistakes_Only")
    assert check.feedback_policy() == "mistakes-only"
    assert check.check_region([Conv2d(1, 1, 3, padding=5)], (0, 0), 4, None)
    assert said(capsys).startswith("• No common mistake recognised in None;")


# ---------------------------------------------------------------------------------------------
# Formulas written as functions (rfmaps.check.formulas)
# ---------------------------------------------------------------------------------------------

from rfmaps.check import formulas  # noqa: E402 (beside the tests that use it)


@pytest.mark.parametrize("question", sorted(formulas.QUESTIONS))
def test_formula_references_brute_force_and_torch_agree_on_random_and_small_inputs(question):
    """The visible checks' brute force (counting, index sets) is what PyTorch's real modules say."""
    pytest.importorskip("torch")
    q = formulas.QUESTIONS[question]
    rng = random.Random(question)
    cases = [q.draw(rng) for _ in range(150)] + random.Random(1).sample(list(q.grid()), 150)
    for case in cases:
        assert q.brute(case) == q.torch(case), (question, case)


RIGHT_FORMULAS = {
    "conv_output_size": lambda n, k, s, p, d: (n + 2 * p - d * (k - 1) - 1) // s + 1,
    "rf_size_and_jump": lambda layers: (1 + sum(d * (k - 1) * math.prod(s2 for _, s2, _ in layers[:i])
                                                for i, (k, s, d) in enumerate(layers)),
                                        math.prod(s for _, s, _ in layers)),
    "transposed_output_size": lambda n, k, s, p, op, d: (n - 1) * s - 2 * p + d * (k - 1) + op + 1,
}


@pytest.mark.parametrize("question", sorted(formulas.QUESTIONS))
def test_every_common_formula_mistake_is_wrong_somewhere_and_named_when_written(capsys, monkeypatch, question):
    """Each mistake differs from the truth on some input (else naming it would be false), a function that
    computes it is named with its idea, and the hidden test refuses it."""
    # The students below compute with the module's own mistake formulas, which the by-hand rule would refuse.
    from rfmaps.check import byhand

    monkeypatch.setattr(byhand, "packages_used", lambda function: [])
    monkeypatch.setattr(byhand, "watched_directories", lambda: ("/nowhere/",))
    q = formulas.QUESTIONS[question]
    grid = list(q.grid())
    judge = {"conv_output_size": check.check_conv_size_function, "rf_size_and_jump": check.check_rf_function,
             "transposed_output_size": check.check_transposed_size_function}[question]
    grade = {"conv_output_size": check.grade_conv_size_function, "rf_size_and_jump": check.grade_rf_function,
             "transposed_output_size": check.grade_transposed_size_function}[question]
    for mistake, idea, *_ in q.mistakes:
        assert any(mistake(case) not in (None, q.brute(case)) for case in grid), idea

        def student(*arguments, mistake=mistake):
            case = (tuple(map(tuple, arguments[0])),) if question == "rf_size_and_jump" else arguments
            value = mistake(case)
            return 0 if value is None else value

        assert not judge(student)
        text = said(capsys)
        assert idea in text and "✔" not in text, (idea, text)
        with pytest.raises(AssertionError):
            grade(student, cases=30)
    assert judge(RIGHT_FORMULAS[question]) and said(capsys).startswith("✔ ")
    grade(RIGHT_FORMULAS[question], cases=30)


def test_packages_used_finds_every_way_to_reach_rfmaps_or_torch():
    import rfmaps
    from rfmaps import Conv2d as Layer

    layer = Conv2d(1, 1, 3)

    def helper(n):
        return rfmaps.Conv2d(1, 1, 3).output_size(n)[0]

    def via_helper(n, k, s, p, d):
        return helper(n)

    def imports_inside(n, k, s, p, d):
        import rfmaps as r
        return r.Conv2d(1, 1, k).output_size(n)[0]

    def made(maker=Layer):
        return lambda n, k, s, p, d: maker(1, 1, k).output_size(n)[0]

    def by_text(n, k, s, p, d):
        return __import__("rfmaps").Conv2d(1, 1, k).output_size(n)[0]

    def uses_torch(n, k, s, p, d):
        import torch
        return torch.nn.Conv2d(1, 1, k)(torch.zeros(1, 1, n, n)).shape[-1]

    def from_check(n, k, s, p, d):
        return check.count_parameters([Conv2d(1, 1, k)])

    reaching = [lambda n, k, s, p, d: layer.output_size(n)[0], lambda n, k, s, p, d: Layer(1, 1, k).output_size(n),
                via_helper, imports_inside, made(), by_text, uses_torch, from_check,
                lambda n, k, s, p, d, f=check.variant: f]
    for function in reaching:
        assert formulas.packages_used(function), function
        with pytest.raises(AssertionError, match="uses the package"):
            formulas.grade_by_hand(function)

    def plain(n, k, s, p, d):
        # rfmaps.Conv2d(...).output_size(n) gives the same; this is written by hand
        import math
        rfmaps_free = np.floor((n + 2 * p - d * (k - 1) - 1) / s)
        return int(math.floor(rfmaps_free)) + 1

    assert formulas.packages_used(plain) == [] and formulas.packages_used(lambda n: n + 1) == []
    formulas.grade_by_hand(plain)
    for not_a_function in (5, "def f(): pass", None):
        with pytest.raises(AssertionError, match="a function you write with def"):
            formulas.grade_by_hand(not_a_function)


def test_a_formula_right_on_small_inputs_only_gets_no_tick_and_fails_the_hidden_test(capsys):
    def small_only(n, k, s, p, d):
        return (n + 2 * p - d * (k - 1) - 1) // s + 1 + (n > 100)

    assert not check.check_conv_size_function(small_only)
    text = said(capsys)
    assert text.startswith("✘ Not yet: for n = ") and "the output size is" in text
    with pytest.raises(AssertionError, match="PyTorch gives|brute force gives"):
        check.grade_conv_size_function(small_only, cases=100)


def test_the_formula_checks_load_at_first_use_not_at_import():
    code = ("import sys, rfmaps\n"
            "before = 'rfmaps.check.formulas' in sys.modules\n"
            "from rfmaps.check import check_rf_function\n"
            "print(before, 'rfmaps.check.formulas' in sys.modules, check_rf_function.__module__)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "True", "rfmaps.check.formulas"]


# --- review of issue #24: combined slips, texts where values belong, right answers in other forms ----------

@pytest.mark.parametrize("answer, words, absent", [
    (((9, 40), (9, 40)), "two slips together: every bound is counted from 1", "too tall"),
    (((8, 39), (8, 38)), "the rows' pair ends one pixel too late (the columns' is right)", "stride"),
    (((8, 38), (8, 39)), "the columns' pair ends one pixel too late (the rows' is right)", "too wide"),
    (((8, 8), (39, 39)), "two slips together: you gave two corners", "column too far"),
    (((9, 9), (39, 39)), "two slips together: you gave two corners", "too tall"),
    (((9, 9), (40, 40)), "three slips together", "too tall"),
])
def test_combined_format_slips_are_named_as_what_they_are(capsys, monkeypatch, answer, words, absent):
    """A one-layer stack whose region for neuron (8, 8) is ((8, 38), (8, 38)) (a 31-wide kernel)."""
    monkeypatch.setenv("RFMAPS_FEEDBACK", "confirm")
    layers = [Conv2d(1, 1, 31)]
    assert input_region(layers, (8, 8), 64) == ((8, 38), (8, 38))
    assert not check.check_region(layers, (8, 8), 64, answer)
    text = said(capsys)
    assert words in text and absent not in text, text


def test_one_too_tall_is_said_only_when_that_is_the_whole_difference():
    assert field_checks.one_too_long(((2, 5), (2, 4)), ((2, 4), (2, 4)), "region", "pixel").endswith(
        "one pixel too tall: the bounds are inclusive, so a field of r pixels runs from a to a + r − 1.")
    assert field_checks.one_too_long(((3, 5), (2, 4)), ((2, 4), (2, 4)), "region", "pixel") is None
    assert field_checks.one_too_long(((2, 6), (2, 4)), ((2, 4), (2, 4)), "region", "pixel") is None


def test_texts_where_values_belong_say_how_to_write_the_value(capsys):
    layer = Conv2d(3, 8, 3)
    assert not check.check_output_size(layer, 46, "44 x 44")
    text = said(capsys)
    assert "a size is written as the number itself, 44, without quotes, or the pair (44, 44)" in text
    assert "remove the quotes" not in text
    assert not check.check_rf_sizes([Conv2d(1, 1, 5)], 64, ["5 x 5"])
    assert "the number itself, 5" in said(capsys)
    assert not check.check_region([Conv2d(1, 1, 3)], (2, 2), 16, "((2, 4), (2, 4))")
    text = said(capsys)
    assert "write it without quotes, as numbers, like ((2, 4), (3, 5)) for rows 2 to 4" in text
    assert "remove the quotes to give a number" not in text


def test_reasons_that_are_no_text_are_named_as_such(capsys):
    letters = {"a": "yes", "b": "no"}
    for reason, kind in ((42, "a number"), (["because", "it", "overlaps"], "a list")):
        assert not check.check_choice(letters, "a", reason)
        text = said(capsys)
        assert f"Your reason is {kind}, not a text: write it as a sentence or two between quotes" in text
        assert "empty" not in text


def test_right_values_in_other_forms_are_accepted(capsys, monkeypatch):
    from decimal import Decimal

    monkeypatch.setenv("RFMAPS_FEEDBACK", "confirm")
    layer = Conv2d(3, 8, 3)
    for answer in (np.array([44]), Decimal(44), np.array([[44.0]])):
        assert check.check_output_size(layer, 46, answer), answer
        assert answer == 44  # what the hidden test's `out_size == ...` makes of it
    assert not check.check_output_size(layer, 46, Decimal("44.5"))
    assert not check.check_output_size(layer, 46, [44])  # a list is no number: `[44] == 44` is False
    said(capsys)


@pytest.mark.parametrize("choice", ["c", "(c)", "c.", " C ", "c)", "stays", "Stays.", "(c) stays", "c. stays"])
def test_a_choice_is_read_as_a_letter_or_as_the_option_text(capsys, choice):
    letters = {"a": "grows", "b": "shrinks", "c": "stays"}
    reason = "because the window of each neuron overlaps its neighbour"
    assert check.check_choice(letters, choice, reason)
    assert "Recorded: (c) 'stays'" in said(capsys)
    check.grade_choice(letters, choice, reason, right="stays")
    with pytest.raises(AssertionError, match="Not this one"):
        check.grade_choice(letters, choice, reason, right="grows")
    assert not check.check_choice(letters, "(a) stays", reason)  # a letter and another option's text
