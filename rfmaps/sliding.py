"""Sliding windows laid out so that every kernel tap is one contiguous slice.

This is the trick that makes :func:`rfmaps.feature_maps` fast without a loop
over pixels. Take a layer with stride ``s``, dilation ``d`` and an input padded
as the layer pads it. Output pixel ``(r, c)`` reads, through kernel tap
``(i, j)``, the padded input pixel ``(s r + d i, s c + d j)`` (per axis).

* Split the padded input into ``s_h x s_w`` *phases*: phase ``(p, q)`` keeps
  rows ``p, p + s_h, ...`` and columns ``q, q + s_w, ...``. Tap ``(i, j)`` only
  ever reads phase ``(d_h i mod s_h, d_w j mod s_w)``, and there the pixel of
  output ``(r, c)`` sits at ``(r + d_h i // s_h, c + d_w j // s_w)``: the
  stride is gone and the tap became a plain shift.
* Flatten each phase row after row, rows ``width`` long. A shift by
  ``(a, b)`` is then the constant offset ``a * width + b``, so tap ``(i, j)``
  reads one contiguous slice for all output pixels at once. Output pixel
  ``(r, c)`` is element ``r * width + c`` of that slice; columns ``c >= ow``
  of each row are junk (they wrap into the next row) and are dropped.

With stride 1 there is a single phase and no copy beyond the padding. Small
temporary buffers are reused between calls (:func:`scratch`): fresh memory
from the operating system costs a page fault per 4 kB, which on a teaching
network took as long as the arithmetic itself.
"""

from __future__ import annotations

import threading
from typing import List, NamedTuple, Tuple

import numpy as np

__all__ = ["Taps", "taps", "scratch"]

# Buffers up to this many elements are kept for the next call (8 MB of
# float32 per role, enough for a teaching-size network); larger ones are
# freed at once, so a 1024 x 1024 image does not leave hundreds of megabytes
# behind in a student's kernel.
_KEEP_ELEMENTS = 2 * 1024 * 1024

_kept = threading.local()


def scratch(role: str, shape, dtype) -> np.ndarray:
    """An uninitialised array for temporary use, reused by the next call for ``role``.

    Never return it, or a view of it, to a caller: the next call overwrites it.

    Examples
    --------
    >>> a = scratch("example", (2, 3), np.float32)
    >>> b = scratch("example", (3, 2), np.float32)
    >>> np.shares_memory(a, b)
    True
    """
    size = int(np.prod(shape))
    if size > _KEEP_ELEMENTS:
        return np.empty(shape, dtype)
    buffers = _kept.__dict__.setdefault("buffers", {})
    key = (role, np.dtype(dtype))
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        del buffer
        buffers.pop(key, None)  # free the small one before taking the larger one
        buffer = buffers[key] = np.empty(max(size, 1024), dtype)
    return buffer[:size].reshape(shape)


class Taps(NamedTuple):
    """Where each kernel tap reads, for every output pixel at once.

    With ``(p, a) = rows[i]`` and ``(q, b) = cols[j]`` (phase and shift of
    kernel row ``i`` and kernel column ``j``), tap ``(i, j)`` reads
    ``phases[p, q][:, a * width + b + k]`` for flat output index
    ``k = r * width + c``.
    """

    phases: np.ndarray  # (s_h, s_w, channels, length)
    rows: List[Tuple[int, int]]
    cols: List[Tuple[int, int]]
    out_size: Tuple[int, int]  # (oh, ow)
    width: int  # row length of the flat output, >= ow

    def reads(self) -> List[Tuple[np.ndarray, int]]:
        """``(plane, offset)`` of every tap, kernel positions in row-major order."""
        return [(self.phases[p, q], a * self.width + b) for p, a in self.rows for q, b in self.cols]


def taps(x: np.ndarray, layer, fill: float) -> Taps:
    """Pad ``x`` (C, H, W) as ``layer`` does (with ``fill``) and lay it out as :class:`Taps`.

    The phases live in a :func:`scratch` buffer: use them before the next call.

    Examples
    --------
    >>> from rfmaps import MaxPool2d
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> t = taps(x, MaxPool2d(2), -np.inf)
    >>> t.out_size, t.width
    ((2, 2), 2)
    >>> n = t.out_size[0] * t.width
    >>> np.max([plane[0, o: o + n] for plane, o in t.reads()], axis=0).tolist()
    [5.0, 7.0, 13.0, 15.0]
    """
    channels, height, width = x.shape
    (top, bottom), (left, right) = layer.pads
    (sh, sw), (dh, dw) = layer.stride, layer.dilation
    (kh, kw), (eh, ew) = layer.kernel_size, layer.effective_kernel_size
    oh = (height + top + bottom - eh) // sh + 1
    ow = (width + left + right - ew) // sw + 1
    # Rows and columns per phase: the output plus the largest shift; one more
    # row so the junk columns of the last output row stay inside the buffer.
    phase_rows = oh + (eh - 1) // sh + 1
    phase_cols = ow + (ew - 1) // sw

    # Copy into phase (p, q) the input pixels whose padded row is p mod s_h and
    # padded column q mod s_w, and fill the border around them with the
    # padding value. Input rows and columns that no window reaches are not copied.
    phases = scratch("phases", (sh, sw, channels, phase_rows, phase_cols), x.dtype)
    h = max(0, min(height, phase_rows * sh - top))
    w = max(0, min(width, phase_cols * sw - left))
    for p in range(sh):
        y0 = (p - top) % sh  # first input row landing in phase row p
        for q in range(sw):
            x0 = (q - left) % sw
            part = x[:, y0:h:sh, x0:w:sw]
            r0, c0 = (top + y0) // sh, (left + x0) // sw
            r1, c1 = r0 + part.shape[1], c0 + part.shape[2]
            phase = phases[p, q]
            phase[:, r0:r1, c0:c1] = part
            phase[:, :r0] = fill
            phase[:, r1:] = fill
            phase[:, r0:r1, :c0] = fill
            phase[:, r0:r1, c1:] = fill
    phases = phases.reshape(sh, sw, channels, phase_rows * phase_cols)

    rows = [((dh * i) % sh, (dh * i) // sh) for i in range(kh)]  # (phase, shift) per kernel row
    cols = [((dw * j) % sw, (dw * j) // sw) for j in range(kw)]
    return Taps(phases, rows, cols, (oh, ow), phase_cols)
