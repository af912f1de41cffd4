"""A new explorer on the explorer base: a 1-D signal through a stack of 1-D convolutions (issue #25).

``SignalExplorer`` (about 100 lines) is what a new explorer has to write: controls, state, artists,
which artists depend on the selection, and the readout. The selection (1-D positions, checked, carried
over a change, in its controls), the image intake, messages, blitting and ``close()`` come from
``rfmaps.widgets._base``; no row slider pretends a 1-D map has rows. Its readout is checked against
torch autograd, its pictures against a fresh explorer's, as tests/test_pixels.py does for the others.
"""

from types import SimpleNamespace

import numpy as np
import pytest
from ipywidgets.widgets import widget as ipywidget
from matplotlib.backend_bases import MouseEvent

from rfmaps import Conv2d, feature_maps, input_region, receptive_fields
from rfmaps._core.geometry import nearest_index
from rfmaps.drawing import figures as drawing
from rfmaps.widgets._base import Explorer, PositionSelection, check_int, set_range, slider

MAX_DEPTH = 4
SIGNAL = np.abs(np.sin(np.linspace(0, 7, 40)))  # 40 samples in [0, 1]


def weights(k: int) -> np.ndarray:
    """Positive taps 1, 2, ..., k (summing to 1): no path's product is 0, so every path shows in a gradient."""
    return (np.arange(1, k + 1) / (k * (k + 1) / 2)).reshape(1, 1, 1, k)


