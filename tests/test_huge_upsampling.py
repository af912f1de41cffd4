"""Upsample and ConvTranspose2d at huge sizes: their reach is computed per run, not per pixel (issue #27).

Nearest upsampling by f sends input i to the block ``f i .. f i + f - 1`` and reads ``floor(o / f)``; a
transposed convolution sends i to ``s i - p + d t`` and reads ``(o + p - d t) / s`` where whole. Both map a
progression of pixels to a few progressions, so input_region and projective_field cost the same at 10**9
pixels as at 10. The exact sets (holes included) are checked against PyTorch's autograd at small sizes and
against the pixel-by-pixel walk (Layer's fallback) at medium ones; the huge cases run in a subprocess with
time and memory limits.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rfmaps import Conv2d, ConvTranspose2d, MaxPool2d, Upsample
from rfmaps.arithmetic.receptive_field import _sizes_and_geometry
from rfmaps.check.design import _reached
from rfmaps.layers.base import Layer, ReachError, Runs
from reference import positive_twin
from test_cost import run_limited

torch = pytest.importorskip("torch")
F = torch.nn.functional

HUGE = 10 ** 9


def twin(layers):
    """The stack in torch, positive weights (tests/reference.py)."""
    return positive_twin(layers)


def start(size):
    return ((torch.rand((1, 1) + size, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5)
            * 1e-3)


def field(layers, position, size):
    """The input pixels with a path to neuron ``position``: torch autograd's nonzero gradient."""
    x = start(size).requires_grad_(True)
    twin(layers)(x)[0, 0, position[0], position[1]].backward()
    return x.grad[0, 0].numpy() != 0


def reached_neurons(layers, pixel, size):
    """The output neurons whose value changes with input ``pixel``: torch's forward derivative."""
    tangent = torch.zeros((1, 1) + size, dtype=torch.float64)
    tangent[0, 0, pixel[0], pixel[1]] = 1
    _, change = torch.autograd.functional.jvp(twin(layers), start(size), tangent)
    return change[0, 0].numpy() != 0


def box(hit):
    rows, cols = np.nonzero(hit)
    return ((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max())))


def paint(boxes, shape):
    """The products of runs ``boxes`` as a boolean map."""
    out = np.zeros(shape, bool)
    for rows, cols in boxes:
        out[np.ix_(list(rows), list(cols))] = True
    return out


def forward_reach(layers, rows, pixel):
    """The neurons of the last layer with a path from ``pixel``: each layer's own reach_forward."""
    boxes = [(Runs((pixel[0],)), Runs((pixel[1],)))]
    size = rows.input_size
    for row in rows:
        boxes = row.layer.reach_forward(boxes, size)
        size = row.output_size
    return boxes


KINDS = st.one_of(
    st.tuples(st.just(Conv2d), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2)),
    st.tuples(st.just(MaxPool2d), st.integers(1, 3), st.integers(1, 3), st.just(1), st.integers(0, 1)),
    st.tuples(st.just(Upsample), st.integers(1, 3), st.integers(1, 3)),
    # kernel, stride, dilation, padding, output_padding
    st.tuples(st.just(ConvTranspose2d), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(0, 3),
              st.integers(0, 2)),
)


