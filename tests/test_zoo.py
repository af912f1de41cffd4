"""rfmaps.models.zoo and rfmaps.drawing.zoo: stages of many networks, and who sees every pixel, against torch.

"Sees every pixel" is checked against autograd, never against rfmaps: a float64 torch copy with positive weights,
no activations (or ones with a positive slope), batch normalisation as the identity and max pools as average
pools has a nonzero gradient at exactly the input pixels with a path to the neuron.
"""

import copy
import pickle
import sys

import numpy as np
import pytest

import rfmaps
from rfmaps import Conv2d, GlobalAvgPool2d, ReLU, Sigmoid, SqueezeExcitation
from rfmaps.drawing.figures import TEXT_PT, text_boxes
from rfmaps.drawing.zoo import stage_fields
from rfmaps.models import zoo


# --------------------------------------------------------------------------------------------------------------
# torch references (hand-written modules, independent of rfmaps)
# --------------------------------------------------------------------------------------------------------------

def _torch():
    return pytest.importorskip("torch")


def resnet50_twin():
    """torchvision's ResNet-50 trunk geometry in torch: one channel, positive weights, pools that average."""
    torch = _torch()
    nn = torch.nn

    class Bottleneck(nn.Module):
        def __init__(self, stride, project):
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 3, stride=stride, padding=1),
                                      nn.Conv2d(1, 1, 1))
            self.shortcut = nn.Conv2d(1, 1, 1, stride=stride) if project else nn.Identity()

        def forward(self, x):
            return self.body(x) + self.shortcut(x)

    blocks = [nn.Conv2d(1, 1, 7, stride=2, padding=3), nn.AvgPool2d(3, stride=2, padding=1)]
    for stage, units in enumerate((3, 4, 6, 3)):
        for unit in range(units):
            blocks.append(Bottleneck(2 if unit == 0 and stage > 0 else 1, unit == 0))
    return _positive(nn.Sequential(*blocks)).double()


def _positive(module):
    torch = _torch()
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.rand_like(p) + 0.1 if "weight" in name else torch.zeros_like(p))
    return module


def sees(model, size, positions, channels=1):
    """For each neuron position of the model's output, the input pixels it depends on: a boolean (size x size)
    array from autograd. One copy of the input per neuron, in one batch (the copies do not mix)."""
    torch = _torch()
    x = torch.ones(len(positions), channels, size, size, dtype=torch.float64, requires_grad=True)
    y = model(x)
    out = sum(y[b, :, r, c].sum() for b, (r, c) in enumerate(positions))
    (grad,) = torch.autograd.grad(out, x)
    return list(grad.abs().sum(1).numpy() > 0)


# --------------------------------------------------------------------------------------------------------------
# The four ways of notebook 13, against torch (the fully connected head further down)
# --------------------------------------------------------------------------------------------------------------

def test_36_of_resnet50s_49_last_neurons_see_every_pixel_as_autograd_says():
    net = resnet50_twin()
    positions = [(r, c) for r in range(7) for c in range(7)]
    every = [bool(s.all()) for s in sees(net, 224, positions)]
    layers = rfmaps.architectures.resnet50("torchvision")
    assert zoo.whole_image_neurons(layers, 224) == (sum(every), "field covers the image") == (36, "field covers the image")
    # Which ones: rows and columns 1 to 6 (the corner row and column miss the last pixels).
    assert [p for p, e in zip(positions, every) if e] == [(r, c) for r in range(1, 7) for c in range(1, 7)]
    # The notebook's corner cell: neuron (0, 0) sees rows and columns 0-213, neuron (1, 1) all of them.
    corner, neighbour = sees(net, 224, [(0, 0), (1, 1)])
    rows, cols = np.nonzero(corner)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (0, 213, 0, 213)
    assert rfmaps.input_region(layers, (0, 0), 224) == ((0, 213), (0, 213))
    assert neighbour.all() and rfmaps.input_region(layers, (1, 1), 224) == ((0, 223), (0, 223))
    # The Predict's explanation: neuron i centred on 32 · i, reaching 213 pixels each way; fields of 427.
    row = rfmaps.receptive_fields(layers, 224)[-1]
    assert row.rf_size == (427, 427) and row.output_size == (7, 7) and row.jump == (32, 32) and row.start == (0, 0)
    middle = sees(net, 224, [(3, 3)])[0]   # inside the image: the autograd field is 427 wide around 96 (clipped)
    assert np.nonzero(middle.any(axis=1))[0].max() == 223


def test_global_pooling_makes_one_output_depend_on_every_pixel():
    torch = _torch()
    net = torch.nn.Sequential(*resnet50_twin(), torch.nn.AdaptiveAvgPool2d(1))
    (pooled,) = sees(net, 224, [(0, 0)])
    assert pooled.all()
    layers = list(rfmaps.architectures.resnet50("torchvision")) + [GlobalAvgPool2d()]
    assert zoo.whole_image_neurons(layers, 224) == (1, "global pooling")
    last = zoo.zoo_table({"pooled": layers}).last("pooled")
    assert last.stage == "head" and last.row.whole_image and last.whole == last.neurons == 1


