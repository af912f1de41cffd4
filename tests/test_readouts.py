"""What the explorers' readouts say about the selected neuron, checked against torch autograd.

Random stacks of Conv2d, ConvTranspose2d, Upsample and AvgPool2d, with positive weights and no
activation, run in float64: every path from an input pixel to the neuron then adds a positive
amount to its gradient, so the pixels with a nonzero gradient are exactly the pixels with a path,
the neuron's receptive field as the image holds it. The whole theoretical field (padding included)
comes from the same stack on an input with a wide margin on every side: the margin is a multiple of
every stride, so the same neuron sits at a known shifted position, and what was padding is now
image. Nothing here asks rfmaps' own arithmetic for the answer.
"""

from __future__ import annotations

import html
import math
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from matplotlib.backend_bases import MouseEvent

from rfmaps import AvgPool2d, Conv2d, ConvTranspose2d, Upsample, receptive_fields
from rfmaps._core.geometry import nearest_index, nearest_whole
from rfmaps.arithmetic.receptive_field import nearest_neuron
from rfmaps.widgets import ERFExplorer, StackExplorer

torch = pytest.importorskip("torch")



# --- random stacks, as rfmaps layers and as torch modules --------------------------------------

@st.composite
def layer_specs(draw):
    kind = draw(st.sampled_from(["conv", "transposed", "upsample", "avgpool"]))
    if kind == "conv":
        k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        return kind, dict(kernel_size=k, stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, 2)),
                          dilation=draw(st.integers(1, 2)))
    if kind == "transposed":
        k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        stride, dilation = draw(st.sampled_from([2, 3, 2, 1])), draw(st.integers(1, 2))  # mostly phase-dependent
        return kind, dict(kernel_size=k, stride=stride, padding=draw(st.integers(0, 1)),
                          output_padding=draw(st.integers(0, max(stride, dilation) - 1)), dilation=dilation)
    if kind == "upsample":
        return kind, dict(scale_factor=draw(st.sampled_from([2, 3, 1])))
    k = draw(st.integers(2, 3))
    return kind, dict(kernel_size=k, stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, k // 2)))


def weight_for(spec, rng):
    kind, args = spec
    if kind in ("conv", "transposed"):
        return rng.uniform(0.5, 1.5, (1, 1) + tuple(args["kernel_size"]))  # positive: no path cancels
    return None


def rfmaps_layer(spec, weight):
    kind, args = spec
    if kind == "conv":
        return Conv2d(1, 1, **args, weight=weight)
    if kind == "transposed":
        return ConvTranspose2d(1, 1, **args, weight=weight)
    if kind == "upsample":
        return Upsample(args["scale_factor"])
    return AvgPool2d(**args)


def torch_module(spec, weight):
    kind, args = spec
    if kind == "conv":
        module = torch.nn.Conv2d(1, 1, bias=False, **args).double()
    elif kind == "transposed":
        module = torch.nn.ConvTranspose2d(1, 1, bias=False, **args).double()
    elif kind == "upsample":
        return torch.nn.Upsample(scale_factor=args["scale_factor"], mode="nearest")
    else:
        return torch.nn.AvgPool2d(**args)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(weight))
    return module