class SignalExplorer(Explorer):
    """``depth`` convolutions of ``kernel_size`` taps (zero padding ``kernel_size // 2``) on a 1-D signal."""

    figsize = (7.0, 3.6)
    selection_model = PositionSelection(("layer", "position"))

    def __init__(self, signal=SIGNAL, depth: int = 2, kernel_size: int = 3, *, blit=None):
        self._start = {"depth": check_int(depth, "depth", 1, MAX_DEPTH),
                       "kernel_size": check_int(kernel_size, "kernel_size", 1, 7)}
        super().__init__(np.asarray(signal, dtype=float)[None, :], blit=blit)  # the (1, W) image intake

    def select(self, position: int, layer: int = -1) -> None:
        self._guarded(self._apply_selection, 0, position, layer)

    def _make_controls(self):
        return {"depth": slider("depth", self._start["depth"], 1, MAX_DEPTH),
                "kernel_size": slider("kernel size", self._start["kernel_size"], 1, 7),
                "layer": slider("layer", 0, 0, 0), "position": slider("position", 0, 0, 0)}

    def _shown_layers(self, state):
        return tuple(range(len(state.layers)))

    def _set_layer_options(self, state):
        set_range(self.controls["layer"], 0, len(state.layers) - 1)

    def _compute(self):
        k = self._value("kernel_size")
        layers = tuple(Conv2d(1, 1, (1, k), padding=(0, k // 2), weight=weights(k))
                       for _ in range(self._value("depth")))
        signal = self._own_image
        maps = feature_maps(layers, signal)
        return SimpleNamespace(layers=layers, input_size=signal.shape, rows=receptive_fields(layers, signal.shape),
                               strips=[signal] + [m[0] for m in maps])

    def _build(self):
        self._axes = [self.figure.add_subplot(MAX_DEPTH + 1, 1, i + 1) for i in range(MAX_DEPTH + 1)]
        self._arts = [ax.imshow(np.zeros((1, 1)), cmap="gray", vmin=0, vmax=1) for ax in self._axes]
        for ax in self._axes:
            ax.set_yticks([])
        self._fields = [drawing.outline(ax) for ax in self._axes]  # on the input and each layer below
        self._neurons = [drawing.outline(ax, meaning="neuron") for ax in self._axes]

    def _selection_artists(self):
        return self._fields + self._neurons

    def _draw(self, state):
        for i, ax in enumerate(self._axes):
            ax.set_visible(i < len(state.strips))
            if i < len(state.strips):
                strip = state.strips[i]
                drawing.set_image(self._arts[i], strip / max(strip.max(), 1e-12))
                drawing.title(ax, "signal" if i == 0 else f"layer {i}")

    def _draw_selection(self):
        state, (layer, _, position, _) = self._state, self._selection
        own = self.selected_field
        drawing.set_region(self._fields[0], own.seen)
        for b in range(1, MAX_DEPTH + 1):  # the same neuron's field on the output of each layer below it
            below = state.layers[b: layer + 1]
            drawing.set_region(self._fields[b], input_region(below, (0, position), state.rows[b - 1].output_size)
                               if b <= layer else None)
            drawing.set_region(self._neurons[b], ((0, 0), (position,) * 2) if b == layer + 1 else None)
        seen = own.seen
        self._readout.value = (f"Position {position} of layer {layer + 1} sees input samples {seen[1][0]} to "
                               f"{seen[1][1]}" if seen else f"Position {position} sees only zero padding")

    def _click(self, event):
        if event.inaxes not in self._axes[1:]:
            return None
        layer = self._axes.index(event.inaxes) - 1
        return 0, nearest_index(event.xdata, self._state.rows[layer].output_size[1]), layer


# --- the readout is torch autograd's -----------------------------------------------------------------

def torch_field(explorer):
    """(first, last) input sample with a nonzero gradient of the selected neuron, by torch autograd."""
    torch = pytest.importorskip("torch")
    layer, _, position = explorer.selected
    x = torch.tensor(SIGNAL[None, None], requires_grad=True)
    y = x
    for conv in explorer.layers[: layer + 1]:
        k = conv.kernel_size[1]
        y = torch.nn.functional.conv1d(y, torch.tensor(weights(k)[0]), padding=k // 2)
    y[0, 0, position].backward()
    nonzero = np.flatnonzero(x.grad[0, 0].numpy())
    return (int(nonzero[0]), int(nonzero[-1])) if len(nonzero) else None


@pytest.mark.parametrize("depth, kernel_size", [(1, 1), (1, 3), (2, 3), (3, 5), (4, 7), (2, 4)])
def test_the_readout_is_the_field_torch_autograd_finds(depth, kernel_size):
    explorer = SignalExplorer(depth=depth, kernel_size=kernel_size)
    try:
        # The default is the neuron whose field is centred nearest the signal's centre (19.5: a tie goes low).
        assert explorer.selected == (depth - 1, 0, 19 if kernel_size % 2 else 19 + depth // 2)
        width = explorer._state.rows[-1].output_size[1]
        for layer in range(depth):
            for position in sorted({0, 1, width // 2, width - 2, width - 1} & set(range(width - depth + 1 + layer))):
                explorer.select(position, layer=layer)
                assert explorer.message == ""
                first, last = torch_field(explorer)
                assert f"sees input samples {first} to {last}" in explorer._readout.value, explorer._readout.value
                assert (explorer.controls["layer"].value, explorer.controls["position"].value) == (layer, position)
    finally:
        explorer.close()


def test_a_position_outside_the_map_is_refused_with_its_range():
    explorer = SignalExplorer()
    try:
        explorer.select(40)
        assert explorer.message == "position must be an int from 0 to 39 (layer 1 gives 1 × 40 maps), got 40"
        assert explorer.selected == (1, 0, 19)
    finally:
        explorer.close()


# --- pictures: after each change, the picture of a fresh explorer built at that state ----------------

def picture(explorer):
    return np.asarray(explorer.figure.canvas.buffer_rgba()).copy()


def click(layer, position):
    def step(explorer):
        ax = explorer._axes[layer + 1]
        explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas,
                                      *ax.transData.transform((position + 0.3, 0)), button=1))
    step.overlays_only = True
    return step


def select(position, layer=-1):
    def step(explorer):
        explorer.select(position, layer=layer)
    step.overlays_only = True
    return step


def control(name, value):
    return lambda explorer: explorer.set(**{name: value})


WALK = [select(3), click(0, 30), control("position", 12), control("layer", 1), select(0, layer=0),
        control("depth", 4), control("kernel_size", 5), select(38, layer=3), control("kernel_size", 2),
        control("depth", 1), control("layer", 0)]


@pytest.mark.parametrize("blit", [True, False], ids=["blit", "full"])
def test_every_change_draws_the_picture_a_fresh_explorer_draws(blit):
    explorer = SignalExplorer(blit=blit)
    draws = []
    explorer.figure.canvas.mpl_connect("draw_event", draws.append)
    try:
        for step in WALK:
            draws.clear()
            step(explorer)
            assert explorer.message == ""
            # A new position in the same layers changes only the declared artists: blitted, not drawn whole.
            assert not (blit and getattr(step, "overlays_only", False) and draws)
            layer, _, position = explorer.selected
            fresh = SignalExplorer(depth=explorer._value("depth"), kernel_size=explorer._value("kernel_size"),
                                   blit=False)
            fresh.select(position, layer=layer)
            try:
                assert np.count_nonzero((picture(explorer) != picture(fresh)).any(axis=2)) == 0
                assert explorer._readout.value == fresh._readout.value
            finally:
                fresh.close()
    finally:
        explorer.close()


def test_close_closes_every_widget_it_made():
    before = set(ipywidget._instances)
    SignalExplorer().close()
    assert set(ipywidget._instances) - before == set()
