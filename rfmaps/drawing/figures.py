"""Drawing helpers: matplotlib only, no widgets.

The explorers build their figure once with these helpers and afterwards
only change artists in place (``set_data``, ``set_bounds``...).
Colours are colour-blind safe: maps use the diverging ``PuOr_r`` (purple for
negative, orange for positive), heat maps ``viridis``. Outlines are a
vermilion line edged in near-black inside a white halo (:func:`halo`): the
dark edge shows on bright and orange pixels, the halo on dark ones, so an
outline stands out on every colour map. Outlines that mean different things
also differ in line style or shape (:data:`STYLES`), never in colour alone.

Every text of a figure is at least :data:`TEXT_PT` points (readable from the
back of a lecture hall at 100% zoom), black on the white figure: a contrast
of 21:1. :func:`text_boxes` lists every text of a figure with its size and
place, the bitmap texts included, so a test can hold them to that.
"""

from __future__ import annotations

import math
import weakref
from functools import lru_cache
from typing import Any, NamedTuple, Optional, Tuple, cast

import numpy as np
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.offsetbox import AnnotationBbox, OffsetImage
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from .._core.geometry import nearest_whole

__all__ = ["make_figure", "halo", "STYLES", "key", "Key", "text_boxes", "TextBox", "TEXT_PT", "kernel_mosaic",
           "title", "title_text", "label", "set_label", "colour_bar", "set_colour_bar", "pixel_ticks",
           "pixel_tick_positions", "value_ticks", "round_ticks", "window_ticks", "outline", "ring", "set_region", "show_input",
           "set_image", "set_padding", "mosaic", "grid_columns",
           "tile_at", "tile_offset", "compare", "Picture", "MAP_CMAP", "HEAT_CMAP", "HIGHLIGHT", "DARK", "HALO", "TAPS",
           "RING"]

MAP_CMAP = "PuOr_r"
HEAT_CMAP = "viridis"
HIGHLIGHT = "#D55E00"  # vermilion (Okabe-Ito palette)
DARK = "#1A1A1A"  # the edge of every outline and the colour of markers
TEXT_PT = 10  # the smallest text in any figure, in points


def halo(linewidth: float = 2.0) -> list:
    """Path effects that make a line of ``linewidth`` points visible on any colour.

    A white halo (1.75 points each side), then a near-black edge (0.75 points
    each side), then the line itself: on white or orange pixels the dark edge
    contrasts, on black or purple ones the halo does.

    Examples
    --------
    >>> [type(effect).__name__ for effect in halo(2)]
    ['Stroke', 'Stroke', 'Normal']
    """
    return [patheffects.Stroke(linewidth=linewidth + 3.5, foreground="white"),
            patheffects.Stroke(linewidth=linewidth + 1.5, foreground=DARK), patheffects.Normal()]


HALO = halo(2.0)

# What each kind of mark means, and how it looks: a different line style or shape for each
# meaning, so none is told apart by colour alone. ``key`` draws them with these words.
STYLES: dict[str, dict[str, Any]] = {
    "field": dict(edgecolor=HIGHLIGHT, linestyle="-", linewidth=2),  # the pixels a neuron reads
    "selected map": dict(edgecolor=DARK, linestyle=(0, (4, 2)), linewidth=1.5),  # a frame around a map or kernel
    "neuron": dict(edgecolor=DARK, linestyle=(0, (1, 1)), linewidth=1.5),  # the one-pixel box of a neuron
}


def make_figure(figsize: Tuple[float, float], interactive: bool) -> Figure:
    """A new figure; through pyplot (without showing it) only for an interactive canvas.

    A plain :class:`~matplotlib.figure.Figure` is not registered with pyplot,
    so it is freed with its owner and never shown twice.
    """
    if interactive:
        import matplotlib.pyplot as plt

        with plt.ioff():
            fig = plt.figure(figsize=figsize)
    else:
        fig = Figure(figsize=figsize)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig


def outline(ax, animated: bool = False, meaning: str = "field", **kwargs) -> Rectangle:
    """An (initially hidden) rectangle outline that shows on dark and bright images.

    ``meaning`` (a key of :data:`STYLES`) picks its colour and line style;
    ``kwargs`` change any of them.
    """
    style = dict(fill=False, zorder=5, **STYLES[meaning])
    style.update(kwargs)
    style.setdefault("path_effects", halo(style["linewidth"]))
    rect = Rectangle((0, 0), 1, 1, visible=False, animated=animated, **style)
    ax.add_patch(rect)
    return rect


# Marks that are not rectangles, as key() draws them: kernel taps (dots) and the ring around
# a selected neuron (a circle of fixed size, so the eye finds a one-pixel neuron).
TAPS = dict(s=14, c=HIGHLIGHT, edgecolors="white", linewidths=0.8, zorder=6)
RING = dict(s=160, facecolors="none", edgecolors=DARK, linewidths=1.5, zorder=6)


def ring(ax):
    """An (initially empty) circle of fixed size around a neuron: move it with ``set_offsets``."""
    return ax.scatter([], [], path_effects=halo(RING["linewidths"]), **RING)


