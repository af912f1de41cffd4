"""The volume drawing: geometry of slices, clicks on the front slice, and the wireframe box."""

import matplotlib
import numpy as np
import pytest
from hypothesis import given, strategies as st

from rfmaps.drawing import make_figure
from rfmaps.volumes import CHANNEL_CMAPS, Volume, box_path, draw_volume

matplotlib.use("Agg")


@given(h=st.integers(1, 60), w=st.integers(1, 60), depth=st.integers(1, 200),
       r=st.integers(0, 59), c=st.integers(0, 59))
def test_a_click_on_a_pixel_centre_of_the_front_slice_finds_that_pixel(h, w, depth, r, c):
    volume = Volume(h, w, depth)
    inside = r < h and c < w
    assert volume.pixel_at(c + 0.3, r - 0.4) == ((r, c) if inside else None)


def test_deeper_slices_sit_up_and_right_and_the_block_looks_equally_deep_at_any_depth():
    for depth in (3, 100):
        volume = Volume(46, 46, depth)
        left0, _, bottom0, _ = volume.extent(0)
        left, _, bottom, _ = volume.extent(depth - 1)
        assert left - left0 == pytest.approx(0.4 * 46) and bottom0 - bottom == pytest.approx(0.4 * 46)
    assert Volume(5, 5, 1).step == 0


def test_box_path_joins_the_front_and_back_rectangles_of_the_window():
    volume = Volume(10, 10, 4, span=3.0)
    path = box_path(volume, (2, 4), (5, 7), (0, 3))
    strokes = np.split(path, np.where(np.isnan(path[:, 0]))[0])
    strokes = [s[~np.isnan(s[:, 0])] for s in strokes]
    front, back, *edges = strokes
    assert np.allclose(front[:4], [[4.5, 1.5], [7.5, 1.5], [7.5, 4.5], [4.5, 4.5]])
    assert np.allclose(back[:4], front[:4] + [3.0, -3.0])  # the last slice, 3 pixels up and right
    assert len(edges) == 4 and all(np.allclose(e[1] - e[0], [3.0, -3.0]) for e in edges)


def test_draw_volume_shows_the_front_picture_and_every_slice_when_asked():
    fig = make_figure((4, 4), interactive=False)
    ax = fig.add_subplot()
    image = np.random.default_rng(0).random((3, 20, 30))
    artists = draw_volume(ax, Volume(20, 30, 3), image[0], images=image, cmaps=CHANNEL_CMAPS)
    assert np.array_equal(artists["front"].get_array(), image[0])
    assert len(artists["images"]) == 2 and len(artists["faces"].get_paths()) == 2
    assert artists["front"].get_extent() == [-0.5, 29.5, 19.5, -0.5]
    fig.canvas.draw()  # renders without error
