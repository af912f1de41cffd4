"""Receptive fields, projective fields and path counts of a stack of layers.

* :mod:`~rfmaps.arithmetic.receptive_field`: the per-layer table (size, jump, start), one neuron's own field,
  the input region it sees, the neurons a pixel reaches;
* :mod:`~rfmaps.arithmetic.connectivity`: how many paths join each input pixel to a neuron, and back.

Imports only :mod:`rfmaps._core` and :mod:`rfmaps.layers`.
"""

from .connectivity import forward_path_counts, path_counts
from .receptive_field import input_channels, input_region, projective_field, receptive_fields

__all__ = ["receptive_fields", "input_region", "input_channels", "projective_field", "path_counts",
           "forward_path_counts"]
