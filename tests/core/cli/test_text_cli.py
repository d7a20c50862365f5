"""The `inkhorn` command end to end, as a subprocess, on a tiny checkpoint."""
import json
import os
import subprocess
import sys

import pytest


def run(args, env_dir, stdin=None):
    env = {**os.environ, "INKHORN_CHECKPOINTS": str(env_dir), "INKHORN_DEVICE": "cpu"}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_generate_streams_with_seed_and_flags(checkpoint_dir):
    args = ["generate", "--model", "hemingway", "The sun", "-n", "12", "--seed", "5", "-t", "0.7", "-k", "20",
            "-p", "0.9", "--min-p", "0.01", "--repetition-penalty", "1.2"]
    a, b = run(args, checkpoint_dir), run(args, checkpoint_dir)
    assert a.returncode == 0, a.stderr
    assert a.stdout.startswith("The sun") and len(a.stdout) > len("The sun\n")
    assert a.stdout == b.stdout
    assert "seed 5" in a.stderr and "12 tokens" in a.stderr


def test_generate_reads_stdin_and_reports_cleaning(checkpoint_dir):
    r = run(["generate", "-n", "3", "--no-prompt"], checkpoint_dir, stdin="We walked\x07 down")
    assert r.returncode == 0, r.stderr
    assert "control character" in r.stderr


def test_generate_with_a_missing_model_says_how_to_fix(tmp_path):
    r = run(["generate", "hello"], tmp_path)
    assert r.returncode == 2
    assert "No checkpoint" in r.stderr and "inkhorn train gpt" in r.stderr
    assert "Traceback" not in r.stderr


def test_generate_with_a_corrupt_model(checkpoint_dir):
    (checkpoint_dir / "hemingway.safetensors").write_bytes(b"garbage")
    r = run(["generate", "hello"], checkpoint_dir)
    assert r.returncode == 2 and "corrupt" in r.stderr and "Traceback" not in r.stderr


def test_bad_sampler_value_is_explained(checkpoint_dir):
    r = run(["generate", "hi", "--top-p", "0"], checkpoint_dir)
    assert r.returncode == 2 and "top-p" in r.stderr


def test_eval_json(checkpoint_dir, tmp_path):
    text = tmp_path / "v.txt"
    text.write_text("We walked down the road in the rain.\n\nIt was cold.")
    r = run(["eval", "gpt", "--text", str(text), "--json"], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert set(result) == {"bits_per_char", "chars", "tokens"}
    assert result["chars"] == len(text.read_text()) and result["bits_per_char"] > 0


def test_bench_json(checkpoint_dir):
    r = run(["bench", "gpt", "--tokens", "8", "40", "--json"], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)["runs"]
    assert [run["new_tokens"] for run in runs] == [8, 40]
    assert all(run["incremental_tokens_per_s"] > 0 and run["rereading_tokens_per_s"] > 0 for run in runs)


def test_bench_lstm_json(anna_checkpoint):
    r = run(["bench", "lstm", "--tokens", "8", "--json"], anna_checkpoint)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)["runs"]
    assert runs[0]["new_tokens"] == 8 and runs[0]["incremental_tokens_per_s"] > 0


def test_info_lists_checkpoints(checkpoint_dir):
    r = run(["info"], checkpoint_dir)
    assert r.returncode == 0
    assert "device" in r.stdout and "torch" in r.stdout and "hemingway.safetensors" in r.stdout


@pytest.mark.parametrize("args", [["train", "gpt", "--help"], ["--help"]])
def test_help(args, tmp_path):
    r = run(args, tmp_path)
    assert r.returncode == 0 and "usage" in r.stdout


def test_anna_generate_and_eval(anna_checkpoint, tmp_path):
    r = run(["generate", "--model", "anna", "Anna and the prince", "-n", "10", "--seed", "2"], anna_checkpoint)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("Anna and the prince") and "anna · seed 2 · 10 tokens" in r.stderr
    text = tmp_path / "v.txt"
    text.write_text("Anna and the prince spoke of the ball.\n\nIt was late.")
    r = run(["eval", "lstm", "--text", str(text), "--json"], anna_checkpoint)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["chars"] == len(text.read_text())
    r = run(["eval", "gpt", "--checkpoint", "anna", "--text", str(text)], anna_checkpoint)
    assert r.returncode == 2 and "not a 'gpt' model" in r.stderr


