"""The arithmetic against brute force, on hand-worked cases and random stacks."""

import numpy as np
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rfmaps import AvgPool2d, Conv2d, MaxPool2d, ReLU, input_region, path_counts, receptive_fields
from reference import backward_paths, impulse_counts, input_sizes

sizes = st.integers(1, 4)


@st.composite
def layer(draw):
    kind = draw(st.sampled_from(["conv", "conv", "max", "avg", "relu"]))
    if kind == "relu":
        return ReLU()
    k = (draw(sizes), draw(sizes))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if kind == "conv":
        if draw(st.booleans()) and s == (1, 1):
            padding = "same"
        else:
            padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return Conv2d(1, 1, k, stride=s, padding=padding, dilation=d)
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    if kind == "max":
        return MaxPool2d(k, stride=s, padding=padding, dilation=(draw(st.integers(1, 2)), 1))
    return AvgPool2d(k, stride=s, padding=padding)


def stack_fits(layers, size):
    try:
        receptive_fields(layers, size)
        return True
    except ValueError:
        return False


stacks = st.tuples(
    st.lists(layer(), min_size=1, max_size=4),
    st.tuples(st.integers(1, 24), st.integers(1, 24)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(stacks, st.data())
def test_arithmetic_matches_brute_force(stack, data):
    layers, size = stack
    assume(stack_fits(layers, size))
    rows = receptive_fields(layers, size)
    assert [r.output_size for r in rows] == input_sizes(layers, size)[1:]

    depth = data.draw(st.integers(0, len(layers) - 1), label="layer")
    out = rows[depth].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    sub = layers[: depth + 1]

    # Unbounded support (padding kept): its bounding box is the receptive field.
    support = backward_paths(sub, position, size, bounded=False)
    low = [min(p[a] for p in support) for a in (0, 1)]
    high = [max(p[a] for p in support) for a in (0, 1)]
    assert rows[depth].rf_size == tuple(h - l + 1 for l, h in zip(low, high))
    region = input_region(layers, position, size, layer=depth, clip=False)
    assert region == tuple(zip(low, high))
    centre = tuple((l + h) / 2 for l, h in zip(low, high))
    assert all(c == s + p * j for c, s, p, j in zip(centre, rows[depth].start, position, rows[depth].jump))

    # Neighbouring neurons look exactly `jump` pixels further on.
    for axis in (0, 1):
        if out[axis] > 1:
            other = list(position)
            other[axis] = position[axis] + 1 if position[axis] + 1 < out[axis] else position[axis] - 1
            shifted = backward_paths(sub, other, size, bounded=False)
            step = (min(p[axis] for p in shifted) - low[axis]) * (other[axis] - position[axis])
            assert step == rows[depth].jump[axis]

    # Clipped region: the box of the image pixels with a path (none: None).
    clipped = input_region(layers, position, size, layer=depth)
    reached = backward_paths(sub, position, size)
    expected = tuple((min(p[a] for p in reached), max(p[a] for p in reached)) for a in (0, 1)) if reached else None
    assert clipped == expected
    # Only the layers up to `depth` count: a later layer that does not fit the input is no reason to refuse.
    assert input_region(sub + [Conv2d(1, 1, 1000)], position, size, layer=depth) == clipped

    # Path counts: every pixel, against explicit backward loops.
    counts = path_counts(layers, position, size, layer=depth)
    brute = np.zeros(size, dtype=np.int64)
    for (i, j), c in backward_paths(sub, position, size).items():
        brute[i, j] = c
    np.testing.assert_array_equal(counts, brute)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(layer(), min_size=1, max_size=3), st.tuples(st.integers(1, 9), st.integers(1, 9)))
def test_path_counts_equal_gradient_of_an_all_ones_network(layers, size):
    """A second, forward-only reference: impulse responses of a linear network."""
    assume(stack_fits(layers, size))
    out = receptive_fields(layers, size)[-1].output_size
    position = (out[0] // 2, out[1] // 2)
    np.testing.assert_array_equal(path_counts(layers, position, size),
                                  impulse_counts(layers, position, size))


def test_classic_example_from_the_seed():
    # A 50 x 50 RGB image and 100 kernels of 5 x 5 x 3 give 100 maps of 46 x 46.
    row = receptive_fields([Conv2d(3, 100, 5)], (50, 50))[0]
    assert row.output_size == (46, 46)
    assert row.channels == 100
    assert row.rf_size == (5, 5)
    assert input_region([Conv2d(3, 100, 5)], (10, 20), 50) == ((10, 14), (20, 24))


def test_hand_worked_stack():
    # rf: 1 + 2 = 3, + 1*1 = 4, + 2*2 = 8, + 1*2 = 10, + 2*4 = 18
    # start: 0 + 1 = 1, + 0.5*1 = 1.5, + 1*2 = 3.5, + 0.5*2 = 4.5, + 1*4 = 8.5
    layers = [Conv2d(1, 4, 3), MaxPool2d(2), Conv2d(4, 4, 3), MaxPool2d(2), Conv2d(4, 4, 3)]
    rows = receptive_fields(layers, 32)
    assert [r.rf_size[0] for r in rows] == [3, 4, 8, 10, 18]
    assert [r.jump[0] for r in rows] == [1, 2, 2, 4, 4]
    assert [r.output_size[0] for r in rows] == [30, 15, 13, 6, 4]
    assert [r.start[0] for r in rows] == [1, 1.5, 3.5, 4.5, 8.5]


def test_same_padding_with_even_kernel_pads_after_like_pytorch():
    layer = Conv2d(1, 1, 4, padding="same")
    assert layer.pads == ((1, 2), (1, 2))
    assert layer.output_size((7, 9)) == (7, 9)
    assert input_region([layer], (0, 0), 7, clip=False) == ((-1, 2), (-1, 2))


def test_dilation_leaves_holes_and_the_centre_counts_most():
    counts = path_counts([Conv2d(1, 1, 3)] * 2, (0, 0), (5, 5))
    assert counts[2, 2] == 9 and counts[0, 0] == 1 and counts.sum() == 81
    layers = [Conv2d(1, 1, 3, dilation=3), Conv2d(1, 1, 3, dilation=3)]
    counts = path_counts(layers, (0, 0), (13, 13))
    assert counts[1].sum() == 0  # a hole row
    assert counts[6, 6] == counts.max()


def test_clipped_region_holds_only_pixels_with_a_path():
    # Taps at -1 (padding) and 1: pixel 0 lies inside the theoretical field but has no path.
    layers = [Conv2d(1, 1, 2, dilation=2, padding=1)]
    assert input_region(layers, (0, 0), 4, clip=False) == ((-1, 1), (-1, 1))
    assert input_region(layers, (0, 0), 4) == ((1, 1), (1, 1))
    assert path_counts(layers, (0, 0), 4)[:2, :2].tolist() == [[0, 0], [0, 1]]


def test_region_of_an_early_layer_ignores_later_layers():
    layers = [Conv2d(1, 1, 3), Conv2d(1, 1, 9)]  # the second needs 9 pixels; layer 0 gives 6
    assert input_region(layers, (2, 3), 8, layer=0) == ((2, 4), (3, 5))
    assert path_counts(layers, (2, 3), 8, layer=0)[3, 4] == 1


def test_neuron_seeing_only_padding_has_no_clipped_region():
    layers = [Conv2d(1, 1, 1, padding=2)]
    assert input_region(layers, (0, 0), 4) is None
    assert input_region(layers, (0, 0), 4, clip=False) == ((-2, -2), (-2, -2))


def test_path_counts_switch_to_python_ints_before_overflow():
    layers = [Conv2d(1, 1, 7, padding=3)] * 16
    counts = path_counts(layers, (20, 20), (41, 41))
    assert counts.dtype == object
    assert counts[20, 20] > 2 ** 63  # would have wrapped around in int64


def test_table_shows_in_text_and_html():
    rows = receptive_fields([Conv2d(3, 8, 5, stride=2), ReLU()], 32)
    text = str(rows)
    assert "Conv2d(3, 8, kernel_size=5, stride=2)" in text and "14 x 14" in text
    html = rows._repr_html_()
    assert html.startswith("<table>") and "<td>5 x 5</td>" in html


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(layer(), min_size=1, max_size=3), st.tuples(st.integers(8, 40), st.integers(8, 40)), st.data())
def test_path_counts_on_a_crop_equal_the_counts_on_the_whole_input(layers, size, data):
    """path_counts works on a crop around the field; any neuron, near a border or not, must not notice."""
    from rfmaps.arithmetic.connectivity import _crop, _spread_to_input
    from rfmaps.layers.residual import Residual

    residual = data.draw(st.booleans())
    if residual:  # sometimes end with a residual block whose paths align
        body = [Conv2d(1, 1, 3, padding=1), ReLU(), Conv2d(1, 1, 3, padding=1)]
        layers = layers + [Residual(body)]
    assume(stack_fits(layers, size))
    rows = receptive_fields(layers, size)
    out = rows[-1].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    whole = _spread_to_input(rows, len(layers) - 1, position, size)
    np.testing.assert_array_equal(path_counts(layers, position, size), whole)
    if not residual:  # and both against an independent reference (it knows no residual blocks)
        np.testing.assert_array_equal(whole, impulse_counts(layers, position, size))


def test_path_counts_follow_the_size_of_the_field_not_of_the_image():
    import tracemalloc

    tracemalloc.start()
    layers = [Conv2d(1, 1, 3, padding=1), Conv2d(1, 1, 3, dilation=2)]
    counts = path_counts(layers, (5000, 7000), (12000, 12000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Second layer: rows 5000, 5002, 5004 of the first; each reads the 3 input rows around it.
    window = counts[4999:5006, 6999:7006]
    assert counts.sum() == window.sum() == 81
    assert window.tolist() == [[a * b for b in (1, 1, 2, 1, 2, 1, 1)] for a in (1, 1, 2, 1, 2, 1, 1)]
    # The 12000 x 12000 answer is allocated untouched (np.zeros); only the crop is computed.
    assert peak < counts.nbytes + 10 * 2 ** 20
