"""Sample images and the student's own files."""

import numpy as np
import pytest
from matplotlib import image as mpimg

from rfmaps import images


@pytest.mark.parametrize("name", sorted(images.SAMPLES))
def test_every_sample_is_a_float_image_in_unit_range(name):
    image = images.sample(name)
    assert image.dtype == float and image.ndim in (2, 3)
    assert 0 <= image.min() and image.max() <= 1 and image.max() > image.min()


def test_photo_is_a_real_colour_photograph_and_sizes_are_honoured():
    photo = images.sample("photo")
    assert photo.ndim == 3 and photo.shape[2] == 3 and max(photo.shape[:2]) <= 128
    assert photo.std() > 0.1  # a real picture, not a flat placeholder
    assert max(images.sample("photo", size=64).shape[:2]) <= 64
    assert images.sample("checkerboard", size=20).shape == (20, 20)
    impulse = images.sample("impulse")
    assert impulse.sum() == 1


def test_unknown_sample_names_the_choices():
    with pytest.raises(ValueError, match="'photo'.*got 'cat'"):
        images.sample("cat")


def test_load_image_png_rgba_and_gray(tmp_path):
    rgba = np.random.default_rng(0).random((40, 30, 4)).astype(np.float32)
    mpimg.imsave(tmp_path / "colour.png", rgba)
    loaded = images.load_image(tmp_path / "colour.png", max_size=20)
    assert loaded.shape == (20, 15, 3)  # alpha dropped, halved
    gray = np.linspace(0, 1, 64).reshape(8, 8)
    mpimg.imsave(tmp_path / "gray.png", gray, cmap="gray")
    assert images.load_image(tmp_path / "gray.png").shape[:2] == (8, 8)


def test_load_image_jpeg_is_scaled_to_unit_range(tmp_path):
    mpimg.imsave(tmp_path / "x.jpg", np.full((16, 16, 3), 200, dtype=np.uint8))
    loaded = images.load_image(tmp_path / "x.jpg")
    assert loaded.shape == (16, 16, 3) and abs(loaded.mean() - 200 / 255) < 0.02


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.png"):
        images.load_image(tmp_path / "missing.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        images.load_image(tmp_path / "notes.png")
