"""Commit to a prediction, then see the answer: a small question widget for the notebooks.

A student who reads the answer right below the question learns less than one
who first writes a guess down. :class:`Predict` shows a question and an input
(a box for numbers, or one button per option). The answer and its explanation
stay hidden until the student presses *Check*; after that the guess is locked,
so the first prediction is the one that counts.
"""

from __future__ import annotations

import html
import re
from typing import Dict, Optional, Sequence, Union

import ipywidgets as widgets

__all__ = ["Predict"]

Number = Union[int, Sequence[int]]


def numbers_in(text: str) -> tuple:
    """Every integer written in ``text``: ``"46 x 46"`` -> ``(46, 46)``, ``"(2, 4)"`` -> ``(2, 4)``.

    Examples
    --------
    >>> numbers_in("46 × 46"), numbers_in("-3 and 7"), numbers_in("rows 2-4"), numbers_in("none")
    ((46, 46), (-3, 7), (2, 4), ())
    """
    # A minus right after a digit is a range ("2-4"), not a sign.
    return tuple(int(n) for n in re.findall(r"(?<!\d)-?\d+", text))


class Predict:
    """A question whose answer appears only after the student commits to a guess.

    Parameters
    ----------
    question : str
        The question, as HTML-free text (it is escaped).
    answer : int, tuple of int, or str
        A number or numbers (typed answers; ``"46 x 46"``, ``"46, 46"`` and,
        for a square answer, ``"46"`` all match ``(46, 46)``), or the right
        entry of ``options``.
    options : sequence of str or dict, optional
        Choices shown as buttons. A dict maps each choice to the feedback a
        student gets for picking it, so a wrong choice can name the
        misconception behind it.
    explanation : str
        Shown with the answer once the student has checked.

    Examples
    --------
    >>> q = Predict("How many feature maps do 8 kernels give?", 8, explanation="One per kernel.")
    >>> q.guess.value = "8"; q.check()
    True
    >>> q.guess.disabled     # the first guess is the one that counts
    True
    """

    def __init__(self, question: str, answer: Union[Number, str], *,
                 options: Optional[Union[Sequence[str], Dict[str, str]]] = None, explanation: str = ""):
        self.feedback: Dict[str, str] = dict(options) if isinstance(options, dict) else {}
        if options is not None:
            choices = list(options)
            if answer not in choices:
                raise ValueError(f"answer must be one of the options {choices}, got {answer!r}")
            self.guess = widgets.ToggleButtons(options=choices, value=None,
                                               style={"button_width": "auto"})
        else:
            if isinstance(answer, str) or not numbers_in(str(answer)):
                raise ValueError(f"answer must be a number or numbers when there are no options, got {answer!r}")
            self.guess = widgets.Text(placeholder="your prediction", layout=widgets.Layout(width="14em"))
        self.answer, self.explanation = answer, explanation
        self.button = widgets.Button(description="Check", button_style="primary")
        self.button.on_click(lambda _: self.check())
        self.result = widgets.HTML()
        self.widget = widgets.VBox([widgets.HTML(f"<b>Predict:</b> {html.escape(question)}"),
                                    widgets.HBox([self.guess, self.button]), self.result])
        self.correct: Optional[bool] = None

    def _repr_mimebundle_(self, **kwargs):
        # A result of the cell (not a side display), so the cell shows its execution count.
        return self.widget._repr_mimebundle_(**kwargs)

    def _is_right(self) -> bool:
        if self.feedback or isinstance(self.answer, str):
            return self.guess.value == self.answer
        wanted = numbers_in(str(self.answer))
        typed = numbers_in(self.guess.value)
        square = len(set(wanted)) == 1 and len(typed) == 1  # "46" for a 46 x 46 answer
        return typed == wanted or (square and typed[0] == wanted[0])

    def check(self) -> Optional[bool]:
        """Lock the guess, say whether it was right, and reveal the answer (None: nothing entered yet)."""
        empty = self.guess.value is None or (isinstance(self.guess.value, str) and not self.guess.value.strip())
        if empty:
            self.result.value = "Write or pick your prediction first."
            return None
        self.correct = self._is_right()
        self.guess.disabled = self.button.disabled = True
        verdict = "✔ Right." if self.correct else "✘ Not quite."
        hint = self.feedback.get(self.guess.value, "") if not self.correct else ""
        answer = self.answer
        if isinstance(answer, tuple) and all(isinstance(a, int) for a in answer):
            answer = " × ".join(map(str, answer))  # a size reads as 46 × 46
        answer = str(answer)
        parts = [f"<b>{verdict}</b>", html.escape(hint), f"Answer: <b>{html.escape(answer)}</b>.",
                 html.escape(self.explanation)]
        self.result.value = " ".join(p for p in parts if p)
        return self.correct
