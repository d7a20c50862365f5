"""core/device.py: the device picked and why, and bf16 only where the hardware has it."""
import torch

import core.device
from core.device import autocast, choose_device


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
