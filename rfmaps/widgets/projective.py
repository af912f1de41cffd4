"""ProjectiveExplorer: click an input pixel, see which neurons of every layer it reaches."""

from __future__ import annotations

import html
from typing import NamedTuple, Optional, Tuple

import numpy as np

from ..drawing import figures as drawing
from ..arithmetic.connectivity import forward_path_counts
from ..drawing.explain import size_text
from ..layers import Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Upsample
from .._core.geometry import nearest_index
from .._core.validation import check_position
from ..arithmetic.receptive_field import projective_field, receptive_fields
from ._base import Cache, Explorer, PixelSelection, check_choice, slider

__all__ = ["ProjectiveExplorer", "STACKS"]


def _stacks():
    """Named single-channel stacks, each a lesson about the projective field."""
    return {
        "transposed conv k3 s2, twice (checkerboard)": (
            [ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1),
             ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)], 6),
        "transposed conv k4 s2, twice (even overlap)": (
            [ConvTranspose2d(1, 1, 4, stride=2, padding=1), ConvTranspose2d(1, 1, 4, stride=2, padding=1)], 6),
        "upsample x2 then conv 3x3, twice": (
            [Upsample(2), Conv2d(1, 1, 3, padding=1), Upsample(2), Conv2d(1, 1, 3, padding=1)], 6),
        "encoder-decoder (U-Net style)": (
            [Conv2d(1, 1, 3, padding=1), MaxPool2d(2), Conv2d(1, 1, 3, padding=1),
             ConvTranspose2d(1, 1, 2, stride=2), Conv2d(1, 1, 3, padding=1)], 12),
        "conv 3x3 stride 2, twice": (
            [Conv2d(1, 1, 3, stride=2, padding=1), ReLU(), Conv2d(1, 1, 3, stride=2, padding=1)], 16),
    }


STACKS = tuple(_stacks())
MAX_PANELS = 6  # the input and up to five layers with a spatial change


class _State(NamedTuple):
    layers: tuple
    input_size: Tuple[int, int]
    shown: tuple  # indices of the layers drawn (every layer whose geometry changes)
    rows: tuple
    stack: str


