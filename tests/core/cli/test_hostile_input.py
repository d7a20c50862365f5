"""Hostile input against the commands: escape injection, bad bytes and values, files in the way, full disks,
Ctrl+C. Each ends in clean output or one clear line and the right exit code, never a traceback.

Most cases call core.cli.main in-process (it parses and runs exactly as the script does); those that need a
real terminal, a real signal or a real OS limit run `python -m core.cli` as a subprocess.
"""
import io
import os
import pty
import signal
import subprocess
import sys
import time

import pytest
import torch

from core.checkpoints import Checkpoint, save_checkpoint, state_tensors
from core.cli.main import main
from core.models.gpt import GPT

TITLE = "x\x1b]2;TITLE\x07"  # sets the terminal's title where it reaches a terminal


def cli(args, env=None, **kw):
    env = {**os.environ, "INKHORN_DEVICE": "cpu", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "core.cli", *args], capture_output=True, env=env, timeout=180, **kw)


def stdin_bytes(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# ----- escape sequences -----------------------------------------------------------------------------
def test_an_escape_in_the_prompt_never_reaches_stdout_unless_raw_is_asked_for(checkpoint_dir):
    plain = cli(["generate", TITLE, "-n", "1", "--seed", "1"])
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith(b"x") and b"\x1b" not in plain.stdout and b"\x07" not in plain.stdout
    assert b"removed 10 control character(s)" in plain.stderr and b"\x1b" not in plain.stderr
    raw = cli(["generate", TITLE, "-n", "1", "--seed", "1", "--raw"])  # stdout is a pipe here
    assert raw.returncode == 0 and raw.stdout.startswith(TITLE.encode())


def test_on_a_terminal_raw_is_refused_with_a_note(checkpoint_dir):
    leader, follower = pty.openpty()
    env = {**os.environ, "INKHORN_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "core.cli", "generate", TITLE, "-n", "1", "--raw"], stdout=follower,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    proc.wait(timeout=180)
    os.close(leader)
    assert proc.returncode == 0 and shown.startswith(b"x") and b"\x1b" not in shown
    assert b"--raw is for a pipe or a file" in proc.stderr.read()


def escape_writer(tokenizer) -> GPT:
    """A GPT whose greedy output is ESC ] 2 ; T BEL: its blocks do nothing and each position's embedding
    points at the token to write there, so the logits pick it."""
    torch.manual_seed(0)
    from core.models.gpt import GPTConfig

    gpt = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=32))
    sequence = [tokenizer.sp.piece_to_id(p) for p in ("<0x1B>", "<0x5D>", "<0x32>", "<0x3B>", "T", "<0x07>")]
    with torch.no_grad():
        for name, p in gpt.named_parameters():
            if "c_proj" in name or name.startswith("transformer.w"):
                p.zero_()
        for dim, token in enumerate(sequence):
            gpt.transformer.wte.weight[token, dim] = 1.0
            gpt.transformer.wpe.weight[dim, dim] = 10.0
    return gpt


def test_a_crafted_model_that_writes_escape_sequences_is_filtered(tmp_path, tiny_tokenizer, capsys):
    gpt = escape_writer(tiny_tokenizer)
    path = save_checkpoint(tmp_path / "evil.safetensors", Checkpoint("gpt", gpt.config.to_dict(), state_tensors(gpt),
                                                                     tokenizer=tiny_tokenizer.model_bytes), dtype=None)
    args = ["generate", "", "--model", str(path), "-n", "6", "-t", "0", "--no-prompt", "--device", "cpu"]
    assert main(args + ["--raw"]) == 0
    assert capsys.readouterr().out == "\x1b]2;T\x07\n"  # it really writes the sequence
    assert main(args) == 0
    assert capsys.readouterr().out == "\n"


