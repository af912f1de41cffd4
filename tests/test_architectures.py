"""Real networks against published numbers, and their fields against torch autograd.

Receptive field, effective stride and effective padding: google-research/receptive_field,
receptive_field/RECEPTIVE_FIELD_TABLE.md (Araujo, Norris and Sim, Distill 2019; TF-slim models), copied below
without the FLOPs column. Map sizes and parameter counts: TF-slim's own tests and docstrings in
tensorflow/models research/slim/nets (inception_v2_test.py, inception_v3_test.py, mobilenet_v1.py).
"""

import copy
import dataclasses
import math
import pickle

import numpy as np
import pytest

from rfmaps import Conv2d, feature_maps, input_region, receptive_fields
from rfmaps.layers.residual import Concat, Residual
from rfmaps.models.architectures import (alexnet, inception_v2, inception_v3, mobilenet_v1, resnet50, resnet101,
                                         resnet152, stage_table, vgg16)

# The published rows: end-point, RF, effective stride, then the effective padding at resolution None, 224
# and 321 ('None' where it depends on the input size). RF and stride are the same at every resolution for
# these models.
TABLE = """
alexnet_v2 conv1 11 4 0 0 0 | pool1 19 8 0 0 0 | conv2 51 8 16 16 16 | conv3 99 16 32 32 32
  | conv4 131 16 48 48 48 | conv5 163 16 64 64 64 | pool5 195 32 64 64 64
vgg_16 conv1/conv1_1 3 1 1 1 1 | pool1 6 2 2 2 2 | conv2/conv2_1 10 2 4 4 4 | pool2 16 4 6 6 6
  | conv3/conv3_1 24 4 10 10 10 | conv3/conv3_2 32 4 14 14 14 | pool3 44 8 18 18 18
  | conv4/conv4_1 60 8 26 26 26 | conv4/conv4_2 76 8 34 34 34 | pool4 100 16 42 42 42
  | conv5/conv5_1 132 16 58 58 58 | conv5/conv5_2 164 16 74 74 74 | pool5 212 32 90 90 90
inception_v2 Conv2d_1a_7x7 7 2 None 2 3 | MaxPool_2a_3x3 11 4 None 2 5 | Conv2d_2b_1x1 11 4 None 2 5
  | Conv2d_2c_3x3 19 4 None 6 9 | MaxPool_3a_3x3 27 8 None 6 13 | Mixed_3b 59 8 None 22 29
  | Mixed_3c 91 8 None 38 45 | Mixed_4a 123 16 None 46 61 | Mixed_4b 187 16 None 78 93
  | Mixed_4c 251 16 None 110 125 | Mixed_4d 315 16 None 142 157 | Mixed_4e 379 16 None 174 189
  | Mixed_5a 443 32 None 190 221 | Mixed_5b 571 32 None 254 285 | Mixed_5c 699 32 None 318 349
inception_v3 Conv2d_1a_3x3 3 2 0 0 0 | Conv2d_2a_3x3 7 2 0 0 0 | Conv2d_2b_3x3 11 2 2 2 2
  | MaxPool_3a_3x3 15 4 2 2 2 | Conv2d_3b_1x1 15 4 2 2 2 | Conv2d_4a_3x3 23 4 2 2 2 | MaxPool_5a_3x3 31 8 2 2 2
  | Mixed_5b 63 8 18 18 18 | Mixed_5c 95 8 34 34 34 | Mixed_5d 127 8 50 50 50 | Mixed_6a 159 16 58 58 58
  | Mixed_6b 351 16 154 154 154 | Mixed_6c 543 16 250 250 250 | Mixed_6d 735 16 346 346 346
  | Mixed_6e 927 16 442 442 442 | Mixed_7a 1055 32 490 490 490 | Mixed_7b 1183 32 554 554 554
  | Mixed_7c 1311 32 618 618 618
mobilenet_v1 Conv2d_0 3 2 None 0 1 | Conv2d_1_pointwise 7 2 None 2 3 | Conv2d_2_pointwise 11 4 None 2 5
  | Conv2d_3_pointwise 19 4 None 6 9 | Conv2d_4_pointwise 27 8 None 6 13 | Conv2d_5_pointwise 43 8 None 14 21
  | Conv2d_6_pointwise 59 16 None 14 29 | Conv2d_7_pointwise 91 16 None 30 45
  | Conv2d_8_pointwise 123 16 None 46 61 | Conv2d_9_pointwise 155 16 None 62 77
  | Conv2d_10_pointwise 187 16 None 78 93 | Conv2d_11_pointwise 219 16 None 94 109
  | Conv2d_12_pointwise 251 32 None 94 125 | Conv2d_13_pointwise 315 32 None 126 157
resnet_v1_50 block1 35 8 None 15 17 | block2 99 16 None 47 49 | block3 291 32 None 143 145
  | block4 483 32 None 239 241
resnet_v1_101 block1 35 8 None 15 17 | block2 99 16 None 47 49 | block3 835 32 None 415 417
  | block4 1027 32 None 511 513
resnet_v1_152 block1 35 8 None 15 17 | block2 163 16 None 79 81 | block3 1315 32 None 655 657
  | block4 1507 32 None 751 753
"""


