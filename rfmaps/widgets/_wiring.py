"""Controls wiring: checks of values, the controls a student sees, the explorer's own changes.

An explorer makes every control it has (name -> widget); :class:`Wiring`
keeps those chosen with ``controls=`` (per-layer controls such as
``kernel_size_1``, ``kernel_size_2``... by their common name) plus the
selection controls, and fixes the others at their starting values. It tells a
student's change from the explorer's own (:meth:`Wiring.quiet`), remembers the
values of the picture on show and puts them back after a refusal.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import ipywidgets as widgets
import numpy as np

from .._core.validation import is_int
from .controls import IntRange

__all__ = ["Wiring", "check_bool", "check_choice", "check_int", "close_widgets", "set_range", "slider"]


def check_int(value, name: str, low: int, high: int) -> int:
    """``value`` as an int from ``low`` to ``high``, or a ValueError that names ``name``.

    >>> check_int(3, "stride", 1, 4)
    3
    """
    if not is_int(value) or not low <= value <= high:
        raise ValueError(f"{name} must be an int from {low} to {high}, got {value!r}")
    return int(value)


def check_bool(value, name: str) -> bool:
    """``value`` as a bool, or a ValueError that names ``name`` (1 and 0 are not bools here)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, options: Sequence) -> str:
    """``value`` if it is one of the strings ``options``, else a ValueError that names ``name``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, got {value!r}")
    return value


def slider(description: str, value: int, low: int, high: int, *, label: str = "",
           width: str = "220px") -> IntRange:
    """A compact integer slider that reports only when released or keyed.

    A native range input (:class:`rfmaps.widgets.controls.IntRange`): its name
    is ``description``, or ``label`` where that must say more to a screen
    reader ("stride of layer 2"; it contains the visible words).
    """
    return IntRange(value=value, min=low, max=high, description=description, label=label,
                    layout=widgets.Layout(width=width))


def set_range(control: Any, low: int, high: int) -> None:
    """Change a slider's range, keeping its value inside (max first when it grows)."""
    high = max(high, low)
    if (control.min, control.max) == (low, high):
        return
    # ipywidgets refuses min > max at every step: widen first, then narrow.
    control.min = min(low, control.min)
    control.max = high
    control.min = low


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


def _group(name: str) -> str:
    """What ``controls=`` calls a control: ``kernel_size_2`` is one of the ``kernel_size`` controls."""
    return re.sub(r"_\d+$", "", name)


class Wiring:
    """The controls an explorer shows, the ones it fixed, and who is changing them.

    Parameters
    ----------
    every : dict
        Every control the explorer makes, name -> widget.
    chosen : list of str or None
        The names ``controls=`` gave (None: all). Refused with a ValueError
        (every control closed) when it names something else.
    selection : tuple of str
        The selection controls: always shown.

    Examples
    --------
    >>> wiring = Wiring({"stride": slider("stride", 2, 1, 4), "row": slider("row", 0, 0, 3)}, [], ("row",))
    >>> list(wiring.shown), wiring.fixed, wiring.value("stride")
    (['row'], {'stride': 2}, 2)
    >>> wiring.close()
    """

    def __init__(self, every: Dict[str, Any], chosen: Optional[Sequence[str]], selection: Tuple[str, ...]):
        self.selection = selection
        self.fixed: Dict[str, Any] = {}  # control name -> value, for the controls not chosen with controls=
        self.drawn: Dict[str, tuple] = {}  # control name -> (value, min, max) of the picture on show
        self._quiet_depth = 0  # > 0 while the explorer itself sets controls
        try:
            self.shown = self._chosen(every, chosen)
        except ValueError:
            close_widgets(*every.values())
            raise

    def _chosen(self, every: Dict[str, Any], chosen: Optional[Sequence[str]]) -> Dict[str, Any]:
        if chosen is None:
            return every
        groups: Dict[str, list] = {}  # what controls= may name -> the controls it shows
        for key in every:
            if key not in self.selection:
                groups.setdefault(_group(key), []).append(key)
        if isinstance(chosen, str) or not all(isinstance(name, str) for name in chosen):
            raise ValueError(f"controls must be a list of names from {', '.join(map(repr, groups))}, "
                             f"got {chosen!r}")
        for name in chosen:
            if name not in groups:
                raise ValueError(f"controls must name some of {', '.join(map(repr, groups))} (row, col and "
                                 f"the other selection controls always appear), got {name!r}")
        shown = {key for name in chosen for key in groups[name]} | set(self.selection)
        for key, control in every.items():
            if key not in shown:
                self.fixed[key] = control.value
                close_widgets(control)
        return {key: control for key, control in every.items() if key in shown}

    def value(self, name: str) -> Any:
        """The value of control ``name``, shown or fixed."""
        control = self.shown.get(name)
        return self.fixed[name] if control is None else control.value

    @property
    def quiet_now(self) -> bool:
        """True while the explorer itself sets controls (their changes are not a student's)."""
        return self._quiet_depth > 0

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Within this block, control changes are the explorer's own, not a student's."""
        self._quiet_depth += 1
        try:
            yield
        finally:
            self._quiet_depth -= 1

    def is_selection(self, control: Any) -> bool:
        """Whether ``control`` is one of the selection controls."""
        return any(control is self.shown[name] for name in self.selection)

    def remember(self) -> None:
        """Keep the values of the controls that made the picture now on show."""
        self.drawn = {name: (c.value, getattr(c, "min", None), getattr(c, "max", None))
                      for name, c in self.shown.items() if name not in self.selection}

    def restore(self) -> None:
        """Put every network control back to the values of the picture on show."""
        with self.quiet():
            for name, (value, low, high) in self.drawn.items():
                control = self.shown[name]
                if low is not None:
                    set_range(control, low, high)
                control.value = value

    def check(self, name: str, value: Any, explorer: str) -> None:
        """Refuse (ValueError) a value ``set(name=value)`` may not give: its control must offer it."""
        if name in self.fixed:
            raise ValueError(f"{name} is fixed at {self.fixed[name]!r} in this explorer: add {_group(name)!r} "
                             f"to its controls=... to let it change")
        if name not in self.shown:
            raise ValueError(f"no control named {name!r}; controls are {', '.join(self.shown)}")
        control = self.shown[name]
        if isinstance(control, (IntRange, widgets.IntSlider)):
            check_int(value, name, control.min, control.max)
        elif isinstance(control, widgets.Checkbox):
            check_bool(value, name)
        else:  # Dropdown, SelectionSlider, ChoiceRange: one of the option values
            allowed = [option[1] if isinstance(option, tuple) else option for option in control.options]
            if name == "image" and not isinstance(value, str):
                raise ValueError("image must be one of the names the image control offers "
                                 f"({', '.join(map(repr, allowed))}); to show your own array, build a "
                                 f"new explorer with it: {explorer}(my_array)")
            # An array is never an option (and == on it is no bool); a bool is no option number.
            if isinstance(value, (np.ndarray, bool)) or not any(value == a for a in allowed):
                raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")

    def close(self) -> None:
        close_widgets(*self.shown.values())
