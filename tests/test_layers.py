"""Layer specifications: PyTorch's meanings, readable repr, and clear refusals."""

import numpy as np
import pytest

from rfmaps import AvgPool2d, Conv2d, MaxPool2d, ReLU, input_region, path_counts, receptive_fields


def test_pairs_and_defaults_follow_pytorch():
    conv = Conv2d(3, 8, (3, 5), stride=2, padding=(1, 2), dilation=(1, 2))
    assert conv.kernel_size == (3, 5) and conv.stride == (2, 2)
    assert conv.padding == (1, 2) and conv.dilation == (1, 2)
    assert MaxPool2d(3).stride == (3, 3)
    assert AvgPool2d(2, stride=1).stride == (1, 1)
    assert Conv2d(1, 1, 3, padding="valid").padding == (0, 0)


@pytest.mark.parametrize("layer, size, expected", [
    (Conv2d(3, 8, 5, stride=2), (32, 32), (14, 14)),
    (Conv2d(1, 1, 3, stride=2, padding=1, dilation=2), (10, 11), (4, 5)),
    (Conv2d(1, 1, (1, 3), stride=(1, 3)), (5, 10), (5, 3)),
    (MaxPool2d(3, stride=2, padding=1), (112, 112), (56, 56)),
    (MaxPool2d(2), (7, 7), (3, 3)),
    (AvgPool2d(3, stride=1, padding=1), (6, 6), (6, 6)),
    (ReLU(), (4, 9), (4, 9)),
])
def test_output_size(layer, size, expected):
    assert layer.output_size(size) == expected


