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
    assert [row.whole_image for row in rows] == [False] * 4 + [True] * 4
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
    with pytest.raises(ValueError, match="size depends on the input size"):
        from_torch(nn.Sequential(nn.Conv2d(1, 4, 3), nn.AdaptiveAvgPool2d(7)))
    with pytest.raises(ValueError, match="Flatten.*1 x 1 map only"):
        receptive_fields([Conv2d(1, 1, 3), Flatten()], 8)
    with pytest.raises(ValueError, match="GlobalAvgPool2d.*depends on the input size"):
        Residual([Conv2d(1, 1, 1), GlobalAvgPool2d()])


def test_the_functional_and_method_forms_are_read():
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 3), nn.Linear(2, 2)

        def forward(self, x):
            x = nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(x)), (1, 1))
            return self.fc(x.flatten(1))

    layers = from_torch(Head())
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "ReLU", "GlobalAvgPool2d", "Flatten", "Flatten",
                                                          "Conv2d"]
    assert isinstance(layers[1], ReLU)
