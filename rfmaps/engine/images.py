"""Images to look at: a photograph, synthetic teaching images, your own file.

Every function returns floats in [0, 1], shaped ``(H, W)`` (gray) or
``(H, W, 3)`` (colour), as matplotlib shows them.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Callable, Optional

import numpy as np

from .._core.validation import ArgumentKindError, check_switch, finite_number, int_at_least

__all__ = ["sample", "SAMPLES", "load_image", "as_float_image", "checked_pixels", "image_array", "float_pixel_scale",
           "downsample", "checkerboard", "disk", "stripes", "impulse", "step", "letter"]

# A decompression bomb is a small file whose header claims a huge image. 50 megapixels is above
# any camera photo a student brings (12-48 MP) and decodes in at most 200 MB (4 bytes per pixel).
# Array images are held to the same size (and to 4 values a pixel), checked from the shape alone:
# a view such as np.broadcast_to(0.5, (100000, 100000)) takes no memory until something copies it.
MAX_PIXELS = 50_000_000

# Values of one band that the value checks read at a time: a band's temporary (the finite test's
# booleans) stays at 2 MB however large the image, even a broadcast view of one number.
_BAND_VALUES = 2 ** 21


def image_array(image, name: str = "image") -> np.ndarray:
    """``image`` as an array (not copied when it is one), after the checks that need only its shape and kind.

    Refuses, before any value is read or copied: what is not real numbers, shapes other than
    ``(H, W)`` or ``(H, W, C)``, a channels-first ``(C, H, W)`` image as torch keeps it, and
    more than ``MAX_PIXELS`` pixels.

    Examples
    --------
    >>> image_array(np.broadcast_to(0.5, (4, 6))).shape
    (4, 6)
    >>> try:
    ...     image_array(np.zeros((3, 32, 32)))   # a torch image
    ... except ValueError as error:
    ...     print(str(error).split("; ")[1])
    rfmaps takes (H, W, 3): pass np.moveaxis(image, 0, -1)
    """
    try:
        array = np.asarray(image)
    except ValueError:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array (all rows of one length)") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) \
            or np.issubdtype(array.dtype, np.complexfloating):
        raise ArgumentKindError(f"{name} must hold real numbers (floats in [0, 1], or integer pixel values), "
                                f"got dtype {array.dtype}")
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"{name} must be a non-empty array of shape (H, W) or (H, W, C), "
                         f"got shape {array.shape}")
    # (3, 64, 64) read as (H, W, C) would be 3 rows of 64 channels: a torch image, not a picture that thin.
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and min(array.shape[1:]) > 4:
        c = array.shape[0]
        raise ValueError(f"{name} has shape {array.shape}, which looks channels-first ({c}, H, W) as torch "
                         f"keeps it; rfmaps takes (H, W, {c}): pass np.moveaxis({name}, 0, -1)")
    pixels = array.shape[0] * array.shape[1]
    if pixels > MAX_PIXELS or array.size > 4 * MAX_PIXELS:
        raise ValueError(f"{name} has shape {array.shape} ({pixels / 1e6:,.1f} megapixels), more than the "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels (of at most 4 values each) rfmaps takes; "
                         f"shrink it first, e.g. {name}[::k, ::k] keeps every k-th pixel")
    return array


def _all_finite(array: np.ndarray) -> bool:
    """``np.all(np.isfinite(array))`` a band of rows at a time: no temporary the size of the image."""
    rows = max(1, _BAND_VALUES // max(1, array[:1].size))
    return all(bool(np.isfinite(array[r: r + rows]).all()) for r in range(0, len(array), rows))


def as_float_image(image, name: str = "image", copy: bool = True) -> np.ndarray:
    """Check an array image and return it as floats in [0, 1].

    What the numbers mean:

    * floats are brightness already: they are kept as they are;
    * booleans, and integer arrays holding only 0 and 1, are masks: 0 and 1
      (a 0/1 mask divided by 255 would be a black image that looks valid);
    * other integers are pixel values as files store them: uint16 is divided
      by 65535, every other integer type by 255 and must lie in 0..255.

    With ``copy=False`` a float64 image comes back as it is, not copied.

    Raises
    ------
    TypeError
        If the array does not hold real numbers (strings, objects, complex).
    ValueError
        If the array is not ``(H, W)`` or ``(H, W, C)`` (a channels-first
        ``(C, H, W)`` image is named as such), is empty, has more than
        ``MAX_PIXELS`` pixels, holds NaN or infinite values, or integers
        outside the range of its kind. Only the shape is read before the size
        is checked.

    Examples
    --------
    >>> as_float_image(np.array([[0, 255]], dtype=np.uint8))
    array([[0., 1.]])
    >>> as_float_image(np.array([[0, 1]]))   # a mask
    array([[0., 1.]])
    """
    array, scale = checked_pixels(image, name)
    if scale == 1.0:
        return array.astype(float, copy=copy or array.dtype != float)
    return array / scale


def checked_pixels(image, name: str = "image"):
    """Check an array image; return it as an array and the number that scales it to [0, 1].

    The checks and meanings of :func:`as_float_image`, without converting:
    code that converts a huge image a band at a time uses the one scale of
    the whole image (a dark band of a photo could otherwise pass for a mask).

    Examples
    --------
    >>> checked_pixels(np.array([[0, 200]], dtype=np.uint8))[1]
    255.0
    """
    array = image_array(image, name)
    if array.dtype == bool:
        return array, 1.0
    if np.issubdtype(array.dtype, np.integer):
        low, high = int(array.min()), int(array.max())
        if low >= 0 and high <= 1:
            return array, 1.0  # a mask
        top = 65535 if array.dtype == np.uint16 else 255
        if low < 0 or high > top:
            raise ValueError(f"{name} holds integers from {low} to {high}, outside 0..{top}; "
                             f"give floats in [0, 1] instead")
        return array, float(top)
    if not _all_finite(array):
        raise ValueError(f"{name} holds NaN or infinite values; replace them before use")
    return array, 1.0


def float_pixel_scale(image, name: str = "image"):
    """For an image of floats: the number that brings it to [0, 1], and a sentence saying what it did.

    What students load is not always in [0, 1]: ``np.asarray(Image.open(f)).astype(float)``
    gives 0..255, a float TIFF may hold 0..255 or 0..65535. Taken as brightness, such
    an image is nearly all white and every value too large. So:

    * floats in [0, 1] are brightness: scale 1 and no sentence;
    * floats a little outside it (from -0.5 to 2: noise added, a contrast
      raised, a resampling overshoot) are brightness too: scale 1, and the
      sentence says they are clipped to [0, 1];
    * non-negative floats above 2, up to 255, are 8-bit pixel values: scale 255;
    * non-negative floats up to 65535 are 16-bit pixel values: scale 65535;
    * anything else (more negative values, larger ones) is refused with a sentence.

    A caller with a sentence divides by the scale and clips to [0, 1]. The
    explorers and :func:`load_image` use it; :func:`as_float_image` does not (the
    engine takes any finite floats, as a layer does).

    Raises
    ------
    ValueError
        If the floats are below -0.5, above 65535 (or negative with a maximum
        above 2), or not finite.

    Examples
    --------
    >>> float_pixel_scale(np.array([[0.0, 0.5]]))
    (1.0, '')
    >>> float_pixel_scale(np.array([[0.0, 200.0]]))[0]
    255.0
    >>> float_pixel_scale(np.array([[0.0, 1.01]]))[0]   # an overshoot: clipped, not divided
    1.0
    """
    array = np.asarray(image)  # not converted: a float32 photo stays float32 (no copy)
    if array.size == 0 or not _all_finite(array if array.ndim else array[None]):
        raise ValueError(f"{name} holds NaN or infinite values (or nothing); replace them before use")
    low, high = float(array.min()), float(array.max())
    if low >= 0 and high <= 1:
        return 1.0, ""
    if low >= -0.5 and high <= 2:
        return 1.0, (f"Your {name} holds floats from {low:g} to {high:g}, a little outside brightness in "
                     f"[0, 1]: values outside were clipped to 0 and 1.")
    if low >= 0 and high <= 65535:
        scale, kind = (255.0, "8-bit pixel values (0 to 255)") if high <= 255 else \
            (65535.0, "16-bit pixel values (0 to 65535)")
        return scale, (f"Your {name} holds floats from {low:g} to {high:g}, not brightness in [0, 1]: "
                       f"it was read as {kind} and divided by {scale:g}.")
    raise ValueError(f"{name} holds floats from {low:g} to {high:g}; an image holds brightness in [0, 1] "
                     f"(or pixel values 0 to 255): rescale it first, e.g. "
                     f"(image - image.min()) / (image.max() - image.min())")


def _size_argument(value, name: str, minimum: int = 1) -> int:
    return int_at_least(value, name, minimum)


def downsample(image: np.ndarray, max_size: int) -> np.ndarray:
    """Shrink by averaging blocks of ``f x f`` pixels until no side exceeds ``max_size``.

    ``f`` is the smallest whole factor that is enough. Blocks at the right and
    bottom edges may be smaller, and are averaged over the pixels they have, so
    no side ever shrinks to zero and no pixel is dropped.

    Examples
    --------
    >>> downsample(np.ones((10, 7)), 5).shape
    (5, 4)
    >>> downsample(np.ones((1200, 4)), 256).shape
    (240, 1)
    """
    max_size = _size_argument(max_size, "max_size")
    factor = math.ceil(max(image.shape[:2]) / max_size)
    if factor <= 1:
        return image
    rows, cols = np.arange(0, image.shape[0], factor), np.arange(0, image.shape[1], factor)
    sums = np.add.reduceat(np.add.reduceat(image, rows, axis=0), cols, axis=1)
    heights = np.diff(np.append(rows, image.shape[0]))
    widths = np.diff(np.append(cols, image.shape[1]))
    counts = np.outer(heights, widths).reshape(len(rows), len(cols), *([1] * (image.ndim - 2)))
    return sums / counts


def load_image(path, max_size: int = 256) -> np.ndarray:
    """Read an image file for use with rfmaps.

    Parameters
    ----------
    path : str or path-like
        Any format Pillow reads (PNG, JPEG, GIF, BMP, TIFF, WebP...).
    max_size : int, default 256
        Larger images are shrunk (by block averaging) so neither side exceeds it.

    Returns
    -------
    ndarray
        Floats in [0, 1]: ``(H, W)`` for gray files (gray + alpha included),
        ``(H, W, 3)`` for colour ones; transparency is dropped.

    Raises
    ------
    TypeError
        If ``path`` is not a string or path, or ``max_size`` not an int.
    FileNotFoundError
        If nothing is at ``path``.
    ValueError
        If the file is not an image, or claims more than ``MAX_PIXELS`` pixels
        (checked from its header, before anything is decoded).

    Examples
    --------
    >>> import tempfile, matplotlib.image
    >>> file = tempfile.NamedTemporaryFile(suffix=".png", delete=False).name
    >>> matplotlib.image.imsave(file, np.ones((600, 300, 3)))
    >>> load_image(file).shape
    (200, 100, 3)
    """
    # Pillow comes with matplotlib (one of its requirements); it reads the header without decoding.
    from PIL import Image, UnidentifiedImageError

    if not isinstance(path, (str, os.PathLike)):
        raise ArgumentKindError(f"path must be a file name (str or path-like), got {type(path).__name__} {path!r}")
    max_size = _size_argument(max_size, "max_size")
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no image file at {path!r}")
    bomb = (f"more than the {MAX_PIXELS / 1e6:.0f} megapixels rfmaps opens; a file that claims "
            f"more pixels than it holds is a decompression bomb, and a real one this large should be "
            f"shrunk before use")
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 megapixels on; the check below refuses those anyway.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            picture = Image.open(path)
    except Image.DecompressionBombError as error:  # Pillow refuses from 179 megapixels on
        limit = Image.MAX_IMAGE_PIXELS or 0  # never None here: Pillow checks no size without a limit
        raise ValueError(f"{path!r} claims more than {2 * limit / 1e6:.0f} megapixels, "
                         f"{bomb}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"{path!r} is not an image file rfmaps can read ({error})") from None
    try:
        with picture:
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise ValueError(f"{path!r} claims {width} x {height} pixels "
                                 f"({width * height / 1e6:.0f} megapixels), {bomb}")
            factor = math.ceil(max(width, height) / max_size)
            # JPEG can decode at 1/2, 1/4 or 1/8 of its size directly: less memory and time.
            picture.draft("RGB" if picture.mode not in ("L", "LA") else "L",
                          (math.ceil(width / factor), math.ceil(height / factor)))
            array = _pixels(picture)
    except (OSError, SyntaxError) as error:  # what Pillow raises on truncated or corrupt data
        raise ValueError(f"{path!r} is not an image file rfmaps can read ({error})") from None
    return downsample(array, max_size)


def _pixels(picture) -> np.ndarray:
    """Floats in [0, 1] from a Pillow image: (H, W) for gray modes, (H, W, 3) for the rest."""
    mode = picture.mode
    if mode in ("1", "L", "LA", "La"):
        return np.asarray(picture.convert("L"), dtype=float) / 255.0
    if mode.startswith("I;16") or mode == "I":  # 16-bit gray PNG/TIFF
        return np.clip(np.asarray(picture, dtype=float) / 65535.0, 0.0, 1.0)
    if mode == "F":  # 32-bit float TIFF: brightness in [0, 1], or pixel values stored as floats
        array = np.asarray(picture, dtype=float)
        scale, notice = float_pixel_scale(array, "file")
        if notice:
            warnings.warn(notice, stacklevel=3)
            return np.clip(array / scale, 0.0, 1.0)
        return array
    if mode == "P" and picture.palette is not None and picture.palette.mode in ("L", "LA"):
        return np.asarray(picture.convert("L"), dtype=float) / 255.0
    return np.asarray(picture.convert("RGB"), dtype=float) / 255.0


# --- synthetic teaching images -------------------------------------------------

def _grid(size: int):
    return np.meshgrid(np.arange(size), np.arange(size), indexing="ij")


def checkerboard(size: int = 64, square: Optional[int] = None) -> np.ndarray:
    """Black and white squares of ``square`` pixels (default: eight squares across)."""
    size = _size_argument(size, "size", MIN_SIZES["checkerboard"])
    square = max(1, size // 8) if square is None else _size_argument(square, "square")
    y, x = _grid(size)
    return (((y // square) + (x // square)) % 2).astype(float)


def disk(size: int = 64, radius: Optional[float] = None) -> np.ndarray:
    """A bright disk in the middle of a dark square."""
    y, x = _grid(_size_argument(size, "size", MIN_SIZES["disk"]))
    c = (size - 1) / 2
    r = size / 4 if radius is None else finite_number(radius, "radius (pixels)", 0)
    return ((y - c) ** 2 + (x - c) ** 2 <= r ** 2).astype(float)


def stripes(size: int = 64, angle: float = 30, period: float = 8) -> np.ndarray:
    """A sine grating: stripes at ``angle`` degrees (0 gives vertical stripes)."""
    y, x = _grid(_size_argument(size, "size", MIN_SIZES["stripes"]))
    period = finite_number(period, "period (pixels per stripe cycle)", 0, above=True)
    angle = finite_number(angle, "angle (degrees)")
    t = np.deg2rad(angle)
    return 0.5 + 0.5 * np.sin(2 * np.pi * (x * np.cos(t) + y * np.sin(t)) / period)


def impulse(size: int = 33) -> np.ndarray:
    """A single bright pixel in the middle: its feature maps show the kernels."""
    size = _size_argument(size, "size", MIN_SIZES["impulse"])
    image = np.zeros((size, size))
    image[size // 2, size // 2] = 1.0
    return image


def step(size: int = 64) -> np.ndarray:
    """Dark left half, bright right half: one vertical edge."""
    size = _size_argument(size, "size", MIN_SIZES["step"])
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
    size = _size_argument(size, "size", MIN_SIZES["letter"])
    bitmap = np.array([[ch == "#" for ch in row] for row in _LETTER_A], dtype=float)
    scale = max(1, size // 9)  # leaves a margin of about one cell on each side
    big = np.kron(bitmap, np.ones((scale, scale)))
    image = np.zeros((size, size))
    offset = (size - big.shape[0]) // 2
    image[offset: offset + big.shape[0], offset: offset + big.shape[1]] = big
    return image


def _photo(size: int = 128, square: bool = False) -> np.ndarray:
    from matplotlib import cbook
    import matplotlib.image

    # Grace Hopper's portrait ships with matplotlib: nothing is downloaded.
    array = as_float_image(matplotlib.image.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False),
                                                   format="jpeg"))
    height, width = array.shape[:2]
    if square:  # the middle square (her face)
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        return _resize(array[top: top + side, left: left + side], size, size)
    # The longest side becomes exactly ``size``; the other keeps the proportions.
    scale = size / max(height, width)
    return _resize(array, max(1, round(height * scale)), max(1, round(width * scale)))


def _cells(length: int, count: int):
    """First index and pixel count of each of ``count`` near-equal cells covering ``length`` pixels."""
    starts = np.arange(count) * length // count  # repeats a pixel when count > length
    return starts, np.maximum(np.diff(np.append(starts, length)), 1)


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` resampled to exactly ``height x width``: each output cell averages its pixels."""
    rows, row_counts = _cells(image.shape[0], height)
    cols, col_counts = _cells(image.shape[1], width)
    sums = np.add.reduceat(np.add.reduceat(image, rows, axis=0), cols, axis=1)
    counts = np.multiply.outer(row_counts, col_counts)
    return sums / counts.reshape(counts.shape + (1,) * (image.ndim - 2))


