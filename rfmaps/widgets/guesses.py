"""Reading what a student types into a Predict box: the guess as numbers, judged by value.

Pure functions, no widgets: :func:`infer_kind` (what the question asks for),
:func:`read_guess` (the typed text as numbers in the notations the package
itself uses, or :class:`Unreadable` with a sentence saying what to type),
:func:`same_number` (how floats compare) and :func:`judge`.
:class:`rfmaps.widgets.Predict` is built on them.
"""

from __future__ import annotations

import math
import numbers
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Optional, Sequence, Tuple, Union

__all__ = ["KINDS", "Unreadable", "answer_values", "infer_kind", "wanted_values", "read_guess", "same_number",
           "judge", "show_answer", "expected", "example", "shown", "normal"]

#: What a typed answer can stand for; :func:`infer_kind` picks one from the question and the answer.
#:
#: * ``number``: one number (a count: ``8``).
#: * ``side``: one side of a square, in pixels (``13``, also ``13 × 13``).
#: * ``size``: height × width (``46 × 46``, ``(46, 46)``; one number for a square).
#: * ``numbers``: several numbers in the question's order (``3, 3``).
#: * ``block``: a block of feature maps, ``(maps, height, width)`` (``100 maps of 46 × 46``).
#: * ``region``: inclusive rows and columns, ``((top, bottom), (left, right))`` as
#:   :func:`rfmaps.input_region` returns it (``rows 4-6, columns 7-9``).
KINDS = ("number", "side", "size", "numbers", "block", "region")

Value = Union[int, float]


class Unreadable(ValueError):
    """A typed guess that is not judged; the message says what to type instead, with an example."""


# ---------------------------------------------------------------------------------------------
# The expected answer
# ---------------------------------------------------------------------------------------------

