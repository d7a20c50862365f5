"""`inkhorn art|train|eval|bench vae|gan` end to end on tiny checkpoints and data folders.

A few runs go through a real subprocess (`python -m core.cli`); the rest call
core.cli.main in-process, which parses and runs exactly the same way, to keep
the file fast.
"""
import json
import os
import subprocess
import sys

import pytest

from core.art.arithmetic import ARITHMETIC_STRENGTH
from core.art.png import read_png_meta
from core.cli.main import main


@pytest.fixture()
def art_env(tmp_path, monkeypatch, write_vae_checkpoint, write_gan_checkpoint):
    folder = tmp_path / "checkpoints"
    write_vae_checkpoint(folder)
    write_gan_checkpoint(folder)
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(folder))
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    return tmp_path


def subprocess_cli(*args):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def printed_paths(out: str) -> list:
    from pathlib import Path

    return [Path(line) for line in out.splitlines() if line.endswith(".png")]


def test_vae_sample_in_a_subprocess_with_preview(art_env):
    r = subprocess_cli("art", "vae", "sample", "-n", "4", "--seed", "7", "--preview")
    assert r.returncode == 0, r.stderr
    [path] = printed_paths(r.stdout)
    assert path.parent == art_env / "outputs" and path.name == "vae-sample-seed7.png"
    assert "▀" in r.stdout
    meta = read_png_meta(path)
    assert meta["seed"] == "7" and meta["n"] == "4" and meta["model"] == "vae" and "non-commercial" in meta["licence"]
    assert "seed 7" in r.stderr


def test_gan_interpolate_in_a_subprocess(art_env):
    r = subprocess_cli("art", "gan", "interpolate", "--steps", "5", "--seed", "3", "--each", "--out",
                       str(art_env / "mine"))
    assert r.returncode == 0, r.stderr
    paths = printed_paths(r.stdout)
    assert len(paths) == 6 and all(p.exists() and p.parent == art_env / "mine" for p in paths)
    assert read_png_meta(paths[0])["steps"] == "5"


def test_same_seed_same_pictures_and_no_overwrite(art_env, capsys):
    assert main(["art", "gan", "sample", "-n", "3", "--seed", "1"]) == 0
    assert main(["art", "gan", "sample", "-n", "3", "--seed", "1"]) == 0
    a, b = printed_paths(capsys.readouterr().out)
    assert a != b and a.read_bytes() == b.read_bytes()


def test_vae_arithmetic_interpolate_and_reconstruct(art_env, capsys):
    assert main(["art", "vae", "arithmetic", "men_glasses - women_glasses + women_noglasses"]) == 0
    [path] = printed_paths(capsys.readouterr().out)
    meta = read_png_meta(path)
    assert meta["expected_group"] == "men_noglasses" and meta["images"] == "4"
    assert main(["art", "vae", "arithmetic", "men_glasses - women_glasses + women_noglasses", "--strength", "1"]) == 0
    assert read_png_meta(printed_paths(capsys.readouterr().out)[0])["strength"] == "1.0"
    assert main(["art", "vae", "interpolate", "men_glasses", str(path), "--steps", "6"]) == 0
    [path] = printed_paths(capsys.readouterr().out)
    assert read_png_meta(path)["to"] == str(art_env / "outputs" / "vae-arithmetic.png")
    assert main(["art", "vae", "reconstruct", str(path), str(path)]) == 0
    assert read_png_meta(printed_paths(capsys.readouterr().out)[0])["images"] == "4"


@pytest.mark.parametrize("args, message", [
    (["art", "vae", "arithmetic", "men_glases - women_glasses"], "men_glasses, men_noglasses, women_glasses"),
    (["art", "vae", "sample", "-n", "0"], "-n must be at least 1"),
    (["art", "gan", "interpolate", "--steps", "1"], "--steps must be at least 2"),
    (["art", "vae", "reconstruct", "nowhere.png"], "no such image"),
])
def test_bad_input_says_what_is_wrong(art_env, capsys, args, message):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_unreadable_image(art_env, capsys):
    (art_env / "notes.txt").write_text("hello")
    assert main(["art", "vae", "reconstruct", str(art_env / "notes.txt")]) == 2
    assert "cannot read image" in capsys.readouterr().err


def test_huge_counts_are_capped(art_env, capsys):
    assert main(["art", "gan", "sample", "-n", "100000", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert "capped at 256" in captured.err
    assert read_png_meta(printed_paths(captured.out)[0])["n"] == "256"


def test_missing_corrupt_and_wrong_kind_checkpoints(art_env, capsys, monkeypatch):
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(art_env / "empty"))
    assert main(["art", "vae", "sample"]) == 2
    assert "inkhorn train vae" in capsys.readouterr().err
    bad = art_env / "bad.safetensors"
    bad.write_bytes(b"\x00" * 20)
    assert main(["art", "gan", "sample", "--checkpoint", str(bad)]) == 2
    assert "corrupt" in capsys.readouterr().err
    gan = art_env / "checkpoints" / "anime-gan.safetensors"
    assert main(["art", "vae", "sample", "--checkpoint", str(gan)]) == 2
    assert "not a 'vae' model" in capsys.readouterr().err


def test_train_eval_and_bench_vae(art_env, capsys, write_faces):
    data = write_faces(art_env / "faces")
    out = art_env / "trained" / "faces-vae.safetensors"
    assert main(["train", "vae", "--data", str(data), "--image-size", "16", "--base-channels", "4",
                 "--latent-dim", "8", "--steps", "6", "--eval-every", "3", "--warmup", "2", "--batch-size", "8",
                 "--no-bf16", "--out", str(out), "--run-dir", str(art_env / "run")]) == 0
    assert out.exists() and (art_env / "run" / "loss-curve.png").exists()
    capsys.readouterr()
    assert main(["eval", "vae", "--checkpoint", str(out), "--data", str(data), "--judge-steps", "30", "--judges", "2",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    per_judge = result["arithmetic_success_per_judge"]
    assert result["judges"] == 2 and len(per_judge) == 2
    assert result["arithmetic_success"] == pytest.approx(sum(per_judge) / 2, abs=1e-4)
    assert result["valid_images"] == 16 and result["neg_elbo"] > 0 and 0 <= result["recon_mse"] <= 1
    assert 0 <= result["arithmetic_success"] <= 1 and len(result["equations"]) == 8
    assert result["judge_valid_group_accuracy"] is not None and result["split"] == "valid"
    by_strength = result["arithmetic_success_by_strength"]
    assert set(by_strength) == {"1", "1.5", "2", "2.5", "3"} and all(0 <= v <= 1 for v in by_strength.values())
    assert by_strength[f"{ARITHMETIC_STRENGTH:g}"] == result["arithmetic_success"]
    assert main(["bench", "vae", "--checkpoint", str(out), "--batch", "1", "4", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["batch"] for r in runs] == [1, 4] and all(r["images_per_s"] > 0 for r in runs)


def test_eval_gan(art_env, capsys, write_anime):
    data = write_anime(art_env / "anime")
    assert main(["eval", "gan", "--data", str(data), "-n", "12", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("swd", "diversity", "colour_distance", "sharpness_ratio", "real_swd", "nn_ratio"):
        assert result[key] >= 0
    assert result["samples"] == 12
