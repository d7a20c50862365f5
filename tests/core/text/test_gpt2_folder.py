"""A local GPT-2-family folder as a model to write with: loaded through the core loader and
`inkhorn generate --model DIR`, checked against transformers on the same folder."""
import json
import os
import subprocess
import sys
import threading

import pytest
import torch

from core.checkpoints import CheckpointError
from core.text.generate import Step, stream
from core.text.gpt2_tokenizer import GPT2Tokenizer
from core.text.lm import load_language_model
from core.text.sampling import SamplerSettings

pytest.importorskip("transformers")

PROMPT = "Café, naïve “Où est” the sun"


@pytest.fixture(scope="module")
def folders(tmp_path_factory, write_gpt2_folder):
    """Both forms of a folder: tokenizer.json + model.safetensors, and vocab.json + merges.txt +
    pytorch_model.bin; with the transformers model each holds."""
    root = tmp_path_factory.mktemp("gpt2")
    return {form: (root / form, write_gpt2_folder(root / form, *form.split(":")))
            for form in ("tokenizer.json:safetensors", "vocab+merges:bin")}


@pytest.mark.parametrize("form", ["tokenizer.json:safetensors", "vocab+merges:bin"])
def test_loaded_folder_gives_transformers_ids_and_logits(folders, form, hf_tokenizer):
    folder, hf = folders[form]
    lm = load_language_model(str(folder), "cpu")
    assert lm.kind == "gpt" and lm.voice is None and lm.prefix() == []  # no source tokens in a GPT-2
    reference = hf_tokenizer(folder)
    text = PROMPT + "<|endoftext|>Über straße."
    ids = lm.tokenizer.encode(text)
    assert ids == reference(text)["input_ids"]
    assert lm.tokenizer.decode(ids) == reference.decode(ids) == text
    x = torch.tensor([ids])
    with torch.no_grad():
        expected = hf(x).logits[0]
        got = lm.model(x)[0][0]
        decoder = lm.decoder()  # what streaming reads: the prompt, then one token at a time on the KV cache
        first = decoder.prefill(ids[:-3])
        steps = [decoder.advance(t) for t in ids[-3:-1]]
    assert torch.allclose(got, expected, atol=1e-5), (got - expected).abs().max()
    for i, logits in enumerate([first, *steps]):
        assert torch.allclose(logits, expected[len(ids) - 4 + i], atol=1e-5)


def greedy_reference(hf, ids: list[int], n: int) -> list[int]:
    """Greedy decoding by transformers' forward pass over the whole sequence at every step."""
    seq = list(ids)
    with torch.no_grad():
        for _ in range(n):
            seq.append(int(hf(torch.tensor([seq])).logits[0, -1].argmax()))
    return seq[len(ids):]


