"""Images to look at: a photograph, synthetic teaching images, your own file.

Every function returns floats in [0, 1], shaped ``(H, W)`` (gray) or
``(H, W, 3)`` (colour), as matplotlib shows them.
"""

from __future__ import annotations

import math
import os
from typing import Optional

import numpy as np

__all__ = ["sample", "SAMPLES", "load_image", "as_float_image", "downsample",
           "checkerboard", "disk", "stripes", "impulse", "step", "letter"]


def as_float_image(image, name: str = "image", copy: bool = True) -> np.ndarray:
    """Check an array image and return it as floats in [0, 1].

    Unsigned integers are divided by their largest value (255 for uint8);
    other integers by 255 when they fit in 0..255. Booleans become 0 and 1.
    With ``copy=False`` a float64 image comes back as it is, not copied.

    Raises
    ------
    ValueError
        If the array is not ``(H, W)`` or ``(H, W, C)``, is empty, or holds
        NaN or infinite values.

    Examples
    --------
    >>> as_float_image(np.array([[0, 255]], dtype=np.uint8))
    array([[0., 1.]])
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"{name} must be a non-empty array of shape (H, W) or (H, W, C), "
                         f"got shape {array.shape}")
    if array.dtype == bool:
        return array.astype(float)
    if np.issubdtype(array.dtype, np.unsignedinteger):
        return array / float(np.iinfo(array.dtype).max)
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise ValueError(f"{name} holds integers outside 0..255; give floats in [0, 1] instead")
        return array / 255.0
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{name} must hold numbers, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values; replace them before use")
    return array.astype(float, copy=copy)


def downsample(image: np.ndarray, max_size: int) -> np.ndarray:
    """Shrink by averaging whole blocks until no side exceeds ``max_size``.

    Examples
    --------
    >>> downsample(np.ones((10, 7)), 5).shape
    (5, 3)
    """
    if max_size < 1:
        raise ValueError(f"max_size must be >= 1, got {max_size}")
    factor = math.ceil(max(image.shape[:2]) / max_size)
    if factor <= 1:
        return image
    h, w = image.shape[0] // factor, image.shape[1] // factor
    blocks = image[: h * factor, : w * factor].reshape(h, factor, w, factor, *image.shape[2:])
    return blocks.mean(axis=(1, 3))


def load_image(path, max_size: int = 256) -> np.ndarray:
    """Read an image file for use with rfmaps.

    Parameters
    ----------
    path : str or path-like
        Any format matplotlib reads (PNG natively, JPEG and more through Pillow).
    max_size : int, default 256
        Larger images are shrunk (by block averaging) so neither side exceeds it.

    Returns
    -------
    ndarray
        ``(H, W)`` for gray files, ``(H, W, 3)`` for colour; alpha is dropped.

    Raises
    ------
    FileNotFoundError
        If nothing is at ``path``.
    ValueError
        If the file is not an image matplotlib can read.
    """
    import matplotlib.image

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no image file at {path!r}")
    try:
        array = matplotlib.image.imread(path)
    except Exception as error:  # Pillow and matplotlib raise several kinds
        raise ValueError(f"{path!r} is not an image file matplotlib can read ({error})") from None
    if array.ndim == 3:
        if array.shape[2] == 2:  # gray + alpha
            array = array[:, :, 0]
        elif array.shape[2] == 4:  # RGBA
            array = array[:, :, :3]
    return downsample(as_float_image(array, name=path), max_size)


# --- synthetic teaching images -------------------------------------------------

def _grid(size: int):
    return np.meshgrid(np.arange(size), np.arange(size), indexing="ij")


def checkerboard(size: int = 64, square: int = 8) -> np.ndarray:
    """Black and white squares of ``square`` pixels."""
    y, x = _grid(size)
    return (((y // square) + (x // square)) % 2).astype(float)


def disk(size: int = 64, radius: Optional[float] = None) -> np.ndarray:
    """A bright disk in the middle of a dark square."""
    y, x = _grid(size)
    c = (size - 1) / 2
    r = size / 4 if radius is None else radius
    return ((y - c) ** 2 + (x - c) ** 2 <= r ** 2).astype(float)


def stripes(size: int = 64, angle: float = 30, period: float = 8) -> np.ndarray:
    """A sine grating: stripes at ``angle`` degrees (0 gives vertical stripes)."""
    y, x = _grid(size)
    t = np.deg2rad(angle)
    return 0.5 + 0.5 * np.sin(2 * np.pi * (x * np.cos(t) + y * np.sin(t)) / period)


def impulse(size: int = 33) -> np.ndarray:
    """A single bright pixel in the middle: its feature maps show the kernels."""
    image = np.zeros((size, size))
    image[size // 2, size // 2] = 1.0
    return image


def step(size: int = 64) -> np.ndarray:
    """Dark left half, bright right half: one vertical edge."""
    image = np.zeros((size, size))
    image[:, size // 2:] = 1.0
    return image


_LETTER_A = [
    "..###..",
    ".#...#.",
    "#.....#",
    "#.....#",
    "#######",
    "#.....#",
    "#.....#",
]


def letter(size: int = 64) -> np.ndarray:
    """The letter A, drawn from a 7 x 7 bitmap and scaled to ``size``."""
    bitmap = np.array([[ch == "#" for ch in row] for row in _LETTER_A], dtype=float)
    scale = max(1, size // 9)  # leaves a margin of about one cell on each side
    big = np.kron(bitmap, np.ones((scale, scale)))
    image = np.zeros((size, size))
    offset = (size - big.shape[0]) // 2
    image[offset: offset + big.shape[0], offset: offset + big.shape[1]] = big
    return image


def _photo(size: Optional[int] = None) -> np.ndarray:
    from matplotlib import cbook

    # Grace Hopper's portrait ships with matplotlib: nothing is downloaded.
    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        import matplotlib.image
        array = matplotlib.image.imread(handle, format="jpeg")
    return downsample(as_float_image(array), size or 128)


SAMPLES = {
    "photo": _photo,
    "checkerboard": checkerboard,
    "disk": disk,
    "stripes": stripes,
    "impulse": impulse,
    "step": step,
    "letter": letter,
}


def sample(name: str = "photo", size: Optional[int] = None) -> np.ndarray:
    """A sample image by name.

    Parameters
    ----------
    name : str
        ``'photo'`` (Grace Hopper, colour, from matplotlib's sample data) or a
        synthetic one: ``'checkerboard'``, ``'disk'``, ``'stripes'``,
        ``'impulse'``, ``'step'``, ``'letter'``.
    size : int, optional
        Side in pixels (for the photo: the longest side). Each has a default.

    Examples
    --------
    >>> sample("photo").shape
    (120, 102, 3)
    >>> sample("disk", size=16).shape
    (16, 16)
    """
    if name not in SAMPLES:
        raise ValueError(f"name must be one of {', '.join(map(repr, SAMPLES))}, got {name!r}")
    return SAMPLES[name]() if size is None else SAMPLES[name](size)