@st.composite
def stacks(draw):
    specs = draw(st.lists(layer_specs(), min_size=1, max_size=4))
    # The phase-dependent cases: a transposed stride or an upsampling factor above 1.
    assume(any(args.get("stride", 1) > 1 if kind == "transposed" else kind == "upsample" and args["scale_factor"] > 1
               for kind, args in specs))
    size = (draw(st.integers(4, 12)), draw(st.integers(4, 12)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    weights = [weight_for(spec, rng) for spec in specs]
    layers = [rfmaps_layer(spec, w) for spec, w in zip(specs, weights)]
    modules = [torch_module(spec, w) for spec, w in zip(specs, weights)]
    # Only stacks torch runs: each map must stay at least one pixel.
    try:
        out = torch.nn.Sequential(*modules)(torch.zeros((1, 1) + size, dtype=torch.float64))
    except RuntimeError:
        assume(False)
    assume(min(out.shape[2:]) >= 1 and out.numel() <= 60 * 60)
    return specs, layers, modules, size


# --- torch's answers --------------------------------------------------------------------------

def gradient(modules, size, position) -> np.ndarray:
    """d(neuron)/d(input) of the neuron at ``position`` of the last output, float64."""
    x = torch.ones((1, 1) + tuple(size), dtype=torch.float64, requires_grad=True)
    y = torch.nn.Sequential(*modules)(x)
    y[0, 0, position[0], position[1]].backward()
    return x.grad[0, 0].numpy()


def bounding_box(mask):
    if not mask.any():
        return None
    rows, cols = np.nonzero(mask)
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


def shift_of_neuron(specs, margin):
    """How far the neuron moves when ``margin`` pixels are added before the input: the margin times
    the up-sampling over the down-sampling of the stack (whole, as the margin is a multiple of each stride)."""
    shift = Fraction(margin)
    for kind, args in specs:
        if kind in ("conv", "avgpool"):
            shift /= args["stride"]
        elif kind == "transposed":
            shift *= args["stride"]
        else:
            shift *= args["scale_factor"]
    assert shift.denominator == 1
    return int(shift)


def reach(specs) -> int:
    """A bound on how far a field reaches, in input pixels: each window's span times the product of
    the strides before it (upsampling and transposed strides, which only shrink steps, left out)."""
    total, step = 1, 1
    for kind, args in specs:
        if kind != "upsample":
            k, d = max(np.atleast_1d(args.get("kernel_size", 1))), args.get("dilation", 1)
            total += (d * (k - 1) + 1) * step
        if kind in ("conv", "avgpool"):
            step *= args["stride"]
    return total


def torch_field(specs, modules, size, position):
    """(box, seen): the theoretical field, padding included, and the part of it with a path."""
    seen = bounding_box(gradient(modules, size, position) != 0)
    down = math.prod(args["stride"] for kind, args in specs if kind in ("conv", "avgpool"))
    margin = down * math.ceil((reach(specs) + 2) / down)  # a multiple of every stride, wider than any field
    shift = shift_of_neuron(specs, margin)
    big = tuple(n + 2 * margin for n in size)
    box = bounding_box(gradient(modules, big, (position[0] + shift, position[1] + shift)) != 0)
    if box is not None:
        box = tuple((low - margin, high - margin) for low, high in box)
    return box, seen


# --- the readouts, as a student reads them -----------------------------------------------------

def text(explorer) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", explorer._readout.value))


def stack_readout(explorer):
    """(size, seen, clipped) as StackExplorer's readout states them; size None: no field at all."""
    words = text(explorer)
    if "no receptive field" in words:
        return None, None, True
    h, w = map(int, re.search(r"receptive field (\d+) × (\d+) pixels", words).groups())
    if "nothing but zero padding" in words:
        return (h, w), None, True
    a, b, c, d = map(int, re.search(r"input rows (-?\d+) to (-?\d+) and columns (-?\d+) to (-?\d+)",
                                    words).groups())
    clipped = "clipped" in words
    assert clipped != ("all inside the image" in words), words
    return (h, w), ((a, b), (c, d)), clipped


def erf_readout(explorer):
    """(field size, side of the 90% square, centre) as ERFExplorer's readout states them."""
    words = text(explorer)
    size = re.search(r"theoretical receptive field is (\d+) × (\d+) pixels", words)
    side = re.search(r"(\d+) × (\d+) square around its centre \(input row (-?[\d.]+), column (-?[\d.]+)", words)
    return (None if size is None else tuple(map(int, size.groups())),
            None if side is None else (int(side.group(1)), int(side.group(2)),
                                       Fraction(side.group(3)), Fraction(side.group(4))))


def size_of(box):
    return tuple(high - low + 1 for low, high in box)


def square_mass(heat, box, side):
    """Share of ``heat`` in the ``side`` square whose centre is nearest the box's centre, placed by
    brute force over candidate first pixels (a tie: the lower one, as documented)."""
    window = []
    for (low, high), n in zip(box, heat.shape):
        centre = Fraction(low + high, 2)
        first = min(range(math.floor(centre) - side, math.ceil(centre) + 1),
                    key=lambda a: (abs(a + Fraction(side - 1, 2) - centre), a))
        window.append((max(first, 0), min(first + side - 1, n - 1)))
    (r0, r1), (c0, c1) = window
    inside = heat[r0: r1 + 1, c0: c1 + 1].sum() if r0 <= r1 and c0 <= c1 else 0.0
    return inside / heat.sum()


def image_of(size):
    return np.random.default_rng(0).uniform(0.1, 1.0, size)


# --- the properties -----------------------------------------------------------------------------

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(stacks(), st.data())
def test_stack_explorer_readout_is_the_neurons_own_field_as_torch_finds_it(stack, data):
    specs, layers, modules, size = stack
    out = receptive_fields(layers, size)[-1].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    box, seen = torch_field(specs, modules, size, position)
    explorer = StackExplorer(image_of(size), layers=layers, blit=False)
    try:
        explorer.select(*position, layer=-1)
        assert explorer.selected == (len(layers) - 1, *position)
        readout = stack_readout(explorer)
    finally:
        explorer.close()
    # What the examples cover (pytest --hypothesis-show-statistics): the cases the old readout got wrong.
    largest = receptive_fields(layers, size)[-1].rf_size
    event("no field" if box is None else "own field smaller than the layer's largest"
          if size_of(box) != tuple(largest) else "own field the layer's largest")
    event("clipped" if seen != box else "inside the image")
    if box is None:
        assert readout == (None, None, True)
        return
    assert readout == (size_of(box), seen, seen != box), (specs, size, position, text(explorer))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(stacks(), st.data())
def test_erf_explorer_readout_field_and_square_agree_with_torch(stack, data):
    specs, layers, modules, size = stack
    out = receptive_fields(layers, size)[-1].output_size
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    box, seen = torch_field(specs, modules, size, position)
    explorer = ERFExplorer(image_of(size), layers=layers, blit=False)
    try:
        explorer.select(*position)
        field_size, square = erf_readout(explorer)
    finally:
        explorer.close()
    if box is None:
        assert field_size is None and square is None
        return
    assert field_size == size_of(box)
    if seen is None:
        assert square is None  # nothing but padding: no effective field to measure
        return
    heat = np.abs(gradient(modules, size, position))
    side, other, row, col = square
    assert side == other and (row, col) == tuple(Fraction(low + high, 2) for low, high in box)
    assert side <= max(size_of(box))  # never a square larger than the field
    # The smallest such square (rfmaps' effective field is float32: a share within 1e-5 of 90% may go
    # either way; measured shares of neighbouring squares differ by far more).
    assert square_mass(heat, box, side) >= 0.9 - 1e-5
    assert side == 1 or square_mass(heat, box, side - 1) < 0.9 + 1e-5


def torch_centres(specs, modules, size, out):
    """Per axis, torch's field centre of every neuron (None: it reads nothing along that axis).

    Along rows, the neurons of the diagonal (fields are products of a row and a column interval,
    and a neuron reads something only if it does along both axes: the diagonal's boxes give each
    row's and each column's interval where it exists)."""
    centres = ([None] * out[0], [None] * out[1])
    for o in range(max(out)):
        position = (min(o, out[0] - 1), min(o, out[1] - 1))
        box, _ = torch_field(specs, modules, size, position)
        for axis in (0, 1):
            if box is not None and o < out[axis]:
                centres[axis][o] = Fraction(box[axis][0] + box[axis][1], 2)
    return centres


def nearest_by_brute_force(centres, point):
    """Per axis the neuron whose torch field is centred nearest ``point``; ties to the lower index."""
    chosen = []
    for axis in (0, 1):
        near = [(abs(c - Fraction(point[axis])), o) for o, c in enumerate(centres[axis]) if c is not None]
        chosen.append(min(near)[1] if near else None)
    return tuple(chosen)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(stacks(), st.data())
def test_a_click_selects_the_neuron_centred_nearest_as_torch_places_them(stack, data):
    specs, layers, modules, size = stack
    out = receptive_fields(layers, size)[-1].output_size
    assume(max(out) <= 24)  # brute force: two backward passes per neuron of the diagonal
    # A whole or half pixel (ties happen there) or any point of the picture.
    point = tuple(data.draw(st.one_of(st.integers(0, 2 * n - 2).map(lambda v: Fraction(v, 2)),
                                      st.floats(-0.5, n - 0.5))) for n in size)
    centres = torch_centres(specs, modules, size, out)
    assume(all(None not in axis for axis in centres))  # the diagonal found every row's and column's field
    expected = nearest_by_brute_force(centres, point)
    assume(None not in expected)  # some neuron reads something along each axis
    assert nearest_neuron(layers, point, size) == expected
    # The same through ERFExplorer's click on the input panel.
    explorer = ERFExplorer(image_of(size), layers=layers, blit=False)
    try:
        ax = explorer._ax_in
        x, y = ax.transData.transform((float(point[1]), float(point[0])))
        event = MouseEvent("button_press_event", explorer.figure.canvas, x, y, button=1)
        assume(event.inaxes is ax)
        clicked = (event.ydata, event.xdata)  # what the explorer receives, after the round trip
        explorer._on_click(event)
        assert explorer.selected[1:] == nearest_by_brute_force(centres, clicked)
    finally:
        explorer.close()


@pytest.mark.parametrize("value, whole, index", [
    (0.5, 0, 0), (1.5, 1, 1), (Fraction(5, 2), 2, 2), (2.5000001, 3, 3), (-0.5, -1, 0), (-3, -3, 0), (7.2, 7, 3)])
def test_one_tie_rule_halves_go_to_the_lower_index(value, whole, index):
    """The cases the three old rules split on (half down, half up, half to even gave (0, 1), (1, 2),
    (0, 2) for 0.5 and 1.5) now have one answer; out of range, the index is the nearer end of 0 to 3."""
    assert nearest_whole(value) == whole
    assert nearest_index(value, 4) == index


def test_the_transposed_case_of_the_issue():
    """[Conv2d 3x3 p1, ConvTranspose2d k3 s2 p1 op1], neuron (16, 16): torch sees 3 x 3, rows and
    columns 7 to 9; the layer's largest field (4 x 4) is not this neuron's."""
    specs = [("conv", dict(kernel_size=(3, 3), stride=1, padding=1, dilation=1)),
             ("transposed", dict(kernel_size=(3, 3), stride=2, padding=1, output_padding=1, dilation=1))]
    weights = [np.ones((1, 1, 3, 3))] * 2
    layers = [rfmaps_layer(s, w) for s, w in zip(specs, weights)]
    modules = [torch_module(s, w) for s, w in zip(specs, weights)]
    box, seen = torch_field(specs, modules, (16, 16), (16, 16))
    assert box == seen == ((7, 9), (7, 9))
    explorer = StackExplorer(image_of((16, 16)), layers=layers, blit=False)
    explorer.select(16, 16)
    assert stack_readout(explorer) == ((3, 3), ((7, 9), (7, 9)), False)
    explorer.close()
    erf = ERFExplorer(image_of((16, 16)), layers=layers, blit=False)
    erf.select(16, 16)
    size, (side, _, row, col) = erf_readout(erf)
    assert size == (3, 3) and side <= 3 and (row, col) == (8, 8)
    erf.close()


def test_a_two_by_two_field_gets_a_square_no_larger_than_itself():
    """A 2 x 2 all-ones convolution: the field's centre is a half pixel; the square holding 90% of
    the effective field is the 2 x 2 field itself (each pixel holds a quarter), never a 3 x 3."""
    layers = [Conv2d(1, 1, 2, weight=np.ones((1, 1, 2, 2)))]
    modules = [torch_module(("conv", dict(kernel_size=(2, 2), stride=1, padding=0, dilation=1)),
                            np.ones((1, 1, 2, 2)))]
    erf = ERFExplorer(image_of((16, 16)), layers=layers, blit=False)
    erf.select(7, 7)
    size, (side, _, row, col) = erf_readout(erf)
    erf.close()
    box, _ = torch_field([("conv", dict(stride=1))], modules, (16, 16), (7, 7))
    assert size == size_of(box) == (2, 2)
    assert side == 2 and (row, col) == (Fraction(15, 2), Fraction(15, 2))


PHASE_STACKS = {
    "conv, transposed k3 s2 (the issue's)": [
        ("conv", dict(kernel_size=(3, 3), stride=1, padding=1, dilation=1)),
        ("transposed", dict(kernel_size=(3, 3), stride=2, padding=1, output_padding=1, dilation=1))],
    "transposed k5 s2 p2 op1": [
        ("transposed", dict(kernel_size=(5, 5), stride=2, padding=2, output_padding=1, dilation=1))],
    "upsample 2, transposed k3 s2": [
        ("upsample", dict(scale_factor=2)),
        ("transposed", dict(kernel_size=(3, 2), stride=2, padding=0, output_padding=1, dilation=1))],
    "strided conv, transposed k3 s2, conv": [
        ("conv", dict(kernel_size=(2, 3), stride=2, padding=1, dilation=1)),
        ("transposed", dict(kernel_size=(3, 3), stride=2, padding=1, output_padding=1, dilation=1)),
        ("conv", dict(kernel_size=(1, 2), stride=1, padding=0, dilation=1))],
}


@pytest.mark.parametrize("name", PHASE_STACKS)
def test_every_phase_of_a_transposed_stack_reads_out_its_own_field(name):
    """Neurons of each phase along the diagonal: fields of different sizes in one layer (the case a
    layer-wide rf_size got wrong), each read out as torch finds it."""
    specs = PHASE_STACKS[name]
    rng = np.random.default_rng(1)
    weights = [weight_for(spec, rng) for spec in specs]
    layers = [rfmaps_layer(spec, w) for spec, w in zip(specs, weights)]
    modules = [torch_module(spec, w) for spec, w in zip(specs, weights)]
    size = (9, 10)
    out = receptive_fields(layers, size)[-1].output_size
    explorer = StackExplorer(image_of(size), layers=layers, blit=False)
    sizes = set()
    try:
        for o in range(min(out)):
            box, seen = torch_field(specs, modules, size, (o, o))
            explorer.select(o, o, layer=-1)
            expected = (None, None, True) if box is None else (size_of(box), seen, seen != box)
            assert stack_readout(explorer) == expected, (name, o, text(explorer))
            sizes.add(None if box is None else size_of(box))
    finally:
        explorer.close()
    assert len(sizes) > 1  # the layer's fields do differ by phase: the case this test is for


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.data())
def test_mass_square_is_the_smallest_centred_square_by_brute_force(h, w, data):
    """engine.mass_square against the brute-force placement above, on heat that is 0 outside the box."""
    from rfmaps.engine.maps import mass_square

    top = data.draw(st.integers(-3, h - 1))
    left = data.draw(st.integers(-3, w - 1))
    box = ((top, data.draw(st.integers(max(top, 0), h + 2))), (left, data.draw(st.integers(max(left, 0), w + 2))))
    heat = np.zeros((h, w))
    (r0, r1), (c0, c1) = ((max(a, 0), min(b, n - 1)) for (a, b), n in zip(box, (h, w)))
    values = data.draw(st.lists(st.integers(0, 9), min_size=(r1 - r0 + 1) * (c1 - c0 + 1),
                                max_size=(r1 - r0 + 1) * (c1 - c0 + 1)))
    heat[r0: r1 + 1, c0: c1 + 1] = np.reshape(values, (r1 - r0 + 1, c1 - c0 + 1))
    fraction = data.draw(st.sampled_from([0.5, 0.9, 1.0]))
    side = mass_square(heat, box, fraction)
    if heat.sum() == 0:
        assert side == 0
        return
    # Integer heat: shares are exact enough that no tolerance is needed beyond float rounding.
    assert square_mass(heat, box, side) >= fraction - 1e-12
    assert side == 1 or square_mass(heat, box, side - 1) < fraction - 1e-12
    assert side <= max(size_of(box))


@pytest.mark.parametrize("box, fraction, words", [
    (((3, 2), (0, 1)), 0.9, "box must be"), ((0.5, 2), 0.9, "box must be"), (((0, 1), (0, 1)), 0, "fraction"),
    (((0, 1), (0, 1)), True, "fraction")])
def test_mass_square_refuses_what_has_no_square(box, fraction, words):
    from rfmaps.engine.maps import mass_square

    with pytest.raises(ValueError, match=words):
        mass_square(np.ones((4, 4)), box, fraction)
