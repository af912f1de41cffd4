"""The feedback policy and the verdicts every check prints.

A check that recognises a common mistake names it (:func:`named`); a check that
recognises none ends with :func:`verdict`, whose words depend on the course's
:func:`feedback_policy`.

>>> say(False, "Not this one.")
✘ Not this one.
False
"""

from __future__ import annotations

import os
from typing import List, Sequence


def say(ok: bool, text: str) -> bool:
    print(("✔ " if ok else "✘ ") + text)
    return ok


def named(prefix: str, whys: Sequence[str], value: str = "it") -> bool:
    """✘ with the mistake behind a value; when several common mistakes give it, each of them (three at most:
    every one is a true possibility, and the student's may be any)."""
    whys = list(dict.fromkeys(whys))
    if len(whys) == 1:
        return say(False, f"{prefix}: {whys[0]}.")
    if len(whys) == 2:
        return say(False, f"{prefix}. Two common mistakes give {value}, so it may be either: "
                           + "; or ".join(whys) + ".")
    return say(False, f"{prefix}. {len(whys)} common mistakes give {value}, among them: "
                       + "; or ".join(whys[:3]) + ".")


def matching(given, mistakes, right) -> List[str]:
    """The ideas of every mistake that gives ``given`` (a pattern that gives the right value is no mistake).

    Under ``mistakes-only`` a number one away from the right one is never named: "you forgot the + 1" on a
    value would tell the answer (that value plus one) to a student trying values one after another.
    """
    hide_neighbours = (isinstance(given, int) and isinstance(right, int) and abs(given - right) == 1
                       and feedback_policy() == "mistakes-only")
    if hide_neighbours:
        return []
    return [why for value, why in mistakes if value is not None and value == given and value != right]


#: How the visible checks answer a value in which they recognise no common mistake; a course sets it once
#: with the environment variable ``RFMAPS_FEEDBACK`` (see notebooks/assignments/README.md).
#:
#: * ``confirm`` (the default): ✔ only for the right value; otherwise ✘ "not yet" and what to check next.
#: * ``mistakes-only``: never a ✔ (a student cannot try values until one is confirmed); a neutral
#:   "no common mistake recognised", and the value is graded when the work is submitted.
FEEDBACK_POLICIES = ("confirm", "mistakes-only")


# The RFMAPS_FEEDBACK values already warned about, so each is warned about once (listed with every
# cache in rfmaps/engine/maps.py). Key: the raw value; bound: one short string per value set.
_WARNED: set = set()


def feedback_policy() -> str:
    """The course's feedback policy: ``RFMAPS_FEEDBACK`` if set, else ``"confirm"``.

    A value that is neither policy (a typo, ``"mistakes only"``, ``"off"``) is read as ``mistakes-only``,
    which never ticks, with one warning that names the allowed values: a student's cell never raises
    because of the course's setting, and a mistyped setting never turns the ticks on.

    Examples
    --------
    >>> import os
    >>> feedback_policy() in FEEDBACK_POLICIES
    True
    """
    raw = os.environ.get("RFMAPS_FEEDBACK") or "confirm"
    value = raw.strip().lower().replace("_", "-")
    if value not in FEEDBACK_POLICIES:
        if raw not in _WARNED:
            _WARNED.add(raw)
            import warnings

            warnings.warn(f"RFMAPS_FEEDBACK must be one of {', '.join(FEEDBACK_POLICIES)}, got {raw!r}: the checks "
                          "use mistakes-only (no ✔) until it is corrected", stacklevel=2)
        return "mistakes-only"
    return value


def verdict(right: bool, what: str, next_step: str, verb: str = "is") -> bool:
    """The last word of a check that recognised no common mistake in ``what`` (e.g. "8", "Your region").

    Under ``confirm``: ✔ and True for the right value, else ✘ "not yet" with ``next_step`` and False.
    Under ``mistakes-only``: a neutral sentence (no ✔, no ✘) and True; the hidden tests grade the value.
    """
    lower = what if what == "None" else what[0].lower() + what[1:]
    if feedback_policy() == "mistakes-only":
        print(f"• No common mistake recognised in {lower}; it is graded when you submit.")
        return True
    if right:
        return say(True, f"{what} {verb} right.")
    return say(False, f"Not yet: {lower} {verb} not right, though none of the common mistakes. {next_step}")
