"""What every explorer shares: the selection contract, controls, one figure, messages.

An explorer is split the way mpl-interactions splits an interactive plot:

* ``controls``: name -> ipywidget, built once. Some of them are *selection
  controls* (declared in ``selection_controls``: ``row``, ``col`` and, where
  the explorer has them, ``map`` and ``layer``); they move the selected
  neuron. Every other control changes the network or the image.
* state: ``_compute()`` turns the control values into everything the picture
  needs. It may raise ``ValueError``: then nothing is drawn, the controls go
  back to the values of the picture on show, and the error becomes
  ``message``.
* selection: one :class:`Selection` value, the neuron on show. Every way of
  moving it (``select``, a click, a selection control, a change that moves
  the network under it) goes through ``_apply_selection``, which checks it,
  sets the selection controls to it and redraws its overlays.
* artists: ``_draw(state)`` changes the artists built once in ``_build()``,
  and ``_draw_selection()`` moves only the overlays of the selected neuron.

The contract, the same in every explorer: ``select(row, col, layer=i)``
counts ``i`` in ``.layers`` exactly as :func:`rfmaps.input_region` does;
afterwards ``.selected == (i, row, col)`` (``i`` made non-negative) and
``.region == input_region(.layers, (row, col), .input_size, layer=i)``.
``layer=-1`` is always accepted; a layer the explorer does not draw is
refused with a message.

``controls=`` picks the controls a student sees (teach in order: the first
explorer of a series shows only what has been taught). Per-layer controls
(``kernel_size_1``, ``kernel_size_2``...) are chosen by their common name
(``kernel_size``); the selection controls always appear. Every other control
is *fixed*: its starting value holds, ``set()`` refuses to change it and says
how to show it.

Under ``%matplotlib widget`` (ipympl) the canvas is a widget: clicks select
neurons and a moved selection is blitted (overlays only). Under the inline
backend (Colab, VS Code, nbconvert) the figure is shown as an image in an
``Output`` widget and replaced in place after each change; the row and column
controls pick the neuron.
"""

from __future__ import annotations

import contextlib
import html
import math
import os
import re
import weakref
from collections import OrderedDict
from typing import Any, Dict, NamedTuple, Optional, Sequence

import ipywidgets as widgets
import matplotlib
import numpy as np

from ..drawing.figures import make_figure
from ..arithmetic.receptive_field import NeuronField, corresponding_neuron, input_region, neuron_field
from .._core.validation import is_int
from .controls import FIGURE_CLASS, IntRange, LiveText

_LIVE: Dict[tuple, "weakref.ref"] = {}  # (class, notebook cell) -> explorer shown there

# Own images larger than this (either side) are shrunk by block averaging, as
# rfmaps.engine.images.load_image does: each change then costs tens of milliseconds
# and a few megabytes, not seconds and gigabytes.
MAX_IMAGE_SIDE = 256


class Selection(NamedTuple):
    """The selected neuron: ``layer`` indexes ``.layers``; ``map`` is the feature map shown."""

    layer: int
    row: int
    col: int
    map: int = 0


_BLAS: list = []  # the ThreadpoolController, made on first use (it scans the loaded libraries once: ~25 ms)


@contextlib.contextmanager
def one_blas_thread():
    """Run the block with one BLAS thread.

    An explorer's matrix products are small (a teaching image, a few kernels):
    a second thread saves well under a millisecond, but on a shared hub, where
    another process holds the other core, BLAS threads wait for each other and
    one change was seen to take 1.1 s instead of 60 ms. The limit holds only
    inside the block: the student's own numpy code keeps every thread.
    """
    from threadpoolctl import ThreadpoolController

    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


def _interactive_backend() -> bool:
    return "ipympl" in matplotlib.get_backend() or matplotlib.get_backend() == "widget"


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _current_cell_id() -> Optional[str]:
    """The notebook cell running now, as JupyterLab names it (None elsewhere)."""
    try:
        from IPython import get_ipython

        parent = get_ipython().kernel.get_parent()
        return parent.get("metadata", {}).get("cellId")
    except Exception:  # no kernel, or a front end that sends no cell id
        return None