def test_train_gpt_from_a_checkpoint(checkpoint_dir, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("We walked down the road in the rain and it was cold. " * 40)
    out = tmp_path / "fine.safetensors"
    r = run(["train", "gpt", "--init", str(checkpoint_dir / "hemingway.safetensors"), "--data", str(text),
             "--valid", str(text), "--pretrain", "none", "--steps", "4", "--eval-every", "2", "--warmup", "1",
             "--batch-size", "2", "--no-bf16", "--no-source-tokens", "--out", str(out)], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    from core.checkpoints import load_checkpoint

    tuned = load_checkpoint(out, "gpt")
    base = load_checkpoint(checkpoint_dir / "hemingway.safetensors", "gpt")
    assert tuned.tokenizer == base.tokenizer
    assert {k: v for k, v in tuned.config.items() if k != "dropout"} == \
        {k: v for k, v in base.config.items() if k != "dropout"}


def test_fine_tuning_with_source_tokens_widens_the_vocabulary_and_writes_to_runs(checkpoint_dir, tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("We walked down the road in the rain and it was cold. " * 40)
    other = tmp_path / "other.txt"
    other.write_text("Anna and the prince spoke of the ball at length. " * 40)
    args = ["train", "gpt", "--init", str(checkpoint_dir / "hemingway.safetensors"), "--data", str(text),
            "--valid", str(text), "--pretrain", str(other), "--steps", "2", "--eval-every", "2", "--warmup", "1",
            "--batch-size", "2", "--no-bf16"]
    r = run(args, checkpoint_dir)
    assert r.returncode == 0, r.stderr
    runs = tmp_path / "runs" / "hemingway"  # the default run folder ($INKHORN_RUNS/<model>), never checkpoints/
    from core.checkpoints import load_checkpoint

    tuned, base = load_checkpoint(runs / "hemingway.safetensors", "gpt"), load_checkpoint(checkpoint_dir /
                                                                                          "hemingway.safetensors")
    assert tuned.config["sources"] == ["t", "other"] and tuned.tokenizer == base.tokenizer
    assert tuned.config["vocab_size"] == base.config["vocab_size"] + 2
    assert (runs / "hemingway.resume.safetensors").exists()
    assert sorted(p.name for p in checkpoint_dir.iterdir()) == ["hemingway.safetensors"]
    # the run folder's resume file belongs to that run: a run writing another file of the name is refused
    r = run(args + ["--out", str(tmp_path / "hemingway.safetensors"), "--run-dir", str(runs)], checkpoint_dir)
    assert r.returncode == 2 and "belongs to the run that writes" in r.stderr and "--fresh" in r.stderr
    r = run(args + ["--run-dir", str(checkpoint_dir)], checkpoint_dir)
    assert r.returncode == 2 and "is the checkpoints folder" in r.stderr
    r = run(args + ["--no-source-tokens", "--tune", "sources", "--out", str(tmp_path / "t.safetensors")], checkpoint_dir)
    assert r.returncode == 2 and "--tune sources" in r.stderr and "needs --init and source tokens" in r.stderr
    # shipping into the checkpoints folder keeps the run's files in the run folder
    r = run(args + ["--fresh", "--out", str(checkpoint_dir / "shipped.safetensors")], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in checkpoint_dir.iterdir()) == ["hemingway.safetensors", "shipped.safetensors"]
    assert (runs / "shipped.resume.safetensors").exists()


def test_eval_reports_the_voice_next_to_bits_per_char(checkpoint_dir, tmp_path):
    text = tmp_path / "v.txt"
    text.write_text("We walked down the road in the rain. " * 20)
    r = run(["eval", "gpt", "--text", str(text), "--voice", "--voice-samples", "3", "--json"], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["voice"] == "hemingway" and result["voice_samples"] == 3 and 0 <= result["voice_share"] <= 1
    assert "bits_per_char" in result and min(result["judge_valid_accuracy"].values()) >= 0.98


def test_every_command_takes_threads():
    from core.cli.main import build_parser, leaf_parsers

    commands = list(leaf_parsers(build_parser()))
    assert len(commands) > 15  # generate, translate, info, average, every art / train / eval / bench subcommand
    for command in commands:
        assert "--threads" in command._option_string_actions, command.prog


def test_threads_come_from_the_flag_the_environment_or_the_policy(checkpoint_dir, monkeypatch, capsys):
    import torch

    from core.cli.main import main

    def bench_threads(*flags):
        assert main(["bench", "gpt", "--tokens", "2", "--json", *flags]) == 0
        return json.loads(capsys.readouterr().out)["threads"]

    before = torch.get_num_threads()
    try:
        assert bench_threads("--threads", "3") == 3
        monkeypatch.setenv("INKHORN_THREADS", "2")
        assert bench_threads() == 2
        monkeypatch.delenv("INKHORN_THREADS")
        assert bench_threads() == 1  # decoding: one thread, whatever torch's default
    finally:
        torch.set_num_threads(before)
    info = run(["info"], checkpoint_dir).stdout
    assert "threads    1 for decoding" in info and "load" in info


def test_bench_against_transformers(checkpoint_dir):
    r = run(["bench", "gpt", "--against", "transformers", "--tokens", "3", "--json"], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert [row["threads"] for row in result["runs"]] == [1, 2] and result["rounds"] == 5
    for row in result["runs"]:
        assert row["inkhorn_tokens_per_s"] > 0 and row["llama_tokens_per_s"] > 0 and row["gpt2_tokens_per_s"] > 0
        assert row["inkhorn_vs_llama"] == pytest.approx(row["inkhorn_tokens_per_s"] / row["llama_tokens_per_s"],
                                                        rel=0.02)
        assert row["tokens_per_run"] == "inkhorn 3 / llama 3 / gpt2 3"


def test_bench_against_transformers_without_it_says_so(checkpoint_dir, tmp_path):
    blocked = tmp_path / "blocked" / "transformers"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError(\"No module named 'transformers'\")\n")
    env = {**os.environ, "INKHORN_CHECKPOINTS": str(checkpoint_dir), "INKHORN_DEVICE": "cpu",
           "PYTHONPATH": os.pathsep.join([str(blocked.parent), os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-m", "core.cli", "bench", "gpt", "--against", "transformers", "--json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "transformers is not installed" in r.stderr and "skipped" in json.loads(r.stdout)


def test_bench_under_load(checkpoint_dir):
    r = run(["bench", "gpt", "--under-load", "--tokens", "6", "--json"], checkpoint_dir)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert [row["threads"] for row in result["runs"]] == [1, 2]  # the default for decoding, and two
    for row in result["runs"]:
        assert row["tokens_per_s"] > 0 and row["busy_tokens_per_s"] > 0
        assert row["slowdown"] == pytest.approx(row["tokens_per_s"] / row["busy_tokens_per_s"], rel=0.02)
