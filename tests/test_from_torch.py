"""from_torch against PyTorch itself, and the new layer kinds (BatchNorm2d, activations) against autograd.

Random models are built in torch; their converted layers must compute the
model's own output, and their receptive-field table must be that of the same
stack written by hand. Modules rfmaps cannot compute are refused by name and
place.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import rfmaps
from rfmaps import (AvgPool2d, BatchNorm2d, Conv2d, ELU, GELU, Hardsigmoid, Hardswish, LeakyReLU, MaxPool2d, ReLU,
                    ReLU6, Residual, SiLU, Sigmoid, Tanh, effective_receptive_field, feature_maps, from_torch,
                    receptive_fields)

torch = pytest.importorskip("torch")
nn, F = torch.nn, torch.nn.functional


def run_torch(model, image):
    """The model's own output for an (H, W) or (H, W, C) image, in float64, as a (C, h, w) array.

    Converts the model to float64 and eval() mode in place (tests own their models).
    """
    x = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
    with torch.no_grad():
        return model.double().eval()(torch.tensor(x[None], dtype=torch.float64))[0].numpy()


def randomise_statistics(model, seed=0):
    """Give every BatchNorm2d running statistics and an affine map that are not the defaults."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator))
            module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            if module.affine:
                module.weight.data.copy_(torch.randn(n, generator=generator))
                module.bias.data.copy_(torch.randn(n, generator=generator))
    return model


ACTIVATIONS = [nn.ReLU(), nn.LeakyReLU(0.2), nn.ELU(0.7), nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(),
               nn.Sigmoid(), nn.Tanh(), nn.ReLU6(), nn.Hardswish(), nn.Hardsigmoid()]


@st.composite
def torch_models(draw):
    """A random nested Sequential of every module kind from_torch reads, and its input channels."""
    torch.manual_seed(draw(st.integers(0, 2 ** 16)))
    first = channels = draw(st.sampled_from([1, 2, 4]))
    modules = []
    for index in range(draw(st.integers(1, 5))):
        kind = "conv" if index == 0 else draw(st.sampled_from(["conv", "conv", "bn", "act", "max", "avg", "drop", "up", "upsample", "pad",
                                     "nested"]))
        k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        if kind == "conv":
            groups = draw(st.sampled_from([g for g in (1, 2, 4) if channels % g == 0]))
            out = groups * draw(st.integers(1, 2))
            padding = draw(st.sampled_from(["same", "valid", 0, 1, (1, 2)]))
            stride = 1 if padding == "same" else draw(st.integers(1, 2))
            modules.append(nn.Conv2d(channels, out, k, stride, padding, draw(st.integers(1, 2)), groups,
                                     bias=draw(st.booleans())))
            channels = out
        elif kind == "bn":
            modules.append(nn.BatchNorm2d(channels, eps=draw(st.sampled_from([1e-5, 1e-3])),
                                          affine=draw(st.booleans())))
        elif kind == "act":
            modules.append(draw(st.sampled_from(ACTIVATIONS)))
        elif kind == "max":
            modules.append(nn.MaxPool2d(k, draw(st.integers(1, 2)), (k[0] // 2, 0), draw(st.integers(1, 2))))
        elif kind == "avg":
            modules.append(nn.AvgPool2d(k, draw(st.sampled_from([None, 1, 2])), (0, k[1] // 2)))
        elif kind == "drop":
            modules.append(draw(st.sampled_from([nn.Dropout(0.5), nn.Dropout2d(), nn.Identity()])))
        elif kind == "up":
            out = draw(st.integers(1, 2))
            stride = draw(st.integers(1, 2))
            modules.append(nn.ConvTranspose2d(channels, out, k, stride, 0, stride - 1))
            channels = out
        elif kind == "upsample":
            modules.append(nn.Upsample(scale_factor=draw(st.sampled_from([2, 2.0, (1, 2)]))))
        elif kind == "pad":
            modules.append(nn.ZeroPad2d(tuple(draw(st.integers(0, 2)) for _ in range(4))))
        else:
            modules.append(nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.Sequential(nn.ReLU())))
    return randomise_statistics(nn.Sequential(*modules)), first


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(torch_models(), st.integers(0, 2 ** 16))
def test_converted_random_models_compute_the_models_own_output(model_and_channels, seed):
    model, channels = model_and_channels
    image = np.random.default_rng(seed).random((20, 20, channels) if channels > 1 else (20, 20))
    try:
        expected = run_torch(model, image)
    except RuntimeError:  # the random stack shrinks the image to nothing
        assume(False)
    layers = from_torch(model)
    got = feature_maps(layers, image)[-1]  # float32
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * (1 + np.abs(expected).max()))


def test_conversion_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout())
    model.train()
    before = [p.clone() for p in model.state_dict().values()]
    from_torch(model)
    assert model.training
    assert all(torch.equal(a, b) for a, b in zip(before, model.state_dict().values()))


def test_padding_forms_and_weights_are_read_exactly():
    conv = nn.Conv2d(4, 6, (3, 4), stride=1, padding="same", dilation=(2, 1), groups=2)
    layer, = from_torch(conv)
    assert layer == Conv2d(4, 6, (3, 4), 1, "same", (2, 1), 2, weight=conv.weight.detach().numpy(),
                           bias=conv.bias.detach().numpy())
    assert from_torch(nn.Conv2d(1, 1, 3, padding="valid", bias=False))[0].padding == (0, 0)
    assert from_torch(nn.Conv2d(1, 1, 3, bias=False))[0].bias is None


class Residual2(nn.Module):
    """A student's own block: the residual sum written in forward."""

    def __init__(self, channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.skip = nn.Conv2d(channels, channels, 1, stride) if stride > 1 else None

    def forward(self, x):
        out = F.leaky_relu(self.bn1(self.conv1(x)), 0.1)
        out = self.bn2(self.conv2(out))
        shortcut = x if self.skip is None else self.skip(x)
        return torch.relu(out + shortcut)


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 5, padding=2)
        self.blocks = nn.Sequential(Residual2(8), Residual2(8, stride=2))
        self.head = nn.Linear(8, 10)  # never called in features(): from_torch reads what forward does

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 2)
        x = self.blocks(x)
        return x + F.gelu(x)  # a sum whose branch has no weights


def test_a_students_forward_with_residual_sums_is_read_from_its_graph():
    model = randomise_statistics(Student())
    layers = from_torch(model)
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "ReLU", "MaxPool2d", "Residual", "ReLU",
                                                          "Residual", "ReLU", "Residual"]
    image = np.random.default_rng(1).random((24, 24, 3))
    np.testing.assert_allclose(feature_maps(layers, image)[-1], run_torch(model, image), rtol=1e-4, atol=1e-4)


def test_receptive_field_table_equals_the_hand_built_stack():
    layers = from_torch(randomise_statistics(Student()))
    block = lambda stride: Residual(  # noqa: E731
        [Conv2d(8, 8, 3, stride, 1), BatchNorm2d(8), LeakyReLU(0.1), Conv2d(8, 8, 3, 1, 1), BatchNorm2d(8)],
        [Conv2d(8, 8, 1, stride)] if stride > 1 else [])
    by_hand = [Conv2d(3, 8, 5, padding=2), ReLU(), MaxPool2d(2), block(1), ReLU(), block(2), ReLU(),
               Residual([GELU()])]
    for size in (24, 31):
        converted, hand = receptive_fields(layers, size), receptive_fields(by_hand, size)
        assert [(r.output_size, r.rf_size, r.jump, r.start) for r in converted] == \
               [(r.output_size, r.rf_size, r.jump, r.start) for r in hand]
    # By hand: stem 5; pool -> 6, jump 2; block 1 adds 2 * 2 twice -> 14; block 2 adds 2 * 2 (then jump 4)
    # and 2 * 4 -> 26; the shortcut's 1 x 1 and the GELU branch add nothing.
    assert receptive_fields(layers, 24)[-1].rf_size == (26, 26)


# torchvision's ResNet blocks, written out as torchvision.models.resnet defines them (torchvision itself
# cannot be installed beside the local torch 2.13.0 CPU file). Their module name is torchvision's, so
# from_torch takes them for the real thing; their forward is torchvision's.
def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


BasicBlock.__module__ = Bottleneck.__module__ = "torchvision.models.resnet"


def small_resnet():
    down = lambda cin, cout: nn.Sequential(nn.Conv2d(cin, cout, 1, 2, bias=False), nn.BatchNorm2d(cout))  # noqa
    return nn.Sequential(
        nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1),
        BasicBlock(8, 8), BasicBlock(8, 16, 2, down(8, 16)),
        Bottleneck(16, 4), Bottleneck(16, 8, 2, down(16, 32)))


