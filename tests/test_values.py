"""Layers, tables and networks are immutable values: they survive pickle and deepcopy intact."""

import copy
import dataclasses
import pickle
from fractions import Fraction

import numpy as np
import pytest

from rfmaps import (AvgPool2d, BatchNorm2d, Conv2d, ELU, GELU, LeakyReLU, MaxPool2d, ReLU, Residual, SiLU,
                    Sigmoid, Tanh, ZeroPad2d, receptive_fields)
from rfmaps.models.architectures import resnet50, stage_table
from rfmaps._core.geometry import tap_positions
from reference import backward_paths

rng = np.random.default_rng(5)

LAYERS = [
    Conv2d(2, 4, 3, weight=rng.normal(size=(4, 2, 3, 3)), bias=rng.normal(size=4)),
    Conv2d(4, 4, (3, 1), stride=2, padding="valid", dilation=(1, 2), groups=2),
    Conv2d(3, 3, 4, padding="same"),
    MaxPool2d(3, stride=2, padding=1), AvgPool2d(2), ReLU(), ZeroPad2d((0, 1, 2, 0)),
    Residual([Conv2d(4, 4, 3, padding=1)], [Conv2d(4, 4, 1)]),
    BatchNorm2d(3, weight=rng.normal(size=3), bias=rng.normal(size=3), running_mean=rng.normal(size=3),
                running_var=rng.uniform(0.5, 2, size=3)),
    BatchNorm2d(2), LeakyReLU(0.2), ELU(), GELU(approximate="tanh"), SiLU(), Sigmoid(), Tanh(),
]
COPIES = [lambda v: pickle.loads(pickle.dumps(v)), copy.deepcopy, copy.copy]


@pytest.mark.parametrize("layer", LAYERS, ids=repr)
@pytest.mark.parametrize("duplicate", COPIES, ids=["pickle", "deepcopy", "copy"])
def test_layers_survive_copies_equal_hash_stable_and_read_only(layer, duplicate):
    twin = duplicate(layer)
    assert twin == layer and hash(twin) == hash(layer) and repr(twin) == repr(layer)
    for name in ("weight", "bias", "running_mean", "running_var"):
        array = getattr(twin, name, None)
        if array is not None:
            assert not array.flags.writeable
            with pytest.raises(ValueError):
                array[(0,) * array.ndim] = 1.0
    for field in dataclasses.fields(twin):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(twin, field.name, getattr(twin, field.name))


def test_layers_are_slotted_dataclasses():
    for layer in LAYERS:
        assert dataclasses.is_dataclass(layer) and not hasattr(layer, "__dict__"), type(layer).__name__


def test_arguments_follow_pytorch_order_and_weights_are_keyword_only():
    # torch.nn.Conv2d(in, out, kernel_size, stride, padding, dilation, groups, ...)
    layer = Conv2d(4, 8, 3, 2, 1, 2, 4)
    assert (layer.stride, layer.padding, layer.dilation, layer.groups) == ((2, 2), (1, 1), (2, 2), 4)
    assert Conv2d(3, 8, 3, 1, 0, 1, 1) == Conv2d(3, 8, 3)
    with pytest.raises(TypeError):
        Conv2d(1, 1, 1, 1, 0, 1, 1, np.ones((1, 1, 1, 1)))
    assert Conv2d(1, 1, 1, weight=np.ones((1, 1, 1, 1))).weight.shape == (1, 1, 1, 1)


@pytest.mark.parametrize("duplicate", COPIES, ids=["pickle", "deepcopy", "copy"])
def test_tables_and_networks_survive_copies(duplicate):
    network = resnet50()
    twin = duplicate(network)
    assert tuple(twin) == tuple(network) and twin.names == network.names and twin.endpoints == network.endpoints
    assert str(stage_table(twin, 224)) == str(stage_table(network, 224))
    rows = receptive_fields(network, 224)
    rows_twin = duplicate(rows)
    assert tuple(rows_twin) == tuple(rows) and rows_twin.input_size == rows.input_size
    assert str(rows_twin) == str(rows)


def test_start_stays_an_exact_fraction():
    rows = receptive_fields([Conv2d(1, 1, 2), Conv2d(1, 1, 2, stride=2), MaxPool2d(2)], 16)
    assert all(isinstance(s, Fraction) for row in rows for s in row.start)
    assert [row.start[0] for row in rows] == [Fraction(1, 2), Fraction(1), Fraction(2)]
    assert "(0.5, 0.5)" in str(rows)


@pytest.mark.parametrize("layers", [
    [Conv2d(1, 1, 3, stride=2, padding=1)],
    [Conv2d(1, 1, 2), MaxPool2d(2), Conv2d(1, 1, 3, dilation=2, padding=1)],
    [ZeroPad2d((1, 0, 0, 2)), Conv2d(1, 1, (2, 3), stride=(3, 2))],
])
def test_centres_and_nearest_neurons_against_brute_force(layers):
    size = (13, 12)
    row = receptive_fields(layers, size)[-1]
    centres = {}
    for r in range(row.output_size[0]):
        for c in range(row.output_size[1]):
            support = backward_paths(layers, (r, c), size, bounded=False)
            centre = tuple(Fraction(min(p[a] for p in support) + max(p[a] for p in support), 2) for a in (0, 1))
            assert row.centre((r, c)) == centre
            centres[(r, c)] = centre
    for pixel in [(0, 0), (5, 7), (12, 11), (6, 3)]:
        best = row.nearest_neuron(pixel)
        distance = lambda n: tuple(abs(centres[n][a] - pixel[a]) for a in (0, 1))
        assert all(distance(best)[a] <= distance(n)[a] for n in centres for a in (0, 1))


def test_tap_positions_are_the_pixels_one_layer_reads():
    layer = Conv2d(1, 1, (2, 3), stride=(2, 3), padding=(1, 2), dilation=(3, 2))
    rows, cols = tap_positions(layer, (2, 1))
    reads = backward_paths([layer], (2, 1), (20, 20), bounded=False)
    assert set(reads) == {(r, c) for r in rows for c in cols}
