"""core/art/artists.py (the VAE and GAN as picture makers), core/art/images.py and core/art/metrics.py helpers."""
import numpy as np
import pytest
import torch

from core.art.arithmetic import ARITHMETIC_STRENGTH, GROUPS
from core.art.artists import latents, load_artist, slerp
from core.art.images import load_split, read_image_file
from core.checkpoints import CheckpointError


def test_latents_are_per_picture_and_slerp_keeps_ends():
    a, b = latents(7, 5, 3), latents(7, 2, 3)
    assert torch.equal(a[:2], b) and not torch.equal(latents(8, 1, 3), a[:1])
    path = slerp(a[0], a[1], 5)
    assert torch.allclose(path[0], a[0], atol=1e-5) and torch.allclose(path[-1], a[1], atol=1e-5)
    x, y = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    assert torch.allclose(slerp(x, y, 5).norm(dim=1), torch.full((5,), 3.0))  # stays on the sphere, unlike a line


def test_vae_arithmetic_from_the_stored_group_means(tmp_path, tiny_vae, write_vae_checkpoint):
    model = tiny_vae()
    artist = load_artist("vae", write_vae_checkpoint(tmp_path, model), "cpu")
    assert set(artist.groups) == set(GROUPS)
    _, expected, out = artist.arithmetic("men_glasses - women_glasses + women_noglasses", strength=1.0)
    assert expected == "men_noglasses" and out.shape == (4, 3, 16, 16)
    g = artist.groups
    close = lambda a, b: torch.allclose(a, b, atol=1e-5)  # noqa: E731 (sums in another order round differently)
    assert close(out[-1], artist.decode((g["men_glasses"] - g["women_glasses"] + g["women_noglasses"])[None])[0])
    _, _, stronger = artist.arithmetic("men_glasses - women_glasses + women_noglasses")
    moved = g["women_noglasses"] + ARITHMETIC_STRENGTH * (g["men_glasses"] - g["women_glasses"])
    assert close(stronger[-1], artist.decode(moved[None])[0]) and torch.equal(stronger[:3], out[:3])
    assert close(out[0], artist.decode(g["men_glasses"][None])[0])
    with pytest.raises(ValueError, match="men_glasses, men_noglasses, women_glasses, women_noglasses"):
        artist.arithmetic("men_glases - women_glasses")
    ends = artist.interpolate("men_glasses", "women_noglasses", 3)
    assert close(ends[0], out[0]) and len(ends) == 3


def test_vae_works_on_image_files(tmp_path, write_vae_checkpoint):
    from PIL import Image

    artist = load_artist("vae", write_vae_checkpoint(tmp_path), "cpu")
    photo = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8)).save(photo)  # not square,
    # not 16 pixels: cropped and resized
    originals, recon = artist.reconstruct([str(photo)])
    assert originals.shape == recon.shape == (1, 3, 16, 16)
    assert artist.interpolate(str(photo), "men_glasses", 2).shape == (2, 3, 16, 16)
    (tmp_path / "notes.txt").write_text("not a picture")
    with pytest.raises(ValueError, match="cannot read image"):
        artist.reconstruct([str(tmp_path / "notes.txt")])
    with pytest.raises(FileNotFoundError):
        read_image_file(tmp_path / "missing.png", 16)


def test_vae_without_group_means_says_so(tmp_path, tiny_vae):
    from core.art.artists import pack_vae
    from core.checkpoints import save_checkpoint

    path = save_checkpoint(tmp_path / "v.safetensors", pack_vae(tiny_vae(), {}, {}, {}))
    with pytest.raises(CheckpointError, match="no mean latent"):
        load_artist("vae", path).arithmetic("men_glasses - women_glasses")


def test_load_split_with_labels_and_shards(tmp_path, write_faces, write_anime):
    faces = load_split(write_faces(tmp_path / "faces", n_train=12, n_valid=4), "train", 16)
    assert faces.images.shape == (12, 3, 16, 16) and faces.images.dtype == torch.uint8
    assert faces.attributes["Male"].tolist()[:4] == [1, 1, 0, 0]
    anime = load_split(write_anime(tmp_path / "anime", n_train=10, n_valid=3), "train", 8, limit=7)
    assert anime.images.shape == (7, 3, 8, 8) and anime.attributes == {}
    assert len(load_split(tmp_path / "anime", "valid", 8)) == 3
    with pytest.raises(FileNotFoundError, match="--data"):
        load_split(tmp_path, "train", 16)


def test_arithmetic_over_judges_averages_every_share():
    from core.art.metrics import over_judges

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