def key(fig, entries, *, y: float = 0.0, x: float = 0.5, columns: Optional[int] = None) -> "Key":
    """A legend in ``fig`` that says in words what each kind of mark means.

    Drawn from a bitmap made once per dpi (a matplotlib legend's texts cost about
    10 ms of every redraw), placed with its bottom centre at ``(x, y)``.

    Parameters
    ----------
    entries : list of (str, str)
        ``(mark, words)``: ``mark`` is a key of :data:`STYLES` (a rectangle in
        that style), ``'taps'`` (dots), ``'ring'`` (a circle) or a line of
        the figure (shown in its style); ``words`` say what it marks.
    x, y : float
        Where the legend's bottom centre goes, in figure fractions
        (:meth:`Key.set_anchor` moves it).
    columns : int, optional
        Entries per row (default: all in one row).

    Examples
    --------
    >>> fig = make_figure((6, 2), interactive=False)
    >>> legend = key(fig, [("field", "receptive field"), ("ring", "selected neuron")])
    >>> [box.text for box in text_boxes(fig)]
    ['receptive field', 'selected neuron']
    """
    from matplotlib.lines import Line2D

    handles: list[Artist] = []
    for mark, _ in entries:
        if isinstance(mark, Line2D):  # a copy: the line itself may be animated (blitted) and hidden
            # get_linestyle() says '--' for every dash pattern: take the pattern itself
            offset, dashes = getattr(mark, "_unscaled_dash_pattern", (0, None))
            handles.append(Line2D([], [], color=mark.get_color(),
                                  linestyle=(offset, dashes) if dashes else mark.get_linestyle(),
                                  linewidth=mark.get_linewidth(), marker=mark.get_marker(),
                                  markersize=mark.get_markersize(), path_effects=mark.get_path_effects()))
        elif mark in STYLES:
            style = STYLES[mark]
            handles.append(Rectangle((0, 0), 1, 1, fill=False, path_effects=halo(style["linewidth"]), **style))
        elif mark == "taps":
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=4.5, markerfacecolor=HIGHLIGHT,
                                  markeredgecolor="white", markeredgewidth=0.8))
        elif mark == "ring":
            handles.append(Line2D([], [], linestyle="", marker="o", markersize=12, markerfacecolor="none",
                                  markeredgecolor=DARK, markeredgewidth=1.5, path_effects=halo(1.5)))
        else:
            raise ValueError(f"mark must be one of {', '.join(map(repr, [*STYLES, 'taps', 'ring']))} or a line, "
                             f"got {mark!r}")
    artist = Key(handles, [words for _, words in entries], columns or len(entries), (x, y))
    fig.add_artist(artist)
    return artist


class Key(Artist):
    """The bitmap of a legend (see :func:`key`), rendered once per dpi."""

    def __init__(self, handles, words, columns, anchor):
        super().__init__()
        self.handles, self.words, self.columns, self.anchor = handles, list(words), columns, anchor
        # dpi -> (RGBA pixels, rows from the bottom; [(text, box in the pixels)]): the dpi decides the
        # pixels, the rest is the key's own. Bound: one legend bitmap per dpi drawn at (one or two).
        self._cache = {}

    def get_texts(self) -> list:
        """The words of the key, in order."""
        return list(self.words)

    def set_anchor(self, x: float, y: float) -> None:
        """Put the key's bottom centre at ``(x, y)`` in figure fractions."""
        self.anchor = (x, y)
        self.stale = True

    def _rendered(self, dpi: float):
        if dpi not in self._cache:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            sheet = Figure(figsize=(12, 3), dpi=dpi)
            canvas = FigureCanvasAgg(sheet)
            sheet.patch.set_alpha(0)
            legend = sheet.legend(self.handles, self.words, loc="lower left", bbox_to_anchor=(0.1, 0.1),
                                  ncol=self.columns, frameon=False, fontsize=TEXT_PT, handlelength=1.6,
                                  handleheight=1.0, columnspacing=1.4, borderaxespad=0, borderpad=0.2)
            canvas.draw()
            renderer = canvas.get_renderer()
            box = legend.get_window_extent(renderer)
            full = np.asarray(canvas.buffer_rgba())  # rows from the top
            height, width = full.shape[:2]
            # A margin of 4 points: halos and large markers reach past the legend's box.
            margin = math.ceil(4 * dpi / 72)
            x0, y0 = max(0, int(math.floor(box.x0)) - margin), max(0, int(math.floor(box.y0)) - margin)
            x1, y1 = min(width, int(math.ceil(box.x1)) + margin), min(height, int(math.ceil(box.y1)) + margin)
            pixels = full[height - y1: height - y0, x0:x1][::-1].copy()  # rows from the bottom
            texts = [(text.get_text(), text.get_window_extent(renderer).translated(-x0, -y0))
                     for text in legend.get_texts()]
            self._cache[dpi] = (pixels, texts)
        return self._cache[dpi]

    def _origin(self, renderer):
        pixels, _ = self._rendered(renderer.dpi)
        frame = self.figure.bbox
        x = frame.x0 + self.anchor[0] * frame.width - pixels.shape[1] / 2
        y = frame.y0 + self.anchor[1] * frame.height
        return round(x), round(y), pixels

    def text_boxes(self, renderer) -> list:
        """The words as ``(text, font size, Bbox in display pixels)``."""
        if not self.get_visible():
            return []
        x, y, _ = self._origin(renderer)
        return [(text, TEXT_PT, box.translated(x, y)) for text, box in self._rendered(renderer.dpi)[1]]

    def get_window_extent(self, renderer=None):
        if not self.get_visible() or self.figure is None:
            return Bbox.null()
        x, y, pixels = self._origin(renderer or self.figure.canvas.get_renderer())
        return Bbox.from_bounds(x, y, pixels.shape[1], pixels.shape[0])

    def draw(self, renderer):
        if not self.get_visible():
            return
        x, y, pixels = self._origin(renderer)
        gc = renderer.new_gc()
        renderer.draw_image(gc, x, y, pixels)
        gc.restore()
        self.stale = False