class _SqueezeExcitation:
    """torch's squeeze-and-excitation as MobileNetV3 writes it (hand-written here: torchvision is optional)."""

    @staticmethod
    def module(channels, squeezed):
        torch = _torch()
        nn = torch.nn

        class SE(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1, self.fc2 = nn.Conv2d(channels, squeezed, 1), nn.Conv2d(squeezed, channels, 1)

            def forward(self, x):
                scale = torch.sigmoid(self.fc2(torch.relu(self.fc1(torch.nn.functional.adaptive_avg_pool2d(x, 1)))))
                return x * scale

        return SE()


def test_every_neuron_after_a_squeeze_and_excitation_gate_depends_on_every_pixel():
    torch = _torch()
    net = _positive(torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, stride=2, padding=1),
                                        _SqueezeExcitation.module(16, 4))).double()
    with torch.no_grad():  # small gate weights: the sigmoid must not saturate, or its slope underflows to 0
        for p in net[1].parameters():
            p.mul_(0.01)
    # ones in, positive weights: every ReLU of the gate passes, so the gate's slope is nonzero
    for seen in sees(net, 224, [(0, 0), (111, 111), (0, 111), (56, 20)], channels=3):
        assert seen.all()
    rng = np.random.default_rng(0)
    gate = [Conv2d(16, 4, 1, weight=rng.normal(size=(4, 16, 1, 1))), ReLU(),
            Conv2d(4, 16, 1, weight=rng.normal(size=(16, 4, 1, 1))), Sigmoid()]
    gated = [Conv2d(3, 16, 3, stride=2, padding=1), ReLU(), SqueezeExcitation(gate)]
    assert zoo.whole_image_neurons(gated, 224) == (112 * 112, "squeeze-and-excitation gate")
    # Before the gate the 3 x 3 windows see no whole image.
    assert zoo.whole_image_neurons(gated[:2], 224) == (0, "")


def test_counts_on_shipped_networks_agree_with_autograd_on_small_images():
    """Every neuron of VGG-16's last stages on a small image: the count and which ones, against autograd."""
    torch = _torch()
    nn = torch.nn
    stack = []
    for convs in (2, 2, 3, 3, 3):
        stack += [nn.Conv2d(1, 1, 3, padding=1) for _ in range(convs)] + [nn.AvgPool2d(2)]
    net = _positive(nn.Sequential(*stack)).double()
    for size in (96, 128, 160):
        n = size // 32
        every = [bool(s.all()) for s in sees(net, size, [(r, c) for r in range(n) for c in range(n)])]
        assert zoo.whole_image_neurons(rfmaps.architectures.vgg16(), size)[0] == sum(every), size


# --------------------------------------------------------------------------------------------------------------
# The table, its refusals, the picture (no torch)
# --------------------------------------------------------------------------------------------------------------

def test_stages_are_runs_of_one_jump_and_the_head_is_its_own_stage():
    found = zoo.stages(list(rfmaps.architectures.resnet50("torchvision")) + [GlobalAvgPool2d()], 224, "r")
    assert [(s.stage, s.row.output_size[0], s.row.jump[0]) for s in found] == [
        ("1", 112, 2), ("2", 56, 4), ("3", 28, 8), ("4", 14, 16), ("5", 7, 32), ("head", 1, 224)]
    # Each kept row is the last of its jump, not a padding layer (TF-slim pads before its first pool).
    slim = zoo.stages(rfmaps.architectures.resnet50(), 224)
    assert [s.row.output_size[0] for s in slim] == [112, 56, 28, 14, 7]
    assert not any(type(s.row.layer).__name__ == "ZeroPad2d" for s in slim)


def test_a_refused_network_keeps_its_row_and_its_sentence():
    table = zoo.zoo_table(["vgg16 (TF-slim)", "made up"], build=lambda name: (
        zoo.Refusal(name, "from_torch cannot read Thing at model.x: no kind.") if name == "made up"
        else zoo.shipped_network(name)))
    assert table.networks == ("vgg16 (TF-slim)", "made up") and [r.name for r in table.refused] == ["made up"]
    assert "Refused: made up. from_torch cannot read Thing at model.x: no kind." in table.summary()
    assert "Read (1 of 2): vgg16 (TF-slim)." in table.summary()
    html = table._repr_html_()
    assert "refused: from_torch cannot read Thing" in html and "1 read, 1 refused" in html
    assert "made up: refused. from_torch cannot read Thing" in str(table)
    again = pickle.loads(pickle.dumps(table))
    assert again.refused == table.refused and again.networks == table.networks and len(again) == len(table)


