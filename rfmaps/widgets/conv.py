"""ConvExplorer: one convolution layer on an image, its kernels and its feature maps."""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ..drawing import figures as drawing
from ..engine.maps import feature_maps
from ..drawing.explain import output_size_formula, size_text
from ..engine.kernels import bank_names, layer_weights
from ..layers import Conv2d
from .._core.geometry import tap_positions
from ..arithmetic.receptive_field import receptive_fields
from ._base import Cache, Explorer, NeuronSelection, check_int, frozen, image_control, set_range, slider

__all__ = ["ConvExplorer"]


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    rows: tuple  # receptive_fields(layers, input_size)
    image: np.ndarray
    maps: np.ndarray  # (n, h, w)
    kernels: np.ndarray  # (n, C, kh, kw)


MAX_KERNELS = 256
# kernels x input height x input width may be at most this (32 MB as float32): 256 maps
# of a 50 x 50 image take 0.6 M values, so only an own image larger than 181 x 181 lowers
# the kernels limit below 256 (to 128 for 256 x 256). Padding can make each output side
# up to 10 pixels longer than the input's, so a block may exceed the bound by a few percent.
MAX_MAP_VALUES = 2 ** 23
# Up to this many maps the panels stand in one row; more get a taller figure in which
# the block of maps fills the right two thirds, so 100 maps of 46 x 46 keep about one
# screen pixel per neuron.
ONE_ROW_MAPS = 16

# Ranges of the sliders, hence of the starting values.
RANGES = dict(kernel_size=(1, 11), stride=(1, 4), padding=(0, 5), dilation=(1, 4), kernels=(1, MAX_KERNELS))


