"""Hostile inputs to layers and the engine: each gets a clear answer or the right one, never a quiet wrong one."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import rfmaps
from rfmaps import Conv2d, ReLU, Residual, effective_receptive_field, input_region, mass_width
from rfmaps.engine.growth import effective_growth

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("make, error, words", [
    (lambda: Conv2d(1, 1, 3, weight="abc"), TypeError, "weight must be an array of real numbers"),
    (lambda: Conv2d(1, 1, 2, weight=[[[[1, 2], [3]]]]), ValueError, "weight must be a rectangular array"),
    (lambda: Conv2d(1, 1, 1, weight=np.ones((1, 1, 1, 1)) * 1j), TypeError, "weight must hold real numbers"),
    (lambda: Conv2d(1, 1, 1, weight=np.ones((1, 1, 2, 2))), ValueError, r"weight must have shape \(1, 1, 1, 1\)"),
    (lambda: Conv2d(1, 2, 1, bias=["a", "b"]), TypeError, "bias must be an array of real numbers"),
    (lambda: Conv2d(1, 1, 3, padding=np.array([1, 2, 3])), ValueError, "padding must be an int or a pair"),
    (lambda: Conv2d(1, 1, 3, padding="full"), ValueError, "padding must be an int, a pair, 'valid' or 'same'"),
    (lambda: Conv2d(1, 1, 3, stride=np.array([0, 1])), ValueError, "stride must be >= 1, got 0"),
])
def test_bad_layer_arguments_name_the_argument(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_numpy_and_torch_values_mean_what_they_say():
    assert Conv2d(1, 1, 3, padding=np.array([1, 2])).padding == (1, 2)
    assert Conv2d(1, 1, np.int64(3)).kernel_size == (3, 3)
    weight = torch.randn(2, 1, 3, 3, requires_grad=True)
    layer = Conv2d(1, 2, 3, weight=weight)  # detached: the layer needs only the values
    assert np.allclose(layer.weight, weight.detach().numpy()) and not layer.weight.flags.writeable
    with torch.no_grad():
        weight += 1  # the student changes the tensor later: the layer keeps its own copy
    assert not np.allclose(layer.weight, weight.detach().numpy())


def test_residual_takes_one_layer_as_shortcut_as_it_does_as_body():
    one = Residual(Conv2d(8, 8, 3, padding=1), shortcut=Conv2d(8, 8, 1))
    listed = Residual([Conv2d(8, 8, 3, padding=1)], shortcut=[Conv2d(8, 8, 1)])
    assert one == listed


def test_later_layers_that_do_not_fit_do_not_block_an_earlier_neuron():
    ones = np.ones((1, 1, 3, 3))
    layers = [Conv2d(1, 1, 3, weight=ones), ReLU(), Conv2d(1, 1, 9)]  # 9 x 9 cannot run on a 3 x 3 map
    image = np.random.default_rng(0).random((5, 5))
    assert input_region(layers, (0, 0), 5, layer=0) == ((0, 2), (0, 2))
    field = effective_receptive_field(layers, (0, 0), image, layer=0)
    assert field.shape == (5, 5) and (field[:3, :3] > 0).all() and field[3:].sum() == field[:, 3:].sum() == 0
    with pytest.raises(ValueError, match="too small"):
        effective_receptive_field(layers, (0, 0), image)  # the last layer still has to fit


@pytest.mark.parametrize("heat, centre, error, words", [
    (np.ones((5, 5)), (10, 10), ValueError, "centre row must be from 0 to 4"),
    (np.ones((5, 5)), (2, -1), ValueError, "centre col must be from 0 to 4"),
    (np.full((5, 5), np.nan), (2, 2), ValueError, "finite values"),
    (-np.ones((5, 5)), (2, 2), ValueError, ">= 0"),
    (np.ones(5), (2, 2), ValueError, "2-D array"),
    (np.ones((5, 5)), (2.0, 2), ValueError, "pair of ints"),
])
def test_mass_width_refuses_what_has_no_width(heat, centre, error, words):
    with pytest.raises(error, match=words):
        mass_width(heat, centre)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), data=st.data())
def test_mass_width_of_one_hot_spot_is_the_square_that_reaches_it(h, w, data):
    r, c = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    cr, cc = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    heat = np.zeros((h, w))
    heat[r, c] = 1.0
    assert mass_width(heat, (cr, cc), 1.0) == 2 * max(abs(r - cr), abs(c - cc)) + 1


def test_a_large_dilation_costs_what_the_work_costs():
    # Regression: a shared window matrix copied every row between far-apart kernel rows.
    layer = Conv2d(1, 2, 3, dilation=60, weight=np.random.default_rng(1).normal(size=(2, 1, 3, 3)))
    image = np.random.default_rng(2).random((200, 150))
    got = rfmaps.feature_maps([layer], image)[0]
    expected = torch.nn.functional.conv2d(torch.tensor(image[None, None]), torch.tensor(layer.weight),
                                          dilation=60)[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_flags_and_fractions_are_what_they_say_not_truthy_values():
    with pytest.raises(TypeError, match="clip must be True or False"):
        input_region([Conv2d(1, 1, 3)], (0, 0), 8, clip="no")
    for fraction in (True, "0.9", float("nan"), 0, 1.5):
        with pytest.raises(ValueError, match="fraction must be a number in"):
            mass_width(np.ones((3, 3)), (1, 1), fraction)


# -- one rule for the same mistake (rfmaps._core.validation): a float where a whole number is needed is a
# -- ValueError naming the argument; a value of the wrong kind a TypeError (also a ValueError).

@pytest.mark.parametrize("call, name", [
    (lambda v: Conv2d(1, 1, v), "kernel_size"),
    (lambda v: rfmaps.engine.kernels.bank(3, v), "count"),
    (lambda v: rfmaps.engine.kernels.random_kernels(3, 2, 1, seed=v), "seed"),
    (lambda v: rfmaps.engine.images.sample("disk", size=v), "size"),
    (lambda v: rfmaps.engine.images.checkerboard(16, square=v), "square"),
    (lambda v: rfmaps.receptive_fields([Conv2d(1, 1, 3)], v), "input_size"),
    (lambda v: rfmaps.input_region([Conv2d(1, 1, 3)] * 2, (0, 0), 8, layer=v), "layer"),
    (lambda v: effective_growth((1,), draws=v), "draws"),
])
def test_a_float_for_a_whole_number_is_a_value_error_and_a_string_a_type_error(call, name):
    for value in (2.5, 20.0):  # whole or not, a float is refused, never rounded
        with pytest.raises(ValueError, match=rf"{name} must be an int.*got {value}") as caught:
            call(value)
        assert not isinstance(caught.value, TypeError)
    for value in ("3", True, {}):  # (None means the default for some of them)
        with pytest.raises(TypeError, match=rf"{name} must be an int") as caught:
            call(value)
        assert isinstance(caught.value, ValueError)  # code that catches every bad argument still does


LAYERS = [Conv2d(1, 1, 3, padding=1), rfmaps.MaxPool2d(2)]
POSITION_TAKERS = [
    ("position", lambda p: input_region(LAYERS, p, 8)),
    ("position", lambda p: input_region(LAYERS, p, 8, clip=False)),
    ("pixel", lambda p: rfmaps.projective_field(LAYERS, p, 8)),
    ("position", lambda p: rfmaps.path_counts(LAYERS, p, 8)),
    ("pixel", lambda p: rfmaps.forward_path_counts(LAYERS, p, 8)),
    ("position", lambda p: effective_receptive_field(LAYERS, p, np.ones((8, 8)))),
    ("position", lambda p: rfmaps.receptive_fields(LAYERS, 8)[-1].centre(p)),
    ("centre", lambda p: mass_width(np.ones((8, 8)), p)),
]


@pytest.mark.parametrize("name, call", POSITION_TAKERS)
def test_positions_take_ints_and_numpy_ints_and_refuse_floats_and_arrays(name, call):
    expected = call((1, 2))
    for same in ([1, 2], (np.int64(1), np.int32(2)), (np.uint8(1), 2)):
        np.testing.assert_array_equal(np.asarray(call(same), dtype=float), np.asarray(expected, dtype=float))
    with pytest.raises(ValueError, match=rf"{name} must be a pair of ints.*floats are not rounded") as caught:
        call((1.0, 2.0))
    assert not isinstance(caught.value, TypeError)
    for array in (np.array([1, 2]), np.array([1.0, 2.0])):
        with pytest.raises(TypeError, match=rf"{name} must be a pair of ints \(row, col\) as a tuple or list, "
                                            "got a numpy array"):
            call(array)
    for wrong_kind in ("12", 3, None, (1, "2")):
        with pytest.raises(TypeError, match=rf"{name} must be a pair of ints"):
            call(wrong_kind)
    with pytest.raises(ValueError, match=rf"{name} must be a pair of ints.*3 values"):
        call((1, 2, 3))


def test_switches_take_only_true_or_false():
    for value in ("no", 1, None, [False]):
        with pytest.raises(TypeError, match="clip must be True or False"):
            input_region([Conv2d(1, 1, 3)], (0, 0), 8, clip=value)
    assert input_region([Conv2d(1, 1, 3)], (0, 0), 8, clip=np.bool_(False)) == ((0, 2), (0, 2))


def test_mass_width_takes_any_array_like_heat_as_every_array_argument_does():
    heat = np.random.default_rng(3).random((7, 6))
    assert mass_width(heat.tolist(), (3, 2), 0.7) == mass_width(heat, (3, 2), 0.7)
    assert mass_width(heat.astype(np.float32), (3, 2), 0.7) == mass_width(heat, (3, 2), 0.7)
    with pytest.raises(ValueError, match="heat must be a rectangular 2-D array"):
        mass_width([[1, 2], [3]], (0, 0))
    for wrong in ([["a", "b"]], np.ones((2, 2)) * 1j):
        with pytest.raises(TypeError, match="heat must be a 2-D array of real numbers"):
            mass_width(wrong, (0, 0))
    with pytest.raises(TypeError, match="fraction must be a number in"):
        mass_width(heat, (3, 2), "0.9")


def test_input_channels_sorts_a_channel_by_the_same_rule():
    with pytest.raises(ValueError, match=r"channel must be an int >= 0, got 2.0 .*not rounded"):
        rfmaps.input_channels([ReLU()], 2.0)
    with pytest.raises(TypeError, match="channel must be an int >= 0, got str"):
        rfmaps.input_channels([ReLU()], "2")
    assert rfmaps.input_channels([ReLU()], np.int64(2)) == (2,)