def test_whole_image_cells_say_why_and_global_rows_say_global():
    table = zoo.zoo_table({"pooled": list(rfmaps.architectures.resnet50("torchvision")) + [GlobalAvgPool2d()]})
    cells = list(table._cells())
    assert cells[-2][-1] == "36 of 49 (field covers the image)"
    assert cells[-1][-1] == "yes (global pooling)" and cells[-1][4].endswith("(global)")
    assert cells[0][-1] == "none"


def test_the_trunk_stops_before_the_first_global_pooling():
    layers = [Conv2d(1, 2, 3), GlobalAvgPool2d(), rfmaps.Flatten()]
    assert zoo.trunk(layers) == layers[:1]
    assert zoo.trunk(layers[:1]) == layers[:1]


def test_names_are_checked():
    with pytest.raises(ValueError, match="name must be one of"):
        zoo.shipped_network("resnet")
    with pytest.raises(ValueError, match="network must be one of"):
        zoo.zoo_table(["vgg16 (TF-slim)"]).last("alexnet")


def test_without_torchvision_the_sentence_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision", None)   # import torchvision raises ImportError
    module, why = zoo.import_torchvision()
    assert module is None and "not installed" in why and zoo.INSTALL in why and "ship with rfmaps" in why


def test_a_torchvision_that_fails_to_import_is_named_with_its_error(monkeypatch):
    import builtins

    real = builtins.__import__

    def failing(name, *args, **kwargs):
        if name == "torchvision":
            raise RuntimeError("operator torchvision::nms does not exist\nmore lines")
        return real(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torchvision", raising=False)
    monkeypatch.setattr(builtins, "__import__", failing)
    module, why = zoo.import_torchvision()
    assert module is None
    assert "(RuntimeError: operator torchvision::nms does not exist)" in why and "more lines" not in why
    assert zoo.INSTALL in why


def test_the_picture_draws_every_network_and_readable_text():
    table = zoo.zoo_table(["vgg16 (TF-slim)", "made up"], build=lambda name: (
        zoo.Refusal(name, "no") if name == "made up" else zoo.shipped_network(name)))
    picture = stage_fields(table)
    texts = text_boxes(picture.figure)
    assert all(box.fontsize >= TEXT_PT for box in texts)
    words = [box.text for box in texts]
    assert "vgg16 (TF-slim)" in words and "made up" in words and "refused (see the table)" in words
    assert "image side, 224 px" in words
    # every text inside the figure
    width, height = picture.figure.canvas.get_width_height()
    for box in texts:
        assert box.box.x0 >= -1 and box.box.x1 <= width + 1 and box.box.y0 >= -1 and box.box.y1 <= height + 1, box
    assert picture.alt_text().endswith("2 networks, one line each")


def test_effective_fields_are_zero_outside_the_theoretical_field():
    image = rfmaps.images.sample("photo", 64, square=True)
    layers = list(rfmaps.architectures.vgg16())[:10]
    (e,) = zoo.effective_fields({"vgg": layers}, image)
    (top, bottom), (left, right) = rfmaps.input_region(layers, e.neuron, 64)
    outside = np.ones((64, 64), bool)
    outside[top:bottom + 1, left:right + 1] = False
    assert e.heat[outside].max() == 0 and e.heat.max() > 0
    assert e.field == (bottom - top + 1, right - left + 1) and 1 <= e.width <= 64


# --------------------------------------------------------------------------------------------------------------
# Real torchvision networks (skipped without torchvision; see tests/torchvision_import.py)
# --------------------------------------------------------------------------------------------------------------

def _torchvision():
    _torch()
    from torchvision_import import import_torchvision

    module = import_torchvision()
    if module is None:
        pytest.skip("torchvision is not installed (not a test extra: see README, Tests)")
    return module


def _averaging(model):
    _torch()
    from reference import averaging_copy

    return averaging_copy(model)


def _autograd_every(model, size):
    """Per output neuron of ``model`` (a trunk), whether it depends on every input pixel (tiny inputs, pools as
    averages: every activation has a positive slope, see benchmarks/convert_real_networks.py)."""
    torch = _torch()
    from reference import max_pools_as_averages

    x = ((torch.rand((1, 3, size, size), dtype=torch.float64) + 1) * 1e-9).requires_grad_(True)
    with max_pools_as_averages():
        y = model(x)
    weights = torch.rand(y.shape[1], dtype=torch.float64) + 0.5
    found = []
    for r in range(y.shape[2]):
        for c in range(y.shape[3]):
            (grad,) = torch.autograd.grad((y[0, :, r, c] * weights).sum(), x, retain_graph=True)
            found.append(bool((grad[0].abs().sum(0) > 0).all()))
    return found


@pytest.mark.parametrize("name, size", [("resnet18", 96), ("googlenet", 96), ("mobilenet_v3_small", 96),
                                        ("squeezenet1_1", 128)])
def test_real_trunks_whole_image_neurons_equal_autograd(name, size):
    torchvision = _torchvision()
    torch = _torch()
    torch.manual_seed(0)
    options = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **options).eval()
    trunk = getattr(model, "features", None) or torch.nn.Sequential(
        *[m for n, m in model.named_children() if n not in ("avgpool", "dropout", "fc")])
    layers = rfmaps.from_torch(trunk)
    every = _autograd_every(_averaging(trunk), size)
    count, why = zoo.whole_image_neurons(layers, size)
    assert count == sum(every), (name, count, sum(every))
    if name == "mobilenet_v3_small":
        assert why == "squeeze-and-excitation gate" and all(every)


