"""The text models a user can pick: shipped, their runs, GPT-2 folders by flag, environment and the
Hugging Face cache; every listed choice loads and streams."""
import json
import os
import shutil

import pytest
import torch
from safetensors.torch import save_file

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.text.choices import list_text_models
from core.text.lm import load_language_model
from core.text.sampling import SamplerSettings

pytest.importorskip("transformers")


@pytest.fixture()
def user_files(tmp_path, monkeypatch, checkpoint_dir, tiny_gpt, tiny_tokenizer, write_gpt2_folder, write_vae_checkpoint):
    """A runs folder, two GPT-2 folders (one by flag, one by $INKHORN_GPT2) and a Hugging Face cache."""
    runs = tmp_path / "runs"
    gpt = Checkpoint("gpt", tiny_gpt.config.to_dict(), state_tensors(tiny_gpt), tokenizer=tiny_tokenizer.model_bytes,
                     training={"valid": {"bits_per_char": 2.5}})
    save_checkpoint(runs / "a" / "hemingway.safetensors", gpt)
    save_checkpoint(runs / "a" / "hemingway.step000100.safetensors", gpt)
    save_file({"x": torch.zeros(1)}, runs / "a" / "hemingway.resume.safetensors")  # a run's optimizer state
    write_vae_checkpoint(runs / "faces")                                             # not a text model
    (runs / "junk.safetensors").write_bytes(b"not a safetensors file")
    flagged, env = tmp_path / "mine" / "tiny-gpt2", tmp_path / "theirs" / "other-gpt2"
    write_gpt2_folder(flagged)
    write_gpt2_folder(env, "vocab+merges", "bin")
    monkeypatch.setenv("INKHORN_GPT2", os.pathsep.join([str(env), str(tmp_path / "missing")]))
    hub = tmp_path / "hf" / "hub"
    for repo, snapshot in (("models--someone--tiny-gpt2", "abc123"), ("models--someone--bert-base", "def456"),
                           ("models--someone--partial", "0000")):
        folder = hub / repo / "snapshots" / snapshot
        shutil.copytree(flagged, folder)
        (hub / repo / "refs").mkdir(parents=True)
        (hub / repo / "refs" / "main").write_text(snapshot)
    bert = hub / "models--someone--bert-base" / "snapshots" / "def456" / "config.json"
    bert.write_text(json.dumps({**json.loads(bert.read_text()), "model_type": "bert"}))
    (hub / "models--someone--partial" / "snapshots" / "0000" / "model.safetensors").unlink()  # a download cut short
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    return runs, flagged, env, hub


def test_lists_shipped_runs_and_gpt2_folders_and_each_loads(user_files):
    runs, flagged, _, hub = user_files
    choices = list_text_models([flagged], runs)
    shown = [(c.name, c.source, c.kind) for c in choices]
    assert shown == [
        ("Hemingway", "shipped", "gpt"),  # anna is not in the checkpoints folder, so it is not offered
        (str(runs / "a" / "hemingway.safetensors"), "run", "gpt"),
        (str(runs / "a" / "hemingway.step000100.safetensors"), "run", "gpt"),
        ("tiny-gpt2", "gpt2", "gpt2"),
        ("other-gpt2", "gpt2", "gpt2"),
        ("missing", "gpt2", "gpt2"),
        ("someone/tiny-gpt2", "hf-cache", "gpt2"),
    ]
    missing = choices[5]
    assert "has no config.json" in missing.problem
    assert choices[1].detail == "bits_per_char 2.5"
    assert choices[3].detail == "GPT-2 · 2 layers · 48 wide · 64-token context"
    assert choices[6].spec == str(hub / "models--someone--tiny-gpt2" / "snapshots" / "abc123")
    settings = SamplerSettings(temperature=0, max_new_tokens=3)
    for choice in (c for c in choices if c.problem is None):
        lm = load_language_model(choice.spec, "cpu")
        assert len(list(lm.stream("The sun", settings))) == 3, choice.name


def test_a_folder_reached_twice_is_listed_once(user_files, monkeypatch):
    runs, flagged, _, _ = user_files
    monkeypatch.setenv("INKHORN_GPT2", str(flagged))
    choices = list_text_models([flagged, str(flagged) + "/"], runs)
    assert [c.name for c in choices if c.source == "gpt2"] == ["tiny-gpt2"]


def test_no_cache_no_runs_lists_the_shipped_models(tmp_path, monkeypatch, anna_checkpoint):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("INKHORN_GPT2", raising=False)
    assert [c.spec for c in list_text_models(runs=tmp_path / "no-runs")] == ["hemingway", "anna"]


def test_models_command_and_generating_from_a_run(user_files, capsys):
    from core.cli.main import main

    runs, flagged, _, _ = user_files
    assert main(["models", "--runs", str(runs), "--gpt2", str(flagged), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["models"]
    assert {m["source"] for m in listed} == {"shipped", "run", "gpt2", "hf-cache"}
    assert main(["models", "--runs", str(runs)]) == 0
    out = capsys.readouterr().out
    assert "someone/tiny-gpt2" in out and f"--model {runs / 'a' / 'hemingway.safetensors'}" in out
    assert "cannot load:" in out  # the missing folder of $INKHORN_GPT2
    run = str(runs / "a" / "hemingway.safetensors")
    assert main(["generate", "--model", run, "The sun", "-n", "5", "--seed", "1", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("The sun") and "[a/hemingway · seed 1 · 5 tokens" in captured.err  # the run, not the shipped one
    resume = str(runs / "a" / "hemingway.resume.safetensors")
    assert main(["generate", "--model", resume, "The sun", "--device", "cpu"]) == 2
    assert "is a resume file" in capsys.readouterr().err
