"""Explorers driven without a mouse: every control across its range, never an exception."""

import gc

import ipywidgets as widgets
import pytest
from matplotlib.backend_bases import MouseEvent
from matplotlib.figure import Figure

from rfmaps.widgets import ConvExplorer, ERFExplorer, StackExplorer
from reference import backward_paths

EXPLORERS = [
    lambda: ConvExplorer("disk", size=24),
    lambda: StackExplorer("checkerboard", depth=3, size=32),
    lambda: ERFExplorer("letter", depth=2, size=24),
]


def values(control):
    if isinstance(control, widgets.Checkbox):
        return [not control.value, control.value]
    if isinstance(control, widgets.Dropdown):
        return list(control.options)[:3] + [control.value]
    return list(range(control.min, control.max + 1)) + [control.value]


def assert_region_is_exact(explorer):
    """The region the explorer outlines is the bounding box of the pixels a brute-force walk reaches."""
    layer, row, col = explorer.selected
    pixels = backward_paths(list(explorer.layers[: layer + 1]), (row, col), explorer.input_size)
    expected = None if not pixels else (
        (min(r for r, _ in pixels), max(r for r, _ in pixels)),
        (min(c for _, c in pixels), max(c for _, c in pixels)))
    assert explorer.region == expected


@pytest.mark.parametrize("make", EXPLORERS, ids=["conv", "stack", "erf"])
def test_every_control_across_its_range(make):
    explorer = make()
    assert explorer.message == ""
    for name, control in explorer.controls.items():
        if name.startswith(("kernel_size_", "stride_", "dilation_", "pool_")) and not name.endswith(("_1", "_2")):
            continue  # deeper block rows repeat the first two
        for value in values(control):
            if isinstance(control, widgets.IntSlider):
                value = min(max(value, control.min), control.max)  # ranges may have adapted
            control.value = value
            assert_region_is_exact(explorer)


@pytest.mark.parametrize("make", EXPLORERS, ids=["conv", "stack", "erf"])
def test_bad_selection_becomes_a_message_and_the_picture_stays(make):
    explorer = make()
    before = explorer.region
    explorer.select(10_000, 0)
    assert "row" in explorer.message and explorer.region == before
    explorer.select(0, 0)
    assert explorer.message == ""
    assert_region_is_exact(explorer)


def test_stack_that_shrinks_to_nothing_explains_itself_and_keeps_the_last_picture():
    explorer = StackExplorer("disk", depth=2, size=16)
    layers = explorer.layers
    explorer.set(**{f"pool_{i}": True for i in range(1, 9)})
    explorer.set(depth=8)
    assert "shrink to nothing" in explorer.message
    assert explorer.layers is not None and len(explorer.layers) <= 8 * 3
    explorer.set(depth=2)
    assert explorer.message == "" and len(explorer.layers) == len(layers) + 2


def test_conv_ranges_adapt_so_the_kernel_always_fits():
    explorer = ConvExplorer("impulse", size=9)
    explorer.set(dilation=4)
    assert explorer.controls["kernel_size"].max == 3  # 4 * (3 - 1) + 1 = 9 fits a 9-pixel image
    explorer.set(kernel_size=3, padding=5)
    assert explorer.message == "" and explorer.layers[0].output_size((9, 9))[0] >= 1


def test_selection_equals_a_click_on_the_canvas():
    explorer = ConvExplorer("stripes", size=20, kernels=4)
    explorer.select(3, 5, map=2)
    by_call = explorer.region
    tile = explorer._state.maps.shape[1:]
    top, left = __import__("rfmaps.drawing", fromlist=["tile_offset"]).tile_offset(
        2, tile, explorer._cols, explorer._gap)
    explorer.select(0, 0, map=0)
    ax = explorer._ax_maps
    x, y = ax.transData.transform((left + 5, top + 3))
    event = MouseEvent("button_press_event", explorer.figure.canvas, x, y, button=1)
    explorer._on_click(event)
    assert explorer.region == by_call and explorer._selected == (2, 3, 5)


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
