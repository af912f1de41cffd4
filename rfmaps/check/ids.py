"""Whose numbers a notebook uses: the student id, on a hub, off it, and while nbgrader grades.

>>> seed("jdoe42", "variant") == seed(" JDoe42 ", "variant")
True
"""

from __future__ import annotations

import hashlib
import os
from typing import Optional


def seed(student_id: str, purpose: str) -> str:
    return hashlib.sha256(f"{purpose}:{student_id.strip().lower()}".encode()).hexdigest()


def hub_user() -> Optional[str]:
    """The JupyterHub user name of this server (``JUPYTERHUB_USER``), or None off a hub."""
    return os.environ.get("JUPYTERHUB_USER") or None


def graded_student() -> Optional[str]:
    """While nbgrader autogrades, the student whose submission runs (its folder name); else None."""
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return None
    # nbgrader runs each submission in autograded/<student>/<assignment>/.
    return os.path.basename(os.path.dirname(os.getcwd())) or None


def same_id(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def student(typed: str = "", *, quiet: bool = False) -> str:
    """The id whose numbers a notebook uses, for the visible checks and the hidden tests alike.

    In order: while nbgrader autogrades, the submission's student (the name
    nbgrader files it under); on a JupyterHub, the logged-in user (the name
    nbgrader's *Submit* files it under); elsewhere the id the student typed.
    A typed id that differs from the first two gets a warning right away;
    ``quiet=True`` (for hidden tests, after the warning was shown once) prints nothing.

    Raises
    ------
    ValueError
        Off a hub, when no id was typed.

    Examples
    --------
    Off a hub, outside grading, the typed id is used (not run as a doctest: it depends on the
    environment; ``tests/test_check.py`` covers all three cases)::

        student("jdoe42")   # prints: Your numbers are those of student id 'jdoe42' (the id you typed).
    """
    if typed is None:
        typed = ""
    if not isinstance(typed, str):
        raise TypeError(f"STUDENT_ID must be text between quotes, like \"jdoe42\"; got {typed!r}")
    typed = typed.strip()
    graded, hub = graded_student(), hub_user()
    if graded:
        who, source = graded, "the name this submission was collected under"
    elif hub:
        who, source = hub, "your JupyterHub login"
    elif typed:
        who, source = typed, "the id you typed"
    else:
        raise ValueError("Type your student id between the quotes in the cell above, "
                         "like STUDENT_ID = \"jdoe42\", then run it and this cell again.")
    if quiet:
        return who
    if typed and not same_id(typed, who):
        print(f"⚠ You typed the id {typed!r}, but {source} is {who!r}: your work is graded on the "
              f"numbers of {who!r}, so the numbers below are theirs. If {who!r} is not you, "
              "tell your instructor now.")
    else:
        print(f"Your numbers are those of student id {who!r} ({source}).")
    return who
