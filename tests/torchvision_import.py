"""Import torchvision (and timm) in the tests, or say why not.

torchvision 0.28.0 on PyPI is a CUDA build. With the CPU build of torch its
compiled operators fail to load, and ``import torchvision`` then stops at
the registration of ``torchvision::nms`` and ``torchvision::qnms``. The
classification models never call those operators, so declaring their
schemas (no implementation) lets the import finish; a detection model that
really ran ``nms`` would fail loudly, never silently.
"""

import importlib

_declared = False
_LIBRARIES = []


def _declare_operators(torch) -> None:
    """Declare the two operator schemas torchvision's Python code registers fakes for."""
    global _declared
    if _declared:
        return
    _declared = True
    try:
        library = torch.library.Library("torchvision", "DEF")
        library.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
        library.define("qnms(Tensor qdets, Tensor scores, float iou_threshold) -> Tensor")
    except RuntimeError:  # already declared (a working torchvision build loaded its own): nothing to do
        return
    # Kept alive for the whole process: a dropped Library removes its definitions.
    _LIBRARIES.append(library)


def import_torchvision():
    """The ``torchvision`` module, or ``None`` when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    if importlib.util.find_spec("torchvision") is None:
        return None
    _declare_operators(torch)
    import torchvision

    return torchvision


def import_timm():
    """The ``timm`` module (it imports torchvision), or ``None`` when either is missing."""
    if import_torchvision() is None or importlib.util.find_spec("timm") is None:
        return None
    import timm

    return timm
