"""Explorers driven without a mouse: the selection contract, honest state, never a hidden exception.

Every check after an action asks the same questions (``assert_honest``): is
the message empty, does ``.region`` equal :func:`rfmaps.input_region` of
``.selected``, do the selection controls show the selection, and do the other
controls show the network that is drawn? A callback that raises anything but
a refusal (ValueError) is raised again, so these tests see it.
"""

import gc
import random
from types import SimpleNamespace

import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from matplotlib.figure import Figure

from rfmaps import MaxPool2d, feature_maps, input_region, receptive_fields

from rfmaps.drawing import figures as drawing
from rfmaps._core.geometry import nearest_index
from rfmaps.widgets import ConvExplorer, ERFExplorer, StackExplorer
from rfmaps.widgets._base import Cache, Explorer, check_int, image_control, slider
from rfmaps.widgets.controls import ChoiceRange
from reference import backward_paths

EXPLORERS = {
    "conv": lambda: ConvExplorer("disk", size=24),
    "stack": lambda: StackExplorer("checkerboard", depth=3, size=32),
    "erf": lambda: ERFExplorer("letter", depth=2, size=24),
    # Only the controls taught so far: the others stay fixed at their starting values.
    "conv-taught": lambda: ConvExplorer("photo (square)", size=24, stride=2, controls=["kernel_size", "kernels"]),
    "stack-taught": lambda: StackExplorer("disk", depth=2, size=32, dilation=2, controls=["depth", "kernel_size"]),
}


