"""The Latent art pane driven through App.run_test() with tiny random checkpoints (never shipped ones)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core.art.arithmetic import ARITHMETIC_STRENGTH
from core.art.png import read_png_meta
from core.catalog import ROOT
from tui import keys
from tui.app import InkhornApp
from tui.widgets.image_preview import ImagePreview
from tui.widgets.keybar import KeyBar


@pytest.fixture()
def art_env(tmp_path, monkeypatch):
    folder = tmp_path / "checkpoints"
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(folder))
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    return folder


async def open_art(pilot):
    pilot.app.query_one("TabbedContent").active = "latent-art"
    await pilot.pause()
    return pilot.app.query_one("ArtPane")


@pytest.fixture
def next_picture(wait_for):
    async def next_picture(pilot, pane, press: str | None = None):
        """Press a key (if any), wait for the pictures it asked for; returns the saved PNG's text chunks."""
        before = pane.request
        if press:
            await pilot.press(press)
        await wait_for(pilot, lambda: pane.request > before if press else pane.request > 0)
        await wait_for(pilot, lambda: pane.shown_request == pane.request)
        return read_png_meta(pane.saved)

    return next_picture


def header(app) -> str:
    return str(app.query_one("#art-header").render())


def test_importing_the_pane_does_not_import_torch():
    code = "import sys, tui.panes.art; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_sample_seed_count_interpolate_arithmetic_and_copy(art_env, monkeypatch, write_vae_checkpoint, write_gan_checkpoint, next_picture):
    write_vae_checkpoint(art_env)
    write_gan_checkpoint(art_env)
    monkeypatch.setattr("tui.panes.art.new_seed", lambda: 41)
    app = InkhornApp()
    copied = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_art(pilot)
        assert app.focused is pane
        meta = await next_picture(pilot, pane)
        assert pane.kind == "vae" and meta["seed"] == "41" and app.query_one(ImagePreview).pictures is not None
        meta = await next_picture(pilot, pane, "right_square_bracket")
        assert pane.seed == 42 and meta["seed"] == "42" and meta["n"] == "16" and meta["model"] == "vae"
        assert "seed 42 · 16 pictures" in header(app)
        meta = await next_picture(pilot, pane, "equals_sign")
        assert meta["n"] == "20" and "20 pictures" in header(app)
        meta = await next_picture(pilot, pane, "i")
        assert meta["command"] == "interpolate" and meta["steps"] == "8"
        meta = await next_picture(pilot, pane, "minus")
        assert meta["steps"] == "6"
        meta = await next_picture(pilot, pane, "a")
        assert meta["expression"] == "men_glasses - men_noglasses + women_noglasses"
        meta = await next_picture(pilot, pane, "a")  # again: the next equation
        assert meta["expected_group"] == "men_noglasses" and "arithmetic 2/8" in header(app)
        assert float(meta["strength"]) == ARITHMETIC_STRENGTH
        meta = await next_picture(pilot, pane, "equals_sign")  # in arithmetic: a stronger move
        assert float(meta["strength"]) == ARITHMETIC_STRENGTH + 0.5
        assert f"{ARITHMETIC_STRENGTH + 0.5:g}×(" in header(app)
        await pilot.press("y")
        assert copied == [str(pane.saved)]
        assert str(pane.saved.name) in str(app.query_one("#art-footer").render())
        assert "vae ·" in str(app.query_one("#status").render())
        # the GAN: loads on first show; it has no groups, so arithmetic falls back to sampling
        meta = await next_picture(pilot, pane, "m")
        assert meta["model"] == "gan" and meta["command"] == "sample" and meta["seed"] == "42"
        await pilot.press("a")
        await pilot.pause()
        assert any("VAE" in str(n.message) for n in app._notifications)
        saved = sorted(p.name for p in (art_env.parent / "outputs").iterdir())
        assert "vae-sample-seed41.png" in saved and "gan-sample-seed42.png" in saved


async def test_footer_and_palette_list_the_art_keys(art_env, write_vae_checkpoint, next_picture):
    write_vae_checkpoint(art_env)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_art(pilot)
        await next_picture(pilot, pane)
        described = {description for _, description, _ in app.query_one(KeyBar).entries()}
        for binding in keys.ART_PANE:
            assert (binding.group.description if binding.group else binding.description) in described
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert "Latent art: sample" in titles and "Latent art: copy path" in titles


async def test_one_missing_model_names_its_train_command(art_env, write_gan_checkpoint, next_picture):
    write_gan_checkpoint(art_env)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_art(pilot)
        assert pane.kind == "gan"
        await next_picture(pilot, pane)
        await pilot.press("m")
        await pilot.pause()
        message = str(app.query_one(ImagePreview).render())
        assert "inkhorn train vae" in message and "faces-vae.safetensors" in message
        assert pane.kind_state("vae") == "missing"


async def test_corrupt_checkpoint_is_reported_in_the_pane(art_env, wait_for):
    art_env.mkdir(parents=True)
    (art_env / "faces-vae.safetensors").write_bytes(b"garbage")
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_art(pilot)
        await wait_for(pilot, lambda: pane.kind_state("vae") == "failed")
        await pilot.pause()
        assert "corrupt" in str(app.query_one(ImagePreview).render())
        assert "not loaded" in pane.status


async def test_no_checkpoints_at_all(art_env):
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_art(pilot)
        shown = " ".join(str(w.render()) for w in app.query("#latent-art .notice"))
        assert "have not landed yet" in shown and "inkhorn train vae" in shown and "inkhorn train gan" in shown


async def test_coming_back_to_the_tab_does_not_draw_again(art_env, write_vae_checkpoint, next_picture):
    write_vae_checkpoint(art_env)
    app = InkhornApp()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await open_art(pilot)
        await next_picture(pilot, pane)
        request = pane.request
        await pilot.press("ctrl+t")  # wraps to Hemingway
        await open_art(pilot)
        await pilot.pause()
        assert pane.request == request and len(list((art_env.parent / "outputs").iterdir())) == 1
