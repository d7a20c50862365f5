import pytest
import torch
from hypothesis import given, settings as hyp_settings, strategies as st

from core.text.sampling import Picker, SamplerSettings, draw, filtered_top


def reference_probs(logits: torch.Tensor, s: SamplerSettings, history: torch.Tensor | None = None) -> torch.Tensor:
    """The filters written plainly over the whole sorted vocabulary: what filtered_top must equal."""
    logits = logits.detach().float().flatten().clone()
    if s.repetition_penalty != 1.0 and history is not None and history.numel():
        seen = torch.unique(history)
        vals = logits[seen]
        logits[seen] = torch.where(vals > 0, vals / s.repetition_penalty, vals * s.repetition_penalty)
    if s.temperature == 0:
        probs = torch.zeros_like(logits)
        probs[logits.argmax()] = 1.0
        return probs
    logits = logits / s.temperature
    if 0 < s.top_k < logits.numel():
        kth = torch.topk(logits, s.top_k).values[-1]
        logits[logits < kth] = float("-inf")
    probs = torch.softmax(logits, dim=-1)
    if s.top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        before = sorted_probs.cumsum(0) - sorted_probs
        probs[order[before >= s.top_p]] = 0.0
    if s.min_p > 0:
        probs[probs < s.min_p * probs.max()] = 0.0
    return probs / probs.sum()


def dense(picked, vocab: int) -> torch.Tensor:
    """A Draw's (only) row as probabilities over the whole vocabulary."""
    probs, ids = picked.heads[0]
    return torch.zeros(vocab).index_add_(0, ids, probs)


def logits(seed=0, n=100):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed)) * 3


sampler_settings = st.builds(
    SamplerSettings,
    temperature=st.sampled_from([0.0, 0.3, 0.8, 1.0, 1.7]),
    top_k=st.sampled_from([0, 1, 2, 5, 40, 99, 100, 500]),
    top_p=st.sampled_from([1.0, 0.95, 0.8, 0.5, 0.1]),
    min_p=st.sampled_from([0.0, 0.05, 0.2]),
    repetition_penalty=st.sampled_from([1.0, 1.3, 0.8]),
)


@hyp_settings(max_examples=300, deadline=None)
@given(s=sampler_settings, seed=st.integers(0, 2**16), scale=st.sampled_from([0.1, 1.0, 5.0]),
       seen=st.lists(st.integers(0, 99), max_size=30))
def test_top_slice_equals_the_plain_filters(s, seed, scale, seen):
    lg = torch.randn(100, generator=torch.Generator().manual_seed(seed)) * scale
    history = torch.tensor(seen, dtype=torch.long)
    picked = Picker(s)(lg, history)
    expected = reference_probs(lg, s, history)
    assert torch.allclose(dense(picked, 100), expected, atol=1e-6)
    assert expected[picked.ids[0]] > 0
    assert picked.probs[0] == pytest.approx(float(expected[picked.ids[0]]), abs=1e-6)


@hyp_settings(max_examples=100, deadline=None)
@given(values=st.lists(st.integers(-3, 3), min_size=12, max_size=12), k=st.integers(1, 11),
       temperature=st.sampled_from([0.5, 1.0]))
def test_ties_with_the_kth_token_are_kept(values, k, temperature):
    # small integer logits tie often: every token equal to the k-th best stays, as the plain filter keeps it
    lg = torch.tensor(values, dtype=torch.float32)
    s = SamplerSettings(temperature=temperature, top_k=k, top_p=1.0)
    picked = Picker(s)(lg)
    assert torch.allclose(dense(picked, 12), reference_probs(lg, s), atol=1e-6)


def test_rows_are_filtered_like_single_rows():
    s = SamplerSettings(temperature=0.9, top_k=7, top_p=0.9, repetition_penalty=1.2)
    rows = torch.stack([logits(i) for i in range(4)])
    history = torch.tensor([[i, i + 1] for i in range(4)])
    drawn = draw([Picker(s, seed=i) for i in range(4)], rows, history)
    for i in range(4):
        alone = Picker(s, seed=i)(rows[i], history[i])
        assert drawn.ids[i] == alone.ids[0]
        assert torch.equal(drawn.heads[i][1], alone.heads[0][1])
        assert torch.allclose(drawn.heads[i][0], alone.heads[0][0])
    assert drawn.tokens.tolist() == drawn.ids


