import pytest
import torch

from core.text.sampling import Picker, SamplerSettings, filtered_probs


def logits(seed=0, n=100):
    return torch.randn(n, generator=torch.Generator().manual_seed(seed)) * 3


@pytest.mark.parametrize("seed", range(10))
def test_top_k_never_picks_outside_the_k_best(seed):
    lg = logits(seed)
    best = set(torch.topk(lg, 5).indices.tolist())
    picker = Picker(SamplerSettings(temperature=1.5, top_k=5, top_p=1.0, seed=seed))
    picks = {picker(lg)[0] for _ in range(200)}
    assert picks <= best
    assert len(picks) > 1  # it samples, not argmax


@pytest.mark.parametrize("seed", range(5))
def test_greedy_equals_argmax(seed):
    lg = logits(seed)
    token, probs = Picker(SamplerSettings(temperature=0))(lg)
    assert token == int(lg.argmax())
    assert probs[token] == 1.0


def test_top_p_keeps_smallest_set_reaching_p():
    lg = torch.log(torch.tensor([0.5, 0.3, 0.15, 0.05]))
    probs = filtered_probs(lg, SamplerSettings(temperature=1.0, top_k=0, top_p=0.8))
    assert probs[2] == 0 and probs[3] == 0
    assert torch.allclose(probs[:2], torch.tensor([0.625, 0.375]))


def test_min_p_drops_unlikely_tokens():
    lg = torch.log(torch.tensor([0.6, 0.3, 0.07, 0.03]))
    probs = filtered_probs(lg, SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.1))
    assert probs[3] == 0 and probs[2] > 0


def test_repetition_penalty_lowers_seen_tokens():
    lg = torch.tensor([2.0, 2.0, -1.0, -1.0])
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, repetition_penalty=2.0)
    probs = filtered_probs(lg, s, history=torch.tensor([0, 2]))
    assert probs[0] < probs[1] and probs[2] < probs[3]


def test_temperature_sharpens_and_flattens():
    lg = logits(3)
    cold = filtered_probs(lg, SamplerSettings(temperature=0.5, top_k=0, top_p=1.0))
    hot = filtered_probs(lg, SamplerSettings(temperature=2.0, top_k=0, top_p=1.0))
    assert cold.max() > hot.max()


def test_fixed_seed_reproduces_and_seed_is_reported():
    lg = logits(1)
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=42)
    a, b = Picker(s), Picker(s)
    assert [a(lg)[0] for _ in range(50)] == [b(lg)[0] for _ in range(50)]
    unseeded = Picker(SamplerSettings(seed=None))
    assert isinstance(unseeded.seed, int)


def test_settings_change_applies_at_next_call():
    lg = logits(2)
    s = SamplerSettings(temperature=1.0, top_k=0, top_p=1.0, seed=0)
    picker = Picker(s)
    picker(lg)
    s.temperature = 0  # the same object, changed mid-generation
    assert picker(lg)[0] == int(lg.argmax())


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
