"""Images under hostile input: bombs, odd shapes and modes, wrong types, integer meanings."""

import struct
import warnings
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from PIL import Image

from rfmaps import images


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG file whose header claims ``width x height`` gray pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width, height, words", [
    (30000, 30000, "more than 179 megapixels"),  # where Pillow itself refuses
    (8000, 8000, "8000 x 8000 pixels"),          # above rfmaps' 50 megapixels, below Pillow's limits
    (100, 600000, "100 x 600000 pixels"),
])
def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, width, height, words):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_claiming(width, height))
    assert path.stat().st_size < 200
    with pytest.raises(ValueError, match=f"{words}.*decompression bomb"):
        images.load_image(path)


@pytest.mark.parametrize("mode, shape, expected", [
    ("L", (1200, 4), (240, 1)),        # a thin strip keeps a column instead of vanishing
    ("RGB", (4, 1200, 3), (1, 240, 3)),
    ("LA", (30, 20, 2), (30, 20)),     # gray + alpha is gray
    ("RGBA", (30, 20, 4), (30, 20, 3)),
    ("1", (16, 16), (16, 16)),
])
def test_every_file_mode_loads_as_gray_or_colour_of_the_right_shape(tmp_path, mode, shape, expected):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    picture = Image.fromarray(pixels > 127) if mode == "1" else Image.fromarray(pixels, mode)
    picture.save(tmp_path / "x.png")
    loaded = images.load_image(tmp_path / "x.png")
    assert loaded.shape == expected and loaded.dtype == float
    assert 0 <= loaded.min() and loaded.max() <= 1


def test_sixteen_bit_and_palette_files_keep_their_brightness(tmp_path):
    deep = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert np.allclose(images.load_image(tmp_path / "deep.png"), [[0, 0.5, 1]], atol=1e-4)
    colour = np.zeros((2, 2, 3), np.uint8)
    colour[0, 0] = (255, 0, 0)
    Image.fromarray(colour).convert("P").save(tmp_path / "palette.png")
    loaded = images.load_image(tmp_path / "palette.png")
    assert loaded.shape == (2, 2, 3) and np.allclose(loaded[0, 0], [1, 0, 0])


def test_load_image_arguments_are_named_when_wrong(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "x.png")
    with pytest.raises(TypeError, match="path must be a file name"):
        images.load_image(123)
    for bad in (None, "64", True):  # of the wrong kind
        with pytest.raises(TypeError, match="max_size must be an int"):
            images.load_image(tmp_path / "x.png", max_size=bad)
    with pytest.raises(ValueError, match="max_size must be an int >= 1, got 2.5 .*not rounded"):
        images.load_image(tmp_path / "x.png", max_size=2.5)
    with pytest.raises(ValueError, match="max_size must be >= 1, got 0"):
        images.load_image(tmp_path / "x.png", max_size=0)


@settings(max_examples=200, deadline=None)
@given(h=st.integers(1, 300), w=st.integers(1, 300), channels=st.sampled_from([None, 3]),
       max_size=st.integers(1, 100))