@pytest.mark.parametrize("seed", range(10))
def test_top_k_never_picks_outside_the_k_best(seed):
    lg = logits(seed)
    best = set(torch.topk(lg, 5).indices.tolist())
    picker = Picker(SamplerSettings(temperature=1.5, top_k=5, top_p=1.0, seed=seed))
    picks = {picker(lg).ids[0] for _ in range(200)}
    assert picks <= best
    assert len(picks) > 1  # it samples, not argmax


@pytest.mark.parametrize("seed", range(5))
def test_greedy_equals_argmax(seed):
    lg = logits(seed)
    picked = Picker(SamplerSettings(temperature=0))(lg)
    assert picked.ids[0] == int(lg.argmax())
    assert picked.probs[0] == 1.0


def test_draws_follow_the_distribution():
    lg = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    picker = Picker(SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=3))
    counts = torch.bincount(torch.tensor([picker(lg).ids[0] for _ in range(4000)]), minlength=4) / 4000
    assert torch.allclose(counts, torch.tensor([0.5, 0.3, 0.15, 0.05]), atol=0.03)


def test_top_p_keeps_smallest_set_reaching_p():
    lg = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    top = filtered_top(lg, SamplerSettings(temperature=1.0, top_k=0, top_p=0.8))
    assert top.ids[0].tolist() == [0, 1, 2, 3]
    assert torch.allclose(top.probs[0], torch.tensor([0.625, 0.375, 0.0, 0.0]))


def test_min_p_drops_unlikely_tokens():
    lg = torch.log(torch.tensor([0.6, 0.3, 0.07, 0.03]))
    top = filtered_top(lg, SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.1))
    assert top.probs[0, 3] == 0 and top.probs[0, 2] > 0


def test_repetition_penalty_lowers_seen_tokens():
    lg = torch.tensor([2.0, 2.0, -1.0, -1.0])
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, repetition_penalty=2.0)
    probs = dense(Picker(s)(lg, torch.tensor([0, 2])), 4)
    assert probs[0] < probs[1] and probs[2] < probs[3]


def test_temperature_sharpens_and_flattens():
    lg = logits(3)
    cold = filtered_top(lg, SamplerSettings(temperature=0.5, top_k=0, top_p=1.0))
    hot = filtered_top(lg, SamplerSettings(temperature=2.0, top_k=0, top_p=1.0))
    assert cold.probs.max() > hot.probs.max()


def test_fixed_seed_reproduces_and_seed_is_reported():
    lg = logits(1)
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=42)
    a, b = Picker(s), Picker(s)
    assert [a(lg).ids[0] for _ in range(50)] == [b(lg).ids[0] for _ in range(50)]
    unseeded = Picker(SamplerSettings(seed=None))
    assert isinstance(unseeded.seed, int)


def test_settings_change_applies_at_next_call():
    lg = logits(2)
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=0)
    picker = Picker(s)
    picker(lg)
    s.temperature = 0  # the same object, changed mid-generation
    assert picker(lg).ids[0] == int(lg.argmax())


def test_new_seed_mid_run_restarts_the_draws_and_an_own_seed_ignores_it():
    lg = logits(4)
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=1)
    follows, own = Picker(s), Picker(s, seed=1)
    first = [follows(lg).ids[0] for _ in range(20)]
    s.seed = 2
    after = [follows(lg).ids[0] for _ in range(20)]
    fresh = Picker(SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=2))
    assert follows.seed == 2 and after == [fresh(lg).ids[0] for _ in range(20)]
    assert own.seed == 1 and [own(lg).ids[0] for _ in range(20)] == first


@pytest.mark.parametrize("bad", [dict(temperature=-1), dict(top_k=-1), dict(top_p=0), dict(top_p=1.5),
                                 dict(min_p=1.0), dict(repetition_penalty=0), dict(max_new_tokens=-1)])
def test_invalid_settings_are_refused(bad):
    with pytest.raises(ValueError):
        SamplerSettings(**bad).validate()


def test_the_app_refuses_a_saved_setting_in_the_words_of_the_command_line(tmp_path):
    """Preferences (what the app loads) and `inkhorn generate` share SamplerSettings.validate."""
    import json

    from core.text.desk.preferences import load_preferences

    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 1, "sampler": {"temperature": float("nan"), "seed": 2**64}}))
    prefs, notes = load_preferences(path)
    assert prefs.sampler.temperature == SamplerSettings().temperature
    assert any("temperature must be a finite number, not nan" in n for n in notes)
    assert any("seed must be between 0 and 4,294,967,295" in n for n in notes)