def test_translate_output_is_filtered(checkpoint_dir, save_translator, capsys, monkeypatch):
    from core.translate.translator import EnFrTranslator

    save_translator(checkpoint_dir / "en-fr.safetensors")
    real = EnFrTranslator.translate

    def hostile(self, texts, **kw):  # the model's text as a crafted checkpoint could make it
        results = real(self, texts, **kw)
        for r in results:
            r.text = "\u202eJe\x1b]0;pwned\x07 vois\x1b[2J le chat."
        return results

    monkeypatch.setattr(EnFrTranslator, "translate", hostile)
    assert main(["translate", "I see the cat.", "--no-language-check"]) == 0
    assert capsys.readouterr().out == "Je vois le chat.\n"


# ----- bytes and values -----------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["hemingway", "anna"])
def test_invalid_utf8_on_stdin_is_replaced_with_a_note(anna_checkpoint, monkeypatch, capsys, model):
    stdin_bytes(monkeypatch, b"We walked \xff\xfe down\xc3")
    assert main(["generate", "--model", model, "-n", "3", "--no-prompt"]) == 0
    assert "3 invalid byte sequence(s) replaced" in capsys.readouterr().err


def test_invalid_utf8_in_the_argument_and_on_stdin_of_translate(checkpoint_dir, save_translator, monkeypatch, capsys):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    stdin_bytes(monkeypatch, b"I see the cat.\xff\nWe want the dog.\n")
    assert main(["translate", "--no-language-check"]) == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 2 and "1 invalid byte sequence(s) replaced" in out.err
    argument = b"I see the \xff cat.".decode("utf-8", "surrogateescape")
    assert main(["translate", argument, "--no-language-check"]) == 0
    assert "invalid byte sequence" in capsys.readouterr().err


@pytest.mark.parametrize("flags, message", [
    (["-t", "nan"], "temperature must be a finite number, not nan"),
    (["-t", "inf"], "temperature must be a finite number"),
    (["-t", "1e-300"], "temperature must be 0 (greedy) or at least 0.01"),
    (["--repetition-penalty", "nan"], "repetition penalty must be a finite number"),
    (["--repetition-penalty", "1e-300"], "repetition penalty must be between 0.1 and 10"),
    (["--top-p", "nan"], "top-p must be a finite number"),
    (["--min-p=-inf"], "min-p must be a finite number"),
    (["--seed", str(2**64)], "seed must be between 0 and 4,294,967,295, not 18,446,744,073,709,551,616"),
    (["--seed", "-1"], "seed must be between 0 and 4,294,967,295, not -1"),
    (["-n", str(10**9)], "max new tokens must be between 0 and 20,000"),
])
def test_bad_sampler_values_get_plain_messages(checkpoint_dir, capsys, flags, message):
    assert main(["generate", "hi", *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and len(err.splitlines()) == 1


@pytest.mark.parametrize("flags, message", [
    (["--batch-size", "0"], "batch size must be between 1 and 1,024, not 0"),
    (["--beam", "0"], "beam must be between 1 and 64, not 0"),
    (["--beam", "100000"], "beam must be between 1 and 64, not 100,000"),
    (["--length-penalty", "nan"], "length penalty must be a finite number, not nan"),
    (["--length-penalty", "inf"], "length penalty must be a finite number, not inf"),
])
def test_bad_decoding_values_get_plain_messages_before_anything_loads(tmp_path, monkeypatch, capsys, flags, message):
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(tmp_path))  # no translator here: the check comes first
    assert main(["translate", "I see the cat.", *flags]) == 2
    assert capsys.readouterr().err == f"error: {message}\n"


# ----- files ----------------------------------------------------------------------------------------
def test_attention_never_follows_a_link_or_replaces_a_png_without_force(checkpoint_dir, save_translator, tmp_path,
                                                                        capsys):
    save_translator(checkpoint_dir / "en-fr.safetensors")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "link.png"
    link.symlink_to(victim)
    existing = tmp_path / "att.png"
    existing.write_bytes(b"an earlier picture")
    args = ["translate", "I see the cat.", "--no-language-check", "--attention"]
    assert main(args + [str(link)]) == 1 and "symbolic link" in capsys.readouterr().err
    assert main(args + [str(link), "--force"]) == 1 and victim.read_text() == "precious"
    assert main(args + [str(existing)]) == 2 and "--force" in capsys.readouterr().err
    assert existing.read_bytes() == b"an earlier picture"
    assert main(args + [str(existing), "--force"]) == 0 and existing.read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp left


@pytest.fixture()
def art_env(tmp_path, monkeypatch, write_vae_checkpoint):
    write_vae_checkpoint(tmp_path / "checkpoints")
    monkeypatch.setenv("INKHORN_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    return tmp_path


def test_an_output_folder_that_is_a_file_or_read_only(art_env, monkeypatch, capsys):
    a_file = art_env / "outputs"
    a_file.write_text("not a folder")
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(a_file))
    assert main(["art", "vae", "sample", "-n", "1"]) == 2
    assert capsys.readouterr().err == f"error: {a_file}: it is a file, not a folder: choose another folder\n"
    import errno

    import core.files

    real_open = os.open

    def read_only(path, *a, **k):
        if str(path).startswith(str(art_env / "ro")):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(core.files.os, "open", read_only)
    (art_env / "ro").mkdir()
    assert main(["art", "vae", "sample", "-n", "1", "--out", str(art_env / "ro")]) == 1
    err = capsys.readouterr().err
    assert "Read-only file system (the folder is read-only: choose another" in err and len(err.splitlines()) == 1


def test_a_write_the_system_refuses_ends_in_one_line_and_leaves_nothing(art_env):
    """A real refusal by the OS: a file-size limit makes the PNG write fail as a full disk would."""
    import resource

    out = art_env / "outputs"
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))  # noqa: E731
    r = cli(["art", "vae", "sample", "-n", "4", "--out", str(out)], preexec_fn=limit)
    assert r.returncode == 1 and b"Traceback" not in r.stderr
    assert r.stderr.startswith(b"error: ") and b"larger than this system lets a process write" in r.stderr
    assert list(out.iterdir()) == []  # neither a truncated PNG nor a temp file


