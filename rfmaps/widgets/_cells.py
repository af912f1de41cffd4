"""One explorer per notebook cell: re-running a cell closes the explorer it showed before.

Without this, every re-run of a cell would leave the last explorer's figure
and widgets registered in the kernel and the browser for good.
"""

from __future__ import annotations

import weakref
from typing import Any, Dict, Optional

__all__ = ["LIVE", "current_cell_id", "replace_previous"]

LIVE: Dict[tuple, "weakref.ref"] = {}  # (class, notebook cell) -> the explorer shown there, weakly


def current_cell_id() -> Optional[str]:
    """The notebook cell running now, as JupyterLab names it (None elsewhere)."""
    try:
        from IPython import get_ipython

        parent = get_ipython().kernel.get_parent()
        return parent.get("metadata", {}).get("cellId")
    except Exception:  # no kernel, or a front end that sends no cell id
        return None


def replace_previous(explorer: Any) -> None:
    """Close the explorer of the same class shown before in the running cell; register this one."""
    cell = current_cell_id()
    if cell is None:
        return
    key = (type(explorer), cell)
    previous = LIVE.get(key)
    previous = previous() if previous else None
    if previous is not None and previous is not explorer:
        previous.close()

    def forget(ref: "weakref.ref") -> None:  # a collected explorer leaves the registry too
        if LIVE.get(key) is ref:
            del LIVE[key]

    LIVE[key] = weakref.ref(explorer, forget)


def forget(explorer: Any) -> None:
    """A closed explorer leaves the registry."""
    for key, ref in list(LIVE.items()):
        if ref() is explorer:
            del LIVE[key]