def test_every_torchvision_network_of_the_table_is_read_or_its_refusal_quoted():
    torchvision = _torchvision()
    for name in zoo.TORCHVISION[:3]:   # the first few: building all fifteen takes a while (the notebook does)
        layers = zoo.torchvision_network(name, torchvision)
        if isinstance(layers, zoo.Refusal):
            assert layers.reason.startswith("from_torch cannot read"), layers
        else:
            assert zoo.stages(layers, 224)[-1].stage == "head"


def _inception_stem():
    """Inception v3's layers up to its second max pool, in torch (one channel, positive weights, pools that
    average): 3 x 3 stride 2, 3 x 3, 3 x 3 padded, 3 x 3 pool stride 2, 1 x 1, 3 x 3, 3 x 3 pool stride 2."""
    torch = _torch()
    nn = torch.nn
    return _positive(nn.Sequential(
        nn.Conv2d(3, 1, 3, stride=2), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3, padding=1), nn.AvgPool2d(3, 2),
        nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 3), nn.AvgPool2d(3, 2))).double()


def test_inception_v3_never_reads_rows_and_columns_221_to_223_of_224():
    """13: the first layer drops pixel 223; the VALID 3 x 3 stride-2 pool on the 52 x 52 map drops 221 and 222."""
    torch = _torch()
    stem = _inception_stem()
    x = torch.ones(1, 3, 224, 224, dtype=torch.float64, requires_grad=True)
    y = stem(x)
    assert y.shape[-1] == 25 and stem[:6](x).shape[-1] == 52
    (grad,) = torch.autograd.grad(y.sum(), x)
    read = grad[0].abs().sum(0).numpy() > 0
    assert read[:221, :221].all() and not read[221:].any() and not read[:, 221:].any()
    # Before that pool, row 221 and 222 were still read: the pool drops them, not the first layer.
    (grad,) = torch.autograd.grad(stem[:6](x).sum(), x)
    assert (grad[0].abs().sum(0).numpy() > 0)[:223, :223].all()
    # rfmaps says the same of the whole shipped network, at every neuron of its last stage.
    layers = zoo.trunk(zoo.shipped_network("inception_v3 (TF-slim)"))
    h, w = rfmaps.receptive_fields(layers, 224)[-1].output_size
    assert {rfmaps.input_region(layers, (r, c), 224) for r in range(h) for c in range(w)} == {((0, 220), (0, 220))}


def test_torchvisions_inception_v3_never_reads_rows_and_columns_221_to_223():
    """13: no logit of torchvision's Inception v3 has a gradient at rows or columns 221, 222, 223 of 224."""
    torchvision = _torchvision()
    torch = _torch()
    from reference import max_pools_as_averages

    torch.manual_seed(0)
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
    model = _averaging(model)   # positive weights, pools as averages: a nonzero gradient wherever a path is
    x = (torch.rand((1, 3, 224, 224), dtype=torch.float64) + 1).requires_grad_(True)
    with max_pools_as_averages():
        y = model(x)
    (grad,) = torch.autograd.grad(y.sum(), x)   # every logit at once: positive paths, so no cancelling
    read = grad[0].abs().sum(0).numpy() > 0
    assert read[:221, :221].all() and not read[221:].any() and not read[:, 221:].any()
    layers = zoo.trunk(zoo.torchvision_network("inception_v3", torchvision))
    h, w = rfmaps.receptive_fields(layers, 224)[-1].output_size
    assert rfmaps.input_region(layers, (h // 2, w // 2), 224) == ((0, 220), (0, 220))


def test_a_fully_connected_head_sees_every_pixel_and_is_named_so():
    """13's fourth way (AlexNet, VGG): Flatten and Linear on the whole pooled map, against autograd."""
    torch = _torch()
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.AdaptiveAvgPool2d((4, 4)), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3), nn.ReLU(), nn.Linear(3, 2))   # as AlexNet's classifier
    x = torch.ones(1, 1, 9, 9, dtype=torch.float64, requires_grad=True)
    positive = _positive(model).double()
    (grad,) = torch.autograd.grad(positive(x).sum(), x)
    assert (grad.abs() > 0).all()
    found = zoo.stages(rfmaps.from_torch(model), 9)
    assert found[-1].stage == "head" and not found[-1].row.whole_image
    assert (found[-1].whole, found[-1].why) == (1, "fully connected layer")
    cells = list(zoo.ZooTable(found, [], (9, 9), ["net"])._cells())
    assert cells[-1][5] == "–" and cells[-1][6] == "yes (fully connected layer)" and cells[0][5] == "2 × 2"
    # A convolution whose window is smaller than its map is no fully connected layer.
    assert zoo.whole_image_neurons([Conv2d(1, 2, 3, stride=2), Conv2d(2, 3, 3)], 9) == (0, "")