def test_info_lists_every_file_past_a_dangling_link_and_a_broken_summary(checkpoint_dir, tiny_gpt, tiny_tokenizer,
                                                                         capsys):
    (checkpoint_dir / "gone.safetensors").symlink_to(checkpoint_dir / "nowhere.safetensors")
    save_checkpoint(checkpoint_dir / "odd.safetensors", Checkpoint("gpt", tiny_gpt.config.to_dict(),
                                                                   state_tensors(tiny_gpt), tiny_tokenizer.model_bytes,
                                                                   training={"valid": [1, 2]}))
    (checkpoint_dir / "zzz\x1b]2;x\x07.safetensors").write_bytes(b"junk")
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "gone.safetensors" in out and "dangling symbolic link" in out
    assert "odd.safetensors" in out and "training summary is damaged" in out
    assert "hemingway.safetensors" in out and "zzz.safetensors" in out and "\x1b" not in out


# ----- art bounds -----------------------------------------------------------------------------------
def test_counts_are_capped_with_a_note_and_lists_are_refused(art_env, capsys, tmp_path):
    out = ["--out", str(tmp_path / "outputs")]
    assert main(["art", "vae", "sample", "-n", "1000", *out]) == 0
    assert "note: -n capped at 256 (asked for 1,000)" in capsys.readouterr().err
    terms = " + ".join(["men_glasses", "women_glasses"] * 1000)
    assert main(["art", "vae", "arithmetic", terms, *out]) == 2
    assert "2,000 terms and would draw 2,001 pictures; at most 256" in capsys.readouterr().err
    from PIL import Image

    face = tmp_path / "face.png"
    Image.new("RGB", (20, 20)).save(face)
    assert main(["art", "vae", "reconstruct", *[str(face)] * 3000, *out]) == 2
    assert "3,000 pictures to reconstruct would draw 6,000" in capsys.readouterr().err
    assert main(["art", "vae", "arithmetic", "men_glasses - women_glasses + women_noglasses", "--strength", "nan",
                 *out]) == 2
    assert "arithmetic strength must be a finite number" in capsys.readouterr().err


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size: its header and an end, no pixels (enough for a reader that checks first)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_a_picture_too_big_to_read_is_refused_from_its_header(art_env, capsys, tmp_path):
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header(6000, 5000))
    assert main(["art", "vae", "reconstruct", str(huge), "--out", str(tmp_path / "outputs")]) == 2
    assert "it is 6,000×5,000 pixels; pictures of up to 25 megapixels are read" in capsys.readouterr().err


