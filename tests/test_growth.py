"""effective_growth: averaged effective fields of random stacks, checked against what must hold."""

import math

import numpy as np
import pytest

from rfmaps import Conv2d, receptive_fields
from rfmaps.engine.growth import effective_growth, gaussian_fit


def test_widths_are_bounded_by_the_theoretical_field_and_match_the_arithmetic():
    table = effective_growth((1, 3, 6), draws=4)
    for row in table:
        arithmetic = receptive_fields([Conv2d(1, 1, 3, padding=1)] * row.depth, 64)[-1].rf_size[0]
        assert row.theoretical == arithmetic
        assert 1 <= row.low <= row.effective <= row.theoretical and row.high <= row.theoretical
    assert table[0].effective == 3  # one 3 x 3 layer: every tap of a random kernel counts


def test_the_averaged_width_grows_like_the_square_root_of_depth():
    table = effective_growth((8, 16, 32), draws=16)
    per_sqrt = [row.per_sqrt_depth for row in table]
    per_depth = [row.per_depth for row in table]
    assert max(per_sqrt) / min(per_sqrt) < 1.1  # steady
    assert per_depth[2] < 0.6 * per_depth[0]  # while the linear ratio keeps falling


def test_same_seed_same_table_and_a_gaussian_shape_emerges_from_averaging():
    assert effective_growth((4,), draws=3, seed=7) == effective_growth((4,), draws=3, seed=7)
    averaged = effective_growth((16,), draws=64)[0]
    assert averaged.gaussian_r2 > 0.98


def test_gaussian_fit_tells_a_gaussian_from_a_box():
    x = np.arange(31)
    assert gaussian_fit(np.exp(-(x - 15.0) ** 2 / 18))[2] == pytest.approx(1.0)
    box = (abs(x - 15) <= 8).astype(float)
    assert gaussian_fit(box)[2] < 0.95
    with pytest.raises(ValueError, match="positive mass"):
        gaussian_fit(np.zeros(5))


def test_arguments_out_of_range_are_named():
    with pytest.raises(ValueError, match="draws must be >= 1"):
        effective_growth((2,), draws=0)
    with pytest.raises(ValueError, match="every depth must be >= 1"):
        effective_growth((0, 2))
    assert math.isclose(effective_growth((4,), draws=1)[0].per_sqrt_depth,
                        effective_growth((4,), draws=1)[0].effective / 2)
