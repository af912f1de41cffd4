"""Predict: the answer stays hidden until the student commits, and typed answers match in any natural form."""

import pytest

from rfmaps.widgets import Predict


def test_answer_is_hidden_until_the_student_checks():
    q = Predict("How large is each map?", (46, 46), explanation="50 - 5 + 1 = 46.")
    assert "46" not in q.result.value and q.correct is None
    assert q.check() is None and "first" in q.result.value  # nothing typed yet: nothing revealed
    assert "46" not in q.result.value
    q.guess.value = "45 x 45"
    assert q.check() is False
    assert "Not quite" in q.result.value and "46 × 46" in q.result.value and "50 - 5 + 1" in q.result.value
    assert q.guess.disabled and q.button.disabled  # the first guess counts


@pytest.mark.parametrize("typed, right", [
    ("46 x 46", True), ("46×46", True), ("(46, 46)", True), ("46", True), ("  46 ", True),
    ("46 x 45", False), ("4646", False), ("forty-six", False), ("46 46 46", False),
])
def test_typed_sizes_match_in_any_natural_form(typed, right):
    q = Predict("size?", (46, 46))
    q.guess.value = typed
    assert q.check() is right


def test_a_non_square_answer_needs_both_numbers_and_ranges_read_as_ranges():
    q = Predict("size?", (50, 43))
    q.guess.value = "50"
    assert q.check() is False
    region = Predict("rows?", (4, 6))
    region.guess.value = "rows 4-6"
    assert region.check() is True


def test_a_wrong_option_names_its_misconception_and_the_button_click_checks():
    probe = Predict("Do more kernels change a neuron's receptive field?", "no", options={
        "yes": "More kernels give more maps; every map uses windows in the same places.",
        "no": "",
    }, explanation="The field depends on kernel size, stride, padding and dilation only.")
    probe.guess.value = "yes"
    probe.button.click()
    assert probe.correct is False and "same places" in probe.result.value and "Answer: <b>no</b>" in probe.result.value


def test_questions_that_cannot_be_answered_are_refused_when_written():
    with pytest.raises(ValueError, match="answer must be one of the options"):
        Predict("?", "maybe", options=["yes", "no"])
    with pytest.raises(ValueError, match="answer must be a number"):
        Predict("?", "forty")
