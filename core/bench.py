"""Speed benchmarks (run by `inkhorn bench`, never as timed tests): one timer, one benchmark per family."""
from __future__ import annotations

import time
from typing import Callable

import torch

Progress = Callable[[str], None]  # told what is measured next, as a progress bar shows it


def _quiet(description: str) -> None:
    pass


def timed(fn: Callable[[], object], device: torch.device, repeats: int = 3) -> float:
    """Best wall-clock seconds of `repeats` calls of fn after one warm-up call (allocator, kernels);
    on CUDA the queue is drained before and after each call."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


@torch.no_grad()
def decode_speed(lm, new_tokens: int = 200, prompt: str = "The", progress: Progress = _quiet) -> dict:
    """Greedy decode at batch 1 (a core.text.lm.LanguageModel): with the model's incremental state
    (KV cache or LSTM hidden state) against re-reading the whole window for every token (timed once
    after its warm-up: it is the slow baseline, and its spread is small beside the gap)."""
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

    progress(f"{new_tokens} tokens, incremental")
    cached = timed(incremental, lm.device)
    progress(f"{new_tokens} tokens, re-reading the window")
    full = timed(rereading, lm.device, repeats=1)
    return {
        "new_tokens": new_tokens,
        "incremental_tokens_per_s": round(new_tokens / cached, 1),
        "rereading_tokens_per_s": round(new_tokens / full, 1),
        "speedup": round(full / cached, 2),
    }


def translation_speed(translator, sentences: list[str], progress: Progress = _quiet) -> dict:
    """Sentences/s for beam 4 and greedy, the whole list as batches against one sentence at a time."""
    result = {}
    for name, beam in (("beam4", 4), ("greedy", 1)):
        progress(f"{name}: batched and one at a time")
        together = timed(lambda: translator.translate(sentences, beam=beam), translator.device, repeats=1)
        single = timed(lambda: [translator.translate([s], beam=beam) for s in sentences], translator.device,
                       repeats=1)
        result[f"batched_{name}_sentences_per_s"] = round(len(sentences) / together, 1)
        result[f"one_by_one_{name}_sentences_per_s"] = round(len(sentences) / single, 1)
        result[f"batching_speedup_{name}"] = round(single / together, 2)
    return result


def sampling_speed(artist, batch: int, progress: Progress = _quiet) -> dict:
    """Pictures per second for `artist.sample(batch, seed)`: latents and the forward pass."""
    progress(f"batch {batch}")
    seconds = timed(lambda: artist.sample(batch, 1), artist.device)
    return {"batch": batch, "images_per_s": round(batch / seconds, 1), "ms_per_batch": round(1000 * seconds, 2)}
