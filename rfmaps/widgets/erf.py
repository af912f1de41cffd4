"""ERFExplorer: the theoretical receptive field beside the effective one."""

from __future__ import annotations

from typing import Any, Dict, NamedTuple, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np

from ..drawing import figures as drawing
from ..engine.maps import effective_receptive_field, mass_square
from ..drawing.explain import size_text
from ..layers import Conv2d, ReLU, check_layers
from .._core.geometry import nearest_index, window_around
from ..arithmetic.receptive_field import nearest_neuron, receptive_fields
from ._base import Cache, Explorer, check_bool, check_choice, check_int, frozen, image_control, slider

__all__ = ["ERFExplorer"]

CHANNELS = 4


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    rows: tuple  # receptive_fields(layers, input_size)
    image: np.ndarray


def erf_stack(depth: int, kernel_size: int, dilation: int, in_channels: int, weights: str,
              relu: bool) -> tuple:
    """The stack the explorer studies: ``depth`` padded convolutions (+ ReLU).

    ``weights='uniform'`` gives every tap the same positive weight (then the
    effective field has exactly the shape of the path counts); ``'random'``
    draws seeded He-scaled weights.
    """
    rng = np.random.default_rng(depth * 100 + kernel_size * 10 + dilation)
    layers: list = []
    channels = in_channels
    for _ in range(depth):
        shape = (CHANNELS, channels, kernel_size, kernel_size)
        if weights == "uniform":
            weight = np.full(shape, 1.0 / (channels * kernel_size ** 2))
        else:
            weight = rng.normal(0.0, np.sqrt(2.0 / (channels * kernel_size ** 2)), shape)
        layers.append(Conv2d(channels, CHANNELS, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                             dilation=dilation, weight=weight))
        if relu:
            layers.append(ReLU())
        channels = CHANNELS
    return tuple(layers)


# Ranges of the sliders, hence of the starting values.
RANGES = dict(depth=(1, 8), kernel_size=(1, 7), dilation=(1, 3))
WEIGHTS = ("uniform", "random")


def _number(value) -> str:
    """An exact whole or half-pixel coordinate as text: ``7`` or ``7.5``."""
    return f"{float(value):g}"


def counts_paths_only(layers) -> bool:
    """True when every layer is a convolution whose weights are all one positive number.

    Then every path from a pixel to the neuron carries the same product of
    weights, so the gradient is the path count times one constant. With other
    weights, a ReLU or a pool, the weights (or which paths are open) can count too.

    >>> counts_paths_only([Conv2d(1, 1, 3, weight=np.full((1, 1, 3, 3), 0.5))])
    True
    >>> counts_paths_only([Conv2d(1, 1, 3, weight=np.full((1, 1, 3, 3), 0.5)), ReLU()])
    False
    """
    for layer in layers:
        if not isinstance(layer, Conv2d) or layer.weight is None:
            return False
        weight = np.asarray(layer.weight)
        if weight.size == 0 or weight.min() <= 0 or weight.max() != weight.min():  # given weights, not computed
            return False
    return True


def _erf_text(own, heat: np.ndarray, shown_row: int, paths_only: bool = False) -> str:
    """The readout: the neuron's own theoretical field beside the square holding 90% of its effective one.

    The reason given for the concentration is the path count only when it is the whole reason
    (``paths_only``, see :func:`counts_paths_only`).
    """
    if own.box is None:
        return ("no input pixel has a path to this neuron, so it has no receptive field and its gradient is "
                "zero everywhere.")
    field = f"the theoretical receptive field is {size_text(own.size)} pixels"
    if own.seen is None:
        return f"{field}, all of it in zero padding, so its gradient is zero at every input pixel."
    if heat.max() == 0:
        return (f"{field}. Its gradient is zero everywhere: every path through it is blocked by a ReLU "
                "that is off.")
    side = mass_square(heat, own.box, 0.9)
    where = (f"around its centre (input row {_number(own.centre[0])}, column {_number(own.centre[1])}; "
             f"the right panel shows row {shown_row})")
    if side < max(own.size):
        reason = ("with equal positive weights, the centre counts more only because it reaches the neuron "
                  "through many more paths than the rim" if paths_only else
                  "by the chain rule a pixel counts by the products of the weights and of the other layers' "
                  "slopes along its paths to the neuron, added up over the paths (a ReLU's slope is 0 or 1; "
                  "a max pool passes only its largest input)")
        return f"{field}, but 90% of the effective field lies in a {side} × {side} square {where}: {reason}."
    return f"{field}, and 90% of the effective field needs a {side} × {side} square {where}, as large as the field."


