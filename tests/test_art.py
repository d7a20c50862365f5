"""core/art.py (grids, PNG metadata, half blocks, arithmetic bookkeeping), core/images.py and the VAE artist."""
import io
import re

import numpy as np
import pytest
import torch
from art_fixtures import tiny_vae, write_anime, write_faces, write_vae_checkpoint
from rich.console import Console

from core.art import (
    ARITHMETIC_STRENGTH,
    GROUPS,
    analogies,
    best_columns,
    combine,
    grid,
    halfblock,
    intended_group,
    parse_expression,
    read_png_meta,
    save_each,
    save_grid,
)
from core.checkpoints import CheckpointError
from core.images import load_split, read_image_file
from core.latent import latents, load_vae, slerp


def pictures(n=4, size=8):
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def test_grid_layout():
    g = grid(pictures(5), cols=2, pad=2)
    assert g.shape == (3 * 10 + 2, 2 * 10 + 2, 3)
    assert (g[2:10, 2:10] == pictures(5)[0]).all()
    assert grid(pictures(5)).shape[1] == 3 * 10 + 2  # as square as it gets: 3 columns


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


def render(renderable, color_system="truecolor", width=80):
    console = Console(file=io.StringIO(), force_terminal=True, color_system=color_system, width=width)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.parametrize("height", [8, 7])
def test_halfblock_two_pixels_per_cell(height):
    image = np.zeros((height, 6, 3), dtype=np.uint8)
    image[0] = (255, 0, 0)   # top row red
    image[1] = (0, 0, 255)   # second row blue
    out = render(halfblock(image, width=6))
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == (height + 1) // 2
    assert all(re.sub(r"\x1b\[[0-9;]*m", "", line) == "▀" * 6 for line in lines)
    assert "38;2;255;0;0" in lines[0] and "48;2;0;0;255" in lines[0]  # fg = top pixel, bg = the one below


def test_halfblock_falls_back_to_256_colours():
    image = np.full((4, 4, 3), (255, 0, 0), dtype=np.uint8)
    out = render(halfblock(image), color_system="256")
    assert "38;5;" in out and "38;2;" not in out


def test_halfblock_fits_width_and_height():
    image = np.zeros((64, 128, 3), dtype=np.uint8)
    lines = render(halfblock(image, width=40)).rstrip("\n").split("\n")
    assert len(lines) == 10 and all(len(re.sub(r"\x1b\[[0-9;]*m", "", line)) == 40 for line in lines)
    lines = render(halfblock(image, width=40, height=5)).rstrip("\n").split("\n")
    assert len(lines) == 5  # 10 pixel rows, so 20 pixels wide
    assert len(re.sub(r"\x1b\[[0-9;]*m", "", lines[0])) == 20
    assert len(render(halfblock(image), width=30).rstrip("\n").split("\n")[0]) > 0  # default: the room given


def test_best_columns_makes_the_pictures_biggest():
    assert best_columns(8, cells=80, rows=5, tile=10) == 8     # wide and short: one row
    assert best_columns(8, cells=20, rows=20, tile=10) == 2    # narrow and tall: two columns
    assert best_columns(1, cells=10, rows=10, tile=10) == 1


def test_parse_expression():
    expected = [(1, "men_glasses"), (-1, "women_glasses"), (1, "women_noglasses")]
    assert parse_expression("men_glasses - women_glasses + women_noglasses") == expected
    assert parse_expression("men_glasses-women_glasses+women_noglasses") == expected
    assert parse_expression("- men_glasses") == [(-1, "men_glasses")]
    for bad in ("", "a - - b", "a b", "a +"):
        with pytest.raises(ValueError):
            parse_expression(bad)


def test_parse_keeps_image_paths_with_dashes(tmp_path):
    image = tmp_path / "my-face.png"
    image.write_bytes(b"")
    assert parse_expression(f"{image} - men_glasses") == [(1, str(image)), (-1, "men_glasses")]


def test_combine_and_intended_group():
    vectors = {name: np.eye(4)[i] for i, name in enumerate(GROUPS)}
    terms = parse_expression("men_glasses - women_glasses + women_noglasses")
    assert (combine(terms, vectors.__getitem__) == np.array([1, 0, -1, 1])).all()
    # strength moves the last term along the direction the others make, and only that
    assert (combine(terms, vectors.__getitem__, 2.5) == np.array([2.5, 0, -2.5, 1])).all()
    assert (combine([(1, "women_glasses")], vectors.__getitem__, 3.0) == vectors["women_glasses"]).all()
    assert intended_group(terms) == "men_noglasses"
    assert intended_group(parse_expression("men_glasses + men_glasses")) is None
    found = analogies()
    assert len(found) == 8 and ("men_glasses", "women_glasses", "women_noglasses", "men_noglasses") in found
    assert all(len({a, b, c, d}) == 4 for a, b, c, d in found)