# --- checks of starting arguments and of set() values ---------------------------------

def check_int(value, name: str, low: int, high: int) -> int:
    """``value`` as an int from ``low`` to ``high``, or a ValueError that names ``name``."""
    if not is_int(value) or not low <= value <= high:
        raise ValueError(f"{name} must be an int from {low} to {high}, got {value!r}")
    return int(value)


def check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, options: Sequence) -> object:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def check_image(image):
    """The explorer's image: a sample name, or the caller's array checked and made ready.

    Returns ``(name, array, notice)``: ``array`` is None for a sample, else
    floats shaped ``(H, W)`` or ``(H, W, 3)``, read-only; ``notice`` says when
    the array had to be rescaled (floats in 0..255, see
    :func:`rfmaps.engine.images.float_pixel_scale`) or shrunk.
    """
    from ..engine.images import as_float_image, float_pixel_scale

    if isinstance(image, str):
        check_choice(image, "image", image_names())
        return image, None, ""
    try:
        array = np.asarray(image)
    except ValueError:  # ragged nested lists
        raise ValueError("image must be a rectangular array (all rows of one length), or a name of "
                         f"{', '.join(map(repr, image_names()))}") from None
    if array.ndim == 3 and array.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must have 1, 3 or 4 channels (gray, RGB or RGBA), got {array.shape[2]}")
    if array.ndim == 3:
        array = array[:, :, 0] if array.shape[2] == 1 else array[:, :, :3]  # alpha is dropped, as load_image does
    scale, notice = 1.0, ""
    if array.dtype.kind == "f" and array.ndim in (2, 3) and array.size:
        # Floats in 0..255 (np.asarray(Image.open(f)).astype(float)) would show nearly all white.
        scale, notice = float_pixel_scale(array, "image")
    scaled = bool(notice)
    if array.ndim in (2, 3) and max(array.shape[:2]) > MAX_IMAGE_SIDE:
        before = array.shape[:2]
        array = shrink(array, MAX_IMAGE_SIDE)
        notice += (f" Your {before[0]} × {before[1]} image is shown shrunk to {array.shape[0]} × "
                   f"{array.shape[1]} (block averages), so every change stays quick; "
                   f"rfmaps.engine.images.downsample(image, n) picks another size up to {MAX_IMAGE_SIDE}.")
    else:
        array = as_float_image(array, name="image")  # a private copy: the caller may change theirs
    if scaled:  # float_pixel_scale said what it did: divide by the scale, clip to [0, 1]
        array = np.clip(array / scale, 0.0, 1.0)
    notice = notice.strip()
    array.setflags(write=False)
    return "your image", array, notice


def shrink(array: np.ndarray, max_size: int) -> np.ndarray:
    """:func:`rfmaps.engine.images.downsample` of the image as floats, one band of rows at a time.

    A 4000 x 4000 photo as float64 takes 384 MB; a band of rows takes a few.

    Examples
    --------
    >>> from rfmaps.engine.images import as_float_image, downsample
    >>> photo = np.arange(600 * 500 * 3).reshape(600, 500, 3) % 256
    >>> bool(np.allclose(shrink(photo, 256), downsample(as_float_image(photo), 256)))
    True
    """
    from ..engine.images import checked_pixels

    factor = math.ceil(max(array.shape[:2]) / max_size)
    height, width = array.shape[:2]
    cols = np.arange(0, width, factor)
    # Blocks at the right and bottom edges may be smaller, as in downsample.
    widths = np.diff(np.append(cols, width)).reshape(-1, *([1] * (array.ndim - 2)))
    out = np.empty((len(range(0, height, factor)), len(cols)) + array.shape[2:])
    array, scale = checked_pixels(array, "image")  # one scale for the whole image
    for i, row in enumerate(range(0, height, factor)):
        band = array[row: row + factor].astype(float) / scale
        out[i] = np.add.reduceat(band.sum(axis=0), cols, axis=0) / (band.shape[0] * widths)
    return out


