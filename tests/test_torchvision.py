"""Real torchvision and timm networks through from_torch, each against torch (skipped without them).

Maps against the model's own float64 forward; fields against autograd on a copy whose weights average
(positive, each kernel summing to 1), whose batch normalisations are the identity and whose max pools
average: every value stays in (0, 1] where each activation has a positive slope, so the input pixels with
a nonzero gradient are exactly those with a path to the neuron.
"""

import copy

import numpy as np
import pytest

from rfmaps import feature_maps, from_torch, input_region, receptive_fields
from reference import averaging_copy, max_pools_as_averages
from torchvision_import import import_timm, import_torchvision

torch = pytest.importorskip("torch")
torchvision = import_torchvision()
pytestmark = pytest.mark.skipif(torchvision is None, reason="torchvision is not installed (not a test extra: "
                                                             "see README, Tests)")


def autograd_box(model, size, position):
    # Tiny values: residual sums at most double them per block, and no ReLU6 reaches 6.
    x = ((torch.rand((1, 3) + size, dtype=torch.float64) + 1) * 1e-9).requires_grad_(True)
    with max_pools_as_averages():
        y = model(x)
    # Channels weighted unevenly: a LayerNorm's outputs sum to a constant, so an even sum would have no gradient.
    weights = torch.rand(y.shape[1], dtype=torch.float64) + 0.5
    (y[0] * weights if y.ndim == 2 else y[0, :, position[0], position[1]] * weights).sum().backward()
    hit = np.argwhere(x.grad[0].abs().sum(0).numpy() != 0)
    return tuple((int(hit[:, a].min()), int(hit[:, a].max())) for a in (0, 1))


