"""Live explorers: sliders and clicks that redraw feature maps and receptive fields.

Every explorer shows itself when it is the last value of a cell and offers the
same interface: ``controls`` (name -> ipywidget), ``figure``, ``layers``,
``input_size``, ``select(row, col, layer=-1)``, ``selected``, ``region`` and
``message``. :func:`use_interactive_figures` (the first cell of every notebook)
makes their figures clickable in JupyterLab, VS Code and Colab alike.
"""

from .conv import ConvExplorer
from .stack import StackExplorer
from .erf import ERFExplorer
from .frontend import use_interactive_figures
from .predict import Predict

__all__ = ["ConvExplorer", "StackExplorer", "ERFExplorer", "Predict", "use_interactive_figures"]
