"""The engine against explicit loops, hand-worked cases and finite differences."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rfmaps import (AvgPool2d, Conv2d, MaxPool2d, ReLU, effective_receptive_field,
                    feature_maps, input_region, kernels, receptive_fields)
from reference import forward_loops, layer_loops

rng = np.random.default_rng(0)


def random_conv(cin, cout, k, **kw):
    kh, kw_ = (k, k) if isinstance(k, int) else k
    return Conv2d(cin, cout, k, weight=rng.normal(size=(cout, cin // kw.get("groups", 1), kh, kw_)),
                  bias=rng.normal(size=cout), **kw)


@pytest.mark.parametrize("layer", [
    random_conv(3, 4, 3),
    random_conv(2, 3, (2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
    random_conv(1, 2, 4, padding="same"),
    random_conv(3, 1, 3, stride=3, dilation=2, padding=2),
    random_conv(4, 6, 3, stride=2, padding=1, groups=2),
    random_conv(3, 3, (3, 2), dilation=(2, 1), padding=1, groups=3),  # depthwise
    random_conv(2, 4, 2, padding="same", groups=2),
    MaxPool2d(3, stride=2, padding=1),
    MaxPool2d((2, 3), stride=1, dilation=(2, 1), padding=(1, 1)),
    AvgPool2d(3, stride=2, padding=1),
    AvgPool2d((1, 2)),
    ReLU(),
])
def test_each_layer_matches_explicit_loops(layer):
    channels = getattr(layer, "in_channels", 2)
    x = rng.normal(size=(11, 9, channels))
    got = feature_maps([layer], x)[0]
    expected = layer_loops(layer, np.moveaxis(x, -1, 0), getattr(layer, "weight", None),
                           getattr(layer, "bias", None))
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.data())
def test_random_stacks_match_explicit_loops(data):
    channels = data.draw(st.sampled_from([1, 3]))
    layers = []
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["conv", "conv", "max", "avg", "relu"]))
        k = data.draw(st.integers(1, 3))
        s = data.draw(st.integers(1, 2))
        if kind == "conv":
            out = data.draw(st.integers(1, 3))
            layers.append(random_conv(channels, out, k, stride=s, padding=data.draw(st.integers(0, 1)),
                                      dilation=data.draw(st.integers(1, 2))))
            channels = out
        elif kind == "relu":
            layers.append(ReLU())
        else:
            cls = MaxPool2d if kind == "max" else AvgPool2d
            layers.append(cls(k, stride=s, padding=data.draw(st.integers(0, k // 2))))
    size = data.draw(st.integers(3, 10))
    try:
        receptive_fields(layers, size)
    except ValueError:
        assume(False)
    first = next((l.in_channels for l in layers if isinstance(l, Conv2d)), channels)
    x = rng.random((size, size, first))
    maps = feature_maps(layers, x)
    reference = np.moveaxis(x, -1, 0)
    for layer, got in zip(layers, maps):
        reference = layer_loops(layer, reference, getattr(layer, "weight", None), getattr(layer, "bias", None))
        np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("block", [1, 60, 400])
def test_row_blocks_join_without_seams(monkeypatch, block):
    # Large images go a block of output rows at a time; force tiny blocks on a small one.
    import rfmaps.layers.conv
    monkeypatch.setattr(rfmaps.layers.conv, "_BLOCK_ELEMENTS", block)
    layers = [random_conv(3, 4, 5, stride=2, padding=2), ReLU(),
              random_conv(4, 3, 3, padding=2, dilation=2), random_conv(3, 2, (3, 2), stride=(3, 1), padding=1)]
    x = rng.random((17, 13, 3))
    reference = np.moveaxis(x, -1, 0)
    for layer, got in zip(layers, feature_maps(layers, x)):
        reference = layer_loops(layer, reference, getattr(layer, "weight", None), getattr(layer, "bias", None))
        # float32 against float64: errors scale with the largest value, not with each one
        np.testing.assert_allclose(got, reference, rtol=0, atol=1e-6 * np.abs(reference).max())


def test_kept_kernel_matrices_follow_the_layer():
    # Same geometry, other weights, in turns: a stale kept matrix would show.
    first, second = random_conv(2, 3, 3, padding=1), random_conv(2, 3, 3, padding=1)
    x = rng.random((6, 7, 2))
    for layer in [first, second, first, second]:
        expected = layer_loops(layer, np.moveaxis(x, -1, 0), layer.weight, layer.bias)
        np.testing.assert_allclose(feature_maps([layer], x)[0], expected, rtol=1e-5, atol=1e-5)


GEOMETRIES = [dict(), dict(stride=2), dict(dilation=2), dict(stride=2, dilation=2), dict(stride=3, dilation=2),
              dict(stride=(2, 1), dilation=(1, 3), padding=2)]


def test_one_weight_array_shared_by_many_geometries():
    # Every cached kernel matrix must depend on the whole geometry, not only on the weights.
    weight = rng.normal(size=(4, 2, 3, 3))
    weight.setflags(write=False)  # read-only arrays are the ones kept between calls
    x = rng.random((2, 14, 13))
    for _ in range(2):
        for geometry in GEOMETRIES:
            layer = Conv2d(2, 4, 3, **geometry)
            out = np.empty((4,) + layer.output_size(x.shape[1:]))
            expected = layer_loops(layer, x, weight)
            np.testing.assert_allclose(layer.forward(x, weight, out), expected, rtol=1e-10, atol=1e-10)
        # The same array as the kernels of a grouped layer: 4 channels in, 2 groups of 2.
        grouped = Conv2d(4, 4, 3, groups=2)
        x4 = np.concatenate([x, x[::-1] * 0.5])
        out = np.empty((4,) + grouped.output_size(x4.shape[1:]))
        np.testing.assert_allclose(grouped.forward(x4, weight, out), layer_loops(grouped, x4, weight),
                                   rtol=1e-10, atol=1e-10)


def test_default_kernel_layers_match_explicit_loops():
    # Layers without weights share the default bank: one array across every geometry.
    x = rng.random((15, 14, 3))
    for _ in range(2):
        for geometry in GEOMETRIES:
            layers = [Conv2d(3, 4, 3, **geometry), ReLU(), Conv2d(4, 2, 2, **geometry)]
            try:
                maps = feature_maps(layers, x)
            except ValueError:
                continue  # too small for this geometry
            reference = np.moveaxis(x, -1, 0)
            for layer, weight, got in zip(layers, kernels.layer_weights(layers), maps):
                reference = layer_loops(layer, reference, weight)
                np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-5)


def test_edge_kernel_on_a_step_image_by_hand():
    step = np.zeros((5, 6))
    step[:, 3:] = 1.0
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], float)[None, None]
    out = feature_maps([Conv2d(1, 1, 3, weight=sobel)], step)[0][0]
    # Windows centred on columns 1..4: only those straddling the edge respond (4 = 1 + 2 + 1).
    np.testing.assert_array_equal(out, np.tile([0, 4, 4, 0], (3, 1)))


def test_pooling_by_hand():
    x = np.arange(16, dtype=float).reshape(4, 4)
    np.testing.assert_array_equal(feature_maps([MaxPool2d(2)], x)[0][0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(feature_maps([AvgPool2d(2)], x)[0][0], [[2.5, 4.5], [10.5, 12.5]])
    # Zero padding counts in the average, as PyTorch's default count_include_pad=True.
    ones = np.ones((2, 2))
    np.testing.assert_allclose(feature_maps([AvgPool2d(2, stride=2, padding=1)], ones)[0][0],
                               [[0.25, 0.25], [0.25, 0.25]])
    # Padding never wins a max, even over negative values.
    np.testing.assert_array_equal(feature_maps([MaxPool2d(2, padding=1)], -ones)[0][0], -np.ones((2, 2)))


def test_integer_images_are_scaled_and_colour_channels_counted():
    gray = np.full((4, 4), 255, dtype=np.uint8)
    assert feature_maps([AvgPool2d(2)], gray)[0].max() == 1.0
    rgb = np.zeros((8, 8, 3))
    assert feature_maps([Conv2d(3, 5, 3)], rgb)[0].shape == (5, 6, 6)


def test_default_bank_is_reproducible_and_recognisable():
    a = feature_maps([Conv2d(3, 16, 5), ReLU(), Conv2d(16, 8, 3)], np.random.default_rng(1).random((20, 20, 3)))
    b = feature_maps([Conv2d(3, 16, 5), ReLU(), Conv2d(16, 8, 3)], np.random.default_rng(1).random((20, 20, 3)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    names = kernels.bank_names(10)
    assert names[:2] == ["vertical edge", "horizontal edge"] and "blur" in names and "blob" in names
    bank = kernels.bank(5, 16, 3)
    assert bank.shape == (16, 3, 5, 5)
    assert len({k.tobytes() for k in bank}) == 16  # sixteen different kernels
    # The vertical-edge kernel answers a vertical step, not a horizontal one.
    step = np.zeros((9, 9))
    step[:, 5:] = 1
    out = feature_maps([Conv2d(1, 2, 5)], step)[0]
    assert out[0].max() > 0.5 and np.abs(out[1]).max() < 1e-6


def test_channels_must_chain():
    with pytest.raises(ValueError, match=r"layer 0 .*in_channels=3.*image has 1 channel"):
        feature_maps([Conv2d(3, 4, 3)], np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"layer 2 .*in_channels=8.*input has 4 channels"):
        feature_maps([Conv2d(1, 4, 3), ReLU(), Conv2d(8, 2, 3)], np.zeros((8, 8)))


@pytest.mark.parametrize("image, words", [
    (np.full((5, 5), np.nan), "NaN"),
    (np.zeros((5,)), "shape"),
    (np.zeros((0, 4)), "shape"),
    (np.array([[300, 2]]), "0..255"),
])
def test_bad_images_are_refused(image, words):
    with pytest.raises(ValueError, match=words):
        feature_maps([ReLU()], image)


def test_memory_stays_near_the_output_size():
    import tracemalloc

    image = np.zeros((256, 256, 3), dtype=np.float32)
    layers = [Conv2d(3, 16, 3, padding=1), ReLU(), Conv2d(16, 16, 3, padding=1)]
    tracemalloc.start()
    maps = feature_maps(layers, image)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    result = sum(m.nbytes for m in maps)
    # A full im2col of the second conv alone would need 16*9*256*256*4 bytes = 37.7 MB.
    assert peak < result + 20e6


def numerical_gradient(layers, x, position, channel):
    """Central differences of the explicit-loop network, one input value at a time."""
    grad = np.zeros_like(x)
    eps = 1e-6
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        f = lambda v: forward_loops(layers, np.moveaxis(v, -1, 0))[:, position[0], position[1]]
        diff = (f(up) - f(down)) / (2 * eps)
        grad[index] = diff.sum() if channel is None else diff[channel]
    return grad


@pytest.mark.parametrize("seed", range(4))
def test_effective_receptive_field_equals_finite_differences(seed):
    local = np.random.default_rng(seed)
    conv = lambda cin, cout, k, **kw: Conv2d(cin, cout, k, weight=local.normal(size=(cout, cin, k, k)),
                                             bias=local.normal(size=cout) * 0.1, **kw)
    # Seeds 2 and 3 pool with overlapping, padded windows (padding must never win).
    pool = MaxPool2d(2) if seed < 2 else MaxPool2d(3, stride=2, padding=1)
    layers = [conv(2, 3, 3, padding=1), ReLU(), pool, conv(3, 2, 3, padding=seed // 2, dilation=2), ReLU(),
              AvgPool2d(2, stride=1)]
    x = local.random((12, 12, 2))
    out = receptive_fields(layers, 12)[-1].output_size
    position = (int(local.integers(out[0])), int(local.integers(out[1])))
    channel = None if seed % 2 else 1
    erf = effective_receptive_field(layers, position, x, channel=channel)
    expected = np.abs(numerical_gradient(layers, x, position, channel)).sum(axis=-1)
    np.testing.assert_allclose(erf, expected, atol=1e-5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.data())
def test_effective_field_never_leaves_the_theoretical_one(data):
    layers = []
    channels = 1
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["conv", "max", "relu"]))
        if kind == "conv":
            layers.append(Conv2d(channels, 2, data.draw(st.integers(1, 3)),
                                 stride=data.draw(st.integers(1, 2)),
                                 padding=data.draw(st.integers(0, 2)),
                                 dilation=data.draw(st.integers(1, 2))))
            channels = 2
        elif kind == "max":
            layers.append(MaxPool2d(2))
        else:
            layers.append(ReLU())
    size = data.draw(st.integers(4, 16))
    try:
        out = receptive_fields(layers, size)[-1].output_size
    except ValueError:
        assume(False)
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    image = np.random.default_rng(0).random((size, size))
    erf = effective_receptive_field(layers, position, image)
    region = input_region(layers, position, size)
    mask = np.zeros(erf.shape, bool)
    if region is not None:
        (t, b), (l, r) = region
        mask[t: b + 1, l: r + 1] = True
    assert not erf[~mask].any()


def test_erf_refuses_a_bad_channel():
    with pytest.raises(ValueError, match="channel must be an int from 0 to 3"):
        effective_receptive_field([Conv2d(1, 4, 3)], (0, 0), np.zeros((5, 5)), channel=4)


@pytest.mark.parametrize("block", [None, 5000])
def test_far_apart_kernel_rows_match_explicit_loops(monkeypatch, block):
    # A dilation much larger than a block of rows: each row shift gets its own window matrix.
    import rfmaps.layers.conv
    if block:
        monkeypatch.setattr(rfmaps.layers.conv, "_BLOCK_ELEMENTS", block)
    layers = [random_conv(4, 6, 3, stride=(2, 1), padding=3, dilation=(9, 4), groups=2),
              random_conv(6, 2, (2, 3), dilation=(7, 1))]
    x = rng.random((41, 23, 4))
    reference = np.moveaxis(x, -1, 0)
    for layer, got in zip(layers, feature_maps(layers, x)):
        reference = layer_loops(layer, reference, layer.weight, layer.bias)
        np.testing.assert_allclose(got, reference, rtol=0, atol=1e-6 * np.abs(reference).max())
