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