def _published():
    models, text = {}, TABLE.replace("\n  |", " |")
    for line in text.strip().splitlines():
        model, rest = line.split(" ", 1)
        rows = []
        for cell in rest.split(" | "):
            name, *numbers = cell.split()
            rows.append((name, *(None if n == "None" else int(n) for n in numbers)))
        models[model] = rows
    return models


PUBLISHED = _published()
BUILDERS = {"alexnet_v2": alexnet, "vgg_16": vgg16, "inception_v2": inception_v2, "inception_v3": inception_v3,
            "mobilenet_v1": mobilenet_v1, "resnet_v1_50": resnet50, "resnet_v1_101": resnet101,
            "resnet_v1_152": resnet152}
SIZED = {"inception_v2", "mobilenet_v1", "resnet_v1_50", "resnet_v1_101", "resnet_v1_152"}  # 'SAME' stride 2


def build(model, size):
    return BUILDERS[model](input_size=size) if model in SIZED else BUILDERS[model]()


def effective_padding(network, name, size):
    # How far neuron (0, 0)'s field reaches before pixel 0.
    top_left = input_region(network, (0, 0), size, layer=network.names.index(name), clip=False)
    return -top_left[0][0], -top_left[1][0]


def test_the_table_was_copied_whole():
    assert {model: len(rows) for model, rows in PUBLISHED.items()} == {
        "alexnet_v2": 7, "vgg_16": 13, "inception_v2": 15, "inception_v3": 18, "mobilenet_v1": 14,
        "resnet_v1_50": 4, "resnet_v1_101": 4, "resnet_v1_152": 4}


@pytest.mark.parametrize("size", [224, 321])
@pytest.mark.parametrize("model", sorted(PUBLISHED))
def test_every_published_end_point(model, size):
    network = build(model, size)
    rows = {row.name: row for row in receptive_fields(network, size)}
    for name, rf, stride, *paddings in PUBLISHED[model]:
        padding = paddings[1 if size == 224 else 2]
        assert rows[name].rf_size == (rf, rf), name
        assert rows[name].jump == (stride, stride), name
        assert effective_padding(network, name, size) == (padding, padding), name


@pytest.mark.parametrize("model", sorted(PUBLISHED))
def test_the_padding_depends_on_the_size_exactly_where_the_table_says_none(model):
    undefined = {padding is None for _, _, _, padding, _, _ in PUBLISHED[model]}
    assert len(undefined) == 1
    assert undefined.pop() == (model in SIZED)
    network = build(model, 224)
    assert (network.input_size is not None) == (model in SIZED)
    if model in SIZED:
        with pytest.raises(ValueError, match=r"input_size must be 224 x 224.*got 321 x 321.*input_size=321"):
            stage_table(network, 321)
    else:  # one network for every size, and the table's padding without a resolution is its own
        assert tuple(network) == tuple(build(model, 321))
        for name, rf, stride, padding, *_ in PUBLISHED[model]:
            assert effective_padding(network, name, 321) == (padding, padding)


# End-point sizes (height, width, channels) from TF-slim's tests: inception_v2_test.py
# (testBuildAndCheckAllEndPointsUptoMixed5c at 224, testHalfSizeImages at 112,
# testGlobalPoolUnknownImageShape at 250 x 300) and inception_v3_test.py (at 299).
INCEPTION_V2_224 = {
    "Mixed_3b": (28, 28, 256), "Mixed_3c": (28, 28, 320), "Mixed_4a": (14, 14, 576), "Mixed_4b": (14, 14, 576),
    "Mixed_4c": (14, 14, 576), "Mixed_4d": (14, 14, 576), "Mixed_4e": (14, 14, 576), "Mixed_5a": (7, 7, 1024),
    "Mixed_5b": (7, 7, 1024), "Mixed_5c": (7, 7, 1024), "Conv2d_1a_7x7": (112, 112, 64),
    "MaxPool_2a_3x3": (56, 56, 64), "Conv2d_2b_1x1": (56, 56, 64), "Conv2d_2c_3x3": (56, 56, 192),
    "MaxPool_3a_3x3": (28, 28, 192)}
