"""`inkhorn translate`, `eval translator`, `bench translator` end to end, as subprocesses, on a tiny checkpoint."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(args, folder, stdin=None):
    env = {**os.environ, "INKHORN_CHECKPOINTS": str(folder), "INKHORN_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, save_translator):
    folder = tmp_path_factory.mktemp("checkpoints")
    save_translator(folder / "en-fr.safetensors")
    return folder


def test_translate_one_sentence_with_beam_and_greedy(folder, tmp_path):
    r = run(["translate", "They want the small house.", "--attention", str(tmp_path / "a.png")], folder)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Ils veulent la petite maison.\n"
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG" and "attention:" in r.stderr
    r = run(["translate", "--beam", "1", "I see the cat."], folder)
    assert r.returncode == 0 and r.stdout == "Je vois le chat.\n"


def test_translate_lines_on_stdin_keeps_every_line_and_explains(folder):
    lines = ["I see the cat.", "", "We take\x07 the car.", "I see the cat and " * 30, "You find the apple."]
    r = run(["translate", "--batch-size", "2"], folder, stdin="\n".join(lines) + "\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout.split("\n")[:-1]
    assert len(out) == 5
    assert out[0] == "Je vois le chat." and out[1] == "" and out[2] == "Nous prenons la voiture."
    assert out[4] == "Vous trouvez la pomme."
    assert "line 2: empty line" in r.stderr and "line 3: removed 1 control character" in r.stderr
    assert "line 4: a sentence is" in r.stderr and "reads only the first 47" in r.stderr


def test_a_paragraph_keeps_its_lines_and_other_languages_are_flagged(folder):
    r = run(["translate", "I see the cat. You find the apple.\nWe take the car."], folder)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Je vois le chat. Vous trouvez la pomme.\nNous prenons la voiture.\n"
    r = run(["translate", "Wie geht es dir heute?"], folder)
    assert r.returncode == 0 and r.stdout.strip()  # a warning, and still a translation
    assert "looks like German" in r.stderr and "translated anyway" in r.stderr
    r = run(["translate", "--no-language-check", "Wie geht es dir heute?"], folder)
    assert r.returncode == 0 and "looks like" not in r.stderr


def test_bad_invocations_say_what_is_wrong(folder, tmp_path, checkpoint_dir):
    r = run(["translate", "hello"], tmp_path)
    assert r.returncode == 2 and "No checkpoint" in r.stderr and "inkhorn train translator" in r.stderr
    (tmp_path / "en-fr.safetensors").write_bytes(b"not a checkpoint at all")
    r = run(["translate", "hello"], tmp_path)
    assert r.returncode == 2 and "corrupt" in r.stderr and "Traceback" not in r.stderr
    r = run(["translate", "--checkpoint", str(checkpoint_dir / "hemingway.safetensors"), "hello"], folder)
    assert r.returncode == 2 and "not a 'translator' model" in r.stderr
    r = run(["translate"], folder, stdin="")
    assert r.returncode == 2 and "stdin was empty" in r.stderr


def test_eval_groups_references_and_prints_json(folder, tmp_path, template_pairs, write_pairs):
    pairs = template_pairs[:10] + [("I see the cat.", "Je regarde le chat.")]
    path = write_pairs(tmp_path / "pairs.tsv", pairs)
    r = run(["eval", "translator", "--pairs", str(path), "--beam", "2", "--json"], folder)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["sources"] == 10 and result["references"] == 11 and result["beam"] == 2
    assert result["bleu"] > 50 and result["chrf"] > 50
    r = run(["eval", "translator", "--pairs", str(path), "--beam", "1", "--robust", "--json"], folder)
    assert r.returncode == 0, r.stderr
    robust = json.loads(r.stdout)
    assert {"bleu_as_written", "bleu_unpunctuated", "bleu_paragraphs", "bleu_one_by_one", "paragraph_gap"} <= \
        set(robust) and robust["paragraphs"] == 3


def test_bench_json(folder):
    r = run(["bench", "translator", "--sentences", "4", "--json"], folder)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["sentences"] == 4
    for key in ("batched_beam4_sentences_per_s", "one_by_one_beam4_sentences_per_s",
                "batched_greedy_sentences_per_s", "one_by_one_greedy_sentences_per_s"):
        assert result[key] > 0


def test_train_help_names_the_flags(tmp_path):
    r = run(["train", "translator", "--help"], tmp_path)
    assert r.returncode == 0
    for flag in ("--data", "--valid", "--out", "--d-model", "--vocab-size", "--label-smoothing",
                 "--tokens-per-batch", "--steps", "--no-bf16"):
        assert flag in r.stdout
