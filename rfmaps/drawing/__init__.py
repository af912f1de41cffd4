"""Matplotlib pictures, no widgets.

* :mod:`~rfmaps.drawing.figures`: maps, mosaics, outlines with halos, keys, colour bars, ``compare``;
* :mod:`~rfmaps.drawing.volumes`: a layer drawn as input block, kernel box and output block;
* :mod:`~rfmaps.drawing.explain`: sentences and formulas with the current numbers in them.
* :mod:`~rfmaps.drawing.zoo`: every stage's receptive field for many networks in one picture (a zoo table's).

Imports :mod:`rfmaps._core` and :mod:`rfmaps.layers` only; the explorers in :mod:`rfmaps.widgets` draw with it.
"""

from .figures import compare

__all__ = ["compare"]
