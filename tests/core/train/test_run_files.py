"""A run's files against change and damage: a resume file of another shape or cut short, a checkpoint already at
--out, and the same --seed building the same model. Tiny LSTM runs through `inkhorn train lstm`, in-process."""
import pytest

from core.checkpoints import load_checkpoint
from core.cli.main import main

TEXT = "Anna and the prince spoke of the ball at length, and the evening was long. " * 60


@pytest.fixture()
def train(tmp_path, monkeypatch):
    monkeypatch.setenv("INKHORN_RUNS", str(tmp_path / "runs"))
    text = tmp_path / "t.txt"
    text.write_text(TEXT)

    def train(out, *flags):
        return main(["train", "lstm", "--data", str(text), "--valid", str(text), "--steps", "2", "--eval-every", "2",
                     "--warmup", "1", "--vocab-size", "300", "--n-layer", "1", "--n-embd", "16", "--n-hidden", "16",
                     "--bptt", "8", "--batch-size", "2", "--no-bf16", "--device", "cpu", "--out", str(out), *flags])

    return train


def test_a_resume_file_of_another_architecture_says_to_start_afresh(train, tmp_path, capsys):
    out = tmp_path / "run" / "anna.safetensors"
    assert train(out) == 0
    assert train(out, "--steps", "4", "--n-hidden", "24") == 2
    err = capsys.readouterr().err
    assert "anna.resume.safetensors cannot be resumed: it holds another model than these flags build" in err
    assert "--fresh" in err and "Traceback" not in err


def test_a_truncated_resume_file_says_to_start_afresh(train, tmp_path, capsys):
    out = tmp_path / "run" / "anna.safetensors"
    assert train(out) == 0
    resume = tmp_path / "run" / "anna.resume.safetensors"
    resume.write_bytes(resume.read_bytes()[:1000])
    assert train(out, "--steps", "4") == 2
    err = capsys.readouterr().err
    assert "cannot be resumed: it is truncated or damaged" in err and "--fresh" in err
    assert train(out, "--steps", "4", "--fresh", "--force") == 0  # starting afresh replaces both


def test_a_run_that_does_not_resume_needs_force_to_replace_a_checkpoint(train, tmp_path, capsys):
    out = tmp_path / "mine.safetensors"
    out.write_bytes(b"someone's model")
    assert train(out) == 2
    assert "exists and this run does not resume it: pass --force" in capsys.readouterr().err
    assert out.read_bytes() == b"someone's model"
    assert train(out, "--force") == 0 and load_checkpoint(out, "lstm")


def test_the_same_seed_builds_the_same_model(train, tmp_path):
    paths = [tmp_path / name / "anna.safetensors" for name in ("a", "b", "c")]
    for path, seed in zip(paths, ("5", "5", "6")):
        assert train(path, "--seed", seed, "--steps", "1", "--eval-every", "1") == 0
    a, b, c = (load_checkpoint(p).tensors for p in paths)
    assert all((a[k] == b[k]).all() for k in a)
    assert any((a[k] != c[k]).any() for k in a)


def test_a_seed_out_of_bounds_is_refused(train, tmp_path, capsys):
    assert train(tmp_path / "x.safetensors", "--seed", str(2**40)) == 2
    assert "--seed must be between 0 and 4,294,967,295" in capsys.readouterr().err


def test_a_crafted_init_checkpoint_is_refused_before_training_builds_it(train, tmp_path, tiny_lstm, tiny_tokenizer,
                                                                          capsys):
    from core.checkpoints import Checkpoint, save_checkpoint, state_tensors

    init = save_checkpoint(tmp_path / "init.safetensors",
                           Checkpoint("lstm", {**tiny_lstm.config.to_dict(), "n_layer": 10_000},
                                      state_tensors(tiny_lstm), tokenizer=tiny_tokenizer.model_bytes))
    assert train(tmp_path / "out.safetensors", "--init", str(init)) == 2
    assert "n_layer = 10000 is outside 1..64" in capsys.readouterr().err
