"""Arrays through a stack: feature maps, effective fields, and the images and kernels fed to them.

* :mod:`~rfmaps.engine.images`: sample images, ``load_image`` and the pixel checks;
* :mod:`~rfmaps.engine.kernels`: the kernel bank and each layer's weights;
* :mod:`~rfmaps.engine.maps`: ``feature_maps``, ``effective_receptive_field``, ``mass_width``;
* :mod:`~rfmaps.engine.growth`: how the effective field grows with depth (used by notebook 07).

Imports :mod:`rfmaps._core`, :mod:`rfmaps.layers` and :mod:`rfmaps.arithmetic`.
"""

from .maps import effective_receptive_field, feature_maps, mass_width

__all__ = ["feature_maps", "effective_receptive_field", "mass_width"]