def test_vgg16s_last_neurons_miss_pixels_but_a_fully_connected_layer_on_them_reads_every_one():
    """13: 'None of the 7 x 7 neurons before the head sees every pixel, yet the head's one output does.'"""
    torch = _torch()
    nn = torch.nn
    blocks = []
    for convs in (2, 2, 3, 3, 3):   # TF-slim's VGG-16: 3 x 3 'SAME' convolutions, then a 2 x 2 pool
        blocks += [nn.Conv2d(1, 1, 3, padding=1) for _ in range(convs)] + [nn.AvgPool2d(2)]
    trunk = _positive(nn.Sequential(*blocks)).double()
    every = [bool(s.all()) for s in sees(trunk, 224, [(r, c) for r in range(7) for c in range(7)])]
    fully = _positive(nn.Sequential(*blocks, nn.Flatten(), nn.Linear(49, 1), nn.Unflatten(1, (1, 1, 1))))
    (head,) = sees(fully.double(), 224, [(0, 0)])
    assert not any(every) and head.all()
    vgg = zoo.shipped_network("vgg16 (TF-slim)")
    assert rfmaps.receptive_fields(vgg, 224)[-1].output_size == (7, 7)
    table = zoo.zoo_table({"vgg": list(vgg) + [Conv2d(512, 10, 7), rfmaps.Flatten()]})
    assert [s.whole for s in table][:-1] == [0] * 6 and table[-2].neurons == 49
    assert (table.last("vgg").stage, table.last("vgg").whole, table.last("vgg").why) == (
        "head", 1, "fully connected layer")


def test_torchvisions_alexnet_head_reads_its_6_by_6_map_as_one_fully_connected_layer():
    """13: AlexNet's Flatten and Linear read the whole 6 x 6 map; the table says 'fully connected layer'."""
    torchvision = _torchvision()
    found = zoo.stages(zoo.torchvision_network("alexnet", torchvision), 224)
    assert found[-2].row.output_size == (6, 6) and found[-2].whole == 0
    assert (found[-1].stage, found[-1].whole, found[-1].why) == ("head", 1, "fully connected layer")
    assert not found[-1].row.whole_image


def test_inception_v3_has_fields_over_a_thousand_pixels_yet_no_neuron_sees_every_pixel():
    """13: Inception v3's first layer (3 x 3, stride 2, no padding) never reads row and column 223 of 224."""
    torch = _torch()
    first = _positive(torch.nn.Conv2d(3, 1, 3, stride=2)).double()
    seen = np.logical_or.reduce(sees(first, 224, [(r, r) for r in range(111)], channels=3))
    assert first(torch.ones(1, 3, 224, 224, dtype=torch.float64)).shape[-1] == 111
    assert not seen[223].any() and not seen[:, 223].any() and seen[:223, :223].any(axis=0).all()
    table = zoo.zoo_table(["inception_v3 (TF-slim)"])
    assert all(s.whole == 0 for s in table) and table.last("inception_v3 (TF-slim)").row.rf_size[0] > 1000
    assert type(zoo.shipped_network("inception_v3 (TF-slim)")[0]).__name__ == "Conv2d"
    layer = zoo.shipped_network("inception_v3 (TF-slim)")[0]
    assert (layer.kernel_size, layer.stride, layer.padding) == ((3, 3), (2, 2), (0, 0))


def test_torchvisions_inception_v3_and_gated_families_say_what_13_says():
    torchvision = _torchvision()
    inception = zoo.torchvision_network("inception_v3", torchvision)
    found = zoo.stages(inception, 224)
    assert all(s.whole == 0 for s in found) and found[-2].row.rf_size[0] > 1000
    assert found[-1].stage == "head" and found[-1].row.whole_image
    # Stages by the stride structure without gates: jumps 2 to 32, then the head; the last field is the
    # convolution path's (measured with autograd in test_gated_stages_*).
    for name, last in (("mobilenet_v3_large", 595), ("efficientnet_b0", 851), ("regnet_y_400mf", 575)):
        found = zoo.stages(zoo.torchvision_network(name, torchvision), 224)
        assert [s.row.jump[0] for s in found[:-1]] == [2, 4, 8, 16, 32] and found[-2].row.rf_size[0] == last, name
        gated = [s for s in found if s.gated]
        assert gated and gated[0].why == "squeeze-and-excitation gate", name
        assert gated == found[found.index(gated[0]):], name   # every row after the first gate
        assert all(s.whole == s.neurons for s in gated), name
        cells = list(zoo.ZooTable(found, [], (224, 224), [name])._cells())
        assert all(c[6].endswith("each neuron also depends on every pixel the gated map reads)") for c in cells[
            found.index(gated[0]):-1]) and cells[-1][6] == "yes (squeeze-and-excitation gate)", name


