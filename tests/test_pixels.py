"""The picture an explorer shows after a change is the picture of a fresh explorer built at that state.

Each walk drives one explorer through every control it has (each slider and choice, a new image, the
selection controls, ``select``), and after every step renders both the driven explorer and a fresh one
built at the state it reached, with Agg, and compares the RGBA buffers exactly. The driven explorer runs
with and without blitting: with ``blit=True`` a selection repaints only the overlays on a saved background
(``Explorer._show``), so these tests also check that overlays-only repaint against a full draw.

Why exact: both pictures come from the same Agg code on the same data, so any difference is a picture
that is out of date or drawn in another order (both were found this way: a blitted kernel whose back
slices covered its front face, a blitted heat map that hid its axes' frame). The widget tree is checked
too: ``close()`` leaves no widget registered, and a closed or collected explorer leaves ``_LIVE``.
"""

import gc

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from ipywidgets.widgets import widget as ipywidget

from rfmaps import trained

from rfmaps.drawing import figures as drawing
from rfmaps.widgets import ConvExplorer, ERFExplorer, ProjectiveExplorer, StackExplorer, VolumeExplorer
from rfmaps.widgets import _base, _cells, _intake
from rfmaps.widgets.projective import STACKS

OWN = np.linspace(0, 1, 20 * 26).reshape(20, 26)  # an own image: gray, not square


def picture(explorer) -> np.ndarray:
    """The pixels on the explorer's canvas now (after blitting, the blitted picture)."""
    return np.asarray(explorer.figure.canvas.buffer_rgba()).copy()


def fresh(explorer):
    """A new explorer (no blitting: every picture a full draw) built at ``explorer``'s state."""
    value, cls = explorer._value, type(explorer)
    if cls is ProjectiveExplorer:
        return cls(value("stack"), pixel=explorer.pixel, blit=False)
    image = OWN if value("image") == "your image" else value("image")
    common = dict(size=explorer._size, blit=False)
    layer, row, col, index = explorer.selection
    if getattr(explorer, "_given", None) is not None:
        built = cls(image, layers=explorer._given, **common)
    elif cls is StackExplorer:
        depth = value("depth")
        per_block = {}
        for name in ("kernel_size", "stride", "dilation", "pool"):
            values = {value(f"{name}_{i}") for i in range(1, depth + 1)}
            assert len(values) == 1, f"{name} differs between blocks: no constructor builds this state"
            per_block[name] = values.pop()
        built = cls(image, depth=depth, **per_block, **common)
    elif cls is ERFExplorer:
        built = cls(image, **{n: value(n) for n in ("depth", "kernel_size", "dilation", "weights", "relu")},
                    **common)
    else:
        names = ("kernel_size", "stride", "padding", "kernels") + (("dilation",) if cls is ConvExplorer else ())
        built = cls(image, **{n: value(n) for n in names}, **common)
    if isinstance(built, (StackExplorer, ConvExplorer, VolumeExplorer)):
        built.select(row, col, layer=layer, map=index)
    else:
        built.select(row, col, layer=layer)
    assert built.message == "" and built.selection == explorer.selection
    return built


def assert_same_picture(explorer, step):
    assert explorer.message == "", (step, explorer.message)
    reference = fresh(explorer)
    try:
        got, want = picture(explorer), picture(reference)
        assert got.shape == want.shape, step
        differ = np.count_nonzero((got != want).any(axis=2))
        assert differ == 0, f"after {step}: {differ} pixels differ from a fresh explorer"
        # The texts beside the picture describe it: they must be the fresh ones too.
        assert explorer._readout.value == reference._readout.value, step
        assert explorer._caption.value == reference._caption.value, step
    finally:
        reference.close()


def control(name, value):
    def step(explorer):
        explorer.controls[name].value = value
    step.__name__ = f"{name}={value!r}"
    return step


def setting(**values):
    def step(explorer):
        explorer.set(**values)
    step.__name__ = f"set({values})"
    return step


def selecting(row, col, **where):
    def step(explorer):
        explorer.select(row, col, **where)
    step.__name__ = f"select({row}, {col}, {where})"
    step.overlays_only = True  # no _redraws_all for these: blitted when blitting
    return step


