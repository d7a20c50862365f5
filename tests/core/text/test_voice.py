"""core/text/voice.py: the style judge, and the share of a model's samples it gives the model's voice."""
import numpy as np
import pytest

from core.text.voice import OPENINGS, StyleJudge, judge_accuracy, ngram_buckets, passages, train_judge, voice_share

TERSE = "The sun was hot. We drank the wine. It was good. He said nothing. We went down to the river.\n\n"
ORNATE = ("Everything was in confusion in the household, for the princess, who had always been so attentive to "
          "the feelings of others, had suddenly announced that she could no longer endure it.\n\n")


def test_ngrams_ignore_the_typography_of_quotes():
    assert np.array_equal(ngram_buckets("“Yes,” he said. It’s late."), ngram_buckets('"Yes," he said. It\'s late.'))
    assert len(ngram_buckets("abcdef")) == 6 + 5 + 4 + 3 + 2 and len(ngram_buckets("")) == 0


def test_the_judge_tells_voices_apart_and_is_deterministic():
    judge = StyleJudge.fit({"terse": TERSE * 20, "ornate": ORNATE * 20})
    assert judge.judge("We drank. It was hot. He went to the river.") == "terse"
    assert judge.judge("the princess, who had always been so attentive, announced that") == "ornate"
    again = StyleJudge.fit({"terse": TERSE * 20, "ornate": ORNATE * 20})
    assert np.array_equal(judge.log_probs, again.log_probs)
    assert passages(TERSE * 10, chars=200)[0].count("\n\n") == 2  # whole paragraphs of at least 200 characters


@pytest.fixture(scope="module")
def judge():
    return train_judge()


def test_the_shipped_judge_is_right_on_held_out_passages(judge):
    assert judge.labels == ["hemingway", "anna", "tatoeba"]
    assert all(share >= 0.98 for share in judge_accuracy(judge).values())


def test_voice_share_draws_from_every_opening_with_the_default_sampler(checkpoint_dir, judge):
    from core.text.lm import load_language_model

    lm = load_language_model("hemingway", "cpu")
    result = voice_share(lm, "hemingway", judge, samples=len(OPENINGS))
    assert result["voice_samples"] == len(OPENINGS) and sum(result["voice_verdicts"].values()) == len(OPENINGS)
    assert result["voice_share"] == result["voice_verdicts"].get("hemingway", 0) / len(OPENINGS)
    assert set(result["judge_valid_accuracy"]) == {"hemingway", "anna", "tatoeba"}
