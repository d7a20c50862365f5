"""The VAE: shapes, the reparameterisation trick, the KL term and the loss."""
import math

import pytest
import torch

from core.models.vae import VAE, VAEConfig, kl_divergence, neg_elbo, reparameterise


def test_shapes_at_64_pixels():
    model = VAE(VAEConfig(image_size=64, base_channels=4, latent_dim=16))
    x = torch.rand(2, 3, 64, 64)
    mean, logvar = model.encode(x)
    assert mean.shape == logvar.shape == (2, 16)
    picture = model.decode(mean)
    assert picture.shape == (2, 3, 64, 64)
    assert picture.min() >= 0 and picture.max() <= 1
    out = model(x)
    assert out["recon"].shape == x.shape and out["loss"].dim() == 0


def test_the_recipe_fits_the_checkpoint_budget():
    from core.train.recipes import FACES_VAE

    params = VAE(FACES_VAE.config).num_params()
    assert params * 2 <= 12 * 2**20  # fp16 bytes


@pytest.mark.parametrize("size", [0, 4, 48, 100])
def test_image_size_must_be_a_power_of_two(size):
    with pytest.raises(ValueError, match="power of two"):
        VAE(VAEConfig(image_size=size, base_channels=4, latent_dim=8))


def test_reparameterisation_draws_from_the_posterior_and_passes_gradients():
    torch.manual_seed(0)
    mean = torch.full((20000, 2), 1.5, requires_grad=True)
    logvar = torch.full((20000, 2), math.log(0.25), requires_grad=True)
    z = reparameterise(mean, logvar)
    assert z.mean().item() == pytest.approx(1.5, abs=0.02)
    assert z.std().item() == pytest.approx(0.5, abs=0.02)
    z.sum().backward()
    assert mean.grad is not None and logvar.grad is not None and logvar.grad.abs().sum() > 0


def test_kl_matches_the_closed_form_of_torch_distributions():
    torch.manual_seed(0)
    mean, logvar = torch.randn(5, 7), torch.randn(5, 7)
    q = torch.distributions.Normal(mean, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros(5, 7), torch.ones(5, 7))
    expected = torch.distributions.kl_divergence(q, p).sum(1)
    assert torch.allclose(kl_divergence(mean, logvar), expected, atol=1e-5)
    assert torch.allclose(kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))


def test_loss_is_reconstruction_plus_beta_kl():
    torch.manual_seed(0)
    model = VAE(VAEConfig(image_size=16, base_channels=4, latent_dim=8, beta=0.25)).eval()  # eval: z = mean
    x = torch.rand(3, 3, 16, 16)
    out = model(x)
    mean, logvar = model.encode(x)
    sse = (model.decode(mean) - x).pow(2).flatten(1).sum(1)
    assert out["sse"].item() == pytest.approx(sse.mean().item(), rel=1e-5)
    assert out["loss"].item() == pytest.approx((sse + 0.25 * kl_divergence(mean, logvar)).mean().item(), rel=1e-5)


def test_neg_elbo_is_the_gaussian_likelihood_with_variance_one_half():
    x, recon = torch.rand(10), torch.rand(10)
    nll = -torch.distributions.Normal(recon, math.sqrt(0.5)).log_prob(x).sum()
    sse = (x - recon).pow(2).sum()
    assert neg_elbo(sse, torch.tensor(2.0), 10).item() == pytest.approx(nll.item() + 2.0, rel=1e-5)
