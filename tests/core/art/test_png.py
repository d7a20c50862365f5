"""core/art/png.py: grids, PNG files that never overwrite, their text chunks."""
import numpy as np
import torch

from core.art.png import grid, pixels, read_png_meta, save_each, save_grid


def pictures(n=4, size=8):
    """float (N, 3, H, W) pictures in [0, 1], as the artists make them."""
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(0))


def test_pixels_are_uint8_hwc():
    p = pictures(2, 4)
    out = pixels(p)
    assert out.shape == (2, 4, 4, 3) and out.dtype == np.uint8
    assert out[1, 2, 3, 0] == round(float(p[1, 0, 2, 3]) * 255)


def test_grid_layout():
    px = pixels(pictures(5))
    g = grid(px, cols=2, pad=2)
    assert g.shape == (3 * 10 + 2, 2 * 10 + 2, 3)
    assert (g[2:10, 2:10] == px[0]).all()
    assert grid(px).shape[1] == 3 * 10 + 2  # as square as it gets: 3 columns


def test_save_grid_never_overwrites_and_records_metadata(tmp_path):
    meta = {"seed": 42, "model": "vae", "params": {"n": 4}}
    first = save_grid(pictures(), tmp_path, meta, name="vae-sample")
    before = first.read_bytes()
    second = save_grid(pictures(), tmp_path, meta, name="vae-sample")
    assert first != second and first.read_bytes() == before
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["vae-sample-2.png", "vae-sample.png"]
    text = read_png_meta(second)
    assert text["seed"] == "42" and text["model"] == "vae" and text["params"] == '{"n": 4}'
    assert text["Software"] == "Inkhorn" and text["images"] == "4"


def test_save_each(tmp_path):
    paths = save_each(pictures(3), tmp_path, {"seed": 1}, "grid")
    again = save_each(pictures(3), tmp_path, {"seed": 1}, "grid")
    assert [p.name for p in paths] == ["grid-00.png", "grid-01.png", "grid-02.png"]
    assert len(set(paths + again)) == 6
    assert read_png_meta(paths[1])["index"] == "1"


