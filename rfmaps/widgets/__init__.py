"""Live explorers: sliders and clicks that redraw feature maps and receptive fields.

Every explorer shows itself when it is the last value of a cell and keeps one
contract:

* ``controls`` (name -> ipywidget), ``figure``, ``layers``, ``input_size``;
* ``select(row, col, layer=-1)``: ``layer`` counts in ``layers``, exactly as
  :func:`rfmaps.input_region` counts it; ``-1`` is always accepted, a layer
  the explorer does not draw is refused with a message;
* ``selected == (layer, row, col)`` and ``region == input_region(layers,
  (row, col), input_size, layer=layer)`` after every accepted selection;
  ``selection`` adds the feature map on show;
* ``selected_field``: the selected neuron's own field
  (:func:`rfmaps.arithmetic.receptive_field.neuron_field`: exact box, size, centre,
  clipped or not), the only source of the numbers a readout quotes (not on
  ProjectiveExplorer, whose selection is a pixel); a click picks a neuron or
  pixel by :func:`rfmaps._core.geometry.nearest_index`'s tie rule (halves go to the
  lower index), and the first neuron shown is the one of the last layer shown whose
  field is centred nearest the image's centre, by the same rule;
* ``set(name=value, ...)`` takes only values the control offers (no rounding);
* ``message``: why the last change was refused (empty otherwise); the
  controls then show the picture on show again. ``notice``: what was done to
  your image (a big one is shrunk).

Starting values outside their ranges raise ``ValueError`` naming the argument.
``controls=[...]`` shows only the controls named (the ones taught so far); the
others keep their starting values and ``set()`` refuses them with a message.

:func:`use_interactive_figures` (the first cell of every notebook) makes their
figures clickable in JupyterLab, VS Code and Colab alike; :class:`Predict`
asks for a prediction before it shows the answer. :class:`ProjectiveExplorer`
goes the other way: ``select(row, col)`` picks an input pixel, and ``region`` is
the box of last-layer neurons it reaches.
"""

from .conv import ConvExplorer
from .stack import StackExplorer
from .erf import ERFExplorer
from .projective import ProjectiveExplorer
from .volume import VolumeExplorer
from .frontend import use_interactive_figures
from .predict import Predict

__all__ = ["ConvExplorer", "StackExplorer", "ERFExplorer", "ProjectiveExplorer", "VolumeExplorer",
           "Predict", "use_interactive_figures"]