def assert_equals_torch(model, size):
    """Sizes and maps (or a classifier's outputs) equal torch's; the fields of three neurons equal autograd's."""
    torch.manual_seed(0)
    layers = from_torch(model)
    image = np.random.default_rng(0).random(size + (3,))
    with torch.no_grad():
        want = copy.deepcopy(model).double()(torch.tensor(np.moveaxis(image, -1, 0)[None]))[0].numpy()
    rows = receptive_fields(layers, size)
    got = feature_maps(layers, image)[-1]
    # A classifier's (classes,) outputs are rfmaps' (classes, 1, 1) map: the flatten after a global pooling.
    assert got.shape == (want.shape if want.ndim == 3 else want.shape + (1, 1))
    assert (rows[-1].channels,) + rows[-1].output_size == got.shape
    # float32 against float64: the largest error measured (benchmarks/convert_real_networks.py, 224 x 224) is
    # 4.8e-6 of the largest value (timm's mobilenetv2_050 trunk), 1.6e-6 on torchvision's.
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=2e-5 * np.abs(want).max())
    reference = averaging_copy(model)
    h, w = rows[-1].output_size
    for position in {(0, 0), (h - 1, w - 1), (h // 2, w // 2)}:
        assert input_region(layers, position, size) == autograd_box(reference, size, position), position
    return rows


_HEADS = ("avgpool", "dropout", "fc", "classifier", "aux1", "aux2", "AuxLogits")


def trunk(model):
    """The part before the global pooling: ``features``, else the children before the head."""
    return getattr(model, "features", None) or torch.nn.Sequential(
        *[m for name, m in model.named_children() if name not in _HEADS and m is not None])


@pytest.mark.parametrize("name", ["densenet121", "googlenet", "squeezenet1_0", "squeezenet1_1", "inception_v3",
                                  "shufflenet_v2_x0_5", "convnext_tiny"])
def test_torchvision_trunks_with_concatenations_and_channel_layers_equal_torch(name):
    options = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    model = getattr(torchvision.models, name)(weights=None, **options).eval()
    assert_equals_torch(trunk(model), (80, 80) if name == "inception_v3" else (64, 64))


@pytest.mark.parametrize("name", ["mobilenetv2_050", "densenet121", "convnext_atto"])
def test_timm_trunks_with_batchnorm_act_and_shape_asserts_equal_torch(name):
    timm = import_timm()
    if timm is None:
        pytest.skip("timm is not installed (not a test extra: see README, Tests)")
    assert_equals_torch(timm.create_model(name, num_classes=0, global_pool="").eval(), (64, 64))


@pytest.mark.parametrize("name", ["efficientnet_b0", "mobilenetv3_large_100", "regnety_002"])
@pytest.mark.parametrize("part", ["trunk", "whole"])
def test_timms_squeeze_excitation_networks_equal_torch(name, part):
    # timm's gates: x.mean((2, 3), keepdim=True), 1 x 1 convolutions, x * gate(x_se); its heads: timm's Linear.
    timm = import_timm()
    if timm is None:
        pytest.skip("timm is not installed (not a test extra: see README, Tests)")
    torch.manual_seed(0)
    options = {"num_classes": 0, "global_pool": ""} if part == "trunk" else {}
    rows = assert_equals_torch(timm.create_model(name, **options).eval(), (64, 64))
    assert rows[-1].whole_image


def test_timms_resnet_d_is_refused_for_its_half_pixel_shortcut():
    # ResNet-D's shortcut averages 2 x 2 windows (centre of neuron 0 at 0.5) where its body's padded 3 x 3
    # convolution is centred at 0: the union of the two fields is no centred box, and rfmaps says so.
    timm = import_timm()
    if timm is None:
        pytest.skip("timm is not installed (not a test extra: see README, Tests)")
    with pytest.raises(ValueError, match=r"sum at model\.layer2\.0: the body and the shortcut are misaligned.*"
                                         r"\(0\.0, 0\.0\) for the body and \(0\.5, 0\.5\)"):
        from_torch(timm.create_model("resnet26d", num_classes=0, global_pool="").eval())


# Every torchvision classification family, trunk and whole model, at a size that suits it: AlexNet's and VGG's
# AdaptiveAvgPool2d((6, 6)) and ((7, 7)) are the identity at 224 x 224 (their maps are 6 x 6 and 7 x 7).
FAMILIES = {"alexnet": 224, "vgg11": 224, "resnet18": 96, "resnext50_32x4d": 64, "wide_resnet50_2": 64,
            "densenet121": 64, "googlenet": 96, "inception_v3": 96, "mobilenet_v2": 96, "mobilenet_v3_small": 96,
            "mnasnet0_5": 96, "efficientnet_b0": 96, "efficientnet_v2_s": 64, "regnet_x_400mf": 96,
            "regnet_y_400mf": 96, "shufflenet_v2_x0_5": 96, "squeezenet1_1": 96, "convnext_tiny": 64}
# Squeeze-and-excitation gates: every neuron after the first gate sees the whole map.
GATED = {"mobilenet_v3_small", "efficientnet_b0", "efficientnet_v2_s", "regnet_y_400mf"}


def family(name):
    options = {"aux_logits": False, "init_weights": False} if name in ("googlenet", "inception_v3") else {}
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None, **options).eval()


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_torchvision_family_trunk_equals_torch(name):
    size = (FAMILIES[name],) * 2
    rows = assert_equals_torch(trunk(family(name)), size)
    assert rows[-1].whole_image == (name in GATED)
    if name in GATED:  # a gate's field is the whole map's: here every pixel, as autograd found above
        assert "(global)" in str(rows).splitlines()[-1]


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_torchvision_family_whole_model_equals_torch(name):
    size = (FAMILIES[name],) * 2
    rows = assert_equals_torch(family(name), size)
    assert rows[-1].output_size == (1, 1) and rows[-1].channels == 1000
    # VGG's and AlexNet's first Linear reads the whole 7 x 7 (6 x 6) map: one convolution, an ordinary field.
    assert rows[-1].whole_image == (name not in ("alexnet", "vgg11"))


def test_alexnets_head_at_a_size_with_unequal_pooling_windows_is_refused_with_the_reason():
    layers = from_torch(family("alexnet"))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d\(output_size=\(6, 6\)\)\): input_size \(3, 3\):.*"
                                         r"different sizes"):
        receptive_fields(layers, 128)
