"""Residual blocks and ZeroPad2d against brute force; the refusals that keep numbers honest."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rfmaps import (AvgPool2d, Conv2d, MaxPool2d, ReLU, Residual, ZeroPad2d, effective_receptive_field,
                    feature_maps, input_region, path_counts, receptive_fields)
from reference import backward_paths, forward_loops, input_sizes
from test_engine import numerical_gradient

rng = np.random.default_rng(3)


def conv(cin, cout, k, **kw):
    return Conv2d(cin, cout, k, weight=rng.normal(size=(cout, cin, k, k)), bias=rng.normal(size=cout) * 0.1, **kw)


@st.composite
def block(draw):
    """An aligned residual block: a padded body, an identity or strided 1 x 1 shortcut."""
    stride = draw(st.integers(1, 2))
    k1, k2 = draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3]))
    d = draw(st.integers(1, 2))
    body = [Conv2d(1, 1, k1, padding=d * (k1 - 1) // 2, dilation=d), ReLU(),
            Conv2d(1, 1, k2, stride=stride, padding=(k2 - 1) // 2)]
    shortcut = [] if stride == 1 and draw(st.booleans()) else [Conv2d(1, 1, 1, stride=stride)]
    return Residual(body, shortcut)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(st.one_of(block(), st.just(Conv2d(1, 1, 3)), st.just(ZeroPad2d((0, 1, 2, 0)))),
                min_size=1, max_size=3),
       st.integers(4, 14), st.data())
def test_arithmetic_of_blocks_matches_brute_force(layers, size, data):
    try:
        rows = receptive_fields(layers, size)
    except ValueError:
        assume(False)
    assert [r.output_size for r in rows] == input_sizes(layers, (size, size))[1:]
    out = rows[-1].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    support = backward_paths(layers, position, (size, size), bounded=False)
    low = [min(p[a] for p in support) for a in (0, 1)]
    high = [max(p[a] for p in support) for a in (0, 1)]
    assert input_region(layers, position, size, clip=False) == tuple(zip(low, high))
    reached = backward_paths(layers, position, (size, size))
    box = tuple((min(p[a] for p in reached), max(p[a] for p in reached)) for a in (0, 1)) if reached else None
    assert input_region(layers, position, size) == box
    brute = np.zeros((size, size), dtype=np.int64)
    for (i, j), c in backward_paths(layers, position, (size, size)).items():
        brute[i, j] = c
    np.testing.assert_array_equal(path_counts(layers, position, size), brute)


def test_small_residual_network_runs_and_matches_loops():
    layers = [conv(2, 4, 3, padding=1), ReLU(),
              Residual([conv(4, 4, 3, padding=1), ReLU(), conv(4, 4, 3, stride=2, padding=1)],
                       [conv(4, 4, 1, stride=2)]),
              ReLU(), ZeroPad2d((0, 1, 0, 1)), MaxPool2d(2),
              Residual([conv(4, 4, 3, padding=2, dilation=2)])]
    x = rng.random((10, 10, 2))
    maps = feature_maps(layers, x)
    expected = forward_loops(layers, np.moveaxis(x, -1, 0))
    np.testing.assert_allclose(maps[-1], expected, rtol=1e-4, atol=1e-4)
    erf = effective_receptive_field(layers, (1, 2), x, channel=1)
    grad = np.abs(numerical_gradient(layers, x, (1, 2), 1)).sum(axis=-1)
    np.testing.assert_allclose(erf, grad, atol=1e-5)


def test_misaligned_paths_are_refused():
    with pytest.raises(ValueError, match="misaligned"):
        Residual([Conv2d(1, 1, 3)], [Conv2d(1, 1, 1)])  # body centre at 1, shortcut at 0
    with pytest.raises(ValueError, match="same stride"):
        Residual([Conv2d(1, 1, 3, padding=1, stride=2)])


def test_paths_of_different_sizes_or_channels_are_refused():
    block = Residual([Conv2d(1, 1, 2, stride=2)], [ZeroPad2d((0, 2, 0, 2)), AvgPool2d(2)])
    with pytest.raises(ValueError, match="cannot be added"):
        receptive_fields([block], 8)
    with pytest.raises(ValueError, match="4 channels but the shortcut gives 1"):
        feature_maps([Residual([Conv2d(1, 4, 3, padding=1)])], np.zeros((5, 5)))


def test_zero_pad_arguments():
    assert ZeroPad2d(2).pads == ((2, 2), (2, 2))
    with pytest.raises(ValueError, match="padding must be"):
        ZeroPad2d((1, 2))


# -- Concat: torch.cat along channels, against torch itself ---------------------------------------------------------

torch = pytest.importorskip("torch")
tnn = torch.nn


@st.composite
def branch(draw, cin):
    """An aligned torch branch (stride 1 or 2, centres kept at the same place), and its output channels."""
    stride = draw(st.integers(1, 2))
    kind = draw(st.sampled_from(["conv", "pool", "identity", "two"]))
    if kind == "identity" or (kind == "pool" and stride == 1 and draw(st.booleans())):
        return [], cin, 1
    if kind == "pool":
        return [tnn.MaxPool2d(3, stride, 1), tnn.Conv2d(cin, 2, 1)], 2, stride
    k = draw(st.sampled_from([1, 3, 5]))
    first = tnn.Conv2d(cin, 3, k, stride, padding=k // 2)
    if kind == "conv":
        return [first], 3, stride
    return [first, tnn.ReLU(), tnn.Conv2d(3, 2, (1, 3), padding=(0, 1))], 2, stride


class Branches(tnn.Module):
    def __init__(self, branches):
        super().__init__()
        self.branches = tnn.ModuleList(tnn.Sequential(*b) for b in branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], 1)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 3), st.data(), st.integers(5, 12))
def test_a_concatenation_of_random_branches_equals_torch_in_maps_fields_and_gradients(count, data, size):
    from rfmaps import Concat, from_torch, input_channels

    cin = 2
    drawn = [data.draw(branch(cin)) for _ in range(count)]
    stride = data.draw(st.sampled_from(sorted({s for *_, s in drawn})))
    drawn = [d for d in drawn if d[2] == stride or not d[0]] if stride == 1 else [d for d in drawn if d[2] == 2]
    assume(len(drawn) >= 2 and any(d[0] for d in drawn))
    torch.manual_seed(size)
    model = Branches([d[0] for d in drawn]).double().eval()
    layers = from_torch(model)
    assert len(layers) == 1 and isinstance(layers[0], Concat)
    x = torch.rand(1, cin, size, size, dtype=torch.float64)
    want = model(x)[0].detach().numpy()
    image = np.moveaxis(x[0].numpy(), 0, -1)
    assert receptive_fields(layers, size)[-1].output_size == want.shape[1:]
    np.testing.assert_allclose(feature_maps(layers, image)[-1], want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    # Fields against autograd on a copy with positive weights and max pools as averages: the pixels with a
    # nonzero gradient are those with a path to the neuron.
    for module in model.modules():
        if isinstance(module, tnn.Conv2d):
            with torch.no_grad():
                module.weight.copy_(module.weight.abs() + 0.1)
    averaged = Branches([[tnn.AvgPool2d(m.kernel_size, m.stride, m.padding) if isinstance(m, tnn.MaxPool2d)
                          else tnn.Identity() if isinstance(m, tnn.ReLU) else m for m in d[0]] for d in drawn])
    out = want.shape[1:]
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    x.requires_grad_(True)
    averaged(x)[0, :, position[0], position[1]].sum().backward()
    hit = np.argwhere(x.grad[0].abs().sum(0).numpy() != 0)
    box = tuple((int(hit[:, a].min()), int(hit[:, a].max())) for a in (0, 1))
    assert input_region(from_torch(averaged), position, size) == box
    erf = effective_receptive_field(from_torch(averaged.double()), position, image)
    np.testing.assert_allclose(erf, x.grad[0].abs().sum(0).numpy(), rtol=1e-9, atol=1e-12)
    # Each output channel comes from one branch, and only from the input channels that branch reads.
    offset = 0
    for path, width, _ in drawn:
        expected = tuple(range(cin))  # every branch here mixes all input channels, or is the input itself
        for c in range(width):
            assert input_channels(layers, offset + c) == ((c,) if not path else expected)
        offset += width


def test_misaligned_or_mismatched_branches_are_refused_with_their_names():
    from rfmaps import Concat

    with pytest.raises(ValueError, match="branch 0 and branch 1 are misaligned"):
        Concat([[Conv2d(1, 1, 3)], [Conv2d(1, 1, 1)]])
    with pytest.raises(ValueError, match="branch 0 and branch 2 must have the same stride"):
        Concat([[Conv2d(1, 1, 1)], [], [Conv2d(1, 1, 1, stride=2)]])
    with pytest.raises(ValueError, match="maps of different sizes cannot be concatenated"):
        receptive_fields([Concat([[Conv2d(1, 1, 2, stride=2)], [ZeroPad2d((0, 2, 0, 2)), AvgPool2d(2)]])], 8)
    with pytest.raises(ValueError, match="expects 3 channels but the image has 1"):
        feature_maps([Concat([[Conv2d(3, 2, 1)], []])], np.zeros((4, 4)))
    with pytest.raises(ValueError, match="branches must be a list of at least one branch"):
        Concat([])
