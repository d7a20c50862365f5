"""Sampling speed of the GPT as the app samples: against Hugging Face's generate() at the same shape, and
with the machine busy (run by `inkhorn bench gpt --against transformers` and `--under-load`).

Each run stops at its token count or at its share of a time budget, whichever comes first, so a
benchmark keeps to its budget on a slow or busy machine; rounds interleave what is compared, so each
meets the same machine load, and the median of the rounds counts.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Callable

import torch

from core.text.sampling import SamplerSettings
from core.threads import machine_load

SAMPLER = dict(temperature=0.8, top_k=40, top_p=0.95)
Run = Callable[[int, float], tuple[int, float]]  # (seed, seconds at most) -> (tokens made, seconds taken)


def transformers_twins(lm) -> dict[str, torch.nn.Module]:
    """Hugging Face models of the GPT's size with random weights (speed does not depend on them):
    LlamaForCausalLM, the same shape (RoPE, SwiGLU of the same hidden width), and GPT2LMHeadModel.
    Raises ImportError without transformers."""
    import transformers
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    transformers.logging.set_verbosity_error()
    c = lm.model.config
    hidden = lm.model.transformer.h[0].mlp.c_proj.in_features
    torch.manual_seed(0)
    llama = LlamaForCausalLM(LlamaConfig(
        vocab_size=c.vocab_size, hidden_size=c.n_embd, intermediate_size=hidden, num_hidden_layers=c.n_layer,
        num_attention_heads=c.n_head, num_key_value_heads=c.n_head, max_position_embeddings=c.block_size,
        rope_theta=c.rope_base, tie_word_embeddings=True, bos_token_id=None, eos_token_id=None, pad_token_id=0))
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd,
                                      n_layer=c.n_layer, n_head=c.n_head, bos_token_id=None, eos_token_id=None,
                                      pad_token_id=0))
    return {"llama": llama.to(lm.device).eval(), "gpt2": gpt2.to(lm.device).eval()}


def _inkhorn_run(lm, prompt: str, new_tokens: int) -> Run:
    def run(seed: int, seconds: float) -> tuple[int, float]:
        settings = SamplerSettings(**SAMPLER, max_new_tokens=new_tokens, seed=seed)
        made, start = 0, time.perf_counter()
        for _ in lm.stream(prompt, settings):
            made += 1
            if time.perf_counter() - start > seconds:
                break
        return made, time.perf_counter() - start
    return run


def _generate_run(model: torch.nn.Module, ids: torch.Tensor, new_tokens: int) -> Run:
    def run(seed: int, seconds: float) -> tuple[int, float]:
        torch.manual_seed(seed)
        start = time.perf_counter()
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, **SAMPLER,
                                 max_new_tokens=new_tokens, max_time=seconds)
        return out.size(1) - ids.size(1), time.perf_counter() - start
    return run


def against_transformers(lm, twins: dict[str, torch.nn.Module], thread_counts=(1, 2),
                         rounds: int = 5, new_tokens: int = 200, budget: float = 30.0,
                         prompt: str = "The sun was setting", progress=None) -> dict:
    """Tokens/s of `lm.stream` (a core.text.lm.LanguageModel) against `generate()` of each twin, sampling
    as the app does, on each thread count; `budget` seconds in all. `progress(description)` is called
    before every run."""
    ids = torch.tensor([lm.prefix() + lm.tokenizer.encode(prompt)], device=lm.device)
    runs = {"inkhorn": _inkhorn_run(lm, prompt, new_tokens)}
    runs.update({name: _generate_run(model, ids, new_tokens) for name, model in twins.items()})
    seconds = budget / (len(thread_counts) * (rounds + 1) * len(runs))
    before = torch.get_num_threads()
    results = []
    try:
        for threads in thread_counts:
            torch.set_num_threads(threads)
            for name, run in runs.items():  # warm-up: allocator, kernels, generate's first-call set-up
                if progress:
                    progress(f"{threads} thread{'s' if threads > 1 else ''} · warm-up · {name}")
                run(0, seconds)
            rates = {name: [] for name in runs}
            made = {name: [] for name in runs}
            for round_ in range(rounds):
                for name, run in runs.items():
                    if progress:
                        progress(f"{threads} thread{'s' if threads > 1 else ''} · round {round_ + 1} · {name}")
                    tokens, took = run(round_ + 1, seconds)
                    rates[name].append(tokens / took)
                    made[name].append(tokens)
            speed = {name: statistics.median(r) for name, r in rates.items()}
            row = {"threads": threads}
            row.update({f"{name}_tokens_per_s": round(s, 1) for name, s in speed.items()})
            row.update({f"inkhorn_vs_{name}": round(speed["inkhorn"] / speed[name], 2) for name in twins})
            row["tokens_per_run"] = " / ".join(f"{name} {int(statistics.median(m))}" for name, m in made.items())
            results.append(row)
    finally:
        torch.set_num_threads(before)
    return {"model": lm.name, "new_tokens": new_tokens, "sampler": "temperature 0.8, top-k 40, top-p 0.95",
            "rounds": rounds, "seconds_per_run_at_most": round(seconds, 2),
            "note": "rounds interleave the models in one process: each meets the same machine load",
            "runs": results}


def spinners() -> list[subprocess.Popen]:
    """A process spinning on each core this one may use: a machine as busy as it gets."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(machine_load()[0])]


def under_load(lm, thread_counts: tuple[int, ...], rounds: int = 3, new_tokens: int = 200,
               budget: float = 40.0, prompt: str = "The sun was setting", progress=None) -> dict:
    """Tokens/s of `lm.stream` on each thread count with the machine as it is, and with a process
    spinning on every core; rounds alternate the two, so both meet the same background. A run stops
    at `new_tokens` or at its share of `budget` seconds."""
    run = _inkhorn_run(lm, prompt, new_tokens)
    seconds = budget / (2 * len(thread_counts) * (rounds + 1))
    rates = {(threads, busy): [] for threads in thread_counts for busy in (False, True)}
    before = torch.get_num_threads()
    try:
        for threads in thread_counts:
            torch.set_num_threads(threads)
            run(0, seconds)  # warm-up
        for round_ in range(rounds):
            for busy in (False, True):
                spinning = spinners() if busy else []
                try:
                    for threads in thread_counts:
                        if progress:
                            progress(f"round {round_ + 1} · {threads} thread{'s' if threads > 1 else ''} · "
                                     f"{'busy' if busy else 'as it is'}")
                        torch.set_num_threads(threads)
                        tokens, took = run(round_ + 1, seconds)
                        rates[threads, busy].append(tokens / took)
                finally:
                    for p in spinning:
                        p.kill()
                        p.wait()
    finally:
        torch.set_num_threads(before)
    rows = []
    for threads in thread_counts:
        quiet, busy = (statistics.median(rates[threads, b]) for b in (False, True))
        rows.append({"threads": threads, "tokens_per_s": round(quiet, 1), "busy_tokens_per_s": round(busy, 1),
                     "slowdown": round(quiet / busy, 2)})
    return {"model": lm.name, "new_tokens": new_tokens, "rounds": rounds, "seconds_per_run_at_most": round(seconds, 2),
            "note": "busy: a process spinning on every core; rounds alternate quiet and busy", "runs": rows}