class Wrapped(nn.Module):
    """The blocks inside a module whose forward fx traces (the other way they are read)."""

    def __init__(self):
        super().__init__()
        self.net = small_resnet()
        self.stem = self.net[:4]

    def forward(self, x):
        return self.net[7](self.net[6](self.net[5](self.net[4](self.stem(x)))))


@pytest.mark.parametrize("build", [small_resnet, Wrapped], ids=["walked", "traced"])
def test_torchvision_blocks_become_residuals_that_match_torch(build):
    torch.manual_seed(3)
    model = randomise_statistics(build())
    layers = from_torch(model)
    assert [type(layer).__name__ for layer in layers][-8:] == ["Residual", "ReLU"] * 4
    image = np.random.default_rng(2).random((40, 40, 3))
    np.testing.assert_allclose(feature_maps(layers, image)[-1], run_torch(model, image), rtol=1e-4, atol=1e-4)


def test_both_readings_of_torchvision_blocks_agree():
    torch.manual_seed(4)
    model = Wrapped()
    assert from_torch(model) == from_torch(model.net)


class Untraceable(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        if x.sum() > 0:  # depends on the data: torch.fx cannot trace it
            return self.conv(x)
        return x


class ConcatenatesRows(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(1, 2, 3, padding=1)

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x)], 2)


class Gate(nn.Module):
    """A squeeze-and-excitation gate, deep inside a trunk: its global pooling is no head to cut off."""

    def __init__(self):
        super().__init__()
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Conv2d(2, 2, 1)

    def forward(self, x):
        return x * self.fc(self.pool(x)).sigmoid()


class MultipliesMaps(nn.Module):
    """A product of two maps that is no gate: neither factor is a function of the other's mean."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return self.a(x) * self.b(x)


class Upsamples(nn.Module):
    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)

    def forward(self, x):
        return self.up(x, output_size=[16, 16])


class ReadsShape(nn.Module):
    def forward(self, x):
        return x * x.shape[1]


@pytest.mark.parametrize("model, words", [
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU(), nn.LSTM(2, 2))), ["LSTM", "model.1.1"]),
    (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2, 2)), ["Flatten", "model.1", "convolutional part"]),
    (nn.Sequential(nn.Conv2d(1, 1, 3), nn.PReLU()), ["PReLU", "model.1", "Sequential of known parts"]),
    (nn.Sequential(nn.Conv2d(1, 1, 3), Untraceable()), ["Untraceable", "model.1", "torch.fx"]),
    (ConcatenatesRows(), ["cat in ConcatenatesRows.forward", "dim=2", "channels (dim=1)"]),
    (nn.Sequential(nn.MaxPool2d(2, return_indices=True)), ["MaxPool2d", "return_indices=True", "two tensors"]),
    (MultipliesMaps(), ["mul in MultipliesMaps.forward", "multiplies two feature maps", "squeeze-and-excitation"]),
    (Upsamples(), ["ConvTranspose2d at model.up", "output_size=", "output_padding"]),
    (ReadsShape(), ["x.shape", "ReadsShape"]),
    (nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear")), ["Upsample", "bilinear"]),
    (nn.Sequential(nn.Upsample(size=8)), ["Upsample", "size"]),
    (nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")), ["Conv2d", "reflect"]),
    (nn.Sequential(nn.BatchNorm2d(2, track_running_stats=False)), ["BatchNorm2d", "track_running_stats"]),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else None)
def test_unknown_modules_and_options_are_refused_by_class_and_place(model, words):
    with pytest.raises(ValueError) as error:
        from_torch(model)
    for word in words:
        assert word in str(error.value), (word, str(error.value))


def test_not_a_module_and_an_empty_model():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        from_torch([nn.Conv2d(1, 1, 3)])
    with pytest.raises(ValueError, match="identity"):
        from_torch(nn.Sequential(nn.Dropout(), nn.Identity()))


def test_rfmaps_imports_without_torch_and_from_torch_says_how_to_get_it():
    code = textwrap.dedent("""
        import sys
        sys.modules["torch"] = None  # as if torch were not installed
        import rfmaps
        from rfmaps import feature_maps, trained
        feature_maps(trained.small_cnn(), trained.training_image("disk"))
        try:
            rfmaps.from_torch(object())
        except ImportError as error:
            print(error)
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # The CPU build, with the index zoo.INSTALL names (a plain pip install torch pulls CUDA's several GB).
    from rfmaps.models.zoo import INSTALL
    index = INSTALL.split("torchvision ")[1]
    assert "%pip install torch " + index in result.stdout and index.endswith("/whl/cpu")


# -- the new layer kinds, through feature_maps and the effective receptive field ---------------------

def torch_of(layer):
    """The torch function of one new-kind rfmaps layer (written from torch's documentation, not from rfmaps)."""
    kind = type(layer).__name__
    if kind == "BatchNorm2d":
        stats = [torch.tensor(np.asarray(a)) for a in (layer.running_mean, layer.running_var, layer.weight,
                                                         layer.bias)]
        return lambda x: F.batch_norm(x, *stats, training=False, eps=layer.eps)
    return {"LeakyReLU": lambda x: F.leaky_relu(x, layer.negative_slope),
            "ELU": lambda x: F.elu(x, getattr(layer, "alpha", 1.0)),
            "GELU": lambda x: F.gelu(x, approximate=getattr(layer, "approximate", "none")),
            "SiLU": F.silu, "Sigmoid": torch.sigmoid, "Tanh": torch.tanh, "ReLU6": F.relu6,
            "Hardswish": F.hardswish, "Hardsigmoid": F.hardsigmoid}[kind]


