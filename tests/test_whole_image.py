"""Global average pooling, flatten and Linear heads: fields of the whole input, checked against torch.

The field reference is autograd on float64 models with positive weights (activations as identity or
positive-slope): the input pixels with a nonzero gradient are exactly those with a path to the output.
"""

import numpy as np
import pytest

from rfmaps import (Conv2d, Flatten, GlobalAvgPool2d, ReLU, Residual, effective_receptive_field, feature_maps,
                    from_torch, input_region, path_counts, receptive_fields)

torch = pytest.importorskip("torch")
nn = torch.nn


def positive(model):
    """A float64 copy with positive weights and no bias: every path carries a positive weight."""
    model = model.double().eval()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.uniform_(0.5, 1.5)
                if module.bias is not None:
                    module.bias.zero_()
    return model


def gradient_pixels(model, size):
    """The input pixels whose gradient of the sum of the outputs is nonzero (torch autograd)."""
    x = torch.rand((1, 1) + size, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.5
    x.requires_grad_(True)
    model(x).sum().backward()
    return x.grad[0, 0].numpy() != 0


def head(trunk):
    return nn.Sequential(*trunk, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(trunk[-2].out_channels, 3))


@pytest.mark.parametrize("size", [(9, 9), (12, 7), (16, 11)])
def test_after_a_global_pooling_every_pixel_the_trunk_sees_has_a_gradient(size):
    torch.manual_seed(0)
    model = positive(head([nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 5, 3), nn.ReLU()]))
    hit = gradient_pixels(model, size)
    assert hit.all()  # the whole image, by autograd
    layers = from_torch(model)
    rows = receptive_fields(layers, size)
    assert [row.whole_image for row in rows] == [False] * 4 + [True] * 3  # pooling, one Flatten, Linear
    assert rows[-1].output_size == (1, 1) and "(global)" in str(rows)
    assert input_region(layers, (0, 0), size) == ((0, size[0] - 1), (0, size[1] - 1))
    assert (path_counts(layers, (0, 0), size) > 0).all()


def test_a_global_pooling_after_a_trunk_that_skips_pixels_sees_only_what_the_trunk_sees():
    torch.manual_seed(0)
    model = positive(nn.Sequential(nn.Conv2d(1, 2, 1, stride=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                   nn.Linear(2, 2)))
    hit = gradient_pixels(model, (8, 9))
    rows, cols = np.nonzero(hit)
    assert not hit.all()  # odd rows and columns are skipped by the stride
    layers = from_torch(model)
    assert input_region(layers, (0, 0), (8, 9)) == ((rows.min(), rows.max()), (cols.min(), cols.max()))
    assert np.array_equal(path_counts(layers, (0, 0), (8, 9)) > 0, hit)


def test_the_maps_of_a_model_with_a_head_equal_torch():
    torch.manual_seed(1)
    model = head([nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 6, 3), nn.ReLU()])
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    model.eval()
    image = np.random.default_rng(0).random((10, 13, 3))
    with torch.no_grad():
        want = model.double()(torch.tensor(np.moveaxis(image, -1, 0)[None]))[0].numpy()
    layers = from_torch(model)
    maps = feature_maps(layers, image)
    pooled = next(i for i, layer in enumerate(layers) if isinstance(layer, GlobalAvgPool2d))
    assert maps[pooled].shape == (6, 1, 1)
    np.testing.assert_allclose(maps[pooled][:, 0, 0], maps[pooled - 1].mean(axis=(1, 2)), rtol=1e-6)
    assert maps[-1].shape == (3, 1, 1)
    np.testing.assert_allclose(maps[-1][:, 0, 0], want, rtol=1e-5, atol=1e-6)  # float32 against float64


def test_the_effective_field_after_a_global_pooling_matches_autograd():
    torch.manual_seed(2)
    model = positive(head([nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 3, 3, stride=2), nn.ReLU()]))
    size = (11, 10)
    image = np.random.default_rng(3).random(size + (1,))
    x = torch.tensor(image[None, :, :, 0][None], requires_grad=True)
    model(x)[0].sum().backward()
    want = np.abs(x.grad[0, 0].numpy())
    layers = from_torch(model)
    got = effective_receptive_field(layers, (0, 0), image)
    assert got.shape == size and (got > 0).all()
    np.testing.assert_allclose(got / got.sum(), want / want.sum(), rtol=1e-4, atol=1e-7)


