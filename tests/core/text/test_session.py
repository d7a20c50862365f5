"""core.text.session: the Markdown the app's ctrl+s writes (no UI needed)."""
from __future__ import annotations

from core.catalog import output_dir
from core.text.sampling import SamplerSettings
from core.text.session import MAX_GENERATIONS, Generation, Session, save_session, to_markdown


def generation(**changes) -> Generation:
    settings = SamplerSettings(seed=7).to_dict()
    fields = dict(model="hemingway", prompt="The sun", output=" rose.", continued=False, settings=settings,
                  settings_after=settings, seeds=[7], tokens=3, tokens_per_second=12.5)
    fields.update(changes)
    return Generation(**fields)


def test_markdown_records_prompt_output_settings_and_seeds():
    after = SamplerSettings(temperature=1.2, seed=9).to_dict()
    session = Session(generations=[generation(), generation(continued=True, prompt="The sun rose.", seeds=[7, 9],
                                                            settings_after=after, cancelled=True,
                                                            notes=["removed 1 control character(s) from the prompt"])])
    text = to_markdown(session)
    assert "## 1. hemingway — new" in text and "## 2. hemingway — continued" in text
    assert "- seed: 7" in text and "- seeds: 7, 9" in text
    assert "temperature 0.8 · top-k 40 · top-p 0.95" in text
    assert "changed while generating: temperature 0.8 → 1.2" in text
    assert "(stopped early)" in text and "- note: removed 1 control character" in text
    assert "```text\nThe sun\n```" in text and "```text\n rose.\n```" in text


def test_fences_outgrow_backticks_in_the_text():
    text = to_markdown(Session(generations=[generation(output="a ``` b")]))
    assert "````text\na ``` b\n````" in text


def test_greedy_is_named():
    greedy = SamplerSettings(temperature=0.0).to_dict()
    assert "temperature 0 (greedy)" in to_markdown(Session(generations=[generation(settings=greedy,
                                                                                  settings_after=greedy)]))


def test_save_never_overwrites(tmp_path):
    session = Session(generations=[generation()])
    paths = [save_session(session, tmp_path / "out") for _ in range(3)]
    assert len(set(paths)) == 3 and all(p.exists() for p in paths)
    assert paths[0].read_text(encoding="utf-8") == to_markdown(session)


def test_output_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("INKHORN_OUTPUT_DIR", raising=False)
    assert str(output_dir()) == "outputs"
    monkeypatch.setenv("INKHORN_OUTPUT_DIR", str(tmp_path))
    assert output_dir() == tmp_path


def test_a_long_session_keeps_the_latest_generations_and_says_so():
    session = Session()
    for i in range(MAX_GENERATIONS + 50):
        session.add(generation(prompt=f"prompt {i}"))
    assert len(session.generations) == MAX_GENERATIONS and session.dropped == 50
    assert session.generations[0].prompt == "prompt 50"
    text = to_markdown(session)
    assert f"The 50 earliest generations are not kept: a session holds the latest {MAX_GENERATIONS}." in text
    assert "## 51. hemingway" in text and "## 50. " not in text
