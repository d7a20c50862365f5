"""Latent art tab: the VAE and the GAN have not landed yet."""
from tui.panes.not_landed import NotLandedPane


class ArtPane(NotLandedPane):
    TITLE = "Latent art"
    CHECKPOINTS = ["vae.safetensors", "gan.safetensors"]
    COMMANDS = ["inkhorn train vae", "inkhorn train gan"]
