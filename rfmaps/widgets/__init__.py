"""Live explorers: sliders and clicks that redraw feature maps and receptive fields.

Every explorer shows itself when it is the last value of a cell and offers the
same interface: ``controls`` (name -> ipywidget), ``figure``, ``layers``,
``input_size``, ``select(row, col, layer=-1)``, ``selected``, ``region`` and
``message``. :class:`ProjectiveExplorer` goes the other way: ``select(row, col)``
picks an input pixel, and ``region`` is the box of last-layer neurons it reaches.
"""

from .conv import ConvExplorer
from .stack import StackExplorer
from .erf import ERFExplorer
from .projective import ProjectiveExplorer

__all__ = ["ConvExplorer", "StackExplorer", "ERFExplorer", "ProjectiveExplorer"]
