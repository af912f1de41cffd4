"""StackExplorer: a stack of layers, one feature map per layer, growing receptive fields."""

from __future__ import annotations

import html
from typing import NamedTuple, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np

from ..drawing import figures as drawing
from ..engine.maps import feature_maps
from ..drawing.explain import size_text
from ..layers import Conv2d, ConvTranspose2d, MaxPool2d, ReLU, check_layers
from ..layers.residual import Residual
from .._core.geometry import nearest_index
from ..arithmetic.receptive_field import NeuronField, input_region, receptive_fields
from ._base import Cache, Explorer, NeuronSelection, Selection, check_bool, check_int, frozen, image_control, slider
from .controls import ChoiceRange

__all__ = ["StackExplorer"]

MAX_DEPTH = 8
MAPS_PER_LAYER = 8


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    rows: tuple  # receptive_fields(layers, input_size)
    image: np.ndarray
    ends: tuple  # index in `layers` of the last layer of each block
    maps: tuple  # every map of each block's output, (MAPS_PER_LAYER, h, w)


# Ranges of the sliders, hence of the starting values.
RANGES = dict(depth=(1, MAX_DEPTH), kernel_size=(1, 7), stride=(1, 3), dilation=(1, 3))


class StackExplorer(Explorer):
    """A stack of convolution blocks (conv, ReLU, optional 2 x 2 max pool).

    Each block's convolution is padded by ``dilation * (kernel_size - 1) // 2``
    so only stride and pooling shrink the maps. One feature map per block is
    shown (the block's output; the ``map`` control picks which of its 8);
    click a neuron in any of them to see its receptive field on the input and
    on every block in between.

    ``layer`` counts in ``.layers`` (three or two layers per block), as in
    :func:`rfmaps.input_region`; the neurons on show are those of the layer
    that ends each block (the ReLU, or the pool when there is one). The
    ``layer`` control offers those layers, labelled by block number.

    Parameters
    ----------
    image : str or array_like, default 'photo'
    depth : int, default 3
        Number of blocks shown first (1 to 8).
    kernel_size, stride, dilation : int
        Starting values for every block (1 to 7, 1 to 3, 1 to 3).
    pool : bool, default False
        Start with a 2 x 2 max pool after every block.
    size : int, default 64
        Side of the sample images (8 to 256).
    controls : list of str, optional
        The controls to show, from ``'image'``, ``'depth'``, ``'kernel_size'``,
        ``'stride'``, ``'dilation'``, ``'pool'`` (each per-layer name stands for
        that control of every layer; default: all). The others keep their
        starting values; the layer, row and col controls always show.
    layers : sequence of Layer, optional, keyword-only
        Your own network instead (such as ``rfmaps.from_torch(model)`` or
        ``rfmaps.models.trained.small_cnn()``): its weights, no sliders for the
        network (``controls`` defaults to ``['image']``). A block then ends
        before each convolution or residual block (and at the end); the
        first 8 blocks are shown, and the map control offers the maps every
        block has.

    Raises
    ------
    ValueError
        If a starting value is outside its range, or the maps of the starting
        stack would shrink to nothing.

    Examples
    --------
    >>> explorer = StackExplorer("checkerboard", depth=2)
    >>> explorer.select(10, 10, layer=3)  # the ReLU that ends block 2
    >>> explorer.selected, explorer.region
    ((3, 10, 10), ((8, 12), (8, 12)))
    """

    figsize = (9.5, 5.2)
    selection_model = NeuronSelection(("layer", "map", "row", "col"))

    def __init__(self, image="photo", depth: int = 3, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, pool: bool = False, size: int = 64, *, blit: Optional[bool] = None,
                 controls: Optional[Sequence[str]] = None, layers=None):
        given = dict(depth=depth, kernel_size=kernel_size, stride=stride, dilation=dilation)
        self._start = {name: check_int(value, name, *RANGES[name]) for name, value in given.items()}
        self._start["pool"] = check_bool(pool, "pool")
        # A given network replaces the one the sliders build; they are then not shown.
        self._given = None if layers is None else check_layers(layers)
        if self._given is not None and controls is None:
            controls = ["image"]
        # Every map of every block's output; key: (image name, layers): the layers hold
        # every setting, the name stands for the image (fixed per explorer). Bound: 16 MB
        # (a 256 x 256 image at depth 8 takes 16 MB as float32; 64 MB took notebook 02 past 150 MB).
        self._maps = Cache(16 * 2 ** 20)
        super().__init__(image, size, blit=blit, controls=controls)

    # --- controls -----------------------------------------------------------------
    def _make_controls(self):
        s = self._start
        controls = {
            "image": image_control(self._own_name),
            "depth": slider("depth", s["depth"], *RANGES["depth"]),
            # Values are indices into .layers, labels block numbers (set in _set_layer_options).
            "layer": ChoiceRange(options=[("1", 0)], value=0, description="neuron in layer",
                                 layout=widgets.Layout(width="220px")),
            "map": slider("map", 0, 0, MAPS_PER_LAYER - 1),
            "row": slider("row", 0, 0, 0),
            "col": slider("col", 0, 0, 0),
        }
        # Wide enough that each value of the short ranges is a clear step of the handle.
        for i in range(1, MAX_DEPTH + 1):
            # Names for a screen reader say which block each control belongs to (the row shows it).
            controls[f"kernel_size_{i}"] = slider(f"{i}: kernel", s["kernel_size"], *RANGES["kernel_size"],
                                                  width="250px", label=f"{i}: kernel size of block {i}")
            controls[f"stride_{i}"] = slider("stride", s["stride"], *RANGES["stride"], width="210px",
                                             label=f"stride of block {i}")
            controls[f"dilation_{i}"] = slider("dilation", s["dilation"], *RANGES["dilation"], width="210px",
                                               label=f"dilation of block {i}")
            controls[f"pool_{i}"] = widgets.Checkbox(value=s["pool"], description="max pool 2×2",
                                                     indent=False, layout=widgets.Layout(width="120px"))
        return controls

    def _control_rows(self):
        c = self.controls
        top = widgets.HBox([c[n] for n in ("image", "depth", "layer", "map", "row", "col") if n in c],
                           layout=widgets.Layout(flex_flow="row wrap"))
        # One row of controls per layer; rows sit side by side only where the
        # notebook is wide enough, so no control is ever cut off at the edge.
        names = [n for n in ("kernel_size", "stride", "dilation", "pool") if f"{n}_1" in c]
        self._block_rows = [
            widgets.HBox([c[f"{n}_{i}"] for n in names], layout=widgets.Layout(margin="0 16px 0 0"))
            for i in range(1, MAX_DEPTH + 1) if names]
        blocks = widgets.HBox(self._block_rows, layout=widgets.Layout(flex_flow="row wrap"))
        self._show_block_rows()
        return widgets.VBox([top, blocks])

    def _show_block_rows(self):
        for i, row in enumerate(getattr(self, "_block_rows", [])):
            row.layout.display = None if i < len(self._state.ends) else "none"

    def _side(self):
        self._table.value = self._table_html(self._state)  # the one _build made: close() closes it
        return [self._table]

    def _set_layer_options(self, state):
        options = tuple((str(b + 1), end) for b, end in enumerate(state.ends))
        if tuple(self.controls["layer"].options) != options:
            self.controls["layer"].options = options

    def _shown_layers(self, state):
        return state.ends

    def _map_count(self, state, layer):
        # The same map number in every panel: as many as the block with the fewest maps has.
        return min(len(maps) for maps in state.maps)

    def _default_selection(self, state) -> Selection:
        """The neuron of the last block centred nearest the image centre, on a map that responds there.

        Map 0 unless it is 0 at that neuron (a ReLU can silence a whole map of a
        trained network on an image); then the map with the largest |value| there,
        or, if all are 0 there, the map with the most activity in the last block.
        """
        centre = super()._default_selection(state)
        count = self._map_count(state, centre.layer)  # map numbers every block has
        last = state.maps[-1][:count]
        at_centre = np.abs(last[:, centre.row, centre.col])
        if at_centre[0] > 0:
            return centre
        best = int(np.argmax(at_centre)) if at_centre.any() else int(np.argmax(np.abs(last).sum(axis=(1, 2))))
        return centre._replace(map=best)

    def _layer_after_change(self, old_state, old_layer, state):
        block = old_state.ends.index(old_layer)  # the same block, or the last one left
        return state.ends[min(block, len(state.ends) - 1)]

    # --- state ------------------------------------------------------------------------
    def _compute(self):
        value = self._value
        image = self._image()
        channels = 1 if image.ndim == 2 else image.shape[2]
        if self._given is not None:
            return self._given_state(image)
        layers, ends = [], []
        for i in range(1, value("depth") + 1):
            k, s, d = (value(f"{n}_{i}") for n in ("kernel_size", "stride", "dilation"))
            layers += [Conv2d(channels, MAPS_PER_LAYER, k, stride=s, padding=d * (k - 1) // 2, dilation=d), ReLU()]
            channels = MAPS_PER_LAYER
            if value(f"pool_{i}"):
                layers.append(MaxPool2d(2))
            ends.append(len(layers) - 1)
        layers = tuple(layers)
        try:
            rows = receptive_fields(layers, image.shape[:2])
        except ValueError as error:
            raise ValueError(f"The maps shrink to nothing at depth {len(ends)}: {error}. Lower the depth, "
                             "a stride, or a pooling choice.") from None
        maps = self._maps.get((value("image"), layers), lambda: _block_maps(layers, image, ends))
        return _State(layers, image.shape[:2], rows, image, tuple(ends), maps)

    def _given_state(self, image):
        layers = self._given
        ends = _block_ends(layers)
        rows = receptive_fields(layers, image.shape[:2])  # a ValueError names the layer that does not fit
        maps = self._maps.get((self._value("image"), layers), lambda: _block_maps(layers, image, ends))
        return _State(layers, image.shape[:2], rows, image, ends, maps)

    # --- figure ---------------------------------------------------------------------------
    def _build(self):
        self._table = widgets.HTML()
        self._axes = [self.figure.add_subplot(2, 5, i + 1) for i in range(MAX_DEPTH + 1)]
        self._rows = None
        self._input_art, _ = drawing.show_input(self._axes[0], np.zeros((2, 2)), "input")
        self._map_arts = []
        for ax in self._axes[1:]:
            self._map_arts.append(ax.imshow(np.zeros((1, 1)), cmap=drawing.MAP_CMAP, vmin=-1, vmax=1,
                                            interpolation="nearest"))
            ax.set_xticks([])
            ax.set_yticks([])
        self._boxes = [drawing.outline(ax) for ax in self._axes]
        # The neuron's one-pixel box and a ring of fixed size around it, so the eye finds it: one pair
        # per panel, the selected layer's shown (moving one pair between axes would change the axes).
        self._neuron_boxes = [drawing.outline(ax, meaning="neuron") for ax in self._axes[1:]]
        self._neuron_rings = [drawing.ring(ax) for ax in self._axes[1:]]
        self._bar = self.figure.add_axes([0.6, 0.02, 0.3, 0.0])  # an empty place for the colour bar
        self._bar.set_axis_off()
        drawing.colour_bar(self._bar, drawing.MAP_CMAP, "−1", "+1", "each map ÷ its largest |value|",
                           width=1, below=0)
        self._key = drawing.key(self.figure, [("field", "receptive field"), ("ring", "selected neuron")])
        self._map_on_show = (None, None)  # (the maps of the state drawn, index of the map shown)
        self._caption.value = (f"Each panel shows one feature map of the "
                               f"{'' if self._given is not None else f'{MAPS_PER_LAYER} '}maps of its layer "
                               "(the map control picks which: the same number in every layer), scaled to its "
                               "largest |value| (orange positive, purple negative), and is titled with its "
                               "receptive-field size; the table below gives all sizes. "
                               "Click a neuron in any layer (or use the row and col sliders): its receptive "
                               "field is outlined on the input and on every layer before it.")

    @property
    def _neuron_box(self):
        """The selected neuron's box (in its layer's panel)."""
        return self._neuron_boxes[self._state.ends.index(self._selection.layer)]

    @property
    def _neuron_ring(self):
        return self._neuron_rings[self._state.ends.index(self._selection.layer)]

    def _selection_artists(self):
        return self._boxes + self._neuron_boxes + self._neuron_rings

    def _arrange(self, panels: int) -> None:
        """Panels in one row up to 5, in two rows beyond; the figure as large as its panels.

        Sizes in inches: a panel's side, the gaps, room on the left for the input's row
        numbers, above each row for its titles, and at the bottom for the column numbers,
        the colour bar and the key (side by side when the figure is wide enough). A 2- or
        3-panel stack gets a narrower figure, not empty columns.
        """
        rows = 1 if panels <= 5 else 2
        cols = -(-panels // rows)
        if (rows, cols) == self._rows:
            return
        self._rows = (rows, cols)
        gap, left, right, top, between = 0.25, 0.45, 0.1, 0.35, 0.6
        side = min(2.0 if cols <= 2 else 1.7, (9.5 - left - right - (cols - 1) * gap) / cols)  # at most 9.5 inches wide
        width = left + cols * side + (cols - 1) * gap + right
        beside = width >= 6  # room for the colour bar (about 2 inches) and the key (about 3.4) in one line
        bottom = 0.8 if beside else 1.05
        height = top + rows * side + (rows - 1) * between + bottom
        self.figure.set_size_inches(width, height, forward=True)
        grid = self.figure.add_gridspec(rows, cols, left=left / width, right=1 - right / width,
                                        bottom=bottom / height, top=1 - top / height, wspace=gap / side,
                                        hspace=between / side)
        # The bar is 1.6 inches long; its top edge 0.45 inch (beside the key) or 0.7 above the bottom.
        centre = left + 1.1 if beside else width / 2
        self._bar.set_position([(centre - 0.8) / width, (0.45 if beside else 0.7) / height, 1.6 / width, 0.0])
        key_centre = (width - right - 1.75) / width if beside else 0.5
        self._key.set_anchor(key_centre, 0.1 / height if beside else 0.0)
        for i, ax in enumerate(self._axes):
            if i < rows * cols:  # the panels beyond are hidden
                ax.set_subplotspec(grid[i // cols, i % cols])

    def _draw(self, state: _State):
        self._arrange(len(state.ends) + 1)
        self._map_on_show = (None, None)  # _draw_selection puts the selected map in every panel
        self._show_block_rows()
        drawing.set_image(self._input_art, state.image)
        drawing.pixel_ticks(self._axes[0], state.input_size)  # the readout quotes input rows and columns
        drawing.title(self._axes[0], f"input {size_text(state.input_size)}")
        for b, ax in enumerate(self._axes[1:]):
            ax.set_visible(b < len(state.ends))
            if b >= len(state.ends):
                continue
            drawing.set_image(self._map_arts[b], state.maps[b][0])  # extent and limits: the map comes next
            row = state.rows[state.ends[b]]
            drawing.title(ax, f"layer {b + 1}: rf {'' if row.uniform else 'up to '}{row.rf_size[0]}")
        self._table.value = self._table_html(state)

    @staticmethod
    def _table_html(state: _State) -> str:
        cells = "".join(
            f"<tr><td>{b + 1}</td><td>{e}</td><td>{size_text(state.rows[e].output_size)}</td>"
            f"<td>{'' if state.rows[e].uniform else 'up to '}{size_text(state.rows[e].rf_size)}</td>"
            f"<td>{size_text(state.rows[e].jump)}</td></tr>"
            for b, e in enumerate(state.ends))
        return ('<table style="border-spacing: 16px 0; text-align: left">'
                "<thead><tr><th>layer</th><th>index in .layers</th><th>output size</th><th>rf size</th>"
                f"<th>jump</th></tr></thead><tbody>{cells}</tbody></table>")

    # --- selection ------------------------------------------------------------------------
    def select(self, row: int, col: int, layer: int = -1, map: Optional[int] = None) -> None:
        """Select neuron ``(row, col)`` of feature map ``map`` (the map on show by default)
        of the output of ``layers[layer]`` (the ReLU or pool that ends a block, or -1)."""
        self._guarded(self._apply_selection, row, col, layer, map)

    def _click(self, event):
        if event.inaxes not in self._axes[1:]:
            return None
        state = self._state
        end = state.ends[self._axes.index(event.inaxes) - 1]
        h, w = state.rows[end].output_size
        return nearest_index(event.ydata, h), nearest_index(event.xdata, w), end

    def _draw_selection(self):
        state = self._state
        end, row, col, index = self._selection
        block = state.ends.index(end)
        if self._map_on_show[0] is not state.maps or self._map_on_show[1] != index:
            self._map_on_show = (state.maps, index)
            for b, maps in enumerate(state.maps):
                one = maps[index]
                scale = np.abs(one).max()
                self._map_arts[b].set_data(one / scale if scale > 0 else one)
        own = self.selected_field  # the outline and the readout quote the same walk
        drawing.set_region(self._boxes[0], own.seen)
        for b in range(MAX_DEPTH):
            box = self._boxes[b + 1]
            if b >= block:
                box.set_visible(False)
                continue
            # The same neuron's receptive field measured on block b's output.
            below = state.layers[state.ends[b] + 1: end + 1]
            size = state.rows[state.ends[b]].output_size
            drawing.set_region(box, input_region(below, (row, col), size))
        for b, (box, ring) in enumerate(zip(self._neuron_boxes, self._neuron_rings)):
            box.set_visible(b == block)
            ring.set_visible(b == block)
        drawing.set_region(self._neuron_boxes[block], ((row, row), (col, col)))
        self._neuron_rings[block].set_offsets([[col, row]])
        self._readout.value = (
            f"<b>Neuron (row {row}, col {col}) of layer {block + 1}</b>, map {index} (.layers[{end}]): "
            f"value {state.maps[block][index, row, col]:.3f}; "
            + html.escape(f"{field_text(own)} {_spacing_text(state.rows[end])}", quote=False)
            + self._silent_note(state, block, end, index))

    @staticmethod
    def _silent_note(state, block, end, index) -> str:
        """A sentence when the map on show is 0 at every position of the selected layer."""
        if state.maps[block][index].any():
            return ""
        # The block's last layer that is not a pool: a ReLU there zeroed the map.
        last = next((layer for layer in reversed(state.layers[: end + 1]) if not isinstance(layer, MaxPool2d)), None)
        if isinstance(last, ReLU):
            return (f" Map {index} is 0 at every position here: the ReLU turned every value off (all were 0 or "
                    "below on this image), so this map is silent for this image; pick another map or image.")
        return f" Map {index} is 0 at every position here."


def field_text(field: NeuronField) -> str:
    """What a readout says about one neuron's own field: its size, the input rows and columns it
    sees, and whether the image holds all of it.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> from rfmaps.arithmetic.receptive_field import neuron_field
    >>> print(field_text(neuron_field([Conv2d(1, 1, 3, padding=1)], (3, 4), 8)))
    receptive field 3 × 3 pixels, all inside the image: input rows 2 to 4 and columns 3 to 5.
    >>> print(field_text(neuron_field([Conv2d(1, 1, 3, padding=1)], (0, 4), 8))[:51])
    receptive field 3 × 3 pixels, clipped: it sees only
    """
    if field.box is None:
        return "no receptive field: no input pixel has a path to this neuron (its value does not depend on the image)."
    size = f"receptive field {size_text(field.size)} pixels"
    seen = field.seen
    if seen is None:
        return f"{size}, clipped: it sees nothing but zero padding."
    where = f"input rows {seen[0][0]} to {seen[0][1]} and columns {seen[1][0]} to {seen[1][1]}"
    if field.clipped:
        return f"{size}, clipped: it sees only {where}, the rest lies in zero padding."
    return f"{size}, all inside the image: {where}."


def _spacing_text(row) -> str:
    """How far apart neighbouring neurons of a layer look, on average when their phase matters."""
    jump = row.jump[0] if row.jump[0] == row.jump[1] else size_text(row.jump)
    unit = "pixel" if jump == 1 else "pixels"
    if row.uniform:
        return f"Neighbouring neurons of this layer look {jump} {unit} apart."
    return (f"Neighbouring neurons of this layer look {jump} {unit} apart on average; after a transposed "
            "convolution or an upsampling the spacing and the field depend on each neuron's phase.")


def _block_ends(layers) -> tuple:
    """Index of the last layer of each block of a given network: the layer before each convolution
    or residual block, and the last layer; the first ``MAX_DEPTH`` blocks.

    Examples
    --------
    >>> _block_ends([Conv2d(1, 2, 3), ReLU(), MaxPool2d(2), Conv2d(2, 2, 3), ReLU()])
    (2, 4)
    """
    starts = (Conv2d, ConvTranspose2d, Residual)
    ends = [i for i in range(len(layers) - 1) if isinstance(layers[i + 1], starts)]
    ends = sorted(set(ends) | {len(layers) - 1})
    return tuple(ends[:MAX_DEPTH])


def _block_maps(layers, image, ends) -> tuple:
    """Every map of each block's output, from one pass through the whole stack."""
    maps = feature_maps(layers, image)
    return tuple(frozen(maps[end]) for end in ends)
