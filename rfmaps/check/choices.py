"""Multiple choice with a written reason: each student's own order of the options, a visible check
that records the answer without judging it, and the hidden tests' grading.
"""

from __future__ import annotations

import random
import string
from typing import Dict, Optional, Sequence

from .answers import describe
from .feedback import say
from .ids import seed


def _choice_arguments(student_id, question, options) -> list:
    """The options as a list, after refusing, with one sentence each, what cannot be an id, a question or options."""
    if not isinstance(student_id, str):
        raise TypeError(f"student_id must be a student id as text, like \"jdoe42\"; got {student_id!r}")
    if not student_id.strip():
        raise ValueError("student_id must be a (non-empty) student id, like \"jdoe42\"")
    if not isinstance(question, str):
        raise TypeError(f"question must be the question's name as text, like \"ps3-q4\"; got {question!r}")
    if not isinstance(options, (list, tuple)) or not 2 <= len(options) <= 26 or \
            not all(isinstance(option, str) for option in options):
        raise TypeError(f"options must be a list of 2 to 26 texts, like [\"yes\", \"no\"]; got {options!r}")
    return list(options)


def choice_letters(student_id: str, question: str, options: Sequence[str]) -> Dict[str, str]:
    """The options of a question in this student's own order, as ``{letter: option}``.

    Neighbours see the same options under different letters.

    Examples
    --------
    >>> sorted(choice_letters("jdoe42", "q", ["yes", "no"]).values())
    ['no', 'yes']
    >>> choice_letters(12345, "q", ["yes", "no"])
    Traceback (most recent call last):
    ...
    TypeError: student_id must be a student id as text, like "jdoe42"; got 12345
    """
    order = _choice_arguments(student_id, question, options)
    random.Random(seed(student_id, f"choices:{question}")).shuffle(order)
    return dict(zip(string.ascii_lowercase, order))


def show_choices(student_id: str, question: str, options: Sequence[str]) -> Dict[str, str]:
    """Print the options as ``(a) ...`` lines in this student's order; return :func:`choice_letters`."""
    letters = choice_letters(student_id, question, options)
    for letter, option in letters.items():
        print(f"({letter}) {option}")
    return letters


def _plain_text(text: str) -> str:
    return " ".join(text.lower().split()).rstrip(".")


def letter_of(letters: Dict[str, str], choice) -> Optional[str]:
    """The letter a student chose, from ``"c"``, ``"(c)"``, ``"c."``, ``"c)"``, the option's text, or both
    (``"(c) the text"``); None when it names no option.

    >>> letter_of({"a": "yes", "b": "no"}, " B. "), letter_of({"a": "yes", "b": "no"}, "No."), letter_of({"a": "x"}, "z")
    ('b', 'b', None)
    """
    if not isinstance(choice, str):
        return None
    bare = choice.strip().strip("().:").strip().lower()
    if bare in letters:
        return bare
    texts = {_plain_text(option): letter for letter, option in letters.items()}
    if _plain_text(choice) in texts:
        return texts[_plain_text(choice)]
    lead = choice.strip().lstrip("(").lower()
    if lead[:1] in letters and lead[1:2] in (")", ".", ":") and _plain_text(lead[2:]) in texts:
        return lead[:1] if texts[_plain_text(lead[2:])] == lead[:1] else None
    return None


def _choice_problem(letters: Dict[str, str], choice, reason, min_words: int) -> Optional[str]:
    if not isinstance(letters, dict) or not letters:
        return (f"letters must be the options as show_choices returned them, like {{'a': 'yes', 'b': 'no'}}; "
                f"you gave {describe(letters)}.")
    if letter_of(letters, choice) is None:
        return (f"Give your choice as one letter between quotes, one of {', '.join(map(repr, letters))}; "
                f"you gave {describe(choice)}.")
    if reason is not None and not isinstance(reason, str):
        kind = "a number" if isinstance(reason, (int, float)) else f"a {type(reason).__name__}"
        return (f"Your reason is {kind}, not a text: write it as a sentence or two between quotes, like "
                "\"because ...\". The reason is part of the answer.")
    words = len(reason.split()) if isinstance(reason, str) else 0
    if words < min_words and min_words <= 1:
        return ("Explain your choice in a sentence or two in the reason; yours is empty. The reason is part of "
                "the answer: your teacher grades it with a rubric (does it name the idea behind the choice?).")
    if words < min_words:
        return (f"Explain your choice in a sentence or two (at least {min_words} words) in the reason; "
                f"yours has {words}. The reason is part of the answer.")
    return None


def check_choice(letters: Dict[str, str], choice, reason, *, min_words: int = 1) -> bool:
    """Check that a multiple-choice answer is complete: one of the letters, and a written reason.

    It never says whether the choice is right (that is graded on submission),
    so trying letters one after another reveals nothing. Nor does it judge the
    reason: the assignments grade reasons by hand with the rubric of the TA guide
    (notebooks/assignments/README.md), not by their length; it asks only that
    there is one (``min_words`` raises the bar for a course that wants it).

    Examples
    --------
    >>> check_choice({"a": "yes", "b": "no"}, "b", "")
    ✘ Explain your choice in a sentence or two in the reason; yours is empty. The reason is part of the answer: your teacher grades it with a rubric (does it name the idea behind the choice?).
    False
    >>> check_choice({"a": "yes", "b": "no"}, "b", "too short", min_words=8)
    ✘ Explain your choice in a sentence or two (at least 8 words) in the reason; yours has 2. The reason is part of the answer.
    False
    """
    problem = _choice_problem(letters, choice, reason, min_words)
    if problem:
        return say(False, problem)
    letter = letter_of(letters, choice) or ""  # a letter: _choice_problem refused anything else
    # No ✔: the check does not know the right option, and a tick reads as "right".
    print(f"• Recorded: ({letter}) {letters[letter]!r}, with a {len(reason.split())}-word reason; "
          "the choice is graded when you submit.")
    return True


def grade_choice(letters: Dict[str, str], choice, reason, right: str,
                 mistakes: Optional[Dict[str, str]] = None, *, min_words: int = 0) -> None:
    """For hidden tests: assert the right option was chosen; else name the misconception.

    ``right`` is the text of the right option and ``mistakes`` maps the text of a
    wrong option to the idea it misses; the assertion message (which students read
    in their feedback) names it. The reason is not graded here (by default): it has
    a hand-graded cell of its own, marked with the TA guide's rubric; ``min_words``
    asks for a reason of at least that many words too.

    Examples
    --------
    >>> grade_choice({"a": "yes", "b": "no"}, "a", "because the window of each neuron overlaps its neighbour", "yes")
    """
    # Raised, not asserted: `python -O` drops assert statements and would pass every answer.
    problem = _choice_problem(letters, choice, reason, min_words)
    if problem is not None:
        raise AssertionError(problem)
    chosen = letters[letter_of(letters, choice) or ""]  # a letter: _choice_problem refused anything else
    if chosen != right:
        raise AssertionError(f"Not this one: {(mistakes or {}).get(chosen, 'reread the question')}")