# --- a cache bounded in bytes ----------------------------------------------------------

def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 64  # small Python values: a nominal size, so a bound in bytes also bounds their number


class Cache:
    """Least-recently-used values, bounded by the bytes of the arrays they hold.

    A value larger than the whole bound is computed and returned but not kept.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes, self.nbytes = max_bytes, 0
        self._items: OrderedDict = OrderedDict()

    def get(self, key, compute):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        value = compute()
        size = _nbytes(value)
        if size <= self.max_bytes:
            self._items[key] = (value, size)
            self.nbytes += size
            while self.nbytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self.nbytes -= dropped
        return value

    def __len__(self) -> int:
        return len(self._items)


# --- the explorer ----------------------------------------------------------------------

class Explorer:
    """Base class; subclasses define the controls, the figure and the state.

    Subclasses set ``selection_controls`` (which controls move the selection;
    each is named after its :class:`Selection` field) and provide
    ``_make_controls``, ``_build`` (artists; those a selection moves go in
    ``_overlays``), ``_compute`` (a state with ``layers``, ``input_size`` and
    ``rows``, the :func:`rfmaps.receptive_fields` table), ``_draw``,
    ``_draw_selection`` and ``_click``; ``_shown_layers`` and ``_map_count``
    when they draw more than the last layer's first map.
    """

    figsize: tuple[float, float] = (10, 4)
    selection_controls: tuple[str, ...] = ("row", "col")

    def __init__(self, image=None, size: int = 48, *, blit: Optional[bool] = None,
                 controls: Optional[Sequence[str]] = None):
        self._size = check_int(size, "size", 8, MAX_IMAGE_SIDE)
        if blit is not None:
            blit = check_bool(blit, "blit")
        # An explorer that draws no image (ProjectiveExplorer) passes image=None.
        self._own_name, self._own_image, notice = (None, None, "") if image is None else check_image(image)
        # Images by dropdown name; key: the name (the size and the own image are fixed
        # for this explorer); bound: 8 MB, at most 256 x 256 x 3 floats (1.5 MB) each.
        self._images = Cache(8 * 2 ** 20)
        self.message = ""
        self._state = None
        self._selection: Optional[Selection] = None
        self._drawn: Dict[str, tuple] = {}  # control name -> (value, min, max) of the picture on show
        self._quiet_depth = 0  # > 0 while the explorer itself sets controls
        self._started = False  # True once built: from then on frames go out at once
        self._interactive = _interactive_backend()
        self._blit = self._interactive if blit is None else blit
        self._background = None
        self._saving = False  # True while save() renders to a file: its draw event is not the screen's
        self.figure = make_figure(self.figsize, self._interactive)
        self._overlays: list = []  # artists moved by a selection (blitted when possible)
        self._message_box = LiveText()  # a refusal is announced too
        self._notice_box = widgets.HTML()
        # The readout says what the picture shows for the selected neuron: it is the figure's
        # description for assistive technology, announced once a change settles.
        self._readout = LiveText(describes=FIGURE_CLASS, figure_label=f"{type(self).__name__} figure",
                                 keep_keys=True)
        # Long text lives in HTML beside the figure: text is the slowest thing Agg draws.
        self._caption = widgets.HTML()
        self._output = widgets.Output()
        self._texts = [self._readout, self._caption]  # and the _side() widgets, once laid out
        self.notice = ""
        self._set_notice(notice)
        self._fixed: Dict[str, Any] = {}  # control name -> value, for the controls not chosen with controls=
        every = self._make_controls()
        try:
            self.controls = self._chosen(every, controls)
        except ValueError:
            for control in every.values():
                control.close()
            self.close()
            raise
        self._build()
        for artist in self._overlays:
            artist.set_animated(self._blit)
        canvas = self.figure.canvas
        canvas.mpl_connect("draw_event", self._on_draw)
        try:
            with one_blas_thread():
                self._refresh()  # unguarded: starting values that cannot be drawn raise here
        except Exception:
            self.close()
            raise
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        if self._interactive:
            canvas.mpl_connect("button_press_event", self._on_click)
            canvas.toolbar_visible = False
            canvas.header_visible = False
            canvas.footer_visible = False
        self.widget = self._layout()
        self._started = True
        self._replace_previous_in_this_cell()

    # --- what subclasses provide ------------------------------------------------
    def _make_controls(self) -> dict:
        raise NotImplementedError

    def _build(self) -> None:
        raise NotImplementedError

    def _compute(self):
        raise NotImplementedError

    def _draw(self, state) -> None:
        raise NotImplementedError

    def _draw_selection(self) -> None:
        raise NotImplementedError

    def _shown_layers(self, state) -> tuple:
        """Indices in ``state.layers`` whose neurons the figure shows (ascending)."""
        return (len(state.layers) - 1,)

    def _map_count(self, state, layer: int) -> int:
        """How many feature maps of ``layer`` the figure lets one pick from."""
        return 1

    def _click(self, event) -> Optional[tuple]:
        """``(row, col, layer[, map])`` of the neuron under a click, or None."""
        raise NotImplementedError

    def _adapt_ranges(self) -> None:
        """Narrow slider ranges so the picture stays drawable where possible."""

    def _layer_after_change(self, old_state, old_layer: int, state) -> int:
        """The layer the selection moves to when the network changes under it."""
        shown = self._shown_layers(state)
        return old_layer if old_layer in shown else shown[-1]

    def _image(self):
        """The image the ``image`` control names."""
        name = self._value("image")
        if name == "your image":
            return self._own_image
        return self._images.get(name, lambda: sample_image(name, self._size))

    def _value(self, name: str):
        """The value of control ``name``, shown or fixed."""
        control = self.controls.get(name)
        return self._fixed[name] if control is None else control.value

    def _chosen(self, every: dict, chosen) -> dict:
        """The controls named in ``chosen`` (None: all), plus the selection controls; the others are fixed."""
        if chosen is None:
            return every
        groups = {}  # what controls= may name -> the controls it shows
        for key in every:
            if key not in self.selection_controls:
                groups.setdefault(re.sub(r"_\d+$", "", key), []).append(key)
        if isinstance(chosen, str) or not all(isinstance(name, str) for name in chosen):
            raise ValueError(f"controls must be a list of names from {', '.join(map(repr, groups))}, "
                             f"got {chosen!r}")
        for name in chosen:
            if name not in groups:
                raise ValueError(f"controls must name some of {', '.join(map(repr, groups))} (row, col and "
                                 f"the other selection controls always appear), got {name!r}")
        shown = {key for name in chosen for key in groups[name]} | set(self.selection_controls)
        for key, control in every.items():
            if key not in shown:
                self._fixed[key] = control.value
                close_widgets(control)
        return {key: control for key, control in every.items() if key in shown}

    # --- the common interface ------------------------------------------------------
    @property
    def layers(self) -> tuple:
        return self._state.layers

    @property
    def input_size(self):
        return self._state.input_size

    @property
    def selection(self) -> Selection:
        """The selected neuron, with the feature map on show."""
        return self._selection

    @property
    def selected(self) -> tuple:
        """``(layer, row, col)`` of the selected neuron; ``layer`` indexes ``layers``."""
        return tuple(self._selection[:3])

    @property
    def region(self):
        """Input region of the selected neuron, as :func:`rfmaps.input_region` gives it."""
        layer, row, col = self.selected
        return input_region(self.layers, (row, col), self.input_size, layer=layer)

    @property
    def selected_field(self) -> NeuronField:
        """The selected neuron's own field (:func:`rfmaps.arithmetic.receptive_field.neuron_field`): box, size,
        centre, what the image holds of it. Readouts quote these numbers, never a layer's ``rf_size``
        (after a transposed convolution or an upsampling that is only the layer's largest field)."""
        layer, row, col = self.selected
        return neuron_field(self.layers, (row, col), self.input_size, layer=layer)

    def select(self, row: int, col: int, layer: int = -1) -> None:
        """Select neuron ``(row, col)`` of the output of ``layers[layer]``, as a click does.

        A neuron or layer the explorer cannot show leaves the selection as it
        was and says why in ``message``.
        """
        self._guarded(self._apply_selection, row, col, layer)

    def set(self, **values) -> None:
        """Set several controls at once, as a student would one after the other.

        Raises
        ------
        ValueError
            If a name is not a control or a value is not one its control offers
            (a float or a bool for an integer slider, a value beyond its range).
        """
        for name, value in values.items():
            if name in self._fixed:
                group = re.sub(r"_\d+$", "", name)
                raise ValueError(f"{name} is fixed at {self._fixed[name]!r} in this explorer: add {group!r} "
                                 f"to its controls=... to let it change")
            if name not in self.controls:
                raise ValueError(f"no control named {name!r}; controls are {', '.join(self.controls)}")
            control = self.controls[name]
            if isinstance(control, (IntRange, widgets.IntSlider)):
                check_int(value, name, control.min, control.max)
            elif isinstance(control, widgets.Checkbox):
                check_bool(value, name)
            else:  # Dropdown, SelectionSlider: one of the option values
                allowed = [option[1] if isinstance(option, tuple) else option for option in control.options]
                if name == "image" and not isinstance(value, str):
                    raise ValueError("image must be one of the names the image control offers "
                                     f"({', '.join(map(repr, allowed))}); to show your own array, build a "
                                     f"new explorer with it: {type(self).__name__}(my_array)")
                # An array is never an option (and == on it is no bool); a bool is no option number.
                if isinstance(value, (np.ndarray, bool)) or not any(value == a for a in allowed):
                    raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
            control.value = value

    def save(self, path, *, dpi: int = 150) -> None:
        """Save the picture on show, outlines included, for slides: ``.png``, ``.svg`` or ``.pdf``.

        Parameters
        ----------
        path : str or path-like
            The file; its suffix picks the format.
        dpi : int, default 150
            Pixels per inch of a PNG (150 is sharp on a projector).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from rfmaps.widgets import ConvExplorer
        >>> explorer = ConvExplorer("disk", kernels=2)
        >>> explorer.save(pathlib.Path(tempfile.mkdtemp()) / "conv.svg")
        """
        suffix = os.path.splitext(os.fspath(path))[1].lower() if isinstance(path, (str, os.PathLike)) else None
        if suffix not in (".png", ".svg", ".pdf"):
            raise ValueError(f"path must be a file name ending in .png, .svg or .pdf, got {path!r}")
        check_int(dpi, "dpi", 20, 1200)
        # Blitted outlines are "animated": a plain savefig would leave them out. The file's render fires a
        # draw event on another canvas; it must not become the background that blitting restores.
        for artist in self._overlays:
            artist.set_animated(False)
        self._saving = True
        try:
            self.figure.savefig(path, dpi=dpi, bbox_inches="tight")
        finally:
            self._saving = False
            for artist in self._overlays:
                artist.set_animated(self._blit)
            self._show(full=True)  # draw the screen's picture again (and keep its background)

    def close(self) -> None:
        """Close the figure and every widget (a re-run of the cell does this too)."""
        import matplotlib.pyplot as plt

        plt.close(self.figure)
        made = [*getattr(self, "controls", {}).values(), self._message_box, self._notice_box, self._caption,
                self._readout, self._output, getattr(self, "widget", None)]
        close_widgets(*(box for box in made if box is not None))
        if self._interactive:
            self.figure.canvas.close()
        for key, ref in list(_LIVE.items()):  # a closed explorer leaves the registry
            if ref() is self:
                del _LIVE[key]

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # --- selection ---------------------------------------------------------------------
    def _apply_selection(self, row, col, layer=-1, map=None) -> None:
        """Check a neuron, make it the selection, set the controls to it, redraw its overlays."""
        state, before = self._state, self._selection
        self._selection = self._checked(state, row, col, layer, map)
        self._sync_selection_controls()
        self._draw_selection()
        self._show(full=self._redraws_all(before, self._selection))

    def _redraws_all(self, before: Selection, after: Selection) -> bool:
        """Whether moving the selection changes more than the overlays (then the whole figure is drawn)."""
        return False

    def _checked(self, state, row, col, layer, map) -> Selection:
        count = len(state.layers)
        if not is_int(layer) or not -count <= layer < count:
            raise ValueError(f"layer must be an int from {-count} to {count - 1} "
                             f"(an index into .layers), got {layer!r}")
        shown = self._shown_layers(state)
        # -1 is the last layer *shown*: with a long given network (StackExplorer shows its first blocks)
        # that is not the network's last layer.
        layer = shown[-1] if layer == -1 else int(layer) % count
        if layer not in shown:
            raise ValueError(f"this explorer shows the output of layers {', '.join(str(i) for i in shown)} "
                             f"(or -1 for the last of them), not layer {layer} ({state.layers[layer]!r})")
        h, w = state.rows[layer].output_size
        for name, value, n in (("row", row, h), ("col", col, w)):
            if not is_int(value) or not 0 <= value < n:
                raise ValueError(f"{name} must be an int from 0 to {n - 1} (layer {layer} gives "
                                 f"{h} × {w} maps), got {value!r}")
        maps = self._map_count(state, layer)
        if map is None:
            map = min(self._selection.map, maps - 1) if self._selection else 0
        elif not is_int(map) or not 0 <= map < maps:
            raise ValueError(f"map must be an int from 0 to {maps - 1}, got {map!r}")
        return Selection(layer, int(row), int(col), int(map))

    def _carried(self, old_state, state) -> Selection:
        """The selection after a change of the network: the neuron that looks where the old one did."""
        layer = self._layer_after_change(old_state, self._selection.layer, state)
        row, col = corresponding_neuron(old_state.layers, self._selection[1:3], old_state.input_size,
                                        state.layers, state.input_size, self._selection.layer, layer)
        return Selection(layer, row, col, min(self._selection.map, self._map_count(state, layer) - 1))

    def _default_selection(self, state) -> Selection:
        """The centre neuron of the last layer shown."""
        layer = self._shown_layers(state)[-1]
        h, w = state.rows[layer].output_size
        return Selection(layer, h // 2, w // 2, 0)

    def _sync_selection_controls(self) -> None:
        """Set every selection control to the selection (ranges first)."""
        state, selection = self._state, self._selection
        c = self.controls
        h, w = state.rows[selection.layer].output_size
        with self._quiet():
            if "layer" in self.selection_controls:
                self._set_layer_options(state)
                c["layer"].value = selection.layer
            if "map" in self.selection_controls:
                set_range(c["map"], 0, self._map_count(state, selection.layer) - 1)
                c["map"].value = selection.map
            set_range(c["row"], 0, h - 1)
            set_range(c["col"], 0, w - 1)
            c["row"].value, c["col"].value = selection.row, selection.col

    def _set_layer_options(self, state) -> None:
        """Give the ``layer`` control the layers shown (subclasses with such a control)."""

    def _select_from_controls(self, owner) -> None:
        c, selection = self.controls, self._selection
        layer = c["layer"].value if "layer" in self.selection_controls else selection.layer
        map = c["map"].value if "map" in self.selection_controls else None
        if layer != selection.layer:  # the same place on the input, seen from another layer
            state = self._state
            row, col = corresponding_neuron(state.layers, selection[1:3], state.input_size,
                                            state.layers, state.input_size, selection.layer, layer)
        else:
            row, col = c["row"].value, c["col"].value
        self._apply_selection(row, col, layer, map)

    # --- plumbing --------------------------------------------------------------------
    @contextlib.contextmanager
    def _quiet(self):
        """Within this block, control changes are the explorer's own, not a student's."""
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1

    @contextlib.contextmanager
    def _frame_first(self):
        """Within this block, hold back the controls' and texts' updates until the end.

        The new frame goes to the browser as soon as it is drawn; slider values,
        ranges, captions and readouts follow it, one message per widget.
        """
        with contextlib.ExitStack() as stack:
            for widget in [*self.controls.values(), *self._texts]:
                stack.enter_context(widget.hold_sync())
            yield

    def _layout(self):
        rows = self._control_rows()
        picture = self.figure.canvas if self._interactive else self._output
        picture.add_class(FIGURE_CLASS)  # described by the readout (LiveText)
        side = self._side()
        self._texts += side
        return widgets.VBox([rows, self._message_box, self._notice_box, self._caption, picture, self._readout]
                            + side)

    def _control_rows(self):
        return widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))

    def _side(self):
        return []

    def _set_message(self, text: str) -> None:
        if text == self.message:
            return
        self.message = text
        self._message_box.value = (
            "" if not text else
            f'<div style="color:#B34700;font-weight:bold">⚠ {html.escape(text)}</div>')

    def _set_notice(self, text: str) -> None:
        self.notice = text
        self._notice_box.value = "" if not text else f'<div style="color:#555">ℹ {html.escape(text)}</div>'

    def _guarded(self, action, *args) -> None:
        """Run an action a student started; a refusal (ValueError) becomes the message.

        Anything else is a bug: it is shown too, then raised again, so a test
        (or the kernel's log) sees it instead of a quiet message.
        """
        try:
            with one_blas_thread(), self._frame_first():
                action(*args)
        except ValueError as error:
            self._set_message(str(error))
        except Exception as error:
            self._set_message(f"unexpected {type(error).__name__}: {error} (a bug in rfmaps; please report it)")
            raise
        else:
            self._set_message("")

    def _on_change(self, change) -> None:
        if self._quiet_depth:
            return
        if any(change["owner"] is self.controls[name] for name in self.selection_controls):
            self._guarded(self._select_from_controls, change["owner"])
        else:
            self._guarded(self._refresh)

    def _snapshot(self) -> dict:
        return {name: (c.value, getattr(c, "min", None), getattr(c, "max", None))
                for name, c in self.controls.items() if name not in self.selection_controls}

    def _restore_drawn(self) -> None:
        """Put every control back to the values of the picture on show."""
        with self._quiet():
            for name, (value, low, high) in self._drawn.items():
                control = self.controls[name]
                if low is not None:
                    set_range(control, low, high)
                control.value = value
            if self._selection is not None:
                self._sync_selection_controls()

    def _refresh(self) -> None:
        """Recompute and redraw after a change of the network or the image."""
        try:
            with self._quiet():  # the explorer's own range changes are not student actions
                self._adapt_ranges()
            state = self._compute()  # may raise: then the last picture stays
        except ValueError:
            self._restore_drawn()
            raise
        old_state, self._state = self._state, state
        self._selection = (self._default_selection(state) if old_state is None
                           else self._carried(old_state, state))
        self._draw(state)
        self._sync_selection_controls()
        self._draw_selection()
        self._drawn = self._snapshot()
        self._show(full=True)

    def _on_click(self, event) -> None:
        if event.inaxes is None or event.xdata is None:
            return
        self._guarded(self._click_select, event)

    def _click_select(self, event) -> None:
        hit = self._click(event)
        if hit is not None:
            self._apply_selection(*hit)

    def _on_draw(self, event) -> None:
        """After a full draw: keep the background and paint the overlays on it."""
        if not self._blit or self._saving:
            return
        canvas = self.figure.canvas
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        self._draw_overlays()

    def _draw_overlays(self) -> None:
        """Paint the overlays in the order a full draw paints them: by zorder, then in their axes' order.

        In list order a kernel's back slices covered its front face (VolumeExplorer) and a ring lay
        over the line it should lie under; tests/test_pixels.py compares blitted and full pictures.
        """
        def order(artist):
            children = artist.axes.get_children() if artist.axes is not None else []
            return artist.get_zorder(), next((i for i, a in enumerate(children) if a is artist), 0)

        for artist in sorted(self._overlays, key=order):
            self.figure.draw_artist(artist)

    def _show(self, full: bool) -> None:
        canvas = self.figure.canvas
        if self._blit and not full and self._background is not None:
            canvas.restore_region(self._background)
            self._draw_overlays()
            canvas.blit(self.figure.bbox)
        elif self._interactive and self._started:
            # Render and send the frame now: draw_idle would first ask the browser for
            # a draw request and wait for it (one more round trip before any pixel).
            canvas.draw()
        elif self._interactive:
            canvas.draw_idle()  # not shown yet: the browser asks for a frame when it shows the canvas
        elif _in_kernel():
            from IPython import get_ipython

            # One assignment replaces the picture in place (no flicker, no frontend routing).
            data, metadata = get_ipython().display_formatter.format(self.figure)
            self._output.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)
        else:
            canvas.draw()

    def _replace_previous_in_this_cell(self) -> None:
        cell = _current_cell_id()
        if cell is None:
            return
        key = (type(self), cell)
        previous = _LIVE.get(key)
        previous = previous() if previous else None
        if previous is not None and previous is not self:
            previous.close()
        def forget(ref: "weakref.ref") -> None:  # a collected explorer leaves the registry too
            if _LIVE.get(key) is ref:
                del _LIVE[key]

        _LIVE[key] = weakref.ref(self, forget)


