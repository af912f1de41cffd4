"""Commit to a prediction, then see the answer: a small question widget for the notebooks.

A student who reads the answer right below the question learns less than one
who first writes a guess down. :class:`Predict` shows a question and an input
(a box for numbers, or one button per option). The answer and its explanation
stay hidden until the student presses *Check*; after that the guess is locked,
so the first prediction is the one that counts.

A typed guess is judged by its *value*, read in the notations the package
itself uses for what the question asks (see :func:`rfmaps.widgets.guesses.read_guess`). A guess in no
notation it reads, or in one that could mean two different values, is not
judged: the student reads what to type, with an example, and tries again.

The reading is made of small pure functions in :mod:`rfmaps.widgets.guesses`.
"""

from __future__ import annotations

import html
from typing import Dict, Optional, Sequence, Tuple, Union

import ipywidgets as widgets

from .guesses import Unreadable, Value, answer_values, infer_kind, judge, show_answer, wanted_values
from .controls import LiveText

__all__ = ["Predict"]


# The widget
# ---------------------------------------------------------------------------------------------

class Predict:
    """A question whose answer appears only after the student commits to a guess.

    Parameters
    ----------
    question : str
        The question, as HTML-free text (it is escaped).
    answer : number, sequence of numbers, region, or str
        A number or numbers (ints, floats, numpy scalars or arrays), a region
        ``((top, bottom), (left, right))``, or the right entry of ``options``.
        A typed guess is judged by value: see :func:`~rfmaps.widgets.guesses.read_guess` for the
        notations read, :func:`~rfmaps.widgets.guesses.same_number` for how floats compare.
    options : sequence of str or dict, optional
        Choices shown as buttons. A dict maps each choice to the feedback a
        student gets for picking it, so a wrong choice can name the
        misconception behind it.
    explanation : str
        Shown with the answer once the student has checked.
    kind : str, optional
        What a typed answer stands for, one of ``guesses.KINDS``; by default
        :func:`~rfmaps.widgets.guesses.infer_kind` reads it from the question and the answer.

    Notes
    -----
    One guess counts: a readable guess locks the input and shows ✔ or ✘, the
    answer and the explanation. A guess that is not read (no notation of the
    kind, or an ambiguous one) shows what to type and stays open.

    Examples
    --------
    >>> q = Predict("How many feature maps do 8 kernels give?", 8, explanation="One per kernel.")
    >>> q.guess.value = "8 × 8"; q.check() is None   # not a count: explained, not judged
    True
    >>> q.guess.value = "8"; q.check()
    True
    >>> q.guess.disabled     # the first guess is the one that counts
    True
    """

    def __init__(self, question: str, answer, *,
                 options: Optional[Union[Sequence[str], Dict[str, str]]] = None, explanation: str = "",
                 kind: Optional[str] = None):
        self.feedback: Dict[str, str] = dict(options) if isinstance(options, dict) else {}
        self.kind: Optional[str] = None
        self.wanted: Tuple[Value, ...] = ()
        if options is not None:
            choices = list(options)
            if answer not in choices:
                raise ValueError(f"answer must be one of the options {choices}, got {answer!r}")
            self.guess = widgets.ToggleButtons(options=choices, value=None,
                                               style={"button_width": "auto"})
        else:
            try:
                values, _ = answer_values(answer)
            except ValueError:
                raise ValueError("answer must be a number or numbers when there are no options, "
                                 f"got {answer!r}") from None
            self.kind = kind if kind is not None else infer_kind(question, answer)
            self.wanted = wanted_values(self.kind, values)
            self.guess = widgets.Text(placeholder="your prediction", layout=widgets.Layout(width="14em"))
        self.answer, self.explanation = answer, explanation
        self.button = widgets.Button(description="Check", button_style="primary")
        self.button.add_class("rfmaps-check")
        self.button.on_click(lambda _: self.check())  # a button: Enter and Space press it too
        self.result = LiveText(keep_keys=True)  # the verdict is announced (politely); keys stay the controls'
        self.widget = widgets.VBox([widgets.HTML(f"<b>Predict:</b> {html.escape(question)}"),
                                    widgets.HBox([self.guess, self.button]), self.result])
        self.widget.add_class("rfmaps-predict")
        self.correct: Optional[bool] = None

    def _repr_mimebundle_(self, **kwargs):
        # A result of the cell (not a side display), so the cell shows its execution count.
        return self.widget._repr_mimebundle_(**kwargs)

    def check(self) -> Optional[bool]:
        """Say whether the guess is right, lock it and reveal the answer.

        None, with nothing locked or revealed, when nothing is entered yet or the
        typed guess is not read (the result then says what to type).
        """
        empty = self.guess.value is None or (isinstance(self.guess.value, str) and not self.guess.value.strip())
        if empty:
            self.result.value = "Write or pick your prediction first."
            return None
        if self.kind is None:
            correct = self.guess.value == self.answer
            answer = str(self.answer)
        else:
            try:
                correct = judge(self.guess.value, self.kind, self.wanted)
            except Unreadable as why:
                self.result.value = f"{html.escape(str(why))} Nothing is checked yet: correct it and press Check."
                return None
            answer = show_answer(self.kind, self.wanted)
        self.correct = correct
        self.guess.disabled = self.button.disabled = True
        verdict = "✔ Right." if correct else "✘ Not quite."
        hint = self.feedback.get(self.guess.value, "") if not correct else ""
        parts = [f"<b>{verdict}</b>", html.escape(hint), f"Answer: <b>{html.escape(answer)}</b>.",
                 html.escape(self.explanation)]
        self.result.value = " ".join(p for p in parts if p)
        return correct
