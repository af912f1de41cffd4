"""ProjectiveExplorer: click an input pixel, see which neurons of every layer it reaches."""

from __future__ import annotations

import html
from typing import NamedTuple, Optional, Tuple

import numpy as np

from .. import drawing
from ..connectivity import forward_path_counts
from ..explain import size_text
from ..layers import Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Upsample
from ..receptive_field import projective_field, receptive_fields
from ..validation import check_position
from ._base import Cache, Explorer, set_range, slider

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


class ProjectiveExplorer(Explorer):
    """The projective field: the neurons of each layer whose value depends on one input pixel.

    The dual of the receptive field. Each panel shows, for one layer, how
    many paths join the chosen input pixel to each neuron
    (:func:`rfmaps.forward_path_counts`), with the projective field
    (:func:`rfmaps.projective_field`) outlined. A transposed convolution
    whose kernel size is not a multiple of its stride reaches neighbouring
    neurons by different numbers of paths: the checkerboard of Odena et al.

    Parameters
    ----------
    stack : str, default the first of :data:`STACKS`
    pixel : (int, int), optional
        The input pixel chosen first; by default the centre.

    Examples
    --------
    >>> explorer = ProjectiveExplorer()
    >>> explorer.select(2, 3)
    >>> explorer.field(-1)
    ((5, 11), (9, 15))
    """

    figsize = (10, 2.6)

    def __init__(self, stack: str = STACKS[0], pixel: Optional[Tuple[int, int]] = None, *,
                 blit: Optional[bool] = None):
        if stack not in STACKS:
            raise ValueError(f"stack must be one of {', '.join(map(repr, STACKS))}, got {stack!r}")
        self._start = stack
        self._pixel = "centre" if pixel is None else pixel
        self._counts = Cache(64)
        super().__init__(blit=blit)

    # --- controls -------------------------------------------------------------------------
    def _make_controls(self):
        import ipywidgets as widgets

        return {
            "row": slider("pixel row", 0, 0, 0),
            "col": slider("pixel col", 0, 0, 0),
            "stack": widgets.Dropdown(options=STACKS, value=self._start, description="stack",
                                      layout=widgets.Layout(width="420px")),
        }

    def _adapt_ranges(self):
        _, size = _stacks()[self.controls["stack"].value]
        set_range(self.controls["row"], 0, size - 1)
        set_range(self.controls["col"], 0, size - 1)
        if self._pixel is not None:  # the first picture: the pixel asked for, else the centre
            self.controls["row"].value, self.controls["col"].value = (
                (size // 2, size // 2) if self._pixel == "centre" else self._pixel)
            self._pixel = None

    # --- state ----------------------------------------------------------------------------
    def _compute(self):
        layers, size = _stacks()[self.controls["stack"].value]
        rows = receptive_fields(layers, size)
        shown = tuple(i for i, row in enumerate(rows) if type(row.layer).__name__ != "ReLU")[-(MAX_PANELS - 1):]
        return _State(tuple(layers), (size, size), shown, tuple(rows))

    # --- figure ---------------------------------------------------------------------------
    def _build(self):
        grid = self.figure.add_gridspec(1, MAX_PANELS, left=0.01, right=0.99, bottom=0.02, top=0.85, wspace=0.12)
        self._axes = [self.figure.add_subplot(grid[0, i]) for i in range(MAX_PANELS)]
        self._arts = []
        for ax in self._axes:
            self._arts.append(ax.imshow(np.zeros((1, 1)), cmap=drawing.HEAT_CMAP, vmin=0, vmax=1,
                                        interpolation="nearest"))
            ax.set_xticks([])
            ax.set_yticks([])
        self._boxes = [drawing.outline(ax) for ax in self._axes]

    def _draw(self, state: _State):
        for i, ax in enumerate(self._axes):
            ax.set_visible(i <= len(state.shown))
        self._caption.value = (
            "Click a pixel of the input (left) or move the sliders. Each panel is one layer: the brightness "
            "of a neuron is how many paths join it to that pixel, and the outline is the projective field. "
            "Uneven brightness inside the outline is uneven overlap, the checkerboard.")

    def _panel(self, ax, art, grid, heading):
        art.set_data(grid)
        art.set_clim(0, max(1, grid.max()))
        art.set_extent((-0.5, grid.shape[1] - 0.5, grid.shape[0] - 0.5, -0.5))
        ax.set_xlim(-0.5, grid.shape[1] - 0.5)
        ax.set_ylim(grid.shape[0] - 0.5, -0.5)
        drawing.title(ax, heading)

    # --- selection ------------------------------------------------------------------------
    @property
    def pixel(self) -> Tuple[int, int]:
        """The chosen input pixel ``(row, col)``."""
        return (self.controls["row"].value, self.controls["col"].value)

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

    def select(self, row: int, col: int) -> None:
        """Choose input pixel ``(row, col)``."""
        self._guarded(self._select, row, col)

    def _select(self, row, col):
        row, col = check_position((row, col), self.input_size, "pixel")
        self._quiet, quiet = True, self._quiet
        try:
            self.controls["row"].value, self.controls["col"].value = row, col
        finally:
            self._quiet = quiet
        self._draw_selection()
        self._show(full=True)

    def _on_change(self, change):
        if self._quiet:
            return
        if change["owner"] in (self.controls["row"], self.controls["col"]):
            self._guarded(self._select, self.controls["row"].value, self.controls["col"].value)
        else:
            self._guarded(self._refresh)

    def _click(self, event):
        if event.inaxes is not self._axes[0]:
            return
        self._select(int(np.floor(event.ydata + 0.5)), int(np.floor(event.xdata + 0.5)))

    def _counts_for(self, index):
        key = (self.controls["stack"].value, self.pixel, index)
        return self._counts.get(key, lambda: forward_path_counts(self.layers, self.pixel, self.input_size,
                                                                  layer=index))

    def _draw_selection(self):
        state = self._state
        impulse = np.zeros(state.input_size)
        impulse[self.pixel] = 1
        self._panel(self._axes[0], self._arts[0], impulse, f"input {size_text(state.input_size)}")
        drawing.set_region(self._boxes[0], ((self.pixel[0],) * 2, (self.pixel[1],) * 2))
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
