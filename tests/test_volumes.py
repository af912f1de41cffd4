"""The volume drawing: geometry of slices, clicks on the front slice, and the wireframe box."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from rfmaps.drawing.figures import make_figure
from rfmaps.drawing.volumes import CHANNEL_CMAPS, Volume, box_path, draw_volume


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


# --- the explorer built on it ------------------------------------------------------------------

import random  # noqa: E402

from matplotlib.backend_bases import MouseEvent  # noqa: E402

from rfmaps import input_region  # noqa: E402
from rfmaps.widgets import VolumeExplorer  # noqa: E402
from reference import backward_paths  # noqa: E402


def honest(explorer):
    layer, row, col = explorer.selected
    c = explorer.controls
    pixels = backward_paths([explorer.layers[0]], (row, col), explorer.input_size)
    brute = None if not pixels else ((min(r for r, _ in pixels), max(r for r, _ in pixels)),
                                     (min(q for _, q in pixels), max(q for _, q in pixels)))
    return (explorer.message == "" and layer == 0
            and (c["row"].value, c["col"].value, c["map"].value) == (row, col, explorer.selection.map)
            and explorer.region == input_region(explorer.layers, (row, col), explorer.input_size) == brute)


def test_the_question_s_layer_exactly_all_hundred_maps():
    explorer = VolumeExplorer()  # the photo, square, 50 x 50 x 3; 100 kernels of 5 x 5 x 3
    assert explorer.input_size == (50, 50) and explorer._state.image.shape == (3, 50, 50)
    assert explorer._state.maps.shape == (100, 46, 46)
    assert explorer.parameters == 7600 and "(5·5·3 + 1)·100 = 7,600" in explorer._caption.value
    for name in ("feature map", "activation map", "channel", "depth slice", "kernel", "filter"):
        assert name in explorer._caption.value
    explorer.select(10, 20, map=99)
    assert honest(explorer) and explorer.selection.map == 99 and explorer.region == ((10, 14), (20, 24))
    # The window box on the input runs through all three channel slices.
    xs, ys = explorer._window.get_data()
    assert np.nanmax(xs) - np.nanmin(xs) == pytest.approx(5 + 2 * explorer._in_volume.step)


def test_a_click_on_the_front_face_selects_that_neuron():
    explorer = VolumeExplorer(kernels=8)
    ax = explorer._axes[2]
    x, y = ax.transData.transform((7, 3))  # column 7, row 3 of the front map
    explorer._on_click(MouseEvent("button_press_event", explorer.figure.canvas, x, y, button=1))
    assert explorer.selected == (0, 3, 7) and honest(explorer)


def test_random_changes_keep_the_contract():
    explorer = VolumeExplorer("disk", kernels=6, size=20)
    rng = random.Random(0)
    for _ in range(60):
        name = rng.choice(["kernel_size", "kernels", "stride", "padding", "map", "row", "col", "select"])
        if name == "select":
            before = explorer.selection
            explorer.select(rng.randint(-1, 25), rng.randint(-1, 25), map=rng.randint(-1, 8))
            if explorer.message:  # refused: the selection stays as it was, and says why
                assert explorer.selection == before and "must be" in explorer.message
                continue
        else:
            control = explorer.controls[name]
            explorer.set(**{name: rng.randint(control.min, control.max)})
        assert honest(explorer), (name, explorer.message)


@pytest.mark.parametrize("kwargs, words", [
    (dict(kernels=257), "kernels must be an int from 1 to 256"),
    (dict(kernels=2.0), "kernels must be an int"),
    (dict(kernel_size=12), "kernel_size must be an int from 1 to 11"),
    (dict(image=np.zeros((4, 4, 2))), "1, 3 or 4 channels"),
])
def test_bad_starting_values_are_refused_by_name(kwargs, words):
    with pytest.raises(ValueError, match=words):
        VolumeExplorer(**kwargs)
