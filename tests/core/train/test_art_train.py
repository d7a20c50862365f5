"""Training the VAE and the GAN for a few steps on tiny synthetic data folders (zip + csv written in tmp)."""
import json

import pytest
import torch
from rich.console import Console

from core.art.arithmetic import GROUPS
from core.art.artists import load_artist
from core.art.png import read_png_meta
from core.checkpoints import load_checkpoint
from core.models.dcgan import DCGANConfig
from core.models.vae import VAEConfig
from core.train.gan import GANTask, train_gan
from core.train.loop import TrainConfig, train
from core.train.pictures import ImageData
from core.train.vae import VAETask

CPU = torch.device("cpu")


def quiet():
    return Console(quiet=True)


def test_vae_training_lowers_the_loss_and_stores_group_means(tmp_path, write_faces):
    torch.manual_seed(0)
    cfg = TrainConfig(max_steps=40, eval_every=20, warmup_steps=5, lr=3e-3, weight_decay=0.0, bf16=False)
    data = ImageData(str(write_faces(tmp_path / "faces")), batch_size=16)
    task = VAETask(VAEConfig(image_size=16, base_channels=8, latent_dim=8), data, cfg, CPU, tmp_path / "run")
    task.model.eval()
    before = task.evaluate()["metric"]
    task.model.train()
    out = tmp_path / "faces-vae.safetensors"
    result = train(task, cfg, out, CPU, console=quiet())
    assert result["best_valid"] < before
    artist = load_artist("vae", out, "cpu")
    assert set(artist.groups) == set(GROUPS) and artist.extra["groups"]["men_glasses"] == 16
    tensors = load_checkpoint(out, "vae").tensors
    assert tensors["encoder.to_stats.weight"].dtype == torch.float16
    assert tensors["group.men_glasses"].dtype == torch.float32  # rounding would move the arithmetic
    grids = sorted((tmp_path / "run").glob("vae-step*.png"))
    assert [g.name for g in grids] == ["vae-step000020.png", "vae-step000040.png"]
    assert read_png_meta(grids[0])["step"] == "20"
    task.plot()
    assert (tmp_path / "run" / "loss-curve.png").stat().st_size > 1000
    points = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert {p["split"] for p in points} == {"train", "valid"}


def test_group_means_read_each_face_and_its_mirror_in_inference_mode(tmp_path, write_faces):
    from core.art.images import load_split, to_unit
    from core.models.vae import VAE
    from core.train.vae import group_means

    torch.manual_seed(0)
    faces = load_split(write_faces(tmp_path / "faces"), "train", 16)
    model = VAE(VAEConfig(image_size=16, base_channels=8, latent_dim=8)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    groups, counts = group_means(model, faces, CPU)
    assert model.training and all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    women = (faces.attributes["Male"] == 0) & (faces.attributes["Eyeglasses"] == 1)
    x = to_unit(faces.images[women])
    model.eval()
    with torch.no_grad():
        expected = ((model.encode(x)[0] + model.encode(x.flip(3))[0]) / 2).mean(0)
        unmirrored = model.encode(x)[0].mean(0)
    assert counts["women_glasses"] == int(women.sum())
    assert torch.allclose(groups["women_glasses"], expected, atol=1e-5)
    assert not torch.allclose(groups["women_glasses"], unmirrored, atol=1e-5)


def test_gan_training_runs_resumes_and_keeps_only_the_generator(tmp_path, write_anime):
    torch.manual_seed(0)
    data = ImageData(str(write_anime(tmp_path / "anime")), batch_size=16)
    config = DCGANConfig(image_size=16, latent_dim=8, g_channels=8, d_channels=8)
    out = tmp_path / "anime-gan.safetensors"
    first = TrainConfig(max_steps=20, eval_every=10, log_every=5, warmup_steps=0, lr=2e-3, min_lr=2e-3, bf16=False)
    task = GANTask(config, data, first, CPU, tmp_path / "run")
    train_gan(task, first, out, CPU, console=quiet())
    losses = task.log.series("train", "loss_d")
    assert losses[0][0] == 5 and losses[-1][1] < losses[0][1]  # the discriminator learns to tell them apart
    assert (tmp_path / "anime-gan.resume.safetensors").exists()
    more = TrainConfig(max_steps=30, eval_every=10, log_every=5, warmup_steps=0, lr=2e-3, min_lr=2e-3, bf16=False)
    resumed = GANTask(config, data, more, CPU, tmp_path / "run")
    result = train_gan(resumed, more, out, CPU, console=quiet())
    assert result["steps"] == 30 and [s for s, _ in resumed.log.series("valid", "swd")] == [10, 20, 30]
    ckpt = load_checkpoint(out, "gan")
    assert set(ckpt.tensors) == set(resumed.generator.state_dict())  # the discriminator is not shipped
    assert load_artist("gan", out, "cpu").sample(2, 0).shape == (2, 3, 16, 16)
    assert len(list((tmp_path / "run").glob("gan-step*.png"))) == 3
    resumed.plot()
    assert (tmp_path / "run" / "loss-curve.png").exists()


def test_training_needs_its_data(tmp_path):
    cfg = TrainConfig(max_steps=1)
    with pytest.raises(FileNotFoundError, match="train.zip"):
        VAETask(VAEConfig(image_size=16, base_channels=4, latent_dim=8), ImageData(str(tmp_path), batch_size=4), cfg,
                CPU, tmp_path / "run")