def test_generate_command_on_a_folder_writes_transformers_greedy_text(folders, hf_tokenizer):
    folder, hf = folders["tokenizer.json:safetensors"]
    reference = hf_tokenizer(folder)
    expected = greedy_reference(hf, reference(PROMPT)["input_ids"], 24)
    env = {**os.environ, "INKHORN_DEVICE": "cpu"}
    r = subprocess.run([sys.executable, "-m", "core.cli", "generate", "--model", str(folder), PROMPT, "-t", "0",
                        "-n", "24", "--no-prompt"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == reference.decode(expected) + "\n"
    assert f"[{folder.name} · seed" in r.stderr and "24 tokens" in r.stderr


def test_streaming_holds_back_half_a_character(folders):
    """Byte-level tokens may split a character: the stream writes it once it is whole, never U+FFFD."""
    tokenizer = GPT2Tokenizer.from_folder(folders["tokenizer.json:safetensors"][0])
    text = " naïve “Où” ça"
    forced = tokenizer.encode(text)
    assert any(tokenizer.decode(forced[:i]).endswith("\ufffd") for i in range(1, len(forced)))

    class Replay:  # a decoder whose every next token is the next one of `forced`
        def __init__(self):
            self.i = 0

        def _logits(self):
            logits = torch.full((tokenizer.vocab_size,), -1e9)
            logits[forced[self.i]] = 0.0
            return logits

        def prefill(self, ids):
            return self._logits()

        def advance(self, token):
            self.i += 1
            return self._logits()

    steps: list[Step] = list(stream(Replay(), tokenizer, "The", SamplerSettings(temperature=0, max_new_tokens=len(
        forced)), threading.Event()))
    assert [s.token for s in steps] == forced
    assert "".join(s.text for s in steps) == text
    assert all("\ufffd" not in s.text for s in steps) and "" in [s.text for s in steps]
    half = next(s for s in steps if s.text == "")
    assert "<0x" in tokenizer.piece(half.token)  # the probability view shows the byte, as SentencePiece does


def test_folder_name_and_eval_through_the_command_line(folders, tmp_path, capsys):
    from core.cli.main import main

    folder = folders["vocab+merges:bin"][0]
    text = tmp_path / "v.txt"
    text.write_text("Café, naïve déjà vu.\n\nThe sun also rises.")
    assert main(["eval", "gpt", "--checkpoint", str(folder), "--text", str(text), "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["chars"] == len(text.read_text()) and result["bits_per_char"] > 0


def broken(folder, tmp_path, how: str):
    """A copy of `folder` damaged as `how` says."""
    import shutil

    target = tmp_path / how
    shutil.copytree(folder, target)
    if how == "no-config":
        (target / "config.json").unlink()
    elif how == "bad-config":
        (target / "config.json").write_text("{not json")
    elif how == "bert":
        config = json.loads((target / "config.json").read_text())
        (target / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    elif how == "no-weights":
        (target / "model.safetensors").unlink()
    elif how == "truncated-weights":
        data = (target / "model.safetensors").read_bytes()
        (target / "model.safetensors").write_bytes(data[:len(data) // 2])
    elif how == "no-tokenizer":
        (target / "tokenizer.json").unlink()
    elif how == "bad-tokenizer":
        (target / "tokenizer.json").write_text("[1, 2")
    elif how == "config-disagrees":
        config = json.loads((target / "config.json").read_text())
        config["vocab_size"] += 5
        (target / "config.json").write_text(json.dumps(config))
    elif how == "other-tokenizer":
        from tokenizers import ByteLevelBPETokenizer

        other = ByteLevelBPETokenizer()
        other.train_from_iterator(["some other text entirely"] * 5, vocab_size=270, show_progress=False)
        other.save(str(target / "tokenizer.json"))
    return target


@pytest.mark.parametrize("how, message", [
    ("no-config", "has no config.json"),
    ("bad-config", "is not readable JSON"),
    ("bert", "holds a 'bert' model; only GPT-2-family folders"),
    ("no-weights", "neither model.safetensors nor pytorch_model.bin"),
    ("truncated-weights", "not a readable safetensors file"),
    ("no-tokenizer", "has no tokenizer: it needs tokenizer.json, or vocab.json and merges.txt"),
    ("bad-tokenizer", "cannot read the tokenizer"),
    ("config-disagrees", "its config implies"),
    ("other-tokenizer", "the tokenizer has 270 tokens, the model 320; they are not one model's"),
])
def test_broken_folders_are_explained(folders, tmp_path, capsys, how, message):
    from core.cli.main import main

    target = broken(folders["tokenizer.json:safetensors"][0], tmp_path, how)
    assert main(["generate", "--model", str(target), "hi", "-n", "2", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_a_pickled_object_in_pytorch_model_bin_is_refused(folders, tmp_path, capsys):
    """weights_only=True: a .bin holding more than tensors is not unpickled."""
    from core.cli.main import main

    target = broken(folders["vocab+merges:bin"][0], tmp_path, "unchanged")
    torch.save({"payload": threading.Event}, target / "pytorch_model.bin")
    assert main(["generate", "--model", str(target), "hi", "-n", "2", "--device", "cpu"]) == 2
    assert "not a readable torch state dict" in capsys.readouterr().err


def test_tokenizer_of_another_kind_is_refused(tmp_path):
    from tokenizers import Tokenizer, models

    Tokenizer(models.WordLevel({"a": 0, "[UNK]": 1}, unk_token="[UNK]")).save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(CheckpointError, match="not GPT-2's byte-level BPE"):
        GPT2Tokenizer.from_folder(tmp_path)