class ERFExplorer(Explorer):
    """Theoretical versus effective receptive field of one neuron.

    Left, the input with the theoretical receptive field outlined. Middle, the
    effective receptive field ``sum_c |d y / d x_c|`` as a heat map over the
    same outline. Right, both along the neuron's row: the theoretical field is
    a flat box, the effective one a peak near the centre.

    The neurons studied are those of the last layer (``layer=-1``, or its
    index in ``.layers``).

    Parameters
    ----------
    image : str or array_like, default 'photo'
    depth, kernel_size, dilation : int
        Starting values: ``depth`` (1 to 8) padded convolutions of
        ``kernel_size`` (1 to 7), dilated by ``dilation`` (1 to 3).
    weights : {'uniform', 'random'}
    relu : bool, default True
    size : int, default 64
        Side of the sample images (8 to 256).
    controls : list of str, optional
        The controls to show, from ``'image'``, ``'depth'``, ``'kernel_size'``,
        ``'dilation'``, ``'weights'``, ``'relu'`` (default: all); the others
        keep their starting values.
    layers : sequence of Layer, optional, keyword-only
        Your own network instead (such as ``rfmaps.from_torch(model)`` or
        ``rfmaps.models.trained.small_cnn()``), with its weights: the sliders for
        the network are not shown (``controls`` defaults to ``['image']``).

    Raises
    ------
    ValueError
        If a starting value is outside its range.

    Examples
    --------
    >>> explorer = ERFExplorer("disk", depth=2, kernel_size=3)
    >>> explorer.selected, explorer.region
    ((3, 31, 31), ((29, 33), (29, 33)))
    """

    figsize = (9.5, 3.9)

    def __init__(self, image="photo", depth: int = 4, kernel_size: int = 3, dilation: int = 1,
                 weights: str = "uniform", relu: bool = True, size: int = 64, *, blit: Optional[bool] = None,
                 controls: Optional[Sequence[str]] = None, layers=None):
        given = dict(depth=depth, kernel_size=kernel_size, dilation=dilation)
        self._start: Dict[str, Any] = {name: check_int(value, name, *RANGES[name]) for name, value in given.items()}
        self._start["weights"] = check_choice(weights, "weights", WEIGHTS)
        self._start["relu"] = check_bool(relu, "relu")
        # A given network replaces the one the sliders build; they are then not shown.
        self._given = None if layers is None else check_layers(layers)
        if self._given is not None and controls is None:
            controls = ["image"]
        # Effective fields; key: (image name, layers, (row, col)): the layers hold every
        # setting and weight, the name stands for the image (fixed per explorer). Bound:
        # 16 MB (one field of a 256 x 256 image takes 0.5 MB, of a 64 x 64 one 32 kB).
        self._fields = Cache(16 * 2 ** 20)
        super().__init__(image, size, blit=blit, controls=controls)

    def _make_controls(self):
        s = self._start
        return {
            "image": image_control(self._own_name),
            "depth": slider("depth", s["depth"], *RANGES["depth"]),
            "kernel_size": slider("kernel size", s["kernel_size"], *RANGES["kernel_size"]),
            "dilation": slider("dilation", s["dilation"], *RANGES["dilation"]),
            "weights": widgets.Dropdown(options=list(WEIGHTS), value=s["weights"],
                                        description="weights", layout=widgets.Layout(width="180px")),
            "relu": widgets.Checkbox(value=s["relu"], description="ReLU", indent=False,
                                     layout=widgets.Layout(width="80px")),
            "row": slider("neuron row", 0, 0, 0),
            "col": slider("neuron col", 0, 0, 0),
        }

    def _compute(self):
        value = self._value
        image = self._image()
        channels = 1 if image.ndim == 2 else image.shape[2]
        layers = self._given or erf_stack(value("depth"), value("kernel_size"), value("dilation"), channels,
                                          value("weights"), value("relu"))
        rows = receptive_fields(layers, image.shape[:2])
        return _State(layers, image.shape[:2], rows, image)

    def _build(self):
        fig = self.figure
        # Margins in inches: row numbers on the left, titles above, on the right half a column number
        # (a zoomed panel can end on a tick); below, the column numbers,
        # the colour bar and the profile's axis label, then the key.
        width, height = self.figsize
        grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 1.3], left=0.45 / width, right=1 - 0.3 / width,
                                bottom=1.0 / height, top=1 - 0.35 / height, wspace=0.3)
        self._ax_in, self._ax_heat, self._ax_line = (fig.add_subplot(grid[0, i]) for i in range(3))
        self._input_art, _ = drawing.show_input(self._ax_in, np.zeros((2, 2)), "input, theoretical field")
        self._heat_art = self._ax_heat.imshow(np.zeros((1, 1)), cmap=drawing.HEAT_CMAP, vmin=0, vmax=1,
                                              interpolation="nearest")
        drawing.title(self._ax_heat, "effective field, near the neuron")
        self._ax_heat.set_xticks([])
        self._ax_heat.set_yticks([])
        drawing.colour_bar(self._ax_heat, drawing.HEAT_CMAP, "0", "1", "|gradient| ÷ its largest value",
                           width=0.7, below=20)  # below the column numbers of the zoomed view
        self._boxes = [drawing.outline(self._ax_in), drawing.outline(self._ax_heat)]
        # The two curves differ in line style and marks, not only in colour.
        self._box_line, = self._ax_line.plot([], [], color="0.3", drawstyle="steps-mid", linestyle="--",
                                             label="theoretical, along the row")
        self._erf_line, = self._ax_line.plot([], [], color=drawing.HIGHLIGHT, marker=".",
                                             label="effective |gradient|, along the row")
        self._ax_line.set_ylim(0, 1.08)
        # Ticks and axis labels are cached bitmaps (value_ticks in _draw): matplotlib's own
        # texts cost about 10 ms of every redraw. Both curves are scaled to a peak of 1.
        self._ax_line.set_xticks([])
        self._ax_line.set_yticks([])
        drawing.label(self._ax_line, "input column (pixels)", (0.5, 0), alignment=(0.5, 1), offset=(0, -20))
        drawing.label(self._ax_line, "each curve ÷ its largest", (0, 0.5), alignment=(1, 0.5), offset=(-26, 0),
                      upright=True)
        drawing.title(self._ax_line, "the neuron's centre row, by column")
        drawing.key(fig, [("field", "theoretical field"), (self._box_line, self._box_line.get_label()),
                          (self._erf_line, self._erf_line.get_label())])
        # The middle and right panels show only the pixels within one field's size of the
        # theoretical field (geometry.window_around), so the field fills them; ticks are input
        # rows and columns. Set by _draw_selection; a new window changes limits and ticks, which are
        # not selection artists, so the base draws the whole figure then.
        self._window = None
        self._caption.value = (
            "Left: the input with the theoretical receptive field outlined. Middle: the effective field, "
            "|gradient| of the neuron for each input pixel (bright = strong), zoomed to the theoretical field "
            "and as much again on each side, as far as the image goes (the numbers are input rows and "
            "columns). Right: both along the neuron's row over the same columns, each scaled to a peak of 1; "
            "the dashed grey line is the theoretical field (a flat box), the orange line with dots the "
            "effective one.")

    def _selection_artists(self):
        # The heat map and both curves change with the neuron, like the outlines: a new selection in
        # the same window is blitted (no text or ticks redrawn). Their axes' frames too: a full draw
        # paints a frame over the heat map and the curves, so blitting must repaint it after them
        # (else the heat map hides the frame: tests/test_pixels.py).
        return ([self._heat_art] + self._boxes + [self._box_line, self._erf_line]
                + [*self._ax_heat.spines.values(), *self._ax_line.spines.values()])

    def _field(self, state):
        position = tuple(self._selection[1:3])
        key = (self._value("image"), state.layers, position)
        return self._fields.get(key, lambda: frozen(effective_receptive_field(state.layers, position, state.image)))

    def _draw(self, state: _State):
        drawing.set_image(self._input_art, state.image)
        drawing.pixel_ticks(self._ax_in, state.input_size)  # the readout quotes input rows and columns
        drawing.set_image(self._heat_art, np.zeros(state.input_size))
        self._window = None  # a new network or image: _draw_selection sets the window and its ticks

    def _zoom(self, own, input_size) -> None:
        """Show the pixels near the neuron's theoretical field in the middle and right panels."""
        h, w = input_size
        window = (((0, h - 1), (0, w - 1)) if own.seen is None  # no pixel in view: the whole image
                  else window_around(own.box, input_size))
        if window == self._window:
            return
        self._window = window
        (top, bottom), (left, right) = window
        # Limits in input coordinates: the heat map keeps the whole image, so a click's
        # data coordinates stay input rows and columns (_click).
        self._ax_heat.set_xlim(left - 0.5, right + 0.5)
        self._ax_heat.set_ylim(bottom + 0.5, top - 0.5)
        drawing.value_ticks(self._ax_heat, drawing.window_ticks(left, right, 5), drawing.window_ticks(top, bottom, 5))
        self._ax_line.set_xlim(left - 0.5, right + 0.5)
        drawing.value_ticks(self._ax_line, drawing.window_ticks(left, right, 5), [0, 0.5, 1])

    def _click(self, event):
        if event.inaxes not in (self._ax_in, self._ax_heat):
            return None
        # The neuron whose own field is centred nearest to the clicked point (one tie rule, in geometry).
        state = self._state
        row, col = nearest_neuron(state.layers, (event.ydata, event.xdata), state.input_size)
        return row, col, -1

    def _draw_selection(self):
        state = self._state
        _, row, col, _ = self._selection
        field = self._field(state)
        peak = field.max()
        self._heat_art.set_data(field / peak if peak > 0 else field)
        own = self.selected_field  # this neuron's exact field (rf_size is only the layer's largest)
        self._zoom(own, state.input_size)
        region = own.seen
        for box in self._boxes:
            drawing.set_region(box, region)
        # The input row nearest the field's centre (a half-pixel centre goes to the lower row).
        centre = own.centre if own.centre is not None else (state.input_size[0] // 2, state.input_size[1] // 2)
        shown_row = nearest_index(centre[0], state.input_size[0])
        xs = np.arange(state.input_size[1])
        line = field[shown_row]
        self._erf_line.set_data(xs, line / line.max() if line.max() > 0 else line)
        box = np.zeros(len(xs))
        if region is not None:
            box[region[1][0]: region[1][1] + 1] = 1
        self._box_line.set_data(xs, box)
        text = _erf_text(own, field, shown_row, counts_paths_only(state.layers))
        self._readout.value = f"<b>Neuron ({row}, {col})</b>: " + text