INCEPTION_V3_299 = {
    "Conv2d_1a_3x3": (149, 149, 32), "Conv2d_2a_3x3": (147, 147, 32), "Conv2d_2b_3x3": (147, 147, 64),
    "MaxPool_3a_3x3": (73, 73, 64), "Conv2d_3b_1x1": (73, 73, 80), "Conv2d_4a_3x3": (71, 71, 192),
    "MaxPool_5a_3x3": (35, 35, 192), "Mixed_5b": (35, 35, 256), "Mixed_5c": (35, 35, 288),
    "Mixed_5d": (35, 35, 288), "Mixed_6a": (17, 17, 768), "Mixed_6b": (17, 17, 768), "Mixed_6c": (17, 17, 768),
    "Mixed_6d": (17, 17, 768), "Mixed_6e": (17, 17, 768), "Mixed_7a": (8, 8, 1280), "Mixed_7b": (8, 8, 2048),
    "Mixed_7c": (8, 8, 2048)}


@pytest.mark.parametrize("network, size, expected", [
    (lambda: inception_v2(), 224, INCEPTION_V2_224),
    (lambda: inception_v2(input_size=112), 112, {"Mixed_5c": (4, 4, 1024)}),
    (lambda: inception_v2(input_size=(250, 300)), (250, 300), {"Mixed_5c": (8, 10, 1024)}),
    (lambda: inception_v3(), 299, INCEPTION_V3_299)])
def test_end_point_sizes_from_tf_slims_tests(network, size, expected):
    network = network()
    assert set(expected) <= set(network.endpoints)
    rows = {row.name: row for row in receptive_fields(network, size)}
    for name, (h, w, channels) in expected.items():
        assert rows[name].output_size == (h, w) and rows[name].channels == channels, name


def convolutions(layers):
    for layer in layers:
        if isinstance(layer, (Residual, Concat)):
            for path in layer.paths:
                yield from convolutions(path)
        elif isinstance(layer, Conv2d):
            yield layer


def test_parameter_counts_from_tf_slim():
    # slim's model variables: every kernel, and for each batch normalisation its offset, moving mean and
    # moving variance (3 per channel; inception_arg_scope has no scale). The batch norms follow every
    # convolution with an activation, except Inception v2's separable first layer, which has a bias
    # instead (the arg scope gives batch norms to slim.conv2d only). TF-slim's tests:
    # testModelHasExpectedNumberOfParameters, 10173112 (v2) and 21802784 (v3).
    def count(network, bias_only=(), no_norm=()):
        total = 0
        for name, layer in zip(network.names, network):
            for conv in convolutions([layer]):
                total += math.prod(conv.weight_shape)
                if name not in no_norm:
                    total += conv.out_channels * (1 if name in bias_only else 3)
        return total

    # The separable layer's depthwise half has neither: its normalisation or bias comes after the pointwise half.
    assert count(inception_v2(), bias_only={"Conv2d_1a_7x7"}, no_norm={"Conv2d_1a_7x7/depthwise"}) == 10173112
    assert count(inception_v3()) == 21802784
    # mobilenet_v1.py's docstring: 3,185,088 weights and 567,716,352 multiply-adds at 224 (without BN).
    network = mobilenet_v1()
    rows = receptive_fields(network, 224)
    assert sum(math.prod(c.weight_shape) for c in convolutions(network)) == 3_185_088
    macs = sum(math.prod(layer.weight_shape) * math.prod(row.output_size)
               for layer, row in zip(network, rows) if isinstance(layer, Conv2d))
    assert macs == 567_716_352


# -- torch autograd --------------------------------------------------------------------------------
def torch_reference(layers, channels, torch):
    """The layers as torch functions, reading their public attributes only, for the field alone.

    Each convolution has one output channel whose weights average all its inputs (positive, summing to
    1), pools average, activations are the identity: every input pixel with a path to a neuron then has a
    nonzero gradient, and no other. Channel counts do not move a field, so one per convolution keeps the
    reference fast (TF-slim's own numbers check the channels, above). Returns the functions, one per
    layer, and the channels after the last.
    """
    nn, steps = torch.nn, []
    for layer in layers:
        kind = type(layer).__name__
        if kind == "Conv2d":
            step = nn.Conv2d(channels, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                             bias=False).double().requires_grad_(False)
            nn.init.constant_(step.weight, 1 / step.weight.numel())
            channels = 1
        elif kind == "ZeroPad2d":
            step = nn.ZeroPad2d(layer.padding)
        elif kind in ("MaxPool2d", "AvgPool2d"):
            step = nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode)
        elif kind in ("ReLU", "ReLU6"):
            step = nn.Identity()
        elif kind in ("Residual", "Concat"):
            paths = [torch_reference(path, channels, torch) for path in layer.paths]
            step = _paths([steps for steps, _ in paths], torch, add=kind == "Residual")
            outs = [c for _, c in paths]
            channels = outs[0] if kind == "Residual" else sum(outs)
        else:
            raise AssertionError(f"no torch twin for {kind}")
        steps.append(step)
    return steps, channels