rng = np.random.default_rng(7)
NEW_KINDS = [BatchNorm2d(3, eps=1e-3, weight=rng.normal(size=3), bias=rng.normal(size=3),
                         running_mean=rng.normal(size=3), running_var=rng.uniform(0.2, 2, size=3)),
             LeakyReLU(0.3), ELU(0.5), GELU(), GELU(approximate="tanh"), SiLU(), Sigmoid(), Tanh(), ReLU6(),
             Hardswish(), Hardsigmoid()]

# torch's Hardsigmoid gradient multiplies by 1/6 rounded to float32 (1.0f / 6.0f in ATen), even for float64
# tensors; rfmaps' slope is 1/6. Through two Hardsigmoids that is a relative 6e-8, everywhere alike.
HARDSIGMOID_RTOL = 2e-7


@pytest.mark.parametrize("kind", NEW_KINDS, ids=repr)
def test_new_kinds_keep_the_geometry_and_match_torch_in_feature_maps_and_autograd(kind):
    conv1 = Conv2d(3, 3, 3, padding=1, weight=rng.normal(size=(3, 3, 3, 3)), bias=rng.normal(size=3))
    conv2 = Conv2d(3, 2, 3, stride=2, weight=rng.normal(size=(2, 3, 3, 3)))
    # BatchNorm2d(3) fits the first convolution's 3 channels only.
    layers = [conv1, kind, conv2] if isinstance(kind, BatchNorm2d) else [conv1, kind, conv2, kind]
    assert receptive_fields(layers, 15)[1].rf_size == receptive_fields(layers[:1], 15)[0].rf_size
    assert [r.rf_size for r in receptive_fields(layers, 15)] == \
           [r.rf_size for r in receptive_fields([conv1, ReLU(), conv2, ReLU()][:len(layers)], 15)]
    image = rng.normal(size=(15, 15, 3))
    x = torch.tensor(np.moveaxis(image, -1, 0)[None], requires_grad=True)
    y = x
    for layer in layers:
        if isinstance(layer, Conv2d):
            y = F.conv2d(y, torch.tensor(layer.weight), None if layer.bias is None else torch.tensor(layer.bias),
                         layer.stride, layer.padding)
        else:
            y = torch_of(layer)(y)
    want = y[0].detach().numpy()
    # float32 (rfmaps, BLAS) against float64 (torch): the absolute part scales with the largest output (~50
    # here), as in the other torch comparisons; a fixed 1e-5 was 2 float32 steps and reached 0.4 of itself
    # with another BLAS kernel (OPENBLAS_CORETYPE=Sandybridge).
    np.testing.assert_allclose(feature_maps(layers, image)[-1], want, rtol=1e-4, atol=1e-5 * max(1.0, np.abs(want).max()))
    y[0, :, 3, 4].sum().backward()
    expected = x.grad[0].abs().sum(0).numpy()
    rtol = HARDSIGMOID_RTOL if isinstance(kind, Hardsigmoid) else 1e-9
    np.testing.assert_allclose(effective_receptive_field(layers, (3, 4), image), expected, rtol=rtol, atol=1e-12)


def test_a_smooth_activation_lets_paths_through_where_relu_blocks_them_all():
    # Bias -1 on a blank image: every ReLU is off, so no pixel moves the neuron; GELU'(-1) > 0.
    first = Conv2d(1, 4, 3, weight=rng.normal(size=(4, 1, 3, 3)), bias=-np.ones(4))
    second = Conv2d(4, 1, 3, weight=rng.uniform(0.5, 1, size=(1, 4, 3, 3)))
    fields = {type(a).__name__: effective_receptive_field([first, a, second], (2, 2), np.zeros((9, 9)))
              for a in (ReLU(), GELU())}
    assert not fields["ReLU"].any()
    assert np.all(fields["GELU"][2:7, 2:7] > 0) and not fields["GELU"][:2].any()  # the 5 x 5 field, no more


def test_batchnorm_and_activation_arguments_are_checked():
    with pytest.raises(ValueError, match="running_var"):
        BatchNorm2d(2, eps=0.0, running_var=[1.0, 0.0])
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm2d(0)
    with pytest.raises(ValueError, match="expects num_features=2"):
        feature_maps([BatchNorm2d(2)], np.zeros((5, 5)))
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(float("nan"))
    with pytest.raises(ValueError, match="approximate"):
        GELU(approximate="erf")


def test_all_names_are_exported():
    for name in ("BatchNorm2d", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "ReLU6", "Hardswish",
                 "Hardsigmoid", "from_torch"):
        assert name in rfmaps.__all__ and hasattr(rfmaps, name)
        assert name == "from_torch" or name in rfmaps.layers.__all__


def test_the_your_own_network_notebook_reads_a_torch_model_where_torch_is_installed(tmp_path):
    # test_notebooks runs every notebook where torch is not installed (as on Binder); this runs
    # notebook 11 in this environment, which has torch, so its from_torch path runs too.
    import pathlib

    import nbformat
    from nbclient import NotebookClient

    path = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "11_your_own_network.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = ""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{output.get('ename')}: {output.get('evalue')}"
            text += output.get("text", "") + output.get("data", {}).get("text/plain", "")
    assert "PyTorch is not installed" not in text
    assert "BatchNorm2d(8" in text and "Residual([Conv2d(8, 8" in text  # MyNet, read from its graph
    assert "cannot read Flatten at model.2" in text


# -- ReLU6, Hardswish, Hardsigmoid: torch's values and autograd's one-sided slopes at the kinks ------------

HARD_KINDS = {"ReLU6": (ReLU6(), F.relu6, nn.ReLU6(), (0.0, 6.0)),
              "Hardswish": (Hardswish(), F.hardswish, nn.Hardswish(), (-3.0, 3.0)),
              "Hardsigmoid": (Hardsigmoid(), F.hardsigmoid, nn.Hardsigmoid(), (-3.0, 3.0))}


@pytest.mark.parametrize("name", HARD_KINDS)
def test_hard_activations_equal_torch_in_value_and_slope_at_and_beside_every_kink(name):
    layer, function, _, kinks = HARD_KINDS[name]
    points = [-9.0, -6.0, -4.5, -3.0, -1.5, -0.0, 0.0, 1.5, 3.0, 4.5, 6.0, 7.5]
    points += [np.nextafter(k, d) for k in (-3.0, 0.0, 3.0, 6.0) for d in (-np.inf, np.inf)]
    points += list(np.random.default_rng(0).uniform(-8, 8, 200))
    x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    y = function(x)
    y.sum().backward()
    # The values are torch's to the last bit (the same formula in float64).
    np.testing.assert_array_equal(layer.value(np.array(points)), y.detach().numpy())
    slope, grad = layer.slope(np.array(points)), x.grad.numpy()
    if name == "Hardsigmoid":  # torch's 1/6 is float32's (see HARDSIGMOID_RTOL); 0 where torch gives 0
        np.testing.assert_array_equal(slope == 0, grad == 0)
        np.testing.assert_allclose(slope, grad, rtol=1e-7, atol=0)
    else:
        np.testing.assert_array_equal(slope, grad)
    at = {k: float(layer.slope(np.array([k]))[0]) for k in kinks}
    assert at == {k: float(g) for k, g in zip(kinks, grad[[points.index(k) for k in kinks]])}


