"""PyTorch as the oracle: output sizes, feature maps, gradients and channel dependence.

torch is a test-only dependency (the ``test`` extra pins the CPU build); without it
these tests skip. Every stack is random and mixes every layer kind.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rfmaps import (AvgPool2d, Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Residual, Upsample, ZeroPad2d,
                    effective_receptive_field,
                    feature_maps, input_channels, input_region, path_counts, receptive_fields)
from rfmaps.engine.kernels import layer_weights
from reference import torch_layer

torch = pytest.importorskip("torch")
F = torch.nn.functional


def torch_forward(layers, x, ones=False):
    """Outputs of every layer, as torch tensors."""
    outs = []
    for layer, weight in zip(layers, layer_weights(layers)):
        x = torch_layer(layer, weight, ones)(x)
        outs.append(x)
    return outs


@st.composite
def stacks(draw, channels=None):
    """A random stack of every layer kind, with its input channels and image size."""
    first = channels = draw(st.sampled_from([1, 2, 3, 4])) if channels is None else channels
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "group", "max", "avg", "relu", "pad", "block", "up", "up",
                                     "upsample"]))
        k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        s = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
        if kind in ("conv", "group"):
            groups = 1 if kind == "conv" else draw(st.sampled_from([g for g in (1, 2, 3, 4) if channels % g == 0]))
            out = groups * draw(st.integers(1, 2))
            d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            weight = draw(st.booleans())
            shape = (out, channels // groups) + k
            seed = draw(st.integers(0, 2 ** 16))
            extra = {}
            if weight:
                local = np.random.default_rng(seed)
                extra = dict(weight=local.normal(size=shape), bias=local.normal(size=out))
            layers.append(Conv2d(channels, out, k, s, (draw(st.integers(0, 2)), draw(st.integers(0, 2))), d, groups,
                                 **extra))
            channels = out
        elif kind == "up":
            groups = draw(st.sampled_from([g for g in (1, 2) if channels % g == 0]))
            out = groups * draw(st.integers(1, 2))
            d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            output_padding = tuple(draw(st.integers(0, max(s[a], d[a]) - 1)) for a in (0, 1))
            extra = {}
            if draw(st.booleans()):
                local = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
                extra = dict(weight=local.normal(size=(channels, out // groups) + k), bias=local.normal(size=out))
            padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
            layers.append(ConvTranspose2d(channels, out, k, s, padding, output_padding, groups, d, **extra))
            channels = out
        elif kind == "upsample":
            layers.append(Upsample((draw(st.integers(1, 3)), draw(st.integers(1, 3)))))
        elif kind == "max":
            layers.append(MaxPool2d(k, s, (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2))),
                                    (draw(st.integers(1, 2)), 1)))
        elif kind == "avg":
            layers.append(AvgPool2d(k, s, (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))))
        elif kind == "relu":
            layers.append(ReLU())
        elif kind == "pad":
            layers.append(ZeroPad2d(tuple(draw(st.integers(0, 2)) for _ in range(4))))
        else:
            kk = draw(st.sampled_from([1, 3]))
            g = draw(st.sampled_from([g for g in (1, 2, 3, 4) if channels % g == 0]))
            layers.append(Residual([Conv2d(channels, channels, kk, padding=kk // 2, groups=g), ReLU()],
                                   draw(st.sampled_from([[], [Conv2d(channels, channels, 1)]]))))
    size = (draw(st.integers(2, 10)), draw(st.integers(2, 10)))
    return layers, first, size


def fits(layers, size):
    try:
        receptive_fields(layers, size)
        return True
    except ValueError:
        return False


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])


@settings(max_examples=200, **SETTINGS)
@given(stacks())
def test_output_sizes_and_feature_maps_match_torch(stack):
    layers, channels, size = stack
    assume(fits(layers, size))
    image = np.random.default_rng(0).random(size + (channels,))
    maps = feature_maps(layers, image)
    x = torch.tensor(np.moveaxis(image, -1, 0)[None], dtype=torch.float64)
    expected = torch_forward(layers, x)
    rows = receptive_fields(layers, size)
    for row, got, want in zip(rows, maps, expected):
        want = want[0].numpy()
        assert got.shape == want.shape and row.output_size == want.shape[1:]
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * max(1.0, np.abs(want).max()))


@settings(max_examples=150, **SETTINGS)
@given(stacks(), st.data())
def test_effective_receptive_field_equals_torch_autograd(stack, data):
    layers, channels, size = stack
    assume(fits(layers, size))
    out = receptive_fields(layers, size)[-1].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    image = np.random.default_rng(1).random(size + (channels,))
    # A dilated max pool can have a window of nothing but padding (-inf out); PyTorch then
    # sends the gradient to an arbitrary pixel, so such stacks are no oracle for the gradient.
    assume(all(np.isfinite(m).all() for m in feature_maps(layers, image)))
    erf = effective_receptive_field(layers, position, image)
    x = torch.tensor(np.moveaxis(image, -1, 0)[None], dtype=torch.float64, requires_grad=True)
    torch_forward(layers, x)[-1][0, :, position[0], position[1]].sum().backward()
    expected = x.grad[0].abs().sum(0).numpy()
    np.testing.assert_allclose(erf, expected, rtol=1e-7, atol=1e-9)


@settings(max_examples=150, **SETTINGS)
@given(stacks(channels=1), st.data())
def test_path_counts_and_regions_equal_the_gradient_of_an_all_ones_network(stack, data):
    layers, _, size = stack
    assume(fits(layers, size))
    depth = data.draw(st.integers(0, len(layers) - 1))
    out = receptive_fields(layers, size)[depth].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    x = torch.zeros((1, 1) + size, dtype=torch.float64, requires_grad=True)
    torch_forward(layers[: depth + 1], x, ones=True)[-1][0, :, position[0], position[1]].sum().backward()
    gradient = x.grad[0, 0].numpy()
    counts = path_counts(layers, position, size, layer=depth)
    np.testing.assert_array_equal(counts.astype(float), gradient)
    reached = np.argwhere(gradient > 0)
    box = None if len(reached) == 0 else tuple(
        (int(reached[:, a].min()), int(reached[:, a].max())) for a in (0, 1))
    assert input_region(layers, position, size, layer=depth) == box


def all_ones(layer):
    """The same layer with all-ones kernels (inside blocks too)."""
    if isinstance(layer, Residual):
        return Residual([all_ones(l) for l in layer.body], [all_ones(l) for l in layer.shortcut])
    if isinstance(layer, (Conv2d, ConvTranspose2d)):
        arguments = {name: getattr(layer, name) for name in layer.__dataclass_fields__ if name not in ("_", "bias")}
        arguments["weight"] = np.ones(layer.weight_shape)
        return type(layer)(**arguments)
    return layer


@settings(max_examples=150, **SETTINGS)
@given(stacks(), st.data())
def test_input_channels_equal_what_autograd_finds(stack, data):
    layers, channels, size = stack
    assume(fits(layers, size))
    depth = data.draw(st.integers(0, len(layers) - 1))
    maps = receptive_fields(layers[: depth + 1], size)
    out_channels = feature_maps(layers[: depth + 1], np.zeros(size + (channels,)))[-1].shape[0]
    channel = data.draw(st.integers(0, out_channels - 1))
    # All-ones kernels (channels kept, groups kept) on a positive image: no gradient cancels.
    positive = [all_ones(l) for l in layers[: depth + 1]]
    x = torch.ones((1, channels) + size, dtype=torch.float64, requires_grad=True)
    torch_forward(positive, x)[-1][0, channel].sum().backward()
    # A map no input pixel reaches (a transposed convolution can skip every phase) depends on nothing
    # spatially; input_channels answers for the channel wiring, so such stacks say nothing here.
    assume(x.grad is not None and x.grad.abs().sum() > 0)
    found = tuple(int(c) for c in np.flatnonzero(x.grad[0].abs().sum((1, 2)).numpy()))
    assert input_channels(layers, channel, layer=depth) == found
    assert maps[-1].output_size  # the stack runs up to that layer


def test_depthwise_then_pointwise_channel_fields():
    depthwise, pointwise = Conv2d(6, 6, 3, groups=6), Conv2d(6, 4, 1)
    assert input_channels([depthwise], 4) == (4,)
    assert input_channels([depthwise, ReLU(), pointwise], 3) == tuple(range(6))
    assert input_channels([Conv2d(6, 4, 3, groups=2)], 3) == (3, 4, 5)
    with pytest.raises(ValueError, match="channel must be an int from 0 to 3"):
        input_channels([depthwise, pointwise], 4)