def test_repr_reads_like_pytorch():
    assert repr(Conv2d(3, 8, kernel_size=5, stride=2)) == "Conv2d(3, 8, kernel_size=5, stride=2)"
    assert repr(Conv2d(3, 8, (3, 5), padding="same")) == "Conv2d(3, 8, kernel_size=(3, 5), padding='same')"
    assert repr(MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2)"
    assert repr(AvgPool2d(3, 1, 1)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(ReLU()) == "ReLU()"


def test_layers_are_immutable_values():
    w = np.ones((2, 1, 3, 3))
    a, b = Conv2d(1, 2, 3, weight=w), Conv2d(1, 2, 3, weight=w.copy())
    assert a == b and hash(a) == hash(b) and a != Conv2d(1, 2, 3)
    w[0, 0, 0, 0] = 5  # the layer keeps its own copy
    assert a.weight[0, 0, 0, 0] == 1
    with pytest.raises(AttributeError):
        a.stride = (2, 2)
    with pytest.raises(ValueError):
        a.weight[0, 0, 0, 0] = 2


def test_layers_differing_in_one_weight_bit_are_different():
    # Equality and hash go through a digest kept per array: one changed bit must still count,
    # also after the first layer's digest was computed and kept.
    w = np.random.default_rng(0).normal(size=(4, 3, 3, 3))
    a = Conv2d(3, 4, 3, weight=w)
    hash(a)
    w[3, 2, 2, 2] = np.nextafter(w[3, 2, 2, 2], np.inf)
    b = Conv2d(3, 4, 3, weight=w)
    assert a != b and hash(a) != hash(b)
    assert Conv2d(3, 4, 3, weight=w) == b


@pytest.mark.parametrize("build, name", [
    (lambda: Conv2d(0, 1, 3), "in_channels"),
    (lambda: Conv2d(1, -2, 3), "out_channels"),
    (lambda: Conv2d(1, 1, 0), "kernel_size"),
    (lambda: Conv2d(1, 1, 2.5), "kernel_size"),
    (lambda: Conv2d(1, 1, (3, 3, 3)), "kernel_size"),
    (lambda: Conv2d(1, 1, 3, stride=0), "stride"),
    (lambda: Conv2d(1, 1, 3, padding=-1), "padding"),
    (lambda: Conv2d(1, 1, 3, padding="full"), "padding"),
    (lambda: Conv2d(1, 1, 3, stride=2, padding="same"), "padding='same'"),
    (lambda: Conv2d(1, 1, 3, dilation=0), "dilation"),
    (lambda: Conv2d(2, 3, 3, weight=np.ones((3, 2, 3, 2))), "weight"),
    (lambda: Conv2d(1, 1, 1, weight=[[[[np.nan]]]]), "weight"),
    (lambda: Conv2d(2, 3, 3, bias=np.ones(2)), "bias"),
    (lambda: MaxPool2d(3, padding=2), "padding"),
    (lambda: MaxPool2d(2, stride=0), "stride"),
    (lambda: AvgPool2d((2, 4), padding=(1, 3)), "padding"),
])
def test_invalid_layers_are_refused_when_built(build, name):
    with pytest.raises(ValueError, match=name.replace("(", r"\(").replace(")", r"\)")):
        build()


def test_error_message_names_the_allowed_range():
    with pytest.raises(ValueError, match=r"^stride must be >= 1, got 0$"):
        Conv2d(1, 1, 3, stride=0)


@pytest.mark.parametrize("call, words", [
    (lambda: receptive_fields([Conv2d(1, 1, 5)], 4), ["layer 0", "input_size", ">= 5"]),
    (lambda: receptive_fields([Conv2d(1, 1, 3), MaxPool2d(2)], 3), ["layer 1", "input_size"]),
    (lambda: receptive_fields([Conv2d(1, 1, 3)], 0), ["input_size", ">= 1"]),
    (lambda: receptive_fields([], 8), ["layers", "empty"]),
    (lambda: receptive_fields(["conv"], 8), ["layers[0]"]),
    (lambda: input_region([Conv2d(1, 1, 3)], (6, 0), 8), ["row", "0 to 5"]),
    (lambda: input_region([Conv2d(1, 1, 3)], (0, -1), 8), ["col", "0 to 5"]),
    (lambda: input_region([Conv2d(1, 1, 3)], (0,), 8), ["position"]),
    (lambda: input_region([Conv2d(1, 1, 3)], (0, 0), 8, layer=1), ["layer", "-1 to 0"]),
    (lambda: path_counts([Conv2d(1, 1, 3)] * 2, (0, 0), 8, layer=-3), ["layer", "-2 to 1"]),
    (lambda: path_counts([Conv2d(1, 1, 3)], (0, 9), 8), ["col"]),
])
def test_bad_arguments_name_the_argument(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_relu6_hardswish_and_hardsigmoid_are_per_pixel_values_with_pytorch_reprs():
    import pickle

    from rfmaps import Hardsigmoid, Hardswish, ReLU6, receptive_fields

    for kind in (ReLU6, Hardswish, Hardsigmoid):
        layer = kind()
        assert repr(layer) == f"{kind.__name__}()"
        assert layer == kind() and hash(layer) == hash(kind()) and layer != ReLU()
        assert pickle.loads(pickle.dumps(layer)) == layer
        assert layer.output_size((4, 9)) == (4, 9)
        assert layer.kernel_size == layer.stride == (1, 1)
        with pytest.raises(AttributeError):
            layer.stride = (2, 2)
        # A per-pixel activation changes no receptive field.
        fields = receptive_fields([Conv2d(1, 2, 3), layer, Conv2d(2, 1, 3, stride=2)], 11)
        assert [f.rf_size for f in fields] == [(3, 3), (3, 3), (5, 5)]
    x = np.array([-4.0, -3.0, 0.0, 3.0, 6.0, 7.0])
    assert ReLU6().value(x).tolist() == [0.0, 0.0, 0.0, 3.0, 6.0, 6.0]
    assert Hardswish().value(x).tolist() == [-0.0, -0.0, 0.0, 3.0, 6.0, 7.0]
    assert Hardsigmoid().value(x).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0]


def _every_kind():
    """One layer of each kind rfmaps exports, with what feature_maps must accept arriving."""
    import rfmaps
    from rfmaps import layers as kinds

    return [
        kinds.Conv2d(3, 8, 3), kinds.ConvTranspose2d(4, 2, 3, stride=2), kinds.Upsample(2), MaxPool2d(2),
        AvgPool2d(3, 2, 1, ceil_mode=True), ReLU(), kinds.ZeroPad2d(1), kinds.BatchNorm2d(5), kinds.GELU(),
        kinds.LeakyReLU(0.1), kinds.LayerNorm2d(6), kinds.ChannelShuffle(6, 2), kinds.ChannelSlice(8, 2, 5),
        kinds.GlobalAvgPool2d(), kinds.Flatten(),
        rfmaps.Residual([kinds.BatchNorm2d(4), kinds.Conv2d(4, 4, 3, padding=1)]),
        rfmaps.Concat([[kinds.Conv2d(4, 2, 1)], []]),
    ]


@pytest.mark.parametrize("layer", _every_kind(), ids=repr)
def test_channels_before_says_what_channels_after_accepts(layer):
    # The protocol's two channel questions agree: a layer that names the channels it needs takes
    # exactly those (and says so with the argument's name), any other takes any number.
    takes = layer.channels_before()
    if takes is None:
        assert layer.channels_after(1) == 1 and layer.channels_after(7) == 7
        return
    assert layer.channels_after(takes) >= 1
    with pytest.raises(ValueError, match=rf"^layer 2\b.*\b{takes}\b.* has {takes + 1}\b"):
        layer.channels_after(takes + 1, "layer 2", "the image")


@pytest.mark.parametrize("layer", _every_kind(), ids=repr)
def test_every_sliding_kind_says_its_padding_for_each_size_and_others_refuse(layer):
    from rfmaps.layers import SlidingWindow

    if not isinstance(layer, SlidingWindow):
        with pytest.raises(NotImplementedError, match="slides no window"):
            layer.pads_for((9, 9))
        return
    for size in ((1, 1),) if type(layer).__name__ == "Flatten" else ((9, 9), (10, 12)):  # Flatten: 1 x 1 only
        pads = layer.pads_for(size)
        assert [p[0] for p in pads] == [p[0] for p in layer.pads]  # the before sides never depend on the size
        padded = [n + before + after for n, (before, after) in zip(size, pads)]
        span = layer.effective_kernel_size
        assert layer.output_size(size) == tuple((m - k) // s + 1 for m, k, s in zip(padded, span, layer.stride))
