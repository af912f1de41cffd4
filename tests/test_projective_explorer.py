"""The projective-field explorer, driven without a mouse, against brute force."""

import ipywidgets as widgets
import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

from rfmaps.widgets import ProjectiveExplorer
from rfmaps.widgets.projective import STACKS
from reference import backward_paths


def assert_fields_are_exact(explorer):
    """Each outlined box holds exactly the neurons whose brute-force receptive walk reaches the pixel."""
    layers, size, pixel = list(explorer.layers), explorer.input_size, explorer.pixel
    for index in explorer._state.shown:
        out = explorer._state.rows[index].output_size
        hits = [(r, c) for r in range(out[0]) for c in range(out[1])
                if pixel in backward_paths(layers[: index + 1], (r, c), size)]
        expected = None if not hits else ((min(h[0] for h in hits), max(h[0] for h in hits)),
                                          (min(h[1] for h in hits), max(h[1] for h in hits)))
        assert explorer.field(index) == expected, (explorer.controls["stack"].value, index)


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_and_pixel_range(stack):
    explorer = ProjectiveExplorer(stack)
    # The first pixel is the one nearest the image's centre; on an even side the centre lies halfway between
    # two pixels and the tie goes to the lower index (rfmaps._core.geometry.nearest_index): 2 of 0..5, not 3.
    centre = (explorer.input_size[0] - 1) / 2
    nearest = min(range(explorer.input_size[0]), key=lambda i: (abs(i - centre), i))
    assert explorer.message == "" and explorer.pixel == (nearest, nearest)
    assert_fields_are_exact(explorer)
    for value in (0, explorer.controls["row"].max):
        explorer.set(row=value, col=explorer.controls["col"].max - value)
        assert explorer.message == ""
        assert_fields_are_exact(explorer)


def test_changing_the_stack_keeps_the_pixel_inside_and_bad_pixels_become_messages():
    explorer = ProjectiveExplorer(STACKS[-1])  # 16 x 16 input
    explorer.select(15, 15)
    explorer.set(stack=STACKS[0])  # 6 x 6 input
    assert explorer.message == "" and explorer.pixel == (5, 5)
    before = explorer.region
    explorer.select(6, 0)
    assert "pixel row must be an int from 0 to 5" in explorer.message and explorer.region == before
    assert isinstance(explorer.controls["stack"], widgets.Dropdown)
    with pytest.raises(ValueError, match="stack must be one of"):
        ProjectiveExplorer("no such stack")
    # The first pixel: numpy ints are whole numbers, as everywhere else; a float or a pixel off the image is refused.
    assert ProjectiveExplorer(pixel=(np.int64(3), np.int64(4))).pixel == (3, 4)
    with pytest.raises(ValueError, match="floats are not rounded"):
        ProjectiveExplorer(pixel=(1.0, 2))
    with pytest.raises(ValueError, match="pixel col must be from 0 to 5"):
        ProjectiveExplorer(pixel=(3, 6))


def test_a_click_on_the_input_picks_the_pixel():
    explorer = ProjectiveExplorer()
    ax = explorer._axes[0]
    x, y = ax.transData.transform((4, 1))  # column 4, row 1
    explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas, x, y, button=1))
    assert explorer.pixel == (1, 4) and "Pixel (row 1, col 4)" in explorer._readout.value