def test_latents_are_per_picture_and_slerp_keeps_ends():
    a, b = latents(7, 5, 3), latents(7, 2, 3)
    assert torch.equal(a[:2], b) and not torch.equal(latents(8, 1, 3), a[:1])
    path = slerp(a[0], a[1], 5)
    assert torch.allclose(path[0], a[0], atol=1e-5) and torch.allclose(path[-1], a[1], atol=1e-5)
    x, y = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    assert torch.allclose(slerp(x, y, 5).norm(dim=1), torch.full((5,), 3.0))  # stays on the sphere, unlike a line


def test_vae_arithmetic_from_the_stored_group_means(tmp_path):
    model = tiny_vae()
    artist = load_vae(write_vae_checkpoint(tmp_path, model), "cpu")
    assert set(artist.groups) == set(GROUPS)
    _, expected, out = artist.arithmetic("men_glasses - women_glasses + women_noglasses", strength=1.0)
    assert expected == "men_noglasses" and out.shape == (4, 16, 16, 3)
    g = artist.groups
    assert (out[-1] == artist.decode((g["men_glasses"] - g["women_glasses"] + g["women_noglasses"])[None])[0]).all()
    _, _, stronger = artist.arithmetic("men_glasses - women_glasses + women_noglasses")
    moved = g["women_noglasses"] + ARITHMETIC_STRENGTH * (g["men_glasses"] - g["women_glasses"])
    assert (stronger[-1] == artist.decode(moved[None])[0]).all() and (stronger[:3] == out[:3]).all()
    assert (out[0] == artist.decode(g["men_glasses"][None])[0]).all()
    with pytest.raises(ValueError, match="men_glasses, men_noglasses, women_glasses, women_noglasses"):
        artist.arithmetic("men_glases - women_glasses")
    ends = artist.interpolate("men_glasses", "women_noglasses", 3)
    assert (ends[0] == out[0]).all() and len(ends) == 3


def test_vae_works_on_image_files(tmp_path):
    from PIL import Image

    artist = load_vae(write_vae_checkpoint(tmp_path), "cpu")
    photo = tmp_path / "photo.jpg"
    Image.fromarray(pictures(1, 40)[0][:, :30]).save(photo)  # not square, not 16 pixels: cropped and resized
    originals, recon = artist.reconstruct([str(photo)])
    assert originals.shape == recon.shape == (1, 16, 16, 3)
    assert artist.interpolate(str(photo), "men_glasses", 2).shape == (2, 16, 16, 3)
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(ValueError, match="cannot read image"):
        artist.reconstruct([str(tmp_path / "notes.txt")])
    with pytest.raises(FileNotFoundError):
        read_image_file(tmp_path / "missing.png", 16)


def test_vae_without_group_means_says_so(tmp_path):
    from core.checkpoints import save_checkpoint
    from core.latent import pack_vae

    path = save_checkpoint(tmp_path / "v.safetensors", pack_vae(tiny_vae(), {}, {}, {}))
    with pytest.raises(CheckpointError, match="no mean latent"):
        load_vae(path).arithmetic("men_glasses - women_glasses")


def test_load_split_with_labels_and_shards(tmp_path):
    faces = load_split(write_faces(tmp_path / "faces", n_train=12, n_valid=4), "train", 16)
    assert faces.images.shape == (12, 3, 16, 16) and faces.images.dtype == torch.uint8
    assert faces.attributes["Male"].tolist()[:4] == [1, 1, 0, 0]
    anime = load_split(write_anime(tmp_path / "anime", n_train=10, n_valid=3), "train", 8, limit=7)
    assert anime.images.shape == (7, 3, 8, 8) and anime.attributes == {}
    assert len(load_split(tmp_path / "anime", "valid", 8)) == 3
    with pytest.raises(FileNotFoundError, match="--data"):
        load_split(tmp_path, "train", 16)


def test_arithmetic_over_judges_averages_every_share():
    from core.art_metrics import over_judges

    def result(success, eq_success, mean_hit):
        return {"arithmetic_strength": 2.0, "arithmetic_success": success, "arithmetic_faces": 4,
                "arithmetic_group_means_success": float(mean_hit),
                "equations": [{"equation": "a - b + c", "expected": "d", "faces": 4, "success": eq_success,
                               "group_means_success": mean_hit},
                              {"equation": "e - f + g", "expected": "h", "faces": 0, "success": None,
                               "group_means_success": True}]}

    merged = over_judges([result(0.5, 0.5, True), result(0.75, 0.75, False), result(1.0, 1.0, False)])
    assert merged["arithmetic_success"] == 0.75 and merged["arithmetic_success_per_judge"] == [0.5, 0.75, 1.0]
    assert merged["arithmetic_group_means_success"] == pytest.approx(1 / 3, abs=1e-4)
    first, empty = merged["equations"]
    assert first["success"] == 0.75 and first["group_means_success"] == pytest.approx(1 / 3, abs=1e-4)
    assert empty["success"] is None and empty["group_means_success"] == 1.0
    assert merged["arithmetic_faces"] == 4 and merged["arithmetic_strength"] == 2.0