@pytest.mark.parametrize("name", HARD_KINDS)
def test_hard_activations_match_torch_in_a_stack_whose_activations_sit_exactly_on_their_kinks(name):
    layer, function, _, kinks = HARD_KINDS[name]
    # Multiples of 1.5 and weights in {-1, 0, 1}: every activation's input is a short binary fraction, exact in
    # float32 and float64 alike, so inputs land exactly on the kinks (counted below), where only the one-sided
    # slope decides the effective receptive field.
    rng = np.random.default_rng(0)
    image = rng.choice(np.arange(-5, 6) * 1.5, size=(12, 12, 2))
    conv1 = Conv2d(2, 3, 3, weight=rng.integers(-1, 2, size=(3, 2, 3, 3)), bias=rng.integers(-2, 3, size=3) * 1.5)
    conv2 = Conv2d(3, 2, 3, stride=2, weight=rng.normal(size=(2, 3, 3, 3)))
    layers = [layer, conv1, layer, conv2]
    maps = feature_maps(layers, image)
    for before in (np.moveaxis(image, -1, 0), maps[1]):
        assert any(np.sum(before == k) for k in kinks)
    assert all(np.sum(np.moveaxis(image, -1, 0) == k) for k in kinks)
    x = torch.tensor(np.moveaxis(image, -1, 0)[None], requires_grad=True)
    y = function(F.conv2d(function(x), torch.tensor(conv1.weight), torch.tensor(conv1.bias)))
    y = F.conv2d(y, torch.tensor(conv2.weight), stride=2)
    want = y[0].detach().numpy()
    np.testing.assert_allclose(maps[-1], want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    rtol = HARDSIGMOID_RTOL if name == "Hardsigmoid" else 1e-12
    for position in [(0, 0), (1, 2), (3, 3)]:
        x.grad = None
        y[0, :, position[0], position[1]].sum().backward(retain_graph=True)
        np.testing.assert_allclose(effective_receptive_field(layers, position, image),
                                   x.grad[0].abs().sum(0).numpy(), rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("name", HARD_KINDS)
def test_hard_activation_modules_and_functional_calls_are_read(name):
    layer, function, module, _ = HARD_KINDS[name]

    class Calls(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x):
            return function(self.conv(x), inplace=False)

    assert from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), module))[1:] == [layer]
    assert from_torch(Calls())[1:] == [layer]


def torch_erf(model, image, position):
    """torch's own effective receptive field of a model (float64 autograd), as rfmaps defines it."""
    x = np.moveaxis(image, -1, 0) if image.ndim == 3 else image[None]
    x = torch.tensor(x[None], dtype=torch.float64, requires_grad=True)
    model.double().eval()(x)[0, :, position[0], position[1]].sum().backward()
    return x.grad[0].abs().sum(0).numpy()


def assert_matches_torch(model, image, positions):
    """The converted model's feature maps and effective receptive fields are torch's."""
    layers = from_torch(model)
    want = run_torch(model, image)
    np.testing.assert_allclose(feature_maps(layers, image)[-1], want, rtol=1e-4,
                               atol=1e-5 * max(1.0, np.abs(want).max()))
    for position in positions:
        np.testing.assert_allclose(effective_receptive_field(layers, position, image),
                                   torch_erf(model, image, position), rtol=1e-9, atol=1e-12)
    return layers


# MobileNetV2's inverted residual, written as torchvision.models.mobilenetv2 defines it (Conv2dNormActivation is
# a Sequential of Conv2d, BatchNorm2d and the activation, like torchvision.ops.misc's).
class Conv2dNormActivation(nn.Sequential):
    def __init__(self, cin, cout, kernel_size=3, stride=1, groups=1, activation_layer=nn.ReLU6):
        layers = [nn.Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout)]
        if activation_layer is not None:
            layers.append(activation_layer(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, inp, oup, stride, expand_ratio):
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1))
        layers.extend([Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
                       nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)])
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


Conv2dNormActivation.__module__ = "torchvision.ops.misc"
InvertedResidual.__module__ = "torchvision.models.mobilenetv2"


def test_a_mobilenet_v2_stack_with_relu6_and_inverted_residuals_matches_torch():
    torch.manual_seed(5)
    model = randomise_statistics(nn.Sequential(
        Conv2dNormActivation(3, 8, stride=2), InvertedResidual(8, 8, 1, 1), InvertedResidual(8, 12, 2, 6),
        InvertedResidual(12, 12, 1, 6)))
    layers = assert_matches_torch(model, np.random.default_rng(3).normal(size=(21, 21, 3)) * 3,
                                  [(0, 0), (2, 3), (5, 5)])
    assert [type(layer).__name__ for layer in layers] == \
           ["Conv2d", "BatchNorm2d", "ReLU6", "Residual"] + ["Conv2d", "BatchNorm2d", "ReLU6"] * 2 + \
           ["Conv2d", "BatchNorm2d", "Residual"]
    expanded = layers[-1].body  # 1 x 1 expansion, 3 x 3 depthwise, 1 x 1 projection
    assert [(type(b).__name__, getattr(b, "groups", None)) for b in expanded] == \
           [("Conv2d", 1), ("BatchNorm2d", None), ("ReLU6", None), ("Conv2d", 72), ("BatchNorm2d", None),
            ("ReLU6", None), ("Conv2d", 1), ("BatchNorm2d", None)]
    # Stem 3 (jump 2), then 3 x 3 depthwise at jump 2 (+4), at jump 2 with stride 2 (+4), at jump 4 (+8).
    assert receptive_fields(layers, 21)[-1].rf_size == (19, 19)


# torchvision.ops.misc.FrozenBatchNorm2d and torchvision.ops.stochastic_depth, as torchvision defines them, with
# torchvision's module names (see the ResNet blocks above).
class FrozenBatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(num_features))
        self.register_buffer("bias", torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        w = self.weight.reshape(1, -1, 1, 1)
        b = self.bias.reshape(1, -1, 1, 1)
        rv = self.running_var.reshape(1, -1, 1, 1)
        rm = self.running_mean.reshape(1, -1, 1, 1)
        scale = w * (rv + self.eps).rsqrt()
        bias = b - rm * scale
        return x * scale + bias


def stochastic_depth(input, p, mode, training=True):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input
    survival_rate = 1.0 - p
    size = [input.shape[0]] + [1] * (input.ndim - 1) if mode == "row" else [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device).bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


torch.fx.wrap("stochastic_depth")


class StochasticDepth(nn.Module):
    def __init__(self, p, mode):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)


FrozenBatchNorm2d.__module__ = "torchvision.ops.misc"
stochastic_depth.__module__ = StochasticDepth.__module__ = "torchvision.ops.stochastic_depth"


