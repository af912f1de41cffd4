"""Clickable figures in whichever notebook front end runs the kernel.

JupyterLab, Jupyter Notebook 7, VS Code and Colab all show ipympl canvases,
but Colab only after its third-party widget manager is switched on. The first
cell of every teaching notebook calls :func:`use_interactive_figures`, so a
student gets the same explorers everywhere without knowing any of this.
"""

from __future__ import annotations

import sys

__all__ = ["use_interactive_figures"]


def use_interactive_figures() -> None:
    """Switch this notebook to interactive (ipympl) figures, wherever it runs.

    On Colab it first turns on Colab's widget manager, which ipympl needs
    there; elsewhere that step does nothing. Where ipympl cannot be imported,
    figures fall back to static images (the ``inline`` backend): the explorers
    then redraw an image and their row and column sliders pick neurons.
    Outside IPython (a plain script) nothing changes.

    Examples
    --------
    In the first cell of a notebook:

    >>> from rfmaps.widgets import use_interactive_figures
    >>> use_interactive_figures()   # the same as %matplotlib widget, on Colab too
    """
    try:
        from IPython import get_ipython
    except ImportError:  # no IPython at all: a plain script, nothing to switch
        return
    shell = get_ipython()
    if shell is None:
        return
    if "google.colab" in sys.modules:
        # Colab renders only its own widgets until this is called (once per session is enough).
        from google.colab import output

        output.enable_custom_widget_manager()
    try:
        import ipympl  # noqa: F401  (only asks whether it can be imported)
    except ImportError:
        shell.run_line_magic("matplotlib", "inline")
        print("ipympl is not installed here: figures are static images; "
              "pick neurons with the row and column sliders.")
        return
    shell.run_line_magic("matplotlib", "widget")