def test_global_pool_backward_equals_autograd():
    x = torch.rand((3, 5, 4), dtype=torch.float64, requires_grad=True)
    grad = torch.rand((3, 1, 1), dtype=torch.float64)
    x.mean(dim=(1, 2), keepdim=True).backward(grad)
    got = GlobalAvgPool2d().backward(None, x.detach().numpy(), None, grad.numpy())
    np.testing.assert_allclose(got, x.grad.numpy(), rtol=1e-12)


def test_what_cannot_be_read_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"Flatten at model\.2.*global pooling"):
        from_torch(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 30 * 30, 10)))
    with pytest.raises(ValueError, match=r"Linear at model\.1.*global pooling"):
        from_torch(nn.Sequential(nn.Conv2d(1, 4, 3), nn.Linear(4, 10)))

    class FlattensAll(nn.Module):
        def forward(self, x):
            return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1))  # start_dim=0: the batch too

    with pytest.raises(ValueError, match="start_dim=0"):
        from_torch(FlattensAll())
    with pytest.raises(ValueError, match=r"input_size \(6, 6\): AdaptiveAvgPool2d\(output_size=\(7, 7\)\) is an "
                                         "average pool of equal windows only"):
        receptive_fields(from_torch(nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(7))), 8)
    with pytest.raises(ValueError, match="Flatten.*1 x 1 map only"):
        receptive_fields([Conv2d(1, 1, 3), Flatten()], 8)
    with pytest.raises(ValueError, match="GlobalAvgPool2d.*depends on the input size"):
        GlobalAvgPool2d().advance(Residual([Conv2d(1, 1, 1)]).geometry)
    with pytest.raises(ValueError, match=r"the body gives \(1, 1\) but the shortcut gives \(8, 8\)"):
        receptive_fields([Residual([Conv2d(1, 1, 1), GlobalAvgPool2d()])], 8)
    with pytest.raises(ValueError, match="reads its whole input map.*depends on the input size"):
        Residual([Conv2d(1, 1, 1), GlobalAvgPool2d()]).geometry


def test_the_functional_and_method_forms_are_read():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 3), nn.Linear(2, 2)

        def forward(self, x):
            x = nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), (1, 1))
            return self.fc(x.flatten(1))

    layers = from_torch(Head())
    # One Flatten row: the Linear's own flatten right after the model's adds nothing (hostile review).
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "ReLU", "GlobalAvgPool2d", "Flatten", "Conv2d"]
    assert isinstance(layers[1], ReLU)


# -- Squeeze-and-excitation gates, AdaptiveAvgPool2d((h, w)) heads, mean heads ------------------------------------

class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation, written out: the scale is a function of the map's mean."""

    def __init__(self, channels, squeeze, activation=nn.ReLU, scale_activation=nn.Sigmoid):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1, self.fc2 = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)
        self.activation, self.scale_activation = activation(), scale_activation()

    def forward(self, input):
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(input)))))
        return scale * input


class TimmSE(nn.Module):
    """timm's SqueezeExcite: x.mean((2, 3), keepdim=True), then x * gate(x_se), in that order."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.conv_reduce, self.conv_expand = nn.Conv2d(channels, squeeze, 1), nn.Conv2d(squeeze, channels, 1)
        self.act1 = nn.SiLU()

    def forward(self, x):
        x_se = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3), keepdim=True))))
        return x * x_se.sigmoid()


class MobileNetV3Block(nn.Module):
    """torchvision's MobileNetV3 InvertedResidual with its SE inside the residual body."""

    def __init__(self, channels, stride=1):
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(channels, 2 * channels, 1, bias=False), nn.BatchNorm2d(2 * channels), nn.Hardswish(),
            nn.Conv2d(2 * channels, 2 * channels, 3, stride, 1, groups=2 * channels, bias=False),
            nn.BatchNorm2d(2 * channels), nn.Hardswish(),
            SqueezeExcitation(2 * channels, 4, scale_activation=nn.Hardsigmoid),
            nn.Conv2d(2 * channels, channels, 1, bias=False), nn.BatchNorm2d(channels))
        self.use_res_connect = stride == 1

    def forward(self, input):
        result = self.block(input)
        if self.use_res_connect:
            result += input
        return result


