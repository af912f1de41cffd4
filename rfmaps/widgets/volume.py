"""VolumeExplorer: one convolution layer as volumes, the picture of the Q&A it grew from.

The input is an ``H x W x C`` block, one kernel is a ``k x k x C`` box that
reaches through every channel, and the layer's output is a block of ``n``
feature maps, one per kernel. Clicking a neuron on the output's front face
lights the ``k x k x C`` window it reads in the input block.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from ..drawing import figures as drawing
from ..engine.maps import feature_maps
from ..drawing.explain import size_text
from ..engine.kernels import layer_weights
from ..layers import Conv2d
from ..arithmetic.receptive_field import receptive_fields
from ..drawing.volumes import CHANNEL_CMAPS, Volume, box_path, draw_volume, highlight_line
from ._base import Cache, Explorer, NeuronSelection, check_int, frozen, image_control, slider

__all__ = ["VolumeExplorer"]

RANGES = dict(kernel_size=(1, 11), kernels=(1, 256), stride=(1, 4), padding=(0, 5))


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    rows: tuple
    image: np.ndarray  # (C, H, W)
    maps: np.ndarray  # (n, h, w)
    kernels: np.ndarray  # (n, C, k, k)


def _move_volume(ax, artists: dict, volume: Volume, planes: np.ndarray) -> None:
    """Give the artists :func:`draw_volume` made a new ``volume``: faces, slice images, front, limits.

    ``planes`` holds the front picture first, then one per slice drawn as an image. Updating in place
    is cheaper than new artists on every change, and keeps their order, so the picture is the one a
    fresh explorer draws (tests/test_pixels.py).
    """
    artists["faces"].set_verts([volume.corners(i, (0, volume.height - 1), (0, volume.width - 1))
                                for i in range(volume.depth - 1, 0, -1)])
    for art, i in zip(artists["images"], range(volume.depth - 1, 0, -1)):
        art.set_data(planes[i])
        art.set_extent(volume.extent(i))
    artists["front"].set_data(planes[0])
    artists["front"].set_extent(volume.extent(0))
    xlim, ylim = volume.limits()
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)


class VolumeExplorer(Explorer):
    """One convolution drawn as volumes: input block, kernel box, block of feature maps.

    Parameters
    ----------
    image : str or array_like, default 'photo'
        A sample name (the photo is cropped square, so ``size=50`` gives the
        Q&A's 50 × 50 × 3 image) or your own ``(H, W[, C])`` array.
    kernel_size : int, default 5
        1 to 11.
    kernels : int, default 100
        Number of kernels, hence of feature maps: 1 to 256.
    stride, padding : int
        1 to 4, and 0 to 5.
    size : int, default 50
        Side of the sample images, in pixels.

    Examples
    --------
    >>> explorer = VolumeExplorer()
    >>> explorer.layers[0], explorer.parameters
    (Conv2d(3, 100, kernel_size=5), 7600)
    >>> explorer.select(10, 20, map=7)
    >>> explorer.selection.map, explorer.region
    (7, ((10, 14), (20, 24)))
    """

    figsize = (10, 4.0)
    selection_model = NeuronSelection(("map", "row", "col"))

    def __init__(self, image="photo", kernel_size: int = 5, kernels: int = 100, stride: int = 1,
                 padding: int = 0, size: int = 50, *, blit: Optional[bool] = None):
        given = dict(kernel_size=kernel_size, kernels=kernels, stride=stride, padding=padding)
        self._start = {name: check_int(value, name, *RANGES[name]) for name, value in given.items()}
        # Feature maps. Key: (image name, layer): the layer holds every setting (and so the kernels), the
        # name stands for the image (the size and the own image are fixed per explorer). Bound: 8 MB
        # (256 maps of 60 x 60 float32 take 3.7 MB; 32 MB took notebook 01 past 150 MB).
        self._maps = Cache(8 * 2 ** 20)
        super().__init__(image, size, blit=blit)

    # --- controls and state -------------------------------------------------------------------
    def _make_controls(self):
        s = self._start
        return {
            "image": image_control(self._own_name),
            "kernel_size": slider("kernel size", s["kernel_size"], *RANGES["kernel_size"]),
            "kernels": slider("kernels", s["kernels"], *RANGES["kernels"]),
            "stride": slider("stride", s["stride"], *RANGES["stride"]),
            "padding": slider("padding", s["padding"], *RANGES["padding"]),
            "map": slider("map", 0, 0, s["kernels"] - 1),
            "row": slider("neuron row", 0, 0, 0),
            "col": slider("neuron col", 0, 0, 0),
        }

    def _image(self):
        """The photo is cropped square here: the volumes are drawn as square blocks."""
        return self._source.get(self._value("image"), square=True)

    def _map_count(self, state, layer):
        return len(state.maps)

    def _compute(self):
        c = self.controls
        image = self._image()
        channels = 1 if image.ndim == 2 else image.shape[2]
        layer = Conv2d(channels, c["kernels"].value, c["kernel_size"].value, stride=c["stride"].value,
                       padding=c["padding"].value)
        rows = receptive_fields([layer], image.shape[:2])  # refuses a kernel larger than the padded image
        maps = self._maps.get((c["image"].value, layer), lambda: frozen(feature_maps([layer], image)[0]))
        planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
        return _State((layer,), image.shape[:2], rows, planes, maps, layer_weights([layer])[0])

    @property
    def parameters(self) -> int:
        """Weights and biases of the layer: ``(k·k·C + 1)·n``."""
        return self.layers[0].parameter_count

    # --- figure ---------------------------------------------------------------------------------
    def _build(self) -> None:
        width, height = self.figsize  # margins in inches: titles above, the key below
        grid = self.figure.add_gridspec(1, 3, width_ratios=[1, 0.5, 1.1], left=0.1 / width, right=1 - 0.1 / width,
                                        bottom=0.45 / height, top=1 - 0.4 / height, wspace=0.05)
        self._axes = [self.figure.add_subplot(grid[0, i]) for i in range(3)]
        # Each mark has its own line style (solid window, dash-dot column, dashed map, dotted
        # neuron with a ring), so none is told apart by colour alone; the key names them.
        self._window = highlight_line(self._axes[0])
        self._column = highlight_line(self._axes[2], color=drawing.DARK, linestyle=(0, (6, 2, 1, 2)))
        style = drawing.STYLES["selected map"]
        self._slice = highlight_line(self._axes[2], color=style["edgecolor"], linestyle=style["linestyle"],
                                     linewidth=style["linewidth"], path_effects=drawing.halo(style["linewidth"]))
        self._marker = drawing.outline(self._axes[2], meaning="neuron")
        self._ring = None  # made in _draw: a change of sizes removes every collection of the output axes
        drawing.key(self.figure, [("field", "window the neuron reads"),
                                  (self._column, "the neurons at its position, one per map"),
                                  ("selected map", "selected map"), ("ring", "selected neuron")])
        self._kernel_arts: list = []
        self._front = None
        self._volumes: tuple = ()  # draw_volume's artists (input, kernel, output), moved by later draws

    def _draw(self, state: _State):
        channels, (h, w) = len(state.image), state.input_size
        n, oh, ow = state.maps.shape
        k = state.layers[0].kernel_size[0]
        self._in_volume = Volume(h, w, channels)
        self._k_volume = Volume(k, k, channels, span=0.4 * k if channels > 1 else 0.0)
        self._out_volume = Volume(oh, ow, n)
        if self._ring is not None and len(self._volumes[0]["images"]) == channels - 1:
            # The same number of slices drawn as images: move and refill the artists in place.
            for ax, artists, volume, planes in zip(
                    self._axes, self._volumes, (self._in_volume, self._k_volume, self._out_volume),
                    (state.image, np.zeros((channels, k, k)), np.zeros((1, oh, ow)))):
                _move_volume(ax, artists, volume, planes)
            self._describe(state)
            return
        for ax in self._axes:  # another number of channels: new artists
            for artist in list(ax.images) + list(ax.collections):
                artist.remove()
        cmaps = CHANNEL_CMAPS if channels == 3 else None
        drawn = draw_volume(self._axes[0], self._in_volume, state.image[0], images=state.image, cmaps=cmaps)
        artists = draw_volume(self._axes[2], self._out_volume, np.zeros((oh, ow)), cmap=drawing.MAP_CMAP,
                              vmin=-1, vmax=1)
        self._front = artists["front"]
        self._kernel_arts = []  # drawn in _draw_selection: the kernel of the selected map
        kernel = draw_volume(self._axes[1], self._k_volume, np.zeros((k, k)), cmap=drawing.MAP_CMAP,
                             vmin=-1, vmax=1, images=np.zeros((channels, k, k)))
        self._kernel_arts = [kernel["front"], *reversed(kernel["images"])]  # slice 0, 1, 2, ...
        self._ring = drawing.ring(self._axes[2])
        self._volumes = (drawn, kernel, artists)
        self._describe(state)

    def _selection_artists(self):
        # The selected map's front face and kernel are drawn in _draw (None before the first one).
        made = [self._front, *self._kernel_arts, self._ring] if self._ring is not None else []
        return [self._window, self._column, self._slice, self._marker, *made]

    def _describe(self, state: _State) -> None:
        """Titles and caption of the state drawn."""
        channels, (h, w) = len(state.image), state.input_size
        n, oh, ow = state.maps.shape
        k = state.layers[0].kernel_size[0]
        plural = "s" if n > 1 else ""
        drawing.title(self._axes[0], f"input {size_text((h, w))} × {channels}")
        drawing.title(self._axes[1], f"one kernel {k} × {k} × {channels}")
        drawing.title(self._axes[2], f"output {oh} × {ow} × {n}: {n} map{plural}")
        layer = state.layers[0]
        self._caption.value = (
            f"<b>{n} kernel{plural} of {k} × {k} × {channels} give {n} feature map{plural} of {oh} × {ow}.</b> "
            f"Each kernel reaches through all {channels} input channel{'s' if channels > 1 else ''}; sliding it "
            f"over the image gives one map, so the output is a block {n} maps deep. Parameters: "
            f"({k}·{k}·{channels} + 1)·{n} = {layer.parameter_count:,} (weights plus one bias per kernel).<br>"
            "Names you will meet: a <i>feature map</i> is also called an <i>activation map</i>, a "
            "<i>channel</i> or a <i>depth slice</i> of the output; a <i>kernel</i> is also called a "
            "<i>filter</i>. Click a neuron on the front face of the output block; the map slider brings "
            "another map to the front.")

    def select(self, row: int, col: int, layer: int = -1, map: Optional[int] = None) -> None:
        """Select neuron ``(row, col)`` of feature map ``map`` (the map on show by default)."""
        self._guarded(self._apply_selection, row, col, layer, map)

    def _click(self, event):
        if event.inaxes is not self._axes[2]:
            return None
        hit = self._out_volume.pixel_at(event.xdata, event.ydata)
        return None if hit is None else (hit[0], hit[1], 0)

    def _draw_selection(self):
        state, selection = self._state, self._selection
        index, row, col = selection.map, selection.row, selection.col
        n, oh, ow = state.maps.shape
        one = state.maps[index]
        scale = np.abs(one).max()
        self._front.set_data(one / scale if scale > 0 else one)
        kernel = state.kernels[index]
        limit = np.abs(kernel).max() or 1.0
        for art, plane in zip(self._kernel_arts, kernel):
            art.set_data(plane)
            art.set_clim(-limit, limit)
        channels = len(state.image)
        region = self.region
        self._window.set_data(*(box_path(self._in_volume, *region, (0, channels - 1)).T
                                if region is not None else ([], [])))
        self._column.set_data(*box_path(self._out_volume, (row, row), (col, col), (0, n - 1)).T)
        self._slice.set_data(*box_path(self._out_volume, (0, oh - 1), (0, ow - 1), (index, index)).T)
        drawing.set_region(self._marker, ((row, row), (col, col)))
        self._ring.set_offsets([[col, row]])
        k = state.layers[0].kernel_size[0]
        where = ("only zero padding" if region is None else
                 f"input rows {region[0][0]} to {region[0][1]} and columns {region[1][0]} to {region[1][1]}")
        self._readout.value = (
            f"<b>Neuron (row {row}, col {col}) of feature map {index}</b> has value {one[row, col]:.3f}. "
            f"It reads a {k} × {k} × {channels} window, {where}, through every channel (the box on the "
            f"input); kernel {index} (middle) gives its weights. The line through the output block marks "
            f"the {n} neurons at this position, one per map: they read the same window with different "
            f"kernels.")