def _paths(paths, torch, add):
    def run(x):
        outputs = []
        for steps in paths:
            y = x
            for step in steps:
                y = step(y)
            outputs.append(y)
        return sum(outputs) if add else torch.cat(outputs, dim=1)
    return run


def autograd_boxes(steps, size, wanted, torch):
    """{(layer, position): box of input pixels with a nonzero gradient} and each wanted layer's size.

    Three copies of the image in one batch, one per neuron asked: one backward pass per layer.
    """
    x = torch.full((3, 3) + size, 1.0, dtype=torch.float64, requires_grad=True)
    outputs, y = {}, x
    for index, step in enumerate(steps):
        y = step(y)
        if index in wanted:
            outputs[index] = y
    boxes = {}
    for index, y in outputs.items():
        h, w = y.shape[2:]
        positions = [(0, 0), (h - 1, w - 1), (h // 2, w // 2)]
        picked = sum(y[copy_, :, row, col].sum() for copy_, (row, col) in enumerate(positions))
        (grad,) = torch.autograd.grad(picked, x, retain_graph=True)
        for copy_, position in enumerate(positions):
            hit = np.argwhere(grad[copy_].abs().sum(0).numpy() != 0)
            boxes[index, position] = tuple((int(hit[:, a].min()), int(hit[:, a].max())) for a in (0, 1))
    return boxes, {index: tuple(y.shape[2:]) for index, y in outputs.items()}


@pytest.mark.parametrize("network, size", [
    (inception_v2, 224), (inception_v2, 321), (inception_v3, 224),
    (mobilenet_v1, 224), (mobilenet_v1, 321), (resnet101, 224), (resnet152, 321)],
    ids=lambda v: getattr(v, "__name__", str(v)))
def test_every_end_point_equals_torch_autograd(network, size):
    torch = pytest.importorskip("torch")
    network = network() if network is inception_v3 else network(input_size=size)
    rows = receptive_fields(network, (size, size))
    wanted = {network.names.index(name) for name in network.endpoints}
    boxes, sizes = autograd_boxes(torch_reference(network, 3, torch)[0], (size, size), wanted, torch)
    for index in wanted:
        assert rows[index].output_size == sizes[index], network.names[index]
    for (index, position), box in boxes.items():
        assert input_region(network, position, size, layer=index) == box, (network.names[index], position)


def test_torchvision_resnet_differs_only_where_the_strides_moved():
    tf = {r.name: r for r in stage_table(resnet50(), 224)}
    tv = {r.name: r for r in stage_table(resnet50("torchvision"), 224)}
    assert tf["block1"].rf_size == tv["block1"].rf_size == (35, 35)
    assert tf["block1"].jump == (8, 8) and tv["block1"].jump == (4, 4)
    assert tv["block4"].rf_size == (427, 427) and tf["block4"].rf_size == (483, 483)
    assert tf["block4"].output_size == tv["block4"].output_size == (7, 7)
    # torchvision's pads alike on every size: it remembers none, and any size goes.
    assert resnet101("torchvision").input_size is None
    assert stage_table(resnet152("torchvision"), 321)[-1].output_size == (11, 11)


@pytest.mark.parametrize("build_, size", [(alexnet, 67), (vgg16, 32), (lambda: resnet50(input_size=32), 32),
                                          (lambda: inception_v2(input_size=32), 32),
                                          (lambda: mobilenet_v1(input_size=32), 32)])
def test_small_inputs_run_end_to_end(build_, size):
    maps = feature_maps(build_(), np.random.default_rng(0).random((size, size, 3)))
    assert maps[-1].shape[1:] == receptive_fields(build_(), size)[-1].output_size
    assert np.all(np.isfinite(maps[-1]))


def test_stage_table_names_the_stages():
    text = str(stage_table(resnet50(), 224))
    assert "block4" in text and "483 x 483" in text and "7 x 7" in text
    assert [row.name for row in stage_table(mobilenet_v1(input_size=321))][-1] == "Conv2d_13_pointwise"
    assert str(stage_table(inception_v2(input_size=321))) == str(stage_table(inception_v2(input_size=321), 321))


@pytest.mark.parametrize("duplicate", [lambda n: pickle.loads(pickle.dumps(n)), copy.deepcopy])
def test_a_copied_network_remembers_its_size(duplicate):
    network = mobilenet_v1(input_size=321)
    twin = duplicate(network)
    assert tuple(twin) == tuple(network) and twin.names == network.names
    assert twin.endpoints == network.endpoints and twin.input_size == (321, 321)


@pytest.mark.parametrize("depth, build_", [(50, resnet50), (101, resnet101), (152, resnet152)])
def test_the_torchvision_variants_equal_torchvisions_own_trunks(depth, build_):
    # torchvision's definition read by from_torch (whose readings test_torchvision.py holds to autograd).
    from torchvision_import import import_torchvision

    from rfmaps import from_torch
    torch = pytest.importorskip("torch")
    torchvision = import_torchvision()
    if torchvision is None:
        pytest.skip("torchvision is not installed (not a test extra: see README, Tests)")
    model = getattr(torchvision.models, f"resnet{depth}")(weights=None).eval()
    trunk = torch.nn.Sequential(*[m for name, m in model.named_children() if name not in ("avgpool", "fc")])
    layers = from_torch(trunk)
    for size in (224, 321):
        theirs, ours = receptive_fields(layers, size)[-1], stage_table(build_("torchvision"), size)[-1]
        assert (ours.rf_size, ours.jump, ours.start, ours.output_size, ours.channels) == (
            theirs.rf_size, theirs.jump, theirs.start, theirs.output_size, theirs.channels)


def with_weights(layers, rng):
    """The layers with He-scaled random weights (the activations stay near 1 through every depth)."""
    out = []
    for layer in layers:
        if isinstance(layer, Conv2d):
            fan_in = math.prod(layer.weight_shape[1:])
            layer = dataclasses.replace(layer, weight=rng.normal(0, math.sqrt(2 / fan_in), layer.weight_shape),
                                        bias=rng.normal(0, 0.1, layer.out_channels))
        elif isinstance(layer, Residual):
            layer = Residual(with_weights(layer.body, rng), with_weights(layer.shortcut, rng))
        elif isinstance(layer, Concat):
            layer = Concat(tuple(with_weights(b, rng) for b in layer.branches), in_channels=layer.in_channels)
        out.append(layer)
    return out


def torch_twin(layers, torch):
    """The layers as torch modules with their weights, reading their public attributes only."""
    nn, steps = torch.nn, []
    for layer in layers:
        kind = type(layer).__name__
        if kind == "Conv2d":
            step = nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, layer.stride, layer.padding,
                             layer.dilation, layer.groups).double()
            step.weight.data = torch.tensor(layer.weight, dtype=torch.float64)
            step.bias.data = torch.tensor(layer.bias, dtype=torch.float64)
        elif kind == "ZeroPad2d":
            step = nn.ZeroPad2d(layer.padding)
        elif kind == "MaxPool2d":
            step = nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode)
        elif kind == "AvgPool2d":
            step = nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode,
                                layer.count_include_pad)
        elif kind in ("ReLU", "ReLU6"):
            step = getattr(nn, kind)()
        elif kind in ("Residual", "Concat"):
            step = _paths([torch_twin(path, torch) for path in layer.paths], torch, add=kind == "Residual")
        else:
            raise AssertionError(f"no torch twin for {kind}")
        steps.append(step)
    return steps


@pytest.mark.parametrize("network, size", [(lambda: mobilenet_v1(input_size=33), 33),
                                           (lambda: inception_v2(input_size=64), 64), (inception_v3, 75)],
                         ids=["mobilenet_v1", "inception_v2", "inception_v3"])
def test_feature_maps_equal_torchs_forward(network, size):
    # Depthwise convolutions, unequal 'SAME' pads, averages that leave the padding out, nested concatenations.
    torch = pytest.importorskip("torch")
    layers = with_weights(network(), np.random.default_rng(0))
    image = np.random.default_rng(1).random((size, size, 3))
    maps = feature_maps(layers, image)
    y = torch.tensor(np.moveaxis(image, -1, 0)[None])
    with torch.no_grad():
        for step, got in zip(torch_twin(layers, torch), maps):
            y = step(y)
            want = y[0].numpy()
            # rfmaps computes in float32, torch here in float64: the worst layer used 7% of this tolerance
            # (measured here, the same with ATEN_CPU_CAPABILITY=default).
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