class MeanHead(nn.Module):
    """MNASNet's and ShuffleNetV2's head: x.mean([2, 3]) and a Linear."""

    def __init__(self, trunk, channels, classes=3):
        super().__init__()
        self.layers, self.classifier = trunk, nn.Sequential(nn.Dropout(0.2), nn.Linear(channels, classes))

    def forward(self, x):
        return self.classifier(self.layers(x).mean([2, 3]))


def se_trunk(first_stride=2):
    return nn.Sequential(nn.Conv2d(1, 4, 3, first_stride, 1), nn.ReLU(), MobileNetV3Block(4), TimmSE(4, 2),
                         nn.Conv2d(4, 6, 3, padding=1), MobileNetV3Block(6, stride=2), nn.ReLU())


def batch_statistics(model, seed=0):
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model.eval()


def neuron_gradient(model, size, position, image=None):
    """The gradient of the neuron at ``position`` (all channels, weighted unevenly) for each input pixel.

    Without ``image``, on tiny positive values: there every activation of these models has a positive
    slope (Hardsigmoid and ReLU6 saturate above 3), so the pixels with a nonzero gradient are the field.
    """
    x = (torch.rand((1, 1) + size, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 0.5) * 1e-6
    x = (x if image is None else torch.tensor(image[None, None])).requires_grad_(True)
    y = model(x)
    weights = torch.rand(y.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5
    (y[0] * weights if y.ndim == 2 else y[0, :, position[0], position[1]] * weights).sum().backward()
    return x.grad[0, 0].numpy()


def box_of(hit):
    rows, cols = np.nonzero(hit)
    return ((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max())))


@pytest.mark.parametrize("size", [(17, 17), (20, 13)])
def test_after_a_squeeze_excitation_gate_every_neuron_sees_what_the_whole_map_sees(size):
    torch.manual_seed(3)
    model = positive(se_trunk())
    layers = from_torch(model)
    # The stride-2 block has no shortcut: its layers are read one by one, its gate among them.
    assert [type(layer).__name__ for layer in layers] == [
        "Conv2d", "ReLU", "Residual", "SqueezeExcitation", "Conv2d", "Conv2d", "BatchNorm2d", "Hardswish", "Conv2d",
        "BatchNorm2d", "Hardswish", "SqueezeExcitation", "Conv2d", "BatchNorm2d", "ReLU"]
    rows = receptive_fields(layers, size)
    # The first block's body holds a gate; after it every row is whole-image, and the table says so.
    assert [row.whole_image for row in rows] == [False, False] + [True] * 13
    assert str(rows).count("(global)") == 13
    h, w = rows[-1].output_size
    for position in [(0, 0), (h - 1, w - 1), (h // 2, w // 2), (0, w - 1)]:
        hit = neuron_gradient(model, size, position) != 0
        assert input_region(layers, position, size) == box_of(hit), position
        assert np.array_equal(path_counts(layers, position, size) > 0, hit), position
    # Before the first block the field is local: the gradient of neuron (0, 0) of the ReLU is a 3 x 3 corner.
    assert input_region(layers, (0, 0), size, layer=1) == ((0, 1), (0, 1))


def test_a_gate_after_a_trunk_that_skips_pixels_sees_only_what_the_trunk_sees():
    # A 1 x 1 convolution with stride 2 reads every other row and column: the gate's field is those pixels.
    torch.manual_seed(4)
    model = positive(nn.Sequential(nn.Conv2d(1, 4, 1, stride=2), SqueezeExcitation(4, 2), nn.Conv2d(4, 2, 1)))
    size = (9, 8)
    layers = from_torch(model)
    for position in [(0, 0), (4, 3)]:
        hit = neuron_gradient(model, size, position) != 0
        assert not hit.all() and hit[::2, ::2].all()
        assert input_region(layers, position, size) == box_of(hit) == ((0, 8), (0, 6))
        assert np.array_equal(path_counts(layers, position, size) > 0, hit)


@pytest.mark.parametrize("head", [False, True])
def test_maps_and_effective_fields_through_gates_equal_torch(head):
    torch.manual_seed(5)
    model = batch_statistics(se_trunk(first_stride=1))
    if head:
        model = MeanHead(model, 6)
    model = model.double().eval()
    size = (15, 12)
    image = np.random.default_rng(6).random(size)
    with torch.no_grad():
        want = model(torch.tensor(image[None, None]))[0].numpy()
    layers = from_torch(model)
    got = feature_maps(layers, image[:, :, None])[-1]
    assert got.shape == (want.shape if not head else want.shape + (1, 1))
    # float32 against float64; gates multiply values near 1, errors measured at most 1.1e-6 of the largest.
    np.testing.assert_allclose(got.reshape(want.shape), want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    position = (0, 0) if head else (3, 4)
    erf = effective_receptive_field(layers, position, image[:, :, None])
    reference = np.abs(neuron_gradient(model, size, position, image))
    assert erf.shape == size and np.array_equal(erf > 0, reference > 0)
    np.testing.assert_allclose(erf / erf.sum(), reference / reference.sum(), rtol=1e-4, atol=1e-9)


def test_gate_backward_equals_autograd():
    from rfmaps import SqueezeExcitation as Gate

    torch.manual_seed(6)
    module = SqueezeExcitation(5, 3, activation=nn.SiLU, scale_activation=nn.Hardsigmoid).double()
    layer = from_torch(nn.Sequential(module))[0]
    assert isinstance(layer, Gate) and layer.whole_image and layer.channels == 5
    x = torch.rand((1, 5, 4, 6), dtype=torch.float64, requires_grad=True)
    grad = torch.rand((5, 4, 6), dtype=torch.float64)
    module(x)[0].backward(grad)
    got = layer.backward(None, x.detach()[0].numpy(), None, grad.numpy())
    np.testing.assert_allclose(got, x.grad[0].numpy(), rtol=1e-7, atol=1e-12)


def test_a_gate_is_checked_when_built():
    from rfmaps import Sigmoid, SqueezeExcitation as Gate

    with pytest.raises(ValueError, match="no weights of its own"):
        Gate([Conv2d(4, 4, 1), Sigmoid()])
    with pytest.raises(ValueError, match="changes the size of a 1 x 1 map"):
        Gate([Conv2d(4, 4, 3, weight=np.ones((4, 4, 3, 3)), padding=1), Conv2d(4, 4, 2, weight=np.ones((4, 4, 2, 2)))])
    with pytest.raises(ValueError, match="ends with 2 channels but the map it scales has 4"):
        Gate([Conv2d(4, 2, 1, weight=np.ones((2, 4, 1, 1)))])
    with pytest.raises(ValueError, match="needs channels="):
        Gate([Sigmoid()])
    with pytest.raises(ValueError, match="layer 1: the squeeze-and-excitation gate scales 4 channels but its "
                                         "input has 3"):
        feature_maps([Conv2d(1, 3, 1), Gate([Sigmoid()], channels=4)], np.ones((8, 8, 1)))


class VGGHead(nn.Module):
    """VGG's and AlexNet's head: AdaptiveAvgPool2d((h, w)), torch.flatten(x, 1), Dropout and Linear layers."""

    def __init__(self, pooled=(3, 2)):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.avgpool = nn.AdaptiveAvgPool2d(pooled)
        self.classifier = nn.Sequential(nn.Linear(4 * pooled[0] * pooled[1], 5), nn.ReLU(), nn.Dropout(),
                                        nn.Linear(5, 3))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


@pytest.mark.parametrize("size", [(6, 4), (12, 8), (6, 12)])
def test_an_adaptive_pooling_of_equal_windows_and_the_linear_after_its_flatten_equal_torch(size):
    # (6, 4) -> a 3 x 2 map: the pooling is the identity; (12, 8) -> 6 x 4: 2 x 2 windows; (6, 12): 1 x 3.
    torch.manual_seed(7)
    model = VGGHead().double().eval()
    image = np.random.default_rng(8).random(size)
    with torch.no_grad():
        want = model(torch.tensor(image[None, None]))[0].numpy()
    layers = from_torch(model)
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "ReLU", "MaxPool2d", "AdaptiveAvgPool2d",
                                                          "Conv2d", "ReLU", "Flatten", "Conv2d"]
    assert layers[4].kernel_size == (3, 2)  # the first Linear reads the whole flattened 3 x 2 map
    got = feature_maps(layers, image[:, :, None])[-1]
    np.testing.assert_allclose(got[:, 0, 0], want, rtol=1e-4, atol=1e-5 * np.abs(want).max())
    hit = neuron_gradient(positive(model), size, (0, 0)) != 0
    assert input_region(layers, (0, 0), size) == box_of(hit)
    assert np.array_equal(path_counts(layers, (0, 0), size) > 0, hit)
    rows = receptive_fields(layers, size)
    assert rows[3].output_size == (3, 2) and not rows[-1].whole_image


def test_an_adaptive_pooling_of_unequal_windows_is_refused_at_that_size():
    layers = from_torch(VGGHead().eval())
    with pytest.raises(ValueError, match=r"layer 3 \(AdaptiveAvgPool2d\(output_size=\(3, 2\)\)\): input_size "
                                         r"\(5, 3\): .*multiples of \(3, 2\).*different sizes"):
        receptive_fields(layers, (10, 6))


@pytest.mark.parametrize("size", [7, 8, 12])
def test_a_gated_neurons_theoretical_field_is_the_box_the_whole_map_reads(size):
    """After a gate every neuron has one field: the box of all the map's fields, padding included (jump 0).

    Torch reference: the convolution's padding made real pixels of a larger canvas (padding 0 in torch), so
    autograd shows which canvas pixels, padding included, a gated neuron depends on.
    """
    import torch

    from rfmaps import Sigmoid
    from rfmaps.layers.gate import SqueezeExcitation

    torch.manual_seed(0)
    gate = SqueezeExcitation([Conv2d(2, 2, 1, weight=np.full((2, 2, 1, 1), 0.1), bias=np.zeros(2)), Sigmoid()])
    layers = [Conv2d(1, 2, 3, stride=2, padding=1), gate, Conv2d(2, 2, 3, padding=1)]
    canvas = torch.rand(1, 1, size + 2, size + 2, dtype=torch.float64, requires_grad=True)
    conv = torch.nn.Conv2d(1, 2, 3, stride=2).double()
    torch.nn.init.constant_(conv.weight, 1.0)
    y = conv(canvas)
    y = y * torch.sigmoid(0.1 * y.mean((2, 3), keepdim=True).sum(1, keepdim=True))
    n = y.shape[-1]
    for position in [(0, 0), (n - 1, n - 1), (0, n - 1)]:
        canvas.grad = None
        y[0, 0, position[0], position[1]].backward(retain_graph=True)
        rows, cols = np.nonzero(canvas.grad[0, 0].numpy())
        expected = ((int(rows.min()) - 1, int(rows.max()) - 1), (int(cols.min()) - 1, int(cols.max()) - 1))
        assert input_region(layers, position, size, layer=1, clip=False) == expected
        assert input_region(layers, position, size, layer=2, clip=False) == expected  # jump 0: later layers keep it
    assert receptive_fields(layers, size)[1].rf_size == (expected[0][1] - expected[0][0] + 1,) * 2


@pytest.mark.parametrize("size", [5, 6])
def test_a_gate_after_an_upsampling_has_its_table_row(size):
    """receptive_fields states a gate's row after an upsampling (it raised 'states it with the size known'):
    the field every gated neuron has equals torch autograd's through the real modules."""
    from rfmaps import Sigmoid, Upsample
    from rfmaps.layers.gate import SqueezeExcitation

    gate = SqueezeExcitation([Conv2d(1, 1, 1, weight=np.full((1, 1, 1, 1), 0.1), bias=np.zeros(1)), Sigmoid()])
    layers = [Conv2d(1, 1, 3, weight=np.ones((1, 1, 3, 3))), Upsample(scale_factor=2), gate]
    row = receptive_fields(layers, size)[-1]
    x = torch.rand(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = nn.Upsample(scale_factor=2)(torch.nn.functional.conv2d(x, torch.ones(1, 1, 3, 3, dtype=torch.float64)))
    y = y * torch.sigmoid(0.1 * y.mean((2, 3), keepdim=True))
    for position in [(0, 0), (y.shape[-2] - 1, 1)]:
        x.grad = None
        y[0, 0, position[0], position[1]].backward(retain_graph=True)
        rows, cols = np.nonzero(x.grad[0, 0].numpy())
        box = ((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max())))
        assert input_region(layers, position, size, clip=False) == box
        assert row.rf_size == (box[0][1] - box[0][0] + 1, box[1][1] - box[1][0] + 1) and row.whole_image
