import pytest
import torch
from rich.console import Console

from core.checkpoints import load_checkpoint
from core.models.gpt import GPTConfig
from core.tokenizer import Tokenizer
from core.train.gpt import GPTData, GPTTask
from core.train.loop import TrainConfig, lr_at, resume_tokenizer, train

TEXT = ("The sun also rises over the river and the hills. We walked down the road in the rain. " * 60 + "\n\n") * 3


@pytest.fixture()
def data(tmp_path):
    (tmp_path / "train.txt").write_text(TEXT)
    (tmp_path / "valid.txt").write_text("We walked down the road by the river in the sun.\n\n" * 5)
    (tmp_path / "pre.txt").write_text("Anna and the prince spoke of the ball. " * 80)
    return GPTData(train=str(tmp_path / "train.txt"), valid=str(tmp_path / "valid.txt"),
                   pretrain=[str(tmp_path / "pre.txt")], vocab_size=300, batch_size=4)


def make_task(data, cfg, tokenizer=None):
    torch.manual_seed(0)
    return GPTTask(GPTConfig(vocab_size=1, block_size=16, n_layer=1, n_head=2, n_embd=32, dropout=0.1), data, cfg,
                   torch.device("cpu"), tokenizer)


def quiet():
    return Console(quiet=True)


def test_schedule_warms_up_then_decays():
    cfg = TrainConfig(max_steps=100, lr=1e-3, min_lr=1e-4, warmup_steps=10)
    lrs = [lr_at(s, cfg) for s in range(100)]
    assert lrs[0] < lrs[5] < lrs[9] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.01)


def test_training_lowers_valid_loss_and_writes_best_checkpoint(tmp_path, data):
    cfg = TrainConfig(max_steps=60, eval_every=20, warmup_steps=5, lr=3e-3, bf16=False)
    task = make_task(data, cfg)
    out = tmp_path / "gpt.safetensors"
    before = task.evaluate()["metric"]
    result = train(task, cfg, out, torch.device("cpu"), console=quiet())
    assert result["best_valid"] < before
    ckpt = load_checkpoint(out, "gpt")
    assert ckpt.training["best_valid"] == pytest.approx(result["best_valid"])
    assert ckpt.training["data"]["pretrain"] == ["pre.txt"]
    assert (tmp_path / "gpt.resume.safetensors").exists()
    assert not list(tmp_path.glob("gpt.step*"))  # snapshots only when asked


def test_snapshots_keep_the_weights_of_every_evaluation(tmp_path, data):
    cfg = TrainConfig(max_steps=30, eval_every=10, warmup_steps=5, lr=3e-3, bf16=False, snapshots=True)
    task = make_task(data, cfg)
    out = tmp_path / "gpt.safetensors"
    train(task, cfg, out, torch.device("cpu"), console=quiet())
    snaps = sorted(tmp_path.glob("gpt.step*.safetensors"))
    assert [p.name for p in snaps] == [f"gpt.step0000{n}0.safetensors" for n in (1, 2, 3)]
    last = load_checkpoint(snaps[-1], "gpt")
    assert last.training["steps"] == 30
    weights = task.model.state_dict()
    assert all(torch.equal(t, weights[name].half()) for name, t in last.tensors.items())
    first = load_checkpoint(snaps[0], "gpt")
    assert any(not torch.equal(t, first.tensors[name]) for name, t in last.tensors.items())


def test_each_pretraining_text_is_mixed_in_only_early(tmp_path, data):
    (tmp_path / "pairs.tsv").write_text("".join(f"Zebras yawn {i}.\tLes zèbres bâillent {i}.\n" for i in range(60)))
    data.pretrain.append(str(tmp_path / "pairs.tsv"))
    data.pretrain_frac = 0.5
    task = make_task(data, TrainConfig(max_steps=10))
    hemingway = set(task.train_ids.tolist())
    only = [set(ids.tolist()) - hemingway - set(other.tolist())
            for ids, other in zip(task.pre_ids, task.pre_ids[::-1])]
    early, late = set(task.batch(0)[0].flatten().tolist()), set(task.batch(9)[0].flatten().tolist())
    assert all(early & tokens for tokens in only)  # both pre-training texts, half the batch between them
    assert not any(late & tokens for tokens in only)
    assert task.batch(0)[0].shape == task.batch(9)[0].shape == (4, 16)


