"""Explorer.save: the picture on show, outlines included, as a file for slides."""

import numpy as np
import pytest
from PIL import Image

from rfmaps.widgets import ConvExplorer, ERFExplorer, ProjectiveExplorer, StackExplorer, VolumeExplorer


@pytest.mark.parametrize("cls", [ConvExplorer, StackExplorer, ERFExplorer, ProjectiveExplorer, VolumeExplorer])
def test_saved_pictures_show_the_selection_even_when_it_is_blitted(tmp_path, cls):
    explorer = cls(blit=True)  # the outlines are then "animated" artists, which savefig leaves out
    try:
        explorer.save(tmp_path / "before.png")
        explorer.select(1, 1)
        assert explorer.message == ""
        explorer.save(tmp_path / "after.png")
        explorer.save(tmp_path / "after.svg")
        before, after = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in ("before", "after"))
        # The outline moved (ERFExplorer's zoomed panels then also change their ticks, which can
        # change the saved width); and the blitted explorer saves what an unblitted one does.
        assert before.shape != after.shape or not np.array_equal(before, after)
        plain = cls(blit=False)
        try:
            plain.select(1, 1)
            plain.save(tmp_path / "plain.png")
        finally:
            plain.close()
        assert np.array_equal(after, np.asarray(Image.open(tmp_path / "plain.png")))
        assert (tmp_path / "after.svg").read_text().lstrip().startswith("<?xml")
    finally:
        explorer.close()


def test_save_names_the_formats_it_writes(tmp_path):
    explorer = ConvExplorer()
    try:
        with pytest.raises(ValueError, match=r"ending in \.png, \.svg or \.pdf, got .*picture\.jpg"):
            explorer.save(tmp_path / "picture.jpg")
        with pytest.raises(ValueError, match="dpi"):
            explorer.save(tmp_path / "picture.png", dpi=0)
    finally:
        explorer.close()


# --- the saved picture shows the figure's new elements (issue 23), found by their pixels ----------

def _saved(explorer, tmp_path, name="picture.png"):
    explorer.save(tmp_path / name, dpi=100)  # the canvas' own dpi: one saved pixel per screen pixel
    return np.asarray(Image.open(tmp_path / name).convert("RGB")).astype(int)


def _bar_rows(pixels, bar):
    """Rows of the saved picture holding the colour bar's gradient, pixel for pixel (frame excluded)."""
    import matplotlib

    box = bar.axes.get_window_extent()
    width = max(2, round(bar.width * box.width))
    colours = (matplotlib.colormaps[bar.cmap](np.linspace(0, 1, width)) * 255).astype(int)[2:-2, :3]
    found = []
    for r, row in enumerate(pixels):
        # every place where the first colour of the gradient starts
        for c in np.flatnonzero(np.abs(row - colours[0]).sum(axis=1) <= 3):
            stretch = row[c: c + len(colours)]
            if len(stretch) == len(colours) and (np.abs(stretch - colours).sum(axis=1) <= 6).all():
                found.append(r)
                break
    return found


def _halo_around(pixels, core, reach=4, where=None):
    """Share of the ``core``-coloured pixels that have a dark and a light pixel within ``reach``.

    Dark: every channel at most 60 (the edge, #1A1A1A blended by anti-aliasing); light: every
    channel at least 200 (the white halo, blended with what lies under it).
    """
    from scipy.ndimage import maximum_filter

    at = np.abs(pixels - np.asarray(core)).sum(axis=2) <= 12
    if where is not None:  # only the core pixels there
        at &= where
    assert at.sum() > 20, "no outline in the saved picture"
    dark = maximum_filter(pixels.max(axis=2) <= 60, size=2 * reach + 1)
    light = maximum_filter(pixels.min(axis=2) >= 200, size=2 * reach + 1)
    return float((dark & light)[at].mean())


VERMILION = (0xD5, 0x5E, 0x00)


def _on_perimeter(explorer, pixels, rect, within=2):
    """Mask of the saved picture's pixels within ``within`` pixels of the outline ``rect``'s edges."""
    fig = explorer.figure
    renderer = fig.canvas.get_renderer()
    tight = fig.get_tightbbox(renderer).padded(0.1)  # inches: savefig's bbox_inches="tight", pad 0.1
    box = rect.get_window_extent(renderer)
    x0, x1 = box.x0 - tight.x0 * 100, box.x1 - tight.x0 * 100
    y0, y1 = tight.y1 * 100 - box.y1, tight.y1 * 100 - box.y0  # rows count from the top
    rows, cols = np.mgrid[: pixels.shape[0], : pixels.shape[1]]
    inside = (cols >= x0 - within) & (cols <= x1 + within) & (rows >= y0 - within) & (rows <= y1 + within)
    deep = (cols > x0 + within) & (cols < x1 - within) & (rows > y0 + within) & (rows < y1 - within)
    return inside & ~deep


OUTLINES = {ConvExplorer: "_rf_box", StackExplorer: "_boxes", ERFExplorer: "_boxes", ProjectiveExplorer: "_boxes"}


@pytest.mark.parametrize("cls", [ConvExplorer, StackExplorer, ERFExplorer, ProjectiveExplorer, VolumeExplorer])
def test_saved_outlines_carry_a_dark_edge_and_a_white_halo(tmp_path, cls):
    explorer = cls(blit=True)
    try:
        pixels = _saved(explorer, tmp_path)
        if cls is VolumeExplorer:  # its only vermilion line: the window the neuron reads
            assert _halo_around(pixels, VERMILION) > 0.9
            return
        rect = getattr(explorer, OUTLINES[cls])
        rect = rect if not isinstance(rect, list) else rect[1]  # a field outline on a map panel
        assert rect.get_visible()
        on = _on_perimeter(explorer, pixels, rect)
        core = np.abs(pixels - np.asarray(VERMILION)).sum(axis=2) <= 12
        assert (core & on).sum() > 20  # the outline's vermilion line is in the saved picture...
        # ...and each of its pixels has the dark edge and the white halo beside it
        assert _halo_around(pixels, VERMILION, where=on) > 0.9
    finally:
        explorer.close()


@pytest.mark.parametrize("cls, bars", [(ConvExplorer, 1), (StackExplorer, 1), (ERFExplorer, 1)])
def test_saved_pictures_keep_their_colour_bar(tmp_path, cls, bars):
    """save's tight box used to cut off the bitmap colour bar and the row numbers (they gave no extent)."""
    explorer = cls()
    try:
        pixels = _saved(explorer, tmp_path)
        found = [a for ax in explorer.figure.axes for a in ax.artists if type(a).__name__ == "_ColourBar"]
        assert len(found) == bars
        assert len(_bar_rows(pixels, found[0])) >= 5  # the bar is about 11 pixels tall
    finally:
        explorer.close()


def test_saved_projective_picture_has_a_path_count_bar_under_each_layer(tmp_path):
    explorer = ProjectiveExplorer("encoder-decoder (U-Net style)")
    try:
        pixels = _saved(explorer, tmp_path)
        layers = len(explorer._state.shown)
        assert layers == 5 and all(bar.get_visible() for bar in explorer._bars)
        for bar in explorer._bars[:layers]:
            assert len(_bar_rows(pixels, bar)) >= 5
        # each bar ends at the panel's largest path count: 81 = 9 x 9 for the last 3 x 3 convolution
        assert [bar.texts[1] for bar in explorer._bars[:layers]] == ["1", "4", "9", "9", "81"]
    finally:
        explorer.close()
