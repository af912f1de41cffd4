"""Selection models: what an explorer's selection is, how it is checked, kept and shown in controls.

One :class:`Selection` value is the thing on show: a neuron ``(layer, row,
col)`` with the feature map shown. A model says what the selection controls
are and does five things with it: check a request (:meth:`~NeuronSelection.check`,
a ValueError names the argument), pick the first selection
(:meth:`~NeuronSelection.default`: the neuron whose field is centred nearest the
image centre, by the one tie rule of :func:`rfmaps._core.geometry.nearest_index`),
carry it over a change of the network (:meth:`~NeuronSelection.carried`), set the
selection controls to it (:meth:`~NeuronSelection.sync`) and read a request
from them (:meth:`~NeuronSelection.from_controls`). Three models:

* :class:`NeuronSelection`: 2-D neurons, with optional ``layer`` and ``map`` controls;
* :class:`PositionSelection`: 1-D positions (maps of one row), one ``position`` control;
* :class:`PixelSelection`: an input pixel (ProjectiveExplorer).

The geometry (nearest neuron, corresponding neuron) comes from
:mod:`rfmaps.arithmetic.receptive_field`; the models hold none of their own.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Dict, NamedTuple, Optional, Protocol, Tuple

from .._core.geometry import nearest_index
from .._core.validation import is_int
from ..arithmetic.receptive_field import corresponding_neuron, nearest_neuron
from ._wiring import set_range

__all__ = ["Selection", "NeuronSelection", "PositionSelection", "PixelSelection", "View"]

Controls = Dict[str, Any]


class Selection(NamedTuple):
    """The selected neuron: ``layer`` indexes ``.layers``; ``map`` is the feature map shown."""

    layer: int
    row: int
    col: int
    map: int = 0


class View(Protocol):
    """What a selection model asks of the explorer it serves."""

    def _shown_layers(self, state: Any) -> tuple: ...

    def _map_count(self, state: Any, layer: int) -> int: ...

    def _layer_after_change(self, old_state: Any, old_layer: int, state: Any) -> int: ...

    def _set_layer_options(self, state: Any) -> None: ...


def _centre(size: Tuple[int, int]) -> Tuple[Fraction, Fraction]:
    """The exact centre of an input of ``size`` pixels (a half pixel for an even side)."""
    return (Fraction(size[0] - 1, 2), Fraction(size[1] - 1, 2))


class NeuronSelection:
    """2-D neurons of the layers an explorer shows; ``names`` are its selection controls.

    ``row`` and ``col`` always; ``map`` where the explorer lets one pick a
    feature map, ``layer`` where it shows several layers.
    """

    def __init__(self, names: Tuple[str, ...] = ("row", "col")):
        self.names = names

    def check(self, view: View, state: Any, row, col, layer, map, current: Optional[Selection]) -> Selection:
        """The neuron asked for, or a ValueError naming the argument out of range."""
        count = len(state.layers)
        if not is_int(layer) or not -count <= layer < count:
            raise ValueError(f"layer must be an int from {-count} to {count - 1} "
                             f"(an index into .layers), got {layer!r}")
        shown = view._shown_layers(state)
        # -1 is the last layer *shown*: with a long given network (StackExplorer shows its first blocks)
        # that is not the network's last layer.
        layer = shown[-1] if layer == -1 else int(layer) % count
        if layer not in shown:
            raise ValueError(f"this explorer shows the output of layers {', '.join(str(i) for i in shown)} "
                             f"(or -1 for the last of them), not layer {layer} ({state.layers[layer]!r})")
        h, w = state.rows[layer].output_size
        for name, value, n in self._axes(row, col, h, w, layer):
            if not is_int(value) or not 0 <= value < n:
                raise ValueError(f"{name} must be an int from 0 to {n - 1} (layer {layer} gives "
                                 f"{h} × {w} maps), got {value!r}")
        maps = view._map_count(state, layer)
        if map is None:
            map = min(current.map, maps - 1) if current is not None else 0
        elif not is_int(map) or not 0 <= map < maps:
            raise ValueError(f"map must be an int from 0 to {maps - 1}, got {map!r}")
        return Selection(layer, int(row), int(col), int(map))

    def _axes(self, row, col, h: int, w: int, layer: int) -> tuple:
        return (("row", row, h), ("col", col, w))

    def default(self, view: View, state: Any) -> Selection:
        """The neuron of the last layer shown whose own field is centred nearest the image centre."""
        layer = view._shown_layers(state)[-1]
        row, col = nearest_neuron(state.layers, _centre(state.input_size), state.input_size, layer=layer)
        return Selection(layer, row, col, 0)

    def carried(self, view: View, old_state: Any, state: Any, current: Selection) -> Selection:
        """The selection after a change of the network: the neuron that looks where the old one did."""
        layer = view._layer_after_change(old_state, current.layer, state)
        row, col = corresponding_neuron(old_state.layers, current[1:3], old_state.input_size,
                                        state.layers, state.input_size, current.layer, layer)
        return Selection(layer, row, col, min(current.map, view._map_count(state, layer) - 1))

    def sync(self, view: View, controls: Controls, state: Any, selection: Selection) -> None:
        """Set every selection control to ``selection`` (ranges first)."""
        h, w = state.rows[selection.layer].output_size
        if "layer" in self.names:
            view._set_layer_options(state)
            controls["layer"].value = selection.layer
        if "map" in self.names:
            set_range(controls["map"], 0, view._map_count(state, selection.layer) - 1)
            controls["map"].value = selection.map
        set_range(controls["row"], 0, h - 1)
        set_range(controls["col"], 0, w - 1)
        controls["row"].value, controls["col"].value = selection.row, selection.col

    def from_controls(self, view: View, controls: Controls, state: Any, current: Selection) -> tuple:
        """``(row, col, layer, map)`` the selection controls ask for now."""
        layer = controls["layer"].value if "layer" in self.names else current.layer
        map = controls["map"].value if "map" in self.names else None
        if layer != current.layer:  # the same place on the input, seen from another layer
            row, col = corresponding_neuron(state.layers, current[1:3], state.input_size,
                                            state.layers, state.input_size, current.layer, layer)
        else:
            row, col = self._position(controls)
        return row, col, layer, map

    def _position(self, controls: Controls) -> Tuple[int, int]:
        return controls["row"].value, controls["col"].value


class PositionSelection(NeuronSelection):
    """1-D positions: maps of one row, a neuron is ``(0, position)``; one ``position`` control (and ``layer``).

    Examples
    --------
    >>> PositionSelection().names
    ('position',)
    """

    def __init__(self, names: Tuple[str, ...] = ("position",)):
        super().__init__(names)

    def _axes(self, row, col, h: int, w: int, layer: int) -> tuple:
        if h != 1:
            raise ValueError(f"a position explorer shows maps of one row; layer {layer} gives {h} rows")
        if not is_int(row) or row != 0:
            raise ValueError(f"row must be 0: layer {layer} gives 1 × {w} maps, got {row!r}")
        return (("position", col, w),)

    def sync(self, view: View, controls: Controls, state: Any, selection: Selection) -> None:
        if "layer" in self.names:
            view._set_layer_options(state)
            controls["layer"].value = selection.layer
        set_range(controls["position"], 0, state.rows[selection.layer].output_size[1] - 1)
        controls["position"].value = selection.col

    def _position(self, controls: Controls) -> Tuple[int, int]:
        return 0, controls["position"].value


class PixelSelection:
    """An input pixel: ``Selection(-1, row, col)``; controls ``row`` and ``col``.

    ``first`` is the pixel chosen at the start (default: the pixel nearest the
    image centre, by the one tie rule). After a change of the network the same
    pixel stays where it exists, else the nearest one.
    """

    names = ("row", "col")

    def __init__(self, first: Optional[Tuple[int, int]] = None):
        self.first = first

    def check(self, view: View, state: Any, row, col, layer, map, current: Optional[Selection]) -> Selection:
        if layer != -1:
            raise ValueError(f"this explorer selects input pixels: layer must be -1, got {layer!r}")
        h, w = state.input_size
        for name, value, n in (("row", row, h), ("col", col, w)):
            if not is_int(value) or not 0 <= value < n:
                raise ValueError(f"pixel {name} must be an int from 0 to {n - 1} (the input is "
                                 f"{h} × {w}), got {value!r}")
        return Selection(-1, int(row), int(col))

    def default(self, view: View, state: Any) -> Selection:
        h, w = state.input_size
        centre = _centre(state.input_size)
        row, col = self.first if self.first is not None else (nearest_index(centre[0], h), nearest_index(centre[1], w))
        return Selection(-1, row, col)

    def carried(self, view: View, old_state: Any, state: Any, current: Selection) -> Selection:
        h, w = state.input_size
        return Selection(-1, min(current.row, h - 1), min(current.col, w - 1))

    def sync(self, view: View, controls: Controls, state: Any, selection: Selection) -> None:
        h, w = state.input_size
        set_range(controls["row"], 0, h - 1)
        set_range(controls["col"], 0, w - 1)
        controls["row"].value, controls["col"].value = selection.row, selection.col

    def from_controls(self, view: View, controls: Controls, state: Any, current: Selection) -> tuple:
        return controls["row"].value, controls["col"].value, -1, None