def test_pretraining_on_pairs_reads_their_english_side_once(tmp_path):
    from core.corpus import read_prose

    (tmp_path / "pairs.tsv").write_text("Go.\tVa !\nGo.\tMarche.\nWho?\tQui ?\nRun!\tCours !\n")
    prose = read_prose(tmp_path / "pairs.tsv")
    assert sorted(prose.strip().split("\n\n")) == ["Go.", "Run!", "Who?"]
    assert "Va" not in prose and prose == read_prose(tmp_path / "pairs.tsv")


class Killed(Exception):
    pass


def test_resume_after_a_kill_matches_an_uninterrupted_run(tmp_path, data):
    cfg = TrainConfig(max_steps=12, eval_every=4, warmup_steps=2, bf16=False)
    straight = make_task(data, cfg)
    train(straight, cfg, tmp_path / "a" / "m.safetensors", torch.device("cpu"), console=quiet())

    victim = make_task(data, cfg)
    real_loss = victim.loss

    def dies_at_step_6(step):
        if step == 6:
            raise Killed
        return real_loss(step)

    victim.loss = dies_at_step_6
    out = tmp_path / "b" / "m.safetensors"
    with pytest.raises(Killed):
        train(victim, cfg, out, torch.device("cpu"), console=quiet())
    saved = resume_tokenizer(out)
    assert saved == victim.tokenizer.model_bytes
    resumed = make_task(data, cfg, Tokenizer(saved))
    train(resumed, cfg, out, torch.device("cpu"), console=quiet())
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_too_short_text_is_refused(tmp_path, data):
    tokenizer = make_task(data, TrainConfig()).tokenizer
    (tmp_path / "tiny.txt").write_text("Too short.")
    data.train = str(tmp_path / "tiny.txt")
    with pytest.raises(ValueError, match="tiny.txt is too short for a context of 16 tokens"):
        make_task(data, TrainConfig(), tokenizer)
    with pytest.raises(ValueError, match="too little text for a vocabulary of 300 tokens"):
        make_task(data, TrainConfig())


def test_source_tokens_open_every_window_and_condition_generation(data):
    from core.text.generate import GPTDecoder

    given = GPTConfig(vocab_size=1, block_size=16, n_layer=1, n_head=2, n_embd=32)
    task = GPTTask(given, data, TrainConfig(max_steps=10), torch.device("cpu"))
    config = task.config
    assert given.sources == [] and given.vocab_size == 1  # the caller's config is left as it was
    assert len(config.sources) == 2 and config.sources[1] == "pre"  # the training text's own source first
    assert config.vocab_size == task.tokenizer.vocab_size + 2 and config.text_vocab_size == task.tokenizer.vocab_size
    x, y = task.batch(0)
    own, other = config.source_token(config.sources[0]), config.source_token("pre")
    assert (x[:2, 0] == own).all() and (x[2:, 0] == other).all()  # half the batch from the other prose
    assert (x[:, 1:] < config.text_vocab_size).all() and (y < config.text_vocab_size).all()
    assert torch.equal(x[:, 1:], y[:, :-1])  # the first text token is a target too
    assert task.prefix == [own]
    decoder = GPTDecoder(task.model, torch.device("cpu"), task.prefix)
    logits = decoder.prefill(task.tokenizer.encode("We walked"))
    assert logits.numel() == config.text_vocab_size  # a source token can never be drawn


def test_tuning_sources_only_changes_their_rows_and_nothing_else(tmp_path, data):
    cfg = TrainConfig(max_steps=8, eval_every=8, warmup_steps=1, lr=3e-2, weight_decay=0.0, bf16=False)
    task = make_task(data, cfg)
    task.tune_sources_only()
    before = {name: t.clone() for name, t in task.model.state_dict().items()}
    train(task, cfg, tmp_path / "gpt.safetensors", torch.device("cpu"), console=quiet())
    after = task.model.state_dict()
    text = task.config.text_vocab_size
    wte = "transformer.wte.weight"
    assert all(torch.equal(after[name], t) for name, t in before.items() if name not in (wte, "lm_head.weight"))
    assert torch.equal(after[wte][:text], before[wte][:text])  # every text token's row, in and out, as it was
    assert not torch.equal(after[wte][text:], before[wte][text:])  # the source rows learned
