"""ConvExplorer: one convolution layer on an image, its kernels and its feature maps."""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from .. import drawing
from ..engine import feature_maps
from ..explain import output_size_formula, size_text
from ..kernels import bank_names, layer_weights
from ..layers import Conv2d
from ..receptive_field import check_position, input_region
from ._base import Cache, Explorer, image_control, set_range, slider

__all__ = ["ConvExplorer"]


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    image: np.ndarray
    maps: np.ndarray  # (n, h, w)
    kernels: np.ndarray  # (n, C, kh, kw)


class ConvExplorer(Explorer):
    """One convolution on an image: the kernels, the block of feature maps, and
    the receptive field of any neuron.

    Parameters
    ----------
    image : str or array_like, default 'photo'
        A name of :func:`rfmaps.images.sample` or your own ``(H, W[, C])`` array.
    kernel_size, stride, padding, dilation : int
        Starting values of the sliders (PyTorch's meanings).
    kernels : int, default 4
        Number of kernels, hence of feature maps (1 to 16).
    size : int, default 48
        Side of the sample images, in pixels.
    blit : bool, optional
        Redraw only the overlays when the selection moves; by default on for an
        interactive (ipympl) canvas.

    Examples
    --------
    >>> explorer = ConvExplorer("disk", kernel_size=5, kernels=3)
    >>> explorer.select(10, 12, map=1)
    >>> explorer.region
    ((10, 14), (12, 16))
    """

    figsize = (9.5, 3.8)

    def __init__(self, image="photo", kernel_size: int = 3, stride: int = 1, padding: int = 0,
                 dilation: int = 1, kernels: int = 4, size: int = 48, *, blit: Optional[bool] = None):
        self._own_image, self._size = image, size
        self._start = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                           dilation=dilation, kernels=kernels)
        self._images, self._maps = Cache(8), Cache(32)
        self._selected = None  # (map, row, col)
        super().__init__(blit=blit)

    # --- controls -----------------------------------------------------------------
    def _make_controls(self):
        s = self._start
        return {
            "image": image_control(self._own_image),
            "kernel_size": slider("kernel size", s["kernel_size"], 1, 11),
            "stride": slider("stride", s["stride"], 1, 4),
            "padding": slider("padding", s["padding"], 0, 5),
            "dilation": slider("dilation", s["dilation"], 1, 4),
            "kernels": slider("kernels", s["kernels"], 1, 16),
            "map": slider("map", 0, 0, max(0, s["kernels"] - 1)),
            "row": slider("neuron row", 0, 0, 0),
            "col": slider("neuron col", 0, 0, 0),
        }

    def _adapt_ranges(self):
        c = self.controls
        h, w = self._image().shape[:2]
        pad, dil = c["padding"].value, c["dilation"].value
        # Largest kernel whose dilated span still fits the padded input.
        fits = (min(h, w) + 2 * pad - 1) // dil + 1
        set_range(c["kernel_size"], 1, max(1, min(11, fits)))
        set_range(c["map"], 0, c["kernels"].value - 1)

    # --- state ------------------------------------------------------------------------
    def _compute(self):
        c = self.controls
        image = self._image()
        channels = 1 if image.ndim == 2 else image.shape[2]
        layer = Conv2d(channels, c["kernels"].value, c["kernel_size"].value, stride=c["stride"].value,
                       padding=c["padding"].value, dilation=c["dilation"].value)
        maps = self._maps.get((c["image"].value, layer), lambda: feature_maps([layer], image)[0])
        return _State((layer,), image.shape[:2], image, maps, layer_weights([layer])[0])

    # --- figure ---------------------------------------------------------------------------
    def _build(self):
        fig = self.figure
        grid = fig.add_gridspec(1, 3, width_ratios=[1, 0.55, 1.25], left=0.02, right=0.98,
                                bottom=0.04, top=0.88, wspace=0.12)
        self._ax_in, self._ax_k, self._ax_maps = (fig.add_subplot(grid[0, i]) for i in range(3))
        self._input_art, self._pad_frame = drawing.show_input(self._ax_in, np.zeros((2, 2)), "input")
        self._kernel_art = self._ax_k.imshow(np.zeros((1, 1)), cmap=drawing.MAP_CMAP, vmin=-1, vmax=1,
                                             interpolation="nearest")
        self._map_art = self._ax_maps.imshow(np.zeros((1, 1)), cmap=drawing.MAP_CMAP, vmin=-1, vmax=1,
                                             interpolation="nearest")
        for ax in (self._ax_k, self._ax_maps):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_facecolor("white")
        self._rf_box = drawing.outline(self._ax_in)
        self._taps = self._ax_in.scatter([], [], s=14, c=drawing.HIGHLIGHT, edgecolors="white",
                                         linewidths=0.8, zorder=6)
        self._kernel_box = drawing.outline(self._ax_k, linewidth=1.5)
        self._neuron_box = drawing.outline(self._ax_maps, linewidth=2, edgecolor="black")
        self._overlays = [self._rf_box, self._taps, self._kernel_box, self._neuron_box]

    def _draw(self, state: _State):
        c = self.controls
        layer = state.layers[0]
        self._input_art.set_data(state.image)
        self._input_art.set_extent((-0.5, state.input_size[1] - 0.5, state.input_size[0] - 0.5, -0.5))
        drawing.set_padding(self._ax_in, self._pad_frame, state.input_size, layer.pads)
        channels = layer.in_channels
        drawing.title(self._ax_in, f"input {size_text(state.input_size)} × {channels}")
        kernels, self._k_cols, self._k_gap = drawing.mosaic(state.kernels.sum(axis=1), gap=1)
        self._set_image(self._ax_k, self._kernel_art, kernels)
        k = layer.kernel_size[0]
        drawing.title(self._ax_k, f"{len(state.kernels)} kernels {k} × {k} × {channels}")
        tiles, self._cols, self._gap = drawing.mosaic(state.maps)
        self._set_image(self._ax_maps, self._map_art, tiles)
        n, h, w = state.maps.shape
        drawing.title(self._ax_maps, f"output: {n} map{'s' if n > 1 else ''} of {h} × {w}")
        self._caption.value = (
            f"Input: {size_text(state.input_size)} pixels × {channels} channel{'s' if channels > 1 else ''}"
            + (" (zero padding hatched)" if any(layer.pads[0] + layer.pads[1]) else "")
            + ". Kernels are shown summed over their channels; each feature map is scaled to its own "
            "largest |value| (orange positive, purple negative).<br>"
            "Output size, ⌊(n + padding − dilation·(k − 1) − 1) / stride⌋ + 1, with today's numbers: "
            f"height {output_size_formula(layer, state.input_size[0], 0)}, "
            f"width {output_size_formula(layer, state.input_size[1], 1)}.")
        set_range(c["row"], 0, h - 1)
        set_range(c["col"], 0, w - 1)
        if self._selected is None or self._selected[0] >= n or self._selected[1] >= h or self._selected[2] >= w:
            self._selected = (min(c["map"].value, n - 1), h // 2, w // 2)

    @staticmethod
    def _set_image(ax, art, array):
        art.set_data(array)
        art.set_extent((-0.5, array.shape[1] - 0.5, array.shape[0] - 0.5, -0.5))
        ax.set_xlim(-0.5, array.shape[1] - 0.5)
        ax.set_ylim(array.shape[0] - 0.5, -0.5)

    # --- selection ------------------------------------------------------------------------
    @property
    def selected(self):
        """``(layer, row, col)`` of the selected neuron (layer counts in ``layers``)."""
        return (0,) + tuple(self._selected[1:])

    @property
    def region(self):
        """Input region of the selected neuron, as :func:`rfmaps.input_region` gives it."""
        return input_region(self.layers, self._selected[1:], self.input_size)

    def select(self, row: int, col: int, layer: int = -1, map: Optional[int] = None) -> None:
        """Select neuron ``(row, col)`` of feature map ``map``, as a click does."""
        self._guarded(self._select, row, col, layer, map)

    def _select(self, row, col, layer, map):
        if layer not in (0, -1):
            raise ValueError(f"layer must be 0 or -1 (this explorer has one layer), got {layer!r}")
        n, h, w = self._state.maps.shape
        check_position((row, col), (h, w))
        map = self._selected[0] if map is None else map
        if not isinstance(map, (int, np.integer)) or not 0 <= map < n:
            raise ValueError(f"map must be an int from 0 to {n - 1}, got {map!r}")
        self._selected = (int(map), int(row), int(col))
        self._quiet = True
        try:
            self.set(map=int(map), row=int(row), col=int(col))
        finally:
            self._quiet = False
        self._select_and_show()

    def _on_change(self, change):
        if self._quiet:
            return
        if change["owner"] in (self.controls["row"], self.controls["col"], self.controls["map"]):
            c = self.controls
            self._guarded(self._select, c["row"].value, c["col"].value, -1, c["map"].value)
        else:
            self._guarded(self._refresh)

    def _click(self, event):
        if event.inaxes is not self._ax_maps:
            return
        n, h, w = self._state.maps.shape
        hit = drawing.tile_at(event.xdata, event.ydata, (h, w), n, self._cols, self._gap)
        if hit is not None:
            self._select(hit[1], hit[2], -1, hit[0])

    def _draw_selection(self):
        state, (index, row, col) = self._state, self._selected
        layer = state.layers[0]
        n, h, w = state.maps.shape
        unclipped = input_region(state.layers, (row, col), state.input_size, clip=False)
        drawing.set_region(self._rf_box, unclipped)
        (top, _), (left, _) = unclipped
        kh, kw = layer.kernel_size
        dh, dw = layer.dilation
        ys, xs = np.meshgrid(top + dh * np.arange(kh), left + dw * np.arange(kw), indexing="ij")
        self._taps.set_offsets(np.column_stack([xs.ravel(), ys.ravel()]))
        drawing.set_region(self._neuron_box, ((row, row), (col, col)),
                           drawing.tile_offset(index, (h, w), self._cols, self._gap))
        drawing.set_region(self._kernel_box, ((0, kh - 1), (0, kw - 1)),
                           drawing.tile_offset(index, (kh, kw), self._k_cols, self._k_gap))
        inside = ((ys >= 0) & (ys < state.input_size[0]) & (xs >= 0) & (xs < state.input_size[1]))
        on_padding = int((~inside).sum())
        channels = layer.in_channels
        name = bank_names(n)[index] if layer.weight is None else f"kernel {index}"
        span = layer.effective_kernel_size
        holes = (f" Dilation {dh} spreads its {kh} × {kw} taps over {span[0]} × {span[1]} pixels, "
                 f"skipping the pixels in between." if dh > 1 else "")
        padding = (f" {on_padding} of its {kh * kw} taps fall on zero padding." if on_padding else "")
        self._readout.value = (
            f"<b>Neuron (row {row}, col {col}) of feature map {index}</b> ({name}) has value "
            f"{state.maps[index, row, col]:.3f}. Its receptive field is input rows {unclipped[0][0]} to "
            f"{unclipped[0][1]} and columns {unclipped[1][0]} to {unclipped[1][1]}: a {kh} × {kw} window "
            f"through all {channels} channel{'s' if channels > 1 else ''}, so it sees "
            f"{kh} × {kw} × {channels} = {kh * kw * channels} input values.{holes}{padding}"
            f"<br>Every one of the {n} maps has a neuron at this position with the same receptive "
            f"field; they differ only in the kernel they apply."
        )
