"""Whole-image layers at huge sizes (issue #27): the cost follows the stack, not the size of the maps.

A squeeze-and-excitation gate or a global pooling reaches back to its whole input map. The walks of
input_region, projective_field, whole_image_neurons and check_design keep each axis as runs
(rfmaps.layers.base.Runs), so a 10**9-pixel map costs one run. Each hostile case runs in a subprocess with
time and memory limits; before the fix these raised MemoryError or took over 60 s.

Every expected answer is a formula of the size (the math of the stack). Each formula is first checked
against PyTorch at a small size (autograd through a float64 twin with positive weights: the pixels with a
nonzero gradient are the field), then against rfmaps at the huge size.
"""

import textwrap

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rfmaps import AvgPool2d, Conv2d, Flatten, GlobalAvgPool2d, MaxPool2d, Residual, Sigmoid, input_region, \
    projective_field
from rfmaps.check.design import _fields, _reached
from rfmaps.arithmetic.receptive_field import _sizes_and_geometry
from rfmaps.layers.gate import SqueezeExcitation
from rfmaps.models.zoo import whole_image_neurons
from reference import positive_twin
from test_cost import run_limited

torch = pytest.importorskip("torch")
F = torch.nn.functional

HUGE = 10 ** 9
GATE = ("from rfmaps.layers.gate import SqueezeExcitation\n"
        "def gate(c):\n"
        "    return SqueezeExcitation([Conv2d(c, c, 1, weight=np.full((c, c, 1, 1), 0.1), bias=np.zeros(c)),"
        " Sigmoid()])\n")
exec(GATE)  # the same gate here and in the subprocesses


def limited(code):
    """``code`` run by run_limited (2 GiB of address space) after the gate's definition."""
    return run_limited(GATE + textwrap.dedent(code), timeout=60)


def twin(layers):
    """The stack in torch, positive weights (tests/reference.py)."""
    return positive_twin(layers)


