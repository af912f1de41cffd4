"""Real networks against the published receptive-field table.

Numbers from google-research/receptive_field, receptive_field/RECEPTIVE_FIELD_TABLE.md
(TF-slim models, resolution 224): end-point, RF, effective stride, effective padding.
"""

import numpy as np
import pytest

from rfmaps import feature_maps, input_region, receptive_fields
from rfmaps.models.architectures import alexnet, resnet50, stage_table, vgg16

PUBLISHED = {
    "alexnet_v2": (alexnet, [
        ("conv1", 11, 4, 0), ("pool1", 19, 8, 0), ("conv2", 51, 8, 16), ("conv3", 99, 16, 32),
        ("conv4", 131, 16, 48), ("conv5", 163, 16, 64), ("pool5", 195, 32, 64)]),
    "vgg_16": (vgg16, [
        ("conv1/conv1_1", 3, 1, 1), ("pool1", 6, 2, 2), ("conv2/conv2_1", 10, 2, 4), ("pool2", 16, 4, 6),
        ("conv3/conv3_1", 24, 4, 10), ("conv3/conv3_2", 32, 4, 14), ("pool3", 44, 8, 18),
        ("conv4/conv4_1", 60, 8, 26), ("conv4/conv4_2", 76, 8, 34), ("pool4", 100, 16, 42),
        ("conv5/conv5_1", 132, 16, 58), ("conv5/conv5_2", 164, 16, 74), ("pool5", 212, 32, 90)]),
    "resnet_v1_50": (resnet50, [
        ("block1", 35, 8, 15), ("block2", 99, 16, 47), ("block3", 291, 32, 143), ("block4", 483, 32, 239)]),
}


@pytest.mark.parametrize("model", sorted(PUBLISHED))
def test_every_published_end_point(model):
    build, expected = PUBLISHED[model]
    network = build()
    rows = {row.name: row for row in receptive_fields(network, 224)}
    for name, rf, stride, padding in expected:
        row = rows[name]
        assert row.rf_size == (rf, rf), name
        assert row.jump == (stride, stride), name
        # Effective padding: how far neuron (0, 0)'s field reaches before pixel 0.
        index = network.names.index(name)
        top_left = input_region(network, (0, 0), 224, layer=index, clip=False)[0][0]
        assert -top_left == padding, name


def test_torchvision_resnet_differs_only_where_the_strides_moved():
    tf = {r.name: r for r in stage_table(resnet50(), 224)}
    tv = {r.name: r for r in stage_table(resnet50("torchvision"), 224)}
    assert tf["block1"].rf_size == tv["block1"].rf_size == (35, 35)
    assert tf["block1"].jump == (8, 8) and tv["block1"].jump == (4, 4)
    assert tv["block4"].rf_size == (427, 427) and tf["block4"].rf_size == (483, 483)
    assert tf["block4"].output_size == tv["block4"].output_size == (7, 7)


@pytest.mark.parametrize("build, size", [(alexnet, 67), (vgg16, 32), (resnet50, 32)])
def test_small_inputs_run_end_to_end(build, size):
    maps = feature_maps(build(), np.random.default_rng(0).random((size, size, 3)))
    assert maps[-1].shape[1:] == receptive_fields(build(), size)[-1].output_size
    assert np.all(np.isfinite(maps[-1]))


def test_stage_table_names_the_stages():
    text = str(stage_table(resnet50(), 224))
    assert "block4" in text and "483 x 483" in text and "7 x 7" in text