def _measured(model, size, outputs):
    """Per chosen output of ``model`` (indices into its children, run in turn), the field side and the jump of
    its middle neurons, from the nonzero gradient of an averaging float64 copy (rows; fields are square)."""
    torch = _torch()
    x = ((torch.rand((1, 3, size, size), dtype=torch.float64) + 1) * 1e-9).requires_grad_(True)
    h, kept = x, {}
    for index, child in enumerate(model):
        h = child(h)
        if index in outputs:
            kept[index] = h
    found = {}
    for index, y in kept.items():
        m = y.shape[2] // 2
        spans = []
        for r in (m, m + 1):
            (grad,) = torch.autograd.grad(y[0, :, r, m].sum(), x, retain_graph=True)
            rows = np.nonzero(grad[0].abs().sum((0, 2)).numpy() > 0)[0]
            assert 0 < rows.min() and rows.max() < size - 1, "the field must lie inside the image"
            spans.append((int(rows.min()), int(rows.max())))
        found[index] = (spans[0][1] - spans[0][0] + 1, spans[1][0] - spans[0][0])
    return found


def _every_pixel(model, size, outputs):
    """Whether the corner neurons (0, 0) and (n - 1, n - 1) of each chosen output depend on every pixel."""
    torch = _torch()
    x = ((torch.rand((1, 3, size, size), dtype=torch.float64) + 1) * 1e-9).requires_grad_(True)
    h, found = x, {}
    for index, child in enumerate(model):
        h = child(h)
        if index in outputs:
            n = h.shape[2]
            found[index] = all(bool((torch.autograd.grad(h[0, :, r, r].sum(), x, retain_graph=True)[0].abs()
                                     .sum(1) > 0).all()) for r in (0, n - 1))
    return found


def test_gated_stages_show_the_jumps_and_fields_autograd_gives_without_gates_in_a_hand_built_stack():
    """A gate, a residual block with a gate in its body: the table's jumps and fields are those of the same torch
    stack with the gates replaced by identities; with the gates in, every neuron of a gated row sees every pixel."""
    torch = _torch()
    nn = torch.nn
    rng = np.random.default_rng(1)

    def gate(c):
        return SqueezeExcitation([Conv2d(c, 2, 1, weight=rng.normal(size=(2, c, 1, 1))), ReLU(),
                                  Conv2d(2, c, 1, weight=rng.normal(size=(c, 2, 1, 1))), Sigmoid()])

    layers = [Conv2d(3, 4, 3, stride=2, padding=1), ReLU(), gate(4), Conv2d(4, 4, 3, padding=1),
              Conv2d(4, 4, 3, stride=2, padding=1), gate(4), Conv2d(4, 4, 3, stride=2, padding=1),
              rfmaps.Residual([Conv2d(4, 4, 3, padding=1), gate(4)]), Conv2d(4, 4, 3, padding=1)]

    class Residual(nn.Module):
        def __init__(self, body):
            super().__init__()
            self.body = body

        def forward(self, x):
            return x + self.body(x)

    def twin(se):
        return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), se(), nn.Conv2d(4, 4, 3, padding=1),
                             nn.Conv2d(4, 4, 3, stride=2, padding=1), se(), nn.Conv2d(4, 4, 3, stride=2, padding=1),
                             Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), se())),
                             nn.Conv2d(4, 4, 3, padding=1))

    plain = _averaging(twin(nn.Identity))
    gated = _averaging(twin(lambda: _SqueezeExcitation.module(4, 2)))
    found = zoo.stages(layers, 128)
    assert [(s.row.index, s.row.jump[0], s.gated) for s in found] == [(3, 2, True), (5, 4, True), (8, 8, True)]
    measured = _measured(plain, 128, [s.row.index for s in found])
    assert [(s.row.rf_size[0], s.row.jump[0]) for s in found] == [measured[s.row.index] for s in found] == [
        (7, 2), (11, 4), (51, 8)]
    # The rows with the gates in: rfmaps' own field is the gated map's box, jump 0.
    assert rfmaps.receptive_fields(layers, 128)[8].jump == (0, 0)
    assert all(_every_pixel(gated, 128, [s.row.index for s in found]).values())
    assert all(s.whole == s.neurons and s.why == "squeeze-and-excitation gate" for s in found)
    assert not any(_every_pixel(plain, 128, [3]).values())   # without the gate a 7 x 7 field does not


