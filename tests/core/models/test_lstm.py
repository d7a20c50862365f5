import math

import pytest
import torch
import torch.nn.functional as F

from core.models.lstm import LSTMConfig, RecurrentLM
from core.text.evaluate import recurrent_bits_per_char
from core.text.generate import generate_text
from core.text.sampling import SamplerSettings
from core.train.loop import TrainConfig
from core.train.lstm import LSTMData, LSTMTask


def small(cell="lstm", **kw):
    torch.manual_seed(0)
    return RecurrentLM(LSTMConfig(vocab_size=90, n_embd=16, n_hidden=24, n_layer=2, bptt=16, dropout=0.0, cell=cell,
                                  **kw)).eval()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_shapes_state_and_tied_weights(cell):
    model = small(cell)
    x = torch.randint(0, 90, (3, 11))
    logits, loss, state = model(x, x)
    assert logits.shape == (3, 11, 90) and loss.ndim == 0
    h = state[0] if cell == "lstm" else state
    assert h.shape == (2, 3, 24)
    assert model.lm_head.weight.data_ptr() == model.wte.weight.data_ptr()
    assert isinstance(model.rnn, torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)


def test_unknown_cell_is_refused():
    with pytest.raises(ValueError, match="cell"):
        RecurrentLM(LSTMConfig(vocab_size=90, n_embd=16, n_hidden=16, n_layer=1, bptt=8, cell="rnn"))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stateful_decoding_equals_a_full_forward(cell):
    model = small(cell)
    ids = torch.randint(0, 90, (30,)).tolist()
    full = model(torch.tensor([ids]))[0][0]
    dec = model.decoder(torch.device("cpu"))
    steps = [dec.prefill(ids[:10])]
    for t in ids[10:]:
        steps.append(dec.advance(t))
    assert torch.allclose(torch.stack(steps), full[9:], atol=1e-5)


def test_recurrent_bits_per_char_matches_direct_computation(tiny_lstm, tiny_tokenizer):
    text = "We walked down the road in the rain and it was cold. " * 6
    got = recurrent_bits_per_char(tiny_lstm, tiny_tokenizer, text, torch.device("cpu"), segments=1)
    ids = torch.tensor([tiny_tokenizer.encode("\n") + tiny_tokenizer.encode(text)])
    logits = tiny_lstm(ids[:, :-1])[0]
    nll = F.cross_entropy(logits[0], ids[0, 1:], reduction="sum").item()
    assert got["bits_per_char"] == pytest.approx(nll / len(text) / math.log(2), rel=1e-5)
    # more segments with burn-in still score every token once
    split = recurrent_bits_per_char(tiny_lstm, tiny_tokenizer, text, torch.device("cpu"), segments=4, burn_in=8)
    assert split["tokens"] == got["tokens"]
    assert split["bits_per_char"] == pytest.approx(got["bits_per_char"], rel=0.05)


def test_tbptt_batches_are_contiguous_and_state_is_carried(tmp_path, tiny_text):
    text = tiny_text * 4
    (tmp_path / "t.txt").write_text(text)
    (tmp_path / "v.txt").write_text(text[:500])
    data = LSTMData(train=str(tmp_path / "t.txt"), valid=str(tmp_path / "v.txt"), vocab_size=300, batch_size=4)
    task = LSTMTask(LSTMConfig(vocab_size=1, n_embd=16, n_hidden=16, n_layer=1, bptt=8), data, TrainConfig(),
                    torch.device("cpu"))
    x0, y0 = task.batch(0)
    x1, _ = task.batch(1)
    assert torch.equal(x0[:, 1:], y0[:, :-1])  # targets are the next tokens
    assert torch.equal(x1[:, 0], y0[:, -1])    # step 1 continues each stream where step 0 stopped
    assert task.state is None
    task.loss(0)
    first = task.state[0].clone()
    assert not first.requires_grad
    task.loss(1)
    assert not torch.equal(first, task.state[0])
    task.batch(task.steps_per_pass)  # a new pass resets the state
    assert task.state is None


def test_generation_is_stateful_and_reproducible(tiny_lstm, tiny_tokenizer):
    s = SamplerSettings(temperature=0.9, max_new_tokens=40, seed=3)
    a = generate_text(tiny_lstm.decoder(torch.device("cpu")), tiny_tokenizer, "Anna", s, context=16)
    b = generate_text(tiny_lstm.decoder(torch.device("cpu")), tiny_tokenizer, "Anna", s, context=16)
    assert a == b and len(a) > 0


def test_any_input_encodes_no_unknown_word_error(tiny_lstm, tiny_tokenizer):
    s = SamplerSettings(max_new_tokens=5, seed=1)
    text = generate_text(tiny_lstm.decoder(torch.device("cpu")), tiny_tokenizer, "Zyxxqk Вронский 🙂", s, context=16)
    assert isinstance(text, str)