def build(kinds):
    layers = []
    for kind, *args in kinds:
        if kind is Conv2d:
            k, s, d, p = args
            layers.append(Conv2d(1, 1, k, stride=s, dilation=d, padding=p))
        elif kind is MaxPool2d:
            k, s, _, p = args
            layers.append(MaxPool2d(k, s, min(p, k // 2)))  # torch: padding at most half the kernel
        elif kind is Upsample:
            layers.append(Upsample(tuple(args)))
        else:
            k, s, d, p, op = args
            layers.append(ConvTranspose2d(1, 1, k, stride=s, dilation=d, padding=p,
                                          output_padding=min(op, max(s, d) - 1)))
    return layers


@settings(max_examples=60, deadline=None)
@given(st.lists(KINDS, min_size=1, max_size=4), st.integers(3, 12), st.data())
def test_the_pixels_reached_through_upsampling_and_transposed_convolutions_equal_torchs(kinds, n, data):
    """Both ways, the exact set (holes included): a neuron's inputs and a pixel's neurons."""
    layers = build(kinds)
    try:
        rows = _sizes_and_geometry(tuple(layers), n)
    except ValueError:
        return  # too small for the stack
    size = rows[-1].output_size
    if size[0] * size[1] > 200 ** 2:
        return
    position = (data.draw(st.integers(0, size[0] - 1)), data.draw(st.integers(0, size[1] - 1)))
    assert np.array_equal(paint(_reached(layers, rows, position), (n, n)), field(layers, position, (n, n)))
    pixel = (data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1)))
    assert np.array_equal(paint(forward_reach(layers, rows, pixel), size), reached_neurons(layers, pixel, (n, n)))


def progressions(n):
    """A strategy for a few progressions inside ``0 .. n - 1`` (steps up to 40, so some skip a whole block)."""
    one = st.tuples(st.integers(0, n - 1), st.integers(1, 40), st.integers(1, 3000)).map(
        lambda t: range(t[0], min(n, t[0] + t[1] * t[2]), t[1]))
    return st.lists(one, min_size=1, max_size=4).map(Runs)


LAYERS = st.one_of(
    st.builds(lambda f: Upsample(f), st.integers(1, 50)),
    st.builds(lambda k, s, d, p, op: ConvTranspose2d(1, 1, k, stride=s, dilation=d, padding=p,
                                                     output_padding=min(op, max(s, d) - 1)),
              st.integers(1, 9), st.integers(1, 40), st.integers(1, 9), st.integers(0, 30), st.integers(0, 30)),
)


@settings(max_examples=150, deadline=None)
@given(LAYERS, st.integers(1, 5000), st.integers(0, 1), st.data())
def test_the_runs_equal_the_pixel_by_pixel_walk_at_medium_sizes(layer, n, axis, data):
    """The closed forms against Layer's fallback, which asks axis_sources / axis_targets pixel by pixel."""
    try:
        out_n = layer.output_size((n, n))[axis]
    except ValueError:
        return
    outputs = data.draw(progressions(out_n))
    assert list(layer.axis_reach_back(outputs, axis, n)) == sorted(Layer.axis_reach_back(layer, outputs, axis, n))
    inputs = data.draw(progressions(n))
    assert list(layer.axis_reach_forward(inputs, axis, out_n)) \
        == sorted(Layer.axis_reach_forward(layer, inputs, axis, out_n))


def test_upsampling_a_long_stride_keeps_few_runs_or_refuses_a_ragged_set():
    """Outputs e apart read inputs floor(e i / f): runs cut where a multiple of f falls, else refused."""
    up = Upsample(200003)
    reached = up.axis_reach_back(Runs([range(0, 200004 * 10 ** 9, 200004)]), 0, 2 * HUGE)
    # i + floor(i / 200003): every whole number up to the last but the multiples of 200004 minus one
    assert len(reached) == 10 ** 9 and reached.first == 0 and reached.last == 10 ** 9 - 1 + (10 ** 9 - 1) // 200003
    assert 200003 not in reached and 200002 in reached and 200004 in reached
    assert len(reached.ranges) == (10 ** 9 - 1) // 200003 + 1
    with pytest.raises(ReachError, match="more than 100000 separate runs"):  # golden-ratio steps: ragged
        Upsample(196418).axis_reach_back(Runs([range(0, 317811 * 10 ** 9, 317811)]), 0, HUGE)


def conv_up_conv(o):
    """The inputs of neuron o of [Conv2d(3), Upsample(2), Conv2d(3)]: 3 upsampled pixels, then a window."""
    return [o // 2, (o + 2) // 2 + 2]


def transposed_back(o, n):
    """Inputs of output o of ConvTranspose2d(3, stride=2, padding=1, output_padding=1): (o + 1 - t) / 2."""
    return [o // 2, o // 2] if o % 2 == 0 else [(o - 1) // 2, min((o + 1) // 2, n - 1)]


def transposed_forward(i, n):
    """Outputs 2 i - 1 + t (t < 3) inside the 2 n outputs."""
    return [max(2 * i - 1, 0), min(2 * i + 1, 2 * n - 1)]


CONV_UP_CONV = "[Conv2d(1, 1, 3), Upsample(2), Conv2d(1, 1, 3)]"
TRANSPOSED = "[ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)]"


def test_the_formulas_match_torch_at_small_sizes():
    for n in (9, 10):
        layers = eval(CONV_UP_CONV)
        for o in (0, 5, 2 * (n - 2) - 4):  # the last neuron is 2 (n - 2) - 3
            assert box(field(layers, (o, o + 1), (n, n))) == (tuple(conv_up_conv(o)), tuple(conv_up_conv(o + 1)))
        layers = eval(TRANSPOSED)
        for o in (0, 5, 6, 2 * n - 1):
            assert box(field(layers, (o, o), (n, n))) == (tuple(transposed_back(o, n)),) * 2
        for i in (0, 4, n - 1):
            assert box(reached_neurons(layers, (i, i), (n, n))) == (tuple(transposed_forward(i, n)),) * 2
        for f in (2, 5):
            assert box(reached_neurons([Upsample(f)], (3, 4), (n, n))) == ((3 * f, 4 * f - 1), (4 * f, 5 * f - 1))


def test_upsampling_and_transposed_convolutions_at_a_billion_pixels_answer_exactly_and_cheaply():
    last = 2 * (HUGE - 2) - 3  # the last neuron of CONV_UP_CONV
    got = run_limited(f"""
        n = {HUGE}
        stack, up = {CONV_UP_CONV}, {TRANSPOSED}
        print(json.dumps([
            [input_region(stack, (o, o), n) for o in (0, 5, {last})],
            projective_field([Upsample(10 ** 5)], (3, 3), 64),
            [input_region(up, (o, o), n) for o in (0, 5, 2 * n - 1)],
            [projective_field(up, (i, i), n) for i in (0, 4, n - 1)],
            input_region([Upsample(2), Conv2d(1, 2, 1), GlobalAvgPool2d()], (0, 0), n),
            projective_field([Upsample(10 ** 4), ConvTranspose2d(1, 1, 3, stride=10 ** 4)], (7, 7), 1000),
        ]))
    """, timeout=60)
    stack, upsample, back, forward, whole, spread = got
    assert stack == [[conv_up_conv(o)] * 2 for o in (0, 5, last)]
    assert upsample == [[300000, 399999]] * 2
    assert back == [[transposed_back(o, HUGE)] * 2 for o in (0, 5, 2 * HUGE - 1)]
    assert forward == [[transposed_forward(i, HUGE)] * 2 for i in (0, 4, HUGE - 1)]
    assert whole == [[0, HUGE - 1]] * 2
    # pixel 7 -> block 7e4 .. 8e4 - 1 -> each sent to 1e4 i .. 1e4 i + 2
    assert spread == [[7 * 10 ** 8, (8 * 10 ** 4 - 1) * 10 ** 4 + 2]] * 2


def test_a_ragged_set_at_a_billion_pixels_is_refused_with_a_sentence():
    got = run_limited(f"""
        try:
            print(json.dumps(input_region([Upsample(196418), Conv2d(1, 1, 1, stride=317811), GlobalAvgPool2d()],
                                          (0, 0), {HUGE})))
        except ValueError as error:
            print(json.dumps(str(error)))
    """, timeout=60)
    assert got.startswith("input_region cannot follow layer 0 (Upsample(scale_factor=196418)): ")
    assert "more than 100000 separate runs" in got and got.endswith("ask it for a smaller input_size")
