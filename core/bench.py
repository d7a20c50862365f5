"""Speed benchmarks (run by `inkhorn bench`, never as timed tests)."""
from __future__ import annotations

import time

import torch

from core.lm import LanguageModel


@torch.no_grad()
def decode_speed(lm: LanguageModel, new_tokens: int = 200, prompt: str = "The", repeats: int = 3) -> dict:
    """Greedy decode at batch 1: with the model's incremental state (KV cache or
    LSTM hidden state) against re-reading the whole window for every token."""
    ids = lm.tokenizer.encode(prompt) or lm.tokenizer.encode("\n")

    def incremental() -> None:
        decoder = lm.decoder()
        logits = decoder.prefill(ids)
        for _ in range(new_tokens):
            logits = decoder.advance(int(logits.argmax()))

    def rereading() -> None:
        seq = list(ids)
        for _ in range(new_tokens):
            window = torch.tensor([seq[-lm.context:]], device=lm.device)
            logits = lm.model(window)[0][0, -1]
            seq.append(int(logits.argmax()))

    def best_time(fn) -> float:
        fn()  # warm-up
        times = []
        for _ in range(repeats):
            if lm.device.type == "cuda":
                torch.cuda.synchronize()
            t = time.perf_counter()
            fn()
            if lm.device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
        return min(times)

    cached, full = best_time(incremental), best_time(rereading)
    return {
        "new_tokens": new_tokens,
        "incremental_tokens_per_s": round(new_tokens / cached, 1),
        "rereading_tokens_per_s": round(new_tokens / full, 1),
        "speedup": round(full / cached, 2),
    }
