"""Image intake: the images an explorer shows, a sample by name or the caller's own array.

An own array is checked and read as :func:`rfmaps.engine.images.as_float_image`
reads it (floats in 0..255 are rescaled, as :func:`~rfmaps.engine.images.float_pixel_scale`
says), and an array with a side over :data:`MAX_IMAGE_SIDE` is shrunk by
:func:`rfmaps.engine.images.downsample` itself, one band at a time (:func:`shrink`).
"""

from __future__ import annotations

import math
from typing import List, Optional, Tuple

import ipywidgets as widgets
import numpy as np

from ._cache import Cache

__all__ = ["MAX_IMAGE_SIDE", "SQUARE_PHOTO", "ImageSource", "check_image", "image_control", "image_names",
           "sample_image", "shrink"]

# Own images larger than this (either side) are shrunk by block averaging, as
# rfmaps.engine.images.load_image does: each change then costs tens of milliseconds
# and a few megabytes, not seconds and gigabytes.
MAX_IMAGE_SIDE = 256

SQUARE_PHOTO = "photo (square)"  # the middle square of the photo: size x size x 3, as in the classic example

# Pixels of one band that shrink() turns into floats at a time: 2 M values, 16 MB as float64.
BAND_VALUES = 2 ** 21


def image_names() -> List[str]:
    """The names the ``image`` control offers for samples."""
    from ..engine.images import SAMPLES

    names = list(SAMPLES)
    return names[:1] + [SQUARE_PHOTO] + names[1:]


def sample_image(name: str, size: int) -> np.ndarray:
    """The sample image ``name`` (one of :func:`image_names`) at ``size`` pixels.

    Examples
    --------
    >>> sample_image("photo (square)", 50).shape
    (50, 50, 3)
    """
    from ..engine.images import sample

    if name == SQUARE_PHOTO:
        return sample("photo", size=size, square=True)
    return sample(name, size=size)


def image_control(name: str) -> widgets.Dropdown:
    """A choice of sample images, plus the caller's own array when there is one."""
    options = (["your image"] if name == "your image" else []) + image_names()
    return widgets.Dropdown(options=options, value=name, description="image",
                            layout=widgets.Layout(width="240px"))  # room for 'photo (square)'


