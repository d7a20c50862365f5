"""DCGAN: generator and discriminator shapes, the non-saturating losses, the checkpoint."""
import pytest
import torch
import torch.nn.functional as F

from core.art.artists import load_artist
from core.checkpoints import Checkpoint, CheckpointError, save_checkpoint
from core.models.dcgan import (
    DCGANConfig,
    Discriminator,
    Generator,
    discriminator_loss,
    generator_loss,
)


def test_shapes_at_64_pixels():
    config = DCGANConfig(image_size=64, latent_dim=10, g_channels=4, d_channels=4)
    g, d = Generator(config), Discriminator(config)
    pictures = g(torch.randn(3, 10))
    assert pictures.shape == (3, 3, 64, 64)
    assert pictures.min() >= -1 and pictures.max() <= 1
    assert d(pictures).shape == (3,)


def test_layers_follow_the_paper():
    from core.train.recipes import ANIME_GAN

    config = ANIME_GAN.config
    g, d = Generator(config), Discriminator(config)
    kinds = {type(m) for m in g.modules()}
    assert torch.nn.ConvTranspose2d in kinds and torch.nn.BatchNorm2d in kinds and torch.nn.Tanh in kinds
    assert any(isinstance(m, torch.nn.LeakyReLU) for m in d.modules())
    assert not isinstance(d.net[1], torch.nn.BatchNorm2d)  # no batch norm on the discriminator's first layer
    assert g.num_params() * 2 <= 12 * 2**20  # the shipped generator fits in 12 MiB as fp16
    convs = [m.weight for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert all(abs(w.std().item() - 0.02) < 0.005 for w in convs)


def test_non_saturating_losses():
    real, fake = torch.tensor([2.0, -1.0]), torch.tensor([-3.0, 0.5])
    expected_d = (F.binary_cross_entropy_with_logits(real, torch.ones(2))
                  + F.binary_cross_entropy_with_logits(fake, torch.zeros(2)))
    assert discriminator_loss(real, fake).item() == pytest.approx(expected_d.item())
    assert generator_loss(fake).item() == pytest.approx(F.binary_cross_entropy_with_logits(fake, torch.ones(2)).item())
    # the point of the non-saturating loss: a strong gradient where the discriminator wins easily
    logits = torch.tensor([-8.0], requires_grad=True)
    generator_loss(logits).backward()
    assert logits.grad.abs().item() > 0.9


def test_checkpoint_round_trip_in_fp16(tmp_path, tiny_generator, write_gan_checkpoint):
    model = tiny_generator()
    path = write_gan_checkpoint(tmp_path, model)
    artist = load_artist("gan", path, "cpu")
    z = torch.randn(2, model.config.latent_dim)
    with torch.no_grad():
        assert torch.allclose(artist.model(z), model(z), atol=2e-2)
    assert artist.extra["licence"].startswith("Trained on")
    a, b = artist.sample(4, seed=3), artist.sample(2, seed=3)
    assert a.dtype == torch.float32 and a.shape == (4, 3, 16, 16) and 0 <= a.min() <= a.max() <= 1
    assert (a[:2] == b).all()  # picture i of a seed does not depend on how many are drawn


def test_missing_corrupt_and_wrong_kind(tmp_path, write_gan_checkpoint):
    with pytest.raises(CheckpointError, match="inkhorn train gan"):
        load_artist("gan", tmp_path / "none.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_artist("gan", bad)
    path = write_gan_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="'gan' model, not a 'vae'"):
        load_artist("vae", path)


def test_shape_mismatch_says_what_does_not_fit(tmp_path, tiny_generator):
    model = tiny_generator()
    tensors = {k: v for k, v in model.state_dict().items()}
    config = {**model.config.to_dict(), "g_channels": 8}
    save_checkpoint(tmp_path / "g.safetensors", Checkpoint("gan", config, tensors))
    with pytest.raises(CheckpointError, match="wrong shapes"):
        load_artist("gan", tmp_path / "g.safetensors")