READ_BIG_JPEG = """
import resource, sys
from core.art.images import read_image_file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
picture = read_image_file(sys.argv[1], 64)
print(tuple(picture.shape), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_big_jpeg_is_read_at_a_reduced_scale_in_bounded_memory(tmp_path):
    from PIL import Image

    path = tmp_path / "big.jpg"
    Image.new("RGB", (6000, 4000), (200, 120, 40)).save(path, quality=90)  # 24 megapixels: 72 MB decoded
    r = subprocess.run([sys.executable, "-c", READ_BIG_JPEG, str(path)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    shape, grew_mb = r.stdout.rsplit(" ", 1)
    assert shape == "(3, 64, 64)" and int(grew_mb) < 30, r.stdout


# ----- Ctrl+C ---------------------------------------------------------------------------------------
def test_ctrl_c_while_a_model_loads_exits_130(checkpoint_dir, monkeypatch, capsys):
    import core.text.lm

    def loading(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(core.text.lm, "load_model", loading)
    assert main(["generate", "hi"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def _read_stderr(proc, seen: bytes, timeout: float, until: bytes | None = None) -> bytes:
    """`seen` and what proc writes to its (non-blocking) stderr until it exits, `until` shows, or `timeout` s pass."""
    deadline = time.monotonic() + timeout
    while (until is None or until not in seen) and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stderr.read() or b""
        time.sleep(0.05)
    return seen


def _interrupt_when(proc, marker: bytes, timeout: float = 120) -> bytes:
    """Read proc's stderr until `marker` shows, then send SIGINT; return everything it wrote."""
    os.set_blocking(proc.stderr.fileno(), False)
    seen = _read_stderr(proc, b"", timeout, until=marker)
    proc.send_signal(signal.SIGINT)
    seen = _read_stderr(proc, seen, 60)  # read on while it winds down: a full pipe would stall it
    if proc.poll() is None:
        proc.kill()
        raise AssertionError(f"still running 60 s after Ctrl+C; it wrote: {seen[-2000:]!r}")
    os.set_blocking(proc.stderr.fileno(), True)
    return seen + proc.stderr.read()


def _popen(args):
    env = {**os.environ, "INKHORN_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}
    # Ctrl+C as a terminal delivers it, also when the tests run in a background job (whose SIGINT is ignored)
    return subprocess.Popen([sys.executable, "-m", "core.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_ctrl_c_during_training_exits_130_with_one_line(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("Anna and the prince spoke of the ball at length. " * 200)
    proc = _popen(["train", "lstm", "--data", str(text), "--valid", str(text), "--steps", "100000",
                   "--eval-every", "100000", "--vocab-size", "300", "--n-layer", "1", "--n-embd", "16",
                   "--n-hidden", "16", "--bptt", "8", "--batch-size", "2", "--no-bf16", "--out",
                   str(tmp_path / "run" / "anna.safetensors")])
    err = _interrupt_when(proc, b"model:")
    assert proc.returncode == 130 and b"Traceback" not in err
    assert err.rstrip().endswith(b"interrupted; the run resumes from its last evaluation with the same command")


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_ctrl_c_while_the_command_starts_exits_130(checkpoint_dir, delay):
    """Importing torch, loading the model or writing: wherever the interrupt lands, no traceback, status 130,
    and one line that says so ("interrupted" before the command runs, "stopped" once text is written). The
    generation is long enough to be still running at the last delay on a fast machine."""
    proc = _popen(["generate", "hi", "-n", "20000"])
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    err = proc.stderr.read()
    assert proc.returncode == 130 and b"Traceback" not in err
    assert b"interrupted" in err or b" stopped]" in err