SAMPLES: dict[str, Callable[..., np.ndarray]] = {
    "photo": _photo,
    "checkerboard": checkerboard,
    "disk": disk,
    "stripes": stripes,
    "impulse": impulse,
    "step": step,
    "letter": letter,
}
# The smallest size each picture still shows what it is meant to show.
MIN_SIZES = {"photo": 1, "checkerboard": 2, "disk": 3, "stripes": 2, "impulse": 1, "step": 2,
             "letter": len(_LETTER_A)}


def sample(name: str = "photo", size: Optional[int] = None, *, square: bool = False) -> np.ndarray:
    """A sample image by name.

    Parameters
    ----------
    name : str
        ``'photo'`` (Grace Hopper, colour, from matplotlib's sample data) or a
        synthetic one: ``'checkerboard'``, ``'disk'``, ``'stripes'``,
        ``'impulse'``, ``'step'``, ``'letter'``.
    size : int, optional
        Side in pixels (for the photo: its longest side, exactly). Each has a default;
        ``MIN_SIZES`` gives the smallest each one accepts.
    square : bool, default False
        Photo only: take the middle square of the portrait, so the result is
        exactly ``size x size x 3`` (the synthetic images are square anyway).

    Raises
    ------
    TypeError
        If ``name`` is not a string or ``size`` not an int.
    ValueError
        If ``name`` is unknown or ``size`` below the picture's minimum.

    Examples
    --------
    >>> sample("photo").shape
    (128, 109, 3)
    >>> sample("photo", size=50, square=True).shape
    (50, 50, 3)
    >>> sample("disk", size=16).shape
    (16, 16)
    """
    if not isinstance(name, str):
        raise ArgumentKindError(f"name must be a string, one of {', '.join(map(repr, SAMPLES))}; got {name!r}")
    if name not in SAMPLES:
        raise ValueError(f"name must be one of {', '.join(map(repr, SAMPLES))}, got {name!r}")
    square = check_switch(square, "square")
    if square and name != "photo":
        raise ValueError(f"square=True applies to 'photo' only ({name!r} is square already)")
    if size is None:
        return SAMPLES[name](square=True) if square else SAMPLES[name]()
    size = _size_argument(size, "size", MIN_SIZES[name])
    return SAMPLES[name](size, square=True) if square else SAMPLES[name](size)