def frozen(n, eps=1e-5, seed=0):
    """A FrozenBatchNorm2d with statistics and an affine map that are not the defaults."""
    bn, generator = FrozenBatchNorm2d(n, eps), torch.Generator().manual_seed(seed)
    for name, low in (("weight", None), ("bias", None), ("running_mean", None), ("running_var", 0.2)):
        values = torch.rand(n, generator=generator) + low if low else torch.randn(n, generator=generator)
        getattr(bn, name).copy_(values)
    return bn


class FrozenInForward(nn.Module):
    """A FrozenBatchNorm2d called inside a traced forward (fx would read its buffers if it traced into it)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = frozen(4, eps=1e-3, seed=1)

    def forward(self, x):
        return x + F.hardswish(self.bn(self.conv(x)))


def test_frozen_batchnorm_becomes_a_batchnorm2d_with_its_buffers_and_matches_torch():
    torch.manual_seed(6)
    bn = frozen(4)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), bn, nn.ReLU6(), FrozenInForward())
    layers = assert_matches_torch(model, np.random.default_rng(4).normal(size=(11, 11, 2)) * 2, [(0, 0), (4, 5)])
    values = {name: getattr(bn, name).numpy() for name in ("weight", "bias", "running_mean", "running_var")}
    assert layers[1] == BatchNorm2d(4, 1e-5, **values)
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "BatchNorm2d", "ReLU6", "Residual"]
    assert [type(layer).__name__ for layer in layers[3].body] == ["Conv2d", "BatchNorm2d", "Hardswish"]
    assert layers[3].body[1].eps == 1e-3
    assert from_torch(bn) == [layers[1]]


def test_a_frozen_batchnorm_look_alike_is_not_taken_for_torchvisions():
    class FrozenBatchNorm2d(nn.Module):  # the same name, another module: traced, read by what its forward does
        def __init__(self):
            super().__init__()
            self.register_buffer("weight", torch.arange(1.0, 3.0))

        def forward(self, x):
            return x * self.weight.reshape(1, -1, 1, 1)

    layers = from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), FrozenBatchNorm2d()))
    assert layers[1] == BatchNorm2d(2, 0.0, weight=[1.0, 2.0])  # a scale per channel, no statistics

    class Adds(FrozenBatchNorm2d):
        def forward(self, x):
            return x + self.weight.reshape(1, -1, 1, 1)

    # A bias per channel: a per-pixel layer too (it was refused; see test_broadcast_adds_*).
    assert from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), Adds()))[1] == BatchNorm2d(2, 0.0, bias=[1.0, 2.0])


class ConvNeXtBlock(nn.Module):
    """timm's ConvNeXtBlock (conv_mlp=False): channels-last LayerNorm and MLP, a layer scale, a shortcut."""

    def __init__(self, c):
        super().__init__()
        self.conv_dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.fc1, self.act, self.fc2 = nn.Linear(c, 2 * c), nn.GELU(), nn.Linear(2 * c, c)
        self.gamma = nn.Parameter(torch.rand(c) + 0.5)

    def forward(self, x):
        shortcut = x
        x = self.conv_dw(x).permute(0, 2, 3, 1)
        x = self.fc2(self.act(self.fc1(self.norm(x))))
        x = x.permute(0, 3, 1, 2)
        return x.mul(self.gamma.reshape(1, -1, 1, 1)) + shortcut


def test_a_convnext_block_with_channels_last_layers_and_a_layer_scale_matches_torch():
    from rfmaps import LayerNorm2d

    torch.manual_seed(3)
    model = nn.Sequential(nn.Conv2d(3, 4, 2, stride=2), ConvNeXtBlock(4), ConvNeXtBlock(4))
    layers = assert_matches_torch(model, np.random.default_rng(4).random((14, 12, 3)), [(0, 0), (3, 2)])
    assert isinstance(layers[1].body[1], LayerNorm2d)

    class Mixes(nn.Module):
        def forward(self, x):
            return x.permute(0, 2, 3, 1).flatten(1)

    with pytest.raises(ValueError, match="flatten in Mixes.forward.*channels-last"):
        from_torch(nn.Sequential(nn.Conv2d(1, 2, 1), Mixes()))
    with pytest.raises(ValueError, match=r"permutes the axes as \(0, 1, 3, 2\)"):
        from_torch(nn.Sequential(nn.Conv2d(1, 2, 1), Permutes()))


class Permutes(nn.Module):
    def forward(self, x):
        return x.permute(0, 1, 3, 2)


class MBConv(nn.Module):
    """The residual part of torchvision's EfficientNet MBConv block (squeeze-excitation left out)."""

    def __init__(self, channels, p):
        super().__init__()
        self.block = nn.Sequential(Conv2dNormActivation(channels, 2 * channels, 1, activation_layer=nn.Hardswish),
                                   Conv2dNormActivation(2 * channels, 2 * channels, groups=2 * channels,
                                                        activation_layer=nn.Hardswish),
                                   Conv2dNormActivation(2 * channels, channels, 1, activation_layer=None))
        self.stochastic_depth = StochasticDepth(p, "row")

    def forward(self, input):
        result = self.block(input)
        result = self.stochastic_depth(result)
        result += input
        return result


class CallsStochasticDepth(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.conv, self.options = nn.Conv2d(1, 2, 3), options

    def forward(self, x):
        return torch.relu(stochastic_depth(self.conv(x), **self.options))


def test_stochastic_depth_is_left_out_in_eval_mode_and_with_p_0():
    torch.manual_seed(7)
    model = randomise_statistics(nn.Sequential(nn.Conv2d(2, 4, 3), StochasticDepth(0.3, "row"), MBConv(4, 0.2)))
    layers = assert_matches_torch(model.eval(), np.random.default_rng(5).normal(size=(12, 12, 2)), [(1, 1), (5, 6)])
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "Residual"]
    assert layers[1].shortcut == () and len(layers[1].body) == 8
    # p = 0: nothing to drop, even in training mode.
    kept = from_torch(nn.Sequential(conv := nn.Conv2d(1, 1, 3), StochasticDepth(0.0, "batch")).train())
    assert kept == from_torch(conv)
    assert [type(layer).__name__ for layer in from_torch(CallsStochasticDepth(p=0.5, mode="row", training=False))] \
           == ["Conv2d", "ReLU"]


def test_dropout_called_with_training_false_or_p_0_is_left_out():
    class Drops(nn.Module):
        def __init__(self, *args, **kwargs):
            super().__init__()
            self.conv, self.args, self.kwargs = nn.Conv2d(1, 2, 3), args, kwargs

        def forward(self, x):
            return F.dropout(self.conv(x), *self.args, **self.kwargs)

    for args, kwargs in [((0.5, False), {}), ((), {"p": 0.5, "training": False}), ((0.0,), {}),
                         ((0.5, False, False), {})]:
        assert [type(layer).__name__ for layer in from_torch(Drops(*args, **kwargs))] == ["Conv2d"], (args, kwargs)


class DropsAsInTraining(nn.Module):
    """F.dropout(x, p, training=self.training): random while the model is in training mode."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return F.dropout2d(self.conv(x), 0.2, self.training)


class DropsAlways(nn.Module):
    """F.dropout(x, 0.5): training=True by default, so it drops values even after model.eval()."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return F.dropout(self.conv(x), 0.5)


