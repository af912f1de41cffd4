"""StackExplorer: a stack of layers, one feature map per layer, growing receptive fields."""

from __future__ import annotations

import html
from typing import NamedTuple, Optional, Tuple

import ipywidgets as widgets
import numpy as np

from .. import drawing
from ..engine import feature_maps
from ..explain import size_text
from ..layers import Conv2d, MaxPool2d, ReLU
from ..receptive_field import check_position, input_region, layer_index, receptive_fields
from ._base import Cache, Explorer, image_control, set_range, slider

__all__ = ["StackExplorer"]

MAX_DEPTH = 8
MAPS_PER_LAYER = 8


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    image: np.ndarray
    ends: tuple  # index in `layers` of the last layer of each block
    maps: tuple  # map 0 of each block's output
    rows: tuple  # receptive_fields rows


class StackExplorer(Explorer):
    """A stack of convolution blocks (conv, ReLU, optional 2 x 2 max pool).

    Each block's convolution is padded by ``dilation * (kernel_size - 1) // 2``
    so only stride and pooling shrink the maps. One feature map per block is
    shown; click a neuron in any of them to see its receptive field on the
    input and on every layer in between.

    Parameters
    ----------
    image : str or array_like, default 'photo'
    depth : int, default 3
        Number of blocks shown first (1 to 8).
    kernel_size, stride, dilation : int
        Starting values for every block.
    pool : bool, default False
        Start with a 2 x 2 max pool after every block.
    size : int, default 64

    Examples
    --------
    >>> explorer = StackExplorer("checkerboard", depth=2)
    >>> explorer.select(10, 10, layer=2)
    >>> explorer.region
    ((8, 12), (8, 12))
    """

    figsize = (9.5, 5.2)

    def __init__(self, image="photo", depth: int = 3, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, pool: bool = False, size: int = 64, *, blit: Optional[bool] = None):
        self._own_image, self._size = image, size
        self._start = dict(depth=depth, kernel_size=kernel_size, stride=stride, dilation=dilation, pool=pool)
        self._images, self._maps = Cache(8), Cache(16)
        self._selected = None  # (block, row, col)
        super().__init__(blit=blit)

    # --- controls -----------------------------------------------------------------
    def _make_controls(self):
        s = self._start
        controls = {
            "image": image_control(self._own_image),
            "depth": slider("depth", s["depth"], 1, MAX_DEPTH),
            "layer": slider("neuron in layer", s["depth"], 1, s["depth"]),
            "row": slider("row", 0, 0, 0),
            "col": slider("col", 0, 0, 0),
        }
        for i in range(1, MAX_DEPTH + 1):
            controls[f"kernel_size_{i}"] = slider(f"{i}: kernel", s["kernel_size"], 1, 7, width="170px")
            controls[f"stride_{i}"] = slider("stride", s["stride"], 1, 3, width="150px")
            controls[f"dilation_{i}"] = slider("dilation", s["dilation"], 1, 3, width="150px")
            controls[f"pool_{i}"] = widgets.Checkbox(value=s["pool"], description="max pool 2×2",
                                                     indent=False, layout=widgets.Layout(width="120px"))
        return controls

    def _control_rows(self):
        c = self.controls
        top = widgets.HBox([c[n] for n in ("image", "depth", "layer", "row", "col")],
                           layout=widgets.Layout(flex_flow="row wrap"))
        # One row of controls per layer; rows sit side by side only where the
        # notebook is wide enough, so no control is ever cut off at the edge.
        self._block_rows = [
            widgets.HBox([c[f"{n}_{i}"] for n in ("kernel_size", "stride", "dilation", "pool")],
                         layout=widgets.Layout(margin="0 16px 0 0"))
            for i in range(1, MAX_DEPTH + 1)]
        blocks = widgets.HBox(self._block_rows, layout=widgets.Layout(flex_flow="row wrap"))
        self._show_block_rows()
        return widgets.VBox([top, blocks])

    def _show_block_rows(self):
        for i, row in enumerate(getattr(self, "_block_rows", [])):
            row.layout.display = None if i < self.controls["depth"].value else "none"

    def _side(self):
        self._table = widgets.HTML()
        return [self._table]

    def _adapt_ranges(self):
        depth = self.controls["depth"].value
        set_range(self.controls["layer"], 1, depth)
        self._show_block_rows()

    # --- state ------------------------------------------------------------------------
    def _compute(self):
        c = self.controls
        image = self._image()
        channels = 1 if image.ndim == 2 else image.shape[2]
        layers, ends = [], []
        for i in range(1, c["depth"].value + 1):
            k, s, d = (c[f"{n}_{i}"].value for n in ("kernel_size", "stride", "dilation"))
            layers += [Conv2d(channels, MAPS_PER_LAYER, k, stride=s, padding=d * (k - 1) // 2, dilation=d), ReLU()]
            channels = MAPS_PER_LAYER
            if c[f"pool_{i}"].value:
                layers.append(MaxPool2d(2))
            ends.append(len(layers) - 1)
        layers = tuple(layers)
        try:
            rows = receptive_fields(layers, image.shape[:2])
        except ValueError as error:
            raise ValueError(f"The maps shrink to nothing: {error}. Lower the depth, a stride, "
                             "or a pooling choice.") from None
        maps = self._maps.get((c["image"].value, layers),
                              lambda: tuple(feature_maps(layers, image)[e][0] for e in ends))
        return _State(layers, image.shape[:2], image, tuple(ends), maps, rows)

    # --- figure ---------------------------------------------------------------------------
    def _build(self):
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
        self._neuron_box = drawing.outline(self._axes[1], linewidth=2, edgecolor="black")
        self._overlays = self._boxes + [self._neuron_box]

    def _arrange(self, panels: int) -> None:
        """One row of panels up to depth 4, two beyond: no empty half figure."""
        rows = 1 if panels <= 5 else 2
        if rows == self._rows:
            return
        self._rows = rows
        self.figure.set_size_inches(self.figsize[0], 2.6 * rows, forward=True)
        grid = self.figure.add_gridspec(rows, 5, left=0.02, right=0.98, bottom=0.03,
                                        top=1 - 0.22 / rows, wspace=0.15, hspace=0.35)
        for i, ax in enumerate(self._axes):
            if i < rows * 5:  # with one row, panels 5 to 8 are hidden anyway
                ax.set_subplotspec(grid[i // 5, i % 5])

    def _draw(self, state: _State):
        self._arrange(len(state.ends) + 1)
        self._input_art.set_data(state.image)
        self._input_art.set_extent((-0.5, state.input_size[1] - 0.5, state.input_size[0] - 0.5, -0.5))
        self._axes[0].set_xlim(-0.5, state.input_size[1] - 0.5)
        self._axes[0].set_ylim(state.input_size[0] - 0.5, -0.5)
        drawing.title(self._axes[0], f"input {size_text(state.input_size)}")
        for b, ax in enumerate(self._axes[1:]):
            ax.set_visible(b < len(state.ends))
            if b >= len(state.ends):
                continue
            one = state.maps[b]
            scale = np.abs(one).max()
            art = self._map_arts[b]
            art.set_data(one / scale if scale > 0 else one)
            art.set_extent((-0.5, one.shape[1] - 0.5, one.shape[0] - 0.5, -0.5))
            ax.set_xlim(-0.5, one.shape[1] - 0.5)
            ax.set_ylim(one.shape[0] - 0.5, -0.5)
            row = state.rows[state.ends[b]]
            drawing.title(ax, f"layer {b + 1}: rf {row.rf_size[0]}")
        self._caption.value = (f"Each panel shows feature map 0 of the {MAPS_PER_LAYER} maps of its layer, "
                               "titled with its receptive-field size; the table below gives all sizes. "
                               "Click a neuron in any layer (or use the row and col sliders): its receptive "
                               "field is outlined on the input and on every layer before it.")
        self._table.value = self._table_html(state)
        if self._selected is None or self._selected[0] >= len(state.ends):
            self._selected = (len(state.ends) - 1, None, None)
        block = self._selected[0]
        h, w = state.rows[state.ends[block]].output_size
        row, col = self._selected[1:]
        if row is None or row >= h or col >= w:
            self._selected = (block, h // 2, w // 2)
        self._sync_neuron_controls()

    @staticmethod
    def _table_html(state: _State) -> str:
        cells = "".join(
            f"<tr><td>{b + 1}</td><td>{size_text(state.rows[e].output_size)}</td>"
            f"<td>{size_text(state.rows[e].rf_size)}</td><td>{size_text(state.rows[e].jump)}</td></tr>"
            for b, e in enumerate(state.ends))
        return ('<table style="border-spacing: 16px 0; text-align: left">'
                "<thead><tr><th>layer</th><th>output size</th><th>rf size</th><th>jump</th>"
                f"</tr></thead><tbody>{cells}</tbody></table>")

    def _sync_neuron_controls(self):
        block, row, col = self._selected
        h, w = self._state.rows[self._state.ends[block]].output_size
        self._quiet, quiet = True, self._quiet
        try:
            self.controls["layer"].value = block + 1
            set_range(self.controls["row"], 0, h - 1)
            set_range(self.controls["col"], 0, w - 1)
            self.controls["row"].value, self.controls["col"].value = row, col
        finally:
            self._quiet = quiet

    # --- selection ------------------------------------------------------------------------
    @property
    def selected(self):
        """``(layer, row, col)``; ``layer`` indexes ``layers`` (the last layer of the block)."""
        block, row, col = self._selected
        return (self._state.ends[block], row, col)

    @property
    def region(self):
        layer, row, col = self.selected
        return input_region(self.layers, (row, col), self.input_size, layer=layer)

    def select(self, row: int, col: int, layer: int = -1) -> None:
        """Select neuron ``(row, col)`` of block ``layer`` (1 = first block; -1 = the last)."""
        self._guarded(self._select, row, col, layer)

    def _select(self, row, col, layer):
        count = len(self._state.ends)
        if layer == 0 or not isinstance(layer, (int, np.integer)) or not -count <= layer <= count:
            raise ValueError(f"layer must be from 1 to {count} (or -1 for the last), got {layer!r}")
        block = layer - 1 if layer > 0 else layer_index(layer, count)
        check_position((row, col), self._state.rows[self._state.ends[block]].output_size)
        self._selected = (block, int(row), int(col))
        self._sync_neuron_controls()
        self._select_and_show()

    def _on_change(self, change):
        if self._quiet:
            return
        c = self.controls
        if change["owner"] in (c["row"], c["col"]):
            self._guarded(self._select, c["row"].value, c["col"].value, c["layer"].value)
        elif change["owner"] is c["layer"]:
            h, w = self._state.rows[self._state.ends[c["layer"].value - 1]].output_size
            self._guarded(self._select, h // 2, w // 2, c["layer"].value)
        else:
            self._guarded(self._refresh)

    def _click(self, event):
        if event.inaxes not in self._axes[1:]:
            return
        block = self._axes.index(event.inaxes) - 1
        row, col = int(np.floor(event.ydata + 0.5)), int(np.floor(event.xdata + 0.5))
        self._select(row, col, block + 1)

    def _draw_selection(self):
        state = self._state
        block, row, col = self._selected
        end = state.ends[block]
        self._boxes[0].set_visible(False)
        drawing.set_region(self._boxes[0], input_region(state.layers, (row, col), state.input_size, layer=end))
        for b in range(MAX_DEPTH):
            box = self._boxes[b + 1]
            if b >= block:
                box.set_visible(False)
                continue
            # The same neuron's receptive field measured on layer b's output.
            below = state.layers[state.ends[b] + 1: end + 1]
            size = state.rows[state.ends[b]].output_size
            drawing.set_region(box, input_region(below, (row, col), size))
        if self._neuron_box.axes is not self._axes[block + 1]:  # move it to the chosen layer's panel
            self._neuron_box.remove()
            self._axes[block + 1].add_patch(self._neuron_box)
            self._neuron_box.set_transform(self._axes[block + 1].transData)
        drawing.set_region(self._neuron_box, ((row, row), (col, col)))
        rf = state.rows[end].rf_size
        region = self.region
        seen = "nothing but padding" if region is None else (
            f"input rows {region[0][0]} to {region[0][1]} and columns {region[1][0]} to {region[1][1]}")
        self._readout.value = (
            f"<b>Neuron (row {row}, col {col}) of layer {block + 1}</b>: receptive field "
            f"{size_text(rf)} pixels, of which it sees {html.escape(seen)}. "
            f"Neighbouring neurons of this layer look {state.rows[end].jump[0]} pixels apart.")