def legal_values(control):
    """Every value a student can give ``control`` now."""
    if isinstance(control, widgets.Checkbox):
        return [not control.value, control.value]
    if isinstance(control, (widgets.SelectionSlider, ChoiceRange)):
        return [value for _, value in control.options]
    if isinstance(control, widgets.Dropdown):
        return list(control.options)
    values = list(range(control.min, control.max + 1))
    if len(values) > 24:  # kernels go up to 256: both ends, and values spread between
        values = sorted(set(values[:8] + values[-4:] + values[::len(values) // 12]))
    return values


def value(explorer, name):
    """What control ``name`` says, whether shown or fixed by ``controls=``."""
    control = explorer.controls.get(name)
    return explorer._fixed[name] if control is None else control.value


def network_matches_controls(explorer):
    """The layers drawn are the ones the (non-selection) controls describe."""
    c = {name: value(explorer, name) for name in [*explorer.controls, *explorer._fixed]}
    layers = explorer.layers
    if isinstance(explorer, ConvExplorer):
        (conv,) = layers
        return (conv.kernel_size[0], conv.stride[0], conv.padding[0], conv.dilation[0], conv.out_channels) == (
            c["kernel_size"], c["stride"], c["padding"], c["dilation"], c["kernels"])
    convs = [layer for layer in layers if type(layer).__name__ == "Conv2d"]
    if len(convs) != c["depth"]:
        return False
    if isinstance(explorer, ERFExplorer):
        has_relu = any(type(layer).__name__ == "ReLU" for layer in layers)
        return has_relu == c["relu"] and all(
            (conv.kernel_size[0], conv.dilation[0]) == (c["kernel_size"], c["dilation"]) for conv in convs)
    for i, conv in enumerate(convs, start=1):
        if (conv.kernel_size[0], conv.stride[0], conv.dilation[0]) != (
                c[f"kernel_size_{i}"], c[f"stride_{i}"], c[f"dilation_{i}"]):
            return False
    pools = sum(type(layer).__name__ == "MaxPool2d" for layer in layers)
    return pools == sum(c[f"pool_{i}"] for i in range(1, c["depth"] + 1))


def assert_contract(explorer):
    """``.region`` is input_region of ``.selected``, and every control tells the truth."""
    layer, row, col = explorer.selected
    assert 0 <= layer < len(explorer.layers)
    assert explorer.region == input_region(explorer.layers, (row, col), explorer.input_size, layer=layer)
    c = explorer.controls
    assert (c["row"].value, c["col"].value) == (row, col)
    h, w = explorer._state.rows[layer].output_size
    assert (c["row"].max, c["col"].max) == (h - 1, w - 1)
    if "map" in c:
        maps = explorer._map_count(explorer._state, layer)
        assert c["map"].value == explorer.selection.map <= c["map"].max == maps - 1
        if isinstance(explorer, ConvExplorer):
            assert maps == value(explorer, "kernels") == len(explorer._state.maps)
    if "layer" in c:
        assert c["layer"].value == layer
    assert network_matches_controls(explorer)


def assert_honest(explorer):
    assert explorer.message == ""
    assert_contract(explorer)


def brute_force_region(explorer):
    """Bounding box of the pixels a walk back along every path reaches (no rfmaps code)."""
    layer, row, col = explorer.selected
    pixels = backward_paths(list(explorer.layers[: layer + 1]), (row, col), explorer.input_size)
    return None if not pixels else (
        (min(r for r, _ in pixels), max(r for r, _ in pixels)),
        (min(c for _, c in pixels), max(c for _, c in pixels)))


# --- every control, every legal value ------------------------------------------------------

@pytest.mark.parametrize("name", EXPLORERS)
def test_every_legal_value_of_every_control_draws_without_a_message(name):
    explorer = EXPLORERS[name]()
    assert_honest(explorer)
    for key, control in explorer.controls.items():
        if key.startswith(("kernel_size_", "stride_", "dilation_", "pool_")) and not key.endswith(("_1", "_2")):
            continue  # deeper block rows repeat the first two
        for value in legal_values(control):
            if value in legal_values(control):  # ranges may have adapted to the last value
                explorer.set(**{key: value})
                assert_honest(explorer)


@pytest.mark.parametrize("name", EXPLORERS)
@pytest.mark.parametrize("seed", range(3))
def test_random_walk_keeps_the_contract(name, seed):
    """Hundreds of random control changes, selections and clicks, as a restless student would."""
    rng = random.Random(seed)
    explorer = EXPLORERS[name]()
    names = list(explorer.controls)
    for step in range(150):
        kind = rng.random()
        if kind < 0.6:
            key = rng.choice(names)
            value = rng.choice(legal_values(explorer.controls[key]))
            before = explorer._drawn
            explorer.set(**{key: value})
            if explorer.message:  # a refusal: the controls show the picture on show, as before
                assert "shrink to nothing" in explorer.message
                assert explorer._drawn == before
                explorer._set_message("")
        elif kind < 0.85:
            layers = len(explorer.layers)
            layer = rng.choice([-1, rng.randrange(layers)] + list(explorer._shown_layers(explorer._state)))
            shown = layer % layers in explorer._shown_layers(explorer._state)
            h, w = explorer._state.rows[layer].output_size
            row, col = rng.randrange(h + 1), rng.randrange(w + 1)  # sometimes one beyond the edge
            before = explorer.selected
            explorer.select(row, col, layer=layer)
            if shown and row < h and col < w:
                assert explorer.selected == (layer % layers, row, col), explorer.message
            else:
                assert explorer.message and explorer.selected == before
                explorer._set_message("")
        else:
            ax = rng.choice([ax for ax in explorer.figure.axes if ax.get_visible()])
            (x0, x1), (y1, y0) = ax.get_xlim(), ax.get_ylim()
            point = ax.transData.transform((rng.uniform(x0, x1), rng.uniform(y0, y1)))
            explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas, *point, button=1))
        assert_honest(explorer)


# --- the contract and the brute force --------------------------------------------------------

REGION_CASES = {
    "conv": (lambda: ConvExplorer("disk", size=24, kernel_size=5, stride=2, padding=2), [(0, 0), (5, 7)]),
    "conv-dilated": (lambda: ConvExplorer("disk", size=24, dilation=3, padding=0), [(0, 0), (17, 2)]),
    "stack-pooled": (lambda: StackExplorer("disk", depth=3, pool=True, size=32), [(0, 0), (3, 2)]),
    "erf": (lambda: ERFExplorer("disk", depth=3, size=24), [(0, 0), (12, 23)]),
}


@pytest.mark.parametrize("case", list(REGION_CASES) + ["conv-dilated-padded", "erf-dilated-even"])
def test_outline_is_the_box_of_pixels_the_neuron_reads(case):
    cases = dict(REGION_CASES)
    cases["conv-dilated-padded"] = (lambda: ConvExplorer("disk", size=24, dilation=2, padding=1), [(0, 0)])
    cases["erf-dilated-even"] = (lambda: ERFExplorer("disk", depth=1, kernel_size=4, dilation=3, size=24),
                                 [(0, 0)])
    make, positions = cases[case]
    explorer = make()
    for row, col in positions:
        explorer.select(row, col)
        assert_honest(explorer)
        assert explorer.region == brute_force_region(explorer)
        box = explorer._boxes[0] if hasattr(explorer, "_boxes") else explorer._rf_box
        (top, bottom), (left, right) = explorer.region
        assert box.get_bbox().bounds == (left - 0.5, top - 0.5, right - left + 1, bottom - top + 1)


@pytest.mark.parametrize("name", EXPLORERS)
def test_layer_counts_in_layers_and_minus_one_is_always_accepted(name):
    explorer = EXPLORERS[name]()
    last = len(explorer.layers) - 1
    explorer.select(0, 0, layer=-1)
    assert_honest(explorer)
    assert explorer.selected == (last, 0, 0)
    explorer.select(1, 1, layer=last)
    assert explorer.selected == (last, 1, 1)
    for layer in range(len(explorer.layers)):
        explorer.select(0, 0, layer=layer)
        if layer in explorer._shown_layers(explorer._state):
            assert_honest(explorer)
            assert explorer.selected == (layer, 0, 0)
        else:
            assert f"not layer {layer}" in explorer.message and explorer.selected[0] != layer
    for bad in (len(explorer.layers), -len(explorer.layers) - 1, 1.0, True, "0"):
        explorer.select(0, 0, layer=bad)
        assert "layer must be" in explorer.message


def test_stack_selects_the_output_of_every_block():
    explorer = StackExplorer("disk", depth=3, pool=True, size=32)
    assert [type(explorer.layers[end]).__name__ for end in explorer._state.ends] == ["MaxPool2d"] * 3
    explorer.set(pool_2=False)
    ends = explorer._state.ends
    assert [type(explorer.layers[end]).__name__ for end in ends] == ["MaxPool2d", "ReLU", "MaxPool2d"]
    for end in ends:
        explorer.select(1, 2, layer=end)
        assert_honest(explorer)
        assert explorer.selected == (end, 1, 2)
        explorer.set(layer=end)  # the layer control takes the same numbers
        assert_honest(explorer)


# --- state never lies ------------------------------------------------------------------------

def test_conv_sliders_follow_the_selection_from_the_start_and_through_changes():
    explorer = ConvExplorer("disk", size=24, kernels=4)
    assert_honest(explorer)  # sliders start on the centre neuron, not at 0 / 0
    assert explorer.selected[1:] != (0, 0)
    explorer.select(10, 12, map=3)
    explorer.set(stride=4)
    assert_honest(explorer)
    # The neuron that looks at the same place: centre 11, 13 -> (11 - 1) / 4 = 2.5 and (13 - 1) / 4 = 3;
    # 2.5 lies halfway between neurons 2 and 3, and a tie goes to the lower index (geometry.nearest_index).
    assert explorer.selection == (0, 2, 3, 3)
    explorer.set(map=1)  # touching the map keeps the neuron
    assert explorer.selection == (0, 2, 3, 1)
    assert_honest(explorer)


def test_refused_change_puts_the_control_back_and_keeps_the_picture():
    explorer = StackExplorer("disk", depth=2, size=16)
    explorer.set(**{f"pool_{i}": True for i in range(1, 9)})
    assert_honest(explorer)
    layers = explorer.layers
    explorer.set(depth=8)
    assert "shrink to nothing" in explorer.message
    assert explorer.controls["depth"].value == 2 and explorer.layers == layers
    assert_contract(explorer)  # every control still shows the picture on show
    explorer.set(layer=explorer.controls["layer"].options[-1][1])
    explorer.set(row=0)
    assert_honest(explorer)
    explorer.set(depth=4)  # 16 -> 8 -> 4 -> 2 -> 1
    assert_honest(explorer)


@pytest.mark.parametrize("make, argument", [
    (lambda: StackExplorer("disk", depth=8, pool=True, size=16), "depth"),
    (lambda: ConvExplorer(kernel_size=20), "kernel_size"),
    (lambda: ConvExplorer(kernels=257), "kernels"),
    (lambda: ConvExplorer(kernels=0), "kernels"),
    (lambda: ConvExplorer(np.zeros((256, 256)), kernels=129), "kernels"),
    (lambda: ConvExplorer(controls=["stride", "colour"]), "controls"),
    (lambda: ConvExplorer(controls="kernels"), "controls"),
    (lambda: ConvExplorer(controls=["row"]), "controls"),
    (lambda: StackExplorer(controls=["kernel_size_1"]), "controls"),
    (lambda: ConvExplorer("disk", size=8, kernel_size=7, dilation=2, controls=["kernels"]), "kernel_size"),
    (lambda: ConvExplorer(kernel_size=2.5), "kernel_size"),
    (lambda: ConvExplorer(stride=True), "stride"),
    (lambda: ConvExplorer("disk", size=8, kernel_size=11), "kernel_size"),
    (lambda: ConvExplorer(np.zeros((32, 32, 2))), "image"),
    (lambda: ConvExplorer(np.zeros((0, 3))), "image"),
    (lambda: ConvExplorer("mona lisa"), "image"),
    (lambda: ConvExplorer(size=4), "size"),
    (lambda: ConvExplorer(blit="yes"), "blit"),
    (lambda: StackExplorer(pool="yes"), "pool"),
    (lambda: StackExplorer(depth=0), "depth"),
    (lambda: ERFExplorer(weights="gaussian"), "weights"),
    (lambda: ERFExplorer(relu=1), "relu"),
    (lambda: ERFExplorer(dilation=9), "dilation"),
])
def test_bad_starting_values_raise_and_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


@pytest.mark.parametrize("values", [dict(kernel_size=5.7), dict(stride=True), dict(kernel_size=12),
                                    dict(image="mona lisa"), dict(row=-1), dict(nothing=1)])
def test_set_refuses_values_no_control_offers(values):
    explorer = ConvExplorer("disk", size=24)
    drawn = explorer.layers
    with pytest.raises(ValueError, match=next(iter(values))):
        explorer.set(**values)
    assert explorer.layers == drawn
    assert_honest(explorer)


@pytest.mark.parametrize("name", EXPLORERS)
def test_bad_selection_becomes_a_message_and_the_picture_stays(name):
    explorer = EXPLORERS[name]()
    before = explorer.selected, explorer.region
    explorer.select(10_000, 0)
    assert "row" in explorer.message and (explorer.selected, explorer.region) == before
    assert_contract(explorer)
    explorer.select(0, 0)
    assert_honest(explorer)


@pytest.mark.parametrize("name", EXPLORERS)
def test_a_bug_in_a_callback_is_raised_not_hidden(name, monkeypatch):
    """What makes every test above able to fail: an error other than a refusal escapes."""
    explorer = EXPLORERS[name]()

    def broken():
        raise TypeError("injected")

    monkeypatch.setattr(explorer, "_compute", broken)
    name = next(key for key in explorer.controls if key not in explorer.selection_controls)
    other = next(v for v in legal_values(explorer.controls[name]) if v != explorer.controls[name].value)
    with pytest.raises(TypeError, match="injected"):
        explorer.set(**{name: other})
    assert "unexpected TypeError" in explorer.message


# --- bounded cost ------------------------------------------------------------------------------

def test_cache_is_bounded_in_bytes_least_recently_used_first():
    cache = Cache(max_bytes=3000)
    for key in range(5):
        cache.get(key, lambda: np.zeros(100))  # 800 bytes each
    assert cache.nbytes == 2400 and len(cache) == 3
    cache.get(2, lambda: pytest.fail("2 was kept"))
    cache.get(5, lambda: np.zeros(100))
    assert len(cache) == 3 and cache.get(2, lambda: None) is not None and cache.get(3, lambda: None) is None
    assert cache.get("big", lambda: np.zeros(1000)).size == 1000  # returned, not kept
    assert cache.nbytes <= 3000


def test_big_own_image_is_shrunk_and_the_notice_says_so():
    explorer = ConvExplorer(np.random.default_rng(0).random((1000, 800, 3)))
    assert max(explorer.input_size) <= 256 and explorer.input_size == (250, 200)
    assert "1000 × 800" in explorer.notice and explorer.message == ""
    for k in (3, 5, 7, 9, 11):
        for kernels in (8, 16):
            explorer.set(kernel_size=k, kernels=kernels)
    assert explorer._maps.nbytes <= explorer._maps.max_bytes
    explorer.close()


def test_stack_computes_the_maps_once_per_change(monkeypatch):
    import rfmaps.widgets.stack as stack

    calls = []
    original = stack.feature_maps
    monkeypatch.setattr(stack, "feature_maps", lambda *args: calls.append(1) or original(*args))
    explorer = StackExplorer("photo", depth=8, size=32)
    assert len(calls) == 1
    explorer.set(kernel_size_8=5)
    assert len(calls) == 2


# --- drawing, clicks, cleanup ------------------------------------------------------------------

def test_selection_equals_a_click_on_the_canvas():
    explorer = ConvExplorer("stripes", size=20, kernels=4)
    explorer.select(3, 5, map=2)
    by_call = explorer.selection, explorer.region
    tile = explorer._state.maps.shape[1:]
    top, left = drawing.tile_offset(2, tile, explorer._cols, explorer._gap)
    explorer.select(0, 0, map=0)
    x, y = explorer._ax_maps.transData.transform((left + 5, top + 3))
    explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas, x, y, button=1))
    assert (explorer.selection, explorer.region) == by_call
    assert_honest(explorer)