def clicking(where, expected):
    """A click at ``where(explorer) -> (axes, x, y)`` (data coordinates); it must select ``expected``."""
    def step(explorer):
        ax, x, y = where(explorer)
        point = ax.transData.transform((x, y))
        explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas, *point, button=1))
        got = explorer.selected if isinstance(explorer, ProjectiveExplorer) else tuple(explorer.selection)
        assert got[: len(expected)] == expected
    step.__name__ = f"click {expected}"
    step.overlays_only = True
    return step


def _tile(explorer, index, row, col):
    """Data point of neuron (row, col) in tile ``index`` of ConvExplorer's map mosaic."""
    n, h, w = explorer._state.maps.shape
    top, left = drawing.tile_offset(index, (h, w), explorer._cols, explorer._gap)
    return explorer._ax_maps, left + col, top + row


def blocks(depth, **values):
    """The same value for a setting of every block, one control after another."""
    return setting(**{f"{name}_{i}": v for name, v in values.items() for i in range(1, depth + 1)})


WALKS = {
    "conv": (lambda blit: ConvExplorer("disk", size=24, blit=blit), [
        selecting(3, 4, map=2), clicking(lambda e: _tile(e, 1, 5, 6), (0, 5, 6, 1)),
        control("row", 1), control("col", 0), control("map", 3),
        control("kernel_size", 5), control("stride", 2), control("padding", 2), control("dilation", 2),
        control("kernels", 9),  # more than one row of maps: the taller figure
        control("kernels", 2), control("image", "photo (square)"), control("image", "checkerboard")]),
    "conv-own-image": (lambda blit: ConvExplorer(OWN, size=24, blit=blit), [
        control("image", "letter"), control("image", "your image"), selecting(2, 2, map=1)]),
    "stack": (lambda blit: StackExplorer("checkerboard", depth=2, size=24, blit=blit), [
        selecting(2, 3), clicking(lambda e: (e._axes[1], 4, 5), (1, 5, 4)), control("row", 1), control("col", 4),
        control("map", 2), control("layer", 1),
        control("layer", 3),
        control("depth", 3), blocks(3, kernel_size=5), blocks(3, stride=2), blocks(3, stride=1),
        blocks(3, dilation=2), blocks(3, pool=True), control("depth", 2), control("image", "disk")]),
    "stack-given": (lambda blit: StackExplorer("disk", size=24, layers=trained.small_cnn(), blit=blit), [
        selecting(3, 2, layer=5), control("map", 1), control("layer", 2), control("row", 0),
        control("image", "letter")]),
    "erf": (lambda blit: ERFExplorer("letter", depth=2, size=24, blit=blit), [
        selecting(5, 7), clicking(lambda e: (e._ax_in, 9, 3), (3, 3, 9)),
        control("row", 0), control("col", 23), control("depth", 3), control("kernel_size", 5),
        control("dilation", 2), *[control("weights", w) for w in ("random", "uniform")],
        control("relu", False), control("image", "photo")]),
    "erf-given": (lambda blit: ERFExplorer("disk", size=24, layers=trained.small_cnn(), blit=blit), [
        selecting(1, 2), control("col", 0), control("image", "stripes")]),
    "projective": (lambda blit: ProjectiveExplorer(blit=blit), [
        selecting(2, 3), clicking(lambda e: (e._axes[0], 4, 1), (1, 4)), control("row", 0), control("col", 5),
        *[control("stack", name) for name in STACKS[1:]], control("stack", STACKS[0]), selecting(1, 1)]),
    "volume": (lambda blit: VolumeExplorer("disk", size=20, kernels=6, blit=blit), [
        selecting(1, 2, map=4), clicking(lambda e: (e._axes[2], 5, 2), (0, 2, 5, 4)),
        control("row", 3), control("col", 0), control("map", 0),
        control("kernel_size", 3), control("kernels", 2), control("stride", 2), control("padding", 1),
        control("image", "photo"), control("kernel_size", 5), control("padding", 0), control("image", "disk")]),
}