def test_dropout_called_with_training_self_training_is_left_out_in_eval_mode():
    assert [type(layer).__name__ for layer in from_torch(DropsAsInTraining().eval())] == ["Conv2d"]


@pytest.mark.parametrize("model, words", [
    (nn.Sequential(nn.Conv2d(1, 2, 3), StochasticDepth(0.2, "row")).train(),
     ["StochasticDepth at model.1", "training mode", "p=0.2", "call model.eval()"]),
    (MBConv(2, 0.1).train(), ["StochasticDepth at model.stochastic_depth", "call model.eval()"]),
    (nn.Sequential(StochasticDepth(1.5, "row")).eval(), ["StochasticDepth at model.0", "0 <= p <= 1"]),
    (CallsStochasticDepth(p=0.5, mode="row"), ["stochastic_depth in CallsStochasticDepth.forward",
                                               "training=True (its default), and p=0.5",
                                               "pass training=self.training and call model.eval()"]),
    (DropsAlways().eval(), ["dropout in DropsAlways.forward", "training=True (the default",
                            "pass training=self.training and call model.eval()"]),
    (DropsAsInTraining().train(), ["dropout2d in DropsAsInTraining.forward", "training=self.training",
                                   "call model.eval()"]),
], ids=["StochasticDepth", "MBConv", "bad-p", "stochastic_depth", "F.dropout", "F.dropout2d"])
def test_what_is_random_is_refused_with_how_to_make_it_fixed(model, words):
    with pytest.raises(ValueError) as error:
        from_torch(model)
    for word in words:
        assert word in str(error.value), (word, str(error.value))
    assert "Sequential of known parts" not in str(error.value)


# -- torch.cat along channels: hand-written copies of torchvision's blocks -------------------------------------------

class DenseLayer(nn.Module):
    """torchvision.models.densenet._DenseLayer's eval-mode forward: a list of maps in, new maps out."""

    def __init__(self, cin, growth):
        super().__init__()
        self.norm1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, 2 * growth, 1, bias=False)
        self.norm2, self.conv2 = nn.BatchNorm2d(2 * growth), nn.Conv2d(2 * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        x = self.conv1(F.relu(self.norm1(x)))
        return self.conv2(F.relu(self.norm2(x)))


class DenseBlock(nn.ModuleDict):
    def __init__(self, layers, cin, growth):
        super().__init__({f"denselayer{i + 1}": DenseLayer(cin + i * growth, growth) for i in range(layers)})

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Inception(nn.Module):
    """GoogLeNet's Inception module: four aligned branches, a ceil-mode pool in the last."""

    def __init__(self, cin):
        super().__init__()
        self.branch1 = nn.Conv2d(cin, 2, 1)
        self.branch2 = nn.Sequential(nn.Conv2d(cin, 2, 1), nn.ReLU(), nn.Conv2d(2, 3, 3, padding=1))
        self.branch3 = nn.Sequential(nn.Conv2d(cin, 1, 1), nn.ReLU(), nn.Conv2d(1, 2, (1, 5), padding=(0, 2)),
                                     nn.Conv2d(2, 2, (5, 1), padding=(2, 0)))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), nn.Conv2d(cin, 1, 1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class Fire(nn.Module):
    """SqueezeNet's Fire module."""

    def __init__(self, cin):
        super().__init__()
        self.squeeze, self.act = nn.Conv2d(cin, 2, 1), nn.ReLU(inplace=True)
        self.expand1x1, self.expand3x3 = nn.Conv2d(2, 3, 1), nn.Conv2d(2, 3, 3, padding=1)

    def forward(self, x):
        x = self.act(self.squeeze(x))
        return torch.cat([self.act(self.expand1x1(x)), self.act(self.expand3x3(x))], 1)


@pytest.mark.parametrize("build", [
    lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), DenseBlock(4, 4, 2), nn.AvgPool2d(2)),
    lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(3, 2, ceil_mode=True), Inception(4), Inception(8)),
    lambda: nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.MaxPool2d(3, 2, ceil_mode=True), Fire(4), Fire(6)),
], ids=["densenet", "googlenet", "squeezenet"])
def test_concatenating_blocks_are_read_and_match_torch(build):
    from rfmaps import Concat

    torch.manual_seed(1)
    model = randomise_statistics(build())
    layers = assert_matches_torch(model, np.random.default_rng(2).random((19, 17, 3)), [(0, 0), (2, 3)])
    assert any(isinstance(layer, Concat) for layer in layers)


def test_a_dense_block_is_read_once_per_layer_not_once_per_path():
    from rfmaps import Concat

    layers = from_torch(DenseBlock(12, 4, 2).eval())
    # cat([x, f1, ..., f12]) is read as cat([cat([x, ..., f11]), f12]): one Concat of the input and new maps
    # per layer, each layer's convolutions once (not 2 ** 12 copies).
    assert len(layers) == 12 and all(isinstance(layer, Concat) and not layer.branches[0] for layer in layers)
    assert sum(isinstance(inner, Conv2d) for layer in layers for inner in layer.branches[1]) == 24
    assert layers[-1].out_channels == 4 + 12 * 2


def test_refusals_name_the_module_that_made_the_call_and_the_attribute_read():
    class Reads(nn.Module):
        def forward(self, x):
            return F.relu(x).flatten(1)

    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Sequential(nn.ReLU(), Reads()))
    with pytest.raises(ValueError, match=r"flatten in Reads.forward at model\.1\.1"):
        from_torch(model)
    block = DenseBlock(2, 4, 2)
    block.denselayer2.conv2 = nn.LSTM(2, 2)
    with pytest.raises(ValueError, match=r"LSTM at model\.denselayer2\.conv2"):
        from_torch(block)


def test_weights_without_values_or_in_half_precision_are_refused_by_name():
    with pytest.raises(ValueError, match=r"model\.0\.weight: it is on the meta device"):
        from_torch(nn.Sequential(nn.Conv2d(1, 1, 3, device="meta")))
    with pytest.raises(ValueError, match=r"model\.0\.weight: its dtype is torch\.bfloat16.*model\.float\(\)"):
        from_torch(nn.Sequential(nn.Conv2d(1, 1, 3)).to(torch.bfloat16))


def test_a_gate_after_a_global_pooling_is_read_as_one_layer_and_a_head_pooling_too():
    from rfmaps import AdaptiveAvgPool2d, GlobalAvgPool2d, SqueezeExcitation

    torch.manual_seed(8)
    inside = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Sequential(nn.ReLU(), Gate()))
    layers = assert_matches_torch(inside, np.random.default_rng(9).normal(size=(7, 6, 2)), [(0, 0), (3, 5)])
    assert isinstance(layers[-1], SqueezeExcitation) and [type(l).__name__ for l in layers[-1].gate] == \
        ["Conv2d", "Sigmoid"]
    assert from_torch(nn.Sequential(nn.Conv2d(2, 2, 1), nn.AdaptiveAvgPool2d(1)))[-1] == GlobalAvgPool2d()
    assert from_torch(nn.Sequential(nn.Conv2d(2, 2, 1), nn.AdaptiveAvgPool2d((2, 2))))[-1] == AdaptiveAvgPool2d(2)
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d at model\.1: output_size=\(2, None\) keeps a side"):
        from_torch(nn.Sequential(nn.Conv2d(2, 2, 1), nn.AdaptiveAvgPool2d((2, None))))
    with pytest.raises(ValueError, match=r"mean in Means\.forward at model: it averages over dim=1"):
        from_torch(Means())