def test_downsample_never_loses_a_side_and_keeps_every_block_mean(h, w, channels, max_size):
    shape = (h, w) if channels is None else (h, w, channels)
    image = np.random.default_rng(h * 1000 + w).random(shape)
    small = images.downsample(image, max_size)
    assert 1 <= small.shape[0] <= max_size and 1 <= small.shape[1] <= max_size
    assert small.shape[2:] == image.shape[2:]
    factor = max(1, -(-max(h, w) // max_size))
    # Independent check: the top-left and bottom-right cells are the means of their blocks.
    assert np.allclose(small[0, 0], image[:factor, :factor].mean(axis=(0, 1)))
    last_r, last_c = (small.shape[0] - 1) * factor, (small.shape[1] - 1) * factor
    assert np.allclose(small[-1, -1], image[last_r:, last_c:].mean(axis=(0, 1)))


@pytest.mark.parametrize("name", sorted(images.SAMPLES))
def test_every_sample_honours_every_size_from_its_minimum(name):
    low = images.MIN_SIZES[name]
    for size in range(low, low + 40, 3):
        image = images.sample(name, size=size)
        if name == "photo":
            assert max(image.shape[:2]) == size and min(image.shape[:2]) >= 1
        else:
            assert image.shape == (size, size)
        assert image.max() > image.min() or size < 3
    with pytest.raises(ValueError, match=f"size must be >= {low}, got {low - 1}"):
        images.sample(name, size=low - 1)


def test_square_photo_is_exactly_the_asked_size():
    for size in (1, 7, 50, 128, 600):
        assert images.sample("photo", size=size, square=True).shape == (size, size, 3)
    with pytest.raises(ValueError, match="photo"):
        images.sample("disk", square=True)


@pytest.mark.parametrize("call, error, words", [
    (lambda: images.sample(["photo"]), TypeError, "name must be a string"),
    (lambda: images.sample("photo", size=2.0), ValueError, "size must be an int .*got 2.0 .*not rounded"),
    (lambda: images.sample("photo", size=True), TypeError, "size must be an int"),
    (lambda: images.sample("impulse", size=-3), ValueError, "size must be >= 1, got -3"),
    (lambda: images.checkerboard(8, square=0), ValueError, "square must be >= 1"),
    (lambda: images.stripes(8, period=float("nan")), ValueError, r"period \(pixels per stripe cycle\) must be a finite"),
    (lambda: images.stripes(8, period=0), ValueError, r"period \(pixels per stripe cycle\) must be a finite number > 0"),
    (lambda: images.stripes(8, period="8"), TypeError, r"period .* must be a finite number, got str"),
    (lambda: images.stripes(8, angle=None), TypeError, r"angle \(degrees\) must be a finite number"),
    (lambda: images.disk(8, radius=[2]), TypeError, r"radius \(pixels\) must be a finite number"),
    (lambda: images.sample("photo", square=1), TypeError, "square must be True or False"),
])
def test_sample_arguments_are_named_when_wrong(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_what_integers_mean_is_what_the_docstring_says():
    mask = np.array([[0, 1], [1, 0]])
    for dtype in (np.int64, np.uint8, np.int8):
        assert np.array_equal(images.as_float_image(mask.astype(dtype)), mask)  # a mask, not 1/255
    assert np.allclose(images.as_float_image(np.array([[0, 51, 255]], np.uint8)), [[0, 0.2, 1]])
    assert np.allclose(images.as_float_image(np.array([[0, 51, 255]])), [[0, 0.2, 1]])
    assert np.allclose(images.as_float_image(np.array([[0, 65535]], np.uint16)), [[0, 1]])
    with pytest.raises(ValueError, match="from -1 to 3, outside 0..255"):
        images.as_float_image(np.array([[-1, 3]]))
    with pytest.raises(ValueError, match="outside 0..255"):
        images.as_float_image(np.array([[0, 256]], np.int32))


@pytest.mark.parametrize("bad, error", [
    (np.ones((3, 3)) * 1j, TypeError), (np.array([["a", "b"]]), TypeError),
    ([[1.0, 2.0], [3.0]], ValueError), (np.zeros((0, 3)), ValueError), (np.zeros(5), ValueError),
    (np.array([[np.nan, 0.0]]), ValueError),
])
def test_array_images_that_are_not_images_are_refused_by_name(bad, error):
    with pytest.raises(error, match="image"):
        images.as_float_image(bad)


# --- kernels and networks: arguments named when wrong ---------------------------------------------
def test_kernel_bank_counts_are_ints_in_range():
    from rfmaps import kernels

    assert kernels.bank_names(0) == []
    with pytest.raises(ValueError, match="count must be >= 0, got -1"):
        kernels.bank_names(-1)
    for call, error, words in [
        (lambda: kernels.bank(3, 2.5), ValueError, "count must be an int .*got 2.5"),
        (lambda: kernels.bank(3, True), TypeError, "count must be an int"),
        (lambda: kernels.bank(3, 2, in_channels=0), ValueError, "in_channels must be >= 1, got 0"),
        (lambda: kernels.random_kernels(3, 0, 1), ValueError, "count must be >= 1, got 0"),
        (lambda: kernels.random_kernels(3, 2, 1.0), ValueError, "in_channels must be an int .*got 1.0"),
    ]:
        with pytest.raises(error, match=words):
            call()


def test_stage_table_on_a_plain_list_says_what_to_use_instead():
    from rfmaps import Conv2d
    from rfmaps.models.architectures import stage_table

    with pytest.raises(TypeError, match="receptive_fields.*got list"):
        stage_table([Conv2d(3, 8, 3)], 32)


def test_a_big_photo_shrunk_in_bands_keeps_one_scale_even_where_a_band_is_dark():
    from rfmaps.engine.images import as_float_image, downsample
    from rfmaps.widgets._base import shrink

    photo = np.random.default_rng(3).integers(0, 256, (600, 500, 3)).astype(np.uint8)
    photo[:200] = photo[:200] % 2  # a dark top: bands of only 0 and 1 must not read as a mask
    assert np.allclose(shrink(photo, 256), downsample(as_float_image(photo), 256))
    assert shrink(photo, 256)[:60].max() <= 1 / 255 + 1e-12


# --- floats as students load them (np.asarray(Image.open(f)).astype(float) gives 0..255) -------------

def test_float_pixel_scale_reads_0_to_255_and_16_bit_floats_and_refuses_the_rest():
    from rfmaps.engine.images import float_pixel_scale

    assert float_pixel_scale(np.array([[0.0, 1.0]])) == (1.0, "")
    scale, said = float_pixel_scale(np.array([[0.0, 203.5]]))
    assert scale == 255.0 and "from 0 to 203.5" in said and "divided by 255" in said
    assert float_pixel_scale(np.array([[3.0, 4000.0]], dtype=np.float32))[0] == 65535.0
    scale, said = float_pixel_scale(np.array([[-0.02, 1.01]]))  # noise or an overshoot: brightness, clipped
    assert scale == 1.0 and "clipped to 0 and 1" in said
    for bad in ([[-0.6, 0.5]], [[0.0, 70000.0]], [[-1.0, 200.0]], [[np.nan, 0.5]]):
        with pytest.raises(ValueError, match="image holds"):
            float_pixel_scale(np.array(bad))


def test_an_explorer_given_floats_in_0_to_255_shows_them_as_brightness_and_says_so():
    from rfmaps.widgets import ConvExplorer

    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(40, 30, 3)).astype(float)  # a photo read with .astype(float)
    explorer = ConvExplorer(pixels)
    try:
        np.testing.assert_allclose(explorer._own_image, pixels / 255)
        assert "divided by 255" in explorer.notice
    finally:
        explorer.close()
    with pytest.raises(ValueError, match="image holds floats from -1 to 1"):
        ConvExplorer(np.linspace(-1, 1, 400).reshape(20, 20))
    explorer = ConvExplorer(np.linspace(0, 1.2, 400).reshape(20, 20))  # contrast raised a little
    try:
        assert explorer._own_image.max() == 1.0 and "clipped" in explorer.notice
        np.testing.assert_allclose(explorer._own_image[0, :5], np.linspace(0, 1.2, 400)[:5])  # not divided
    finally:
        explorer.close()


def test_load_image_reads_a_float_tiff_in_0_to_255_instead_of_clipping_it_to_white(tmp_path):
    from PIL import Image

    from rfmaps.engine.images import load_image

    values = np.linspace(0, 255, 16 * 16, dtype=np.float32).reshape(16, 16)
    path = tmp_path / "float.tif"
    Image.fromarray(values, mode="F").save(path)
    with pytest.warns(UserWarning, match="divided by 255"):
        image = load_image(path)
    np.testing.assert_allclose(image, values / 255, rtol=1e-6)
    Image.fromarray(values / 255, mode="F").save(path)  # brightness already: as it is, without a word
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(load_image(path), values / 255, rtol=1e-6)


def test_explorers_answer_a_ragged_list_and_set_image_array_with_a_sentence():
    from rfmaps.widgets import ConvExplorer

    with pytest.raises(ValueError, match="image must be a rectangular array"):
        ConvExplorer([[0, 1], [0]])
    explorer = ConvExplorer()
    try:
        with pytest.raises(ValueError, match=r"build a new explorer with it: ConvExplorer\(my_array\)"):
            explorer.set(image=np.zeros((20, 20)))
        explorer.set(image="disk", kernel_size=np.int64(5))
        assert explorer.controls["image"].value == "disk" and explorer.controls["kernel_size"].value == 5
    finally:
        explorer.close()
