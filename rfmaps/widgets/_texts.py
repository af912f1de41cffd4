"""The words around an explorer's figure, and the layout of its widget.

* ``message``: why the last change was refused (empty otherwise), announced;
* ``notice``: what was done to the caller's image (rescaled, shrunk);
* ``caption``: what the panels show (long text lives in HTML beside the
  figure: text is the slowest thing Agg draws);
* ``readout``: what the picture says about the selection; it is the figure's
  description for assistive technology, announced once a change settles.
"""

from __future__ import annotations

import contextlib
import html
from typing import Any, Iterator, List

import ipywidgets as widgets

from .controls import FIGURE_CLASS, LiveText

__all__ = ["Texts"]


class Texts:
    """The message, notice, caption and readout of one explorer (``name`` labels its figure).

    Examples
    --------
    >>> texts = Texts("MyExplorer")
    >>> texts.set_message("stride must be an int from 1 to 4, got 9"); texts.message
    'stride must be an int from 1 to 4, got 9'
    >>> texts.close()
    """

    def __init__(self, name: str):
        self.message = self.notice = ""
        self.message_box = LiveText()  # a refusal is announced too
        self.notice_box = widgets.HTML()
        self.readout = LiveText(describes=FIGURE_CLASS, figure_label=f"{name} figure", keep_keys=True)
        self.caption = widgets.HTML()
        self.side: List[Any] = []  # widgets a view shows below the readout (StackExplorer's table)
        self.widget: Any = None

    def set_message(self, text: str) -> None:
        if text == self.message:
            return
        self.message = text
        self.message_box.value = (
            "" if not text else
            f'<div style="color:#B34700;font-weight:bold">⚠ {html.escape(text)}</div>')

    def set_notice(self, text: str) -> None:
        self.notice = text
        self.notice_box.value = "" if not text else f'<div style="color:#555">ℹ {html.escape(text)}</div>'

    @contextlib.contextmanager
    def held(self, controls: Any) -> Iterator[None]:
        """Within this block, hold back the controls' and texts' updates until the end.

        The new frame goes to the browser as soon as it is drawn; slider values,
        ranges, captions and readouts follow it, one message per widget.
        """
        with contextlib.ExitStack() as stack:
            for widget in [*controls, self.readout, self.caption, *self.side]:
                stack.enter_context(widget.hold_sync())
            yield

    def layout(self, control_rows: Any, picture: Any, side: List[Any]) -> widgets.VBox:
        """The explorer's widget: controls, message, notice, caption, figure, readout, then ``side``."""
        picture.add_class(FIGURE_CLASS)  # described by the readout (LiveText)
        self.side = list(side)
        self.widget = widgets.VBox([control_rows, self.message_box, self.notice_box, self.caption, picture,
                                    self.readout, *self.side])
        return self.widget

    def made(self) -> List[Any]:
        """Every widget made here (the layout's boxes close with their children)."""
        return [self.message_box, self.notice_box, self.readout, self.caption, *self.side,
                *([self.widget] if self.widget is not None else [])]

    def close(self) -> None:
        from ._wiring import close_widgets

        close_widgets(*self.made())