def close_widgets(*roots) -> None:
    """Close each widget and every widget it holds (children, layout, style), each once.

    ``Widget.close`` closes only the widget itself: its ``Layout`` and style, and a
    box's children, would stay registered in the kernel (and in the browser) for
    good, one set per re-run of a cell.

    Examples
    --------
    >>> box = widgets.HBox([widgets.Label("a")])
    >>> label = box.children[0]
    >>> close_widgets(box)
    >>> label.comm is None and label.layout.comm is None and box.layout.comm is None
    True
    """
    stack, seen = list(roots), set()
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        for name in widget.keys:
            value = getattr(widget, name, None)
            for part in value if isinstance(value, (tuple, list)) else (value,):
                if isinstance(part, widgets.Widget):
                    stack.append(part)
        widget.close()


def frozen(array: np.ndarray) -> np.ndarray:
    """``array`` made read-only: cached values are shared, nobody may change them."""
    array.setflags(write=False)
    return array


SQUARE_PHOTO = "photo (square)"  # the middle square of the photo: size x size x 3, as in the classic example


def image_names() -> list:
    """The names the ``image`` control offers for samples."""
    from ..engine.images import SAMPLES

    names = list(SAMPLES)
    return names[:1] + [SQUARE_PHOTO] + names[1:]


