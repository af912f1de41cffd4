"""What every explorer shares: controls, one figure, messages, display, cleanup.

An explorer is split the way mpl-interactions splits an interactive plot:

* ``controls``: name -> ipywidget, built once;
* state: ``_compute()`` turns the control values into everything the picture
  needs (may raise ``ValueError``; nothing is drawn then, so the last valid
  picture stays and the error becomes ``message``);
* artists: ``_draw(state)`` changes the artists built once in ``_build()``,
  and ``_draw_selection()`` moves only the overlays of the selected neuron.

Under ``%matplotlib widget`` (ipympl) the canvas is a widget: clicks select
neurons and a moved selection is blitted (overlays only). Under the inline
backend (Colab, VS Code, nbconvert) the figure is shown as an image in an
``Output`` widget and replaced in place after each change; the row and column
controls pick the neuron.
"""

from __future__ import annotations

import html
import weakref
from collections import OrderedDict
from typing import Dict, Optional

import ipywidgets as widgets
import matplotlib

from ..drawing import make_figure

_LIVE: Dict[tuple, "weakref.ref"] = {}  # (class, notebook cell) -> explorer shown there


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


class Cache:
    """A small least-recently-used cache: recompute only what a change affects."""

    def __init__(self, size: int = 16):
        self.size, self._items = size, OrderedDict()

    def get(self, key, compute):
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = compute()
        self._items[key] = value
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return value


class Explorer:
    """Base class; subclasses define the controls, the figure and the state."""

    figsize = (10, 4)

    def __init__(self, *, blit: Optional[bool] = None):
        self.message = ""
        self._interactive = _interactive_backend()
        self._blit = self._interactive if blit is None else blit
        self._background = None
        self._quiet = False  # True while the explorer itself adjusts controls
        self.figure = make_figure(self.figsize, self._interactive)
        self._overlays = []  # artists moved by a selection (blitted when possible)
        self._message_box = widgets.HTML()
        self._readout = widgets.HTML()
        # Long text lives in HTML beside the figure: text is the slowest thing Agg draws.
        self._caption = widgets.HTML()
        self._output = widgets.Output()
        self.controls = self._make_controls()
        self._build()
        for artist in self._overlays:
            artist.set_animated(self._blit)
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        canvas = self.figure.canvas
        canvas.mpl_connect("draw_event", self._on_draw)
        if self._interactive:
            canvas.mpl_connect("button_press_event", self._on_click)
            canvas.toolbar_visible = False
            canvas.header_visible = False
            canvas.footer_visible = False
        self.widget = self._layout()
        self._guarded(self._refresh)
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

    def _click(self, event) -> None:
        raise NotImplementedError

    def _image(self):
        """The image the ``image`` control names (subclasses set ``_own_image``, ``_size``, ``_images``)."""
        name = self.controls["image"].value
        return self._images.get(name, lambda: load_choice(name, self._own_image, self._size))

    def _adapt_ranges(self) -> None:
        """Narrow slider ranges so the output stays at least 1 x 1 where possible."""

    # --- the common interface ------------------------------------------------------
    @property
    def layers(self):
        return self._state.layers

    @property
    def input_size(self):
        return self._state.input_size

    def set(self, **values) -> None:
        """Set several controls at once, as a student would one after the other."""
        for name, value in values.items():
            if name not in self.controls:
                raise ValueError(f"no control named {name!r}; controls are {', '.join(self.controls)}")
            self.controls[name].value = value

    def close(self) -> None:
        """Close the figure and every widget (a re-run of the cell does this too)."""
        import matplotlib.pyplot as plt

        plt.close(self.figure)
        for control in self.controls.values():
            control.close()
        for box in (self._message_box, self._caption, self._readout, self._output, self.widget):
            box.close()
        if self._interactive:
            self.figure.canvas.close()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # --- plumbing --------------------------------------------------------------------
    def _layout(self):
        rows = self._control_rows()
        picture = self.figure.canvas if self._interactive else self._output
        return widgets.VBox([rows, self._message_box, self._caption, picture, self._readout] + self._side())

    def _control_rows(self):
        return widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))

    def _side(self):
        return []

    def _set_message(self, text: str) -> None:
        self.message = text
        self._message_box.value = (
            "" if not text else
            f'<div style="color:#B34700;font-weight:bold">⚠ {html.escape(text)}</div>')

    def _guarded(self, action, *args) -> None:
        """Run a callback; a ValueError becomes the message, the last picture stays."""
        try:
            action(*args)
        except ValueError as error:
            self._set_message(str(error))
        except Exception as error:  # never let a widget callback die silently in a log
            self._set_message(f"unexpected {type(error).__name__}: {error}")
        else:
            self._set_message("")

    def _on_change(self, change) -> None:
        if self._quiet:
            return
        self._guarded(self._refresh)

    def _refresh(self) -> None:
        self._quiet = True  # the explorer's own range changes are not student actions
        try:
            self._adapt_ranges()
            state = self._compute()  # may raise: then the last picture stays
            self._state = state
            self._draw(state)
            self._draw_selection()
        finally:
            self._quiet = False
        self._show(full=True)

    def _select_and_show(self) -> None:
        self._draw_selection()
        self._show(full=False)

    def _on_click(self, event) -> None:
        if event.inaxes is None or event.xdata is None:
            return
        self._guarded(self._click, event)

    def _on_draw(self, event) -> None:
        """After a full draw: keep the background and paint the overlays on it."""
        if not self._blit:
            return
        canvas = self.figure.canvas
        self._background = canvas.copy_from_bbox(self.figure.bbox)
        for artist in self._overlays:
            self.figure.draw_artist(artist)

    def _show(self, full: bool) -> None:
        canvas = self.figure.canvas
        if self._blit and not full and self._background is not None:
            canvas.restore_region(self._background)
            for artist in self._overlays:
                self.figure.draw_artist(artist)
            canvas.blit(self.figure.bbox)
        elif self._interactive:
            canvas.draw_idle()
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
        _LIVE[key] = weakref.ref(self)


def image_control(image) -> widgets.Dropdown:
    """A choice of sample images, plus the caller's own array when one is given."""
    from ..images import SAMPLES

    options = list(SAMPLES)
    if not isinstance(image, str):
        options = ["your image"] + options
        image = "your image"
    elif image not in options:
        raise ValueError(f"image must be an array or one of {', '.join(map(repr, options))}, got {image!r}")
    return widgets.Dropdown(options=options, value=image, description="image",
                            layout=widgets.Layout(width="200px"))


def load_choice(name: str, own, size: int):
    """The image a dropdown names, as floats (the caller's own array for 'your image')."""
    from ..images import as_float_image, sample

    if name == "your image":
        return as_float_image(own)
    return sample(name, size=size)


def slider(description: str, value: int, low: int, high: int, **kwargs) -> widgets.IntSlider:
    """A compact integer slider that reports only when released or keyed."""
    return widgets.IntSlider(value=value, min=low, max=high, description=description,
                             continuous_update=False, style={"description_width": "initial"},
                             layout=widgets.Layout(width=kwargs.pop("width", "220px")), **kwargs)


def set_range(control: widgets.IntSlider, low: int, high: int) -> None:
    """Change a slider's range, keeping its value inside (max first when it grows)."""
    high = max(high, low)
    # ipywidgets refuses min > max at every step: widen first, then narrow.
    control.min = min(low, control.min)
    control.max = high
    control.min = low
