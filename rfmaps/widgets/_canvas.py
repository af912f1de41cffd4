"""The picture: one figure, and the decision between blitting the selection's artists and a full draw.

A view *declares* the artists that depend on the selection
(``Explorer._selection_artists``); :class:`Picture` makes them animated when
it blits, so a full draw leaves them out and the background it keeps is the
picture without them. After a selection moved, the decision is the figure's
own: matplotlib marks the figure stale when any artist that is *not*
animated changes (an animated one does not pass its staleness up), so

* the figure is not stale: only declared artists changed; they are blitted
  on the kept background;
* the figure is stale: something else changed too (another map in every
  panel, new axis limits, a moved marker); the whole figure is drawn.

No view has to remember to ask for a full draw, and a view that declares too
few artists still shows the right picture (tests/test_pixels.py compares
every picture with a fresh explorer's, blitted and not).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, List, Optional, Sequence, Tuple

import ipywidgets as widgets
import matplotlib

from ..drawing.figures import make_figure

__all__ = ["Picture", "one_blas_thread"]

_BLAS: list = []  # the ThreadpoolController, made on first use (it scans the loaded libraries once: ~25 ms)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread.

    An explorer's matrix products are small (a teaching image, a few kernels):
    a second thread saves well under a millisecond, but on a shared hub, where
    another process holds the other core, BLAS threads wait for each other and
    one change was seen to take 1.1 s instead of 60 ms. The limit holds only
    inside the block: the student's own numpy code keeps every thread.
    """
    from threadpoolctl import ThreadpoolController

    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


def interactive_backend() -> bool:
    """Whether figures are ipympl canvases (``%matplotlib widget``)."""
    return "ipympl" in matplotlib.get_backend() or matplotlib.get_backend() == "widget"


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (the inline picture then goes to an Output widget)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Picture:
    """One explorer's figure, how it reaches the screen, and when it is blitted.

    Parameters
    ----------
    figsize : (float, float)
    blit : bool or None
        Blit the selection's artists (None: when the canvas is interactive).

    Examples
    --------
    >>> picture = Picture((4, 3), blit=True)
    >>> ax = picture.figure.add_subplot()
    >>> dot, = ax.plot([0], [0]); picture.declare([dot]); picture.show(full=True)
    >>> dot.set_data([1], [1]); picture.figure.stale    # a declared artist: not stale, blitted
    False
    >>> _ = ax.set_xlim(0, 2); picture.figure.stale      # anything else: a full draw
    True
    """

    def __init__(self, figsize: Tuple[float, float], blit: Optional[bool]):
        self.interactive = interactive_backend()
        self.blit = self.interactive if blit is None else blit
        self.figure = make_figure(figsize, self.interactive)
        self.output = widgets.Output()  # the inline picture (no ipympl), replaced in place after each change
        self.started = False  # True once the explorer is built: from then on frames go out at once
        self.background: Any = None  # the full picture without the selection's artists, for blitting
        self._saving = False  # True while save() renders to a file: its draw event is not the screen's
        self._selection_artists: List[Any] = []
        self.figure.canvas.mpl_connect("draw_event", self._on_draw)

    @property
    def selection_artists(self) -> List[Any]:
        return self._selection_artists

    def declare(self, artists: Sequence[Any]) -> None:
        """The artists that depend on the selection: animated when blitting, so a full draw leaves them out."""
        self._selection_artists = list(artists)
        for artist in self._selection_artists:
            artist.set_animated(self.blit)

    def _on_draw(self, event: Any) -> None:
        """After a full draw: keep the background and paint the selection's artists on it."""
        if not self.blit or self._saving:
            return
        canvas: Any = self.figure.canvas
        self.background = canvas.copy_from_bbox(self.figure.bbox)
        self._paint_selection()

    def _paint_selection(self) -> None:
        """Paint the declared artists in the order a full draw paints them: by zorder, then in their axes' order.

        In list order a kernel's back slices covered its front face (VolumeExplorer) and a ring lay
        over the line it should lie under; tests/test_pixels.py compares blitted and full pictures.
        """
        def order(artist: Any) -> Tuple[float, int]:
            children = artist.axes.get_children() if artist.axes is not None else []
            return artist.get_zorder(), next((i for i, a in enumerate(children) if a is artist), 0)

        # Hidden artists draw nothing, and a full draw skips hidden panels: neither is ordered or painted.
        shown = [a for a in self._selection_artists if a.get_visible() and (a.axes is None or a.axes.get_visible())]
        for artist in sorted(shown, key=order):
            self.figure.draw_artist(artist)

    def show_selection(self) -> None:
        """After the selection moved: blit when only declared artists changed, else draw the whole figure."""
        self.show(full=self.figure.stale)

    def show(self, full: bool) -> None:
        """Bring the picture to the screen: blitted (``full=False`` and a background kept) or drawn whole."""
        canvas: Any = self.figure.canvas
        if self.blit and not full and self.background is not None:
            canvas.restore_region(self.background)
            self._paint_selection()
            canvas.blit(self.figure.bbox)
        elif self.interactive and self.started:
            # Render and send the frame now: draw_idle would first ask the browser for
            # a draw request and wait for it (one more round trip before any pixel).
            canvas.draw()
        elif self.interactive:
            canvas.draw_idle()  # not shown yet: the browser asks for a frame when it shows the canvas
        elif in_kernel():
            from IPython import get_ipython

            # One assignment replaces the picture in place (no flicker, no frontend routing).
            data, metadata = get_ipython().display_formatter.format(self.figure)
            self.output.outputs = ({"output_type": "display_data", "data": data, "metadata": metadata},)
        else:
            canvas.draw()

    def save(self, path: Any, dpi: int) -> None:
        """Save the picture on show, the selection's artists included (``path``'s suffix picks the format)."""
        suffix = os.path.splitext(os.fspath(path))[1].lower() if isinstance(path, (str, os.PathLike)) else None
        if suffix not in (".png", ".svg", ".pdf"):
            raise ValueError(f"path must be a file name ending in .png, .svg or .pdf, got {path!r}")
        # Blitted artists are "animated": a plain savefig would leave them out. The file's render fires a
        # draw event on another canvas; it must not become the background that blitting restores.
        for artist in self._selection_artists:
            artist.set_animated(False)
        self._saving = True
        try:
            self.figure.savefig(path, dpi=dpi, bbox_inches="tight")
        finally:
            self._saving = False
            for artist in self._selection_artists:
                artist.set_animated(self.blit)
            self.show(full=True)  # draw the screen's picture again (and keep its background)

    def close(self) -> None:
        """Close the figure (and the ipympl canvas, a widget)."""
        import matplotlib.pyplot as plt

        plt.close(self.figure)
        if self.interactive:
            canvas: Any = self.figure.canvas
            canvas.close()