def set_region(rect: Rectangle, region, offset=(0, 0)) -> None:
    """Place ``rect`` around pixels ``((top, bottom), (left, right))``; hide it for None.

    Pixel ``(r, c)`` covers ``[c - 0.5, c + 0.5] x [r - 0.5, r + 0.5]`` in data
    coordinates, as ``imshow`` draws it. ``offset`` shifts it (a mosaic tile).
    """
    if region is None:
        rect.set_visible(False)
        return
    (top, bottom), (left, right) = region
    rect.set_bounds(left - 0.5 + offset[1], top - 0.5 + offset[0], right - left + 1, bottom - top + 1)
    rect.set_visible(True)


def title(ax, text: str) -> None:
    """Put ``text`` above ``ax`` as its panel title (an empty text removes it).

    Drawn from a cached bitmap: Agg lays out and renders every glyph of every
    text on every draw, which made three titles cost 40% of an explorer's
    redraw (7 of 17 ms). The bitmap is rendered once per text, size and dpi.
    """
    box = _TITLES.get(ax)
    if box is None:
        box = _TITLES[ax] = label(ax, "", (0.5, 1.0), (0.5, 0), offset=(0, 4))
    set_label(box, text)


def label(ax, text: str, xy, alignment=(0.5, 0.5), offset=(0, 0), fontsize: float = TEXT_PT,
          upright: bool = False) -> AnnotationBbox:
    """A text at ``xy`` (axes fraction), drawn from a cached bitmap like :func:`title`.

    ``alignment`` is the point of the text placed at ``xy`` (``(0, 0)``: its
    lower left corner), ``offset`` a shift in points; ``upright`` turns the
    text a quarter turn, to read upwards (a y axis label). :func:`set_label`
    changes the text.
    """
    image = _TitleImage(fontsize)
    image.upright = upright
    box = AnnotationBbox(image, xy, xycoords="axes fraction", xybox=offset,
                         boxcoords="offset points", box_alignment=alignment, frameon=False, pad=0,
                         annotation_clip=False)
    image.text = text
    ax.add_artist(box)
    return box


def set_label(box: AnnotationBbox, text: str) -> None:
    """Change the text of a :func:`label`."""
    cast(_TitleImage, box.offsetbox).text = text  # a label's box holds a _TitleImage
    box.stale = True


def pixel_ticks(ax, size, most: int = 6) -> None:
    """Mark rows and columns of an image of ``size = (h, w)`` on the left and bottom of ``ax``.

    Ticks fall on multiples of a round step (1, 2, 5, 10, 20, 25, 50...) with
    at most ``most`` per side, labelled with the pixel index, so a row or
    column a readout quotes can be found on the picture. Marks and labels are
    cached bitmaps placed by one artist (see :func:`title`): matplotlib's own
    ticks and labels would add about 5 ms to every redraw.

    Examples
    --------
    >>> fig = make_figure((2, 2), interactive=False)
    >>> ax = fig.add_subplot()
    >>> pixel_ticks(ax, (50, 30))
    >>> pixel_tick_positions(ax)
    ([0, 10, 20, 30, 40], [0, 5, 10, 15, 20, 25])
    """
    labels = _TICKS.get(ax)
    if labels is None:
        labels = _TICKS[ax] = _TickLabels()
        ax.add_artist(labels)
    labels.rows, labels.cols = (round_ticks(n, most) for n in size)
    labels.stale = True


def value_ticks(ax, columns, rows) -> None:
    """Mark data values ``columns`` (x) and ``rows`` (y) on the bottom and left of ``ax``, as
    :func:`pixel_ticks` marks pixels: cached bitmaps, numbers written shortest (``0.5``, ``15``).

    Examples
    --------
    >>> fig = make_figure((2, 2), interactive=False)
    >>> ax = fig.add_subplot()
    >>> value_ticks(ax, [0, 15, 30], [0, 0.5, 1])
    >>> pixel_tick_positions(ax)
    ([0, 0.5, 1], [0, 15, 30])
    """
    labels = _TICKS.get(ax)
    if labels is None:
        labels = _TICKS[ax] = _TickLabels()
        ax.add_artist(labels)
    labels.rows, labels.cols = list(rows), list(columns)
    labels.stale = True


def round_ticks(n: int, most: int = 6) -> list:
    """Positions ``0, step, 2 step...`` below ``n`` for a round step, at most ``most`` of them.

    >>> round_ticks(64, 4), round_ticks(5)
    ([0, 20, 40, 60], [0, 1, 2, 3, 4])
    """
    step = next(s for s in _STEPS if n <= s * most) if n > most else 1
    return list(range(0, n, step))


