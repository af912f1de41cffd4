"""A convolution layer drawn as volumes: input block, kernel box, output block.

The picture textbooks draw for one layer: the input is an ``H x W x C`` block
(one slice per channel), a kernel is a ``k x k x C`` box that reaches through
every channel, and the output is a block of ``n`` feature maps, one slice per
kernel. Slices are drawn front to back with an oblique offset, the front one as
an image, the ones behind as faces, so a block of 100 maps still reads as a
block. Matplotlib only, no widgets.

Coordinates: in data units pixel ``(r, c)`` of slice ``i`` is centred at
``x = c + i * dx``, ``y = r - i * dy`` on axes whose y axis points down (as
``imshow`` draws images), so deeper slices sit up and to the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
from matplotlib.collections import PolyCollection

from .figures import HALO, HIGHLIGHT
from .._core.geometry import nearest_whole

__all__ = ["Volume", "draw_volume", "box_path", "highlight_line", "CHANNEL_CMAPS"]

# A colour photograph's channels, each shown in its own colour.
CHANNEL_CMAPS = ("Reds_r", "Greens_r", "Blues_r")


@dataclass(frozen=True)
class Volume:
    """Where a block of ``depth`` slices of ``height x width`` pixels is drawn.

    Parameters
    ----------
    height, width, depth : int
    span : float, optional
        Distance, in pixels along x (and along y), from the front slice to the
        back one. By default 40% of the larger side, whatever the depth, so a
        block of 3 and a block of 100 slices look equally deep.

    Examples
    --------
    >>> v = Volume(46, 46, 100)
    >>> v.pixel_at(3.2, 5.9)          # on the front slice
    (6, 3)
    >>> v.pixel_at(100.0, 5.0) is None
    True
    """

    height: int
    width: int
    depth: int
    span: Optional[float] = None

    @property
    def step(self) -> float:
        """Offset between neighbouring slices, in pixels along x and along y."""
        if self.depth <= 1:
            return 0.0
        span = 0.4 * max(self.height, self.width) if self.span is None else self.span
        return span / (self.depth - 1)

    def corners(self, index: float, rows: Tuple[float, float], cols: Tuple[float, float]) -> np.ndarray:
        """The four corners (x, y) around pixels ``rows`` x ``cols`` (inclusive) of slice ``index``."""
        (top, bottom), (left, right) = rows, cols
        dx, dy = index * self.step, -index * self.step
        xs = np.array([left - 0.5, right + 0.5, right + 0.5, left - 0.5]) + dx
        ys = np.array([top - 0.5, top - 0.5, bottom + 0.5, bottom + 0.5]) + dy
        return np.column_stack([xs, ys])

    def extent(self, index: int) -> Tuple[float, float, float, float]:
        """``imshow`` extent (left, right, bottom, top) of slice ``index``."""
        shift = index * self.step
        return (-0.5 + shift, self.width - 0.5 + shift, self.height - 0.5 - shift, -0.5 - shift)

    def limits(self, margin: float = 1.0):
        """x and y limits that hold the whole block (y pointing down)."""
        deep = (self.depth - 1) * self.step
        return ((-0.5 - margin, self.width - 0.5 + deep + margin),
                (self.height - 0.5 + margin, -0.5 - deep - margin))

    def pixel_at(self, x: float, y: float):
        """``(row, col)`` of the front slice under data point ``(x, y)``, or None."""
        row, col = nearest_whole(y), nearest_whole(x)  # the package's one tie rule
        if 0 <= row < self.height and 0 <= col < self.width:
            return row, col
        return None


def draw_volume(ax, volume: Volume, front: np.ndarray, *, cmap="gray", vmin=0.0, vmax=1.0,
                back_color="0.82", images: Optional[np.ndarray] = None, cmaps=None):
    """Draw a block: slices behind the front one as faces, the front one as ``front``.

    Parameters
    ----------
    ax : matplotlib Axes
    volume : Volume
    front : ndarray, shape (height, width)
        The picture on the front slice.
    images : ndarray, shape (depth, height, width), optional
        Draw every slice as an image (for a few slices, such as 3 colour
        channels); ``cmaps`` gives one colour map per slice.

    Returns
    -------
    dict
        The artists, for later ``set_data`` / ``set_extent`` calls: ``"front"``
        (AxesImage), ``"faces"`` (PolyCollection), ``"images"`` (list).
    """
    faces = PolyCollection([volume.corners(i, (0, volume.height - 1), (0, volume.width - 1))
                            for i in range(volume.depth - 1, 0, -1)],
                           facecolors=back_color, edgecolors="0.35", linewidths=0.4, zorder=1)
    ax.add_collection(faces)
    drawn = []
    if images is not None:
        for i in range(volume.depth - 1, 0, -1):  # back to front, so nearer slices cover farther ones
            colours = cmaps[i] if cmaps is not None else cmap
            drawn.append(ax.imshow(images[i], cmap=colours, vmin=vmin, vmax=vmax, extent=volume.extent(i),
                                   interpolation="nearest", zorder=2 + (volume.depth - i) / volume.depth))
    first = cmaps[0] if cmaps is not None else cmap
    art = ax.imshow(front, cmap=first, vmin=vmin, vmax=vmax, extent=volume.extent(0),
                    interpolation="nearest", zorder=3)
    xlim, ylim = volume.limits()
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return {"front": art, "faces": faces, "images": drawn}


def box_path(volume: Volume, rows, cols, slices) -> np.ndarray:
    """Wireframe of the box over pixels ``rows`` x ``cols`` through slices ``slices`` (inclusive).

    Returns ``(x, y)`` points with NaN rows between strokes, ready for one
    ``Line2D``: the front rectangle, the back rectangle and the four edges
    that join them.

    Examples
    --------
    >>> box_path(Volume(8, 8, 3, span=2.0), (1, 2), (1, 2), (0, 2)).shape
    (23, 2)
    """
    front = volume.corners(slices[0], rows, cols)
    back = volume.corners(slices[1], rows, cols)
    gap = np.array([[np.nan, np.nan]])
    strokes = [np.vstack([front, front[:1]]), gap, np.vstack([back, back[:1]])]
    for a, b in zip(front, back):
        strokes += [gap, np.vstack([a, b])]
    return np.vstack(strokes)


def highlight_line(ax, **kwargs):
    """An (initially empty) line for :func:`box_path`, visible on any image."""
    style = dict(color=HIGHLIGHT, linewidth=1.8, path_effects=HALO, zorder=6)
    style.update(kwargs)
    (line,) = ax.plot([], [], **style)
    return line
