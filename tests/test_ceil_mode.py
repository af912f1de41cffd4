"""Pooling with ceil_mode, count_include_pad=False and divisor_override against torch itself.

Random stacks of pools (and a convolution between them): output sizes and feature maps equal torch's
forward; the field of a neuron equals the input pixels whose gradient is nonzero in torch's autograd
(max pools computed as average pools there, so that every pixel of a window gets a gradient); the
effective receptive field of average pools equals torch's gradient.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import reference

from rfmaps import (AvgPool2d, Conv2d, MaxPool2d, effective_receptive_field, feature_maps, forward_path_counts,
                    from_torch, path_counts,
                    input_region, receptive_fields)

torch = pytest.importorskip("torch")
nn = torch.nn


@st.composite
def pools(draw):
    """A torch pooling module with any of ceil_mode, count_include_pad, divisor_override."""
    k = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 4))
    padding = draw(st.integers(0, k // 2))
    ceil_mode = draw(st.booleans())
    if draw(st.booleans()):
        return nn.MaxPool2d(k, stride, padding, dilation=draw(st.integers(1, 2)), ceil_mode=ceil_mode)
    return nn.AvgPool2d(k, stride, padding, ceil_mode=ceil_mode, count_include_pad=draw(st.booleans()),
                        divisor_override=draw(st.sampled_from([None, None, 3])))


@st.composite
def stacks(draw):
    modules = []
    for _ in range(draw(st.integers(1, 3))):
        modules.append(draw(pools()))
        if draw(st.booleans()):
            modules.append(nn.Conv2d(2, 2, draw(st.integers(1, 3)), padding=draw(st.integers(0, 1))))
    return nn.Sequential(*modules).double().eval()


def as_average(model):
    """The same stack with each max pool computed as an average pool: every tap gets a gradient."""
    out = []
    for m in model:
        if isinstance(m, nn.MaxPool2d):
            # dilation has no average form: a max pool with dilation is checked through its forward only
            m = nn.AvgPool2d(m.kernel_size, m.stride, m.padding, ceil_mode=m.ceil_mode) if m.dilation == 1 else m
        elif isinstance(m, nn.Conv2d):
            m = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, padding=m.padding).double()
            with torch.no_grad():
                m.weight.fill_(1.0)  # positive everywhere: no path's gradient cancels another's
        out.append(m)
    return nn.Sequential(*out).double().eval()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks(), st.integers(1, 13), st.integers(1, 13), st.data())
def test_pools_with_ceil_mode_equal_torch_in_size_maps_and_fields(model, h, w, data):
    x = torch.rand((1, 2, h, w), dtype=torch.float64, generator=torch.Generator().manual_seed(h * 17 + w)) + 1
    try:
        want = model(x)[0].detach().numpy()
    except RuntimeError:  # torch: the output would be empty
        with pytest.raises(ValueError, match="too small"):
            receptive_fields(from_torch(model), (h, w))
        return
    layers = from_torch(model)
    rows = receptive_fields(layers, (h, w))
    assert rows[-1].output_size == want.shape[1:]
    image = np.moveaxis(x[0].numpy(), 0, -1)
    np.testing.assert_allclose(feature_maps(layers, image)[-1], want, rtol=2e-6, atol=2e-6 * np.abs(want).max())
    reference = as_average(model)
    averaged = from_torch(reference)
    position = (data.draw(st.integers(0, want.shape[1] - 1)), data.draw(st.integers(0, want.shape[2] - 1)))
    if any(isinstance(m, nn.MaxPool2d) for m in reference):
        return  # a dilated max pool: fields are checked on stacks whose every window averages
    x.requires_grad_(True)
    reference(x)[0, :, position[0], position[1]].sum().backward()
    grad = x.grad[0].abs().sum(0).numpy()
    hit = np.argwhere(grad != 0)
    box = tuple((int(hit[:, a].min()), int(hit[:, a].max())) for a in (0, 1)) if len(hit) else None
    assert input_region(layers, position, (h, w)) == box
    erf = effective_receptive_field(averaged, position, image)
    np.testing.assert_allclose(erf, grad, rtol=1e-9, atol=1e-12)


def test_the_last_window_may_not_start_in_the_padding_after_the_input():
    # n = 5, k = 2, s = 2, p = 1: rounding up gives 4 windows, the 4th would start at 5 = n: dropped.
    layer = MaxPool2d(2, 2, padding=1, ceil_mode=True)
    assert layer.output_size((5, 5)) == (3, 3) == tuple(nn.MaxPool2d(2, 2, 1, ceil_mode=True)(
        torch.zeros(1, 1, 5, 5)).shape[2:])
    assert MaxPool2d(3, 2, ceil_mode=True).output_size(56) == (28, 28)  # GoogLeNet's first pool at 112
    assert MaxPool2d(3, 2).output_size(56) == (27, 27)


def test_pool_options_are_checked_and_shown():
    with pytest.raises(TypeError, match="ceil_mode must be True or False"):
        MaxPool2d(2, ceil_mode="yes")
    with pytest.raises(TypeError, match="count_include_pad must be True or False"):
        AvgPool2d(2, count_include_pad=None)
    with pytest.raises(ValueError, match="divisor_override must be an int >= 1"):
        AvgPool2d(2, divisor_override=0)
    assert repr(AvgPool2d(3, 2, 1, True, False)) == \
        "AvgPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)"
    assert repr(MaxPool2d(3, 2, ceil_mode=True)) == "MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)"
    assert from_torch(nn.Sequential(nn.AvgPool2d(2, divisor_override=3))) == [AvgPool2d(2, divisor_override=3)]


def test_functional_pools_keep_their_options():
    class Calls(nn.Module):
        def forward(self, x):
            x = nn.functional.max_pool2d(x, 3, 2, 0, 1, True)
            return nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)

    assert from_torch(Calls()) == [MaxPool2d(3, 2, ceil_mode=True), AvgPool2d(3, 2, 1, True, False)]
    with pytest.raises(ValueError, match="return_indices=True makes it return two tensors"):
        from_torch(nn.Sequential(nn.MaxPool2d(2, return_indices=True)))


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data(), st.integers(1, 2), st.integers(1, 14), st.integers(1, 14))
def test_pads_for_is_the_padding_torch_reads_with_ceil_mode(k, stride, data, dilation, h, w):
    # torch's own ceil_mode max pool equals its floor-mode pool on the input padded (with -inf, which
    # never wins) by pads_for: the overhang of the last window is padding after, and nothing more.
    padding = data.draw(st.integers(0, k // 2))
    layer = MaxPool2d(k, stride, padding, dilation, ceil_mode=True)
    x = torch.rand((1, 1, h, w), dtype=torch.float64, generator=torch.Generator().manual_seed(h * 31 + w))
    try:
        want = nn.functional.max_pool2d(x, k, stride, padding, dilation, ceil_mode=True)
    except RuntimeError:
        with pytest.raises(ValueError, match="too small"):
            layer.pads_for((h, w))
        return
    assert layer.output_size((h, w)) == reference.output_size(layer, (h, w)) == tuple(want.shape[2:])
    (top, bottom), (left, right) = layer.pads_for((h, w))
    assert (top, left) == (padding, padding) == (layer.pads[0][0], layer.pads[1][0])  # before: as declared
    padded = nn.functional.pad(x, (left, right, top, bottom), value=-float("inf"))
    got = nn.functional.max_pool2d(padded, k, stride, 0, dilation, ceil_mode=False)
    assert got.shape == want.shape and torch.equal(got, want)
    span = dilation * (k - 1) + 1
    for n, before, after, o in ((h, top, bottom, want.shape[2]), (w, left, right, want.shape[3])):
        assert 0 <= after - before < stride  # the overhang is less than one step
        if after > before:  # ... and no larger than the last window needs: it reaches the end exactly
            assert (o - 1) * stride + span == n + before + after


def test_pads_for_equals_pads_for_every_other_kind():
    from rfmaps import ZeroPad2d
    for layer in (Conv2d(1, 1, 4, padding="same"), ZeroPad2d((0, 1, 2, 3)), MaxPool2d(3, 2, 1), AvgPool2d(2)):
        assert all(layer.pads_for((n, n + 1)) == layer.pads for n in range(4, 12))
    assert MaxPool2d(3, 2, ceil_mode=True).pads == ((0, 0), (0, 0))  # declared: the overhang depends on the size
    assert MaxPool2d(3, 2, ceil_mode=True).pads_for((8, 9)) == ((0, 1), (0, 0))  # 4 windows: 3 on 9 columns fit


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stacks(), st.integers(1, 13), st.integers(1, 13))
def test_ceil_mode_stacks_keep_torch_sizes_and_gradients_on_every_size(model, h, w):
    # The padded buffers of rfmaps._core.sliding are sized by pads_for: a gradient through every layer
    # (max pools with their winners) equals torch's autograd on sizes where the overhang changes.
    x = torch.rand((1, 2, h, w), dtype=torch.float64, generator=torch.Generator().manual_seed(h * 7 + w)) + 1
    try:
        out = model(x)
    except RuntimeError:
        return
    if not torch.isfinite(out).all():
        # A dilated max pool window whose taps all fall in the padding: -inf in both, and torch then sends
        # the gradient to the first pixel of the clipped window, which is no path of the stack.
        return
    layers = from_torch(model)
    position = (out.shape[2] // 2, out.shape[3] // 2)
    x.requires_grad_(True)
    model(x)[0, :, position[0], position[1]].sum().backward()
    image = np.moveaxis(x.detach()[0].numpy(), 0, -1)
    erf = effective_receptive_field(layers, position, image)
    grad = x.grad[0].abs().sum(0).numpy()
    np.testing.assert_allclose(erf, grad, rtol=1e-6, atol=1e-9 * max(grad.max(), 1e-300))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["max", "avg", "conv"]), st.integers(1, 4), st.integers(1, 3),
                          st.data()), min_size=1, max_size=3),
       st.integers(1, 12), st.integers(1, 12), st.data())
def test_path_counts_through_ceil_mode_pools_equal_torch_sum_pools(specs, h, w, data):
    # Path counts are the gradient (backward) and the output for a one-hot input (forward) of the
    # all-ones network; torch's ceil_mode average pool with divisor_override=1 sums each window as
    # PyTorch places it (its overhang reads nothing), so it is that network's pool.
    layers, torch_layers = [], []
    for kind, k, stride, inner in specs:
        padding = inner.draw(st.integers(0, k // 2))
        if kind == "conv":
            layers.append(Conv2d(1, 1, k, stride, padding))
            conv = nn.Conv2d(1, 1, k, stride, padding, bias=False).double()
            with torch.no_grad():
                conv.weight.fill_(1.0)
            torch_layers.append(conv)
        else:
            layers.append((MaxPool2d if kind == "max" else AvgPool2d)(k, stride, padding, ceil_mode=True))
            torch_layers.append(nn.AvgPool2d(k, stride, padding, ceil_mode=True, divisor_override=1))
    model = nn.Sequential(*torch_layers)
    x = torch.zeros((1, 1, h, w), dtype=torch.float64, requires_grad=True)
    try:
        out = model(x)
    except RuntimeError:
        return
    position = (data.draw(st.integers(0, out.shape[2] - 1)), data.draw(st.integers(0, out.shape[3] - 1)))
    out[0, 0, position[0], position[1]].backward()
    np.testing.assert_array_equal(path_counts(layers, position, (h, w)), x.grad[0, 0].numpy())
    pixel = (data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1)))
    one_hot = torch.zeros((1, 1, h, w), dtype=torch.float64)
    one_hot[0, 0, pixel[0], pixel[1]] = 1.0
    with torch.no_grad():
        np.testing.assert_array_equal(forward_path_counts(layers, pixel, (h, w)), model(one_hot)[0, 0].numpy())


@pytest.mark.parametrize("k, s, p, n", [(3, 2, 0, 8), (2, 2, 1, 5), (3, 2, 1, 10), (2, 2, 0, 7)])
def test_the_size_check_knows_ceil_mode(k, s, p, n, capsys):
    from rfmaps import check

    layer = MaxPool2d(k, s, p, ceil_mode=True)
    right = nn.MaxPool2d(k, s, p, ceil_mode=True)(torch.zeros(1, 1, n, n)).shape[2]
    floor = (n + 2 * p - k) // s + 1
    up = -(-(n + 2 * p - k) // s) + 1
    assert check.check_output_size(layer, n, right) and "is right" in capsys.readouterr().out
    if floor != right:
        assert not check.check_output_size(layer, n, floor)
        assert "you rounded down: with ceil_mode=True" in capsys.readouterr().out
    if up != right:  # PyTorch dropped a window that would start in the padding after the input
        assert not check.check_output_size(layer, n, up)
        assert "drops that window" in capsys.readouterr().out
    assert floor != right or up != right  # each case asks at least one of the two
