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
        assert before.shape == after.shape and not np.array_equal(before, after)  # the outline moved
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