def field(layers, position, size):
    """The input pixels with a path to neuron ``position`` (all channels, weighted unevenly): torch autograd."""
    x = ((torch.rand((1, 1) + size, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5)
         * 1e-6).requires_grad_(True)
    y = twin(layers)(x)
    weights = torch.rand(y.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(2)) + 0.5
    (y[0, :, position[0], position[1]] * weights).sum().backward()
    return x.grad[0, 0].numpy() != 0


def reached_neurons(layers, pixel, size):
    """The output neurons (any channel) whose value changes with input ``pixel``: torch's forward derivative."""
    x = (torch.rand((1, 1) + size, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5) * 1e-6
    tangent = torch.zeros_like(x)
    tangent[0, 0, pixel[0], pixel[1]] = 1
    _, change = torch.autograd.functional.jvp(twin(layers), x, tangent)
    return (change[0] != 0).any(0).numpy()


def box(hit):
    rows, cols = np.nonzero(hit)
    return ((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max())))


def square(low, high):
    return [[low, high], [low, high]]


# name: (the stack for a size n, as code; the neuron; the box the math says, for a size n)
STACKS = {
    "gate": ("[Conv2d(1, 2, 3, padding=1), gate(2), Conv2d(2, 2, 3, padding=1)]", (5, 5),
             lambda n: square(0, n - 1)),
    # a 1 x 1 window with stride 2 reads the even rows only: the last one read is the last even row
    "stride-2 trunk then gate": ("[Conv2d(1, 2, 1, stride=2), gate(2)]", (0, 0),
                                 lambda n: square(0, 2 * ((n - 1) // 2))),
    # windows 3 wide, 2 apart: the last one ends at 2 ((n - 3) // 2) + 2
    "global pooling": ("[Conv2d(1, 2, 3, stride=2), GlobalAvgPool2d(), Flatten()]", (0, 0),
                       lambda n: square(0, 2 * ((n - 3) // 2) + 2)),
    "pool over the whole map": ("[AvgPool2d({n})]", (0, 0), lambda n: square(0, n - 1)),
    "kernel as large as the map": ("[Conv2d(1, 1, {n} - 1)]", (1, 1), lambda n: square(1, n - 1)),
    # taps at -d, 0 and d (padding d): the image holds 0 and d
    "dilation a tenth of the map": ("[Conv2d(1, 1, 3, dilation={n} // 10, padding={n} // 10)]", (0, 0),
                                    lambda n: square(0, n // 10)),
    "gate in a residual body": ("[Conv2d(1, 2, 1), Residual([Conv2d(2, 2, 3, padding=1), gate(2)], "
                                "[Conv2d(2, 2, 1)])]", (3, 3), lambda n: square(0, n - 1)),
}


@pytest.mark.parametrize("name", STACKS)
def test_input_region_of_a_whole_image_stack_is_exact_at_a_small_size_and_costs_little_at_a_huge_one(name):
    code, position, expected = STACKS[name]
    for n in (40, 41):  # both parities: strides cut odd and even sizes differently
        layers = eval(code.format(n=n))
        assert box(field(layers, position, (n, n))) == tuple(map(tuple, expected(n))) \
            == input_region(layers, position, n)
    got = limited(f"""
        layers = {code.format(n=HUGE)}
        print(json.dumps(input_region(layers, {position}, {HUGE})))
    """)
    assert got == expected(HUGE)


PROJECTIVE = {
    "gate": ("[Conv2d(1, 2, 3, padding=1), gate(2), Conv2d(2, 2, 3, padding=1)]", lambda n: square(0, n - 1)),
    "global pooling": ("[Conv2d(1, 2, 3), GlobalAvgPool2d()]", lambda n: square(0, 0)),
    "kernel as large as the map": ("[Conv2d(1, 1, {n} // 2)]", lambda n: square(0, 7)),  # pixel 7: windows 0 to 7
}


@pytest.mark.parametrize("name", PROJECTIVE)
def test_projective_field_after_a_whole_image_layer_is_exact_and_cheap(name):
    code, expected = PROJECTIVE[name]
    n = 40
    layers = eval(code.format(n=n))
    assert box(reached_neurons(layers, (7, 7), (n, n))) == tuple(map(tuple, expected(n))) \
        == projective_field(layers, (7, 7), n)
    got = limited(f"""
        print(json.dumps(projective_field({code.format(n=HUGE)}, (7, 7), {HUGE})))
    """)
    assert got == expected(HUGE)


def test_whole_image_neurons_after_a_gate_counts_every_neuron_at_a_million_pixels():
    layers = [Conv2d(1, 2, 3, padding=1), gate(2)]
    n = 6
    assert all(field(layers, (i, j), (n, n)).all() for i in range(n) for j in range(n))  # torch: every neuron
    assert whole_image_neurons(layers, n) == (n * n, "squeeze-and-excitation gate")
    got = limited("""
        from rfmaps.models.zoo import whole_image_neurons
        print(json.dumps(whole_image_neurons([Conv2d(1, 2, 3, padding=1), gate(2)], 10 ** 6)))
    """)
    assert got == [10 ** 12, "squeeze-and-excitation gate"]


def holes_of_even_rows(extent):
    """Pixels of an ``extent`` x ``extent`` box (odd) that the even rows and columns leave out."""
    return extent ** 2 - ((extent + 1) // 2) ** 2


def test_check_design_counts_the_holes_a_gate_sees_through_a_stride_at_a_huge_size():
    stack = "[Conv2d(1, 8, 1, stride=2), gate(8), Conv2d(8, 8, 1), Conv2d(8, 8, 1)]"
    for n in (9, 11):  # torch: the gate's field is the even rows and columns, the formula's holes
        hit = field(eval(stack), (0, 0), (n, n))
        assert hit.sum() == ((n + 1) // 2) ** 2 and box(hit) == ((0, n - 1), (0, n - 1))
        assert hit.size - hit.sum() == holes_of_even_rows(n)
        # The field check_design reports is the one on the image it is given: through the gate, the whole
        # n x n box torch shows (measured on a wider image it was that wider image: 328 for 64).
        assert _fields(eval(stack), n) == (n, holes_of_even_rows(n))
    got = limited(f"""
        import contextlib, io
        from rfmaps.check.design import _fields, check_design
        rf, holes = _fields({stack}, {HUGE})
        with contextlib.redirect_stdout(io.StringIO()) as said:
            verdict = check_design({stack}, 21, 2000, input_size={HUGE})
        print(json.dumps([rf, holes, verdict, said.getvalue()]))
    """)
    rf, holes, verdict, said = got
    assert rf == HUGE - 1 and holes == holes_of_even_rows(rf)  # rows 0, 2, ..., HUGE - 2
    assert verdict is False and f"has holes: {holes} pixels inside it" in said  # the one rule it breaks


def test_what_has_no_cheap_exact_answer_is_refused_with_a_sentence_before_the_work():
    got = limited(f"""
        answers = []
        for layers in ([Upsample(2), Conv2d(1, 2, 1), gate(2)],
                       [Conv2d(1, 2, 200001, stride=3, dilation=2), gate(2)]):
            try:
                answers.append(input_region(layers, (0, 0), {HUGE}))
            except ValueError as error:
                answers.append(str(error))
        print(json.dumps(answers))
    """)
    upsample, coprime = got
    # An upsampling before the gate is followed as runs too (627d790): the gate reads the whole image.
    assert upsample == [[0, HUGE - 1], [0, HUGE - 1]]
    # Windows 3 apart with taps 2 apart leave a ragged set: more runs than rfmaps keeps.
    assert coprime.startswith("input_region cannot follow layer 0 (Conv2d(") and "more than 100000 separate runs" \
        in coprime
    n = 500  # at a small size the same stack is answered, exactly
    layers = [Conv2d(1, 2, 201, stride=3, dilation=2), gate(2)]
    assert input_region(layers, (0, 0), n) == box(field(layers, (0, 0), (n, n)))


WINDOWS = st.tuples(st.sampled_from([Conv2d, MaxPool2d]), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
                    st.integers(0, 2))


@settings(max_examples=40, deadline=None)
@given(st.lists(WINDOWS, min_size=1, max_size=3), st.booleans(), st.integers(12, 30), st.data())
def test_the_pixels_reached_through_strides_dilations_and_a_gate_equal_torchs(windows, gated, n, data):
    """The exact set (holes included), not only its box: the runs against autograd's nonzero gradient."""
    layers = []
    for kind, k, s, d, p in windows:
        p = min(p, k // 2)  # torch's rule for pools: padding at most half the kernel
        if kind is MaxPool2d:
            layers.append(MaxPool2d(k, s, p))
        else:
            layers.append(Conv2d(1, 1, k, stride=s, dilation=d, padding=p))
    if gated:
        layers.append(gate(1))
    try:
        rows = _sizes_and_geometry(tuple(layers), n)
    except ValueError:
        return  # too small for the stack
    size = rows[-1].output_size
    position = (data.draw(st.integers(0, size[0] - 1)), data.draw(st.integers(0, size[1] - 1)))
    hit = field(layers, position, (n, n))
    mine = np.zeros((n, n), bool)
    for rows_reached, cols_reached in _reached(layers, rows, position):
        mine[np.ix_(list(rows_reached), list(cols_reached))] = True
    assert np.array_equal(mine, hit)