def _number(value) -> Value:
    """One expected number as an int (whole values) or a float; numpy scalars included."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return int(math.trunc(value))
    return float(value)


def answer_values(answer) -> Tuple[Tuple[Value, ...], bool]:
    """The expected numbers, flat, and whether ``answer`` was a region ``((top, bottom), (left, right))``.

    ints, whole floats and numpy scalars become ints; tuples, lists and numpy
    arrays are read element by element. Raises ``ValueError`` for anything else.

    Examples
    --------
    >>> import numpy as np
    >>> answer_values(2.0), answer_values((np.int64(46), np.int64(46))), answer_values(np.array([[4, 6], [7, 9]]))
    (((2,), False), ((46, 46), False), ((4, 6, 7, 9), True))
    """
    if hasattr(answer, "tolist") and not isinstance(answer, (str, bytes)):
        answer = answer.tolist()
    if isinstance(answer, (list, tuple)):
        if len(answer) == 2 and all(isinstance(a, (list, tuple)) or getattr(a, "ndim", 0) == 1 for a in answer):
            pairs = [list(a.tolist() if hasattr(a, "tolist") else a) for a in answer]
            if all(len(p) == 2 for p in pairs):
                return tuple(_number(v) for p in pairs for v in p), True
        if answer and not any(isinstance(a, (list, tuple, str, bytes)) for a in answer):
            return tuple(_number(a) for a in answer), False
        raise ValueError(f"not a number, a sequence of numbers or a region: {answer!r}")
    return (_number(answer),), False


_SIZE_WORDS = re.compile(r"receptive field|\brf\b|"
                         r"\b(?:sizes?|large|larger|big|shape|side|span|wide|width|tall|height)\b")


def infer_kind(question: str, answer) -> str:
    """What a typed answer to ``question`` stands for (one of :data:`KINDS`), from its words and ``answer``.

    A region answer ``((top, bottom), (left, right))``, or four numbers for a
    question naming rows and columns, is a ``region``; three numbers for a
    question about maps, a ``block``; one or two numbers for a question about a
    size (size, large, side, span, width, receptive field...), a ``side`` or a
    ``size``, unless the question asks for "numbers". Otherwise ``number`` or
    ``numbers``. Pass ``kind=`` to :class:`Predict` to choose yourself.

    Examples
    --------
    >>> infer_kind("The shape of the block, as (maps, height, width)?", (100, 46, 46))
    'block'
    >>> infer_kind("The receptive field after 6 layers?", 13), infer_kind("How many maps?", 8)
    ('side', 'number')
    >>> infer_kind("Outputs for 7 pixels, then for 8 (two numbers)?", (3, 3))
    'numbers'
    """
    values, region = answer_values(answer)
    q = question.lower()
    n = len(values)
    if region or (n == 4 and re.search(r"\brows?\b", q) and re.search(r"\bcol(?:umn)?s?\b", q)):
        return "region"
    if n == 3 and re.search(r"\bmaps?\b", q):
        return "block"
    if n in (1, 2) and _SIZE_WORDS.search(q) and not re.search(r"\bnumbers\b", q):
        return "side" if n == 1 else "size"
    return "number" if n == 1 else "numbers"


def wanted_values(kind: str, values: Sequence[Value]) -> Tuple[Value, ...]:
    """The numbers a guess must give, in the order :func:`read_guess` returns them.

    A ``side`` is compared as a square size; a ``region`` with its bounds in order.

    Examples
    --------
    >>> wanted_values("side", (13,)), wanted_values("region", (6, 4, 7, 9))
    ((13, 13), (4, 6, 7, 9))
    """
    counts = {"number": 1, "side": 1, "size": 2, "block": 3, "region": 4}
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind in counts and len(values) != counts[kind]:
        raise ValueError(f"a {kind} answer has {counts[kind]} number(s), got {len(values)}")
    if kind == "side":
        return (values[0], values[0])
    if kind == "region":
        top, bottom, left, right = values
        return (min(top, bottom), max(top, bottom), min(left, right), max(left, right))
    return tuple(values)


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

def _decimals(value: float) -> int:
    """Decimals :func:`shown` gives a non-whole number: three significant digits, at least one decimal."""
    return max(1, 2 - math.floor(math.log10(abs(value))))


def shown(value) -> str:
    """A number as the answer shows it: whole values without decimals, others to 3 significant digits
    (at least one decimal, halves rounded up).

    Examples
    --------
    >>> shown(2.0), shown(46.5), shown(1 / 3), shown(Fraction(1, 2)), shown(212), shown(2.675)
    ('2', '46.5', '0.333', '0.5', '212', '2.68')
    """
    if isinstance(value, Fraction):
        value = value.numerator if value.denominator == 1 else float(value)
    value = _number(value)
    if isinstance(value, int):
        return str(value)
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-_decimals(value)), rounding=ROUND_HALF_UP)
    return format(rounded, "f").rstrip("0").rstrip(".")


def same_number(typed: Fraction, wanted: Value) -> bool:
    """Whether a typed number is the expected one.

    A number the answer shows in full (whole numbers, and decimals such as 46.5
    or 0.5, see :func:`shown`) needs exactly that value: ``2``, ``2.0`` and ``2.``
    are 2, ``2.004`` is not; ``.5``, ``0.50`` and ``1/2`` are 0.5, ``0.46`` and
    ``0.5004`` are not. A number the answer shows rounded to three significant
    digits accepts anything within half a unit of the last digit shown: for
    1/3, shown as 0.333, ``0.333``, ``0.3334`` and ``1/3`` are right, ``0.33`` is not.

    Examples
    --------
    >>> same_number(Fraction("2."), 2), same_number(Fraction(1, 2), 0.5), same_number(Fraction("0.46"), 0.5)
    (True, True, False)
    >>> same_number(Fraction("0.333"), 1 / 3), same_number(Fraction("0.33"), 1 / 3)
    (True, False)
    """
    if isinstance(wanted, int):
        return typed == wanted
    exact = Fraction(repr(wanted))       # the decimal the float stands for: 0.1, not its binary neighbour
    if Fraction(shown(wanted)) == exact:
        return typed == exact
    return abs(typed - exact) <= Fraction(1, 2 * 10 ** _decimals(wanted))


# ---------------------------------------------------------------------------------------------
# Reading a typed guess
# ---------------------------------------------------------------------------------------------

_NUM = r"-?(?:[0-9]+/[0-9]+|[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
_N = f"({_NUM})"                                  # one captured number
_OPEN, _CLOSE = r"(?:[(\[]\s*)", r"(?:\s*[)\]])"
_SEP = r"(?:\s*[,;]\s*|\s+)(?:(?:and|then)\s+)?"  # between numbers of a list
_LIST = re.compile(rf"{_OPEN}?{_NUM}(?:{_SEP}{_NUM})*{_CLOSE}?")
_UNIT = r"(?:\s+(?:feature\s+)?(?:maps?|kernels?|neurons?|layers?|outputs?|channels?|parameters?|weights?))?"
_RANGE = rf"{_N}\s*(?:-|to)\s*{_N}"
_PAIR = rf"{_OPEN}{_N}(?:\s*[,;]\s*|\s+){_N}{_CLOSE}"
_MAPS = r"(?:feature\s+)?maps?"


def normal(text: str) -> str:
    """``text`` in lower case with one spelling per symbol: ``×``, ``*`` and "by" as ``x``, dashes as
    ``-``, arrows and ``..`` as "to"; units of pixels and a final full stop dropped.

    Examples
    --------
    >>> normal(" 13 X 13 "), normal("46×46 pixels."), normal("rows 4–6, cols 7..9"), normal("(4,7) → (6,9)")
    ('13 x 13', '46 x 46', 'rows 4-6, cols 7 to 9', '(4,7) to (6,9)')
    """
    t = text.lower()
    t = t.replace("→", " to ").replace("->", " to ").replace("..", " to ")
    t = re.sub(r"[×✕✖⨯∗*]", " x ", t)
    t = re.sub(r"[‐‑‒–—―−]", "-", t)
    t = re.sub(r"(?<=[0-9.])\s*by\s*(?=[0-9.])", " x ", t)
    t = re.sub(r"(?<=[0-9.])\s*(?:pixels?|px)\b", "", t)
    return re.sub(r"\s+", " ", t).strip().rstrip(".").strip()


def _fractions(strings) -> Tuple[Fraction, ...]:
    try:
        return tuple(Fraction(s) for s in strings)
    except ZeroDivisionError:
        raise Unreadable("A fraction cannot have 0 below the line.") from None


def _match(pattern: str, text: str) -> Optional[Tuple[Fraction, ...]]:
    m = re.fullmatch(pattern, text)
    return _fractions(m.groups()) if m else None


def _list(text: str) -> Optional[Tuple[Fraction, ...]]:
    """The numbers of a plain list (``3, 3``, ``(100, 46, 46)``, ``3 and 4``), or None."""
    return _fractions(re.findall(_NUM, text)) if _LIST.fullmatch(text) else None


def example(kind: str, count: int = 2, avoid: Sequence[Value] = ()) -> Tuple[int, ...]:
    """Numbers for an example of the notation, never the answer ``avoid`` (so a hint gives nothing away).

    Examples
    --------
    >>> example("block"), example("block", avoid=(12, 30, 30)), example("numbers", 3)
    ((12, 30, 30), (8, 20, 20), (5, 7, 9))
    """
    alternates: dict[str, list[tuple[int, ...]]]
    alternates = {"number": [(12,), (7,)], "side": [(30, 30), (20, 20)], "size": [(30, 30), (20, 20)],
                  "block": [(12, 30, 30), (8, 20, 20)], "region": [(1, 3, 5, 7), (2, 4, 6, 8)],
                  "numbers": [tuple(range(5, 5 + 2 * count, 2)), tuple(range(4, 4 + 2 * count, 2))]}
    candidates = alternates[kind]
    for numbers_ in candidates:
        if len(numbers_) != len(avoid) or not all(same_number(Fraction(e), a) for e, a in zip(numbers_, avoid)):
            return numbers_
    return candidates[0]


def expected(kind: str, count: int = 2, avoid: Sequence[Value] = ()) -> str:
    """The sentence a student reads when a guess is not read: what to type, with an example.

    Examples
    --------
    >>> expected("size")
    'Type the size as height × width, for example 30 × 30, or one number for a square.'
    """
    e = example(kind, count, avoid)
    if kind == "number":
        return f"Type one number, for example {e[0]}."
    if kind == "side":
        return f"Type one number (the side, in pixels), for example {e[0]}, or the size {e[0]} × {e[1]}."
    if kind == "size":
        return f"Type the size as height × width, for example {e[0]} × {e[1]}, or one number for a square."
    if kind == "numbers":
        return f"Type {count} numbers separated by commas, for example {', '.join(map(str, e))}."
    if kind == "block":
        m, h, w = e
        return f"Type the shape as (maps, height, width), for example ({m}, {h}, {w}), or as {m} maps of {h} × {w}."
    t, b, left, r = e
    return (f"Type the region as rows {t}-{b}, columns {left}-{r} (first and last row, first and last column), "
            f"as (({t}, {b}), ({left}, {r})) like rfmaps.input_region, or by its corners: ({t}, {left}) to ({b}, {r}).")


def _read_size(t: str, side: bool) -> Optional[Tuple[Fraction, ...]]:
    one = _match(rf"{_OPEN}?{_N}{_CLOSE}?", t)
    if one:
        return one * 2                                        # a square
    if side:  # one side: "13 x 13" (a pair with commas could be a decimal comma, "13,5")
        return _match(rf"{_N}\s*x\s*{_N}", t)
    return _match(rf"{_OPEN}?{_N}\s*(?:x|[,;]|\s)\s*{_N}{_CLOSE}?", t)


def _read_block(t: str, avoid) -> Optional[Tuple[Fraction, ...]]:
    listed = _list(t)
    if listed is not None:
        return listed if len(listed) == 3 else None           # (maps, height, width), the question's order
    size = rf"{_N}(?:\s*x\s*{_N})?"                           # h x w, or one number for a square
    m = re.fullmatch(rf"{_N}\s*{_MAPS}\s*(?:[,;:]\s*|\s)?(?:each\s+)?(?:of\s+)?(?:size\s+)?(?:of\s+)?{size}"
                     rf"(?:\s*each)?", t)
    if m:                                                     # 100 maps of 46 x 46
        maps, h, w = m.groups()
        return _fractions((maps, h, w if w is not None else h))
    labelled = _match(rf"{_N}\s*x\s*{_N}\s*(?:x|[,;:]|and)?\s*{_N}\s*{_MAPS}", t)
    if labelled:                                              # 46 x 46 x 100 maps
        h, w, maps = labelled
        return (maps, h, w)
    count_first = _match(rf"{_N}(?:\s*[,;]\s*|\s+)(?:of\s+)?{_N}\s*x\s*{_N}", t)
    if count_first:                                           # 100, 46 x 46
        return count_first
    size_first = _match(rf"{_N}\s*x\s*{_N}(?:\s*[,;]\s*|\s+){_N}", t)
    if size_first:                                            # 46 x 46, 100
        h, w, maps = size_first
        return (maps, h, w)
    three = _match(rf"{_N}\s*x\s*{_N}\s*x\s*{_N}", t)
    if three:
        a, b, c = three
        if a == b == c:
            return three
        x, y, z = (shown(v) for v in three)
        m_, h_, w_ = example("block", avoid=avoid)
        raise Unreadable(f"{x} × {y} × {z} can be read two ways: height × width × maps, as the volume view "
                         f"titles a block ({z} maps of {x} × {y}), or maps × height × width, as PyTorch writes a "
                         f"shape ({x} maps of {y} × {z}). Type it as (maps, height, width), for example "
                         f"({m_}, {h_}, {w_}), or as {m_} maps of {h_} × {w_}.")
    return None


def _read_region(t: str, avoid) -> Optional[Tuple[Fraction, ...]]:
    span = rf"(?:from\s+)?{_N}(?:\s*(?:-|to)\s*{_N})?"        # first and last, or one row / column
    rows, cols = rf"(?:rows?|r)\s*:?\s*{span}", rf"(?:columns?|cols?|c)\s*:?\s*{span}"
    join = r"(?:\s*(?:[,;&x]|and)\s*|\s+)"
    for pattern, order in ((rf"{rows}{join}{cols}", (0, 1, 2, 3)), (rf"{cols}{join}{rows}", (2, 3, 0, 1)),
                           (rf"{_OPEN}?{_RANGE}{join}{_RANGE}{_CLOSE}?", (0, 1, 2, 3))):
        m = re.fullmatch(pattern, t)
        if m:
            g = list(m.groups())
            g[1] = g[1] if g[1] is not None else g[0]
            g[3] = g[3] if g[3] is not None else g[2]
            return _fractions(g[i] for i in order)
    nested = _match(rf"{_OPEN}{_PAIR}\s*[,;]?\s*{_PAIR}{_CLOSE}", t)
    if nested:                                                # ((top, bottom), (left, right))
        return nested
    corners = _match(rf"(?:from\s+)?{_PAIR}\s*(?:-|to)\s*{_PAIR}", t)
    if corners:                                               # (top, left) to (bottom, right)
        r0, c0, r1, c1 = corners
        return (r0, r1, c0, c1)
    e = example("region", avoid=avoid)
    how = (f"Type it as ((top, bottom), (left, right)), with the outer parentheses, as rfmaps.input_region "
           f"writes it; as rows {e[0]}-{e[1]}, columns {e[2]}-{e[3]}; or by its corners with 'to': "
           f"({e[0]}, {e[2]}) to ({e[1]}, {e[3]}).")
    pairs = _match(rf"{_PAIR}\s*(?:[,;]|and)?\s*{_PAIR}", t)
    if pairs:
        a, b, c, d = (shown(v) for v in pairs)
        raise Unreadable(f"({a}, {b}), ({c}, {d}) can be read two ways: rows {a} to {b} and columns {c} to {d}, "
                         f"or the corners ({a}, {b}) and ({c}, {d}). {how}")
    listed = _list(t)
    if listed is not None and len(listed) == 4:
        raise Unreadable("Four numbers alone can be read two ways: top, bottom, left, right, or the corners "
                         f"top, left and bottom, right. {how}")
    return None


def read_guess(text: str, kind: str, count: int = 1, avoid: Sequence[Value] = ()) -> Tuple[Fraction, ...]:
    """The numbers a student typed, exactly, in the order of :func:`wanted_values`; or :class:`Unreadable`.

    Every kind ignores case, spaces, units of pixels (``9 px``) and a final full
    stop, and writes a product sign as ``×``, ``x``, ``X``, ``*`` or "by". A
    number is an integer, a decimal with a point (``2``, ``2.``, ``.5``) or a
    fraction (``1/2``). What each kind reads:

    * ``number``: one number, maybe followed by what it counts (``8``, ``8 maps``).
    * ``side``: ``13`` or ``13 × 13`` (a non-square size is a wrong value).
    * ``size``: ``46 × 46``, ``(46, 46)``, ``46, 46``, ``46 46``; ``46`` is ``46 × 46``.
    * ``numbers``: ``count`` numbers between commas, spaces, "and" or "then",
      maybe in brackets (``3, 3``, ``(3, 3)``, ``3 and 3``); two also as a range ``4-6``.
    * ``block`` (maps, height, width): ``(100, 46, 46)``, ``100, 46, 46``,
      ``100 46 46`` (the question's order); ``100 maps of 46 × 46``,
      ``46 × 46 × 100 maps``, ``100, 46 × 46`` and ``46 × 46, 100`` (the count
      is the number apart from the size). ``a × b × c`` is refused unless all
      three are equal: the volume view writes height × width × maps, PyTorch
      maps × height × width.
    * ``region`` (top, bottom, left, right): ``rows 4-6, columns 7-9`` (either
      order, "to" for "-", ``row 4`` for one row), ``4-6, 7-9`` (rows first, as
      the package always orders them), ``((4, 6), (7, 9))`` as
      :func:`rfmaps.input_region` returns it, and corners ``(4, 7) to (6, 9)``.
      Refused as ambiguous: two pairs without outer parentheses or "to"
      (``(4, 6), (7, 9)``: rows and columns, or two corners?) and four bare numbers.

    Raises
    ------
    Unreadable
        With a sentence saying what to type, and an example that is not ``avoid``.

    Examples
    --------
    >>> read_guess("13 X 13", "side"), read_guess("(4, 7) to (6, 9)", "region")
    ((Fraction(13, 1), Fraction(13, 1)), (Fraction(4, 1), Fraction(6, 1), Fraction(7, 1), Fraction(9, 1)))
    >>> read_guess("46, 5", "number")
    Traceback (most recent call last):
    ...
    rfmaps.widgets.guesses.Unreadable: Type one number, for example 12.
    """
    t = normal(text)
    values: Optional[Tuple[Fraction, ...]] = None
    if kind == "number":
        values = _match(rf"{_OPEN}?{_N}{_CLOSE}?{_UNIT}", t)
    elif kind in ("side", "size"):
        values = _read_size(t, kind == "side")
    elif kind == "numbers":
        values = _list(t)
        if values is None and count == 2:
            values = _match(rf"(?:(?:rows?|columns?|cols?|from)\s+)?{_RANGE}", t)
        if values is not None and len(values) != count:
            values = None
    elif kind == "block":
        values = _read_block(t, avoid)
    elif kind == "region":
        values = _read_region(t, avoid)
        if values is not None:
            top, bottom, left, right = values
            values = (min(top, bottom), max(top, bottom), min(left, right), max(left, right))
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if values is None:
        message = expected(kind, count, avoid)
        comma = re.search(r"([0-9]+),([0-9]+)", t)
        if kind in ("number", "side") and comma:
            message = f"Write a decimal with a point ({comma[1]}.{comma[2]}, not {comma[1]},{comma[2]}). " + message
        raise Unreadable(message)
    return values


def judge(text: str, kind: str, wanted: Sequence[Value]) -> bool:
    """Whether the typed ``text`` gives the numbers ``wanted`` (from :func:`wanted_values`).

    Raises :class:`Unreadable` (nothing judged) when the text is in no notation
    of ``kind``, or in one that could mean two different values.

    Examples
    --------
    >>> judge("2", "number", (2,)), judge("46 x 46", "size", (46, 46)), judge("45 × 45", "size", (46, 46))
    (True, True, False)
    """
    values = read_guess(text, kind, len(wanted), wanted)
    return len(values) == len(wanted) and all(same_number(v, w) for v, w in zip(values, wanted))


def show_answer(kind: str, wanted: Sequence[Value]) -> str:
    """The answer as the student reads it after checking.

    Examples
    --------
    >>> show_answer("block", (100, 46, 46)), show_answer("region", (4, 6, 7, 9)), show_answer("side", (13, 13))
    ('100 maps of 46 × 46: (maps, height, width) = (100, 46, 46)', 'rows 4–6, columns 7–9', '13')
    """
    s = [shown(v) for v in wanted]
    if kind in ("number", "side"):
        return s[0]
    if kind == "size":
        return " × ".join(s)
    if kind == "block":
        return f"{s[0]} maps of {s[1]} × {s[2]}: (maps, height, width) = ({', '.join(s)})"
    if kind == "region":
        return f"rows {s[0]}–{s[1]}, columns {s[2]}–{s[3]}"
    return ", ".join(s)


# ---------------------------------------------------------------------------------------------