class Means(nn.Module):
    def forward(self, x):
        return x.mean(1, keepdim=True)


def test_checks_on_the_input_shape_compute_nothing_and_are_skipped():
    class Checks(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            torch._assert(x.ndim == 4, "expected 4D input")  # as timm's BatchNormAct2d does
            return self.conv(x)

    assert [type(layer).__name__ for layer in from_torch(Checks())] == ["Conv2d"]


# -- Per-pixel channel layers: LayerNorm2d (ConvNeXt), ChannelShuffle and ChannelSlice (ShuffleNet) -----------------

def layer_norm_2d(x, weight, bias, eps):
    """torchvision.models.convnext.LayerNorm2d's forward, written out."""
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), weight, bias, eps).permute(0, 3, 1, 2)


def channel_shuffle(x, groups):
    """torchvision.models.shufflenetv2.channel_shuffle, written out."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w)


@pytest.mark.parametrize("seed", range(3))
def test_channel_layers_equal_torch_in_value_and_gradient(seed):
    from rfmaps import ChannelShuffle, ChannelSlice, LayerNorm2d

    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, 6, 4, 5, dtype=torch.float64, generator=generator, requires_grad=True)
    weight, bias = torch.randn(6, dtype=torch.float64, generator=generator), torch.randn(6, dtype=torch.float64)
    grad = torch.randn(1, 6, 4, 5, dtype=torch.float64, generator=generator)
    cases = [(LayerNorm2d(6, 1e-6, weight=weight, bias=bias), lambda t: layer_norm_2d(t, weight, bias, 1e-6)),
             (LayerNorm2d(6, 0.5), lambda t: layer_norm_2d(t, None, None, 0.5)),
             (ChannelShuffle(6, 2), lambda t: channel_shuffle(t, 2)),
             (ChannelShuffle(6, 3), lambda t: channel_shuffle(t, 3)),
             (ChannelSlice(6, 3, 6), lambda t: t.chunk(2, dim=1)[1]),
             (ChannelSlice(6, 0, 2), lambda t: t[:, 0:2])]
    for layer, function in cases:
        x.grad = None
        want = function(x)
        want.backward(grad[:, : want.shape[1]])
        value = x[0].detach().numpy()
        got = layer.forward(value, None, np.empty(want.shape[1:]))
        np.testing.assert_allclose(got, want[0].detach().numpy(), rtol=1e-12, atol=1e-12)
        back = layer.backward(None, value, got, grad[0, : want.shape[1]].numpy())
        np.testing.assert_allclose(back, x.grad[0].numpy(), rtol=1e-10, atol=1e-12)
        # The channel wiring: output c depends on the input channels whose gradient a one-hot output moves.
        for c in range(want.shape[1]):
            x.grad = None
            function(x)[0, c].sum().backward()
            moved = tuple(int(i) for i in np.flatnonzero(x.grad[0].abs().sum((1, 2)).numpy()))
            assert rfmaps.input_channels([layer], c) == moved, (layer, c)


def test_channel_layer_arguments_are_checked():
    from rfmaps import ChannelShuffle, ChannelSlice, LayerNorm2d

    with pytest.raises(ValueError, match="divisible by groups=4"):
        ChannelShuffle(6, 4)
    with pytest.raises(ValueError, match="0 <= start < stop <= num_channels=4"):
        ChannelSlice(4, 2, 6)
    with pytest.raises(ValueError, match="expects num_channels=3"):
        feature_maps([LayerNorm2d(3)], np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        LayerNorm2d(3, weight=[1, 2])


# -- hostile heads: a Linear on a 4-D map, and one flatten row -------------------------------------------------

@pytest.mark.parametrize("between", [[], [nn.ReLU(), nn.Dropout()]])
def test_a_linear_on_a_4d_map_is_refused_as_torch_cannot_run_it(between):
    """torch applies Linear to the last axis: after AdaptiveAvgPool2d(1) with no Flatten it stops. rfmaps said
    nothing and added a flatten; it now refuses with a sentence saying a Flatten is missing."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), *between, nn.Linear(4, 2)).eval()
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        model(torch.ones(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"cannot read Linear at model\.\d: .*torch applies Linear to the last "
                                         r"axis.*a Flatten is missing before it"):
        from_torch(model)


def test_a_flatten_then_linear_head_gives_one_flatten_row_and_torchs_numbers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    layers = from_torch(model)
    # The model's Flatten, then the Linear's own: one row (there were two).
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "GlobalAvgPool2d", "Flatten", "Conv2d"]
    image = torch.rand(1, 3, 8, 8, dtype=torch.float64)
    expected = model.double()(image)[0].detach().numpy()
    got = rfmaps.feature_maps(layers, image[0].permute(1, 2, 0).numpy())[-1]
    np.testing.assert_allclose(np.asarray(got).reshape(-1), expected, rtol=1e-4, atol=1e-5)  # float32 maps


# -- adds torch broadcasts: a bias is read as a per-channel layer, any other broadcast is refused ----------------

class AddsTensor(nn.Module):
    """A convolution, then ``+ value`` (a parameter, a buffer, a number), in either order, and a max pool."""

    def __init__(self, value, first=False, call=False):
        super().__init__()
        self.conv, self.pool = nn.Conv2d(2, 3, 3, padding=1), nn.MaxPool2d(2)
        self.first, self.call = first, call
        if isinstance(value, torch.Tensor) and value.requires_grad:
            self.value = nn.Parameter(value.detach())
        elif isinstance(value, torch.Tensor):
            self.register_buffer("value", value)
        else:
            self.value = value

    def forward(self, x):
        x = self.conv(x)
        if self.call:
            x = torch.add(self.value, x) if self.first else torch.add(x, self.value)
        else:
            x = self.value + x if self.first else x + self.value
        return self.pool(torch.sigmoid(x))


class ChannelsLastBias(nn.Module):
    """A bias added per channel on a channels-last map (timm writes its MLPs so)."""

    def __init__(self):
        super().__init__()
        self.conv, self.bias = nn.Conv2d(2, 3, 3), nn.Parameter(torch.randn(3))

    def forward(self, x):
        return (self.conv(x).permute(0, 2, 3, 1) + self.bias).permute(0, 3, 1, 2)