@pytest.mark.parametrize("blit", [True, False], ids=["blit", "full"])
@pytest.mark.parametrize("name", WALKS)
def test_every_change_draws_the_picture_a_fresh_explorer_draws(name, blit):
    make, steps = WALKS[name]
    explorer = make(blit)
    full_draws = []
    explorer.figure.canvas.mpl_connect("draw_event", lambda event: full_draws.append(event))
    try:
        assert_same_picture(explorer, "start")
        for step in steps:
            full_draws.clear()
            window_before = getattr(explorer, "_window", None)
            step(explorer)
            # ERFExplorer zooms its middle and right panels to the neuron's field: a neuron whose
            # window differs redraws all (new limits and ticks), one in the same window only its overlays.
            window = getattr(explorer, "_window", None)
            if blit and getattr(step, "overlays_only", False) and name != "projective":
                if window is not None and window != window_before:
                    assert full_draws, f"{step.__name__} moved the zoom without drawing the whole figure"
                else:  # the overlays-only path really ran (ProjectiveExplorer redraws all for a new pixel)
                    assert not full_draws, f"{step.__name__} drew the whole figure"
            assert_same_picture(explorer, step.__name__)
    finally:
        explorer.close()


# --- close() and the registry of explorers on show ------------------------------------------------

MAKERS = {name: make for name, (make, _) in WALKS.items()}


@pytest.mark.parametrize("name", MAKERS)
def test_close_closes_every_widget_the_explorer_made(name):
    before = set(ipywidget._instances)
    explorer = MAKERS[name](None)
    made = set(ipywidget._instances) - before
    assert len(made) > 10  # controls, their layouts and styles, boxes, texts
    explorer.close()
    left = [type(ipywidget._instances[k]).__name__ for k in set(ipywidget._instances) - before]
    assert left == []


def test_taught_controls_leave_no_widget_open_either():
    before = set(ipywidget._instances)
    ConvExplorer("disk", size=24, controls=["kernel_size"]).close()  # the fixed ones are closed at once
    StackExplorer("disk", size=24, depth=2, controls=["depth"]).close()
    assert set(ipywidget._instances) - before == set()


def test_closed_and_collected_explorers_leave_the_registry(monkeypatch):
    monkeypatch.setattr(_cells, "current_cell_id", lambda: "cell-a")
    first = ConvExplorer("disk", size=24)
    assert _cells.LIVE[(ConvExplorer, "cell-a")]() is first
    second = ConvExplorer("disk", size=24)  # the cell runs again: the first one is closed
    assert _cells.LIVE[(ConvExplorer, "cell-a")]() is second
    second.close()
    assert (ConvExplorer, "cell-a") not in _cells.LIVE
    monkeypatch.setattr(_cells, "current_cell_id", lambda: "cell-b")
    third = ERFExplorer("disk", size=24, depth=1)
    assert (ERFExplorer, "cell-b") in _cells.LIVE
    # An explorer whose widgets are gone (the kernel held it through them) is collected: it leaves too.
    _base.close_widgets(third.widget, *third.controls.values())
    del third
    gc.collect()
    assert (ERFExplorer, "cell-b") not in _cells.LIVE
    first.close()


# --- the shrunk own image: rfmaps.engine.images.downsample's own numbers, a band at a time ----------------

@pytest.mark.parametrize("seed", range(40))
def test_shrink_gives_downsample_of_the_float_image(seed):
    """``shrink`` calls ``downsample`` on bands a whole number of blocks wide, cut across the longer side
    (so each band gets the whole image's factor): equal to downsample of the whole float image, bit for bit,
    also where a band is narrower than the others (the last one) or the image is square."""
    from rfmaps.engine.images import as_float_image, downsample

    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(257, 700, 2))
    if seed % 5 == 0:
        width = height
    shape = (height, width) if seed % 3 else (height, width, 3)
    image = rng.integers(0, 256, shape).astype(np.uint8) if seed % 2 else rng.random(shape)
    max_size = int(rng.integers(8, 257))
    if seed % 4 == 0:  # bands of a few blocks: many bands, the last one narrower
        monkeypatch = pytest.MonkeyPatch()
        monkeypatch.setattr(_intake, "BAND_VALUES", 3 * max(height, width) * (3 if len(shape) == 3 else 1) * 4)
    else:
        monkeypatch = None
    try:
        got = _base.shrink(image, max_size)
    finally:
        if monkeypatch is not None:
            monkeypatch.undo()
    np.testing.assert_array_equal(got, downsample(as_float_image(image), max_size))
