"""Whole networks: published architectures, networks read from PyTorch, and a small trained one.

* :mod:`~rfmaps.models.architectures`: AlexNet, VGG-16, ResNet-50 as rfmaps layers, with their stage tables;
* :mod:`~rfmaps.models.convert`: ``from_torch`` (imports torch inside the function only);
* :mod:`~rfmaps.models.trained`: a small network trained by ``tools/train_small_cnn.py``, read from ``data/``.

Imports :mod:`rfmaps.layers`, :mod:`rfmaps.arithmetic` and :mod:`rfmaps.engine`.
"""
