"""Generations recorded into the document from a real (tiny) model, cut at stop strings, and replayed
exactly from what the record holds."""
from __future__ import annotations

from core.files import file_sha256
from core.text.desk.document import Document, Generation
from core.text.desk.recorder import Recorder
from core.text.lm import load_language_model
from core.text.sampling import SamplerSettings


def record(lm, doc: Document, settings: SamplerSettings, stop=(), key_presses=None) -> tuple:
    """Run a generation from the end of `doc` as the app does; `key_presses` maps a step index to
    settings changed once that step has arrived."""
    node = doc.start_generation(Generation(lm.name, file_sha256(lm.path), settings.to_dict(), str(lm.device),
                                           stop=list(stop)))
    recorder = Recorder(node, settings)
    steps = []
    for step in lm.stream(doc.branch_text(node.parent), settings):
        steps.append(step)
        if not recorder.add(step):
            break
        for key, value in (key_presses or {}).get(step.index, {}).items():
            setattr(settings, key, value)
    recorder.finish()
    return node, steps


def test_each_token_keeps_its_probability_and_alternatives(checkpoint_dir):
    lm = load_language_model("hemingway")
    doc = Document()
    doc.edit(0, 0, "The old man")
    node, steps = record(lm, doc, SamplerSettings(temperature=0, max_new_tokens=20))
    assert len(node.pieces) == 20 and node.text == "".join(s.text for s in steps)
    assert doc.text == "The old man" + node.text
    for piece, step in zip(node.pieces, steps):
        assert piece.prob == step.prob and piece.alternatives == tuple((c.text, c.prob) for c in step.candidates)
    g = node.generation
    assert g.model_sha256 == file_sha256(checkpoint_dir / "hemingway.safetensors") and g.device == "cpu"
    assert g.settings["seed"] == steps[0].seed and g.ended == "length" and g.changes == []


def test_a_stop_string_ends_the_text_where_it_begins(checkpoint_dir):
    lm = load_language_model("hemingway")
    doc = Document()
    doc.edit(0, 0, "The old man")
    free, _ = record(lm, doc, SamplerSettings(temperature=0, max_new_tokens=40))
    stop = free.text[9:12]  # something the model writes
    doc.undo()
    node, steps = record(lm, doc, SamplerSettings(temperature=0, max_new_tokens=40), stop=[stop])
    assert node.text == free.text[:free.text.index(stop)] and stop not in node.text
    assert node.generation.ended == "stop" and len(steps) < 40
    assert [p.prob for p in node.pieces] == [p.prob for p in free.pieces[:len(node.pieces)]]


def test_a_generation_replays_exactly_from_its_record(checkpoint_dir):
    lm = load_language_model("hemingway")
    doc = Document()
    doc.edit(0, 0, "We walked")
    settings = SamplerSettings(temperature=1.0, top_k=60, top_p=1.0, max_new_tokens=30)  # a random seed
    presses = {9: {"temperature": 0.0}, 15: {"temperature": 1.3, "seed": 1234}, 22: {"top_k": 5}}
    node, steps = record(lm, doc, settings, key_presses=presses)
    g = node.generation
    assert [index for index, _ in g.changes] == [10, 16, 23]
    assert g.changes[1][1]["seed"] == 1234 and g.changes[0][1]["seed"] == g.settings["seed"] == steps[0].seed

    replay = SamplerSettings(**g.settings)
    changes = dict(g.changes)
    text = ""
    for step in load_language_model("hemingway").stream(doc.branch_text(node.parent), replay):
        text += step.text
        for key, value in changes.get(step.index + 1, {}).items():
            setattr(replay, key, value)
    assert text == node.text


def test_settings_handed_over_with_each_step_are_the_ones_recorded(checkpoint_dir):
    """Steps that reach the recorder in a batch, after the settings changed again, keep the settings
    each one was drawn with."""
    lm = load_language_model("hemingway")
    doc = Document()
    doc.edit(0, 0, "We walked")
    settings = SamplerSettings(temperature=1.0, max_new_tokens=12)
    drawn = []
    for step in lm.stream("We walked", settings):
        drawn.append((step, settings.to_dict()))
        if step.index == 4:
            settings.temperature = 0.5  # from the sixth token on
    settings.temperature = 2.0  # changed again before the batch arrives: never used by any token
    node = doc.start_generation(Generation(lm.name, "x", settings.to_dict(), "cpu"))
    recorder = Recorder(node, settings)
    for step, used in drawn:
        recorder.add(step, used)
    recorder.finish()
    g = node.generation
    assert g.settings["temperature"] == 1.0 and [(i, s["temperature"]) for i, s in g.changes] == [(5, 0.5)]