class ConvExplorer(Explorer):
    """One convolution on an image: the kernels, the block of feature maps, and
    the receptive field of any neuron.

    Parameters
    ----------
    image : str or array_like, default 'photo'
        A name of :func:`rfmaps.engine.images.sample` or your own ``(H, W[, C])``
        array (shrunk, with a notice, when a side exceeds 256 pixels).
    kernel_size : int, default 3
        1 to 11; its dilated span must fit the padded image.
    stride : int, default 1
        1 to 4.
    padding : int, default 0
        0 to 5.
    dilation : int, default 1
        1 to 4.
    kernels : int, default 4
        Number of kernels, hence of feature maps (1 to 256; fewer for an own
        image larger than 181 × 181, so the block stays near 32 MB). All of
        them are shown, as a mosaic.
    size : int, default 50
        Side of the sample images, in pixels (8 to 256): ``'photo (square)'``
        is then exactly 50 × 50 × 3.
    blit : bool, optional
        Redraw only the overlays when the selection moves; by default on for an
        interactive (ipympl) canvas.
    controls : list of str, optional
        The controls to show, from ``'image'``, ``'kernel_size'``, ``'stride'``,
        ``'padding'``, ``'dilation'``, ``'kernels'`` (default: all). The others
        keep their starting values; the map, row and col controls always show.

    Raises
    ------
    ValueError
        If a starting value is outside its range, the kernel does not fit, or
        ``controls`` names something else.

    Examples
    --------
    >>> explorer = ConvExplorer("disk", kernel_size=5, kernels=3)
    >>> explorer.select(10, 12, map=1)
    >>> explorer.selected, explorer.region
    ((0, 10, 12), ((10, 14), (12, 16)))

    The classic example, all 100 maps, with only the controls taught so far:

    >>> explorer = ConvExplorer("photo (square)", kernel_size=5, kernels=100,
    ...                         controls=["kernel_size", "kernels"])
    >>> explorer.input_size, explorer._state.maps.shape
    ((50, 50), (100, 46, 46))
    """

    figsize = (9.5, 4.2)
    tall_figsize = (9.5, 7.0)  # for more than ONE_ROW_MAPS maps
    selection_model = NeuronSelection(("map", "row", "col"))

    def __init__(self, image="photo", kernel_size: int = 3, stride: int = 1, padding: int = 0,
                 dilation: int = 1, kernels: int = 4, size: int = 50, *, blit: Optional[bool] = None,
                 controls: Optional[Sequence[str]] = None):
        given = dict(kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation, kernels=kernels)
        self._start = {name: check_int(value, name, *RANGES[name]) for name, value in given.items()}
        # Feature maps of one layer on one image; key: (image name, layer), where the
        # layer holds every setting (and so the kernels); the image name stands for the
        # image because sizes and the own image are fixed per explorer. Bound: 2 MB, two
        # blocks of 100 maps of 46 x 46 (a student's kernel holds every explorer's caches:
        # 8 MB here cost notebook 00 6 MiB of peak, benchmarks/kernel_memory.py; a larger
        # block, such as 256 maps, is recomputed, which takes about 4 ms).
        self._maps = Cache(2 * 2 ** 20)
        super().__init__(image, size, blit=blit, controls=controls)

    # --- controls -----------------------------------------------------------------
    def _make_controls(self):
        s = self._start
        return {
            "image": image_control(self._own_name),
            "kernel_size": slider("kernel size", s["kernel_size"], *RANGES["kernel_size"]),
            "stride": slider("stride", s["stride"], *RANGES["stride"]),
            "padding": slider("padding", s["padding"], *RANGES["padding"]),
            "dilation": slider("dilation", s["dilation"], *RANGES["dilation"]),
            # Up to 256 values: a longer track, so a drag can still land on each one.
            "kernels": slider("kernels", s["kernels"], *RANGES["kernels"], width="360px"),
            "map": slider("map", 0, 0, s["kernels"] - 1),
            "row": slider("neuron row", 0, 0, 0),
            "col": slider("neuron col", 0, 0, 0),
        }

    def _adapt_ranges(self):
        c, value = self.controls, self._value
        h, w = self._image().shape[:2]
        pad, dil = value("padding"), value("dilation")
        # Largest kernel whose dilated span still fits the padded input.
        fits = max(1, min(RANGES["kernel_size"][1], (min(h, w) + 2 * pad - 1) // dil + 1))
        # Most kernels whose maps stay within MAX_MAP_VALUES.
        most = max(1, min(MAX_KERNELS, MAX_MAP_VALUES // (h * w)))
        for name, high, why in (
                ("kernel_size", fits, f"with dilation={dil} and padding={pad} a larger kernel spans more than "
                                      f"the padded {h} × {w} image"),
                ("kernels", most, f"more maps of this {h} × {w} image would take over 32 MB")):
            # A fixed value that no longer fits cannot follow: the change is refused.
            if (self._state is None or name not in c) and value(name) > high:
                raise ValueError(f"{name} must be at most {high} here: {why}, got {value(name)}")
            if name in c:
                set_range(c[name], 1, high)

    def _map_count(self, state, layer):
        return len(state.maps)

    # --- state ------------------------------------------------------------------------
    def _compute(self):
        value = self._value
        image = self._image()
        channels = 1 if image.ndim == 2 else image.shape[2]
        layer = Conv2d(channels, value("kernels"), value("kernel_size"), stride=value("stride"),
                       padding=value("padding"), dilation=value("dilation"))
        rows = receptive_fields([layer], image.shape[:2])
        maps = self._maps.get((value("image"), layer), lambda: frozen(feature_maps([layer], image)[0]))
        return _State((layer,), image.shape[:2], rows, image, maps, layer_weights([layer])[0])

    # --- figure ---------------------------------------------------------------------------
    def _build(self):
        fig = self.figure
        self._ax_in, self._ax_k, self._ax_maps = (fig.add_subplot() for _ in range(3))
        self._tall = None
        self._input_art, self._pad_frame = drawing.show_input(self._ax_in, np.zeros((2, 2)), "input")
        self._kernel_art = self._ax_k.imshow(np.zeros((1, 1)), cmap=drawing.MAP_CMAP, vmin=-1, vmax=1,
                                             interpolation="nearest")
        self._map_art = self._ax_maps.imshow(np.zeros((1, 1)), cmap=drawing.MAP_CMAP, vmin=-1, vmax=1,
                                             interpolation="nearest")
        for ax in (self._ax_k, self._ax_maps):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_facecolor("white")
        drawing.colour_bar(self._ax_maps, drawing.MAP_CMAP, "−1", "+1", "each kernel and map ÷ its largest |value|")
        self._rf_box = drawing.outline(self._ax_in)
        self._taps = self._ax_in.scatter([], [], **drawing.TAPS)
        # The selected kernel and map get a dashed frame, the neuron a dotted box and a ring
        # of fixed size around it: with 100 maps a neuron is about one screen pixel wide.
        self._kernel_box = drawing.outline(self._ax_k, meaning="selected map")
        self._tile_box = drawing.outline(self._ax_maps, meaning="selected map")
        self._neuron_box = drawing.outline(self._ax_maps, meaning="neuron")
        self._neuron_ring = drawing.ring(self._ax_maps)
        # What each mark means, in words under the panels (shape and line style tell them apart).
        drawing.key(fig, [("field", "receptive field"), ("taps", "kernel taps"),
                          ("selected map", "selected kernel and map"), ("ring", "selected neuron")])

    def _selection_artists(self):
        return [self._rf_box, self._taps, self._kernel_box, self._tile_box, self._neuron_box, self._neuron_ring]

    def _arrange(self, tall: bool) -> None:
        """Panels in one row for a few maps; for many, the maps fill the right of a taller figure."""
        if tall == self._tall:
            return
        self._tall = tall
        fig = self.figure
        fig.set_size_inches(*(self.tall_figsize if tall else self.figsize), forward=True)
        # Margins in inches: left for the row numbers, above for the titles, below for the
        # column numbers, the colour bar and the key.
        height = fig.get_figheight()
        left, right, top, bottom = 0.45 / 9.5, 1 - 0.1 / 9.5, 1 - 0.35 / height, 1.0 / height
        if tall:
            grid = fig.add_gridspec(2, 2, width_ratios=[1, 2], left=left, right=right, bottom=bottom,
                                    top=top, wspace=0.08, hspace=0.25)
            spots = grid[0, 0], grid[1, 0], grid[:, 1]
        else:
            grid = fig.add_gridspec(1, 3, width_ratios=[1, 0.55, 1.25], left=left, right=right,
                                    bottom=bottom, top=top, wspace=0.12)
            spots = grid[0, 0], grid[0, 1], grid[0, 2]
        for ax, spot in zip((self._ax_in, self._ax_k, self._ax_maps), spots):
            ax.set_subplotspec(spot)

    def _draw(self, state: _State):
        layer = state.layers[0]
        self._arrange(len(state.maps) > ONE_ROW_MAPS)
        drawing.set_image(self._input_art, state.image, limits=False)
        drawing.set_padding(self._ax_in, self._pad_frame, state.input_size, layer.pads)
        drawing.pixel_ticks(self._ax_in, state.input_size)  # the readout quotes input rows and columns
        channels = layer.in_channels
        drawing.title(self._ax_in, f"input {size_text(state.input_size)} × {channels}")
        kernels, self._k_cols, self._k_gap = drawing.kernel_mosaic(state.kernels, gap=1)
        drawing.set_image(self._kernel_art, kernels)
        k = layer.kernel_size[0]
        drawing.title(self._ax_k, f"{len(state.kernels)} kernels {k} × {k} × {channels}")
        tiles, self._cols, self._gap = drawing.mosaic(state.maps)
        drawing.set_image(self._map_art, tiles)
        n, h, w = state.maps.shape
        drawing.title(self._ax_maps, f"output: {n} map{'s' if n > 1 else ''} of {h} × {w}")
        self._caption.value = (
            f"Input: {size_text(state.input_size)} pixels × {channels} channel{'s' if channels > 1 else ''}"
            + (" (zero padding hatched)" if any(layer.pads[0] + layer.pads[1]) else "")
            + (". Kernels are shown in colour: a kernel's weights for the red, green and blue channel drive "
               "its tile's red, green and blue (mid-gray 0, brighter positive, darker negative), so a gray "
               "tile weighs the channels alike and a coloured one tells colours apart. Each feature map is "
               if channels == 3 else ". Kernels are shown summed over their channels; each kernel and each "
               "feature map is ")
            + "scaled to its own largest |value| (orange positive, purple negative).<br>"
            "Output size, ⌊(n + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1, with the numbers set now: "
            f"height {output_size_formula(layer, state.input_size[0], 0)}, "
            f"width {output_size_formula(layer, state.input_size[1], 1)}.")

    # --- selection ------------------------------------------------------------------------
    def select(self, row: int, col: int, layer: int = -1, map: Optional[int] = None) -> None:
        """Select neuron ``(row, col)`` of feature map ``map`` (the map on show by default).

        ``layer`` may be 0 or -1: this explorer has one layer.
        """
        self._guarded(self._apply_selection, row, col, layer, map)

    def _click(self, event):
        if event.inaxes is not self._ax_maps:
            return None
        n, h, w = self._state.maps.shape
        hit = drawing.tile_at(event.xdata, event.ydata, (h, w), n, self._cols, self._gap)
        return None if hit is None else (hit[1], hit[2], 0, hit[0])

    def _draw_selection(self):
        state, (_, row, col, index) = self._state, self._selection
        layer = state.layers[0]
        n, h, w = state.maps.shape
        region = self.region  # only the pixels the neuron reads: never the padding
        drawing.set_region(self._rf_box, region)
        kh, kw = layer.kernel_size
        dh, dw = layer.dilation
        tap_rows, tap_cols = tap_positions(layer, (row, col))  # the layer says where each tap reads
        ys, xs = np.meshgrid(np.array(tap_rows), np.array(tap_cols), indexing="ij")
        self._taps.set_offsets(np.column_stack([xs.ravel(), ys.ravel()]))  # taps on padding show there
        top_left = drawing.tile_offset(index, (h, w), self._cols, self._gap)
        drawing.set_region(self._neuron_box, ((row, row), (col, col)), top_left)
        drawing.set_region(self._tile_box, ((0, h - 1), (0, w - 1)), top_left)
        self._neuron_ring.set_offsets([[top_left[1] + col, top_left[0] + row]])
        drawing.set_region(self._kernel_box, ((0, kh - 1), (0, kw - 1)),
                           drawing.tile_offset(index, (kh, kw), self._k_cols, self._k_gap))
        inside = ((ys >= 0) & (ys < state.input_size[0]) & (xs >= 0) & (xs < state.input_size[1]))
        on_padding = int((~inside).sum())
        channels = layer.in_channels
        name = bank_names(n, layer.in_channels)[index] if layer.weight is None else f"kernel {index}"
        span = layer.effective_kernel_size
        holes = (f" Dilation {dh} spreads its {kh} × {kw} taps (dots) over {span[0]} × {span[1]} pixels, "
                 f"skipping the pixels in between." if dh > 1 else "")
        padding = (f" {on_padding} of its {kh * kw} taps fall on zero padding." if on_padding else "")
        reads = ("It reads only zero padding" if region is None else
                 f"It reads input rows {region[0][0]} to {region[0][1]} and columns {region[1][0]} to "
                 f"{region[1][1]} (outlined)")
        self._readout.value = (
            f"<b>Neuron (row {row}, col {col}) of feature map {index}</b> ({name}) has value "
            f"{state.maps[index, row, col]:.3f}. {reads}: a {kh} × {kw} window "
            f"{f'through all {channels} channels' if channels > 1 else 'of its one channel'}, so it weighs "
            f"{kh} × {kw} × {channels} = {kh * kw * channels} input values.{holes}{padding}"
            f"<br>Every one of the {n} maps has a neuron at this position with the same receptive "
            f"field; they differ only in the kernel they apply."
        )
