"""Settings kept across starts: sampler, presets, theme, stop strings, banned words; damaged files."""
from __future__ import annotations

import json

import pytest

from core.text.desk.preferences import (
    SHIPPED_PRESETS,
    Preferences,
    load_preferences,
    preferences_path,
    save_preferences,
)
from core.text.sampling import SamplerSettings


@pytest.fixture()
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("INKHORN_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_no_file_gives_the_defaults(config):
    prefs, notes = load_preferences()
    assert notes == [] and prefs == Preferences()
    assert prefs.preset_names() == ["balanced", "focused", "wild"]


def test_settings_presets_and_theme_persist_across_two_loads(config):
    prefs, _ = load_preferences()
    prefs.sampler.temperature, prefs.sampler.max_new_tokens, prefs.sampler.seed = 0.55, 120, 42
    prefs.save_preset("dreamy", SamplerSettings(temperature=1.05, top_k=0, top_p=0.9, min_p=0.02))
    prefs.save_preset("dry", SamplerSettings(temperature=0.3))
    prefs.theme, prefs.stop, prefs.banned = "gruvbox", ["\n\n"], ["suddenly", "very"]
    assert save_preferences(prefs) == preferences_path() == config / "settings.json"

    first, notes = load_preferences()
    assert notes == [] and first == prefs
    assert first.preset_names() == ["balanced", "focused", "wild", "dreamy", "dry"]
    first.remove_preset("dry")
    save_preferences(first)

    second, notes = load_preferences()
    assert notes == [] and second.preset_names() == ["balanced", "focused", "wild", "dreamy"]
    assert second.sampler == SamplerSettings(temperature=0.55, max_new_tokens=120, seed=42)
    assert (second.theme, second.stop, second.banned) == ("gruvbox", ["\n\n"], ["suddenly", "very"])


def test_a_preset_sets_the_style_in_place_and_keeps_length_and_seed(config):
    prefs = Preferences()
    prefs.save_preset("dreamy", SamplerSettings(temperature=1.05, top_k=0, max_new_tokens=9, seed=3))
    live = SamplerSettings(max_new_tokens=500, seed=11)
    same = live
    prefs.apply_preset("dreamy", live)
    assert live is same and (live.temperature, live.top_k, live.max_new_tokens, live.seed) == (1.05, 0, 500, 11)
    prefs.apply_preset("wild", live)
    assert {k: getattr(live, k) for k in SHIPPED_PRESETS["wild"]} == SHIPPED_PRESETS["wild"]
    with pytest.raises(ValueError, match="shipped"):
        prefs.save_preset("wild", live)
    with pytest.raises(ValueError, match="shipped"):
        prefs.remove_preset("balanced")
    with pytest.raises(KeyError):
        prefs.apply_preset("nothing", live)
    with pytest.raises(ValueError):
        prefs.save_preset("bad", SamplerSettings(temperature=-1))


def test_a_file_that_is_not_json_gives_defaults_a_note_and_is_kept(config):
    path = config / "settings.json"
    path.write_text("{ this is not json")
    prefs, notes = load_preferences()
    assert prefs == Preferences() and len(notes) == 1
    assert "cannot be read" in notes[0] and "kept as" in notes[0]
    assert [p.read_text() for p in config.glob("settings.damaged-*.json")] == ["{ this is not json"]
    save_preferences(prefs)
    assert load_preferences() == (prefs, [])


@pytest.mark.parametrize("content", ["[1, 2]", '{"version": 99}', '"text"', "\xff\xfe"])
def test_a_file_of_the_wrong_shape_gives_defaults_and_a_note(config, content):
    (config / "settings.json").write_bytes(content.encode("latin-1"))
    prefs, notes = load_preferences()
    assert prefs == Preferences() and len(notes) == 1 and "using defaults" in notes[0]


def test_hand_edited_values_are_checked_one_by_one(config):
    (config / "settings.json").write_text(json.dumps({
        "version": 1,
        "sampler": {"temperature": -1, "top_k": "many", "top_p": 0.8, "max_new_tokens": 2.5, "colour": "red",
                    "repetition_penalty": True, "seed": 5},
        "presets": {"mine": {"temperature": 0.7}, "broken": {"top_p": 7}, "odd": {"length": 3},
                    "wild": {"temperature": 0.1}, "list": [1]},
        "theme": 5,
        "stop": ["\n\n", ""],
        "banned": ["fine", "words"],
    }))
    prefs, notes = load_preferences()
    assert prefs.sampler == SamplerSettings(top_p=0.8, seed=5)
    assert prefs.presets == {"mine": dict(SHIPPED_PRESETS["balanced"], temperature=0.7)}
    assert prefs.theme is None and prefs.stop == [] and prefs.banned == ["fine", "words"]
    text = "\n".join(notes)
    for word in ("temperature = -1", "top_k = 'many'", "max_new_tokens = 2.5", "'colour'", "repetition_penalty",
                 "preset 'broken'", "preset 'odd'", "preset 'wild'", "preset 'list'", "theme 5", "stop"):
        assert word in text, word
    assert all(note.startswith(f"settings file {config / 'settings.json'}") for note in notes)


def test_settings_name_the_preset_they_match():
    prefs = Preferences()
    settings = SamplerSettings(max_new_tokens=50, seed=3)
    assert prefs.preset_of(settings) == "balanced"  # the defaults are the balanced style; length and seed aside
    prefs.apply_preset("wild", settings)
    assert prefs.preset_of(settings) == "wild"
    settings.temperature = 1.3
    assert prefs.preset_of(settings) is None
    prefs.save_preset("hot", settings)
    assert prefs.preset_of(settings) == "hot"
