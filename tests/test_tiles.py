"""drawing.tile_at: a point on the mosaic picks the pixel under it, a point on a gap the nearer tile."""

import math

from hypothesis import given, strategies as st

from rfmaps.drawing.figures import tile_at, tile_offset


def _nearest_distance(position: int, size: int, gap: int, tiles: int) -> int:
    """Distance from ``position`` to the nearest pixel of any tile along one axis (brute force)."""
    return min(abs(position - (t * (size + gap) + p)) for t in range(tiles) for p in range(size))


@given(h=st.integers(1, 12), w=st.integers(1, 12), count=st.integers(1, 30), gap=st.integers(1, 6),
       fx=st.floats(0, 1), fy=st.floats(0, 1))
def test_every_point_of_the_mosaic_picks_the_nearest_pixel_along_each_axis(h, w, count, gap, fx, fy):
    cols = math.ceil(math.sqrt(count))  # as mosaic lays them out
    rows = math.ceil(count / cols)
    x, y = fx * (cols * (w + gap) - gap - 1), fy * (rows * (h + gap) - gap - 1)
    hit = tile_at(x, y, (h, w), count, cols, gap)
    row, col = math.ceil(y - 0.5), math.ceil(x - 0.5)  # the pixel under the point, halves going down
    if hit is None:  # only beside an incomplete last row
        assert count % cols and row >= (rows - 1) * (h + gap) - gap
        return
    index, r, c = hit
    assert 0 <= index < count and 0 <= r < h and 0 <= c < w
    top, left = tile_offset(index, (h, w), cols, gap)
    assert abs(row - (top + r)) == _nearest_distance(row, h, gap, rows)
    assert abs(col - (left + c)) == _nearest_distance(col, w, gap, cols)


def test_inside_a_tile_the_pixel_under_the_point_and_outside_nothing():
    assert tile_at(6.2, 1.0, (4, 4), 3, 2, 1) == (1, 1, 1)
    assert tile_at(-1, 0, (4, 4), 3, 2, 1) is None
    assert tile_at(20, 0, (4, 4), 3, 2, 1) is None