class AddsPooled(nn.Module):
    """x + g(pooled x) (``keepdim``, a pooling module, no ``keepdim``), or two pooled values, or a flattened one."""

    def __init__(self, kind):
        super().__init__()
        self.kind, self.conv = kind, nn.Conv2d(2, 3, 3, padding=1)
        self.pool, self.fc, self.linear = nn.AdaptiveAvgPool2d(1), nn.Conv2d(3, 3, 1), nn.Linear(3, 3)

    def forward(self, x):
        x = self.conv(x)
        if self.kind == "mean":
            return x + x.mean(dim=(2, 3), keepdim=True)
        if self.kind == "gate":
            return x + torch.sigmoid(self.fc(self.pool(x)))
        if self.kind == "flat mean":
            return x + x.mean((2, 3))
        if self.kind == "both pooled":
            return self.fc(self.pool(x)) + x.mean((2, 3), keepdim=True)
        return self.linear(self.pool(x).flatten(1)) + self.pool(x)  # "flat and 4-D"


class AddsNarrow(nn.Module):
    """x plus a map of one channel, which torch broadcasts to x's three."""

    def __init__(self):
        super().__init__()
        self.conv, self.narrow = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(3, 1, 1)

    def forward(self, x):
        x = self.conv(x)
        return x + self.narrow(x)


class AddsNumber(nn.Module):
    def forward(self, x):
        return x + 0.5


def autograd_field(model, size, position, channels=2):
    """The input pixels with a nonzero gradient at one output neuron, of an averaging float64 copy of ``model``
    (positive weights summing to 1, max pools averaging): exactly the neuron's field."""
    from reference import averaging_copy, max_pools_as_averages

    torch.manual_seed(0)
    x = (torch.rand((1, channels) + size, dtype=torch.float64) + 1).requires_grad_(True)
    with max_pools_as_averages():
        y = averaging_copy(model)(x)
    out = y[0].reshape(y.shape[1], *(y.shape[2:] or (1, 1)))
    (out[:, position[0], position[1]] * (torch.rand(out.shape[0], dtype=torch.float64) + 0.5)).sum().backward()
    return tuple(out.shape[1:]), x.grad[0].abs().sum(0).numpy() != 0


def assert_fields_are_autograds(layers, model, size):
    """At every output neuron, rfmaps' input region is the box of pixels autograd finds (and all of it)."""
    rows = receptive_fields(layers, size)
    for r in range(rows[-1].output_size[0]):
        for c in range(rows[-1].output_size[1]):
            shape, hit = autograd_field(model, size, (r, c))
            assert rows[-1].output_size == shape
            (top, bottom), (left, right) = rfmaps.input_region(layers, (r, c), size)
            box = np.zeros(size, bool)
            box[top:bottom + 1, left:right + 1] = True
            np.testing.assert_array_equal(hit, box, err_msg=str((r, c)))


@pytest.mark.parametrize("value, first, call", [
    (torch.randn(1, 3, 1, 1, requires_grad=True), False, False),  # a parameter per channel
    (torch.randn(3, 1, 1), True, False),  # a buffer per channel, added first
    (torch.randn(1, 1, 1, 1, requires_grad=True), False, True),  # one number for all, torch.add
    (-0.75, True, False), (2, False, True),  # Python numbers
], ids=["parameter", "buffer", "one-for-all", "float", "int"])
def test_a_bias_added_per_channel_or_for_all_is_a_per_pixel_layer_with_torchs_maps_and_fields(value, first, call):
    torch.manual_seed(2)
    model = AddsTensor(value, first, call)
    layers = assert_matches_torch(model, np.random.default_rng(1).normal(size=(9, 8, 2)), [(0, 0), (2, 3)])
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "BatchNorm2d", "Sigmoid", "MaxPool2d"]
    added = value.detach().reshape(-1).numpy() if isinstance(value, torch.Tensor) else np.array([value])
    np.testing.assert_array_equal(layers[1].shift, np.broadcast_to(added, 3))  # the value itself, per channel
    np.testing.assert_array_equal(layers[1].scale, 1.0)
    assert_fields_are_autograds(layers, model, (9, 8))
    # The bias adds nothing to the geometry: the table without its row is the table of the stack without it.
    rows = [(r.output_size, r.rf_size, r.jump, r.start) for r in receptive_fields(layers, (9, 8))]
    assert rows[1] == rows[0] and rows[:1] + rows[2:] == \
        [(r.output_size, r.rf_size, r.jump, r.start) for r in receptive_fields(layers[:1] + layers[2:], (9, 8))]


def test_a_bias_added_on_a_channels_last_map_is_read_and_matches_torch():
    torch.manual_seed(3)
    model = ChannelsLastBias()
    layers = assert_matches_torch(model, np.random.default_rng(2).normal(size=(7, 6, 2)), [(0, 0), (4, 3)])
    assert [type(layer).__name__ for layer in layers] == ["Conv2d", "BatchNorm2d"]
    np.testing.assert_array_equal(layers[1].shift, model.bias.detach().numpy())


def test_two_values_pooled_over_the_whole_map_add_and_every_neuron_sees_the_whole_image():
    torch.manual_seed(4)
    model = AddsPooled("both pooled")
    layers = assert_matches_torch(model, np.random.default_rng(3).normal(size=(6, 7, 2)), [(0, 0)])
    assert isinstance(layers[-1], Residual) and layers[-1].whole_image
    assert_fields_are_autograds(layers, model, (6, 7))


@pytest.mark.parametrize("model, shapes", [
    (AddsPooled("mean"), "(N, 3, H, W) and (N, 3, 1, 1)"),
    (AddsPooled("gate"), "(N, 3, H, W) and (N, 3, 1, 1)"),
    (AddsPooled("flat mean"), "(N, 3, H, W) and (N, 3)"),
    (AddsPooled("flat and 4-D"), "(N, 3) and (N, 3, 1, 1)"),
    (AddsNarrow(), "(N, 3, H, W) and (N, 1, H, W)"),
    (AddsTensor(torch.randn(3)), "a tensor of shape (3,) to a map of shape (N, 3, H, W)"),
    (AddsTensor(torch.randn(1, 4, 1, 1)), "a tensor of shape (1, 4, 1, 1) to a map of shape (N, 3, H, W)"),
    (AddsTensor(torch.randn(1, 3, 2, 1)), "a tensor of shape (1, 3, 2, 1) to a map of shape (N, 3, H, W)"),
    (AddsNumber(), "the number 0.5 to a map of shape (N, C, H, W) whose channels rfmaps does not know"),
], ids=["mean", "gate", "flat-mean", "flat-and-4d", "one-channel", "bias-(C,)", "bias-4-channels",
        "bias-2-rows", "number-at-input"])
def test_adds_torch_broadcasts_are_refused_naming_the_add_and_both_shapes(model, shapes):
    name = type(model).__name__
    with pytest.raises(ValueError) as error:
        from_torch(model)
    message = str(error.value)
    assert message.startswith(f"from_torch cannot read add in {name}.forward at model: it adds "), message
    assert shapes in message, message
    assert message.count(". ") == 0 and message.endswith("."), message  # one sentence
    # Where torch runs it, the sum really broadcasts: a neuron of x + g(pool(x)) depends on every input pixel.
    if name == "AddsPooled" and model.kind in ("mean", "gate"):
        shape, hit = autograd_field(model, (7, 7), (0, 0))
        assert shape == (7, 7) and hit.all()