class ProjectiveExplorer(Explorer):
    """The projective field: the neurons of each layer whose value depends on one input pixel.

    The dual of the receptive field, and the dual of the other explorers'
    selection: here ``select(row, col)`` picks an *input pixel*, ``selected``
    is that pixel and ``region`` its projective field on the last layer. Each
    panel shows, for one layer, how many paths join the pixel to each neuron
    (:func:`rfmaps.forward_path_counts`), with the projective field
    (:func:`rfmaps.projective_field`) outlined. A transposed convolution
    whose kernel size is not a multiple of its stride reaches neighbouring
    neurons by different numbers of paths: the checkerboard of Odena et al.

    Parameters
    ----------
    stack : str, default the first of :data:`STACKS`
    pixel : (int, int), optional
        The input pixel chosen first; by default the pixel nearest the image's
        centre (halves go to the lower index, the rule of
        :func:`rfmaps._core.geometry.nearest_index`).

    Examples
    --------
    >>> explorer = ProjectiveExplorer()
    >>> explorer.select(2, 3)
    >>> explorer.selected, explorer.field(-1)
    ((2, 3), ((5, 11), (9, 15)))
    """

    figsize = (10, 3.2)

    def __init__(self, stack: str = STACKS[0], pixel: Optional[Tuple[int, int]] = None, *,
                 blit: Optional[bool] = None):
        self._first = check_choice(stack, "stack", STACKS)
        size = _stacks()[stack][1]
        if pixel is not None:  # numpy ints are whole numbers too, as everywhere else
            pixel = check_position(pixel, (size, size), "pixel")
        self.selection_model = PixelSelection(pixel)  # the pixel chosen first; by default the centre
        # Path counts. Key: (stack name, pixel, layer index): the name stands for the layers and the input
        # size (both fixed per name), the pixel and the layer pick one panel's counts. Bound: 4 MB; each
        # value is at most 24 x 24 int64 (4.6 kB).
        self._counts = Cache(4 * 2 ** 20)
        super().__init__(None, blit=blit)

    # --- controls -------------------------------------------------------------------------
    def _make_controls(self):
        import ipywidgets as widgets

        return {
            "row": slider("pixel row", 0, 0, 0),
            "col": slider("pixel col", 0, 0, 0),
            "stack": widgets.Dropdown(options=STACKS, value=self._first, description="stack",
                                      layout=widgets.Layout(width="420px")),
        }

    # --- state ----------------------------------------------------------------------------
    def _compute(self):
        name = self.controls["stack"].value
        layers, size = _stacks()[name]
        rows = receptive_fields(layers, size)
        shown = tuple(i for i, row in enumerate(rows) if not isinstance(row.layer, ReLU))[-(MAX_PANELS - 1):]
        return _State(tuple(layers), (size, size), shown, tuple(rows), name)

    # --- the selection is an input pixel (PixelSelection) -----------------------------------
    @property
    def pixel(self) -> Tuple[int, int]:
        """The chosen input pixel ``(row, col)``."""
        return (self._selection.row, self._selection.col)

    @property
    def selected(self) -> Tuple[int, int]:
        """The chosen input pixel, as ``pixel``."""
        return self.pixel

    @property
    def region(self):
        """The projective field on the last layer (neuron coordinates), or None."""
        return self.field(-1)

    def field(self, layer: int = -1):
        """:func:`rfmaps.projective_field` of the chosen pixel on ``layers[layer]``."""
        return projective_field(self.layers, self.pixel, self.input_size, layer=layer)

    def select(self, row: int, col: int, layer: int = -1) -> None:
        """Choose input pixel ``(row, col)`` (``layer`` is always -1: the input)."""
        self._guarded(self._apply_selection, row, col, layer)

    def _click(self, event):
        if event.inaxes is not self._axes[0]:
            return None
        h, w = self._state.input_size  # the pixel under the click (one tie rule, in geometry)
        return nearest_index(event.ydata, h), nearest_index(event.xdata, w), -1

    # --- figure ---------------------------------------------------------------------------
    def _build(self):
        self._axes = [self.figure.add_subplot(1, MAX_PANELS, i + 1) for i in range(MAX_PANELS)]
        self._panels = None  # how many panels the layout is for (see _arrange)
        self._arts = []
        for ax in self._axes:
            self._arts.append(ax.imshow(np.zeros((1, 1)), cmap=drawing.HEAT_CMAP, vmin=0, vmax=1,
                                        interpolation="nearest"))
            ax.set_xticks([])
            ax.set_yticks([])
        # The chosen pixel is marked like a selected neuron (dotted box and ring), the
        # projective fields by solid outlines: shapes and line styles, not colour alone.
        self._boxes = [drawing.outline(self._axes[0], meaning="neuron")]
        self._boxes += [drawing.outline(ax) for ax in self._axes[1:]]
        self._pixel_ring = drawing.ring(self._axes[0])
        # Each layer's colour bar says what the colour counts, from 0 to that panel's largest count.
        self._bars = [drawing.colour_bar(ax, drawing.HEAT_CMAP, "0", "1", "paths from the pixel")
                      for ax in self._axes[1:]]
        drawing.key(self.figure, [("ring", "chosen input pixel"), ("field", "its projective field")])

    def _selection_artists(self):
        # A new pixel also changes every panel's counts, colour bar and title: those are not declared,
        # so the base draws the whole figure (only the outlines and the ring would blit).
        return self._boxes + [self._pixel_ring]

    def _arrange(self, panels: int) -> None:
        """The figure as wide as its panels (sizes in inches): titles above; below, each panel's
        colour bar and then the key."""
        if panels == self._panels:
            return
        self._panels = panels
        gap, edge, top, bottom = 0.25, 0.1, 0.35, 0.9
        # Panels share about 9.5 inches (a notebook's width), each from 1.45 inches (six panels)
        # to 2.4 (three): at 1.45 inches for three, a 6 x 6 input and its marker were too small
        # to read on a projector, and the figure was 5 inches wide.
        side = min(2.4, max(1.45, (9.5 - 2 * edge - (panels - 1) * gap) / panels))
        width, height = max(2 * edge + panels * side + (panels - 1) * gap, 4.4), top + side + bottom
        used = panels * side + (panels - 1) * gap  # centred when the key needs a wider figure
        self.figure.set_size_inches(width, height, forward=True)
        grid = self.figure.add_gridspec(1, panels, left=(width - used) / 2 / width,
                                        right=1 - (width - used) / 2 / width, bottom=bottom / height,
                                        top=1 - top / height, wspace=gap / side)
        for i, ax in enumerate(self._axes[:panels]):
            ax.set_subplotspec(grid[0, i])

    def _draw(self, state: _State):
        self._arrange(len(state.shown) + 1)
        for i, ax in enumerate(self._axes):
            ax.set_visible(i <= len(state.shown))
        self._caption.value = (
            "Click a pixel of the input (left) or move the sliders. Each panel is one layer: the brightness "
            "of a neuron is how many paths join it to that pixel, and the outline is the projective field. "
            "Uneven brightness inside the outline is uneven overlap, the checkerboard.")

    def _panel(self, ax, art, grid, heading):
        drawing.set_image(art, grid)
        top = max(1, int(grid.max()))
        art.set_clim(0, top)
        drawing.title(ax, heading)
        if ax is not self._axes[0]:
            drawing.set_colour_bar(self._bars[self._axes.index(ax) - 1], "0", str(top))

    def _counts_for(self, index):
        state = self._state
        key = (state.stack, self.pixel, index)
        return self._counts.get(key, lambda: forward_path_counts(state.layers, self.pixel, state.input_size,
                                                                  layer=index))

    def _draw_selection(self):
        state = self._state
        impulse = np.zeros(state.input_size)
        impulse[self.pixel] = 1
        self._panel(self._axes[0], self._arts[0], impulse, f"input {size_text(state.input_size)}")
        drawing.set_region(self._boxes[0], ((self.pixel[0],) * 2, (self.pixel[1],) * 2))
        self._pixel_ring.set_offsets([[self.pixel[1], self.pixel[0]]])
        parts = []
        for panel, index in enumerate(state.shown, start=1):
            counts = self._counts_for(index).astype(float)
            row = state.rows[index]
            name = type(row.layer).__name__.replace("Transpose", "T")
            self._panel(self._axes[panel], self._arts[panel], counts, f"{index}: {name} {size_text(row.output_size)}")
            field = self.field(index)
            drawing.set_region(self._boxes[panel], field)
            reached = counts[counts > 0]
            if field is None:
                parts.append(f"layer {index}: no neuron")
            else:
                parts.append(f"layer {index}: rows {field[0][0]}–{field[0][1]}, cols {field[1][0]}–{field[1][1]}"
                             f" (paths {int(reached.min())} to {int(reached.max())})")
        self._readout.value = (f"<b>Pixel (row {self.pixel[0]}, col {self.pixel[1]})</b> reaches "
                               + html.escape("; ".join(parts)) + ".")
