"""The explorer base: the selection contract and one refresh cycle; the parts do the rest.

The parts, one job each: :mod:`._wiring` (the controls shown, ``set()``'s checks, the explorer's own
changes told from a student's), :mod:`._selection` (2-D neurons, 1-D positions or an input pixel:
check, default, carry over a change, controls), :mod:`._intake` (a sample or the caller's array,
shrunk by :func:`rfmaps.engine.images.downsample`), :mod:`._cache` (bounded in bytes), :mod:`._texts`
(message, notice, caption, readout, layout), :mod:`._cells` (one explorer per notebook cell) and
:mod:`._canvas` (the figure; blitting or a full draw).

A view provides ``_make_controls`` (name -> widget), ``_compute`` (the state: ``layers``,
``input_size``, ``rows`` = :func:`rfmaps.receptive_fields`, and what it draws; a ValueError refuses
the change, the controls go back and the error becomes ``message``), ``_build`` (artists, once),
``_draw(state)``, ``_draw_selection()``, ``_click(event)``, and ``_selection_artists()``: the
artists that depend on the selection. After a change of the network or the image the whole figure
is drawn; after a selection the declared artists are blitted unless anything else changed
(:class:`._canvas.Picture` decides, from matplotlib's own staleness: no view has to ask).

The contract, the same in every explorer: ``select(row, col, layer=i)`` counts ``i`` in ``.layers``
exactly as :func:`rfmaps.input_region` does; afterwards ``.selected == (i, row, col)`` and
``.region == input_region(.layers, (row, col), .input_size, layer=i)``. ``layer=-1`` is always
accepted; a layer the explorer does not draw is refused with a message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np

from ..arithmetic.receptive_field import NeuronField, input_region, neuron_field
from . import _cells
from ._cache import Cache, frozen
from ._canvas import Picture, in_kernel, one_blas_thread
from ._intake import (MAX_IMAGE_SIDE, SQUARE_PHOTO, ImageSource, check_image, image_control, image_names,
                      sample_image, shrink)
from ._selection import NeuronSelection, PixelSelection, PositionSelection, Selection
from ._wiring import Wiring, check_bool, check_choice, check_int, close_widgets, set_range, slider
from ._texts import Texts

__all__ = ["Explorer", "Selection", "Cache", "frozen", "check_int", "check_bool", "check_choice", "slider",
           "set_range", "close_widgets", "image_control", "image_names", "sample_image", "check_image", "shrink",
           "MAX_IMAGE_SIDE", "SQUARE_PHOTO", "NeuronSelection", "PositionSelection", "PixelSelection",
           "one_blas_thread", "in_kernel"]


class Explorer:
    """Base class of the explorers; a view provides controls, state, artists (see the module's text).

    ``selection_model`` says what is selected (:class:`NeuronSelection` with
    the selection controls' names, :class:`PositionSelection`,
    :class:`PixelSelection`); ``_shown_layers`` and ``_map_count`` when the
    figure shows more than the last layer's first map.
    """

    figsize: Tuple[float, float] = (10, 4)
    selection_model: Any = NeuronSelection(("row", "col"))

    def __init__(self, image=None, size: int = 48, *, blit: Optional[bool] = None,
                 controls: Optional[Sequence[str]] = None):
        self._size = check_int(size, "size", 8, MAX_IMAGE_SIDE)
        # An explorer that draws no image (ProjectiveExplorer) passes image=None.
        self._source = ImageSource(image, self._size)
        self._own_name, self._own_image = self._source.name, self._source.own
        self._picture = Picture(self.figsize, None if blit is None else check_bool(blit, "blit"))
        self.figure, self._output = self._picture.figure, self._picture.output
        self._state: Any = None
        self._selection: Any = None  # a Selection once the first state is drawn
        self._words = Texts(type(self).__name__)
        self._readout, self._caption = self._words.readout, self._words.caption  # the views write these
        self._words.set_notice(self._source.notice)
        try:
            self._wiring = Wiring(self._make_controls(), controls, self.selection_controls)
        except ValueError:
            self.close()
            raise
        self.controls: Dict[str, Any] = self._wiring.shown
        self._fixed = self._wiring.fixed
        self._build()
        self._picture.declare(self._selection_artists())
        try:
            with one_blas_thread():
                self._refresh()  # unguarded: starting values that cannot be drawn raise here
        except Exception:
            self.close()
            raise
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        if self._picture.interactive:
            canvas: Any = self.figure.canvas
            canvas.mpl_connect("button_press_event", self._on_click)
            canvas.toolbar_visible = canvas.header_visible = canvas.footer_visible = False
        picture: Any = self.figure.canvas if self._picture.interactive else self._picture.output
        self.widget = self._words.layout(self._control_rows(), picture, self._side())
        self._picture.started = True
        _cells.replace_previous(self)

    # --- what a view provides (see the module's text); the defaults suit one layer's first map ----------
    def _make_controls(self) -> Dict[str, Any]: raise NotImplementedError
    def _build(self) -> None: raise NotImplementedError
    def _selection_artists(self) -> List[Any]: raise NotImplementedError
    def _compute(self) -> Any: raise NotImplementedError
    def _draw(self, state: Any) -> None: raise NotImplementedError
    def _draw_selection(self) -> None: raise NotImplementedError

    def _click(self, event: Any) -> Optional[tuple]:
        """``(row, col, layer[, map])`` of the neuron under a click, or None."""
        raise NotImplementedError

    def _shown_layers(self, state: Any) -> tuple:
        """Indices in ``state.layers`` whose neurons the figure shows (ascending)."""
        return (len(state.layers) - 1,)

    def _map_count(self, state: Any, layer: int) -> int:
        """How many feature maps of ``layer`` the figure lets one pick from."""
        return 1

    def _adapt_ranges(self) -> None:
        """Narrow slider ranges so the picture stays drawable where possible."""

    def _layer_after_change(self, old_state: Any, old_layer: int, state: Any) -> int:
        """The layer the selection moves to when the network changes under it."""
        shown = self._shown_layers(state)
        return old_layer if old_layer in shown else shown[-1]

    def _set_layer_options(self, state: Any) -> None:
        """Give the ``layer`` control the layers shown (views with such a control)."""

    def _default_selection(self, state: Any) -> Selection:
        return self.selection_model.default(self, state)

    def _control_rows(self) -> Any:
        return widgets.HBox(list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap"))

    def _side(self) -> List[Any]:
        return []

    # --- the parts' state, as views and tests name it ---------------------------------------------
    selection_controls = property(lambda self: self.selection_model.names,
                                  doc="The controls that move the selection (named after Selection's fields).")
    _drawn = property(lambda self: self._wiring.drawn)  # the control values of the picture on show
    _background = property(lambda self: self._picture.background)
    message = property(lambda self: self._words.message, doc="Why the last change was refused (else empty).")
    notice = property(lambda self: self._words.notice, doc="What was done to your image (else empty).")

    def _value(self, name: str) -> Any:
        """The value of control ``name``, shown or fixed."""
        return self._wiring.value(name)

    def _image(self) -> np.ndarray:
        """The image the ``image`` control names."""
        return self._source.get(self._value("image"))

    # --- the common interface ------------------------------------------------------
    @property
    def layers(self) -> tuple:
        return self._state.layers

    @property
    def input_size(self) -> Tuple[int, int]:
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
    def region(self) -> Any:
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

    def set(self, **values: Any) -> None:
        """Set several controls at once, as a student would one after the other.

        Raises
        ------
        ValueError
            If a name is not a control or a value is not one its control offers
            (a float or a bool for an integer slider, a value beyond its range).
        """
        for name, value in values.items():
            self._wiring.check(name, value, type(self).__name__)
            self.controls[name].value = value

    def save(self, path: Any, *, dpi: int = 150) -> None:
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
        self._picture.save(path, dpi)

    def close(self) -> None:
        """Close the figure and every widget the explorer made (a re-run of the cell does this too)."""
        self._picture.close()
        wiring = getattr(self, "_wiring", None)
        close_widgets(*(wiring.shown.values() if wiring else ()), *self._words.made(), self._picture.output)
        _cells.forget(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    # --- one cycle: a change of the network, or of the selection -----------------------
    def _refresh(self) -> None:
        """Recompute and draw the whole figure after a change of the network or the image."""
        try:
            with self._wiring.quiet():  # the explorer's own range changes are not student actions
                self._adapt_ranges()
            state = self._compute()  # may raise: then the last picture stays
        except ValueError:
            self._wiring.restore()
            if self._selection is not None:
                self._sync_selection_controls()
            raise
        old_state, self._state = self._state, state
        self._selection = (self._default_selection(state) if old_state is None
                           else self.selection_model.carried(self, old_state, state, self._selection))
        self._draw(state)
        self._picture.declare(self._selection_artists())  # a draw may have made new ones
        self._sync_selection_controls()
        self._draw_selection()
        self._wiring.remember()
        self._picture.show(full=True)

    def _apply_selection(self, row: Any, col: Any, layer: Any = -1, map: Any = None) -> None:
        """Check a neuron, make it the selection, set the controls to it, redraw what depends on it."""
        self._selection = self.selection_model.check(self, self._state, row, col, layer, map, self._selection)
        self._sync_selection_controls()
        self._draw_selection()
        self._picture.show_selection()

    def _sync_selection_controls(self) -> None:
        with self._wiring.quiet():
            self.selection_model.sync(self, self.controls, self._state, self._selection)

    # --- events and messages ------------------------------------------------------------
    def _guarded(self, action: Any, *args: Any) -> None:
        """Run an action a student started; a refusal (ValueError) becomes the message.

        Anything else is a bug: it is shown too, then raised again, so a test
        (or the kernel's log) sees it instead of a quiet message.
        """
        try:
            with one_blas_thread(), self._words.held(self.controls.values()):
                action(*args)
        except ValueError as error:
            self._set_message(str(error))
        except Exception as error:
            self._set_message(f"unexpected {type(error).__name__}: {error} (a bug in rfmaps; please report it)")
            raise
        else:
            self._set_message("")

    def _on_change(self, change: Dict[str, Any]) -> None:
        if self._wiring.quiet_now:
            return
        if self._wiring.is_selection(change["owner"]):
            self._guarded(self._select_from_controls)
        else:
            self._guarded(self._refresh)

    def _select_from_controls(self) -> None:
        self._apply_selection(*self.selection_model.from_controls(self, self.controls, self._state,
                                                                  self._selection))

    def _on_click(self, event: Any) -> None:
        if event.inaxes is None or event.xdata is None:
            return
        self._guarded(self._click_select, event)

    def _click_select(self, event: Any) -> None:
        hit = self._click(event)
        if hit is not None:
            self._apply_selection(*hit)

    def _set_message(self, text: str) -> None:
        self._words.set_message(text)
