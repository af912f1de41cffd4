"""Layers that grow maps again (ConvTranspose2d, Upsample): arithmetic and engine against brute force."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rfmaps import (AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Residual, Upsample, feature_maps,
                    forward_path_counts, input_region, path_counts, projective_field, receptive_fields)
from rfmaps.engine.kernels import layer_weights
from reference import backward_paths, input_sizes, layer_loops

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@st.composite
def layer(draw):
    kind = draw(st.sampled_from(["up", "up", "upsample", "conv", "max", "avg", "relu"]))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    if kind == "up":
        op = tuple(draw(st.integers(0, max(s[a], d[a]) - 1)) for a in (0, 1))
        return ConvTranspose2d(1, 1, k, s, (draw(st.integers(0, 2)), draw(st.integers(0, 2))), op, 1, d)
    if kind == "upsample":
        return Upsample((draw(st.integers(1, 3)), draw(st.integers(1, 3))))
    if kind == "conv":
        return Conv2d(1, 1, k, s, (draw(st.integers(0, 2)), draw(st.integers(0, 2))), d)
    if kind == "relu":
        return ReLU()
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    return (MaxPool2d if kind == "max" else AvgPool2d)(k, s, padding)


def fits(layers, size):
    try:
        receptive_fields(layers, size)
        return True
    except ValueError:
        return False


def box(pixels):
    return tuple((min(p[a] for p in pixels), max(p[a] for p in pixels)) for a in (0, 1)) if pixels else None


@settings(max_examples=120, **SETTINGS)
@given(st.lists(layer(), min_size=1, max_size=3), st.tuples(st.integers(1, 6), st.integers(1, 6)), st.data())
def test_fields_of_every_neuron_against_brute_force(layers, size, data):
    assume(fits(layers, size))
    rows = receptive_fields(layers, size)
    assert [r.output_size for r in rows] == input_sizes(layers, size)[1:]
    depth = data.draw(st.integers(0, len(layers) - 1))
    sub, row = layers[: depth + 1], rows[depth]
    assume(row.output_size[0] * row.output_size[1] <= 300)  # every neuron, by brute force
    widths = []
    for r in range(row.output_size[0]):
        for c in range(row.output_size[1]):
            unbounded = box(backward_paths(sub, (r, c), size, bounded=False))
            assert input_region(layers, (r, c), size, layer=depth, clip=False) == unbounded
            assert input_region(layers, (r, c), size, layer=depth) == box(backward_paths(sub, (r, c), size))
            if unbounded is not None:
                widths.append(tuple(h - l + 1 for l, h in unbounded))
            if (r, c) == (0, 0) and unbounded is not None:
                assert row.start == tuple(Fraction(l + h, 2) for l, h in unbounded)
    # The row's rf_size is the largest field of any neuron of the layer, per axis.
    assert row.rf_size == tuple(max((w[a] for w in widths), default=0) for a in (0, 1))
    # Path counts: every pixel, against explicit loops.
    position = (data.draw(st.integers(0, row.output_size[0] - 1)), data.draw(st.integers(0, row.output_size[1] - 1)))
    brute = np.zeros(size, dtype=np.int64)
    for (i, j), count in backward_paths(sub, position, size).items():
        brute[i, j] = count
    np.testing.assert_array_equal(path_counts(layers, position, size, layer=depth), brute)


@settings(max_examples=60, **SETTINGS)
@given(st.lists(layer(), min_size=1, max_size=3), st.tuples(st.integers(1, 6), st.integers(1, 6)))
def test_feature_maps_match_explicit_loops(layers, size):
    assume(fits(layers, size))
    rng = np.random.default_rng(0)
    weighted = []
    for item in layers:
        if isinstance(item, ConvTranspose2d):
            item = ConvTranspose2d(1, 2, item.kernel_size, item.stride, item.padding, item.output_padding, 1,
                                   item.dilation, weight=rng.normal(size=(1, 2) + item.kernel_size),
                                   bias=rng.normal(size=2))
            weighted += [item, Conv2d(2, 1, 1, weight=np.ones((1, 2, 1, 1)))]
        else:
            weighted.append(item)
    assume(fits(weighted, size))
    x = rng.random(size)
    reference = x[None]
    for item, weight, got in zip(weighted, layer_weights(weighted), feature_maps(weighted, x)):
        reference = layer_loops(item, reference, weight, getattr(item, "bias", None))
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-4 * max(1, np.abs(reference).max()))


def test_transposed_convolution_by_hand():
    # Stride 2, kernel 3, padding 1, output_padding 1: 4 -> 8, as in a U-Net decoder.
    up = ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)
    assert up.output_size((4, 4)) == (8, 8)
    rows = receptive_fields([up], 4)
    assert rows[0].jump == (Fraction(1, 2), Fraction(1, 2))
    # Even outputs read one input (tap 1), odd outputs two (taps 0 and 2): fields of 1 and 2 pixels.
    assert input_region([up], (2, 2), 4) == ((1, 1), (1, 1))
    assert input_region([up], (3, 3), 4) == ((1, 2), (1, 2))
    assert rows[0].rf_size == (2, 2) and not rows[0].uniform
    with pytest.raises(ValueError, match="phase"):
        rows[0].centre((1, 1))


def test_checkerboard_of_uneven_overlap():
    # Kernel 3, stride 2 (Odena et al.): pixels of two phases get one and two paths, alternately.
    up = ConvTranspose2d(1, 1, 3, stride=2)
    counts = feature_maps([ConvTranspose2d(1, 1, 3, stride=2, weight=np.ones((1, 1, 3, 3)))], np.ones((4, 4)))[0][0]
    assert counts[2:6, 2:6].tolist() == [[4, 2, 4, 2], [2, 1, 2, 1], [4, 2, 4, 2], [2, 1, 2, 1]]
    assert up.output_size((4, 4)) == (9, 9)


def test_upsample_copies_blocks_and_its_fields_are_whole_input_pixels():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(feature_maps([Upsample(2)], x)[0][0], np.kron(x, np.ones((2, 2))))
    assert input_region([Upsample(2), Conv2d(1, 1, 3)], (1, 1), 4) == ((0, 1), (0, 1))
    assert receptive_fields([Upsample(2), Conv2d(1, 1, 3)], 4)[-1].rf_size == (2, 2)


@pytest.mark.parametrize("build, name", [
    (lambda: ConvTranspose2d(1, 1, 3, stride=2, output_padding=2), "output_padding"),
    (lambda: ConvTranspose2d(2, 3, 3, groups=2), "out_channels must be divisible"),
    (lambda: ConvTranspose2d(1, 1, 3, weight=np.ones((1, 1, 2, 2))), "weight"),
    (lambda: Upsample(0), "scale_factor"),
    (lambda: Upsample(2, mode="bilinear"), "mode"),
    (lambda: Residual([Upsample(2), Conv2d(1, 1, 2, stride=2)]), "residual"),
    (lambda: receptive_fields([ConvTranspose2d(1, 1, 1, padding=2)], 3), "too small"),
])
def test_bad_new_layers_are_refused(build, name):
    with pytest.raises(ValueError, match=name):
        build()


@st.composite
def any_layer(draw):
    """Every kind, residual blocks included (single channel)."""
    if draw(st.integers(0, 5)) == 0:
        k = draw(st.sampled_from([1, 3]))
        return Residual([Conv2d(1, 1, k, padding=k // 2), ReLU()], draw(st.sampled_from([[], [Conv2d(1, 1, 1)]])))
    return draw(layer())


@settings(max_examples=150, **SETTINGS)
@given(st.lists(any_layer(), min_size=1, max_size=3), st.tuples(st.integers(1, 7), st.integers(1, 7)), st.data())
def test_projective_field_is_the_box_an_impulse_reaches(layers, size, data):
    assume(fits(layers, size))
    depth = data.draw(st.integers(0, len(layers) - 1))
    pixel = (data.draw(st.integers(0, size[0] - 1)), data.draw(st.integers(0, size[1] - 1)))
    # An impulse through the all-ones network (explicit loops, pooling as a sum of its window).
    impulse = np.zeros((1,) + size)
    impulse[0][pixel] = 1.0
    reached = impulse
    for item in layers[: depth + 1]:
        kind = type(item).__name__
        if kind in ("MaxPool2d", "AvgPool2d"):
            item = Conv2d(1, 1, item.kernel_size, item.stride, item.padding, item.dilation)
        weight = None if kind in ("ReLU", "Upsample", "Residual") else np.ones((1, 1) + tuple(item.kernel_size))
        if kind == "Residual":
            item = Residual([Conv2d(1, 1, l.kernel_size, l.stride, l.padding, weight=np.ones((1, 1) + l.kernel_size))
                             if isinstance(l, Conv2d) else l for l in item.body],
                            [Conv2d(1, 1, 1, weight=np.ones((1, 1, 1, 1)))] if item.shortcut else [])
        reached = layer_loops(item, reached, weight)
    counts = forward_path_counts(layers, pixel, size, layer=depth)
    np.testing.assert_array_equal(counts, reached[0])
    expected = box([tuple(p) for p in np.argwhere(reached[0] > 0)])
    assert projective_field(layers, pixel, size, layer=depth) == expected
    # Duality: the pixel lies in the receptive field of exactly the neurons that count it.
    out = receptive_fields(layers, size)[depth].output_size
    for r in range(0, out[0], max(1, out[0] // 4)):
        for c in range(0, out[1], max(1, out[1] // 4)):
            assert path_counts(layers, (r, c), size, layer=depth)[pixel] == counts[r, c]


def test_projective_field_by_hand():
    assert projective_field([Conv2d(1, 1, 3)] * 2, (0, 0), 9) == ((0, 0), (0, 0))
    assert projective_field([Conv2d(1, 1, 3, stride=2)], (4, 5), 9) == ((1, 2), (2, 2))
    assert projective_field([Conv2d(1, 1, 1, stride=2)], (1, 2), 6) is None
    with pytest.raises(ValueError, match="pixel row must be from 0 to 5"):
        projective_field([Conv2d(1, 1, 1)], (6, 0), 6)


def test_upsample_given_a_size_or_no_factor_says_what_to_give():
    with pytest.raises(TypeError, match=r"Upsample takes scale_factor, not size \(got size=16\).*Upsample\(scale_factor=2\)"):
        Upsample(size=16)
    with pytest.raises(TypeError, match="Upsample needs scale_factor, a whole number >= 1"):
        Upsample()


def test_from_torch_names_a_zero_scale_factor_not_size():
    torch = pytest.importorskip("torch")
    from rfmaps import from_torch

    with pytest.raises(ValueError, match=r"no scale_factor \(torch reads scale_factor=0 as not set\)"):
        from_torch(torch.nn.Sequential(torch.nn.Upsample(scale_factor=0)))
    with pytest.raises(ValueError, match="size= depends on the input size"):
        from_torch(torch.nn.Sequential(torch.nn.Upsample(size=16)))
