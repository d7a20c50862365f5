import pytest
import torch

from core.device import choose_threads, decoding_layout, machine_load, set_threads


@pytest.mark.parametrize("cores, load", [(2, 0.0), (2, 3.5), (16, 0.3), (16, 12.0)])
def test_decoding_takes_one_thread_however_many_cores_and_load(cores, load, monkeypatch):
    monkeypatch.delenv("INKHORN_THREADS", raising=False)
    choice = choose_threads("decode", cores=cores, load=load)
    assert choice.threads == 1 and f"{cores} cores" in choice.reason and f"load {load:.1f}" in choice.reason


@pytest.mark.parametrize("cores, load, threads", [(2, 0.1, 2), (2, 1.1, 1), (2, 4.0, 1), (16, 0.4, 16),
                                                  (16, 5.6, 10), (16, 40.0, 1), (1, 0.0, 1)])
def test_batch_work_takes_the_cores_the_load_leaves_free(cores, load, threads, monkeypatch):
    monkeypatch.delenv("INKHORN_THREADS", raising=False)
    choice = choose_threads("batch", cores=cores, load=load)
    assert choice.threads == threads
    assert ("all free" in choice.reason) == (threads == cores and load < 0.5)


def test_asked_for_threads_win_flag_over_environment(monkeypatch):
    monkeypatch.setenv("INKHORN_THREADS", "3")
    assert choose_threads("decode", cores=2, load=9.0).threads == 3
    assert "INKHORN_THREADS" in choose_threads("batch").reason
    choice = choose_threads("batch", 5)
    assert choice.threads == 5 and "--threads" in choice.reason
    monkeypatch.setenv("INKHORN_THREADS", "many")
    with pytest.raises(ValueError, match="INKHORN_THREADS"):
        choose_threads("decode")
    with pytest.raises(ValueError, match="1 or more"):
        choose_threads("decode", 0)


def test_set_threads_reaches_torch(monkeypatch):
    monkeypatch.delenv("INKHORN_THREADS", raising=False)
    before = torch.get_num_threads()
    try:
        assert set_threads("decode", 2).threads == 2 and torch.get_num_threads() == 2
        assert set_threads("decode").threads == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_machine_load_is_read():
    cores, load = machine_load()
    assert cores >= 1 and load >= 0.0


def test_decoding_layout_keeps_shapes_values_and_ties(tiny_gpt):
    import copy

    model = copy.deepcopy(tiny_gpt)
    x = torch.randint(0, model.config.vocab_size, (2, 12))
    before, _ = model(x)
    decoding_layout(model)
    weight = model.transformer.h[0].attn.c_attn.weight
    assert weight.shape == tiny_gpt.transformer.h[0].attn.c_attn.weight.shape and weight.t().is_contiguous()
    assert model.lm_head.weight is model.transformer.wte.weight
    assert torch.allclose(model(x)[0], before, atol=1e-5)


def test_decoding_layout_keeps_the_recurrent_model_and_its_steps(tiny_lstm):
    import copy

    model = copy.deepcopy(tiny_lstm)
    ids = torch.randint(0, model.config.vocab_size, (1, 9))
    before = model(ids)[0]
    decoding_layout(model)
    assert model.rnn.weight_hh_l0.t().is_contiguous() and model.lm_head.weight is model.wte.weight
    assert torch.allclose(model(ids)[0], before, atol=1e-5)
    dec = model.decoder(torch.device("cpu"))
    steps = [dec.prefill(ids[0, :4].tolist())] + [dec.advance(t) for t in ids[0, 4:].tolist()]
    assert torch.allclose(torch.stack(steps), before[0, 3:], atol=1e-5)
