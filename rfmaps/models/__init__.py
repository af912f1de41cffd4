"""Whole networks: published architectures, networks read from PyTorch, and a small trained one.

* :mod:`~rfmaps.models.architectures`: AlexNet, VGG-16, ResNet-50/101/152, Inception v2 and v3, MobileNet v1
  as rfmaps layers (TF-slim's, checked against the published receptive-field table), with their stage tables;
  built from :mod:`~rfmaps.models.network` (the named network), :mod:`~rfmaps.models.slim` (TensorFlow's
  'SAME' padding) and :mod:`~rfmaps.models.inception`;
* :mod:`~rfmaps.models.convert`: ``from_torch`` (imports torch inside the function only);
* :mod:`~rfmaps.models.trained`: a small network trained by ``tools/train_small_cnn.py``, read from ``data/``.
* :mod:`~rfmaps.models.zoo`: many networks side by side (torchvision's or the shipped ones): every stage's field,
  jump and map size, and which neurons see every pixel of the image, and why (notebook 13).

Imports :mod:`rfmaps.layers`, :mod:`rfmaps.arithmetic` and :mod:`rfmaps.engine`.
"""
