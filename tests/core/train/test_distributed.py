"""Training under DistributedDataParallel: gloo processes on the CPU, as torchrun starts them.

Two processes with half of a global batch each take the steps one process takes with the whole
batch; a two-process run killed after a checkpoint resumes on two processes or on one; only the
first process writes; checkpoints hold the model's own names.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from rich.console import Console
from safetensors.torch import load_file, save_file

from core.catalog import ROOT
from core.checkpoints import load_checkpoint, state_tensors
from core.models.dcgan import DCGANConfig
from core.models.gpt import GPTConfig
from core.models.lstm import LSTMConfig
from core.models.translator import TranslatorConfig
from core.models.vae import VAEConfig
from core.tokenizer import Tokenizer
from core.train.distributed import Shard, current_shard, from_main
from core.train.gan import GANTask, train_gan
from core.train.gpt import GPTData, GPTTask
from core.train.loop import TrainConfig, train
from core.train.lstm import LSTMData, LSTMTask
from core.train.pictures import ImageData
from core.train.translator import TranslatorData, TranslatorTask
from core.train.vae import VAETask

CPU = torch.device("cpu")


def quiet():
    return Console(quiet=True)


@dataclass
class Trainer:
    make: Callable  # tokenizer -> task, the same weights on every call
    cfg: TrainConfig


def gpt_trainer(folder: Path, text: str, steps: int = 8) -> Trainer:
    (folder / "train.txt").write_text(text * 3)
    (folder / "valid.txt").write_text(text[:400])
    (folder / "pre.txt").write_text("Anna and the prince spoke of the ball. " * 80)
    data = GPTData(train=str(folder / "train.txt"), valid=str(folder / "valid.txt"), pretrain=[str(folder / "pre.txt")],
                   vocab_size=300, batch_size=4)
    cfg = TrainConfig(max_steps=steps, eval_every=4, warmup_steps=2, lr=3e-3, bf16=False)

    def make(tokenizer):
        torch.manual_seed(0)
        return GPTTask(GPTConfig(vocab_size=1, block_size=16, n_layer=1, n_head=2, n_embd=32), data, cfg, CPU,
                       tokenizer)

    return Trainer(make, cfg)


def lstm_trainer(folder: Path, text: str) -> Trainer:
    (folder / "train.txt").write_text(text * 4)
    (folder / "valid.txt").write_text(text[:400])
    data = LSTMData(train=str(folder / "train.txt"), valid=str(folder / "valid.txt"), vocab_size=300, batch_size=4)
    cfg = TrainConfig(max_steps=8, eval_every=4, warmup_steps=2, lr=3e-3, bf16=False)

    def make(tokenizer):
        torch.manual_seed(0)
        return LSTMTask(LSTMConfig(vocab_size=1, n_embd=16, n_hidden=24, n_layer=2, bptt=8), data, cfg, CPU, tokenizer)

    return Trainer(make, cfg)


TINY_TRANSLATOR = dict(vocab_size=1, d_model=32, n_head=2, n_encoder_layer=1, n_decoder_layer=1, d_ff=64, max_len=48)


def translator_trainer(folder: Path, pairs: list[tuple[str, str]], write_pairs) -> Trainer:
    data = TranslatorData(train=str(write_pairs(folder / "train.tsv", pairs)),
                          valid=str(write_pairs(folder / "valid.tsv", pairs[::24])), vocab_size=320,
                          tokens_per_batch=200, max_sentences=1024, eval_sentences=4, label_smoothing=0.1)
    cfg = TrainConfig(max_steps=6, eval_every=3, warmup_steps=2, lr=3e-3, bf16=False)

    def make(tokenizer):
        torch.manual_seed(0)
        return TranslatorTask(TranslatorConfig(**TINY_TRANSLATOR), data, cfg, CPU, tokenizer)

    return Trainer(make, cfg)


@pytest.fixture
def trainers(tiny_text, template_pairs, write_pairs) -> dict[str, Callable[[Path], Trainer]]:
    """name -> (folder -> a Trainer of that model on tiny data written into the folder)."""
    return {"gpt": lambda folder, **kw: gpt_trainer(folder, tiny_text, **kw),
            "lstm": lambda folder: lstm_trainer(folder, tiny_text),
            "translator": lambda folder: translator_trainer(folder, template_pairs, write_pairs)}


def train_and_keep(trainer: Trainer, tokenizer: bytes, out: Path, die_at: int | None = None) -> None:
    """Train, then leave this rank's weights and the paths it saved checkpoints to in `out`. With `die_at`,
    the last rank is killed (SIGKILL) at that step."""
    task = trainer.make(Tokenizer(tokenizer))
    shard = current_shard()
    saves, real_save, real_loss = [], task.save, task.loss

    def save(path, summary):
        saves.append(Path(path).name)
        real_save(path, summary)

    def loss(step):
        if step == die_at and shard.rank == shard.world - 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_loss(step)

    task.save, task.loss = save, loss
    train(task, trainer.cfg, out / "m.safetensors", CPU, console=quiet())
    save_file(state_tensors(task.model), out / f"rank{shard.rank}.safetensors")
    (out / f"saves{shard.rank}.json").write_text(json.dumps(saves))


def tokenizer_for(trainer: Trainer) -> bytes:
    return trainer.make(None).tokenizer.model_bytes


# A key bias adds the same amount to every score of a query, which softmax cancels: its gradient is
# rounding noise, and Adam scales noise up to full-size steps, so those biases cannot be compared.
KEY_BIASES = (".k_proj.bias",)


def assert_same_weights(a: dict, b: dict, atol: float) -> None:
    assert a.keys() == b.keys()
    for name in (k for k in a if not k.endswith(KEY_BIASES)):
        assert torch.allclose(a[name], b[name], atol=atol), (name, (a[name] - b[name]).abs().max())


@pytest.mark.parametrize("name", ["gpt", "lstm", "translator"])
def test_two_processes_take_the_steps_of_one_with_the_same_global_batch(tmp_path, name, on_ranks, trainers):
    trainer = trainers[name](tmp_path)
    tokenizer = tokenizer_for(trainer)
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    train_and_keep(trainer, tokenizer, one)
    on_ranks(2, tmp_path, train_and_keep, trainer, tokenizer, two)

    single = load_file(one / "rank0.safetensors")
    start = state_tensors(trainer.make(Tokenizer(tokenizer)).model)
    moved = max((single[k] - start[k]).abs().max().item() for k in single)
    assert moved > 1e-2  # the steps moved the weights far more than the tolerance below
    for rank in (0, 1):
        assert_same_weights(load_file(two / f"rank{rank}.safetensors"), single, atol=1e-5)
    saved = {rank: json.loads((two / f"saves{rank}.json").read_text()) for rank in (0, 1)}
    assert saved[0] and saved[1] == []  # only the first process writes checkpoints
    ckpt = load_checkpoint(two / "m.safetensors")
    assert ckpt.tensors.keys() == single.keys()  # the model's names: no module. or _orig_mod. prefix
    resume = load_file(two / "m.resume.safetensors")
    assert {k[len("model."):] for k in resume if k.startswith("model.")} == set(single)


def test_a_killed_two_process_run_resumes_on_two_processes_or_on_one(tmp_path, on_ranks, trainers):
    trainer = trainers["gpt"](tmp_path, steps=12)
    tokenizer = tokenizer_for(trainer)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    straight.mkdir(), killed.mkdir()
    train_and_keep(trainer, tokenizer, straight)
    with pytest.raises((mp.ProcessExitedException, mp.ProcessRaisedException)):
        on_ranks(2, tmp_path, train_and_keep, trainer, tokenizer, killed, 6)
    assert not (killed / "rank0.safetensors").exists()
    resume = killed / "m.resume.safetensors"
    from safetensors import safe_open

    with safe_open(str(resume), framework="pt") as f:
        assert json.loads(f.metadata()["loop"])["step"] == 4  # the evaluation before the kill
    on_one = tmp_path / "on_one"
    shutil.copytree(killed, on_one)

    expected = load_file(straight / "rank0.safetensors")
    on_ranks(2, tmp_path, train_and_keep, trainer, tokenizer, killed)
    for rank in (0, 1):
        assert_same_weights(load_file(killed / f"rank{rank}.safetensors"), expected, atol=1e-5)
    train_and_keep(trainer, tokenizer, on_one)
    assert_same_weights(load_file(on_one / "rank0.safetensors"), expected, atol=1e-5)
    assert load_checkpoint(on_one / "m.safetensors").training["steps"] == 12


def test_each_process_reads_its_own_rows_of_the_global_batch(tmp_path, trainers):
    for name in ("gpt", "lstm"):
        folder = tmp_path / name
        folder.mkdir()
        task = trainers[name](folder).make(None)
        whole = task.batch(3)
        parts = []
        for rank in (0, 1):
            task.shard = Shard(rank, 2)
            parts.append(task.batch(3))
        for i in (0, 1):  # inputs and targets
            assert parts[0][i].shape[0] == whole[i].shape[0] // 2
            assert torch.equal(torch.cat([parts[0][i], parts[1][i]]), whole[i])


def test_translator_shares_weigh_rows_by_their_tokens(tmp_path, trainers):
    task = trainers["translator"](tmp_path).make(None)
    task.model.eval()  # no dropout, so the shares' losses add up exactly
    for step in range(3):
        whole, _ = task.loss(step)
        shares = []
        for rank in range(3):
            task.shard = Shard(rank, 3)
            shares.append(task.loss(step))
        task.shard = Shard()
        # DDP averages the three gradients: the mean of the shares' losses is the one-process loss
        assert sum(s[0] for s in shares).item() / 3 == pytest.approx(whole.item(), rel=1e-5)
        assert sum(s[1] for s in shares) == sum(task.batch(step)[2])


def test_shard_rows_split_evenly_or_refuse():
    assert [Shard(r, 2).rows(8) for r in (0, 1)] == [slice(0, 4), slice(4, 8)]
    assert [Shard(r, 3).share(7) for r in range(3)] == [slice(0, 2), slice(2, 4), slice(4, 7)]
    with pytest.raises(ValueError, match="a batch of 6 does not split evenly across 4 processes"):
        Shard(0, 4).rows(6)


def check_from_main(out: Path) -> None:
    got = from_main(lambda: f"made on rank {current_shard().rank}")
    (out / f"got{current_shard().rank}").write_text(got)


def test_from_main_hands_rank_zeros_result_to_every_rank(tmp_path, on_ranks):
    on_ranks(2, tmp_path, check_from_main, tmp_path)
    assert [(tmp_path / f"got{r}").read_text() for r in (0, 1)] == ["made on rank 0"] * 2


def train_pictures(kind: str, folder: Path) -> None:
    cfg = TrainConfig(max_steps=4, eval_every=2, log_every=2, warmup_steps=0, lr=2e-3, min_lr=2e-3,
                      weight_decay=0.0, bf16=False)
    torch.manual_seed(0)
    if kind == "gan":
        task = GANTask(DCGANConfig(image_size=16, latent_dim=8, g_channels=8, d_channels=8),
                       ImageData(str(folder / "data"), batch_size=8), cfg, CPU, folder / "run")
        train_gan(task, cfg, folder / "m.safetensors", CPU, console=quiet())
    else:
        task = VAETask(VAEConfig(image_size=16, base_channels=8, latent_dim=8),
                       ImageData(str(folder / "data"), batch_size=8), cfg, CPU, folder / "run")
        train(task, cfg, folder / "m.safetensors", CPU, console=quiet())
    params = {k: v.detach().contiguous() for k, v in task.model.named_parameters()}
    save_file(params, folder / f"rank{current_shard().rank}.safetensors")


@pytest.mark.parametrize("kind", ["vae", "gan"])
def test_picture_models_train_on_two_processes_and_only_the_first_writes(tmp_path, kind, on_ranks, write_faces, write_anime):
    (write_faces if kind == "vae" else write_anime)(tmp_path / "data")
    on_ranks(2, tmp_path, train_pictures, kind, tmp_path)
    a, b = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)  # DDP kept the ranks' weights identical
    ckpt = load_checkpoint(tmp_path / "m.safetensors", kind)
    expected = {k for k in a if not k.startswith("discriminator.")}
    expected = {k.removeprefix("generator.") for k in expected}
    assert expected <= set(ckpt.tensors) and not any(k.startswith(("module.", "_orig_mod.")) for k in ckpt.tensors)
    assert sorted(p.name for p in (tmp_path / "run").glob(f"{kind}-step*.png")) == \
        [f"{kind}-step000002.png", f"{kind}-step000004.png"]  # one grid per evaluation, not one per process
    points = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [p["step"] for p in points if p["split"] == "valid"] == [2, 4]


def test_gan_recalibration_reaches_synchronised_batch_norm():
    """On several GPUs the generator's batch norms are SyncBatchNorm layers; they are recalibrated too."""
    import copy

    from core.models.dcgan import Generator
    from core.train.gan import recalibrate_batchnorm

    torch.manual_seed(0)
    plain = Generator(DCGANConfig(image_size=16, latent_dim=8, g_channels=8, d_channels=8))
    synced = torch.nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(plain))
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in synced.modules())
    for g in (plain, synced):
        torch.manual_seed(1)
        recalibrate_batchnorm(g, 4, CPU)
    a, b = plain.state_dict(), synced.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_torchrun_trains_through_the_command_line_and_resumes_on_one_process(tmp_path, capsys, tiny_text):
    (tmp_path / "t.txt").write_text(tiny_text * 4)
    (tmp_path / "v.txt").write_text(tiny_text[:400])
    out = tmp_path / "runs" / "anna.safetensors"
    flags = ["train", "lstm", "--data", str(tmp_path / "t.txt"), "--valid", str(tmp_path / "v.txt"),
             "--vocab-size", "300", "--n-layer", "1", "--n-embd", "16", "--n-hidden", "16", "--bptt", "8",
             "--batch-size", "4", "--eval-every", "2", "--warmup", "1", "--no-bf16", "--device", "cpu",
             "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                        "-m", "core.cli", *flags, "--steps", "4"], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    devices = [line for line in r.stderr.splitlines() if line.startswith("device:")]
    assert len(devices) == 1 and "rank 0 of 2 processes" in devices[0]  # one process speaks
    first = load_checkpoint(out, "lstm")
    assert first.training["steps"] == 4
    from core.cli.main import main

    assert main([*flags, "--steps", "6"]) == 0  # one process, here
    assert "resuming from step 4" in capsys.readouterr().err
    assert load_checkpoint(out, "lstm").training["steps"] == 6


def test_compile_is_refused_off_cuda(tmp_path, capsys):
    from core.cli.main import main

    assert main(["train", "lstm", "--compile", "--device", "cpu", "--out", str(tmp_path / "m.safetensors")]) == 2
    assert "--compile is for training on a CUDA GPU" in capsys.readouterr().err