@pytest.mark.parametrize("name, size", [("mobilenet_v3_large", 800)])   # efficientnet_b0 (851 px) at 1024 agrees too
def test_gated_stages_of_torchvision_networks_equal_autograd_without_their_gates(name, size):
    torchvision = _torchvision()
    torch = _torch()
    torch.manual_seed(0)
    features = getattr(torchvision.models, name)(weights=None).eval().features

    def ungated(module):
        for child_name, child in module.named_children():
            if isinstance(child, torchvision.ops.SqueezeExcitation):
                setattr(module, child_name, torch.nn.Identity())
            else:
                ungated(child)
        return module

    plain, gated = _averaging(ungated(copy.deepcopy(features))), _averaging(features)
    found = [s for s in zoo.stages(rfmaps.from_torch(features), 224) if s.stage != "head"]
    # size: every field inside the image, so the middle neuron's nonzero gradient is its whole field
    with torch.no_grad():
        sizes, h = [], torch.zeros(1, 3, size, size)
        for block in features:
            h = block(h)
            sizes.append(h.shape[2])
    # The last block whose output has each jump: its field is the stage's (the stage's last row may be a 1 x 1
    # convolution of the next block, which keeps the field).
    last = {size // n: i for i, n in enumerate(sizes)}
    measured = _measured(plain, size, list(last.values()))
    assert [s.row.jump[0] for s in found] == [2, 4, 8, 16, 32]
    assert [(s.row.rf_size[0], s.row.jump[0]) for s in found] == [measured[last[s.row.jump[0]]] for s in found]
    # With the gates in, at 224: every row from the first gate on sees every pixel (the corner neurons too).
    gated_rows = [s for s in found if s.gated]
    every = _every_pixel(gated, 224, [last[s.row.jump[0]] for s in gated_rows])
    assert gated_rows and all(every.values()) and all(s.whole == s.neurons for s in gated_rows)


def test_the_shipped_few_have_effective_fields_that_count_pixels_unequally_inside_the_field():
    """13: 'The effective field is zero outside the theoretical one, and inside it the pixels count unequally.'"""
    image = rfmaps.images.sample("photo", 224, square=True)
    for e in zoo.effective_fields(zoo.trunks(zoo.FEW["shipped"]), image):
        layers = zoo.trunks([e.network])[e.network]
        (top, bottom), (left, right) = rfmaps.input_region(layers, e.neuron, 224)
        inside = e.heat[top:bottom + 1, left:right + 1]
        outside = e.heat.copy()
        outside[top:bottom + 1, left:right + 1] = 0
        assert outside.max() == 0 and inside.max() > 2 * inside.mean() > 0, e.network
        share = zoo.EffectiveTable([e]).shares[e.network]   # what 13's picture draws: 0 to 1, same shape
        assert share.max() == 1 and np.allclose(share * e.heat.max(), e.heat, rtol=1e-6, atol=0)


def test_no_shipped_name_is_a_torchvision_name():
    """zoo_table builds a name of SHIPPED from rfmaps: a torchvision name there would hide torchvision's network."""
    assert not set(zoo.SHIPPED) & set(zoo.TORCHVISION)
    assert all(name.endswith(("(TF-slim)", "(torchvision)")) for name in zoo.SHIPPED)


# --------------------------------------------------------------------------------------------------------------
# Hostile arguments: a sentence naming the argument, never a raw IndexError or TypeError from inside
# --------------------------------------------------------------------------------------------------------------

def test_a_network_refused_at_the_tables_size_becomes_a_refusal_row_naming_it():
    """AlexNet's AdaptiveAvgPool2d((6, 6)) is read only on maps whose sides are multiples of 6: at 64 the table
    keeps a row naming alexnet and quoting the sentence, and the other networks are still read."""
    def build(name):
        layers = [Conv2d(1, 2, 3, stride=2), rfmaps.AdaptiveAvgPool2d((6, 6)), Conv2d(2, 3, 6)]
        return layers if name == "alexnet" else zoo.shipped_network(name, 64)

    table = zoo.zoo_table(["alexnet", "vgg16 (TF-slim)"], 64, build=build)
    assert [r.name for r in table.refused] == ["alexnet"]
    assert {s.network for s in table} == {"vgg16 (TF-slim)"}
    reason = table.refused[0].reason
    assert reason.startswith("On a 64 × 64 image: ") and "multiples of (6, 6)" in reason
    assert "alexnet: refused. On a 64 × 64 image" in str(table) and "1 read, 1 refused" in table._repr_html_()
    # At 25 the pooling gets a 12 x 12 map (equal 2 x 2 windows): read.
    assert not zoo.zoo_table(["alexnet"], 25, build=build).refused


def test_torchvisions_alexnet_at_64_is_a_refusal_row_not_an_error():
    torchvision = _torchvision()
    table = zoo.zoo_table(["alexnet"], 64, build=lambda name: zoo.torchvision_network(name, torchvision))
    assert [r.name for r in table.refused] == ["alexnet"] and not len(table)
    assert "AdaptiveAvgPool2d" in table.refused[0].reason and "multiples of (6, 6)" in table.refused[0].reason


@pytest.mark.parametrize("name", ["get_model", "list_models", "resnet", "ResNet", "detection", "__class__", 3])
def test_torchvision_names_that_are_no_classifier_builders_are_refused_with_examples(name):
    torchvision = _torchvision()
    with pytest.raises(ValueError, match=r"name must be a classification model builder of torchvision\.models"
                                         r".*'resnet50'.*got " + repr(name).replace("(", r"\(")):
        zoo.torchvision_network(name, torchvision)


@pytest.mark.parametrize("layer", [9, -5, 1.0, "last", None, True])
def test_whole_image_neurons_says_which_layers_exist(layer):
    layers = [Conv2d(1, 1, 3)] * 3
    with pytest.raises((ValueError, TypeError), match=r"layer must be an int from -3 to 2, got"):
        zoo.whole_image_neurons(layers, 8, layer=layer)
    assert zoo.whole_image_neurons(layers, 8, layer=-3) == zoo.whole_image_neurons(layers, 8, layer=0)


def test_networks_that_are_no_list_of_names_are_refused_naming_networks():
    with pytest.raises(TypeError, match=r"networks must be a list of names .* got the string "
                                        r"'resnet50 \(TF-slim\)': for one network pass \['resnet50 \(TF-slim\)'\]"):
        zoo.zoo_table("resnet50 (TF-slim)")
    with pytest.raises(TypeError, match="networks must be a list of names or a mapping of name to layers, got "
                                        "NoneType None"):
        zoo.zoo_table(None)
    with pytest.raises(TypeError, match="networks must name each network with a str .* got 3"):
        zoo.zoo_table({3: [Conv2d(1, 1, 3)]}, 8)
    with pytest.raises(TypeError, match=r"networks\['m'\] must be a sequence of rfmaps layers, got int"):
        zoo.zoo_table({"m": 5}, 8)


def test_effective_fields_trunk_and_shipped_network_name_their_argument():
    image = np.ones((8, 8))
    layers = [Conv2d(1, 1, 3)]
    refusal = zoo.Refusal("m", "from_torch cannot read Thing at model.x: no kind.")
    with pytest.raises(TypeError, match=r"networks must be a mapping of name to layers.* got list"):
        zoo.effective_fields([layers], image)
    with pytest.raises(ValueError, match=r"networks\['m'\] is the refusal of 'm', not layers: from_torch cannot"):
        zoo.effective_fields({"m": refusal}, image)
    with pytest.raises(ValueError, match="layers is the refusal of 'm', not layers: from_torch cannot read Thing"):
        zoo.trunk(refusal)
    with pytest.raises(ValueError, match=r"name must be one of \['alexnet \(TF-slim\)'.* got \['x'\]"):
        zoo.shipped_network(["x"])


def _torch_sees_every_pixel(layers, size):
    """How many output neurons of ``layers`` on a ``size`` (h, w) image have a nonzero gradient at every
    input pixel: autograd through the positive torch twin (tests/reference.py), float64."""
    torch = _torch()
    from reference import positive_twin

    x = (torch.rand((1, 1) + tuple(size), dtype=torch.float64) + 0.5).requires_grad_(True)
    y = positive_twin(layers)(x)
    found = 0
    for r in range(y.shape[2]):
        for c in range(y.shape[3]):
            (grad,) = torch.autograd.grad(y[0, :, r, c].sum(), x, retain_graph=True)
            found += bool((grad[0, 0] != 0).all())
    return found


def test_whole_image_neurons_after_gates_dilations_and_upsampling_equal_autograd():
    """The hostile review's cases, where the count once assumed boxes that move with the neuron's index
    (dilation holes, an upsampling, neurons after a gate that read only padding), then random stacks."""
    gate = SqueezeExcitation([Conv2d(1, 1, 1, weight=np.ones((1, 1, 1, 1)), bias=np.zeros(1)), Sigmoid()])
    cases = [([gate, Conv2d(1, 1, 1, stride=2, padding=1)], (11, 19)),
             ([gate, Conv2d(1, 1, 5, padding=2), Conv2d(1, 1, 1, stride=3, padding=1)], (17, 17)),
             ([rfmaps.Upsample(2), Conv2d(1, 1, 3, stride=3, padding=2, dilation=2),
               Conv2d(1, 1, 3, stride=3, padding=3, dilation=2)], (3, 3))]
    rng = np.random.default_rng(5)
    while len(cases) < 30:
        layers = []
        for _ in range(rng.integers(1, 4)):
            if rng.random() < 0.2:
                layers.append(rfmaps.Upsample(int(rng.integers(2, 4))))
            elif rng.random() < 0.15:
                layers.append(gate)
            else:
                k, d = int(rng.integers(1, 4)), int(rng.integers(1, 4))
                layers.append(Conv2d(1, 1, k, stride=int(rng.integers(1, 4)), dilation=d,
                                     padding=int(rng.integers(0, d * (k - 1) // 2 + 2))))
        size = tuple(int(v) for v in rng.integers(4, 14, 2))
        try:
            rfmaps.receptive_fields(layers, size)
        except ValueError:  # a kernel that does not fit: not a case
            continue
        cases.append((layers, size))
    for layers, size in cases:
        expected = _torch_sees_every_pixel(layers, size)
        assert zoo.whole_image_neurons(layers, size)[0] == expected, (layers, size)