def test_blitted_selection_draws_only_overlays():
    explorer = ConvExplorer("photo", size=32, blit=True)
    explorer.figure.canvas.draw()
    assert explorer._background is not None
    explorer.select(2, 2)
    assert explorer.message == "" and explorer.region == ((2, 4), (2, 4))


def test_readout_names_the_neuron_and_the_block_it_sees():
    explorer = ConvExplorer("photo", kernel_size=5, kernels=100 // 10, size=50)
    explorer.select(7, 9, map=3)
    text = explorer._readout.value
    assert "row 7, col 9" in text and "feature map 3" in text and "5 × 5 × 3" in text


def test_no_figure_leak_over_hundreds_of_changes():
    explorer = ConvExplorer("disk", size=16)
    gc.collect()
    figures = sum(isinstance(o, Figure) for o in gc.get_objects())
    for i in range(200):  # alternate control changes and selections
        if i % 2:
            explorer.set(kernel_size=1 + i % 3)
        else:
            explorer.select(i % 5, 0)
    gc.collect()
    assert sum(isinstance(o, Figure) for o in gc.get_objects()) == figures
    explorer.close()


def test_inline_backend_replaces_the_picture_in_place():
    """Under the inline backend (Colab, VS Code) the figure is one image, replaced after a change."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%matplotlib inline\n"
        "from rfmaps.widgets import ConvExplorer\n"
        "e = ConvExplorer('disk', size=16)\n"
        "e.set(kernel_size=5)\n"
        "e.select(1, 2)\n"
        "outputs = e._output.outputs\n"
        "print(len(outputs), 'image/png' in outputs[0]['data'], repr(e.message), e.region)")])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    assert text.strip() == "1 True '' ((1, 5), (2, 6))"


# --- a fourth explorer: what the base class leaves to write ----------------------------------

class PoolExplorer(Explorer):
    """A max pool on an image: the smallest explorer the base class allows."""

    figsize = (6, 3)

    def __init__(self, image="checkerboard", kernel_size=2, size=24, blit=None):
        self._start = check_int(kernel_size, "kernel_size", 1, 4)
        super().__init__(image, size, blit=blit)

    def _make_controls(self):
        return {"image": image_control(self._own_name), "kernel_size": slider("pool", self._start, 1, 4),
                "row": slider("row", 0, 0, 0), "col": slider("col", 0, 0, 0)}

    def _compute(self):
        image = self._image()
        layers = (MaxPool2d(self.controls["kernel_size"].value),)
        rows = receptive_fields(layers, image.shape[:2])
        return SimpleNamespace(layers=layers, input_size=image.shape[:2], rows=rows, image=image,
                               pooled=feature_maps(layers, image)[0][0])

    def _build(self):
        self._ax_in, self._ax_out = self.figure.subplots(1, 2)
        self._in_art = self._ax_in.imshow(np.zeros((1, 1)), cmap="gray", vmin=0, vmax=1)
        self._out_art = self._ax_out.imshow(np.zeros((1, 1)), cmap="gray", vmin=0, vmax=1)
        self._box, self._neuron = drawing.outline(self._ax_in), drawing.outline(self._ax_out)

    def _selection_artists(self):
        return [self._box, self._neuron]

    def _draw(self, state):
        drawing.set_image(self._in_art, state.image)
        drawing.set_image(self._out_art, state.pooled)

    def _draw_selection(self):
        drawing.set_region(self._box, self.region)
        drawing.set_region(self._neuron, ((self.selection.row,) * 2, (self.selection.col,) * 2))

    def _click(self, event):
        if event.inaxes is self._ax_out:
            h, w = self._state.pooled.shape
            return nearest_index(event.ydata, h), nearest_index(event.xdata, w), -1
        return None


def test_a_fourth_explorer_gets_the_contract_from_the_base_class():
    """About 45 lines above: controls, state, artists; selection, checks, messages and blitting come free."""
    explorer = PoolExplorer()

    def honest():
        layer, row, col = explorer.selected
        c = explorer.controls
        return (explorer.message == "" and (c["row"].value, c["col"].value) == (row, col)
                and explorer.region == input_region(explorer.layers, (row, col), explorer.input_size, layer=layer))

    # The default: the neuron whose field is centred nearest the image centre (11.5, 11.5): neurons 5 and 6
    # (centres 10.5 and 12.5) tie, and a tie goes to the lower index.
    assert honest() and explorer.selected == (0, 5, 5)
    explorer.select(3, 4)
    assert honest() and explorer.region == ((6, 7), (8, 9))
    # The neuron that looks at the same place: centre (6.5, 8.5); pools of 3 are centred at 1, 4, 7, 10,
    # so column 8.5 is a tie between neurons 2 and 3, and a tie goes to the lower index.
    explorer.set(kernel_size=3)
    assert honest() and explorer.selected == (0, 2, 2)
    explorer.set(row=7)
    assert honest() and explorer.region == ((21, 23), (6, 8))
    explorer.select(0, 0, layer=1)
    assert "layer must be" in explorer.message
    with pytest.raises(ValueError, match="kernel_size"):
        PoolExplorer(kernel_size=9)


class UndeclaredPoolExplorer(PoolExplorer):
    """The same explorer, but it forgets to declare the neuron's outline as a selection artist."""

    def _selection_artists(self):
        return [self._box]


def test_the_base_blits_only_when_nothing_but_the_declared_artists_changed():
    """No view tells the base when to draw the whole figure: a selection that changes an undeclared
    artist is drawn whole, one that changes only declared artists is blitted; both show the full picture."""
    reference = PoolExplorer(blit=False)
    reference.select(3, 4)
    reference.figure.canvas.draw()
    want = np.asarray(reference.figure.canvas.buffer_rgba()).copy()
    for cls, full_draws in ((PoolExplorer, []), (UndeclaredPoolExplorer, [1])):
        explorer = cls(blit=True)
        draws = []
        explorer.figure.canvas.mpl_connect("draw_event", lambda event: draws.append(1))
        explorer.select(3, 4)
        assert draws == full_draws, cls.__name__
        got = np.asarray(explorer.figure.canvas.buffer_rgba())
        assert np.count_nonzero((got != want).any(axis=2)) == 0, cls.__name__
        explorer.close()
    reference.close()


def test_explorer_products_run_on_one_blas_thread(monkeypatch):
    """On a shared 2-core hub, BLAS threads of small products wait on each other: the explorers use one."""
    from threadpoolctl import threadpool_info

    import rfmaps.widgets.conv as conv

    seen = []
    original = conv.feature_maps

    def recording(*args):
        seen.append({lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"})
        return original(*args)

    monkeypatch.setattr(conv, "feature_maps", recording)
    explorer = ConvExplorer("disk", size=24)
    explorer.set(kernel_size=5)
    assert seen == [{1}, {1}]


def test_titles_are_cached_bitmaps_on_a_common_baseline():
    from rfmaps.drawing.figures import _text_pixels, title, title_text

    fig = drawing.make_figure((3, 2), interactive=False)
    ax = fig.add_subplot()
    ax.set_position([0.1, 0.1, 0.8, 0.6])
    fig.canvas.draw()
    empty = np.asarray(fig.canvas.buffer_rgba())[:40].copy()
    title(ax, "input 46 × 39")
    fig.canvas.draw()
    drawn = np.asarray(fig.canvas.buffer_rgba())[:40]
    assert title_text(ax) == "input 46 × 39" and (drawn != empty).any()  # ink above the axes
    assert _text_pixels("ace", 10, 100).shape[0] == _text_pixels("Åg|", 10, 100).shape[0]
    assert _text_pixels("ace", 10, 200).shape[0] > _text_pixels("ace", 10, 100).shape[0]
    title(ax, "")
    fig.canvas.draw()
    assert (np.asarray(fig.canvas.buffer_rgba())[:40] == empty).all()


# --- issue 14: the classic example, controls taught so far, any map of a layer -----------------

def test_the_classic_example_shows_all_100_maps_of_46_by_46():
    from rfmaps.engine.images import sample

    explorer = ConvExplorer(sample("photo", size=50, square=True), kernel_size=5, kernels=100)
    assert_honest(explorer)
    assert explorer._state.maps.shape == (100, 46, 46) and explorer.controls["map"].max == 99
    assert drawing.title_text(explorer._ax_maps) == "output: 100 maps of 46 × 46"
    # Every map is drawn: the mosaic holds each map, scaled to its own largest |value|.
    tiles = explorer._map_art.get_array()
    for index in (0, 57, 99):
        top, left = drawing.tile_offset(index, (46, 46), explorer._cols, explorer._gap)
        one = explorer._state.maps[index]
        assert np.allclose(tiles[top: top + 46, left: left + 46], one / np.abs(one).max())
    # A click on the last tile selects a neuron of map 99.
    top, left = drawing.tile_offset(99, (46, 46), explorer._cols, explorer._gap)
    x, y = explorer._ax_maps.transData.transform((left + 20, top + 30))
    explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas, x, y, button=1))
    assert explorer.selection == (0, 30, 20, 99)
    assert_honest(explorer)


def test_square_photo_is_one_choice_of_the_image_control_and_is_50_by_50_by_3():
    explorer = ConvExplorer("disk", kernel_size=5)
    assert "photo (square)" in explorer.controls["image"].options
    explorer.set(image="photo (square)")
    assert explorer._state.image.shape == (50, 50, 3) and explorer._state.maps.shape[1:] == (46, 46)
    assert_honest(explorer)


def test_caption_formula_counts_padding_on_both_sides():
    explorer = ConvExplorer("disk", size=24, padding=2, kernel_size=3)
    caption = explorer._caption.value
    assert "n + 2·padding − dilation·(k − 1)" in caption
    assert "⌊(24 + 2·2 − 1·(3 − 1) − 1) / 1⌋ + 1 = 26" in caption
    assert explorer._state.maps.shape[1:] == (26, 26)  # what the engine computed


def test_controls_shows_only_the_chosen_and_fixes_the_others():
    explorer = ConvExplorer("disk", size=24, stride=2, controls=["kernels"])
    assert set(explorer.controls) == {"kernels", "map", "row", "col"}
    assert explorer.layers[0].stride == (2, 2) and explorer.layers[0].kernel_size == (3, 3)
    with pytest.raises(ValueError, match="stride is fixed at 2.*controls"):
        explorer.set(stride=1)
    explorer.set(kernels=7)
    assert explorer.layers[0].stride == (2, 2) and explorer.layers[0].out_channels == 7
    assert_honest(explorer)
    shown = explorer.widget.children[0].children
    assert all(any(c is control for c in shown) for control in explorer.controls.values())
    stack = StackExplorer("disk", size=32, depth=2, stride=2, controls=["kernel_size"])
    assert {"kernel_size_1", "kernel_size_8"} <= set(stack.controls) and "stride_1" not in stack.controls
    assert all(layer.stride == (2, 2) for layer in stack.layers if type(layer).__name__ == "Conv2d")


def test_stack_shows_any_map_of_each_layer():
    explorer = StackExplorer("photo", depth=3, size=32)
    explorer.set(map=5)
    assert explorer.selection.map == 5
    assert_honest(explorer)
    for b, art in enumerate(explorer._map_arts[:3]):
        one = explorer._state.maps[b][5]
        assert np.allclose(art.get_array(), one / np.abs(one).max())
    explorer.set(depth=2)  # the map stays through a change of the network
    assert explorer.selection.map == 5 and "map 5" in explorer._readout.value
    explorer.select(1, 1, layer=-1)
    assert explorer.selection.map == 5
    assert_honest(explorer)


def test_input_panels_carry_pixel_ticks_and_maps_a_colour_bar():
    """Readouts quote input rows and columns: the input panel has them marked, at the pixels' centres."""
    for explorer, ax in ((ConvExplorer("photo", size=50), "_ax_in"), (ERFExplorer("disk", size=24), "_ax_in"),
                         (StackExplorer("disk", size=32, depth=2), None)):
        ax = getattr(explorer, ax) if ax else explorer._axes[0]
        h, w = explorer.input_size
        rows, cols = drawing.pixel_tick_positions(ax)
        assert rows[0] == cols[0] == 0 and rows[-1] < h and cols[-1] < w and len(rows) > 2
        assert len(set(np.diff(rows))) == 1 and len(rows) <= 6  # one round step, a few ticks
        # a colour bar: an inset or figure axes holding a gradient image
        bars = [a for axes in explorer.figure.axes for a in axes.artists if type(a).__name__ == "_ColourBar"]
        assert len(bars) == 1
        # ...drawn: both ends of its colour map appear in the picture
        explorer.figure.canvas.draw()
        pixels = np.asarray(explorer.figure.canvas.buffer_rgba())[:, :, :3].astype(int)
        cmap = matplotlib.colormaps[bars[0].cmap]
        for end in (0.0, 1.0):
            colour = (np.array(cmap(end)[:3]) * 255).round()
            assert (np.abs(pixels - colour).sum(axis=2) < 6).any()


def test_stack_select_takes_a_map_and_refuses_one_beyond_the_layer():
    explorer = StackExplorer("disk", depth=2, size=32)
    explorer.select(3, 4, layer=-1, map=6)
    assert explorer.selection.map == 6 and explorer.controls["map"].value == 6
    assert_honest(explorer)
    explorer.select(3, 4, layer=-1, map=8)
    assert "map must be an int from 0 to 7" in explorer.message and explorer.selection.map == 6


def test_erf_outline_stays_on_top_of_the_heat_map_after_a_blitted_selection():
    """Blitting draws the overlays in list order: the heat map must come before its outline."""
    explorer = ERFExplorer("disk", depth=2, size=24, blit=True)
    explorer.figure.canvas.draw()
    explorer.select(5, 5)
    pixels = np.asarray(explorer.figure.canvas.buffer_rgba())[:, :, :3].astype(int)
    box = explorer._ax_heat.get_window_extent()
    height = pixels.shape[0]
    heat = pixels[int(height - box.y1): int(height - box.y0), int(box.x0): int(box.x1)]
    vermilion = np.array([0xD5, 0x5E, 0x00])
    assert (np.abs(heat - vermilion).sum(axis=2) < 30).any()


def test_stack_map_change_redraws_the_figure_and_a_neuron_only_its_overlays():
    explorer = StackExplorer("photo", depth=2, size=32, blit=True)
    explorer.figure.canvas.draw()
    draws = []
    explorer.figure.canvas.mpl_connect("draw_event", lambda event: draws.append(1))
    explorer.select(2, 2, layer=-1)  # the same map: a blit of the outlines
    assert draws == []
    explorer.set(map=4)  # another map in every panel: a full draw
    assert draws == [1] and explorer.selection.map == 4
    one = explorer._state.maps[0][4]
    assert np.allclose(explorer._map_arts[0].get_array(), one / np.abs(one).max())
