"""Student feedback: specific about the mistake, silent about the graded answer."""

import pytest

from rfmaps import Conv2d, MaxPool2d, ReLU, check


@pytest.mark.parametrize("layer, n, answer, hint", [
    (Conv2d(3, 8, 5, padding=1), 32, 29, "forgot the + 1"),
    (Conv2d(3, 8, 5, padding=2), 32, 28, "left out the padding"),
    (Conv2d(3, 8, 3, stride=2), 33, 31, "left out the stride"),
    (Conv2d(3, 8, 3, stride=2), 32, 16, "rounded up"),
    (Conv2d(3, 8, 3, dilation=2), 32, 30, "dilated span"),
])
def test_output_size_mistakes_are_named_without_the_answer(capsys, layer, n, answer, hint):
    assert not check.check_output_size(layer, n, answer)
    said = capsys.readouterr().out
    assert hint in said
    assert str(layer.output_size((n, n))[0]) not in said.replace(str(answer), "")


def test_rf_feedback_accepts_the_right_list():
    layers = [Conv2d(1, 4, 3), ReLU(), MaxPool2d(2), Conv2d(4, 4, 3)]
    assert check.check_rf_sizes(layers, 32, [3, 3, 4, 8])


def test_rf_feedback_message_text(capsys):
    layers = [Conv2d(1, 4, 3), MaxPool2d(2), Conv2d(4, 4, 3)]
    check.check_rf_sizes(layers, 32, [3, 4, 6])
    said = capsys.readouterr().out
    assert "layer 2" in said and "(k − 1) × jump = 2 × 2 = 4 from layer 1's 4" in said


def test_design_and_region_feedback(capsys):
    assert not check.check_design([Conv2d(1, 64, 3)], target_rf=9, budget=500)
    said = capsys.readouterr().out
    assert "short of 9" in said and "over the budget" in said
    layers = [Conv2d(1, 1, 3)]
    assert not check.check_region(layers, (2, 2), 16, ((2, 5), (2, 4)))
    assert "inclusive" in capsys.readouterr().out
    assert check.check_region(layers, (2, 2), 16, ((2, 4), (2, 4)))
    assert not check.check_region(layers, (2, 2), 16, ((2, 4), (3, 5)))
    assert "place is not" in capsys.readouterr().out
    # A neuron near the border: its region is clipped, and the hints compare with the clipped size.
    padded = [Conv2d(1, 1, 5, padding=2)]
    assert check.check_region(padded, (0, 0), 16, ((0, 2), (0, 2)))
    assert not check.check_region(padded, (0, 0), 16, ((0, 2), (0, 3)))
    assert "one pixel too wide" in capsys.readouterr().out
    # A neuron that sees only padding has no region at all.
    only_padding = [Conv2d(1, 1, 1, padding=2)]
    assert check.check_region(only_padding, (0, 0), 4, None)
    assert not check.check_region(only_padding, (0, 0), 4, ((0, 0), (0, 0)))
    assert "only zero padding" in capsys.readouterr().out


def test_variants_differ_between_students_and_refuse_an_empty_id():
    assert len({str(check.variant(f"student{i}")) for i in range(20)}) > 10
    with pytest.raises(ValueError, match="student_id"):
        check.variant("  ")