def window_ticks(low: int, high: int, most: int = 6) -> list:
    """Multiples of a round step from ``low`` to ``high`` (inclusive), at most ``most`` of them:
    the pixel ticks of a zoomed view, labelled with the input's own coordinates.

    >>> window_ticks(19, 45, 4), window_ticks(3, 5)
    ([20, 30, 40], [3, 4, 5])
    """
    count = high - low + 1
    step = next(s for s in _STEPS if count <= s * most) if count > most else 1
    return list(range(-(-low // step) * step, high + 1, step))


_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500)
# axes -> its _TickLabels, weakly: gone with the axes; bound: one small artist per live axes.
_TICKS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def pixel_tick_positions(ax) -> tuple:
    """``(rows, columns)`` that :func:`pixel_ticks` marks on ``ax`` (empty lists if none)."""
    labels = _TICKS.get(ax)
    return ([], []) if labels is None else (list(labels.rows), list(labels.cols))


class _TickLabels(Artist):
    """Row numbers left of an axes and column numbers below it, each a cached bitmap."""

    def __init__(self, fontsize: float = TEXT_PT):
        super().__init__()
        self.rows: list[float] = []
        self.cols: list[float] = []
        self.fontsize = fontsize
        self.set_clip_on(False)  # drawn outside the axes: a tight bounding box must count it
        # Agg draws only from writeable arrays, and _text_pixels shares read-only ones.
        # Key: (text, dpi), both decide the pixels; bound: a few dozen numbers of ~0.5 kB.
        self._pixels: dict[tuple[float, float], np.ndarray] = {}

    def _placed(self, renderer):
        """``(text, x, y, pixels)`` of every label (lower-left corner in display pixels), then the marks."""
        ax, dpi = self.axes, renderer.dpi
        gap = 4 * dpi / 72  # 4 points between the axes and a label
        labels = []
        for axis, values in ((0, self.rows), (1, self.cols)):
            for value in values:
                key = (value, dpi)
                if key not in self._pixels:
                    # flipped: draw_image counts rows from the bottom
                    self._pixels[key] = _text_pixels(f"{value:g}", self.fontsize, dpi)[::-1].copy()
                pixels = self._pixels[key]
                h, w = pixels.shape[:2]
                if axis == 0:
                    _, y = ax.transData.transform((0, value))
                    x, y = ax.bbox.x0 - gap - w, y - h / 2
                else:
                    x, _ = ax.transData.transform((value, 0))
                    x, y = x - w / 2, ax.bbox.y0 - gap - h
                labels.append((f"{value:g}", round(x), round(y), pixels))
        return labels

    def text_boxes(self, renderer) -> list:
        """Every label as ``(text, font size, Bbox in display pixels)``."""
        if not self.get_visible():
            return []
        return [(text, self.fontsize, Bbox.from_bounds(x, y, pixels.shape[1], pixels.shape[0]))
                for text, x, y, pixels in self._placed(renderer)]

    def get_window_extent(self, renderer=None):
        boxes = [box for _, _, box in self.text_boxes(renderer or self.figure.canvas.get_renderer())]
        return Bbox.union(boxes) if boxes else Bbox.null()

    def draw(self, renderer):
        if not self.get_visible():
            return
        ax, dpi = self.axes, renderer.dpi
        gc = renderer.new_gc()
        length, width = max(2, round(3 * dpi / 72)), max(1, round(0.8 * dpi / 72))
        marks = (np.zeros((width, length, 4), np.uint8), np.zeros((length, width, 4), np.uint8))
        for mark in marks:
            mark[..., 3] = 255  # opaque black
        for value in self.rows:  # a mark left of the axes, pointing out
            _, y = ax.transData.transform((0, value))
            renderer.draw_image(gc, round(ax.bbox.x0 - length), round(y - width / 2), marks[0])
        for value in self.cols:
            x, _ = ax.transData.transform((value, 0))
            renderer.draw_image(gc, round(x - width / 2), round(ax.bbox.y0 - length), marks[1])
        for _, x, y, pixels in self._placed(renderer):
            renderer.draw_image(gc, x, y, pixels)
        gc.restore()
        self.stale = False


def colour_bar(ax, cmap: str, low: str, high: str, heading: str, width: float = 0.6,
               below: float = 6) -> Artist:
    """A colour bar under ``ax``: ``cmap`` from ``low`` (left) to ``high`` (right), ``heading`` beneath.

    ``width`` is the bar's share of the axes' width (centred), ``below`` the
    gap in points between the axes' bottom edge and the bar. The whole bar
    is one cached bitmap, drawn by one artist: as an axes with tick labels it
    cost about 4 ms of every redraw. :func:`set_colour_bar` changes its texts.

    Examples
    --------
    >>> fig = make_figure((3, 2), interactive=False)
    >>> ax = fig.add_axes([0.1, 0.5, 0.8, 0.4])
    >>> bar = colour_bar(ax, HEAT_CMAP, "0", "12", "paths")
    >>> [text for text, size, box in bar.text_boxes(fig.canvas.get_renderer())]
    ['0', '12', 'paths']
    """
    bar = _ColourBar(cmap, low, high, heading, width, below)
    ax.add_artist(bar)
    return bar


def set_colour_bar(bar, low: str, high: str, heading: Optional[str] = None) -> None:
    """Change the end labels (and the heading) of a :func:`colour_bar`."""
    bar.texts = (low, high, bar.texts[2] if heading is None else heading)
    bar.stale = True


class _ColourBar(Artist):
    def __init__(self, cmap, low, high, heading, width, below):
        super().__init__()
        self.texts, self.cmap, self.width, self.below = (low, high, heading), cmap, width, below
        self.set_clip_on(False)  # drawn outside the axes: a tight bounding box must count it

    def _placed(self, renderer):
        box, dpi = self.axes.bbox, renderer.dpi
        bar_width = max(2, round(self.width * box.width))
        pixels, left, bar_top, places = _bar_pixels(self.cmap, *self.texts, bar_width, dpi)
        x = box.x0 + (box.width - bar_width) / 2 - left
        y_top = box.y0 - self.below * dpi / 72 + bar_top  # display y grows upwards
        return pixels, round(x), round(y_top - pixels.shape[0]), places

    def text_boxes(self, renderer) -> list:
        """Its texts as ``(text, font size, Bbox in display pixels)``."""
        if not self.get_visible():
            return []
        pixels, x, y, places = self._placed(renderer)
        top = y + pixels.shape[0]
        return [(text, TEXT_PT, Bbox.from_bounds(x + col, top - row - h, w, h))
                for text, (row, col, h, w) in zip(self.texts, places) if text]

    def get_window_extent(self, renderer=None):
        if not self.get_visible() or self.axes is None:
            return Bbox.null()
        pixels, x, y, _ = self._placed(renderer or self.figure.canvas.get_renderer())
        return Bbox.from_bounds(x, y, pixels.shape[1], pixels.shape[0])

    def draw(self, renderer):
        if not self.get_visible():
            return
        pixels, x, y, _ = self._placed(renderer)
        gc = renderer.new_gc()
        renderer.draw_image(gc, x, y, pixels)
        gc.restore()
        self.stale = False


# Pictures of colour bars; key: every argument, all of which decide the pixels. Bound: 32
# bars of at most ~800 x 40 RGBA pixels (128 kB): 4 MB.
@lru_cache(maxsize=32)
def _bar_pixels(cmap: str, low: str, high: str, heading: str, width: int, dpi: float):
    """RGBA pixels (rows from the bottom, as draw_image takes them) of a colour bar with its texts;
    also the column where the bar starts, the row (from the top) where it starts, and where each
    text lies: ``(row from the top, column, height, width)`` for low, high and heading."""
    from matplotlib import colormaps

    height, gap = max(3, round(8 * dpi / 72)), round(3 * dpi / 72)
    bar = np.repeat((colormaps[cmap](np.linspace(0, 1, width)) * 255).astype(np.uint8)[None], height, axis=0)
    bar[[0, -1], :, :3] = 0  # a thin black frame
    bar[:, [0, -1], :3] = 0
    lo, hi, head = (_text_pixels(text, TEXT_PT, dpi) for text in (low, high, heading))
    row_height = max(height, lo.shape[0], hi.shape[0])
    start = lo.shape[1] + gap  # the bar's first column, before any shift for a wide heading
    shift = max(0, head.shape[1] // 2 - (start + width // 2))
    total_width = max(shift + start + width + gap + hi.shape[1], shift + start + width // 2 + head.shape[1] // 2 + 1)
    out = np.zeros((row_height + gap + head.shape[0], total_width, 4), np.uint8)
    places = []

    def paste(image, row, col):
        out[row: row + image.shape[0], col: col + image.shape[1]] = image
        places.append((row, col) + image.shape[:2])

    bar_row = (row_height - height) // 2
    paste(lo, (row_height - lo.shape[0]) // 2, shift)
    paste(hi, (row_height - hi.shape[0]) // 2, shift + start + width + gap)
    paste(head, row_height + gap, shift + start + width // 2 - head.shape[1] // 2)
    out[bar_row: bar_row + height, shift + start: shift + start + width] = bar
    return out[::-1].copy(), shift + start, bar_row, tuple(places)


def title_text(ax) -> str:
    """The text :func:`title` put above ``ax`` ('' if none)."""
    box = _TITLES.get(ax)
    return "" if box is None else box.offsetbox.text


# axes -> its title's AnnotationBbox, weakly: gone with the axes; bound: one artist per live axes.
_TITLES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _TitleImage(OffsetImage):
    """The bitmap of a title's text, rendered for the dpi of the canvas it is drawn on."""

    def __init__(self, fontsize: float = 10):
        super().__init__(np.zeros((1, 1, 4)), dpi_cor=False, interpolation="nearest")
        self.text, self.fontsize, self.upright = "", fontsize, False
        self._pixels: Optional[np.ndarray] = None  # the bitmap last handed to set_data, and its turn
        self._turned = False

    def get_bbox(self, renderer):
        pixels = _text_pixels(self.text, self.fontsize, renderer.dpi)
        # A draw asks for the box several times; set_data re-checks and copies the pixels
        # each time (about 1 ms), so only a new bitmap is handed over.
        if pixels is not self._pixels or self.upright != self._turned:
            self._pixels, self._turned = pixels, self.upright
            self.set_data(np.rot90(pixels) if self.upright else pixels)
        return super().get_bbox(renderer)


# Bitmaps of titles; key: (text, font size, dpi), all three decide the pixels.
# Bound: 256 entries of about 200 x 20 RGBA pixels (16 kB each): 4 MB at most.
@lru_cache(maxsize=256)
def _text_pixels(text: str, fontsize: float, dpi: float) -> np.ndarray:
    """RGBA pixels of ``text`` in black on transparent, as Agg renders it at ``dpi``."""
    from matplotlib.backends.backend_agg import RendererAgg

    if not text:
        return np.zeros((1, 1, 4), np.uint8)
    prop = FontProperties(size=fontsize)
    measure = RendererAgg(1, 1, dpi).get_text_width_height_descent
    width, height, descent = measure(text, prop, ismath=False)
    # Room for the tallest and deepest letters whatever the text, so every title's
    # baseline sits at the same height above its axes.
    _, tall, deep = measure("ÅÉlg|", prop, ismath=False)
    ascent, descent = max(height - descent, tall - deep), max(descent, deep)
    renderer = RendererAgg(math.ceil(width) + 2, math.ceil(ascent + descent) + 2, dpi)
    gc = renderer.new_gc()
    gc.set_foreground("black")
    renderer.draw_text(gc, 1, 1 + ascent, text, prop, 0)  # y is the baseline, from the top
    pixels = np.array(renderer.buffer_rgba())
    pixels.setflags(write=False)  # shared by every title with this text
    return pixels


def show_input(ax, image: np.ndarray, heading: str, pads=((0, 0), (0, 0))):
    """Draw the input image, with its zero padding as a grey hatched frame."""
    cmap = "gray" if image.ndim == 2 else None
    art = ax.imshow(image, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    frame = Rectangle((0, 0), 1, 1, facecolor="0.85", edgecolor="0.6", hatch="//", zorder=-1,
                      linewidth=0)
    ax.add_patch(frame)
    set_padding(ax, frame, image.shape[:2], pads)
    title(ax, heading)
    ax.set_xticks([])
    ax.set_yticks([])
    return art, frame


def set_image(art, array: np.ndarray, limits: bool = True) -> None:
    """Put ``array`` into the image artist ``art``, pixel ``(r, c)`` centred on ``(c, r)``.

    The extent follows the array's shape (so a new size never stretches the
    picture), and with ``limits`` the axes show exactly the whole array.

    Examples
    --------
    >>> fig = make_figure((2, 2), interactive=False)
    >>> ax = fig.add_subplot()
    >>> art = ax.imshow(np.zeros((1, 1)))
    >>> set_image(art, np.zeros((3, 5)))
    >>> art.get_extent(), [float(v) for v in ax.get_xlim() + ax.get_ylim()]
    ([-0.5, 4.5, 2.5, -0.5], [-0.5, 4.5, 2.5, -0.5])
    """
    h, w = array.shape[:2]
    if art.get_interpolation() == "nearest":
        # Colour the pixels after picking those shown: when an image has more pixels than its
        # axes (a mosaic of 256 maps), matplotlib's default ('auto') colours every pixel and
        # resamples RGBA, three times as long (26 ms against 8 for that mosaic). With nearest
        # neighbours both orders pick the same pixels, hence the same colours.
        art.set_interpolation_stage("data")
    art.set_data(array)
    art.set_extent((-0.5, w - 0.5, h - 0.5, -0.5))
    if limits:
        art.axes.set_xlim(-0.5, w - 0.5)
        art.axes.set_ylim(h - 0.5, -0.5)


def set_padding(ax, frame: Rectangle, size, pads) -> None:
    """Show ``pads = ((top, bottom), (left, right))`` around an image of ``size``."""
    (top, bottom), (left, right) = pads
    h, w = size
    frame.set_bounds(-0.5 - left, -0.5 - top, w + left + right, h + top + bottom)
    frame.set_visible(bool(top or bottom or left or right))
    ax.set_xlim(-0.5 - left, w - 0.5 + right)
    ax.set_ylim(h - 0.5 + bottom, -0.5 - top)


def grid_columns(n: int) -> int:
    """Tiles per row for ``n`` tiles: a grid with no empty cell when one is at most three times
    as wide as tall, else the near-square grid of ``ceil(sqrt(n))`` columns (its last row short).

    An empty cell reads as a missing map, so 8 kernels take 2 rows of 4 rather than 3 of 3.

    >>> [(n, grid_columns(n)) for n in (1, 3, 4, 5, 6, 7, 8, 9, 10, 12)]
    [(1, 1), (3, 3), (4, 2), (5, 3), (6, 3), (7, 3), (8, 4), (9, 3), (10, 5), (12, 4)]
    """
    square = math.ceil(math.sqrt(n))
    for cols in range(square, n + 1):
        if n % cols == 0 and cols <= 3 * (n // cols):
            return cols
    return square


def mosaic(maps: np.ndarray, gap: Optional[int] = None):
    """Tile ``(n, h, w)`` maps into one image, each scaled to its own largest |value|.

    Returns
    -------
    image : ndarray
        NaN in the gaps (drawn as background).
    cols : int
        Tiles per row.
    gap : int
        Pixels between tiles.

    Examples
    --------
    >>> image, cols, gap = mosaic(np.array([[[1.0, -2.0]], [[0.0, 0.0]], [[3.0, 6.0]]]), gap=1)
    >>> cols, gap, image.tolist()
    (3, 1, [[0.5, -1.0, nan, 0.0, 0.0, nan, 0.5, 1.0]])
    """
    n, h, w = maps.shape
    cols = grid_columns(n)
    gap = max(1, min(h, w) // 8) if gap is None else gap
    scale = np.abs(maps).max(axis=(1, 2))
    # One division for all maps (a loop over 256 maps cost more than drawing them); a map
    # that is 0 everywhere (or NaN) is divided by 1, i.e. shown as it is.
    scaled = maps / np.where(scale > 0, scale, 1).astype(scale.dtype, copy=False)[:, None, None]
    return _tiled(scaled, cols, gap, np.nan), cols, gap


def _tiled(tiles: np.ndarray, cols: int, gap: int, background) -> np.ndarray:
    """``(n, h, w[, 3])`` tiles laid out ``cols`` to a row, ``gap`` pixels of ``background`` between them:
    float32, no loop over tiles."""
    n, h, w = tiles.shape[:3]
    rows = math.ceil(n / cols)
    extra = tiles.shape[3:]
    grid = np.full((rows, h + gap, cols, w + gap) + extra, background, dtype=np.float32)
    full = n // cols  # rows without an empty cell
    grid[:full, :h, :, :w] = np.swapaxes(tiles[: full * cols].reshape((full, cols, h, w) + extra), 1, 2)
    if n > full * cols:
        grid[full, :h, : n - full * cols, :w] = np.swapaxes(tiles[full * cols:], 0, 1)
    flat = grid.reshape((rows * (h + gap), cols * (w + gap)) + extra)
    return np.ascontiguousarray(flat[: rows * (h + gap) - gap, : cols * (w + gap) - gap])


def kernel_mosaic(kernels: np.ndarray, gap: int = 1):
    """Tile ``(n, channels, k, k)`` kernels into one picture; colour kernels in colour.

    With 3 channels each kernel is drawn as an RGB tile, as learnt first layers are
    usually shown: its red, green and blue weights drive the tile's red, green and
    blue, scaled by the kernel's largest |weight| so that 0 is mid-gray, positive
    brighter and negative darker; a gray kernel (equal channels) is a gray tile, a
    red-green edge a red and green one. Gaps are white. Other channel counts are
    summed over their channels and tiled by :func:`mosaic` (one colour map).

    Returns
    -------
    image, cols, gap
        As :func:`mosaic`; ``image`` is ``(H, W, 3)`` for 3 channels.

    Examples
    --------
    >>> tiles, cols, gap = kernel_mosaic(np.ones((4, 3, 3, 3)))
    >>> tiles.shape, float(tiles[0, 0, 0]), cols
    ((7, 7, 3), 1.0, 2)
    """
    n, channels, kh, kw = kernels.shape
    if channels != 3:
        return mosaic(kernels.sum(axis=1), gap=gap)
    cols = grid_columns(n)
    scale = np.abs(kernels).max(axis=(1, 2, 3))
    scale = np.where(scale > 0, scale, 1).astype(scale.dtype, copy=False)
    tiles = 0.5 + 0.5 * np.moveaxis(kernels, 1, -1) / scale[:, None, None, None]
    return _tiled(tiles, cols, gap, 1.0), cols, gap


def tile_at(x: float, y: float, shape, count: int, cols: int, gap: int):
    """Which ``(map, row, col)`` of a :func:`mosaic` lies under data point ``(x, y)``.

    A point on a gap between tiles counts for the nearer tile (with 100 small maps
    the gaps are a tenth of the picture, and a click there should still pick a
    neuron). Returns None outside the tiles.

    Examples
    --------
    >>> tile_at(6.2, 1.0, (4, 4), 3, 2, 1)
    (1, 1, 1)
    >>> tile_at(4.0, 1.0, (4, 4), 3, 2, 1)   # on the gap, nearer the first tile's last column
    (0, 1, 3)
    """
    h, w = shape
    col, row = nearest_whole(x), nearest_whole(y)  # the package's one tie rule
    rows = math.ceil(count / cols)
    if row < 0 or col < 0 or row > rows * (h + gap) - gap - 1 or col > cols * (w + gap) - gap - 1:
        return None

    def snap(position: int, size: int, tiles: int):
        tile, inside = divmod(position, size + gap)
        if inside < size:
            return tile, inside
        # On the gap after tile `tile`: the nearer of its last pixel and the next tile's first.
        if inside - size < gap / 2 or tile + 1 >= tiles:
            return tile, size - 1
        return tile + 1, 0

    tile_r, r = snap(row, h, rows)
    tile_c, c = snap(col, w, cols)
    index = tile_r * cols + tile_c
    if index >= count:
        return None
    return index, r, c


def tile_offset(index: int, shape, cols: int, gap: int):
    """Top-left pixel of tile ``index`` in a :func:`mosaic`."""
    r, c = divmod(index, cols)
    return r * (shape[0] + gap), c * (shape[1] + gap)


class TextBox(NamedTuple):
    """One text drawn in a figure: its words, size in points, place and colour."""

    text: str
    fontsize: float
    box: Bbox  # display pixels, origin at the lower left of the figure
    colour: tuple  # RGBA, 0 to 1
    artist: Artist  # the artist that draws it (hiding it hides the text)


def text_boxes(figure: Figure) -> list:
    """Every text the figure draws, as :class:`TextBox` values, after drawing it once.

    Counts matplotlib's texts (titles, tick labels, legends...) and the
    package's bitmap texts (:func:`title`, :func:`label`, :func:`pixel_ticks`,
    :func:`colour_bar`); a text inside a hidden artist or axes is not drawn
    and not listed.

    Examples
    --------
    >>> fig = make_figure((3, 2), interactive=False)
    >>> ax = fig.add_subplot()
    >>> title(ax, "input")
    >>> _ = ax.set_xlabel("column")
    >>> sorted((box.text, box.fontsize) for box in text_boxes(fig) if box.text.isalpha())
    [('column', 10.0), ('input', 10)]
    """
    from matplotlib.axis import Axis
    from matplotlib.colors import to_rgba
    from matplotlib.text import Text

    figure.canvas.draw()
    # Agg-based canvases (Agg, ipympl, inline) have it; FigureCanvasBase does not declare it.
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    found = []

    def walk(artist):
        if not artist.get_visible():
            return
        if isinstance(artist, Axis):  # only the ticks drawn, not those outside the view
            if not artist.axes.axison:
                return
            for tick in artist._update_ticks():
                for text in (tick.label1, tick.label2):
                    walk(text)
            walk(artist.label)
            walk(artist.offsetText)
            return
        if isinstance(artist, Text):
            if artist.get_text().strip():
                found.append(TextBox(artist.get_text(), artist.get_fontsize(), artist.get_window_extent(renderer),
                                     to_rgba(artist.get_color()), artist))
            return
        if isinstance(artist, AnnotationBbox) and isinstance(artist.offsetbox, _TitleImage):
            if artist.offsetbox.text:
                found.append(TextBox(artist.offsetbox.text, artist.offsetbox.fontsize,
                                     artist.get_window_extent(renderer), (0.0, 0.0, 0.0, 1.0), artist))
            return
        if isinstance(artist, (_TickLabels, _ColourBar, Key)):
            found.extend(TextBox(text, size, box, (0.0, 0.0, 0.0, 1.0), artist)
                         for text, size, box in artist.text_boxes(renderer))
            return
        for child in artist.get_children():
            walk(child)

    walk(figure)
    return found


class Picture:
    """A finished figure that a notebook shows as a PNG (no widget, any front end).

    ``figure`` is the matplotlib figure, for saving or changing it.
    """

    def __init__(self, figure: Figure):
        self.figure = figure

    def _repr_png_(self) -> bytes:
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def alt_text(self) -> str:
        """The picture in words, for screen readers: its heading and the title of each panel.

        Examples
        --------
        >>> compare({"before": np.eye(3), "after": np.ones((3, 3))}, "two maps").alt_text()
        'two maps: 2 panels, before; after'
        """
        heading = getattr(self.figure, "_suptitle", None)
        heading = heading.get_text() if heading is not None else ""
        titles = [ax.get_title() for ax in self.figure.axes if ax.get_title()]
        panels = f"{len(titles)} panel{'s' * (len(titles) != 1)}, {'; '.join(titles)}" if titles else ""
        return ": ".join(part for part in (heading, panels) if part) or "a figure"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        # The PNG, and the same PNG in an <img> with alt text: JupyterLab (for a trusted output),
        # Voila, VS Code and Colab show the HTML; an untrusted or plain front end shows the PNG.
        import base64
        import html

        png = base64.b64encode(self._repr_png_()).decode("ascii")
        alt = html.escape(self.alt_text())
        return {"image/png": png, "text/plain": f"<Picture: {self.alt_text()}>",
                "text/html": f'<img src="data:image/png;base64,{png}" alt="{alt}" style="max-width: 100%">'}


def compare(panels: dict, heading: str = "", *, heat: bool = False, width: float = 9.5,
            quantity: str = "value") -> Picture:
    """Panels side by side, titled by their keys: the way to show *before* and *after*.

    Each panel has a colour bar beneath it that gives its own range and says
    what the colour measures (``quantity``).

    Parameters
    ----------
    panels : dict of str to ndarray
        A ``(h, w)`` array is drawn as it is; an ``(n, h, w)`` stack as a
        :func:`mosaic` (each map scaled to its own largest |value|).
    heading : str
        A title above all panels.
    heat : bool, default False
        Draw with the heat-map colours from 0 to the panel's largest value (for
        effective fields and path counts); otherwise with the diverging map
        colours around 0 (for kernels and feature maps).
    quantity : str, default 'value'
        What the colour stands for, under each colour bar (``'paths'``,
        ``'|gradient|'``...). For a stack, a quantity containing ``÷`` is shown
        as it is (``'each kernel ÷ its largest |weight|'``); any other gets the
        mosaic's scaling appended.

    Examples
    --------
    >>> picture = compare({"a": np.eye(3), "b": np.ones((2, 3, 3))}, "two panels")
    >>> picture._repr_png_()[:4]
    b'\\x89PNG'
    >>> picture = compare({"paths": np.array([[1, 2], [2, 4]])}, heat=True, quantity="paths")
    >>> [box.text for box in text_boxes(picture.figure)]
    ['0', '4', 'paths', 'paths']
    """
    if not isinstance(panels, dict) or not panels:
        raise ValueError("panels must be a non-empty dict of title -> array")
    if not isinstance(quantity, str):
        raise ValueError(f"quantity must be a str (what the colour stands for), got {quantity!r}")
    count = len(panels)
    # Measured in inches: a gap between panels, room above for titles and below for each colour bar
    # (its numbers and heading), so nothing overlaps whatever the width.
    gap, edge, above, below = 0.35, 0.1, 0.4 + (0.35 if heading else 0), 0.7
    side = (width - 2 * edge - gap * (count - 1)) / count
    if side <= 0.3:
        raise ValueError(f"width must leave each of the {count} panels at least 0.3 inch, got {width!r}")
    # Panels as tall as the tallest picture needs (a 2 x 4 mosaic is half as tall as wide), not square:
    # a square panel left a wide white band above and below it.
    shapes = [np.shape(mosaic(np.asarray(v, dtype=float))[0]) if np.ndim(v) == 3 else np.shape(v)
              for v in panels.values()]
    tall = min(1.0, max((s[0] / s[1] if len(s) == 2 and s[1] else 1.0) for s in shapes))
    panel = side * tall
    height = above + panel + below
    fig = make_figure((width, height), interactive=False)
    axes = [fig.add_axes(((edge + i * (side + gap)) / width, below / height, side / width, panel / height))
            for i in range(count)]
    for ax, (name, array) in zip(axes, panels.items()):
        array = np.asarray(array, dtype=float)
        scaled = array.ndim == 3
        if scaled:
            array = mosaic(array)[0]
        elif array.ndim != 2:
            raise ValueError(f"panel {name!r} must be a 2-D array or a stack of them, got shape {array.shape}")
        what = quantity if not scaled or "÷" in quantity else (  # a quantity that names its own scaling stays
            "each map ÷ its largest |value|" if quantity == "value" else f"{quantity}, each map ÷ its largest")
        if heat:
            top = np.nanmax(array)
            top = top if top > 0 else 1
            ax.imshow(array, cmap=HEAT_CMAP, vmin=0, vmax=top, interpolation="nearest")
            ends = ("0", _number(top))
        else:
            top = np.nanmax(np.abs(array))
            top = top if top > 0 else 1
            ax.imshow(array, cmap=MAP_CMAP, vmin=-top, vmax=top, interpolation="nearest")
            ends = ("−" + _number(top), "+" + _number(top))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name, fontsize=TEXT_PT + 1)
        colour_bar(ax, HEAT_CMAP if heat else MAP_CMAP, *ends, what, width=0.6)
    if heading:
        fig.suptitle(heading, fontsize=TEXT_PT + 2, y=1 - 0.08 / height, va="top")
    return Picture(fig)


def _number(value: float) -> str:
    """A colour bar's end value: a whole number as it is, others to three significant digits.

    >>> _number(16.0), _number(0.123456), _number(1234.0), _number(1234.5)
    ('16', '0.123', '1234', '1.23e+03')
    """
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.3g}"