def sample_image(name: str, size: int) -> np.ndarray:
    """The sample image ``name`` (one of :func:`image_names`) at ``size`` pixels.

    Examples
    --------
    >>> sample_image("photo (square)", 50).shape
    (50, 50, 3)
    """
    from ..engine.images import sample

    if name == SQUARE_PHOTO:
        return sample("photo", size=size, square=True)
    return sample(name, size=size)


def image_control(name: str) -> widgets.Dropdown:
    """A choice of sample images, plus the caller's own array when there is one."""
    options = (["your image"] if name == "your image" else []) + image_names()
    return widgets.Dropdown(options=options, value=name, description="image",
                            layout=widgets.Layout(width="240px"))  # room for 'photo (square)'


def slider(description: str, value: int, low: int, high: int, *, label: str = "",
           width: str = "220px") -> IntRange:
    """A compact integer slider that reports only when released or keyed.

    A native range input (:class:`rfmaps.widgets.controls.IntRange`): its name
    is ``description``, or ``label`` where that must say more to a screen
    reader ("stride of layer 2"; it contains the visible words).
    """
    return IntRange(value=value, min=low, max=high, description=description, label=label,
                    layout=widgets.Layout(width=width))


def set_range(control: IntRange, low: int, high: int) -> None:
    """Change a slider's range, keeping its value inside (max first when it grows)."""
    high = max(high, low)
    if (control.min, control.max) == (low, high):
        return
    # ipywidgets refuses min > max at every step: widen first, then narrow.
    control.min = min(low, control.min)
    control.max = high
    control.min = low
