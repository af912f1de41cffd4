"""StackExplorer and ERFExplorer on a given network (layers=...): its weights, its geometry, no sliders for it."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rfmaps import (Conv2d, GELU, BatchNorm2d, MaxPool2d, ReLU, Residual, effective_receptive_field, feature_maps,
                    images, input_region, trained)
from rfmaps.widgets import ERFExplorer, StackExplorer


def test_stack_explorer_shows_the_given_network_block_by_block():
    layers = trained.small_cnn()
    explorer = StackExplorer("disk", size=32, layers=layers)
    assert explorer.layers == tuple(layers)
    assert not any(row.layout.display != "none" for row in explorer._block_rows)  # no sliders for the network
    # The explorer computes with one BLAS thread (threadpoolctl); so does the reference, because OpenBLAS
    # can round differently with more threads (bit-equal here only because the products are small).
    with threadpool_limits(limits=1, user_api="blas"):
        maps = feature_maps(layers, images.sample("disk", size=32))
    # Blocks end before each convolution and at the end: the two pools and the last ReLU.
    assert explorer._state.ends == (2, 5, 7)
    for b, end in enumerate(explorer._state.ends):
        np.testing.assert_array_equal(explorer._state.maps[b], maps[end])  # every map of the block
    explorer.select(3, 5, layer=5)
    assert explorer.selected == (5, 3, 5)
    assert explorer.region == input_region(layers, (3, 5), (32, 32), layer=5)


def test_stack_explorer_blocks_around_residuals():
    block = Residual([Conv2d(4, 4, 3, padding=1), BatchNorm2d(4), GELU()])
    layers = [Conv2d(1, 4, 3, padding=1), ReLU(), block, ReLU(), block, MaxPool2d(2)]
    explorer = StackExplorer("checkerboard", size=16, layers=layers)
    assert explorer._state.ends == (1, 3, 5)


def test_erf_explorer_on_the_given_network_shows_its_effective_field():
    layers = trained.small_cnn()
    explorer = ERFExplorer("stripes", size=32, layers=layers)
    explorer.select(2, 3)
    assert explorer.selected == (7, 2, 3)
    image = images.sample("stripes", size=32)
    expected = effective_receptive_field(layers, (2, 3), image)
    np.testing.assert_allclose(explorer._field(explorer._state), expected, atol=1e-12 * np.abs(expected).max())
    assert explorer.region == input_region(layers, (2, 3), (32, 32))


def test_a_network_that_does_not_fit_the_image_is_refused_at_construction():
    with pytest.raises(ValueError, match="in_channels=1.*3 channels"):
        StackExplorer("photo", layers=trained.small_cnn())
    with pytest.raises(ValueError, match="layers"):
        ERFExplorer("disk", layers=[])


def test_stack_explorer_opens_on_a_map_that_responds_and_says_why_a_map_is_silent():
    # Map 0 of this network is -image: on a non-negative image its ReLU turns every value off.
    weight = np.array([-1.0, 1.0]).reshape(2, 1, 1, 1)
    layers = [Conv2d(1, 2, 1, weight=weight, bias=np.zeros(2)), ReLU()]
    explorer = StackExplorer("disk", size=16, layers=layers)
    try:
        assert explorer._selection.map == 1 and "silent" not in explorer._readout.value
        explorer.select(8, 8, map=0)
        assert "Map 0 is 0 at every position here: the ReLU turned every value off" in explorer._readout.value
    finally:
        explorer.close()


def test_on_a_long_network_layer_minus_1_is_the_last_layer_shown():
    layers = [Conv2d(1, 2, 3, padding=1), ReLU()] + [Conv2d(2, 2, 3, padding=1), ReLU()] * 19
    explorer = StackExplorer("disk", size=32, layers=layers)
    try:
        shown_last = explorer._state.ends[-1]
        assert shown_last < len(layers) - 1  # only the first blocks are shown
        explorer.select(3, 4)
        assert explorer.message == "" and explorer.selected == (shown_last, 3, 4)
        explorer.select(3, 4, layer=len(layers) - 1)
        assert "or -1 for the last of them" in explorer.message and explorer.selected == (shown_last, 3, 4)
    finally:
        explorer.close()