def shrink(array: np.ndarray, max_size: int) -> np.ndarray:
    """:func:`rfmaps.engine.images.downsample` of the image as floats, computed a band at a time.

    A 4000 x 4000 photo as float64 takes 384 MB; a band takes at most
    ``BAND_VALUES`` floats (16 MB). The bands run along the *longer* side (each
    holds every row when the image is taller than wide, every column
    otherwise) and are a whole number of blocks wide, so ``downsample`` picks
    the same factor and the same blocks in each band as in the whole image:
    the numbers are downsample's own, to the bit. One scale (from
    :func:`~rfmaps.engine.images.checked_pixels` of the whole image) holds for
    every band: a dark band of a photo must not read as a 0/1 mask.

    Examples
    --------
    >>> from rfmaps.engine.images import as_float_image, downsample
    >>> photo = np.arange(600 * 500 * 3).reshape(600, 500, 3) % 256
    >>> bool(np.array_equal(shrink(photo, 256), downsample(as_float_image(photo), 256)))
    True
    """
    from ..engine.images import checked_pixels, downsample

    array, scale = checked_pixels(array, "image")
    height, width = array.shape[:2]
    factor = math.ceil(max(height, width) / max_size)
    axis = 1 if height >= width else 0  # cut across the longer side: each band keeps it whole
    long_side, channels = max(height, width), int(np.prod(array.shape[2:]))
    blocks = max(1, BAND_VALUES // (long_side * channels * factor))  # blocks per band
    step = blocks * factor
    bands = []
    for start in range(0, array.shape[axis], step):
        band = array[:, start: start + step] if axis == 1 else array[start: start + step]
        floats = band.astype(float) if scale == 1.0 else band / scale  # as as_float_image converts
        bands.append(downsample(floats, max_size))
    return np.concatenate(bands, axis=axis)


def check_image(image) -> Tuple[str, Optional[np.ndarray], str]:
    """The explorer's image: a sample name, or the caller's array checked and made ready.

    Returns ``(name, array, notice)``: ``array`` is None for a sample, else
    floats shaped ``(H, W)`` or ``(H, W, 3)``, read-only; ``notice`` says when
    the array had to be rescaled (floats in 0..255, see
    :func:`rfmaps.engine.images.float_pixel_scale`) or shrunk. A large array
    (a broadcast view too) is read a band at a time, never copied whole.
    """
    from ..engine.images import as_float_image, float_pixel_scale, image_array
    from ._wiring import check_choice

    if isinstance(image, str):
        check_choice(image, "image", image_names())
        return image, None, ""
    try:
        array = np.asarray(image)
    except ValueError:  # ragged nested lists
        raise ValueError("image must be a rectangular array (all rows of one length), or a name of "
                         f"{', '.join(map(repr, image_names()))}") from None
    # Kind, shape (a channels-first torch image is named as such) and size, before any value is read
    # or copied: a view such as np.broadcast_to(0.5, (100000, 100000)) costs nothing until then.
    array = image_array(array, "image")
    if array.ndim == 3 and array.shape[2] not in (1, 3, 4):
        raise ValueError(f"image must have 1, 3 or 4 channels (gray, RGB or RGBA), got {array.shape[2]}")
    if array.ndim == 3:
        array = array[:, :, 0] if array.shape[2] == 1 else array[:, :, :3]  # alpha is dropped, as load_image does
    scale, notice = 1.0, ""
    if array.dtype.kind == "f" and array.ndim in (2, 3) and array.size:
        # Floats in 0..255 (np.asarray(Image.open(f)).astype(float)) would show nearly all white.
        scale, notice = float_pixel_scale(array, "image")
    scaled = bool(notice)
    if array.ndim in (2, 3) and max(array.shape[:2]) > MAX_IMAGE_SIDE:
        before = array.shape[:2]
        array = shrink(array, MAX_IMAGE_SIDE)
        notice += (f" Your {before[0]} × {before[1]} image is shown shrunk to {array.shape[0]} × "
                   f"{array.shape[1]} (block averages), so every change stays quick; "
                   f"rfmaps.engine.images.downsample(image, n) picks another size up to {MAX_IMAGE_SIDE}.")
    else:
        array = as_float_image(array, name="image")  # a private copy: the caller may change theirs
    if scaled:  # float_pixel_scale said what it did: divide by the scale, clip to [0, 1]
        array = np.clip(array / scale, 0.0, 1.0)
    array.setflags(write=False)
    return "your image", array, notice.strip()


class ImageSource:
    """The images one explorer can show: every sample at its ``size``, and the caller's own.

    Parameters
    ----------
    image : str, array_like or None
        A sample name, an own array (see :func:`check_image`), or None for an
        explorer that draws no image.
    size : int
        Side of the samples, in pixels.

    Examples
    --------
    >>> source = ImageSource("disk", 24)
    >>> source.name, source.get("checkerboard").shape, source.notice
    ('disk', (24, 24), '')
    """

    def __init__(self, image, size: int):
        self.size = size
        self.name: Optional[str]
        self.own: Optional[np.ndarray]
        self.name, self.own, self.notice = (None, None, "") if image is None else check_image(image)
        # Samples by name. Key: the name alone, as the sample's size and the own image are fixed for this
        # source; a variant of a sample (VolumeExplorer's square photo) is keyed by its own name. Bound:
        # 8 MB, at most 256 x 256 x 3 floats (1.5 MB) each.
        self._samples = Cache(8 * 2 ** 20)

    def get(self, name: str, square: bool = False) -> np.ndarray:
        """The image called ``name``: ``'your image'`` or a sample (the photo cropped square on request)."""
        if name == "your image":
            assert self.own is not None, "only an explorer made with an array offers 'your image'"
            return self.own
        if square and name == "photo":
            name = SQUARE_PHOTO
        return self._samples.get(name, lambda: sample_image(name, self.size))
