"""The bottom layer: argument checks and exact index arithmetic (internal).

* :mod:`~rfmaps._core.validation`: every argument check, each message naming the argument and the allowed range;
* :mod:`~rfmaps._core.geometry`: exact positions (Fractions), taps, nearest neurons and the one tie rule;
* :mod:`~rfmaps._core.sliding`: the strided views over arrays that every sliding-window layer runs on.

Nothing here imports another part of rfmaps; everything else may import from here.
"""
