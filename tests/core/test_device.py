"""core/device.py: the device picked and why, bf16 only where the hardware has it, the decoding layout."""
import torch

import core.device
from core.device import autocast, choose_device, decoding_layout


def test_cpu_is_chosen_with_a_reason_when_asked_or_when_there_is_no_gpu(monkeypatch):
    monkeypatch.setenv("INKHORN_DEVICE", "cpu")
    choice = choose_device()
    assert choice.device.type == "cpu" and choice.reason == "cpu as asked" and choice.label == "cpu"
    if not torch.cuda.is_available():
        fallback = choose_device("cuda")
        assert fallback.device.type == "cpu" and "no CUDA GPU" in fallback.reason


def test_bf16_autocast_on_the_cpu_only_with_bf16_in_hardware(monkeypatch):
    cpu = torch.device("cpu")
    for fast in (False, True):
        monkeypatch.setattr(core.device, "cpu_has_fast_bf16", lambda fast=fast: fast)
        with autocast(cpu):
            product = torch.ones(4, 4) @ torch.ones(4, 4)
        assert product.dtype == (torch.bfloat16 if fast else torch.float32)
    with autocast(cpu, enabled=False):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


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
