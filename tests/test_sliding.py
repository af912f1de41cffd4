"""Where kernel taps read (the engine's sliding windows), and the scratch buffers it reuses."""

import numpy as np
from hypothesis import given, settings, strategies as st

from rfmaps import Conv2d, MaxPool2d, ReLU, effective_receptive_field, feature_maps
from rfmaps._core.sliding import gather_grid, tap_views
from reference import window_origins

rng = np.random.default_rng(1)


@settings(max_examples=60, deadline=None)
@given(k=st.tuples(st.integers(1, 4), st.integers(1, 4)), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       d=st.tuples(st.integers(1, 3), st.integers(1, 3)), p=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       size=st.tuples(st.integers(1, 12), st.integers(1, 12)))
def test_every_tap_view_reads_the_pixel_its_window_covers(k, s, d, p, size):
    layer = Conv2d(2, 1, k, stride=s, padding=p, dilation=d)
    origins = [window_origins(size[a], k[a], s[a], d[a], p[a], p[a]) for a in (0, 1)]
    if not origins[0] or not origins[1]:
        return  # the input is smaller than the kernel: the engine refuses it earlier
    x = rng.normal(size=(2,) + size)
    views = tap_views(x, layer, fill=np.nan)  # NaN marks padding
    assert len(views) == k[0] * k[1]
    for i in range(k[0]):
        for j in range(k[1]):
            view = views[i * k[1] + j]
            assert view.shape == (2, len(origins[0]), len(origins[1]))
            for r, top in enumerate(origins[0]):
                for c, left in enumerate(origins[1]):
                    row, col = top + d[0] * i, left + d[1] * j
                    if 0 <= row < size[0] and 0 <= col < size[1]:
                        np.testing.assert_array_equal(view[:, r, c], x[:, row, col])
                    else:
                        assert np.isnan(view[:, r, c]).all()


@settings(max_examples=80, deadline=None)
@given(start=st.tuples(st.integers(-8, 14), st.integers(-8, 14)),
       step=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       out_size=st.tuples(st.integers(0, 9), st.integers(0, 9)),
       size=st.tuples(st.integers(1, 10), st.integers(1, 10)))
def test_gather_grid_copies_each_grid_point_or_the_fill(start, step, out_size, size):
    x = rng.normal(size=(2,) + size)
    out = gather_grid(x, np.full((2,) + out_size, 7.0), start, step, fill=np.nan)
    for r in range(out_size[0]):
        for c in range(out_size[1]):
            row, col = start[0] + step[0] * r, start[1] + step[1] * c
            if 0 <= row < size[0] and 0 <= col < size[1]:
                np.testing.assert_array_equal(out[:, r, c], x[:, row, col])
            else:
                assert np.isnan(out[:, r, c]).all()  # also: nothing of the old 7.0 is left


def test_results_never_share_memory_with_the_reused_buffers():
    layers = [Conv2d(3, 4, 3, stride=2, padding=1), ReLU(), MaxPool2d(2), Conv2d(4, 2, 3, padding=1)]
    first_image, other_image = rng.random((20, 20, 3)), rng.random((20, 20, 3))
    maps = feature_maps(layers, first_image)
    kept = [m.copy() for m in maps]
    erf = effective_receptive_field(layers, (2, 2), first_image)
    kept_erf = erf.copy()
    feature_maps(layers, other_image)  # reuses every scratch buffer
    effective_receptive_field(layers, (1, 1), other_image)
    for m, k in zip(maps, kept):
        np.testing.assert_array_equal(m, k)
    np.testing.assert_array_equal(erf, kept_erf)
    assert all(m.flags.c_contiguous and m.flags.writeable for m in maps)
